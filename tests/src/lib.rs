//! What the end-to-end and conformance tests share: a moto server on loopback standing in
//! for S3 and DynamoDB, AWS clients pointed at it, the ports' conformance test bodies, the
//! pipeline driven end to end, and a loopback server of hostile sources.

pub mod conformance;
pub mod hostile;
pub mod moto;
pub mod pipeline;
