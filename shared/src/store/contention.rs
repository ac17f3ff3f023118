//! What a writer does after losing an optimistic-lock race on the table (a conditional write
//! refused because another reconciler wrote first), shared by every retry loop that re-reads
//! and decides again.
//!
//! Two things keep a loser from losing forever while others keep writing the same record
//! (a crisis's head while a country's hazard feeds and media all report at once):
//! - **writers in one process take turns** ([`Turns`]): a Lambda instance or `pantau run`
//!   reconciling several objects at once never races itself, so only other processes can
//!   refuse its write;
//! - **pauses grow exponentially, with jitter** ([`pause_after_lost_race`]): a loser waits
//!   longer each time, and contenders that lost together do not come back together.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// The first pause is between half of this and this.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// No pause is longer than this.
const LONGEST_PAUSE: Duration = Duration::from_millis(1000);

/// How long to wait before attempt `attempt + 1`, after attempt `attempt` (from 1) lost: a
/// random time between half and all of `FIRST_PAUSE × 2^(attempt-1)`, at most
/// `LONGEST_PAUSE`. Ten lost attempts wait 2-4 s in all.
pub fn pause_after(attempt: u32) -> Duration {
    let doubling = 1u32 << attempt.saturating_sub(1).min(16);
    let ceiling = FIRST_PAUSE.saturating_mul(doubling).min(LONGEST_PAUSE);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(fastrand::u64(millis / 2..=millis))
}

/// Sleeps for [`pause_after`]`(attempt)`.
pub async fn pause_after_lost_race(attempt: u32) {
    tokio::time::sleep(pause_after(attempt)).await;
}

/// Turns on named records within this process: holders of the same name run one at a time,
/// in the order they asked.
pub struct Turns {
    waiting: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// One writer's turn on a name; the next one's starts when this is dropped.
pub struct Turn {
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Turns {
    pub fn new() -> Turns {
        Turns {
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this process's turn on `name`.
    pub async fn take(&self, name: &str) -> Turn {
        let lock = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            // Names nobody holds or waits for are dropped, so the map stays as small as
            // the number of names in use.
            waiting.retain(|_, lock| Arc::strong_count(lock) > 1);
            waiting.entry(name.to_owned()).or_default().clone()
        };
        Turn {
            _held: lock.lock_owned().await,
        }
    }
}

impl Default for Turns {
    fn default() -> Turns {
        Turns::new()
    }
}

/// The process's turns on crisis groups (see `crate::crises::detect`).
pub(crate) static CRISIS_GROUP_TURNS: LazyLock<Turns> = LazyLock::new(Turns::new);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn pauses_double_with_jitter_up_to_the_ceiling() {
        for _ in 0..200 {
            let first = pause_after(1);
            assert!(first >= Duration::from_millis(5) && first <= Duration::from_millis(10));
            let fourth = pause_after(4);
            assert!(fourth >= Duration::from_millis(40) && fourth <= Duration::from_millis(80));
            let late = pause_after(40);
            assert!(late >= LONGEST_PAUSE / 2 && late <= LONGEST_PAUSE);
        }
        // Jitter: not every pause of one attempt is the same.
        let pauses: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| pause_after(6)).collect();
        assert!(pauses.len() > 5, "{pauses:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn holders_of_one_name_take_turns_and_other_names_do_not_wait() {
        let turns = Arc::new(Turns::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let most_inside = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (turns, inside, most_inside) =
                    (turns.clone(), inside.clone(), most_inside.clone());
                tokio::spawn(async move {
                    let _turn = turns.take("CRISIS_HEAD#JP#quake").await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most_inside.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Another name is not held up by the queue on the first.
        let other =
            tokio::time::timeout(Duration::from_secs(5), turns.take("CRISIS_HEAD#PH#storm"))
                .await
                .expect("another name's turn comes at once");
        drop(other);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most_inside.load(Ordering::SeqCst), 1);
        // Every name released: the map forgets them at the next turn.
        drop(turns.take("x").await);
        assert_eq!(turns.waiting.lock().unwrap().len(), 1);
    }
}
