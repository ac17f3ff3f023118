//! What the end-to-end and conformance tests share: a moto server on loopback standing in
//! for S3 and DynamoDB, AWS clients pointed at it, and the ports' conformance test bodies.

pub mod conformance;
pub mod moto;
