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
}

/// One `GET` route.
#[derive(Debug)]
pub struct Operation {
    pub path: &'static str,
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
        id: "health",
        summary: "Whether the API and its table answer (no key needed).",
        needs_key: false,
        params: &[],
        answer: Answer::Json("Health"),
        handler: Handler::Health,
    },
    Operation {
        path: "/openapi.json",
        id: "openapi",
        summary: "This document (no key needed: it holds no data).",
        needs_key: false,
        params: &[],
        answer: Answer::Json("OpenApiDocument"),
        handler: Handler::OpenApi,
    },
    Operation {
        path: "/missions",
        id: "listMissions",
        summary: "Every registry mission with its sources and health.",
        needs_key: true,
        params: &[FORMAT],
        answer: Answer::JsonOrCsv("MissionList"),
        handler: Handler::Missions,
    },
    Operation {
        path: "/missions/{id}",
        id: "getMission",
        summary: "One mission, its sources and health.",
        needs_key: true,
        params: &[MISSION_ID],
        answer: Answer::Json("Mission"),
        handler: Handler::Mission,
    },
    Operation {
        path: "/missions/{id}/items",
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
        id: "getMissionActivity",
        summary: "A mission's items per day and role (publication dates, UTC) over the last days.",
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
        id: "listCountryMissions",
        summary: "The missions in one country, with their sources and health.",
        needs_key: true,
        params: &[COUNTRY_CODE, FORMAT],
        answer: Answer::JsonOrCsv("CountryMissionList"),
        handler: Handler::CountryMissions,
    },
    Operation {
        path: "/countries/{cc}/items",
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
        id: "reportSilentMissions",
        summary: "Missions with no official publication for `days`, longest silence first.",
        needs_key: true,
        params: &[DAYS, FORMAT],
        answer: Answer::JsonOrCsv("SilentMissionReport"),
        handler: Handler::SilentMissions,
    },
    Operation {
        path: "/reports/source-health",
        id: "reportSourceHealth",
        summary: "Every source: last success, consecutive failures, last error, whether unhealthy (unhealthy first).",
        needs_key: true,
        params: &[FORMAT],
        answer: Answer::JsonOrCsv("SourceHealthReport"),
        handler: Handler::SourceHealth,
    },
    Operation {
        path: "/crises",
        id: "listCrises",
        summary: "The crisis board: crises newest first, each with its responses, latencies and no-response flag.",
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
];

/// `limit`'s schema; kept beside `DEFAULT_LIMIT` and `MAX_LIMIT` by a test.
const fn const_format_limit() -> &'static str {
    r#"{"type":"integer","minimum":1,"maximum":200,"default":50}"#
}

/// Every path the router serves: `OPERATIONS` and the dashboard's `ASSETS`, the two lists
/// the router is built from.
pub fn paths() -> Vec<&'static str> {
    OPERATIONS
        .iter()
        .map(|o| o.path)
        .chain(crate::dashboard::ASSETS.iter().map(|a| a.0))
        .collect()
}

fn problem_responses(op: &Operation) -> Map<String, Value> {
    let mut out = Map::new();
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    if !op.params.is_empty() {
        out.insert(
            "400".into(),
            problem("A parameter is malformed; `parameter` names it."),
        );
    }
    if op.needs_key {
        out.insert(
            "401".into(),
            problem("No `x-api-key`, or one that is unknown or revoked."),
        );
    }
    if op.params.iter().any(|p| p.location == "path") {
        out.insert(
            "404".into(),
            problem("No such mission, item, story or country with missions."),
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
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.extend(problem_responses(op));
    let mut out = json!({
        "operationId": op.id,
        "summary": op.summary,
        "parameters": params,
        "responses": responses,
    });
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
        paths.insert(op.path.into(), json!({ "get": operation(op) }));
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
    for group in [activity_schemas(), crisis_schemas()] {
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
                "items_read": {"type": "integer", "minimum": 0},
                "truncated": {"type": "boolean", "description": "The read cap was reached: the oldest days may be missing items."}
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
            "required": ["id", "country_code", "kind", "state", "first_signal_at", "last_signal_at", "opened_by", "signals", "missions", "responses", "no_response", "home"],
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
                "responses": {"type": "array", "items": {"$ref": "#/components/schemas/CrisisResponse"}},
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
            "required": ["evidence", "hazard_events", "timeline"],
            "properties": {
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
