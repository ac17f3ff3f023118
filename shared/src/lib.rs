//! Pantau's domain: everything but the Lambda entry points.
//!
//! The modules follow the flow of a publication through the system:
//! `registry` (what to watch) → `fetch` + `scrape` (get it, store it raw) → `parse` +
//! `normalize` (turn raw bytes into items) → `reconcile` (identity, versions, the table) →
//! `api` (answer headquarters). `store` holds the two ports and their adapters, `schema` the
//! table's access patterns, `keys` the bucket's layout, `events` the event shapes between
//! stages, and `offline` the recorded sources `pantau run --offline` serves.

pub mod alerts;
pub mod api;
pub mod config;
pub mod crash;
pub mod crises;
pub mod dashboard;
pub mod enrich;
pub mod events;
pub mod fetch;
pub mod geo;
pub mod hq;
pub mod keys;
pub mod lexicon;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod offline;
pub mod parse;
pub mod places;
pub mod reconcile;
pub mod registry;
pub mod schema;
pub mod scrape;
pub mod search;
pub mod store;
pub mod stories;
pub mod topics;
