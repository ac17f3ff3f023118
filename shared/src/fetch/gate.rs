//! Per-host politeness: at most N requests in flight to one host, and a minimum gap between
//! the starts of two requests to it. ~132 mission portals sit behind one API host, so the gate
//! is keyed by host and shared by every clone of the `Fetcher`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub(crate) struct HostGates {
    min_interval: Duration,
    /// Hosts with their own minimum interval.
    host_min_intervals: BTreeMap<String, Duration>,
    max_in_flight: usize,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
}

struct HostGate {
    in_flight: Arc<Semaphore>,
    min_interval: Duration,
    /// The earliest time the next request to this host may start.
    next_start: Mutex<Instant>,
}

/// Held for the duration of one request (headers and body); dropping it frees the slot.
pub(crate) struct HostPass {
    _permit: Option<OwnedSemaphorePermit>,
}

impl HostGates {
    pub(crate) fn new(
        min_interval: Duration,
        max_in_flight: usize,
        host_min_intervals: BTreeMap<String, Duration>,
    ) -> HostGates {
        HostGates {
            min_interval,
            host_min_intervals,
            max_in_flight: max_in_flight.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start, and returns the pass to hold while it runs.
    pub(crate) async fn enter(&self, host: &str) -> HostPass {
        let gate = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(host.to_owned())
                .or_insert_with(|| {
                    Arc::new(HostGate {
                        in_flight: Arc::new(Semaphore::new(self.max_in_flight)),
                        min_interval: self
                            .host_min_intervals
                            .get(host)
                            .copied()
                            .unwrap_or(self.min_interval),
                        next_start: Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        // The semaphore is never closed, so acquiring only fails in theory; then go ungated
        // rather than never.
        let permit = gate.in_flight.clone().acquire_owned().await.ok();
        // Reserve a start slot only once in flight is allowed, so waiting on the semaphore does
        // not burn slots; reservations are handed out in order under the lock.
        let start = {
            let mut next = gate.next_start.lock().unwrap_or_else(|p| p.into_inner());
            let start = (*next).max(Instant::now());
            *next = start + gate.min_interval;
            start
        };
        tokio::time::sleep_until(start).await;
        HostPass { _permit: permit }
    }
}
