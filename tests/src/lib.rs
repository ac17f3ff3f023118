//! What the end-to-end and conformance tests share: a moto server on loopback standing in
//! for S3 and DynamoDB, AWS clients pointed at it, the ports' conformance test bodies, the
//! pipeline driven end to end, a loopback server of hostile sources, and a fleet of fixture
//! hosts for the scrape benchmark.

pub mod conformance;
pub mod fault_proxy;
pub mod fleet;
pub mod hostile;
pub mod moto;
pub mod pipeline;
pub mod reliability;
pub mod scale;
