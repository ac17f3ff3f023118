//! Conformance suites: one set of test bodies per port, run on every adapter of that port.

pub mod blob;
pub mod table;
