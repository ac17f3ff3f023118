//! The event shapes between stages: S3 notifications carried in SQS messages, exactly as AWS
//! delivers them, and the partial-batch loop every SQS handler shares.
//!
//! Locally, `pantau run` builds the same JSON with [`s3_put_notification`] and
//! [`sqs_event`], so the handlers cannot tell the two worlds apart.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One object named by an S3 notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// Already URL-decoded.
    pub key: String,
}

/// Why a message could not be read or processed, and whether it should come back.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("message {message_id}: body is not an S3 notification: {reason}")]
    Malformed { message_id: String, reason: String },
}

/// The objects an SQS message's S3 notification names. S3's own `s3:TestEvent` (sent when a
/// notification is configured) names none.
pub fn objects_in(message: &SqsMessage) -> Result<Vec<ObjectRef>, EventError> {
    let message_id = message.message_id.clone().unwrap_or_default();
    let malformed = |reason: String| EventError::Malformed {
        message_id: message_id.clone(),
        reason,
    };
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| malformed("no body".into()))?;
    let value: Value = serde_json::from_str(body).map_err(|e| malformed(e.to_string()))?;
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    // Only the bucket and key matter here. Reading just those (rather than the whole
    // `S3EventRecord`, whose other fields are mandatory in aws_lambda_events) keeps S3-compatible
    // senders that leave some out, such as moto, from being dropped as unreadable.
    let records = value
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no `Records` array".into()))?;
    let mut out = Vec::new();
    for record in records {
        let s3 = &record["s3"];
        let key = s3["object"]["key"]
            .as_str()
            .ok_or_else(|| malformed("record without `s3.object.key`".into()))?;
        out.push(ObjectRef {
            bucket: s3["bucket"]["name"].as_str().unwrap_or_default().to_owned(),
            key: decode_s3_key(key),
        });
    }
    Ok(out)
}

/// S3 notifications URL-encode keys with `+` for spaces.
pub fn decode_s3_key(key: &str) -> String {
    let plus_decoded = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8_lossy()
        .into_owned()
}

fn encode_s3_key(key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(key, SET)
        .to_string()
        .replace(' ', "+")
}

/// The JSON S3 sends for an `ObjectCreated:Put`, as documented in the S3 user guide.
pub fn s3_put_notification(bucket: &str, key: &str, size: u64, at: DateTime<Utc>) -> Value {
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "pantau-local"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "pantau-local",
                "bucket": {
                    "name": bucket,
                    "ownerIdentity": {"principalId": "pantau-local"},
                    "arn": format!("arn:aws:s3:::{bucket}")
                },
                "object": {
                    "key": encode_s3_key(key),
                    "size": size,
                    "sequencer": format!("{:016X}", at.timestamp_micros())
                }
            }
        }]
    })
}

/// An SQS event as Lambda delivers it, one message per body.
pub fn sqs_event(bodies: impl IntoIterator<Item = (String, Value)>) -> SqsEvent {
    let records: Vec<Value> = bodies
        .into_iter()
        .map(|(message_id, body)| {
            json!({
                "messageId": message_id,
                "receiptHandle": format!("local-{message_id}"),
                "body": body.to_string(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:pantau-local",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    // The shape above is the documented one; failing to read it back is a bug here.
    serde_json::from_value(json!({ "Records": records })).unwrap_or_default()
}

/// Whether a stage's failure is worth another delivery.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

/// Runs `handle` on every object of every message, and reports the messages to redeliver.
///
/// A retryable failure puts the message in `batchItemFailures`, so SQS delivers it again
/// (and after enough tries, to the dead-letter queue). A permanent failure (a malformed raw
/// object, say) is logged and acknowledged: retrying cannot help, and the raw object stays in
/// the bucket to be replayed once the code is fixed.
pub async fn for_each_object<F, Fut, E>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    F: FnMut(ObjectRef) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display + Retryable,
{
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let objects = match objects_in(&message) {
            Ok(objects) => objects,
            Err(e) => {
                tracing::error!(error = %e, "dropping unreadable message");
                continue;
            }
        };
        let mut retry = false;
        for object in objects {
            let key = object.key.clone();
            match handle(object).await {
                Ok(()) => {}
                Err(e) if e.is_retryable() => {
                    tracing::warn!(%message_id, %key, error = %e, "will retry");
                    retry = true;
                }
                Err(e) => {
                    tracing::error!(%message_id, %key, error = %e, "permanent failure; not retried");
                }
            }
        }
        if retry {
            response.add_failure(message_id);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(bool);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "e{}", self.0)
        }
    }
    impl Retryable for E {
        fn is_retryable(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn notification_round_trips_odd_keys() {
        let key = "raw/2025/01/01/tokyo/feed/a b+c=ü.xml";
        let event = sqs_event([(
            "m1".to_string(),
            s3_put_notification("bucket", key, 10, Utc::now()),
        )]);
        let objects = objects_in(&event.records[0]).unwrap();
        assert_eq!(
            objects,
            vec![ObjectRef {
                bucket: "bucket".into(),
                key: key.into()
            }]
        );
    }

    #[test]
    fn a_notification_with_only_bucket_and_key_is_read() {
        // moto's notifications leave out userIdentity, requestParameters, responseElements.
        let body = json!({"Records": [{"eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "raw/a+b.json", "size": 3}}}]});
        let event = sqs_event([("m".to_string(), body)]);
        assert_eq!(
            objects_in(&event.records[0]).unwrap(),
            vec![ObjectRef {
                bucket: "b".into(),
                key: "raw/a b.json".into()
            }]
        );
        let no_key = sqs_event([("m".to_string(), json!({"Records": [{"s3": {}}]}))]);
        assert!(objects_in(&no_key.records[0]).is_err());
    }

    #[test]
    fn s3_test_event_names_nothing() {
        let event = sqs_event([(
            "m".to_string(),
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}),
        )]);
        assert!(objects_in(&event.records[0]).unwrap().is_empty());
    }

    #[tokio::test]
    async fn only_retryable_failures_are_reported() {
        let now = Utc::now();
        let event = sqs_event([
            ("ok".to_string(), s3_put_notification("b", "raw/ok", 1, now)),
            (
                "retry".to_string(),
                s3_put_notification("b", "raw/retry", 1, now),
            ),
            (
                "perm".to_string(),
                s3_put_notification("b", "raw/perm", 1, now),
            ),
            ("junk".to_string(), json!("not an event")),
        ]);
        let response = for_each_object(event, |o| async move {
            match o.key.as_str() {
                "raw/retry" => Err(E(true)),
                "raw/perm" => Err(E(false)),
                _ => Ok(()),
            }
        })
        .await;
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["retry"]);
    }
}
