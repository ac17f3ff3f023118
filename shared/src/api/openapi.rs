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
    Item,
    Story,
    CountryMissions,
    CountryItems,
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
                "required": p.location == "path",
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
        paths.insert(
            path.into(),
            json!({"get": {
                "operationId": format!("dashboard{}", path.replace(['/', '.'], "_")),
                "summary": "The dashboard (page or asset; no key needed: it holds no data).",
                "security": [],
                "parameters": [],
                "responses": {"200": {
                    "description": "OK",
                    "content": {(media_type): {"schema": {"type": "string"}}}
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
    json!({
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
