//! Alert delivery over real transports: a signed-webhook receiver on loopback that checks
//! every HMAC signature and counts deliveries (down for an hour of simulated time, then
//! back), the Telegram and Slack body shapes, and SNS on moto read back through an SQS
//! subscription.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};
use pantau::alerts::channels::slack::SlackChannel;
use pantau::alerts::channels::sns::SnsChannel;
use pantau::alerts::channels::telegram::TelegramChannel;
use pantau::alerts::channels::webhook::{
    self, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel,
};
use pantau::alerts::{
    AlertMessage, AlertSettings, Channel, Channels, Deliverer, Evaluator, NewRule, Scope, outbox,
    rules,
};
use pantau::registry::Registry;
use pantau::schema;
use pantau::store::dynamo::DynamoTable;
use pantau::store::sqlite::SqliteTable;
use pantau::store::{Condition, Item, Table};
use pantau_tests::moto::MotoServer;
use serde_json::{Value, json};

const SECRET: &[u8] = b"rahasia-webhook-untuk-tes";

/// What the receiver saw.
#[derive(Default)]
struct Receiver {
    down: AtomicBool,
    requests: AtomicUsize,
    refused: AtomicUsize,
    /// Accepted deliveries per `x-pantau-delivery`.
    accepted: Mutex<BTreeMap<String, usize>>,
    /// Bodies posted to the Telegram and Slack paths.
    bodies: Mutex<Vec<(String, Value)>>,
}

async fn hook(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.requests.fetch_add(1, Ordering::SeqCst);
    if r.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let checked = webhook::verify(
        SECRET,
        &header(TIMESTAMP_HEADER),
        &header(SIGNATURE_HEADER),
        &body,
        Utc::now().timestamp(),
    );
    if checked.is_err() {
        r.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    // The body is the message; its id is the delivery header.
    let message: AlertMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(_) => return StatusCode::BAD_REQUEST,
    };
    assert_eq!(message.id, header(DELIVERY_HEADER));
    *r.accepted.lock().unwrap().entry(message.id).or_default() += 1;
    StatusCode::NO_CONTENT
}

async fn shape(
    State(r): State<Arc<Receiver>>,
    Path(path): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.bodies.lock().unwrap().push((path, value));
    StatusCode::OK
}

async fn start_receiver() -> (Arc<Receiver>, SocketAddr) {
    let receiver = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/hook", post(hook))
        .route("/{*path}", post(shape))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, addr)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Three failing sources in three regions and a rule about them: three messages, each with
/// one delivery per channel in `channels`.
async fn three_messages(table: Arc<dyn Table>, channels: &[&str], now: DateTime<Utc>) {
    for owner in ["tokyo", "berlin", "riyadh"] {
        let mut record = Item::new();
        let mut set = |k: &str, v: Value| {
            record.insert(k.into(), v);
        };
        set("pk", schema::mission_pk(owner).into());
        set("sk", schema::source_sk("portal-berita").into());
        set("gsi1pk", schema::ALL_SOURCES.into());
        set("gsi1sk", format!("{owner}/portal-berita").into());
        set("owner", owner.into());
        set("source", "portal-berita".into());
        set("consecutive_failures", 4.into());
        set("last_error", "HTTP 503".into());
        table.put(record, Condition::None).await.unwrap();
    }
    let rule =
        NewRule::from_json(br#"{"name":"Sumber gagal","kind":"source_unhealthy","cycles":3}"#)
            .unwrap()
            .into_rule(now);
    rules::add_rule(table.as_ref(), &rule).await.unwrap();
    let report = evaluator(table, channels)
        .evaluate(Scope::All, now)
        .await
        .unwrap();
    assert_eq!(report.messages, 3);
}

fn evaluator(table: Arc<dyn Table>, channels: &[&str]) -> Evaluator {
    Evaluator {
        table,
        registry: Arc::new(Registry::load_default().unwrap()),
        crisis_config: Default::default(),
        settings: AlertSettings {
            dashboard_url: "https://pantau.example.go.id".into(),
            channels: channels.iter().map(|c| c.to_string()).collect(),
        },
        hq: None,
    }
}

#[tokio::test]
async fn a_webhook_down_for_an_hour_receives_every_signed_alert_exactly_once() {
    let (receiver, addr) = start_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let table: Arc<dyn Table> = Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
    let t0 = at("2025-06-01T00:00:00Z");
    three_messages(table.clone(), &["webhook"], t0).await;
    let channel = WebhookChannel::new(format!("http://{addr}/hook"), SECRET.to_vec());
    let deliverer = Deliverer::new(table.clone(), Channels(vec![Arc::new(channel)]));

    // Every 5 simulated minutes for two hours; the receiver answers 503 for the first hour.
    let mut delivered = 0;
    for tick in 0..=24 {
        let now = t0 + Duration::minutes(5 * tick);
        receiver
            .down
            .store(now < t0 + Duration::hours(1), Ordering::SeqCst);
        let report = deliverer.deliver_due(now).await.unwrap();
        delivered += report.delivered;
    }
    assert_eq!(delivered, 3);
    let accepted = receiver.accepted.lock().unwrap().clone();
    let ids: Vec<String> = outbox::history(table.as_ref(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.message.id)
        .collect();
    assert_eq!(accepted.len(), 3);
    for id in &ids {
        assert_eq!(
            accepted.get(id),
            Some(&1),
            "{id} exactly once: {accepted:?}"
        );
    }
    // 7 refused attempts (0, 5, 10, 15, 20, 30, 50 min) and the one that landed, per message.
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 3 * 8);
    assert_eq!(
        receiver.refused.load(Ordering::SeqCst),
        0,
        "every signature verified"
    );

    // A forged or replayed request is refused by the receiver's checks.
    let client = reqwest::Client::new();
    let body = br#"{"id":"alr_forged"}"#.to_vec();
    let now = Utc::now().timestamp();
    for (ts, signature) in [
        (now, webhook::sign(b"wrong secret", now, &body)),
        (now - 600, webhook::sign(SECRET, now - 600, &body)),
    ] {
        let status = client
            .post(format!("http://{addr}/hook"))
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 401);
    }
    assert_eq!(receiver.refused.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn telegram_and_slack_get_their_documented_body_shapes() {
    let (receiver, addr) = start_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let table: Arc<dyn Table> = Arc::new(SqliteTable::open(&dir.path().join("t.sqlite")).unwrap());
    let t0 = at("2025-06-01T00:00:00Z");
    three_messages(table.clone(), &["telegram", "slack"], t0).await;
    let telegram = TelegramChannel::new(
        format!("http://{addr}"),
        "123456:TEST-token".into(),
        "-1001234".into(),
    );
    let slack = SlackChannel::new(format!("http://{addr}/services/T000/B000/XXXX"));
    let deliverer = Deliverer::new(
        table.clone(),
        Channels(vec![
            Arc::new(telegram) as Arc<dyn Channel>,
            Arc::new(slack) as Arc<dyn Channel>,
        ]),
    );
    let report = deliverer.deliver_due(t0).await.unwrap();
    assert_eq!(report.delivered, 6);
    let bodies = receiver.bodies.lock().unwrap().clone();
    let telegram: Vec<&Value> = bodies
        .iter()
        .filter(|(p, _)| p == "bot123456:TEST-token/sendMessage")
        .map(|(_, b)| b)
        .collect();
    let slack: Vec<&Value> = bodies
        .iter()
        .filter(|(p, _)| p == "services/T000/B000/XXXX")
        .map(|(_, b)| b)
        .collect();
    assert_eq!((telegram.len(), slack.len()), (3, 3), "{bodies:?}");
    for b in telegram {
        assert_eq!(b["chat_id"], "-1001234");
        let text = b["text"].as_str().unwrap();
        assert!(
            text.contains("[PERINGATAN] Sumber bermasalah")
                && text.contains("[ALERT] Source failing"),
            "{text}"
        );
    }
    for b in slack {
        let text = b["text"].as_str().unwrap();
        assert!(
            text.contains("gagal 4 kali berturut-turut")
                && text.contains("failed 4 cycles in a row"),
            "{text}"
        );
        assert!(
            text.contains("https://pantau.example.go.id/#mission="),
            "{text}"
        );
    }
    // Delivered is final: nothing is sent again.
    assert_eq!(
        deliverer
            .deliver_due(t0 + Duration::days(1))
            .await
            .unwrap()
            .delivered,
        0
    );
}

#[tokio::test]
async fn sns_on_moto_receives_the_alert() {
    let moto = MotoServer::start().expect("moto server (run `make test-setup`)");
    let config = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic = sns
        .create_topic()
        .name("pantau-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("alert-inbox")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .unwrap();

    // The AWS path end to end: rule, states, outbox and deliveries in DynamoDB (its
    // conditional writes and transactions), the message through SNS.
    let dynamo = DynamoTable::new(moto.dynamodb().await, "pantau-alerts");
    dynamo.create_table_if_missing().await.unwrap();
    let table: Arc<dyn Table> = Arc::new(dynamo);
    let t0 = at("2025-06-01T00:00:00Z");
    three_messages(table.clone(), &["sns"], t0).await;
    let deliverer = Deliverer::new(
        table.clone(),
        Channels(vec![Arc::new(SnsChannel::new(sns, topic.clone()))]),
    );
    assert_eq!(deliverer.deliver_due(t0).await.unwrap().delivered, 3);
    // Evaluated and delivered again (a redelivered tick): nothing new, nothing resent.
    let again = evaluator(table.clone(), &["sns"])
        .evaluate(Scope::All, t0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(again.messages, 0);
    assert_eq!(
        deliverer
            .deliver_due(t0 + Duration::days(1))
            .await
            .unwrap()
            .delivered,
        0
    );

    let mut received = Vec::new();
    for _ in 0..5 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        received.extend(out.messages.unwrap_or_default());
        if received.len() >= 3 {
            break;
        }
    }
    assert_eq!(received.len(), 3);
    let history = outbox::history(table.as_ref(), 10).await.unwrap();
    for m in received {
        let envelope: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
        assert_eq!(envelope["TopicArn"], json!(topic));
        let id = envelope["MessageAttributes"]["message_id"]["Value"]
            .as_str()
            .unwrap();
        let stored = history.iter().find(|h| h.message.id == id).unwrap();
        assert_eq!(envelope["Message"], json!(stored.message.text()));
        assert_eq!(
            envelope["Subject"].as_str().unwrap(),
            pantau::alerts::channels::sns::subject(&stored.message)
        );
        assert!(
            envelope["Subject"]
                .as_str()
                .unwrap()
                .starts_with("[ALERT] Source failing")
        );
    }
}
