//! The deployment template, `infra/template.yaml`: cfn-lint finds nothing in it, and what it
//! declares matches what the code expects (the environment the functions read, the table's
//! indexes and TTL attribute).
//!
//! cfn-lint comes from PyPI into `.venv` (`make test-setup`); `PANTAU_CFN_LINT` names it (the
//! Makefile sets it). Without it these tests say so and pass, except under CI (`CI` set),
//! where a missing linter is a failure: the check must not silently stop running.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pantau::store::table::{self, Index};
use serde_json::Value;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_owned()
}

fn template_path() -> PathBuf {
    workspace_root().join("infra/template.yaml")
}

/// The cfn-lint executable, or None (with the reason printed) when the tests should skip.
fn cfn_lint() -> Option<PathBuf> {
    let path = std::env::var_os("PANTAU_CFN_LINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/cfn-lint"));
    if path.exists() {
        return Some(path);
    }
    let message = format!(
        "cfn-lint not found at {} (run `make test-setup`, or set PANTAU_CFN_LINT)",
        path.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}; under CI the template must be linted");
    }
    println!("skipped: {message}");
    None
}

/// Runs cfn-lint on `template`: (passed, everything it printed).
fn lint(cfn_lint: &Path, template: &Path) -> (bool, String) {
    let output = Command::new(cfn_lint)
        .arg(template)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cfn_lint.display()));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.success() && printed.trim().is_empty(),
        printed,
    )
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let (passed, printed) = lint(&cfn_lint, &template_path());
    assert!(passed, "cfn-lint on infra/template.yaml:\n{printed}");
}

/// The linter really reads SAM resources: a function with a misspelled property and a
/// timeout Lambda does not allow is reported. (Guards against a linter that passes
/// everything, e.g. one that silently skips the SAM transform.)
#[test]
fn cfn_lint_reports_a_broken_sam_function() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      Timeout: 6000
      MemorySyze: 256
"#,
    )
    .unwrap();
    let (passed, printed) = lint(&cfn_lint, &broken);
    assert!(!passed, "cfn-lint passed a broken template");
    assert!(printed.contains("MemorySyze"), "{printed}");
    assert!(printed.contains("6000"), "{printed}");
}

/// The template as data, read by cfn-lint's own YAML decoder (it knows the `!Ref` and `!Sub`
/// tags), printed as JSON by the Python cfn-lint runs on.
fn template_json(cfn_lint: &Path) -> Value {
    let python = cfn_lint.with_file_name("python");
    let output = Command::new(&python)
        .args([
            "-c",
            "import json, sys\n\
             from cfnlint.decode import decode\n\
             template, problems = decode(sys.argv[1])\n\
             if problems: sys.exit('\\n'.join(str(p) for p in problems))\n\
             json.dump(template, sys.stdout, default=str)",
        ])
        .arg(template_path())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "decoding the template: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the decoder prints JSON")
}

/// The variables `shared/src/config.rs` requires: every `required("NAME", ...)` call outside
/// its tests.
fn required_env_names() -> BTreeSet<String> {
    let source = std::fs::read_to_string(workspace_root().join("shared/src/config.rs")).unwrap();
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    code.split("required(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_function_gets_the_environment_config_requires() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = template_json(&cfn_lint);
    let required = required_env_names();
    assert!(
        required.contains("PANTAU_BUCKET") && required.contains("PANTAU_TABLE"),
        "config.rs no longer reads PANTAU_BUCKET and PANTAU_TABLE? found {required:?}"
    );
    let global = &template["Globals"]["Function"]["Environment"]["Variables"];
    let functions: Vec<(&String, &Value)> = template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .collect();
    assert_eq!(functions.len(), 4, "scrape, normalize, reconcile, api");
    for (name, function) in functions {
        // SAM merges a function's own variables over the global ones.
        let own = &function["Properties"]["Environment"]["Variables"];
        for variable in &required {
            assert!(
                !global[variable].is_null() || !own[variable].is_null(),
                "{name} does not get {variable}, which config.rs requires"
            );
        }
        // The code each function deploys is a crate of this workspace with that binary.
        let code = function["Properties"]["CodeUri"].as_str().unwrap();
        let manifest = workspace_root().join("infra").join(code).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{name}: {}: {e}", manifest.display()));
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{name}: {code} has no binary {binary}"
        );
    }
}

#[test]
fn table_declares_the_keys_indexes_and_ttl_the_code_uses() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = template_json(&cfn_lint);
    let table = &template["Resources"]["Table"]["Properties"];
    let key_schema = |schema: &Value| -> (String, String) {
        let of = |kind: &str| {
            schema
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["KeyType"] == kind)
                .and_then(|k| k["AttributeName"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        (of("HASH"), of("RANGE"))
    };
    assert_eq!(
        key_schema(&table["KeySchema"]),
        (table::PK.to_owned(), table::SK.to_owned())
    );
    let indexes = table["GlobalSecondaryIndexes"].as_array().unwrap();
    let declared: BTreeSet<&str> = indexes
        .iter()
        .filter_map(|i| i["IndexName"].as_str())
        .collect();
    let used: BTreeSet<&str> = [Index::Gsi1, Index::Gsi2]
        .into_iter()
        .filter_map(Index::name)
        .collect();
    assert_eq!(declared, used, "the template's GSIs are the code's");
    for index in [Index::Gsi1, Index::Gsi2] {
        let name = index.name().unwrap();
        let declared = indexes.iter().find(|i| i["IndexName"] == name).unwrap();
        let (pk, sk) = index.key_names();
        assert_eq!(
            key_schema(&declared["KeySchema"]),
            (pk.to_owned(), sk.to_owned()),
            "{name}'s keys"
        );
        // The code reads whole records from the indexes.
        assert_eq!(declared["Projection"]["ProjectionType"], "ALL", "{name}");
    }
    // Every key attribute is declared, as a string.
    let definitions: BTreeSet<(&str, &str)> = table["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["AttributeName"].as_str().unwrap(),
                d["AttributeType"].as_str().unwrap(),
            )
        })
        .collect();
    for name in [
        table::PK,
        table::SK,
        table::GSI1_PK,
        table::GSI1_SK,
        table::GSI2_PK,
        table::GSI2_SK,
    ] {
        assert!(
            definitions.contains(&(name, "S")),
            "{name} is not declared as S"
        );
    }
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        table::TTL
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
}

/// The names of the metrics `emitted` declares in its EMF directive.
fn emf_metric_names(emitted: &Value) -> BTreeSet<String> {
    emitted["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every alarm on a `Pantau` metric reads one the scrape function emits, with the dimension
/// it emits (the function's name); every function has an errors alarm; every alarm notifies
/// the topic; production's table is protected from deletion; the scrape schedule is an
/// EventBridge Scheduler schedule.
#[test]
fn alarms_read_metrics_the_code_emits_and_notify_the_topic() {
    use pantau::metrics::{self, FUNCTION_DIMENSION, NAMESPACE};
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = template_json(&cfn_lint);
    let resources = template["Resources"].as_object().unwrap();
    let scrape_line = metrics::scrape_cycle("scrape", chrono::Utc::now(), &Default::default());
    let scrape_metrics = emf_metric_names(&scrape_line.to_json());
    let reconcile_line =
        metrics::reconcile_batch("reconcile", chrono::Utc::now(), &Default::default());
    let reconcile_metrics = emf_metric_names(&reconcile_line.to_json());

    // (metric, dimensions) of every Pantau metric an alarm reads, directly or in metric math.
    let mut read = Vec::new();
    let alarms: Vec<(&String, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    for (name, alarm) in &alarms {
        let properties = &alarm["Properties"];
        assert_eq!(
            properties["AlarmActions"],
            serde_json::json!([{"Ref": "AlarmTopic"}]),
            "{name} notifies the alarm topic"
        );
        if properties["Namespace"] == NAMESPACE {
            read.push((name, &properties["MetricName"], &properties["Dimensions"]));
        }
        for query in properties["Metrics"].as_array().into_iter().flatten() {
            let metric = &query["MetricStat"]["Metric"];
            if metric["Namespace"] == NAMESPACE {
                read.push((name, &metric["MetricName"], &metric["Dimensions"]));
            }
        }
    }
    assert!(
        read.len() >= 4,
        "failure rate (failed, due), silent sources, crisis feed failures"
    );
    for (alarm, metric, dimensions) in read {
        let metric = metric.as_str().unwrap();
        // Each metric from the function that emits it, under that function's name.
        let function = if scrape_metrics.contains(metric) {
            "ScrapeFunction"
        } else {
            assert!(
                reconcile_metrics.contains(metric),
                "{alarm} reads {metric}, which neither scrape ({scrape_metrics:?}) nor \
                 reconcile ({reconcile_metrics:?}) emits"
            );
            "ReconcileFunction"
        };
        assert_eq!(
            dimensions,
            &serde_json::json!([{"Name": FUNCTION_DIMENSION, "Value": {"Ref": function}}]),
            "{alarm}: the dimension the function emits is its name"
        );
    }

    for (name, function) in resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
    {
        assert!(
            alarms
                .iter()
                .any(|(_, a)| a["Properties"]["MetricName"] == "Errors"
                    && a["Properties"]["Dimensions"][0]["Value"]["Ref"] == name.as_str()),
            "{name} has an errors alarm"
        );
        for event in function["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert_ne!(
                event.1["Type"], "Schedule",
                "{name}: use ScheduleV2 (Scheduler)"
            );
        }
    }
    assert_eq!(
        template["Conditions"]["IsProd"],
        serde_json::json!({"Fn::Equals": [{"Ref": "Stage"}, "prod"]})
    );
    assert_eq!(
        resources["Table"]["Properties"]["DeletionProtectionEnabled"],
        serde_json::json!({"Fn::If": ["IsProd", true, false]})
    );
}

// ---------------------------------------------------------------- security checks
//
// No public bucket, no wildcard action granted, encryption at rest everywhere, TLS only. Each
// check returns what it found wrong, so the tests can also show that a check catches a
// template edited to break it.

fn report(tried: &str, count: usize, outcome: &str) {
    println!("RELIABILITY\tinfra\t{tried}\t{count}\t{outcome}");
}

/// The decoded template, decoded once for the three security tests (decoding starts Python).
fn decoded_template(cfn_lint: &Path) -> Value {
    static DECODED: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DECODED.get_or_init(|| template_json(cfn_lint)).clone()
}

/// The template's resources of `kind`: (logical id, properties).
fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .map(|all| {
            all.iter()
                .filter(|(_, r)| r["Type"] == kind)
                .map(|(id, r)| (id.as_str(), &r["Properties"]))
                .collect()
        })
        .unwrap_or_default()
}

/// A scalar or a list as a list.
fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

/// `true`, or the string "true" as CloudFormation also accepts.
fn is_true(v: &Value) -> bool {
    v == &Value::Bool(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

fn is_false(v: &Value) -> bool {
    v == &Value::Bool(false) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"))
}

/// Every policy statement in the template: (where, statement). Inline statements of SAM
/// functions, IAM roles and policies, and resource policies of buckets, queues, topics and keys.
fn policy_statements(template: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    let Some(resources) = template["Resources"].as_object() else {
        return out;
    };
    for (id, resource) in resources {
        let p = &resource["Properties"];
        let mut documents: Vec<&Value> = vec![
            &p["PolicyDocument"],
            &p["KeyPolicy"],
            &p["AssumeRolePolicyDocument"],
        ];
        for policy in as_list(&p["Policies"]) {
            // SAM: a list of inline documents ({Statement: ...}) and policy templates; IAM
            // roles: {PolicyName, PolicyDocument}.
            documents.push(policy);
            documents.push(&policy["PolicyDocument"]);
        }
        for document in documents {
            for statement in as_list(&document["Statement"]) {
                out.push((id.clone(), statement));
            }
        }
    }
    out
}

/// SAM policy templates this project uses, with the actions SAM expands them to (from SAM's
/// policy_templates.json). Any other template, or a managed policy, must be reviewed and added.
const REVIEWED_SAM_POLICY_TEMPLATES: [(&str, &[&str]); 3] = [
    ("SNSPublishMessagePolicy", &["sns:Publish"]),
    (
        "DynamoDBCrudPolicy",
        &[
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
            "dynamodb:ConditionCheckItem",
        ],
    ),
    (
        "DynamoDBReadPolicy",
        &[
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        ],
    ),
];

/// `*` or `service:*`: every action (of a service).
fn is_wildcard_action(action: &str) -> bool {
    action == "*" || action.ends_with(":*")
}

/// Allowed actions that are wildcards (Deny statements may use them: denying more is
/// safe), `NotAction` in an Allow, and policies nobody reviewed. (violations, statements checked)
fn wildcard_actions(template: &Value) -> (Vec<String>, usize) {
    let statements = policy_statements(template);
    let mut wrong = Vec::new();
    for (id, statement) in &statements {
        if statement["Effect"] != "Allow" {
            continue;
        }
        if !statement["NotAction"].is_null() {
            wrong.push(format!(
                "{id}: an Allow with NotAction grants nearly everything"
            ));
        }
        for action in as_list(&statement["Action"]) {
            match action.as_str() {
                Some(a) if is_wildcard_action(a) => wrong.push(format!("{id}: allows `{a}`")),
                Some(_) => {}
                None => wrong.push(format!("{id}: an action that is not a plain string")),
            }
        }
    }
    for (id, function) in resources_of(template, "AWS::Serverless::Function") {
        for policy in as_list(&function["Policies"]) {
            match policy {
                Value::String(managed) => {
                    wrong.push(format!("{id}: managed policy `{managed}` not reviewed"))
                }
                Value::Object(map) if !map.contains_key("Statement") => {
                    for name in map.keys() {
                        if !REVIEWED_SAM_POLICY_TEMPLATES.iter().any(|(n, _)| n == name) {
                            wrong.push(format!("{id}: SAM policy template `{name}` not reviewed"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (id, role) in resources_of(template, "AWS::IAM::Role") {
        for arn in as_list(&role["ManagedPolicyArns"]) {
            wrong.push(format!("{id}: managed policy {arn} not reviewed"));
        }
    }
    (wrong, statements.len())
}

/// Buckets reachable by the public or over plain HTTP. (violations, buckets checked)
fn public_or_plaintext_buckets(template: &Value) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let buckets = resources_of(template, "AWS::S3::Bucket");
    let policies = resources_of(template, "AWS::S3::BucketPolicy");
    for (id, bucket) in &buckets {
        let block = &bucket["PublicAccessBlockConfiguration"];
        for setting in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            if !is_true(&block[setting]) {
                wrong.push(format!("{id}: {setting} is not true"));
            }
        }
        if !bucket["AccessControl"].is_null() {
            wrong.push(format!("{id}: a canned ACL is set"));
        }
        // The bucket's policies: those whose Bucket is a !Ref to it.
        let own: Vec<&Value> = policies
            .iter()
            .filter(|(_, p)| p["Bucket"]["Ref"] == *id)
            .map(|(_, p)| &p["PolicyDocument"])
            .collect();
        let tls_only = own.iter().flat_map(|d| as_list(&d["Statement"])).any(|s| {
            s["Effect"] == "Deny"
                && is_false(&s["Condition"]["Bool"]["aws:SecureTransport"])
                && as_list(&s["Action"])
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| a == "s3:*" || a == "*"))
        });
        if !tls_only {
            wrong.push(format!(
                "{id}: no bucket policy denies requests without TLS (aws:SecureTransport false)"
            ));
        }
    }
    for (id, policy) in &policies {
        for statement in as_list(&policy["PolicyDocument"]["Statement"]) {
            let principal = &statement["Principal"];
            let everyone = principal == "*" || as_list(&principal["AWS"]).iter().any(|p| *p == "*");
            if statement["Effect"] == "Allow" && everyone {
                wrong.push(format!("{id}: allows the `*` principal"));
            }
        }
    }
    (wrong, buckets.len())
}

/// Data at rest that is not encrypted. (violations, resources checked)
fn unencrypted(template: &Value) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (id, bucket) in resources_of(template, "AWS::S3::Bucket") {
        checked += 1;
        let rules = as_list(&bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]);
        let sse = rules.iter().any(|r| {
            matches!(
                r["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str(),
                Some("AES256" | "aws:kms" | "aws:kms:dsse")
            )
        });
        if !sse {
            wrong.push(format!("{id}: no default server-side encryption"));
        }
    }
    for (id, table) in resources_of(template, "AWS::DynamoDB::Table") {
        checked += 1;
        if !is_true(&table["SSESpecification"]["SSEEnabled"]) {
            wrong.push(format!("{id}: SSESpecification.SSEEnabled is not true"));
        }
    }
    for (id, queue) in resources_of(template, "AWS::SQS::Queue") {
        checked += 1;
        if !is_true(&queue["SqsManagedSseEnabled"]) && queue["KmsMasterKeyId"].is_null() {
            wrong.push(format!("{id}: neither SQS-managed SSE nor a KMS key"));
        }
    }
    for (id, topic) in resources_of(template, "AWS::SNS::Topic") {
        checked += 1;
        if topic["KmsMasterKeyId"].is_null() {
            wrong.push(format!("{id}: no KmsMasterKeyId"));
        }
    }
    for (id, key) in resources_of(template, "AWS::KMS::Key") {
        checked += 1;
        if !is_true(&key["EnableKeyRotation"]) {
            wrong.push(format!("{id}: key rotation is off"));
        }
    }
    // CloudWatch Logs encrypts every log group at rest; a KmsKeyId, when set, must name a key.
    for (id, group) in resources_of(template, "AWS::Logs::LogGroup") {
        checked += 1;
        if group.get("KmsKeyId").is_some_and(Value::is_null) {
            wrong.push(format!("{id}: KmsKeyId is empty"));
        }
    }
    (wrong, checked)
}

#[test]
fn reliability_infra_no_public_bucket_and_tls_only() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = decoded_template(&cfn_lint);
    let (wrong, buckets) = public_or_plaintext_buckets(&template);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(buckets >= 1);

    // The check catches a bucket opened to the world, or its TLS-only policy removed.
    let mut opened = template.clone();
    opened["Resources"]["Bucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] =
        Value::Bool(false);
    opened["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "x"}));
    assert_eq!(public_or_plaintext_buckets(&opened).0.len(), 2);
    let mut plaintext = template.clone();
    plaintext["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] =
        serde_json::json!([]);
    assert_eq!(public_or_plaintext_buckets(&plaintext).0.len(), 1);
    report(
        "buckets checked for public access blocks, `*` principals and a TLS-only policy",
        buckets,
        "none public, all TLS only (and the check flags a bucket edited to break each)",
    );
}

#[test]
fn reliability_infra_no_wildcard_action_is_allowed() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = decoded_template(&cfn_lint);
    let (wrong, statements) = wildcard_actions(&template);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        statements >= 5,
        "{statements} statements found: the walk misses policies"
    );

    let mut widened = template.clone();
    let policies = &mut widened["Resources"]["ApiFunction"]["Properties"]["Policies"];
    policies.as_array_mut().unwrap().extend([
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}),
        serde_json::json!("AdministratorAccess"),
        serde_json::json!({"S3FullAccessPolicy": {"BucketName": "b"}}),
    ]);
    assert_eq!(
        wildcard_actions(&widened).0.len(),
        3,
        "{:?}",
        wildcard_actions(&widened).0
    );
    report(
        "policy statements checked for `*` or `service:*` actions in Allow, and unreviewed policies",
        statements,
        "none (Deny s3:* on plain HTTP is the only wildcard); the check flags 3 of 3 planted",
    );
}

#[test]
fn reliability_infra_encrypts_everything_at_rest() {
    let Some(cfn_lint) = cfn_lint() else { return };
    let template = decoded_template(&cfn_lint);
    let (wrong, checked) = unencrypted(&template);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(!resources_of(&template, "AWS::SNS::Topic").is_empty());

    let mut bare = template.clone();
    let resources = &mut bare["Resources"];
    for (id, property) in [
        ("Bucket", "BucketEncryption"),
        ("Table", "SSESpecification"),
        ("NormalizeQueue", "SqsManagedSseEnabled"),
        ("AlarmTopic", "KmsMasterKeyId"),
    ] {
        resources[id]["Properties"]
            .as_object_mut()
            .unwrap()
            .remove(property);
    }
    assert_eq!(unencrypted(&bare).0.len(), 4, "{:?}", unencrypted(&bare).0);
    report(
        "buckets, tables, queues, topics, keys and log groups checked for encryption at rest",
        checked,
        "all encrypted (SNS under a rotated customer key CloudWatch may use); the check flags 4 of 4 removed",
    );
}
