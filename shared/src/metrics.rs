//! Metrics as CloudWatch embedded metric format (EMF): one JSON line per scrape cycle or SQS
//! batch, printed to stdout. Lambda sends stdout to the function's log group, and CloudWatch
//! Logs turns every line with an `_aws.CloudWatchMetrics` directive into metrics: no API call,
//! no IAM permission, no extra latency.
//!
//! Shape (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
//!
//! ```json
//! {"_aws":{"Timestamp":1764300000000,"CloudWatchMetrics":[{"Namespace":"Pantau",
//!   "Dimensions":[["Function"]],"Metrics":[{"Name":"fetched","Unit":"Count"}]}]},
//!  "Function":"pantau-dev-ScrapeFunction-AbC","fetched":12}
//! ```
//!
//! The `Function` dimension is the Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`), which
//! names the stage's stack too, so the alarms in `infra/template.yaml` can select it with
//! `!Ref ScrapeFunction`; outside Lambda it is the stage's short name (`scrape`, ...).
//!
//! Every declared metric is a billed CloudWatch custom metric (0.30 USD a month each, see
//! docs/cost.md), so a line declares only what the alarms watch and what issue 7 lists as
//! metrics; its other counts are plain members of the same JSON line ("fields"), searchable
//! with Logs Insights but not metrics. A line that declares nothing carries no `_aws`
//! directive at all: EMF requires 1 to 100 metrics per directive.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::normalize::NormalizeReport;
use crate::reconcile::ReconcileReport;
use crate::scrape::CycleReport;

/// The CloudWatch namespace every Pantau metric is in.
pub const NAMESPACE: &str = "Pantau";

/// The one dimension: which function emitted the line.
pub const FUNCTION_DIMENSION: &str = "Function";

/// The CloudWatch units Pantau uses (a subset of those the service accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF log line: a function's metrics and plain fields at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine {
    function: String,
    timestamp: DateTime<Utc>,
    /// Declared in the directive: CloudWatch metrics.
    metrics: Vec<(&'static str, Unit, f64)>,
    /// Only in the log line.
    fields: Vec<(&'static str, f64)>,
}

impl MetricLine {
    pub fn new(function: impl Into<String>, timestamp: DateTime<Utc>) -> MetricLine {
        MetricLine {
            function: function.into(),
            timestamp,
            metrics: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Adds a metric. Names are fixed strings of this module's callers, so they never clash
    /// with the dimension's name or `_aws` (checked in debug builds).
    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> MetricLine {
        debug_assert!(name != FUNCTION_DIMENSION && name != "_aws");
        self.metrics.push((name, unit, value));
        self
    }

    pub fn count(self, name: &'static str, value: usize) -> MetricLine {
        self.metric(name, Unit::Count, value as f64)
    }

    /// Adds a plain field: in the line, not declared, so not a (billed) metric.
    pub fn field(mut self, name: &'static str, value: f64) -> MetricLine {
        debug_assert!(name != FUNCTION_DIMENSION && name != "_aws");
        self.fields.push((name, value));
        self
    }

    pub fn field_count(self, name: &'static str, value: usize) -> MetricLine {
        self.field(name, value as f64)
    }

    /// The names this line declares as metrics, in order.
    pub fn metric_names(&self) -> Vec<&'static str> {
        self.metrics.iter().map(|(name, _, _)| *name).collect()
    }

    /// The line as a JSON value: the directive under `_aws` (only when a metric is declared;
    /// without it the log event's own time stands), the dimension's value and each metric's and field's value as members of the root.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        if !self.metrics.is_empty() {
            let definitions: Vec<Value> = self
                .metrics
                .iter()
                .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
                .collect();
            root.insert(
                "_aws".into(),
                json!({
                    "Timestamp": self.timestamp.timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [[FUNCTION_DIMENSION]],
                        "Metrics": definitions,
                    }],
                }),
            );
        }
        root.insert(FUNCTION_DIMENSION.into(), json!(self.function));
        for (name, _, value) in &self.metrics {
            root.insert((*name).into(), json!(value));
        }
        for (name, value) in &self.fields {
            root.insert((*name).into(), json!(value));
        }
        Value::Object(root)
    }

    /// Prints the line to stdout, where the Lambda runtime picks it up as one log event.
    pub fn emit(&self) {
        println!("{}", self.to_json());
    }
}

/// The `Function` dimension's value: the Lambda function's name when running in Lambda,
/// else `local_name`.
pub fn function_name(local_name: &str) -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| local_name.to_owned())
}

/// The metrics the scrape line declares. `failed / due` is the failure rate the template
/// alarms on, and `unhealthy_sources` the silent-sources alarm.
pub const SCRAPE_METRICS: &[&str] = &["due", "fetched", "changed", "failed", "unhealthy_sources"];

/// The metrics the reconcile line declares: issue 7's list, and `crisis_failures`, which the
/// template alarms on.
pub const RECONCILE_METRICS: &[&str] = &[
    "new",
    "changed",
    "crises_opened",
    "responses_linked",
    "crisis_failures",
];

/// A scrape cycle's line: [`SCRAPE_METRICS`] declared, the other counts plain fields.
pub fn scrape_cycle(function: &str, at: DateTime<Utc>, report: &CycleReport) -> MetricLine {
    MetricLine::new(function, at)
        .count("due", report.due)
        .count("fetched", report.fetched)
        .count("changed", report.changed)
        .count("failed", report.failed.len())
        .count("unhealthy_sources", report.unhealthy_sources)
        .field_count("not_modified", report.not_modified)
        .field_count("unchanged", report.unchanged)
        .field_count("deferred", report.deferred)
        .field_count("written", report.written.len())
        .field_count("linked_fetched", report.linked_fetched)
        .field_count("linked_failed", report.linked_failed)
        .field("bytes", report.bytes as f64)
}

/// What one SQS batch of the normalize stage did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NormalizeTotals {
    /// Raw objects normalized (an items object written).
    pub objects: usize,
    /// Items in those objects.
    pub items: usize,
    /// Objects that failed, retryable or not.
    pub failures: usize,
}

impl NormalizeTotals {
    /// Counts one object's outcome: its report, or None when it failed.
    pub fn record(&mut self, outcome: Option<&NormalizeReport>) {
        match outcome {
            // A key outside raw/ was not normalized: not an object of this stage.
            Some(report) if report.items_key.is_none() => {}
            Some(report) => {
                self.objects += 1;
                self.items += report.items;
            }
            None => self.failures += 1,
        }
    }
}

/// A normalize batch's line: plain fields only, no metric (failures surface as Lambda's own
/// `Errors` and the queue's depth, which the alarms watch for free).
pub fn normalize_batch(function: &str, at: DateTime<Utc>, totals: &NormalizeTotals) -> MetricLine {
    MetricLine::new(function, at)
        .field_count("objects", totals.objects)
        .field_count("items", totals.items)
        .field_count("failures", totals.failures)
}

/// What one SQS batch of the reconcile stage did: the items objects and their reports summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileTotals {
    /// Items objects reconciled.
    pub objects: usize,
    /// Items objects that failed, retryable or not.
    pub failures: usize,
    pub items: ReconcileReport,
}

impl ReconcileTotals {
    /// Counts one items object's outcome: its report, or None when it failed.
    pub fn record(&mut self, outcome: Option<&ReconcileReport>) {
        let Some(report) = outcome else {
            self.failures += 1;
            return;
        };
        self.objects += 1;
        let items = &mut self.items;
        items.new += report.new;
        items.changed += report.changed;
        items.unchanged += report.unchanged;
        items.stale += report.stale;
        items.skipped_lines += report.skipped_lines;
        items.crises_opened += report.crises_opened;
        items.responses_linked += report.responses_linked;
        items.crisis_failures += report.crisis_failures;
    }
}

/// A reconcile batch's line: [`RECONCILE_METRICS`] declared, the other counts plain fields.
pub fn reconcile_batch(function: &str, at: DateTime<Utc>, totals: &ReconcileTotals) -> MetricLine {
    let items = &totals.items;
    MetricLine::new(function, at)
        .count("new", items.new)
        .count("changed", items.changed)
        .count("crises_opened", items.crises_opened)
        .count("responses_linked", items.responses_linked)
        .count("crisis_failures", items.crisis_failures)
        .field_count("objects", totals.objects)
        .field_count("failures", totals.failures)
        .field_count("unchanged", items.unchanged)
        .field_count("stale", items.stale)
        .field_count("skipped", items.skipped_lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::SourceFailure;
    use chrono::TimeZone;

    /// The CloudWatch units the service accepts (PutMetricData's `StandardUnit`).
    const CLOUDWATCH_UNITS: &[&str] = &[
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    /// Checks `line` against the EMF specification's rules, panicking with the rule broken;
    /// returns the declared metrics' values by name (none for a line without a directive,
    /// which CloudWatch keeps as a plain log event).
    fn validate_emf(line: &str) -> Map<String, Value> {
        assert!(!line.contains('\n'), "one log event is one line");
        let root: Value = serde_json::from_str(line).expect("a JSON object");
        let root = root.as_object().expect("the root is an object");
        let Some(aws) = root.get("_aws") else {
            return Map::new();
        };
        let aws = aws.as_object().expect("_aws is an object");
        let timestamp = aws["Timestamp"].as_i64().expect("Timestamp is an integer");
        // Milliseconds since the epoch, not seconds: after 2001 in ms is > 1e12.
        assert!(
            timestamp > 1_000_000_000_000,
            "Timestamp in ms: {timestamp}"
        );
        let directives = aws["CloudWatchMetrics"].as_array().expect("an array");
        assert!(!directives.is_empty());
        let mut values = Map::new();
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("Namespace");
            assert!((1..=255).contains(&namespace.len()));
            let dimension_sets = directive["Dimensions"].as_array().expect("Dimensions");
            for set in dimension_sets {
                let set = set.as_array().expect("a dimension set is an array");
                assert!(set.len() <= 30, "at most 30 dimensions in a set");
                for key in set {
                    let key = key.as_str().expect("dimension keys are strings");
                    assert!(
                        root.get(key).is_some_and(Value::is_string),
                        "dimension {key} has a string value at the root"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics");
            assert!(
                (1..=100).contains(&metrics.len()),
                "1 to 100 metrics per directive"
            );
            for metric in metrics {
                let name = metric["Name"].as_str().expect("Name is a string");
                assert!((1..=1024).contains(&name.len()));
                let unit = metric["Unit"].as_str().expect("Unit is a string");
                assert!(
                    CLOUDWATCH_UNITS.contains(&unit),
                    "{unit} is a CloudWatch unit"
                );
                let value = root.get(name).unwrap_or(&Value::Null);
                assert!(value.is_number(), "metric {name} has a number at the root");
                values.insert(name.to_owned(), value.clone());
            }
        }
        values
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()
    }

    /// The names `json` declares as metrics, in order.
    fn declared(json: &Value) -> Vec<String> {
        json["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| m["Name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn scrape_cycle_declares_only_the_alarmed_and_listed_counts() {
        let report = CycleReport {
            due: 10,
            fetched: 7,
            changed: 3,
            unchanged: 4,
            not_modified: 2,
            deferred: 1,
            bytes: 123_456,
            failed: vec![
                SourceFailure {
                    owner: "tokyo".into(),
                    source: "feed".into(),
                    error: "timeout".into(),
                };
                2
            ],
            written: vec!["raw/a".into(); 5],
            unhealthy_sources: 1,
            linked_fetched: 6,
            linked_failed: 2,
        };
        let json = scrape_cycle("scrape", at(), &report).to_json();
        let values = validate_emf(&json.to_string());
        assert_eq!(declared(&json), SCRAPE_METRICS);
        let metrics = [
            ("due", 10),
            ("fetched", 7),
            ("changed", 3),
            ("failed", 2),
            ("unhealthy_sources", 1),
        ];
        assert_eq!(values.len(), metrics.len());
        for (name, value) in metrics {
            assert_eq!(values[name], json!(value as f64), "{name}");
        }
        // The other counts stay in the line, as plain fields.
        let fields = [
            ("not_modified", 2),
            ("unchanged", 4),
            ("deferred", 1),
            ("written", 5),
            ("linked_fetched", 6),
            ("linked_failed", 2),
            ("bytes", 123_456),
        ];
        for (name, value) in fields {
            assert_eq!(json[name], json!(value as f64), "{name}");
            assert!(!values.contains_key(name), "{name} is not declared");
        }
        assert_eq!(json["_aws"]["Timestamp"], json!(1_795_834_800_000i64));
        assert_eq!(json["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Pantau");
        assert_eq!(
            json["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"]])
        );
        assert_eq!(json["Function"], "scrape");
        let units = &json["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert!(
            units
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["Unit"] == "Count")
        );
    }

    #[test]
    fn normalize_line_declares_nothing_and_carries_no_directive() {
        let totals = NormalizeTotals {
            objects: 3,
            items: 40,
            failures: 1,
        };
        let json = normalize_batch("normalize", at(), &totals).to_json();
        assert!(validate_emf(&json.to_string()).is_empty());
        assert!(json.get("_aws").is_none(), "no directive without metrics");
        assert_eq!(json["objects"], json!(3.0));
        assert_eq!(json["items"], json!(40.0));
        assert_eq!(json["failures"], json!(1.0));
        assert_eq!(json["Function"], "normalize");
    }

    #[test]
    fn reconcile_line_declares_issue_7s_counts() {
        let totals = ReconcileTotals {
            objects: 2,
            failures: 0,
            items: ReconcileReport {
                new: 5,
                changed: 1,
                unchanged: 9,
                stale: 2,
                skipped_lines: 1,
                crises_opened: 3,
                responses_linked: 4,
                crisis_failures: 6,
            },
        };
        let line = reconcile_batch("reconcile", at(), &totals).to_json();
        let values = validate_emf(&line.to_string());
        assert_eq!(declared(&line), RECONCILE_METRICS);
        assert_eq!(values.len(), 5);
        assert_eq!(values["crisis_failures"], json!(6.0));
        assert_eq!(values["new"], json!(5.0));
        assert_eq!(values["changed"], json!(1.0));
        assert_eq!(values["crises_opened"], json!(3.0));
        assert_eq!(values["responses_linked"], json!(4.0));
        assert_eq!(line["skipped"], json!(1.0));
        assert_eq!(line["objects"], json!(2.0));
        assert!(!values.contains_key("skipped"));
        assert_eq!(line["Function"], "reconcile");
    }

    /// The validator itself rejects what CloudWatch would drop (so the tests above can fail).
    #[test]
    #[should_panic(expected = "Timestamp in ms")]
    fn validator_rejects_a_timestamp_in_seconds() {
        let mut json = MetricLine::new("f", at()).count("x", 1).to_json();
        json["_aws"]["Timestamp"] = json!(at().timestamp());
        validate_emf(&json.to_string());
    }

    #[test]
    #[should_panic(expected = "has a number at the root")]
    fn validator_rejects_a_metric_without_a_value() {
        let mut json = MetricLine::new("f", at()).count("x", 1).to_json();
        json.as_object_mut().unwrap().remove("x");
        validate_emf(&json.to_string());
    }

    #[test]
    #[should_panic(expected = "1 to 100 metrics per directive")]
    fn validator_rejects_a_directive_without_metrics() {
        let mut json = MetricLine::new("f", at()).count("x", 1).to_json();
        json["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!([]);
        validate_emf(&json.to_string());
    }

    #[test]
    #[should_panic(expected = "_aws is an object")]
    fn validator_rejects_a_malformed_directive() {
        let mut json = MetricLine::new("f", at()).field("x", 1.0).to_json();
        json["_aws"] = json!("metrics");
        validate_emf(&json.to_string());
    }

    #[test]
    fn totals_sum_the_objects_of_a_batch() {
        let mut normalize = NormalizeTotals::default();
        let report = |items| NormalizeReport {
            items_key: Some("items/x.jsonl".into()),
            items,
        };
        normalize.record(Some(&report(3)));
        normalize.record(Some(&report(4)));
        normalize.record(Some(&NormalizeReport::skipped()));
        normalize.record(None);
        assert_eq!(
            normalize,
            NormalizeTotals {
                objects: 2,
                items: 7,
                failures: 1
            }
        );

        let mut reconcile = ReconcileTotals::default();
        let one = ReconcileReport {
            new: 1,
            changed: 2,
            unchanged: 3,
            stale: 4,
            skipped_lines: 5,
            crisis_failures: 7,
            ..Default::default()
        };
        reconcile.record(Some(&one));
        reconcile.record(Some(&one));
        reconcile.record(None);
        assert_eq!((reconcile.objects, reconcile.failures), (2, 1));
        assert_eq!(
            reconcile.items,
            ReconcileReport {
                new: 2,
                changed: 4,
                unchanged: 6,
                stale: 8,
                skipped_lines: 10,
                crisis_failures: 14,
                ..Default::default()
            }
        );
    }

    #[test]
    fn function_name_falls_back_to_the_local_name() {
        // Tests never run inside Lambda.
        if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
            assert_eq!(function_name("scrape"), "scrape");
        }
    }
}
