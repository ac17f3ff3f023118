//! What the end-to-end and conformance tests share: a moto server on loopback standing in
//! for S3 and DynamoDB, and AWS clients pointed at it.

pub mod conformance;
pub mod moto;
