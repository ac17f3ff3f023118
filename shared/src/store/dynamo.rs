//! The table port on DynamoDB (aws-sdk-dynamodb): the cloud twin of `SqliteTable`.
//!
//! Every request passes the shared `rules` before it is sent, so this adapter refuses exactly
//! what the SQLite one refuses, without a round trip. DynamoDB deletes expired items lazily
//! (moto never does), so reads drop items whose `expires_at` has passed, and conditions treat
//! them as absent: each condition expression carries a clause on `expires_at`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, DeleteRequest,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType,
    Put, PutRequest, ReturnValue, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus, TransactWriteItem, WriteRequest,
};
use serde_json::{Number, Value};

use super::table::{
    Condition, Cursor, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, Key, MAX_BATCH_GET_KEYS,
    PK, Page, Query, SK, SortKeyRange, TTL, Table, TableError, TransactOp, Update, WriteOp, rules,
};

/// DynamoDB's cap on one BatchWriteItem request.
const BATCH_CHUNK: usize = 25;
/// Attempts at a batch chunk's unprocessed items before giving up (retryable error).
const BATCH_ATTEMPTS: u32 = 8;
/// How long `create_table_if_missing` waits for the table to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

type AttrMap = HashMap<String, AttributeValue>;

/// The table port on one DynamoDB table. Cheap to clone.
#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(client: Client, table_name: impl Into<String>) -> DynamoTable {
        DynamoTable {
            client,
            table: table_name.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the table with its two GSIs and TTL when it does not exist, and waits until it
    /// is ACTIVE. Safe to call on every start.
    pub async fn create_table_if_missing(&self) -> Result<(), TableError> {
        const OP: &str = "create_table";
        let exists = match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some("ResourceNotFoundException") => false,
            Err(e) => return Err(sdk_error(OP, &self.table, e)),
        };
        if !exists {
            let string_attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_error(OP))
            };
            let key_schema =
                |hash: &str, range: &str| -> Result<Vec<KeySchemaElement>, TableError> {
                    Ok(vec![
                        KeySchemaElement::builder()
                            .attribute_name(hash)
                            .key_type(KeyType::Hash)
                            .build()
                            .map_err(build_error(OP))?,
                        KeySchemaElement::builder()
                            .attribute_name(range)
                            .key_type(KeyType::Range)
                            .build()
                            .map_err(build_error(OP))?,
                    ])
                };
            let gsi = |index: Index| -> Result<GlobalSecondaryIndex, TableError> {
                let (hash, range) = index.key_names();
                GlobalSecondaryIndex::builder()
                    .index_name(index.name().unwrap_or_default())
                    .set_key_schema(Some(key_schema(hash, range)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_error(OP))
            };
            let created = self
                .client
                .create_table()
                .table_name(&self.table)
                .billing_mode(BillingMode::PayPerRequest)
                .set_attribute_definitions(Some(
                    [PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK]
                        .into_iter()
                        .map(string_attr)
                        .collect::<Result<_, _>>()?,
                ))
                .set_key_schema(Some(key_schema(PK, SK)?))
                .global_secondary_indexes(gsi(Index::Gsi1)?)
                .global_secondary_indexes(gsi(Index::Gsi2)?)
                .send()
                .await;
            match created {
                Ok(_) => {}
                // Someone else created it between our describe and create.
                Err(e) if e.code() == Some("ResourceInUseException") => {}
                Err(e) => return Err(sdk_error(OP, &self.table, e)),
            }
        }
        self.wait_active().await?;
        self.enable_ttl().await
    }

    async fn wait_active(&self) -> Result<(), TableError> {
        let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| sdk_error("create_table", &self.table, e))?;
            let status = described.table().and_then(|t| t.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(TableError::Backend {
                    op: "create_table",
                    message: format!("table {} not ACTIVE after {ACTIVE_TIMEOUT:?}", self.table),
                    retryable: true,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Turns TTL on for `expires_at`, unless it already is (DynamoDB refuses to enable it twice).
    async fn enable_ttl(&self) -> Result<(), TableError> {
        const OP: &str = "enable_ttl";
        let described = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk_error(OP, &self.table, e))?;
        if let Some(ttl) = described.time_to_live_description() {
            let on = matches!(
                ttl.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            );
            if on && ttl.attribute_name() == Some(TTL) {
                return Ok(());
            }
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL)
            .enabled(true)
            .build()
            .map_err(build_error(OP))?;
        match self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(spec)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_ttl_already_enabled(&e) => Ok(()),
            Err(e) => Err(sdk_error(OP, &self.table, e)),
        }
    }

    fn key_attrs(&self, key: &Key) -> AttrMap {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(key.pk.clone())),
            (SK.to_owned(), AttributeValue::S(key.sk.clone())),
        ])
    }

    /// Sends one chunk of at most 25 writes, retrying what DynamoDB leaves unprocessed.
    async fn batch_chunk(&self, mut requests: Vec<WriteRequest>) -> Result<(), TableError> {
        const OP: &str = "batch_write";
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                // Unprocessed items mean throttling: back off, 50 ms doubling, jittered.
                let base = 50u64 << attempt.min(6);
                tokio::time::sleep(Duration::from_millis(base + fastrand::u64(0..base))).await;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| sdk_error(OP, &self.table, e))?;
            requests = out
                .unprocessed_items
                .and_then(|mut m| m.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
        }
        Err(TableError::Backend {
            op: OP,
            message: format!(
                "{} writes still unprocessed after {BATCH_ATTEMPTS} attempts on table {}",
                requests.len(),
                self.table
            ),
            retryable: true,
        })
    }
}

impl DynamoTable {
    /// One `BatchGetItem` of at most [`MAX_BATCH_GET_KEYS`] keys (strongly consistent),
    /// retrying what DynamoDB leaves unprocessed; the items found, by key.
    async fn batch_get_chunk(&self, keys: &[Key]) -> Result<HashMap<Key, Item>, TableError> {
        const OP: &str = "batch_get";
        let mut found = HashMap::with_capacity(keys.len());
        let mut pending: Vec<AttrMap> = keys.iter().map(|k| self.key_attrs(k)).collect();
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                let base = 50u64 << attempt.min(6);
                tokio::time::sleep(Duration::from_millis(base + fastrand::u64(0..base))).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| TableError::Validation(format!("batch_get request: {e}")))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_error(OP, &self.table, e))?;
            for attrs in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let item = from_attrs(&attrs)?;
                let key = Key::of(&item)?;
                if let Some(item) = live(item) {
                    found.insert(key, item);
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut m| m.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
        }
        Err(TableError::Backend {
            op: OP,
            message: format!(
                "{} keys still unprocessed after {BATCH_ATTEMPTS} attempts on table {}",
                pending.len(),
                self.table
            ),
            retryable: true,
        })
    }
}

/// Placeholders for one request's expression names (`#n0`) and values (`:v0`).
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| *n == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The maps to send; None when empty, since DynamoDB refuses empty maps.
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// The expression for a condition, or None for `Condition::None`.
    ///
    /// An expired item counts as absent (see the module doc): it is expired when
    /// `expires_at < now + 1`, which is `rules::expired` (`expires_at as i64 <= now`)
    /// for the non-negative times TTL uses.
    fn condition(&mut self, condition: &Condition) -> Option<String> {
        let expired = |e: &mut Expr| {
            let ttl = e.name(TTL);
            let next_second = e.value(AttributeValue::N((rules::now() + 1).to_string()));
            format!("{ttl} < {next_second}")
        };
        Some(match condition {
            Condition::None => return None,
            Condition::Absent => {
                let pk = self.name(PK);
                format!("(attribute_not_exists({pk}) OR {})", expired(self))
            }
            Condition::Present => {
                let pk = self.name(PK);
                format!("(attribute_exists({pk}) AND NOT ({}))", expired(self))
            }
            Condition::Equals { attr, value } => {
                let a = self.name(attr);
                let v = self.value(to_attr(value));
                format!("({a} = {v} AND NOT ({}))", expired(self))
            }
            Condition::AbsentOrBelow { attr, value } => {
                let pk = self.name(PK);
                let a = self.name(attr);
                let v = self.value(AttributeValue::S(value.clone()));
                format!(
                    "(attribute_not_exists({pk}) OR {} OR {a} < {v})",
                    expired(self)
                )
            }
        })
    }

    /// `SET #a = :v, ... REMOVE #b, ... ADD #c :n, ...`, or None for an empty update.
    fn update(&mut self, update: &Update) -> Option<String> {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let sets: Vec<String> = update
                .set
                .iter()
                .map(|(k, v)| format!("{} = {}", self.name(k), self.value(to_attr(v))))
                .collect();
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|k| self.name(k)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        if !update.add.is_empty() {
            let adds: Vec<String> = update
                .add
                .iter()
                .map(|(k, n)| {
                    format!(
                        "{} {}",
                        self.name(k),
                        self.value(AttributeValue::N(n.to_string()))
                    )
                })
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        (!clauses.is_empty()).then(|| clauses.join(" "))
    }

    /// A key condition: the index partition, and the sort-key range.
    fn key_condition(&mut self, query: &Query) -> String {
        let (ipk, isk) = query.index.key_names();
        let s = |v: &String| AttributeValue::S(v.clone());
        let pk = self.name(ipk);
        let partition = self.value(AttributeValue::S(query.partition.clone()));
        let mut expr = format!("{pk} = {partition}");
        let sk = self.name(isk);
        let range = match &query.range {
            SortKeyRange::All => None,
            SortKeyRange::Eq(v) => Some(format!("{sk} = {}", self.value(s(v)))),
            SortKeyRange::BeginsWith(p) => Some(format!("begins_with({sk}, {})", self.value(s(p)))),
            SortKeyRange::Between(lo, hi) => Some(format!(
                "{sk} BETWEEN {} AND {}",
                self.value(s(lo)),
                self.value(s(hi))
            )),
            SortKeyRange::Lt(v) => Some(format!("{sk} < {}", self.value(s(v)))),
            SortKeyRange::Le(v) => Some(format!("{sk} <= {}", self.value(s(v)))),
            SortKeyRange::Gt(v) => Some(format!("{sk} > {}", self.value(s(v)))),
            SortKeyRange::Ge(v) => Some(format!("{sk} >= {}", self.value(s(v)))),
        };
        if let Some(range) = range {
            expr.push_str(" AND ");
            expr.push_str(&range);
        } else {
            // An unused name placeholder is an error to DynamoDB.
            self.names.remove(&sk);
        }
        expr
    }
}

/// JSON to DynamoDB: numbers travel as their decimal text.
pub fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(m) => AttributeValue::M(to_attrs(m)),
    }
}

pub fn to_attrs(item: &Item) -> AttrMap {
    item.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()
}

/// DynamoDB to JSON. Numbers that are integers come back as JSON integers (`"1.0"` → 1);
/// string and number sets, which this port never writes, come back as arrays.
pub fn from_attr(attr: &AttributeValue) -> Result<Value, TableError> {
    Ok(match attr {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => Value::Number(number(n)?),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect::<Result<_, _>>()?),
        AttributeValue::M(m) => Value::Object(from_attrs(m)?),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(
            ns.iter()
                .map(|n| number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(TableError::Backend {
                op: "decode",
                message: format!("unsupported attribute type: {other:?}"),
                retryable: false,
            });
        }
    })
}

pub fn from_attrs(attrs: &AttrMap) -> Result<Item, TableError> {
    attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), from_attr(v)?)))
        .collect()
}

fn number(text: &str) -> Result<Number, TableError> {
    /// Integers beyond this lose precision as f64, so they stay floats.
    const EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Number::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(Number::from(u));
    }
    let bad = || TableError::Backend {
        op: "decode",
        message: format!("number {text:?} does not fit a JSON number"),
        retryable: false,
    };
    let f: f64 = text.parse().map_err(|_| bad())?;
    if f.fract() == 0.0 && f.abs() <= EXACT_F64_INT {
        return Ok(Number::from(f as i64));
    }
    Number::from_f64(f).ok_or_else(bad)
}

fn build_error(op: &'static str) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> TableError {
    move |e| TableError::Backend {
        op,
        message: format!("building the request: {e}"),
        retryable: false,
    }
}

fn is_ttl_already_enabled<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.code() == Some("ValidationException")
        && e.message()
            .is_some_and(|m| m.contains("already enabled") || m.contains("already been enabled"))
}

/// An SDK failure as a `TableError`: throttling, 5xx, timeouts and network failures are
/// retryable; DynamoDB's validation refusals are `Validation`.
fn sdk_error<E>(op: &'static str, table: &str, err: SdkError<E, HttpResponse>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    const RETRYABLE_CODES: [&str; 6] = [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    ];
    let message = format!("table {table}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            TableError::Backend {
                op,
                message,
                retryable: true,
            }
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if code == "ValidationException" {
                let detail = service.err().message().unwrap_or_default();
                return TableError::Validation(format!("table {table}: {detail}"));
            }
            let retryable =
                RETRYABLE_CODES.contains(&code) || service.raw().status().is_server_error();
            TableError::Backend {
                op,
                message,
                retryable,
            }
        }
        _ => TableError::Backend {
            op,
            message,
            retryable: false,
        },
    }
}

fn is_condition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// One reason code per operation from a cancelled transaction. moto and DynamoDB both send
/// `CancellationReasons`; the message's `[None, ConditionalCheckFailed]` list is the fallback.
fn cancellation_reasons(err: &TransactWriteItemsError) -> Option<Vec<String>> {
    let TransactWriteItemsError::TransactionCanceledException(e) = err else {
        return None;
    };
    let reasons: Vec<String> = e
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("None").to_owned())
        .collect();
    if !reasons.is_empty() {
        return Some(reasons);
    }
    let message = e.message().unwrap_or_default();
    let list = message.rsplit_once('[')?.1.split_once(']')?.0;
    Some(list.split(',').map(|s| s.trim().to_owned()).collect())
}

fn live(item: Item) -> Option<Item> {
    (!rules::expired(&item, rules::now())).then_some(item)
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        rules::key(key)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get", &self.table, e))?;
        match out.item {
            None => Ok(None),
            Some(attrs) => Ok(live(from_attrs(&attrs)?)),
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        for key in keys {
            rules::key(key)?;
        }
        let mut found = HashMap::with_capacity(keys.len());
        // DynamoDB refuses a request naming one key twice.
        let mut distinct: Vec<Key> = keys.to_vec();
        distinct.sort();
        distinct.dedup();
        for chunk in distinct.chunks(MAX_BATCH_GET_KEYS) {
            found.extend(self.batch_get_chunk(chunk).await?);
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        let key = rules::item(&item)?;
        let mut expr = Expr::default();
        let condition = expr.condition(&condition);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(|e| match is_condition_failed(&e) {
                true => TableError::ConditionFailed { key },
                false => sdk_error("put", &self.table, e),
            })?;
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, TableError> {
        rules::key(key)?;
        rules::update(&update)?;
        let mut expr = Expr::default();
        let update_expr = expr.update(&update);
        let condition = expr.condition(&condition);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key_attrs(key)))
            .set_update_expression(update_expr)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| match is_condition_failed(&e) {
                true => TableError::ConditionFailed { key: key.clone() },
                false => sdk_error("update", &self.table, e),
            })?;
        match out.attributes {
            Some(attrs) => from_attrs(&attrs),
            // An empty update of an absent item: DynamoDB creates the bare key.
            None => rules::apply(key, None, &Update::default()),
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        rules::key(key)?;
        let mut expr = Expr::default();
        let condition = expr.condition(&condition);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_attrs(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(|e| match is_condition_failed(&e) {
                true => TableError::ConditionFailed { key: key.clone() },
                false => sdk_error("delete", &self.table, e),
            })?;
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, TableError> {
        let (limit, cursor) = rules::query(&query)?;
        let mut expr = Expr::default();
        let key_condition = expr.key_condition(&query);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.name().map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(query.forward)
            // GSIs cannot be read consistently; the table can, so reads follow writes.
            .consistent_read(query.index == Index::Primary)
            .set_limit(limit.map(|n| n as i32))
            .set_exclusive_start_key(cursor.as_ref().map(to_attrs))
            .send()
            .await
            .map_err(|e| sdk_error("query", &self.table, e))?;
        let mut items = Vec::new();
        for attrs in out.items() {
            // Filtering after the read, as DynamoDB's own filters do: a page may come back
            // shorter than the limit, with a cursor, when it held expired items.
            items.extend(live(from_attrs(attrs)?));
        }
        let cursor = match out.last_evaluated_key() {
            Some(k) if !k.is_empty() => Some(Cursor::for_item(query.index, &from_attrs(k)?)),
            _ => None,
        };
        Ok(Page { items, cursor })
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        rules::batch(&ops)?;
        let requests = ops.iter().map(|op| -> Result<WriteRequest, TableError> {
            Ok(match op {
                WriteOp::Put(item) => WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(to_attrs(item)))
                            .build()
                            .map_err(build_error("batch_write"))?,
                    )
                    .build(),
                WriteOp::Delete(key) => WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(self.key_attrs(key)))
                            .build()
                            .map_err(build_error("batch_write"))?,
                    )
                    .build(),
            })
        });
        let requests = requests.collect::<Result<Vec<_>, _>>()?;
        for chunk in requests.chunks(BATCH_CHUNK) {
            self.batch_chunk(chunk.to_vec()).await?;
        }
        Ok(())
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), TableError> {
        const OP: &str = "transact_write";
        rules::transaction(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let mut expr = Expr::default();
            let item = match op {
                TransactOp::Put { item, condition } => {
                    let condition = expr.condition(condition);
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_attrs(item)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error(OP))?;
                    TransactWriteItem::builder().put(put).build()
                }
                TransactOp::Update {
                    key,
                    update,
                    condition,
                } => {
                    // `rules::transaction` refuses empty updates, so there is an expression.
                    let update_expr = expr.update(update).unwrap_or_default();
                    let condition = expr.condition(condition);
                    let update = aws_sdk_dynamodb::types::Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_attrs(key)))
                        .update_expression(update_expr)
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error(OP))?;
                    TransactWriteItem::builder().update(update).build()
                }
                TransactOp::Delete { key, condition } => {
                    let condition = expr.condition(condition);
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_attrs(key)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error(OP))?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                TransactOp::Check { key, condition } => {
                    // A ConditionCheck must carry an expression; `None` always holds.
                    let condition = expr.condition(condition).unwrap_or_else(|| {
                        let pk = expr.name(PK);
                        format!("attribute_exists({pk}) OR attribute_not_exists({pk})")
                    });
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(self.key_attrs(key)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(build_error(OP))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            items.push(item);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error().and_then(cancellation_reasons) {
                Some(reasons) => Err(TableError::TransactionCanceled { reasons }),
                None => Err(sdk_error(OP, &self.table, e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn unreachable_endpoint_is_a_retryable_error() {
        // A loopback port nobody listens on: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let t = DynamoTable::new(Client::from_conf(conf), "nowhere");
        let err = t.get(&Key::new("a", "b")).await.unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert!(err.to_string().contains("nowhere"), "{err}");
        // Refused by the shared rules before any request is made.
        let err = t.get(&Key::new("", "b")).await.unwrap_err();
        assert!(matches!(err, TableError::Validation(_)), "{err:?}");
    }

    #[test]
    fn json_survives_attribute_values() {
        let v = json!({"s": "é", "i": -3, "big": 18446744073709551615u64, "f": 1.5,
                       "b": true, "n": null, "l": [1, "x", [], {}], "m": {"k": {"k": 2}}});
        assert_eq!(from_attr(&to_attr(&v)).unwrap(), v);
    }

    #[test]
    fn integral_numbers_come_back_as_integers() {
        assert_eq!(number("1.0").unwrap(), Number::from(1));
        assert_eq!(number("-0.25").unwrap().as_f64(), Some(-0.25));
        assert!(number("1e400").is_err());
        assert!(number("abc").is_err());
    }

    #[test]
    fn key_condition_names_only_what_it_uses() {
        let mut e = Expr::default();
        let q = Query::partition(Index::Gsi1, "p");
        assert_eq!(e.key_condition(&q), "#n0 = :v0");
        assert_eq!(e.names().unwrap().len(), 1);
        let mut e = Expr::default();
        let q = q.range(SortKeyRange::Between("a".into(), "b".into()));
        assert_eq!(e.key_condition(&q), "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2");
    }
}
