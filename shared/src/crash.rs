//! Crash points: named places between the pipeline's steps where a test can kill the process
//! for real, to prove that a rerun loses and doubles nothing.
//!
//! Compiled into every build and inert unless `PANTAU_CRASH_AT=name:N` is set: then the Nth
//! time the process reaches crash point `name` it aborts (`std::process::abort`: no unwinding,
//! no destructors, no flushing, as a killed Lambda or a power cut). Unset, a crash point costs
//! one read of an initialized `OnceLock`.
//!
//! The points (each named where it is called):
//! - `after_raw_write`: scrape stored a raw object, the source's state is not yet updated;
//! - `after_items_write`: normalize stored an items object (its event is not acknowledged);
//! - `after_postings_write`: reconcile wrote a new item's search postings, not yet the item;
//! - `before_story_writes`: reconcile wrote an object's items, not yet their stories and crises;
//! - `before_crisis_writes`: the same, reached only by objects with crisis evidence, after
//!   their stories;
//! - `after_reconcile_object`: one object of an SQS batch is reconciled, the batch is not done.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms a crash point: `name:N` (N ≥ 1; `name` alone means 1).
pub const CRASH_AT_ENV: &str = "PANTAU_CRASH_AT";

struct Armed {
    name: String,
    /// Passes left before the abort.
    remaining: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| parse(&std::env::var(CRASH_AT_ENV).ok()?))
        .as_ref()
}

fn parse(spec: &str) -> Option<Armed> {
    let (name, count) = match spec.split_once(':') {
        Some((name, n)) => (name, n.trim().parse().ok().filter(|n| *n >= 1)?),
        None => (spec, 1),
    };
    let name = name.trim();
    (!name.is_empty()).then(|| Armed {
        name: name.to_owned(),
        remaining: AtomicU64::new(count),
    })
}

/// Aborts the process when `PANTAU_CRASH_AT` names this point and this is its Nth pass.
pub fn crashpoint(name: &str) {
    let Some(armed) = armed() else { return };
    if armed.name != name {
        return;
    }
    // Only the pass that takes the count from 1 to 0 aborts (later ones cannot happen).
    if armed.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
        eprintln!("pantau: crash point {name} reached: aborting ({CRASH_AT_ENV})");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_read_strictly() {
        let a = parse("after_raw_write:3").unwrap();
        assert_eq!(
            (a.name.as_str(), a.remaining.load(Ordering::SeqCst)),
            ("after_raw_write", 3)
        );
        assert_eq!(parse("x").unwrap().remaining.load(Ordering::SeqCst), 1);
        assert!(parse("x:0").is_none());
        assert!(parse("x:many").is_none());
        assert!(parse(":2").is_none());
    }

    #[test]
    fn an_unarmed_crash_point_does_nothing() {
        // The test process does not set PANTAU_CRASH_AT (the crash tests set it on children).
        if std::env::var_os(CRASH_AT_ENV).is_none() {
            crashpoint("after_raw_write");
        }
    }
}
