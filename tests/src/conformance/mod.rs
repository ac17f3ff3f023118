//! Test bodies every adapter of a port must pass, one module per port.
pub mod blob;
