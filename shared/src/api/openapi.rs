//! The OpenAPI 3.1 document, built from the same route descriptors the router is built from
//! (`OPERATIONS`): a route cannot be served without being described, and the tests check the
//! reverse. Served at `/openapi.json`.

use serde_json::{Map, Value, json};

use super::access::KEY_HEADER;
use super::csv::NEXT_CURSOR_HEADER;

/// Which handler serves an operation (`super::router` maps each to its function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Health,
    OpenApi,
    Missions,
    Mission,
    MissionItems,
    MissionActivity,
    Item,
    Story,
    CountryMissions,
    CountryItems,
    Search,
    SilentMissions,
    SourceHealth,
    Crises,
    Crisis,
    ResponseLatency,
    AlertRules,
    AlertRuleCreate,
    AlertRule,
    AlertRuleDelete,
    AlertHistory,
    /// `GET` lists, `POST` imports (see `super::hq`).
    HqRecords,
    HqMatching,
    HqTimeline,
}

/// An operation's HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    /// The method's key in an OpenAPI path item.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Delete => "delete",
        }
    }
}

/// One route and method.
#[derive(Debug)]
pub struct Operation {
    pub path: &'static str,
    pub method: Method,
    /// The component schema of a JSON request body, when the operation takes one.
    pub request: Option<&'static str>,
    pub id: &'static str,
    pub summary: &'static str,
    /// Whether the route needs `x-api-key`.
    pub needs_key: bool,
    pub params: &'static [Param],
    pub answer: Answer,
    pub handler: Handler,
}

/// What a 200 carries.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// JSON of this component schema.
    Json(&'static str),
    /// JSON of this schema, or CSV (`?format=csv` or `Accept: text/csv`).
    JsonOrCsv(&'static str),
    /// 201 with JSON of this schema.
    Created(&'static str),
    /// 204, no body.
    NoContent,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    pub description: &'static str,
    /// JSON Schema, as JSON text.
    pub schema: &'static str,
}

impl Param {
    /// Path parameters, and `q` of `/search`, must be given.
    pub fn required(&self) -> bool {
        self.location == "path" || self.name == QUERY_TEXT.name
    }
}

const MISSION_ID: Param = Param {
    name: "id",
    location: "path",
    description: "A mission id from the registry, such as `tokyo`.",
    schema: r#"{"type":"string","minLength":1}"#,
};

const LIMIT: Param = Param {
    name: "limit",
    location: "query",
    description: "Entries per page.",
    schema: const_format_limit(),
};

const CURSOR: Param = Param {
    name: "cursor",
    location: "query",
    description: "`next_cursor` of the previous page, unchanged; only valid with the same path and filters.",
    schema: r#"{"type":"string","minLength":1,"maxLength":4096,"pattern":"^[A-Za-z0-9_.-]+$"}"#,
};

const COUNTRY_CODE: Param = Param {
    name: "cc",
    location: "path",
    description: "An ISO 3166-1 alpha-2 country code such as `JP` (either case).",
    schema: r#"{"type":"string","pattern":"^[A-Za-z]{2}$"}"#,
};

const ROLE: Param = Param {
    name: "role",
    location: "query",
    description: "Whose voice: the mission's own, headquarters', media or hazard alerts.",
    schema: r#"{"type":"string","enum":["official","hq","media","hazard"]}"#,
};

const LANGUAGE: Param = Param {
    name: "language",
    location: "query",
    description: "A two- or three-letter language code such as `id` or `en`.",
    schema: r#"{"type":"string","pattern":"^[A-Za-z]{2,3}$"}"#,
};

const SINCE: Param = Param {
    name: "since",
    location: "query",
    description: "Published at or after (RFC 3339); not later than `until`.",
    schema: r#"{"type":"string","format":"date-time"}"#,
};

const UNTIL: Param = Param {
    name: "until",
    location: "query",
    description: "Published at or before (RFC 3339).",
    schema: r#"{"type":"string","format":"date-time"}"#,
};

const FORMAT: Param = Param {
    name: "format",
    location: "query",
    description: "`csv` for CSV (as does `Accept: text/csv`); JSON otherwise.",
    schema: r#"{"type":"string","enum":["json","csv"]}"#,
};

const QUERY_TEXT: Param = Param {
    name: "q",
    location: "query",
    description: "Words to search for, Indonesian or English; every word must match (after folding case and accents and removing affixes: `evakuasi` finds `dievakuasi`, `turkiye` finds `Türkiye`). Very common words are ignored; at most 8 words, 200 characters.",
    schema: r#"{"type":"string","minLength":1,"maxLength":200}"#,
};

const MISSION_FILTER: Param = Param {
    name: "mission",
    location: "query",
    description: "Only this mission's items (a registry mission id such as `tokyo`).",
    schema: r#"{"type":"string","pattern":"^[a-z0-9_-]{1,64}$"}"#,
};

const COUNTRY_FILTER: Param = Param {
    name: "country",
    location: "query",
    description: "Only items of the missions in this country (ISO 3166-1 alpha-2, either case).",
    schema: r#"{"type":"string","pattern":"^[A-Za-z]{2}$"}"#,
};

const TOPIC: Param = Param {
    name: "topic",
    location: "query",
    description: "Only items tagged with this topic id, such as `disaster.earthquake`.",
    schema: r#"{"type":"string","minLength":1}"#,
};

const SEARCH_SINCE: Param = Param {
    name: "since",
    location: "query",
    description: "Published at or after (RFC 3339); default 100 days before `until`; at most 400 days before `until`.",
    schema: r#"{"type":"string","format":"date-time"}"#,
};

const SEARCH_UNTIL: Param = Param {
    name: "until",
    location: "query",
    description: "Published at or before (RFC 3339); default now.",
    schema: r#"{"type":"string","format":"date-time"}"#,
};

const DAYS: Param = Param {
    name: "days",
    location: "query",
    description: "Silent for at least this many days (1–365).",
    schema: r#"{"type":"integer","minimum":1,"maximum":365,"default":7}"#,
};

pub const OPERATIONS: &[Operation] = &[
    Operation {
        path: "/health",
        method: Method::Get,
        request: None,
        id: "health",
        summary: "Whether the API and its table answer (no key needed).",
        needs_key: false,
        params: &[],
        answer: Answer::Json("Health"),
        handler: Handler::Health,
    },
    Operation {
        path: "/openapi.json",
        method: Method::Get,
        request: None,
        id: "openapi",
        summary: "This document (no key needed: it holds no data).",
        needs_key: false,
        params: &[],
        answer: Answer::Json("OpenApiDocument"),
        handler: Handler::OpenApi,
    },
    Operation {
        path: "/missions",
        method: Method::Get,
        request: None,
        id: "listMissions",
        summary: "Every registry mission with its sources and health.",
        needs_key: true,
        params: &[FORMAT],
        answer: Answer::JsonOrCsv("MissionList"),
        handler: Handler::Missions,
    },
    Operation {
        path: "/missions/{id}",
        method: Method::Get,
        request: None,
        id: "getMission",
        summary: "One mission, its sources and health.",
        needs_key: true,
        params: &[MISSION_ID],
        answer: Answer::Json("Mission"),
        handler: Handler::Mission,
    },
    Operation {
        path: "/missions/{id}/items",
        method: Method::Get,
        request: None,
        id: "listMissionItems",
        summary: "A mission's items, newest first, a page at a time.",
        needs_key: true,
        params: &[
            MISSION_ID, LIMIT, CURSOR, ROLE, LANGUAGE, SINCE, UNTIL, FORMAT,
        ],
        answer: Answer::JsonOrCsv("ItemPage"),
        handler: Handler::MissionItems,
    },
    Operation {
        path: "/missions/{id}/activity",
        method: Method::Get,
        request: None,
        id: "getMissionActivity",
        summary: "A mission's items per day and role (publication dates, UTC) over the last `days` whole days and today.",
        needs_key: true,
        params: &[
            MISSION_ID,
            Param {
                name: "days",
                location: "query",
                description: "How many days back from now (default 90).",
                schema: r#"{"type":"integer","minimum":1,"maximum":366}"#,
            },
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("Activity"),
        handler: Handler::MissionActivity,
    },
    Operation {
        path: "/items/{id}",
        method: Method::Get,
        request: None,
        id: "getItem",
        summary: "An item, all its versions newest first, and the other members of its story.",
        needs_key: true,
        params: &[Param {
            name: "id",
            location: "path",
            description: "An item id: `itm_` and 20 hex digits.",
            schema: r#"{"type":"string"}"#,
        }],
        answer: Answer::Json("ItemDetail"),
        handler: Handler::Item,
    },
    Operation {
        path: "/stories/{id}",
        method: Method::Get,
        request: None,
        id: "getStory",
        summary: "A story's members, newest first, each with why it joined, a page at a time.",
        needs_key: true,
        params: &[
            Param {
                name: "id",
                location: "path",
                description: "A story id: the id of its earliest-numbered item (`itm_` and 20 hex digits), as items give it.",
                schema: r#"{"type":"string"}"#,
            },
            LIMIT,
            CURSOR,
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("StoryPage"),
        handler: Handler::Story,
    },
    Operation {
        path: "/countries/{cc}/missions",
        method: Method::Get,
        request: None,
        id: "listCountryMissions",
        summary: "The missions in one country, with their sources and health.",
        needs_key: true,
        params: &[COUNTRY_CODE, FORMAT],
        answer: Answer::JsonOrCsv("CountryMissionList"),
        handler: Handler::CountryMissions,
    },
    Operation {
        path: "/countries/{cc}/items",
        method: Method::Get,
        request: None,
        id: "listCountryItems",
        summary: "The items of every mission in one country, newest first, a page at a time.",
        needs_key: true,
        params: &[
            COUNTRY_CODE,
            LIMIT,
            CURSOR,
            ROLE,
            LANGUAGE,
            SINCE,
            UNTIL,
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("CountryItemPage"),
        handler: Handler::CountryItems,
    },
    Operation {
        path: "/search",
        method: Method::Get,
        request: None,
        id: "searchItems",
        summary: "Items whose title, summary or start of body hold every word of `q`, newest first, a page at a time.",
        needs_key: true,
        params: &[
            QUERY_TEXT,
            LIMIT,
            CURSOR,
            MISSION_FILTER,
            COUNTRY_FILTER,
            TOPIC,
            ROLE,
            LANGUAGE,
            SEARCH_SINCE,
            SEARCH_UNTIL,
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("SearchPage"),
        handler: Handler::Search,
    },
    Operation {
        path: "/reports/silent-missions",
        method: Method::Get,
        request: None,
        id: "reportSilentMissions",
        summary: "Missions with no official publication for `days`, longest silence first.",
        needs_key: true,
        params: &[DAYS, FORMAT],
        answer: Answer::JsonOrCsv("SilentMissionReport"),
        handler: Handler::SilentMissions,
    },
    Operation {
        path: "/reports/source-health",
        method: Method::Get,
        request: None,
        id: "reportSourceHealth",
        summary: "Every source: last success, consecutive failures, last error, whether unhealthy (unhealthy first).",
        needs_key: true,
        params: &[FORMAT],
        answer: Answer::JsonOrCsv("SourceHealthReport"),
        handler: Handler::SourceHealth,
    },
    Operation {
        path: "/crises",
        method: Method::Get,
        request: None,
        id: "listCrises",
        summary: "The crisis board: crises newest first, each with its count of responses, each mission's first response and latency, and the no-response flag.",
        needs_key: true,
        params: &[
            Param {
                name: "country",
                location: "query",
                description: "Only this country's crises (ISO 3166-1 alpha-2, either case).",
                schema: r#"{"type":"string","pattern":"^[A-Za-z]{2}$"}"#,
            },
            Param {
                name: "state",
                location: "query",
                description: "`active` (going on now), `closed` (quiet for the quiet period) or `all` (default).",
                schema: r#"{"type":"string","enum":["active","closed","all"]}"#,
            },
            Param {
                name: "limit",
                location: "query",
                description: "Crises listed at most (default 50).",
                schema: r#"{"type":"integer","minimum":1,"maximum":200}"#,
            },
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("CrisisList"),
        handler: Handler::Crises,
    },
    Operation {
        path: "/crises/{id}",
        method: Method::Get,
        request: None,
        id: "getCrisis",
        summary: "One crisis: its evidence, its missions' responses with latencies, and one timeline of both.",
        needs_key: true,
        params: &[Param {
            name: "id",
            location: "path",
            description: "A crisis id as `GET /crises` gives it.",
            schema: r#"{"type":"string","minLength":1}"#,
        }],
        answer: Answer::Json("CrisisDetail"),
        handler: Handler::Crisis,
    },
    Operation {
        path: "/reports/response-latency",
        method: Method::Get,
        request: None,
        id: "responseLatencyReport",
        summary: "Per mission with a crisis in its country over the last days: crises, answered, no response, latencies.",
        needs_key: true,
        params: &[
            Param {
                name: "days",
                location: "query",
                description: "Crises whose first signal is within this many days (default 90).",
                schema: r#"{"type":"integer","minimum":1,"maximum":366}"#,
            },
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("ResponseLatencyReport"),
        handler: Handler::ResponseLatency,
    },
    Operation {
        path: "/alerts/rules",
        method: Method::Get,
        request: None,
        id: "listAlertRules",
        summary: "Every alert rule, oldest first.",
        needs_key: true,
        params: &[],
        answer: Answer::Json("AlertRuleList"),
        handler: Handler::AlertRules,
    },
    Operation {
        path: "/alerts/rules",
        method: Method::Post,
        request: Some("NewAlertRule"),
        id: "createAlertRule",
        summary: "Create an alert rule: crisis opened, crisis without a response, mission silent, source unhealthy, headquarters record unmatched.",
        needs_key: true,
        params: &[],
        answer: Answer::Created("AlertRule"),
        handler: Handler::AlertRuleCreate,
    },
    Operation {
        path: "/alerts/rules/{id}",
        method: Method::Get,
        request: None,
        id: "getAlertRule",
        summary: "One alert rule.",
        needs_key: true,
        params: &[ALERT_RULE_ID],
        answer: Answer::Json("AlertRule"),
        handler: Handler::AlertRule,
    },
    Operation {
        path: "/alerts/rules/{id}",
        method: Method::Delete,
        request: None,
        id: "deleteAlertRule",
        summary: "Delete an alert rule and its condition states.",
        needs_key: true,
        params: &[ALERT_RULE_ID],
        answer: Answer::NoContent,
        handler: Handler::AlertRuleDelete,
    },
    Operation {
        path: "/alerts",
        method: Method::Get,
        request: None,
        id: "alertHistory",
        summary: "Alert messages newest first, each with its deliveries per channel.",
        needs_key: true,
        params: &[LIMIT],
        answer: Answer::Json("AlertHistory"),
        handler: Handler::AlertHistory,
    },
    Operation {
        path: "/hq-records",
        method: Method::Get,
        request: None,
        id: "listHqRecords",
        summary: "Headquarters' own records (activity reports, citizen cases, crisis instructions), newest first; POST imports a file.",
        needs_key: true,
        params: &[
            Param {
                name: "mission",
                location: "query",
                description: "Only this mission's records (a registry id such as `tokyo`).",
                schema: r#"{"type":"string","minLength":1,"maxLength":64}"#,
            },
            Param {
                name: "country",
                location: "query",
                description: "Only this country's records (ISO 3166-1 alpha-2).",
                schema: r#"{"type":"string","pattern":"^[A-Za-z]{2}$"}"#,
            },
            Param {
                name: "kind",
                location: "query",
                description: "Only records of this kind.",
                schema: r#"{"type":"string","enum":["activity_report","citizen_case","crisis_instruction"]}"#,
            },
            HQ_FROM,
            HQ_TO,
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("HqRecordList"),
        handler: Handler::HqRecords,
    },
    Operation {
        path: "/reports/hq-matching",
        method: Method::Get,
        request: None,
        id: "hqMatchingReport",
        summary: "Headquarters' records matched against the missions' official publications: match rate, unmatched on both sides, figure disagreements.",
        needs_key: true,
        params: &[
            Param {
                name: "mission",
                location: "query",
                description: "One mission (a registry id such as `tokyo`); every mission with records or publications when absent.",
                schema: r#"{"type":"string","minLength":1,"maxLength":64}"#,
            },
            HQ_FROM,
            HQ_TO,
            Param {
                name: "window",
                location: "query",
                description: "Days a publication may be from the record's date (default 3).",
                schema: r#"{"type":"integer","minimum":0,"maximum":14}"#,
            },
            FORMAT,
        ],
        answer: Answer::JsonOrCsv("HqMatchingReport"),
        handler: Handler::HqMatching,
    },
    Operation {
        path: "/countries/{cc}/hq-timeline",
        method: Method::Get,
        request: None,
        id: "hqCrisisTimeline",
        summary: "Headquarters' crisis instructions for a country and its missions' official publications on one timeline, responses marked.",
        needs_key: true,
        params: &[COUNTRY_CODE, HQ_FROM, HQ_TO],
        answer: Answer::Json("HqTimeline"),
        handler: Handler::HqTimeline,
    },
];

const ALERT_RULE_ID: Param = Param {
    name: "id",
    location: "path",
    description: "An alert rule id such as `rul_0123456789ab`.",
    schema: r#"{"type":"string","minLength":1}"#,
};

const HQ_FROM: Param = Param {
    name: "from",
    location: "query",
    description: "First day (YYYY-MM-DD, inclusive); default 30 days before `to`. At most 366 days in all.",
    schema: r#"{"type":"string","format":"date"}"#,
};

const HQ_TO: Param = Param {
    name: "to",
    location: "query",
    description: "Last day (YYYY-MM-DD, inclusive); default today (UTC).",
    schema: r#"{"type":"string","format":"date"}"#,
};

/// `limit`'s schema; kept beside `DEFAULT_LIMIT` and `MAX_LIMIT` by a test.
const fn const_format_limit() -> &'static str {
    r#"{"type":"integer","minimum":1,"maximum":200,"default":50}"#
}

/// Every path the router serves: `OPERATIONS` and the dashboard's `ASSETS`, the two lists
/// the router is built from.
pub fn paths() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = OPERATIONS
        .iter()
        .map(|o| o.path)
        .chain(crate::dashboard::ASSETS.iter().map(|a| a.0))
        .collect();
    // A path served with several methods is one path.
    let mut seen = std::collections::BTreeSet::new();
    paths.retain(|p| seen.insert(*p));
    paths
}

fn problem_responses(op: &Operation) -> Map<String, Value> {
    let mut out = Map::new();
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    if !op.params.iter().all(|p| p.location == "path") || op.request.is_some() {
        out.insert(
            "400".into(),
            problem("A parameter or the body is malformed; `parameter` names it."),
        );
    }
    if op.needs_key {
        out.insert(
            "401".into(),
            problem("No `x-api-key`, or one that is unknown or revoked."),
        );
        out.insert(
            "429".into(),
            json!({
                "description": "This key made too many requests (a token bucket per key); retry after `Retry-After` seconds.",
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            }),
        );
    }
    out.insert(
        "413".into(),
        problem(
            "The request carries a body over the limit (16 KiB by default; 5 MB for an import).",
        ),
    );
    if op.params.iter().any(|p| p.location == "path") {
        out.insert(
            "404".into(),
            problem("No such mission, item, story, crisis, alert rule or country with missions."),
        );
    }
    out.insert("500".into(), problem("Internal error (logged, not shown)."));
    if op.handler == Handler::Health {
        out.insert("503".into(), problem("The table does not answer."));
    }
    out
}

fn operation(op: &Operation) -> Value {
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": p.location,
                "required": p.required(),
                "description": p.description,
                "schema": serde_json::from_str::<Value>(p.schema).unwrap_or(Value::Null),
            })
        })
        .collect();
    let schema_ref = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let ok = match op.answer {
        Answer::Json(schema) => json!({
            "description": "OK",
            "content": {"application/json": {"schema": schema_ref(schema)}}
        }),
        Answer::Created(schema) => json!({
            "description": "Created",
            "content": {"application/json": {"schema": schema_ref(schema)}}
        }),
        Answer::NoContent => json!({"description": "Done; no content."}),
        Answer::JsonOrCsv(schema) => json!({
            "description": "OK; CSV with a header row when asked (cells starting with = + - @ tab or CR are prefixed with ')",
            "headers": {
                (NEXT_CURSOR_HEADER): {
                    "description": "CSV only: the next page's cursor, when there is one.",
                    "schema": {"type": "string"}
                }
            },
            "content": {
                "application/json": {"schema": schema_ref(schema)},
                "text/csv": {"schema": {"type": "string"}}
            }
        }),
    };
    let status = match op.answer {
        Answer::Created(_) => "201",
        Answer::NoContent => "204",
        _ => "200",
    };
    let mut responses = Map::new();
    responses.insert(status.into(), ok);
    responses.extend(problem_responses(op));
    let mut out = json!({
        "operationId": op.id,
        "summary": op.summary,
        "parameters": params,
        "responses": responses,
    });
    if let Some(schema) = op.request {
        out["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(schema)}}
        });
    }
    if !op.needs_key {
        // Overrides the document-wide requirement.
        out["security"] = json!([]);
    }
    out
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method.as_str()] = operation(op);
    }
    // The one write: `POST /hq-records` beside its `GET`.
    if let Some(Value::Object(methods)) = paths.get_mut("/hq-records") {
        methods.insert("post".into(), hq_import_operation());
    }
    for (path, content_type, _) in crate::dashboard::ASSETS {
        let media_type = content_type.split(';').next().unwrap_or(content_type);
        // JSON assets (the map's outlines) are a JSON object; the rest is text.
        let schema = if media_type == "application/json" {
            json!({"type": "object"})
        } else {
            json!({"type": "string"})
        };
        paths.insert(
            path.into(),
            json!({"get": {
                "operationId": format!("dashboard{}", path.replace(['/', '.'], "_")),
                "summary": "The dashboard (page or asset; no key needed: it holds no data).",
                "security": [],
                "parameters": [],
                "responses": {"200": {
                    "description": "OK",
                    "content": {(media_type): {"schema": schema}}
                }}
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pantau API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "News of Indonesia's missions abroad, for headquarters. Errors are RFC 9457 problem details."
        },
        "paths": paths,
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": KEY_HEADER,
                           "description": "A key made by `pantau keys create NAME`."}
            },
            "schemas": schemas(),
        }
    })
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let time_or_null = json!({"type": ["string", "null"], "format": "date-time"});
    let text_or_null = json!({"type": ["string", "null"]});
    let mut schemas = json!({
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "parameter": {"type": "string", "description": "The refused parameter (400 only)."}
            }
        },
        "Health": {
            "type": "object",
            "required": ["status", "table"],
            "properties": {"status": {"type": "string"}, "table": {"type": "string"}}
        },
        "OpenApiDocument": {"type": "object", "required": ["openapi", "paths"]},
        "SourceState": {
            "type": "object",
            "properties": {
                "last_attempt_at": time_or_null,
                "last_success_at": time_or_null,
                "last_change_at": time_or_null,
                "consecutive_failures": {"type": "integer", "minimum": 0},
                "last_error": text_or_null,
                "next_due_at": time_or_null,
                "unhealthy_since": time_or_null,
                "unhealthy_reason": text_or_null
            }
        },
        "Source": {
            "type": "object",
            "required": ["id", "kind", "role"],
            "properties": {
                "id": {"type": "string"},
                "kind": {"type": "string"},
                "role": {"type": "string", "enum": ["official", "hq", "media", "hazard"]},
                "url": text_or_null,
                "language": text_or_null,
                "cadence_minutes": {"type": ["integer", "null"]},
                "state": {"oneOf": [{"$ref": "#/components/schemas/SourceState"}, {"type": "null"}]}
            }
        },
        "Mission": {
            "type": "object",
            "required": ["id", "name", "health", "sources"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "kind": {},
                "city": text_or_null,
                "country": text_or_null,
                "country_code": text_or_null,
                "time_zone": text_or_null,
                "health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok", "degraded", "failing", "unknown"]},
                        "last_official_published_at": time_or_null,
                        "last_success_at": time_or_null
                    }
                },
                "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}}
            }
        },
        "MissionList": {
            "type": "object",
            "required": ["missions"],
            "properties": {"missions": {"type": "array", "items": {"$ref": "#/components/schemas/Mission"}}}
        },
        "Item": {
            "type": "object",
            "required": ["id", "mission", "source", "role", "title", "published_at", "fetched_at", "versions"],
            "properties": {
                "id": {"type": "string", "pattern": "^itm_[0-9a-f]{20}$"},
                "mission": {"type": "string"},
                "source": {"type": "string"},
                "role": {"type": "string", "enum": ["official", "hq", "media", "hazard"]},
                "kind": {"type": "string"},
                "title": {"type": "string"},
                "summary": text_or_null,
                "body": text_or_null,
                "url": text_or_null,
                "language": text_or_null,
                "published_at": time,
                "time_basis": {"type": "object"},
                "published_raw": text_or_null,
                "fetched_at": time,
                "first_seen_at": time,
                "versions": {"type": "integer", "minimum": 1},
                "story_id": {"type": ["string", "null"], "description": "The item's story, once grouped."}
            }
        },
        "StoryMember": {
            "type": "object",
            "required": ["id", "title", "mission", "source", "published_at", "reason"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "mission": {"type": "string"},
                "source": {"type": "string"},
                "language": text_or_null,
                "published_at": time,
                "reason": {
                    "type": ["object", "null"],
                    "description": "Why it joined: `rule` (same_publication, similar_body, same_title, shared_text, shared_anchors) and its evidence; null for the story's first item.",
                    "properties": {"rule": {"type": "string"}}
                },
                "linked_to": text_or_null
            }
        },
        "Story": {
            "type": "object",
            "required": ["id", "members"],
            "properties": {
                "id": {"type": "string"},
                "members": {"type": "array", "items": {"$ref": "#/components/schemas/StoryMember"}}
            }
        },
        "StoryPage": {
            "type": "object",
            "required": ["id", "members", "next_cursor"],
            "properties": {
                "id": {"type": "string"},
                "members": {"type": "array", "items": {"$ref": "#/components/schemas/StoryMember"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass back as `cursor` for the next page; null on the last."}
            }
        },
        "CountryMissionList": {
            "type": "object",
            "required": ["country_code", "missions"],
            "properties": {
                "country_code": {"type": "string"},
                "missions": {"type": "array", "items": {"$ref": "#/components/schemas/Mission"}}
            }
        },
        "CountryItemPage": {
            "type": "object",
            "required": ["country_code", "items", "next_cursor"],
            "properties": {
                "country_code": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass back as `cursor` for the next page; null on the last."}
            }
        },
        "ItemPage": {
            "type": "object",
            "required": ["mission", "items", "next_cursor"],
            "properties": {
                "mission": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass back as `cursor` for the next page; null on the last."}
            }
        },
        "SearchPage": {
            "type": "object",
            "required": ["terms", "since", "until", "items", "next_cursor"],
            "properties": {
                "terms": {"type": "array", "items": {"type": "string"}, "description": "The stems searched for (all must match)."},
                "since": time,
                "until": time,
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass back as `cursor` for the next page; null on the last."}
            }
        },
        "SilentMissionReport": {
            "type": "object",
            "required": ["days", "as_of", "missions"],
            "properties": {
                "days": {"type": "integer"},
                "as_of": time,
                "missions": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "name", "last_official_published_at", "days_silent"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "country": text_or_null,
                        "country_code": text_or_null,
                        "last_official_published_at": time_or_null,
                        "days_silent": {"type": ["integer", "null"], "description": "Whole days since the last official publication; null when none is known."},
                        "health_status": {"type": "string"}
                    }
                }}
            }
        },
        "SourceHealthReport": {
            "type": "object",
            "required": ["sources", "unhealthy"],
            "properties": {
                "unhealthy": {"type": "integer", "minimum": 0},
                "sources": {"type": "array", "items": {
                    "type": "object",
                    "required": ["owner", "source", "consecutive_failures", "unhealthy"],
                    "properties": {
                        "owner": {"type": "string", "description": "Mission id, `pusat` or `global`."},
                        "source": {"type": "string"},
                        "kind": {"type": "string"},
                        "role": {"type": "string"},
                        "last_attempt_at": time_or_null,
                        "last_success_at": time_or_null,
                        "consecutive_failures": {"type": "integer", "minimum": 0},
                        "last_error": text_or_null,
                        "next_due_at": time_or_null,
                        "unhealthy": {"type": "boolean", "description": "Marked unhealthy by scrape, failing 3 times in a row, or tried and never successful."},
                        "unhealthy_since": time_or_null,
                        "unhealthy_reason": text_or_null
                    }
                }}
            }
        },
        "ItemVersion": {
            "type": "object",
            "required": ["version_at", "content_hash", "title"],
            "properties": {
                "version_at": time,
                "content_hash": {"type": "string"},
                "title": {"type": "string"},
                "summary": text_or_null,
                "body": text_or_null,
                "url": text_or_null,
                "published_at": time,
                "fetched_at": time
            }
        },
        "ItemDetail": {
            "type": "object",
            "required": ["item", "versions"],
            "properties": {
                "item": {"$ref": "#/components/schemas/Item"},
                "versions": {"type": "array", "items": {"$ref": "#/components/schemas/ItemVersion"}},
                "story": {
                    "oneOf": [{"$ref": "#/components/schemas/Story"}, {"type": "null"}],
                    "description": "The item's story with its other members (newest first, at most 50); null until grouped."
                }
            }
        }
    });
    // One `json!` per group of schemas: a single one for all of them is too deep for the macro.
    for group in [
        activity_schemas(),
        crisis_schemas(),
        alert_schemas(),
        hq_schemas(),
    ] {
        if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), group) {
            all.extend(more);
        }
    }
    schemas
}

/// A mission's activity per day.
fn activity_schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    json!({
        "Activity": {
            "type": "object",
            "required": ["mission", "since", "until", "days", "items_read", "truncated"],
            "properties": {
                "mission": {"type": "string"},
                "since": time,
                "until": time,
                "days": {"type": "array", "description": "Days with at least one item, oldest first.", "items": {
                    "type": "object",
                    "required": ["day", "official", "hq", "media", "hazard"],
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "official": {"type": "integer", "minimum": 0},
                        "hq": {"type": "integer", "minimum": 0},
                        "media": {"type": "integer", "minimum": 0},
                        "hazard": {"type": "integer", "minimum": 0}
                    }
                }},
                "items_read": {"type": "integer", "minimum": 0, "description": "The items counted in the days listed."},
                "truncated": {"type": "boolean", "description": "The read cap was reached: the oldest days may be missing items (only while the mission's daily counts are being built)."}
            }
        }
    })
}

/// The crisis board, a crisis's detail and the response-latency report.
fn crisis_schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let text_or_null = json!({"type": ["string", "null"]});
    json!({
        "CrisisResponse": {
            "type": "object",
            "required": ["item_id", "mission", "published_at", "title", "kind", "terms", "matched_by", "latency_seconds"],
            "properties": {
                "item_id": {"type": "string"},
                "mission": {"type": "string"},
                "published_at": time,
                "title": {"type": "string"},
                "url": text_or_null,
                "kind": {"type": "string", "description": "advisory, hotline, evacuation, citizen_data, statement or other"},
                "terms": {"type": "array", "items": {"type": "string"}},
                "matched_by": {"type": "array", "items": {"type": "string"}},
                "latency_seconds": {"type": "integer", "description": "From the crisis's first signal to the publication."}
            }
        },
        "CrisisSummary": {
            "type": "object",
            "required": ["id", "country_code", "kind", "state", "first_signal_at", "last_signal_at", "opened_by", "signals", "missions", "response_count", "first_responses", "no_response", "home"],
            "properties": {
                "id": {"type": "string"},
                "country_code": {"type": "string"},
                "kind": {"type": "string"},
                "state": {"type": "string", "enum": ["active", "closed"]},
                "first_signal_at": time,
                "last_signal_at": time,
                "closed_at": {"type": ["string", "null"], "format": "date-time"},
                "opened_by": {"type": "string"},
                "signals": {"type": "integer", "minimum": 0},
                "missions": {"type": "array", "items": {"type": "string"}, "description": "The missions expected to answer: those in the crisis country, none for a home crisis."},
                "response_count": {"type": "integer", "minimum": 0, "description": "Every response linked to the crisis; `GET /crises/{id}` lists them."},
                "first_responses": {"type": "array", "items": {"$ref": "#/components/schemas/CrisisResponse"}, "description": "Each answering mission's first response, fastest first."},
                "first_response_latency_seconds": {"type": ["integer", "null"]},
                "no_response": {"type": "boolean", "description": "No response within the configured time after the first signal; never set for a home crisis."},
                "home": {"type": "boolean", "description": "A crisis in Indonesia itself (country ID): headquarters' own, answered by no mission."}
            }
        },
        "CrisisList": {
            "type": "object",
            "required": ["crises"],
            "properties": {"crises": {"type": "array", "items": {"$ref": "#/components/schemas/CrisisSummary"}}}
        },
        "CrisisDetail": {
            "allOf": [{"$ref": "#/components/schemas/CrisisSummary"}],
            "type": "object",
            "required": ["evidence", "responses", "hazard_events", "timeline"],
            "properties": {
                "responses": {"type": "array", "description": "Every response, oldest first.", "items": {"$ref": "#/components/schemas/CrisisResponse"}},
                "evidence": {"type": "array", "description": "Every signal the crisis counted, and why.", "items": {"type": "object", "required": ["item_id", "at", "source", "title", "kind", "qualifies", "reason"], "properties": {
                    "item_id": {"type": "string"},
                    "at": time,
                    "source": {"type": "string"},
                    "title": {"type": "string"},
                    "kind": {"type": "string"},
                    "qualifies": {"type": "boolean"},
                    "reason": {"type": "string"},
                    "hazard_event_id": {"type": "string"}
                }}},
                "hazard_events": {"type": "array", "items": {"type": "string"}},
                "timeline": {"type": "array", "items": {"type": "object", "required": ["at", "type", "item_id", "title"], "properties": {
                    "at": time,
                    "type": {"type": "string", "enum": ["signal", "response"]},
                    "item_id": {"type": "string"},
                    "title": {"type": "string"},
                    "since_first_signal_seconds": {"type": "integer"}
                }}}
            }
        },
        "ResponseLatencyReport": {
            "type": "object",
            "required": ["since", "days", "crises", "missions"],
            "properties": {
                "since": time,
                "days": {"type": "integer"},
                "crises": {"type": "integer", "minimum": 0},
                "missions": {"type": "array", "items": {"type": "object", "required": ["mission", "country_code", "crises", "answered", "no_response"], "properties": {
                    "mission": {"type": "string"},
                    "country_code": {"type": "string"},
                    "crises": {"type": "integer", "minimum": 0},
                    "answered": {"type": "integer", "minimum": 0},
                    "no_response": {"type": "integer", "minimum": 0},
                    "median_latency_seconds": {"type": ["integer", "null"]},
                    "fastest_latency_seconds": {"type": ["integer", "null"]},
                    "slowest_latency_seconds": {"type": ["integer", "null"]},
                    "answer_rate": {"type": "number", "minimum": 0, "maximum": 1}
                }}}
            }
        }
    })
}

/// Alert rules and the alert history. The rule schema says exactly what `NewRule::from_json`
/// accepts, so a schema-invalid rule is refused (400).
fn alert_schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let country = json!({"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2."});
    let region = json!({"type": ["string", "null"], "enum": [
        "southeast_asia", "east_asia", "south_asia", "central_asia", "oceania",
        "middle_east", "africa", "europe", "americas", "other", null
    ]});
    let count = |max: u32, description: &str| json!({"type": "integer", "minimum": 1, "maximum": max, "description": description});
    let common = json!({
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "remind_every_hours": {"type": ["integer", "null"], "minimum": 1, "maximum": 2160, "description": "Remind this often while the condition holds."},
        "channels": {"type": "array", "items": {"type": "string", "enum": ["console", "file", "webhook", "telegram", "slack", "sns"]}, "description": "Every configured channel when empty or absent."}
    });
    let variant = |kind: &str, own: Value, required: &[&str]| {
        let mut properties = common.clone();
        if let (Some(all), Value::Object(more)) = (properties.as_object_mut(), own) {
            all.extend(more);
        }
        properties["kind"] = json!({"const": kind});
        let mut needed = vec!["name", "kind"];
        needed.extend_from_slice(required);
        json!({"type": "object", "additionalProperties": false, "required": needed, "properties": properties})
    };
    let new_rule = json!({"oneOf": [
        variant("crisis_opened", json!({
            "country": country,
            "region": region,
            "crisis_kind": {"type": ["string", "null"], "enum": [
                "earthquake", "tsunami", "flood", "landslide", "cyclone", "volcano", "wildfire",
                "heatwave", "drought", "war", "unrest", "coup", "attack", "security", "accident",
                "epidemic", "other", null
            ]},
            "min_severity": {"type": ["string", "null"], "enum": ["watch", "warning", "severe", null]}
        }), &[]),
        variant("crisis_no_response", json!({
            "after_hours": count(2160, "Hours after the first signal."),
            "country": country,
            "region": region
        }), &["after_hours"]),
        variant("mission_silent", json!({
            "days": count(365, "Days without an official publication."),
            "country": country,
            "region": region
        }), &["days"]),
        variant("source_unhealthy", json!({
            "cycles": count(1000, "Failed scrape cycles in a row.")
        }), &["cycles"]),
        variant("hq_record_unmatched", json!({
            "after_days": count(365, "Days after the record's date.")
        }), &["after_days"])
    ]});
    let rule = json!({
        "type": "object",
        "required": ["id", "name", "kind", "channels", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["crisis_opened", "crisis_no_response", "mission_silent", "source_unhealthy", "hq_record_unmatched"]},
            "channels": {"type": "array", "items": {"type": "string"}},
            "remind_every_hours": {"type": "integer"},
            "created_at": time
        }
    });
    let subject = json!({
        "type": "object",
        "required": ["subject", "link", "text_id", "text_en", "facts"],
        "properties": {
            "subject": {"type": "string", "description": "crisis:ID, mission:ID, source:OWNER/SOURCE or hq:ID"},
            "link": {"type": "string", "description": "Its dashboard page."},
            "text_id": {"type": "string", "description": "The evidence in Indonesian."},
            "text_en": {"type": "string", "description": "The evidence in English."},
            "facts": {"type": "object"}
        }
    });
    let delivery = json!({
        "type": "object",
        "required": ["channel", "status", "attempts"],
        "properties": {
            "channel": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "delivered"]},
            "attempts": {"type": "integer", "minimum": 0},
            "delivered_at": {"type": ["string", "null"]},
            "next_attempt_at": {"type": ["string", "null"]},
            "last_error": {"type": ["string", "null"]}
        }
    });
    json!({
        "NewAlertRule": new_rule,
        "AlertRule": rule,
        "AlertRuleList": {
            "type": "object",
            "required": ["rules"],
            "properties": {"rules": {"type": "array", "items": {"$ref": "#/components/schemas/AlertRule"}}}
        },
        "AlertHistory": {
            "type": "object",
            "required": ["alerts"],
            "properties": {"alerts": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "rule_id", "rule_name", "rule_kind", "event", "created_at", "title_id", "title_en", "subjects", "deliveries"],
                "properties": {
                    "id": {"type": "string"},
                    "rule_id": {"type": "string"},
                    "rule_name": {"type": "string"},
                    "rule_kind": {"type": "string"},
                    "event": {"type": "string", "enum": ["fired", "reminder", "resolved"]},
                    "created_at": time,
                    "region": {"type": ["string", "null"]},
                    "title_id": {"type": "string"},
                    "title_en": {"type": "string"},
                    "subjects": {"type": "array", "items": subject},
                    "deliveries": {"type": "array", "items": delivery}
                }
            }}}
        }
    })
}

/// `POST /hq-records`: a CSV, JSON or .xlsx file in the body.
fn hq_import_operation() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    json!({
        "operationId": "importHqRecords",
        "summary": "Import headquarters records from a CSV, JSON or .xlsx body (columns: docs/hq-records.md). Re-importing never duplicates; bad rows are reported with row and column while the good rows land.",
        "parameters": [
            {"name": "kind", "in": "query", "required": false,
             "description": "The kind of rows without a kind column (default activity_report).",
             "schema": {"type": "string", "enum": ["activity_report", "citizen_case", "crisis_instruction"]}},
            {"name": "name", "in": "query", "required": false,
             "description": "A name for the file, kept with its records as `imported_from`.",
             "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
        ],
        "requestBody": {
            "required": true,
            "description": "At most 5 MB; larger files go under hq/ in the bucket or through `pantau hq import`.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"oneOf": [
                    {"type": "array", "items": {"type": "object"}},
                    {"type": "object", "properties": {"records": {"type": "array", "items": {"type": "object"}}}}
                ]}},
                (crate::hq::import::XLSX_CONTENT_TYPE): {"schema": {"type": "string", "format": "binary"}}
            }
        },
        "responses": {
            "200": {"description": "Imported; the report counts rows read, imported, updated, unchanged and rejected (with row, column and reason).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HqImportReport"}}}},
            "400": problem("A parameter is malformed; `parameter` names it."),
            "401": problem("No `x-api-key`, or one that is unknown or revoked."),
            "413": problem("The body is larger than 5 MB."),
            "415": problem("The Content-Type is not CSV, JSON or .xlsx."),
            "422": problem("The file cannot be read, or lacks a required column (`missing` lists them)."),
            "500": problem("Internal error (logged, not shown).")
        }
    })
}

/// Headquarters' records, imports, the matching report and the crisis timeline.
fn hq_schemas() -> Value {
    let text_or_null = json!({"type": ["string", "null"]});
    let day = json!({"type": "string", "format": "date"});
    let time = json!({"type": "string", "format": "date-time"});
    let kind = json!({"type": "string", "enum": ["activity_report", "citizen_case", "crisis_instruction"]});
    json!({
        "HqRecord": {
            "type": "object",
            "required": ["id", "kind", "mission", "country_code", "date", "title", "figures"],
            "properties": {
                "id": {"type": "string"},
                "kind": kind,
                "mission": text_or_null,
                "country_code": {"type": "string"},
                "date": day,
                "title": {"type": "string"},
                "summary": text_or_null,
                "category": text_or_null,
                "reference": text_or_null,
                "figures": {"type": "object", "description": "Counts of people by what happened to them: evacuated, assisted, detained, repatriated, deceased, injured.",
                            "additionalProperties": {"type": "integer", "minimum": 0}}
            }
        },
        "HqRecordList": {
            "type": "object",
            "required": ["from", "to", "records", "truncated"],
            "properties": {
                "from": day, "to": day,
                "records": {"type": "array", "items": {"$ref": "#/components/schemas/HqRecord"}},
                "truncated": {"type": "boolean"}
            }
        },
        "HqImportReport": {
            "type": "object",
            "required": ["source", "format", "encoding", "rows_read", "imported", "updated", "unchanged", "rejected", "rejections"],
            "properties": {
                "source": {"type": "string"},
                "format": {"type": "string", "enum": ["csv", "json", "xlsx"]},
                "encoding": {"type": "string"},
                "columns": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Each recognized header and the field it was read as."},
                "ignored_columns": {"type": "array", "items": {"type": "string"}},
                "rows_read": {"type": "integer", "minimum": 0},
                "imported": {"type": "integer", "minimum": 0},
                "updated": {"type": "integer", "minimum": 0},
                "unchanged": {"type": "integer", "minimum": 0},
                "rejected": {"type": "integer", "minimum": 0},
                "rejections": {"type": "array", "description": "The first 200.", "items": {"type": "object", "required": ["row", "reason"], "properties": {
                    "row": {"type": "integer", "description": "As a spreadsheet numbers it (the header is row 1)."},
                    "column": text_or_null,
                    "reason": {"type": "string"}
                }}}
            }
        },
        "HqPublication": {
            "type": "object",
            "required": ["item_id", "mission", "published_at", "day", "title"],
            "properties": {
                "item_id": {"type": "string"}, "mission": {"type": "string"},
                "published_at": time, "day": day, "title": {"type": "string"},
                "url": text_or_null, "language": text_or_null
            }
        },
        "HqRecordRef": {
            "type": "object",
            "required": ["id", "kind", "date", "title"],
            "properties": {"id": {"type": "string"}, "mission": text_or_null, "kind": kind, "date": day, "title": {"type": "string"}, "reference": text_or_null}
        },
        "HqMatchingReport": {
            "type": "object",
            "required": ["from", "to", "window_days", "records", "publications", "matched", "match_rate", "missions", "matches", "unmatched_records", "unmatched_publications", "figure_disagreements"],
            "properties": {
                "from": day, "to": day,
                "window_days": {"type": "integer"},
                "records": {"type": "integer", "minimum": 0},
                "publications": {"type": "integer", "minimum": 0},
                "matched": {"type": "integer", "minimum": 0},
                "match_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "missions": {"type": "array", "items": {"type": "object", "required": ["mission", "records", "publications", "matched", "match_rate", "unmatched_records", "unmatched_publications", "figure_disagreements", "truncated"], "properties": {
                    "mission": {"type": "string"},
                    "records": {"type": "integer"}, "publications": {"type": "integer"}, "matched": {"type": "integer"},
                    "match_rate": {"type": ["number", "null"]},
                    "unmatched_records": {"type": "integer"}, "unmatched_publications": {"type": "integer"},
                    "figure_disagreements": {"type": "integer"}, "truncated": {"type": "boolean"}
                }}},
                "matches": {"type": "array", "items": {"type": "object", "required": ["record", "publication", "score", "reasons"], "properties": {
                    "record": {"$ref": "#/components/schemas/HqRecordRef"},
                    "publication": {"$ref": "#/components/schemas/HqPublication"},
                    "score": {"type": "number"},
                    "reasons": {"type": "array", "items": {"type": "string"}}
                }}},
                "unmatched_records": {"type": "array", "items": {"$ref": "#/components/schemas/HqRecordRef"}},
                "unmatched_publications": {"type": "array", "items": {"$ref": "#/components/schemas/HqPublication"}},
                "figure_disagreements": {"type": "array", "items": {"type": "object", "required": ["mission", "record_id", "item_id", "kind", "recorded", "published", "published_text"], "properties": {
                    "mission": {"type": "string"}, "record_id": {"type": "string"}, "item_id": {"type": "string"},
                    "kind": {"type": "string"}, "recorded": {"type": "integer"}, "published": {"type": "integer"},
                    "published_text": {"type": "string"}, "record_title": {"type": "string"},
                    "publication_title": {"type": "string"}, "publication_url": text_or_null
                }}}
            }
        },
        "HqTimeline": {
            "type": "object",
            "required": ["country_code", "from", "to", "instructions", "responses", "timeline"],
            "properties": {
                "country_code": {"type": "string"}, "from": day, "to": day,
                "instructions": {"type": "integer"}, "responses": {"type": "integer"},
                "timeline": {"type": "array", "items": {"type": "object", "required": ["type", "at", "title"], "properties": {
                    "type": {"type": "string", "enum": ["instruction", "publication"]},
                    "at": time, "title": {"type": "string"},
                    "record_id": {"type": "string"}, "item_id": {"type": "string"},
                    "mission": text_or_null, "responds_to": text_or_null,
                    "score": {"type": ["number", "null"]},
                    "since_instruction_seconds": {"type": ["integer", "null"]}
                }}}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::params::{DEFAULT_LIMIT, MAX_LIMIT};
    use super::*;

    #[test]
    fn parameter_schemas_parse_and_limit_matches_the_code() {
        for op in OPERATIONS {
            for p in op.params {
                assert!(
                    serde_json::from_str::<Value>(p.schema).is_ok(),
                    "{} {}",
                    op.path,
                    p.name
                );
            }
        }
        let limit: Value = serde_json::from_str(const_format_limit()).unwrap();
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["default"], DEFAULT_LIMIT);
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{name} is referenced but not defined"
            );
        }
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["apiKey"]["name"],
            "x-api-key"
        );
    }
}
