//! The table port's conformance suite: what every `Table` adapter must do, written once.
//!
//! Each case is `pub async fn case(t: &dyn Table)` and expects a fresh, empty table. The
//! expectations are DynamoDB's behaviour (conditions, byte-ordered sort keys, sparse indexes,
//! transactions that fail whole) plus the port's own promises (expired items are invisible,
//! both adapters refuse the same malformed requests). `table_conformance_cases!` lists every
//! case, so a test binary runs all of them on each adapter without repeating the list.

use std::collections::BTreeSet;

use pantau::store::table::{
    Condition, Cursor, Index, Item, Key, MAX_ITEM_BYTES, Page, Query, SortKeyRange, Table,
    TableError, TransactOp, Update, WriteOp, rules,
};
use serde_json::{Value, json};

/// Calls `$run! { case, case, ... }` with every case of this suite.
#[macro_export]
macro_rules! table_conformance_cases {
    ($run:ident) => {
        $run! {
            get_of_missing_item_is_none,
            put_get_round_trips_nested_values,
            put_absent_rejects_when_present,
            put_equals_compares_like_dynamodb,
            put_absent_or_below_keeps_the_greatest,
            put_present_requires_the_item,
            update_creates_when_absent,
            update_set_remove_add_returns_all_new,
            update_condition_failure_leaves_item_unchanged,
            update_refuses_key_attributes,
            delete_with_condition,
            query_primary_every_range_both_directions,
            query_primary_pages_with_cursor,
            query_gsi1_ties_and_sparse_membership,
            query_gsi2_ties_and_sparse_membership,
            query_gsi1_pages_with_cursor,
            query_gsi2_pages_with_cursor,
            query_refuses_bad_requests,
            batch_write_60_puts_then_60_deletes,
            batch_write_refuses_duplicate_keys,
            batch_get_answers_in_order_across_chunks,
            batch_get_some_answers_at_least_what_is_asked,
            transact_write_is_all_or_nothing,
            transact_write_refuses_over_100_ops_and_duplicates,
            ttl_expired_items_are_invisible,
            item_over_400_kb_is_refused,
            empty_key_is_refused,
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A JSON object literal as an item.
pub fn item(v: Value) -> Item {
    match v {
        Value::Object(m) => m,
        other => panic!("test item must be a JSON object, got {other}"),
    }
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["sk"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn keys_of(items: &[Item]) -> Vec<Key> {
    items
        .iter()
        .map(|i| Key::of(i).expect("query returned an item without a key"))
        .collect()
}

async fn put(t: &dyn Table, v: Value) {
    t.put(item(v), Condition::None).await.expect("put");
}

fn assert_condition_failed<T: std::fmt::Debug>(r: Result<T, TableError>, what: &str) {
    match r {
        Err(TableError::ConditionFailed { .. }) => {}
        other => panic!("{what}: expected ConditionFailed, got {other:?}"),
    }
}

fn assert_validation<T: std::fmt::Debug>(r: Result<T, TableError>, what: &str) {
    match r {
        Err(TableError::Validation(_)) => {}
        other => panic!("{what}: expected Validation, got {other:?}"),
    }
}

/// Reads a query page by page, checking each page's size, and returns the concatenation.
async fn all_pages(t: &dyn Table, query: Query) -> Vec<Item> {
    let limit = query.limit;
    let mut items = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..10_000 {
        let page: Page = t
            .query(query.clone().after(cursor.clone()))
            .await
            .expect("query page");
        if let Some(n) = limit {
            assert!(
                page.items.len() <= n,
                "page of {} over limit {n}",
                page.items.len()
            );
            // Only the last page may be short — or a page that hid expired items, which
            // this suite's paging data has none of.
            if page.cursor.is_some() {
                assert_eq!(page.items.len(), n, "a short page must be the last");
            }
        }
        items.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return items,
        }
    }
    panic!("query did not finish within 10000 pages");
}

/// `sorted` in byte order, reversed when `forward` is false.
fn ordered(mut sorted: Vec<String>, forward: bool) -> Vec<String> {
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if !forward {
        sorted.reverse();
    }
    sorted
}

fn no_duplicates(items: &[Item], what: &str) {
    let keys = keys_of(items);
    let distinct: BTreeSet<&Key> = keys.iter().collect();
    assert_eq!(
        distinct.len(),
        keys.len(),
        "{what}: duplicate items across pages"
    );
}

// ---------------------------------------------------------------------------------------------
// Get and put

pub async fn get_of_missing_item_is_none(t: &dyn Table) {
    assert_eq!(t.get(&key("nobody", "here")).await.expect("get"), None);
    // A near miss (same pk, other sk) is missing too.
    put(t, json!({"pk": "somebody", "sk": "a"})).await;
    assert_eq!(t.get(&key("somebody", "b")).await.expect("get"), None);
}

pub async fn put_get_round_trips_nested_values(t: &dyn Table) {
    let v = json!({
        "pk": "roundtrip", "sk": "Ω/1",
        "text": "Kedutaan Besar Republik Indonesia — 大使館 — سفارة 🇮🇩",
        "empty_text": "",
        "int": 42, "negative": -7, "zero": 0,
        "big": 9_007_199_254_740_993_i64,
        "float": 3.25, "small_float": -0.000_125,
        "yes": true, "no": false, "nothing": null,
        "list": [1, "two", [3.5, []], {"k": "v"}, null, true],
        "map": {"nested": {"deep": [{"x": 1}, {"y": "ü"}]}, "empty_list": [], "empty_map": {}},
    });
    put(t, v.clone()).await;
    let got = t.get(&key("roundtrip", "Ω/1")).await.expect("get");
    assert_eq!(got, Some(item(v.clone())));
    // Overwriting replaces the whole item (no merge).
    put(t, json!({"pk": "roundtrip", "sk": "Ω/1", "only": 1})).await;
    let got = t.get(&key("roundtrip", "Ω/1")).await.expect("get");
    assert_eq!(
        got,
        Some(item(json!({"pk": "roundtrip", "sk": "Ω/1", "only": 1})))
    );
}

pub async fn put_absent_rejects_when_present(t: &dyn Table) {
    let first = json!({"pk": "claim", "sk": "x", "owner": "first"});
    t.put(item(first.clone()), Condition::Absent)
        .await
        .expect("Absent passes when the item is absent");
    let second = item(json!({"pk": "claim", "sk": "x", "owner": "second"}));
    assert_condition_failed(t.put(second, Condition::Absent).await, "second claim");
    assert_eq!(
        t.get(&key("claim", "x")).await.expect("get"),
        Some(item(first))
    );
    // Another sort key in the same partition is a different item.
    t.put(item(json!({"pk": "claim", "sk": "y"})), Condition::Absent)
        .await
        .expect("Absent on a sibling key");
}

pub async fn put_equals_compares_like_dynamodb(t: &dyn Table) {
    let equals = |attr: &str, value: Value| Condition::Equals {
        attr: attr.into(),
        value,
    };
    // No item at all: Equals fails.
    assert_condition_failed(
        t.put(
            item(json!({"pk": "v", "sk": "1", "version": 1})),
            equals("version", json!(0)),
        )
        .await,
        "Equals on an absent item",
    );
    put(t, json!({"pk": "v", "sk": "1", "version": 1, "tag": "a"})).await;
    // Numbers compare by value: 1 == 1.0.
    t.put(
        item(json!({"pk": "v", "sk": "1", "version": 2, "tag": "b"})),
        equals("version", json!(1.0)),
    )
    .await
    .expect("1.0 equals 1");
    // A stale version fails and leaves the item alone.
    assert_condition_failed(
        t.put(
            item(json!({"pk": "v", "sk": "1", "version": 3})),
            equals("version", json!(1)),
        )
        .await,
        "stale version",
    );
    // A missing attribute never equals anything; a string never equals a number.
    assert_condition_failed(
        t.put(
            item(json!({"pk": "v", "sk": "1"})),
            equals("missing", json!(2)),
        )
        .await,
        "missing attribute",
    );
    assert_condition_failed(
        t.put(
            item(json!({"pk": "v", "sk": "1"})),
            equals("version", json!("2")),
        )
        .await,
        "string vs number",
    );
    let got = t.get(&key("v", "1")).await.expect("get").expect("item");
    assert_eq!(got["tag"], json!("b"));
    assert!(rules::same_value(&got["version"], &json!(2)));
    // Strings compare exactly.
    t.put(
        item(json!({"pk": "v", "sk": "1", "tag": "c"})),
        equals("tag", json!("b")),
    )
    .await
    .expect("string equals");
}

/// `AbsentOrBelow`: a put lands on an absent item or over a smaller string value only, so a
/// record keeps the greatest value whatever the order of the puts.
pub async fn put_absent_or_below_keeps_the_greatest(t: &dyn Table) {
    let below = |value: &str| Condition::AbsentOrBelow {
        attr: "latest".into(),
        value: value.into(),
    };
    let record = |value: &str| item(json!({"pk": "m", "sk": "1", "latest": value}));
    t.put(record("2025-03-02#b"), below("2025-03-02#b"))
        .await
        .expect("an absent item takes the put");
    t.put(record("2025-03-03#a"), below("2025-03-03#a"))
        .await
        .expect("a greater value replaces a smaller one");
    for smaller in ["2025-03-01#z", "2025-03-03#a", "2025-03-02#b"] {
        assert_condition_failed(
            t.put(record(smaller), below(smaller)).await,
            "a smaller or equal value",
        );
    }
    assert_eq!(
        t.get(&key("m", "1")).await.expect("get"),
        Some(record("2025-03-03#a"))
    );
    // An item without the attribute is not below anything.
    put(t, json!({"pk": "m", "sk": "2", "other": "a"})).await;
    assert_condition_failed(
        t.put(
            item(json!({"pk": "m", "sk": "2", "latest": "9"})),
            below("9"),
        )
        .await,
        "a missing attribute is not below",
    );
}

pub async fn put_present_requires_the_item(t: &dyn Table) {
    assert_condition_failed(
        t.put(item(json!({"pk": "p", "sk": "1"})), Condition::Present)
            .await,
        "Present on an absent item",
    );
    assert_eq!(t.get(&key("p", "1")).await.expect("get"), None);
    put(t, json!({"pk": "p", "sk": "1", "n": 1})).await;
    t.put(
        item(json!({"pk": "p", "sk": "1", "n": 2})),
        Condition::Present,
    )
    .await
    .expect("Present on a present item");
    assert_eq!(
        t.get(&key("p", "1")).await.expect("get").expect("item")["n"],
        json!(2)
    );
}

// ---------------------------------------------------------------------------------------------
// Update

fn set(v: Value) -> Update {
    Update {
        set: item(v),
        ..Update::default()
    }
}

pub async fn update_creates_when_absent(t: &dyn Table) {
    let update = Update {
        set: item(json!({"title": "Baru", "tags": ["a"]})),
        remove: vec!["not_there".into()],
        add: vec![("count".into(), 5)],
    };
    let new = t
        .update(&key("u", "new"), update, Condition::None)
        .await
        .expect("update of an absent item");
    let expected =
        item(json!({"pk": "u", "sk": "new", "title": "Baru", "tags": ["a"], "count": 5}));
    assert_eq!(new, expected);
    assert_eq!(t.get(&key("u", "new")).await.expect("get"), Some(expected));
    // Absent allows the creating update; Present refuses it and creates nothing.
    t.update(&key("u", "new2"), set(json!({"a": 1})), Condition::Absent)
        .await
        .expect("update with Absent on an absent item");
    assert_condition_failed(
        t.update(&key("u", "new3"), set(json!({"a": 1})), Condition::Present)
            .await,
        "Present on an absent item",
    );
    assert_eq!(t.get(&key("u", "new3")).await.expect("get"), None);
}

pub async fn update_set_remove_add_returns_all_new(t: &dyn Table) {
    put(
        t,
        json!({"pk": "u", "sk": "1", "a": "old", "b": 1, "n": 10, "keep": {"x": [1]}}),
    )
    .await;
    let update = Update {
        set: item(json!({"a": "new", "c": {"nested": true}})),
        remove: vec!["b".into()],
        add: vec![("n".into(), -3), ("fresh".into(), 2)],
    };
    let new = t
        .update(&key("u", "1"), update, Condition::Present)
        .await
        .expect("update");
    let expected = item(json!({
        "pk": "u", "sk": "1", "a": "new", "c": {"nested": true}, "n": 7, "fresh": 2, "keep": {"x": [1]}
    }));
    assert_eq!(new, expected, "ALL_NEW is the whole item after the update");
    assert_eq!(t.get(&key("u", "1")).await.expect("get"), Some(expected));
    // ADD to a string is refused.
    assert_validation(
        t.update(
            &key("u", "1"),
            Update {
                add: vec![("a".into(), 1)],
                ..Update::default()
            },
            Condition::None,
        )
        .await,
        "ADD to a string",
    );
}

pub async fn update_condition_failure_leaves_item_unchanged(t: &dyn Table) {
    let original = json!({"pk": "u", "sk": "2", "version": 3, "body": "v3"});
    put(t, original.clone()).await;
    let bump = || Update {
        set: item(json!({"body": "v4"})),
        add: vec![("version".into(), 1)],
        ..Update::default()
    };
    let stale = Condition::Equals {
        attr: "version".into(),
        value: json!(2),
    };
    assert_condition_failed(
        t.update(&key("u", "2"), bump(), stale).await,
        "stale update",
    );
    assert_condition_failed(
        t.update(&key("u", "2"), bump(), Condition::Absent).await,
        "Absent on a present item",
    );
    assert_eq!(
        t.get(&key("u", "2")).await.expect("get"),
        Some(item(original))
    );
    let current = Condition::Equals {
        attr: "version".into(),
        value: json!(3),
    };
    let new = t
        .update(&key("u", "2"), bump(), current)
        .await
        .expect("update at the current version");
    assert_eq!(new["version"], json!(4));
    assert_eq!(new["body"], json!("v4"));
}

pub async fn update_refuses_key_attributes(t: &dyn Table) {
    put(t, json!({"pk": "u", "sk": "3", "a": 1})).await;
    for update in [
        set(json!({"pk": "other"})),
        set(json!({"sk": "other"})),
        Update {
            remove: vec!["sk".into()],
            ..Update::default()
        },
        // The same attribute twice in one update (DynamoDB: overlapping paths).
        Update {
            set: item(json!({"a": 2})),
            remove: vec!["a".into()],
            ..Update::default()
        },
        // Index keys must stay non-empty strings.
        set(json!({"gsi1pk": 5})),
    ] {
        assert_validation(
            t.update(&key("u", "3"), update.clone(), Condition::None)
                .await,
            &format!("{update:?}"),
        );
    }
    assert_eq!(
        t.get(&key("u", "3")).await.expect("get"),
        Some(item(json!({"pk": "u", "sk": "3", "a": 1})))
    );
}

// ---------------------------------------------------------------------------------------------
// Delete

pub async fn delete_with_condition(t: &dyn Table) {
    t.delete(&key("d", "missing"), Condition::None)
        .await
        .expect("deleting a missing item is fine");
    assert_condition_failed(
        t.delete(&key("d", "missing"), Condition::Present).await,
        "Present delete of a missing item",
    );
    put(t, json!({"pk": "d", "sk": "1", "version": 2})).await;
    assert_condition_failed(
        t.delete(
            &key("d", "1"),
            Condition::Equals {
                attr: "version".into(),
                value: json!(1),
            },
        )
        .await,
        "stale delete",
    );
    assert!(t.get(&key("d", "1")).await.expect("get").is_some());
    t.delete(
        &key("d", "1"),
        Condition::Equals {
            attr: "version".into(),
            value: json!(2),
        },
    )
    .await
    .expect("delete at the current version");
    assert_eq!(t.get(&key("d", "1")).await.expect("get"), None);
    put(t, json!({"pk": "d", "sk": "2"})).await;
    t.delete(&key("d", "2"), Condition::Present)
        .await
        .expect("Present delete");
    assert_eq!(t.get(&key("d", "2")).await.expect("get"), None);
}

// ---------------------------------------------------------------------------------------------
// Query on the table's own key

/// Sort keys chosen so byte order differs from case-insensitive and from code-point-naive
/// orders: upper case before lower, `#` before letters, `~` before `é`.
const PRIMARY_SKS: [&str; 10] = ["a", "a#1", "a#2", "ab", "b", "B", "z", "~", "é", "éa"];

async fn put_primary_partition(t: &dyn Table) {
    let mut ops = Vec::new();
    for sk in PRIMARY_SKS {
        ops.push(WriteOp::Put(item(json!({"pk": "P", "sk": sk, "v": sk}))));
        // Neighbouring partitions must never leak in: another name, and a name P prefixes.
        ops.push(WriteOp::Put(item(json!({"pk": "Q", "sk": sk}))));
        ops.push(WriteOp::Put(item(json!({"pk": "PP", "sk": sk}))));
    }
    t.batch_write(ops).await.expect("batch_write");
}

pub async fn query_primary_every_range_both_directions(t: &dyn Table) {
    put_primary_partition(t).await;
    let s = |v: &str| v.to_owned();
    let ranges = [
        SortKeyRange::All,
        SortKeyRange::Eq(s("ab")),
        SortKeyRange::Eq(s("missing")),
        SortKeyRange::BeginsWith(s("a")),
        SortKeyRange::BeginsWith(s("a#")),
        SortKeyRange::BeginsWith(s("é")),
        SortKeyRange::Between(s("a#1"), s("b")),
        SortKeyRange::Between(s("a"), s("a")),
        SortKeyRange::Lt(s("ab")),
        SortKeyRange::Le(s("ab")),
        SortKeyRange::Gt(s("ab")),
        SortKeyRange::Ge(s("ab")),
        SortKeyRange::Lt(s("B")),
        SortKeyRange::Gt(s("éa")),
    ];
    for range in ranges {
        let expected: Vec<String> = PRIMARY_SKS
            .iter()
            .filter(|sk| rules::in_range(sk, &range))
            .map(|sk| sk.to_string())
            .collect();
        for forward in [true, false] {
            let mut q = Query::partition(Index::Primary, "P").range(range.clone());
            q.forward = forward;
            let page = t.query(q).await.expect("query");
            assert_eq!(page.cursor, None, "{range:?}: no limit, no cursor");
            assert_eq!(
                sks(&page.items),
                ordered(expected.clone(), forward),
                "{range:?} forward={forward}"
            );
            assert!(page.items.iter().all(|i| i["pk"] == json!("P")));
        }
    }
    // Spot checks that do not lean on `rules::in_range`.
    let q = Query::partition(Index::Primary, "P").range(SortKeyRange::BeginsWith(s("a")));
    assert_eq!(
        sks(&t.query(q).await.expect("query").items),
        ["a", "a#1", "a#2", "ab"]
    );
    let q = Query::partition(Index::Primary, "P").backward();
    let all = sks(&t.query(q).await.expect("query").items);
    assert_eq!(
        all,
        ["éa", "é", "~", "z", "b", "ab", "a#2", "a#1", "a", "B"]
    );
    // Whole items come back.
    let q = Query::partition(Index::Primary, "P").range(SortKeyRange::Eq(s("z")));
    let items = t.query(q).await.expect("query").items;
    assert_eq!(items, [item(json!({"pk": "P", "sk": "z", "v": "z"}))]);
}

pub async fn query_primary_pages_with_cursor(t: &dyn Table) {
    let all_sks: Vec<String> = (0..23).map(|i| format!("k{i:02}")).collect();
    let ops = all_sks
        .iter()
        .map(|sk| WriteOp::Put(item(json!({"pk": "pages", "sk": sk}))))
        .collect();
    t.batch_write(ops).await.expect("batch_write");
    put(t, json!({"pk": "pages-other", "sk": "k05"})).await;
    for range in [SortKeyRange::All, SortKeyRange::Ge("k05".into())] {
        let expected: Vec<String> = all_sks
            .iter()
            .filter(|sk| rules::in_range(sk, &range))
            .cloned()
            .collect();
        for forward in [true, false] {
            for limit in [1, 2, 5, 7, 18, 22, 23, 24, 1000] {
                let mut q = Query::partition(Index::Primary, "pages")
                    .range(range.clone())
                    .limit(limit);
                q.forward = forward;
                let items = all_pages(t, q).await;
                let what = format!("{range:?} forward={forward} limit={limit}");
                no_duplicates(&items, &what);
                assert_eq!(sks(&items), ordered(expected.clone(), forward), "{what}");
            }
        }
    }
    // A limited first page has exactly `limit` items and a cursor.
    let page = t
        .query(Query::partition(Index::Primary, "pages").limit(4))
        .await
        .expect("query");
    assert_eq!(sks(&page.items), ["k00", "k01", "k02", "k03"]);
    assert!(page.cursor.is_some());
}

// ---------------------------------------------------------------------------------------------
// Query on the global secondary indexes

/// Puts a GSI partition with ties in the index sort key, items outside it (sparse), and
/// returns the keys expected in partition `G` with their index sort keys.
async fn put_gsi_partition(t: &dyn Table, index: Index) -> Vec<(String, Key)> {
    let (ipk, isk) = index.key_names();
    let (other_pk, other_sk) = match index {
        Index::Gsi1 => Index::Gsi2.key_names(),
        _ => Index::Gsi1.key_names(),
    };
    let members = [
        ("2025-01-01", "ITEM#c", "CURRENT"),
        ("2025-01-01", "ITEM#a", "CURRENT"),
        ("2025-01-01", "ITEM#b", "V#1"),
        ("2025-01-01", "ITEM#b", "V#0"),
        ("2025-01-02", "ITEM#d", "CURRENT"),
        ("2025-01-02", "ITEM#a", "V#0"),
        ("2024-12-31", "ITEM#z", "CURRENT"),
        ("2025-01-03", "ITEM#e", "CURRENT"),
        ("2025-01-03T00:00:01", "ITEM#f", "CURRENT"),
    ];
    let mut ops = Vec::new();
    let mut expected = Vec::new();
    for (gsk, pk, sk) in members {
        let mut it = item(json!({"pk": pk, "sk": sk, ipk: "G", isk: gsk}));
        // Membership in one index says nothing about the other.
        it.insert(other_pk.into(), json!("ELSEWHERE"));
        it.insert(other_sk.into(), json!(gsk));
        ops.push(WriteOp::Put(it));
        expected.push((gsk.to_owned(), key(pk, sk)));
    }
    let outsiders = [
        // Only the index partition key: not in the index (sparse).
        json!({"pk": "ITEM#half", "sk": "CURRENT", ipk: "G"}),
        // Only the index sort key.
        json!({"pk": "ITEM#half2", "sk": "CURRENT", isk: "2025-01-01"}),
        // Neither.
        json!({"pk": "ITEM#none", "sk": "CURRENT"}),
        // The other index's keys with G's values.
        json!({"pk": "ITEM#other", "sk": "CURRENT", other_pk: "G", other_sk: "2025-01-01"}),
        // Another partition of this index; one whose name G prefixes.
        json!({"pk": "ITEM#h", "sk": "CURRENT", ipk: "H", isk: "2025-01-01"}),
        json!({"pk": "ITEM#gg", "sk": "CURRENT", ipk: "GG", isk: "2025-01-01"}),
    ];
    for o in outsiders {
        ops.push(WriteOp::Put(item(o)));
    }
    t.batch_write(ops).await.expect("batch_write");
    expected
}

fn gsi_sks(items: &[Item], index: Index) -> Vec<String> {
    let (_, isk) = index.key_names();
    items
        .iter()
        .map(|i| i[isk].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn key_set(keys: impl IntoIterator<Item = Key>) -> BTreeSet<Key> {
    keys.into_iter().collect()
}

async fn gsi_ties_and_sparse_membership(t: &dyn Table, index: Index) {
    let members = put_gsi_partition(t, index).await;
    let s = |v: &str| v.to_owned();
    let ranges = [
        SortKeyRange::All,
        SortKeyRange::Eq(s("2025-01-01")),
        SortKeyRange::BeginsWith(s("2025-01-0")),
        SortKeyRange::BeginsWith(s("2025-01-03")),
        SortKeyRange::Between(s("2025-01-01"), s("2025-01-02")),
        SortKeyRange::Lt(s("2025-01-02")),
        SortKeyRange::Le(s("2025-01-02")),
        SortKeyRange::Gt(s("2025-01-01")),
        SortKeyRange::Ge(s("2025-01-03")),
    ];
    for range in ranges {
        let expected: Vec<&(String, Key)> = members
            .iter()
            .filter(|(gsk, _)| rules::in_range(gsk, &range))
            .collect();
        for forward in [true, false] {
            let mut q = Query::partition(index, "G").range(range.clone());
            q.forward = forward;
            let page = t.query(q).await.expect("query");
            let what = format!("{index:?} {range:?} forward={forward}");
            // Ordered by the index sort key; the order within a tie is the backend's.
            let want_gsks = ordered(expected.iter().map(|(g, _)| g.clone()).collect(), forward);
            assert_eq!(gsi_sks(&page.items, index), want_gsks, "{what}");
            assert_eq!(
                key_set(keys_of(&page.items)),
                key_set(expected.iter().map(|(_, k)| k.clone())),
                "{what}: members"
            );
            assert_eq!(page.cursor, None, "{what}");
        }
    }
    // Items come back whole (projection ALL).
    let q = Query::partition(index, "G").range(SortKeyRange::Eq(s("2024-12-31")));
    let items = t.query(q).await.expect("query").items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["pk"], json!("ITEM#z"));
    assert_eq!(items[0].len(), 6, "all attributes: {:?}", items[0]);
    // Removing the index sort key takes an item out of the index; setting it puts it back.
    let (_, isk) = index.key_names();
    let out = Update {
        remove: vec![isk.into()],
        ..Update::default()
    };
    t.update(&key("ITEM#z", "CURRENT"), out, Condition::Present)
        .await
        .expect("update");
    let page = t.query(Query::partition(index, "G")).await.expect("query");
    assert_eq!(page.items.len(), members.len() - 1);
    t.update(
        &key("ITEM#half", "CURRENT"),
        set(json!({isk: "2030"})),
        Condition::Present,
    )
    .await
    .expect("update");
    let page = t
        .query(Query::partition(index, "G").backward().limit(1))
        .await
        .expect("query");
    assert_eq!(page.items[0]["pk"], json!("ITEM#half"));
}

pub async fn query_gsi1_ties_and_sparse_membership(t: &dyn Table) {
    gsi_ties_and_sparse_membership(t, Index::Gsi1).await;
}

pub async fn query_gsi2_ties_and_sparse_membership(t: &dyn Table) {
    gsi_ties_and_sparse_membership(t, Index::Gsi2).await;
}

async fn gsi_pages_with_cursor(t: &dyn Table, index: Index) {
    let members = put_gsi_partition(t, index).await;
    for range in [
        SortKeyRange::All,
        SortKeyRange::Between("2025-01-01".into(), "2025-01-02".into()),
    ] {
        for forward in [true, false] {
            let mut q = Query::partition(index, "G").range(range.clone());
            q.forward = forward;
            let whole = t.query(q.clone()).await.expect("query").items;
            let n = members
                .iter()
                .filter(|(g, _)| rules::in_range(g, &range))
                .count();
            assert_eq!(whole.len(), n);
            for limit in [1, 2, 3, 4, n, n + 1] {
                let items = all_pages(t, q.clone().limit(limit)).await;
                let what = format!("{index:?} {range:?} forward={forward} limit={limit}");
                no_duplicates(&items, &what);
                // Cursors resume inside a run of ties: pages concatenate to the one-shot result.
                assert_eq!(keys_of(&items), keys_of(&whole), "{what}");
            }
        }
    }
}

pub async fn query_gsi1_pages_with_cursor(t: &dyn Table) {
    gsi_pages_with_cursor(t, Index::Gsi1).await;
}

pub async fn query_gsi2_pages_with_cursor(t: &dyn Table) {
    gsi_pages_with_cursor(t, Index::Gsi2).await;
}

pub async fn query_refuses_bad_requests(t: &dyn Table) {
    put_primary_partition(t).await;
    assert_validation(
        t.query(Query::partition(Index::Primary, "P").limit(0))
            .await,
        "limit 0",
    );
    assert_validation(
        t.query(Query::partition(Index::Primary, "")).await,
        "empty partition",
    );
    assert_validation(
        t.query(
            Query::partition(Index::Primary, "P")
                .range(SortKeyRange::Between("b".into(), "a".into())),
        )
        .await,
        "BETWEEN out of order",
    );
    let page = t
        .query(Query::partition(Index::Primary, "P").limit(2))
        .await
        .expect("query");
    let cursor = page.cursor.expect("cursor");
    assert_validation(
        t.query(Query::partition(Index::Primary, "Q").after(Some(cursor.clone())))
            .await,
        "cursor of another partition",
    );
    assert_validation(
        t.query(Query::partition(Index::Gsi1, "P").after(Some(cursor)))
            .await,
        "cursor of another index",
    );
    assert_validation(
        t.query(Query::partition(Index::Primary, "P").after(Some(Cursor("%%%".into()))))
            .await,
        "garbage cursor",
    );
}

// ---------------------------------------------------------------------------------------------
// Batch and transactional writes

pub async fn batch_write_60_puts_then_60_deletes(t: &dyn Table) {
    let keys: Vec<Key> = (0..60).map(|i| key("batch", &format!("i{i:02}"))).collect();
    let puts = keys
        .iter()
        .map(|k| {
            WriteOp::Put(item(
                json!({"pk": k.pk, "sk": k.sk, "gsi1pk": "B", "gsi1sk": k.sk}),
            ))
        })
        .collect();
    t.batch_write(puts).await.expect("60 puts");
    let page = t
        .query(Query::partition(Index::Primary, "batch"))
        .await
        .expect("query");
    assert_eq!(keys_of(&page.items), keys);
    let page = t
        .query(Query::partition(Index::Gsi1, "B"))
        .await
        .expect("query");
    assert_eq!(page.items.len(), 60);
    let deletes = keys.iter().cloned().map(WriteOp::Delete).collect();
    t.batch_write(deletes).await.expect("60 deletes");
    let page = t
        .query(Query::partition(Index::Primary, "batch"))
        .await
        .expect("query");
    assert_eq!(page.items, Vec::<Item>::new());
    t.batch_write(Vec::new())
        .await
        .expect("an empty batch is fine");
}

pub async fn batch_get_answers_in_order_across_chunks(t: &dyn Table) {
    // 150 keys (two BatchGetItem requests on DynamoDB), every third missing, one asked twice,
    // one expired: answers in the order asked, None where nothing (live) is stored.
    let keys: Vec<Key> = (0..150).map(|i| key("bget", &format!("i{i:03}"))).collect();
    let puts = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(i, k)| WriteOp::Put(item(json!({"pk": k.pk, "sk": k.sk, "n": i}))))
        .collect();
    t.batch_write(puts).await.expect("puts");
    let expired = key("bget", "expired");
    t.put(
        item(json!({"pk": expired.pk, "sk": expired.sk, "expires_at": 1_000})),
        Condition::None,
    )
    .await
    .expect("expired put");
    let mut asked = keys.clone();
    asked.push(keys[1].clone());
    asked.push(expired);
    let got = t.batch_get(&asked).await.expect("batch_get");
    assert_eq!(got.len(), asked.len());
    for (i, answer) in got.iter().enumerate().take(150) {
        match answer {
            Some(found) => {
                assert!(i % 3 != 0, "key {i} was never written: {found:?}");
                assert_eq!(found.get("n"), Some(&json!(i)));
                assert_eq!(Key::of(found).expect("key"), keys[i]);
            }
            None => assert_eq!(i % 3, 0, "key {i} was written"),
        }
    }
    assert_eq!(got[150], got[1], "a key asked twice is answered twice");
    assert_eq!(got[151], None, "an expired item is gone");
    assert_eq!(t.batch_get(&[]).await.expect("no keys"), Vec::new());
}

pub async fn batch_get_some_answers_at_least_what_is_asked(t: &dyn Table) {
    // As `batch_get`, but an adapter may leave out the attributes not asked for: the ones asked
    // and the key are there, every attribute answered is as stored, in the order asked, None
    // where nothing live is stored.
    let a = item(json!({
        "pk": "bsome", "sk": "a", "title": "Gempa \"Iwate\"", "n": 1,
        "enrichment": {"topics": ["disaster.earthquake"], "text": "x".repeat(2_000)},
        "gsi1pk": "G", "gsi1sk": "2025-03-01",
    }));
    let b = item(json!({"pk": "bsome", "sk": "b", "title": "", "n": 2, "tags": ["a", "b"]}));
    for stored in [&a, &b] {
        t.put(stored.clone(), Condition::None).await.expect("put");
    }
    t.put(
        item(json!({"pk": "bsome", "sk": "expired", "title": "old", "expires_at": 1_000})),
        Condition::None,
    )
    .await
    .expect("expired put");
    const ASKED: &[&str] = &["title", "n", "tags", "never_stored"];
    let keys = [
        key("bsome", "a"),
        key("bsome", "missing"),
        key("bsome", "b"),
        key("bsome", "expired"),
        key("bsome", "a"),
    ];
    let got = t
        .batch_get_some(&keys, ASKED)
        .await
        .expect("batch_get_some");
    assert_eq!(got.len(), keys.len());
    for (answer, (asked, stored)) in got.iter().zip([
        (&keys[0], Some(&a)),
        (&keys[1], None),
        (&keys[2], Some(&b)),
        (&keys[3], None),
        (&keys[4], Some(&a)),
    ]) {
        let Some(stored) = stored else {
            assert_eq!(answer, &None, "{asked:?}: nothing live is stored");
            continue;
        };
        let answer = answer.as_ref().expect("a stored item is answered");
        assert_eq!(&Key::of(answer).expect("the key is answered"), asked);
        for name in ASKED {
            assert_eq!(answer.get(*name), stored.get(*name), "{asked:?}: `{name}`");
        }
        for (name, value) in answer {
            assert_eq!(
                Some(value),
                stored.get(name),
                "{asked:?}: `{name}` as stored"
            );
        }
    }
    assert_eq!(
        t.batch_get_some(&[], ASKED).await.expect("no keys"),
        Vec::new()
    );
}

pub async fn batch_write_refuses_duplicate_keys(t: &dyn Table) {
    let two_puts = vec![
        WriteOp::Put(item(json!({"pk": "dup", "sk": "fresh"}))),
        WriteOp::Put(item(json!({"pk": "dup", "sk": "1", "n": 1}))),
        WriteOp::Put(item(json!({"pk": "dup", "sk": "1", "n": 2}))),
    ];
    assert_validation(t.batch_write(two_puts).await, "two puts of one key");
    let put_and_delete = vec![
        WriteOp::Put(item(json!({"pk": "dup", "sk": "fresh"}))),
        WriteOp::Delete(key("dup", "1")),
        WriteOp::Put(item(json!({"pk": "dup", "sk": "1"}))),
    ];
    assert_validation(
        t.batch_write(put_and_delete).await,
        "put and delete of one key",
    );
    // Duplicates 30 apart (in different chunks of 25) are refused as well, before any write.
    let mut far_apart: Vec<WriteOp> = (0..30)
        .map(|i| WriteOp::Put(item(json!({"pk": "dup", "sk": format!("f{i}")}))))
        .collect();
    far_apart.push(WriteOp::Delete(key("dup", "f0")));
    assert_validation(
        t.batch_write(far_apart).await,
        "duplicates in different chunks",
    );
    assert_eq!(t.get(&key("dup", "fresh")).await.expect("get"), None);
    assert_eq!(t.get(&key("dup", "f1")).await.expect("get"), None);
    let page = t
        .query(Query::partition(Index::Primary, "dup"))
        .await
        .expect("query");
    assert!(page.items.is_empty(), "a refused batch writes nothing");
}

pub async fn transact_write_is_all_or_nothing(t: &dyn Table) {
    put(t, json!({"pk": "tx", "sk": "a", "version": 1})).await;
    put(t, json!({"pk": "tx", "sk": "c", "doomed": true})).await;
    let bump = |from: i64| TransactOp::Update {
        key: key("tx", "a"),
        update: Update {
            set: item(json!({"touched": true})),
            add: vec![("version".into(), 1)],
            ..Update::default()
        },
        condition: Condition::Equals {
            attr: "version".into(),
            value: json!(from),
        },
    };
    let ops = |check: Condition| {
        vec![
            TransactOp::Put {
                item: item(json!({"pk": "tx", "sk": "b", "new": true})),
                condition: Condition::Absent,
            },
            bump(1),
            TransactOp::Delete {
                key: key("tx", "c"),
                condition: Condition::Present,
            },
            TransactOp::Check {
                key: key("tx", "d"),
                condition: check,
            },
        ]
    };
    // The check on the absent `d` fails: nothing is written, and the reasons say which op.
    match t.transact_write(ops(Condition::Present)).await {
        Err(TableError::TransactionCanceled { reasons }) => assert_eq!(
            reasons,
            ["None", "None", "None", "ConditionalCheckFailed"],
            "one reason per operation"
        ),
        other => panic!("expected TransactionCanceled, got {other:?}"),
    }
    assert_eq!(t.get(&key("tx", "b")).await.expect("get"), None);
    assert_eq!(
        t.get(&key("tx", "a")).await.expect("get"),
        Some(item(json!({"pk": "tx", "sk": "a", "version": 1})))
    );
    assert!(t.get(&key("tx", "c")).await.expect("get").is_some());
    // Two failing conditions are both reported.
    let mut two_bad = ops(Condition::Present);
    two_bad[1] = bump(7);
    match t.transact_write(two_bad).await {
        Err(TableError::TransactionCanceled { reasons }) => assert_eq!(
            reasons,
            [
                "None",
                "ConditionalCheckFailed",
                "None",
                "ConditionalCheckFailed"
            ]
        ),
        other => panic!("expected TransactionCanceled, got {other:?}"),
    }
    // With the check satisfied, everything is written.
    t.transact_write(ops(Condition::Absent))
        .await
        .expect("transaction");
    assert_eq!(
        t.get(&key("tx", "b")).await.expect("get"),
        Some(item(json!({"pk": "tx", "sk": "b", "new": true})))
    );
    assert_eq!(
        t.get(&key("tx", "a")).await.expect("get"),
        Some(item(
            json!({"pk": "tx", "sk": "a", "version": 2, "touched": true})
        ))
    );
    assert_eq!(t.get(&key("tx", "c")).await.expect("get"), None);
    assert_eq!(
        t.get(&key("tx", "d")).await.expect("get"),
        None,
        "Check writes nothing"
    );
}

pub async fn transact_write_refuses_over_100_ops_and_duplicates(t: &dyn Table) {
    let puts = |n: usize| -> Vec<TransactOp> {
        (0..n)
            .map(|i| TransactOp::Put {
                item: item(json!({"pk": "many", "sk": format!("{i:03}")})),
                condition: Condition::None,
            })
            .collect()
    };
    assert_validation(t.transact_write(puts(101)).await, "101 operations");
    assert_eq!(t.get(&key("many", "000")).await.expect("get"), None);
    t.transact_write(puts(100)).await.expect("100 operations");
    let page = t
        .query(Query::partition(Index::Primary, "many"))
        .await
        .expect("query");
    assert_eq!(page.items.len(), 100);
    let dup = vec![
        TransactOp::Put {
            item: item(json!({"pk": "txdup", "sk": "1"})),
            condition: Condition::None,
        },
        TransactOp::Check {
            key: key("txdup", "1"),
            condition: Condition::None,
        },
    ];
    assert_validation(t.transact_write(dup).await, "two operations on one key");
    assert_eq!(t.get(&key("txdup", "1")).await.expect("get"), None);
    let empty_update = vec![TransactOp::Update {
        key: key("txdup", "2"),
        update: Update::default(),
        condition: Condition::None,
    }];
    assert_validation(t.transact_write(empty_update).await, "empty update");
}

// ---------------------------------------------------------------------------------------------
// TTL, limits, bad keys

pub async fn ttl_expired_items_are_invisible(t: &dyn Table) {
    let now = rules::now();
    put(
        t,
        json!({"pk": "ttl", "sk": "past", "expires_at": now - 60, "gsi1pk": "T", "gsi1sk": "1"}),
    )
    .await;
    put(
        t,
        json!({"pk": "ttl", "sk": "past-fraction", "expires_at": (now - 5) as f64 + 0.5}),
    )
    .await;
    put(t, json!({"pk": "ttl", "sk": "future", "expires_at": now + 3600, "gsi1pk": "T", "gsi1sk": "2"})).await;
    put(t, json!({"pk": "ttl", "sk": "forever"})).await;
    assert_eq!(t.get(&key("ttl", "past")).await.expect("get"), None);
    assert_eq!(
        t.get(&key("ttl", "past-fraction")).await.expect("get"),
        None
    );
    assert!(t.get(&key("ttl", "future")).await.expect("get").is_some());
    assert!(t.get(&key("ttl", "forever")).await.expect("get").is_some());
    let page = t
        .query(Query::partition(Index::Primary, "ttl"))
        .await
        .expect("query");
    assert_eq!(sks(&page.items), ["forever", "future"]);
    let page = t
        .query(Query::partition(Index::Gsi1, "T"))
        .await
        .expect("query");
    assert_eq!(sks(&page.items), ["future"]);
    let items = all_pages_allowing_short(t, Query::partition(Index::Primary, "ttl").limit(1)).await;
    assert_eq!(sks(&items), ["forever", "future"]);
    // Conditions see what reads see: an expired item is absent.
    assert_condition_failed(
        t.put(item(json!({"pk": "ttl", "sk": "past"})), Condition::Present)
            .await,
        "Present on an expired item",
    );
    t.put(
        item(json!({"pk": "ttl", "sk": "past", "again": true})),
        Condition::Absent,
    )
    .await
    .expect("Absent over an expired item");
    assert_eq!(
        t.get(&key("ttl", "past")).await.expect("get"),
        Some(item(json!({"pk": "ttl", "sk": "past", "again": true})))
    );
    // A non-number TTL is refused.
    assert_validation(
        t.put(
            item(json!({"pk": "ttl", "sk": "bad", "expires_at": "soon"})),
            Condition::None,
        )
        .await,
        "string TTL",
    );
}

/// Like `all_pages`, but pages may be short anywhere (expired items are filtered after the
/// read on DynamoDB, as its own filter expressions are).
async fn all_pages_allowing_short(t: &dyn Table, query: Query) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = t
            .query(query.clone().after(cursor))
            .await
            .expect("query page");
        items.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return items,
        }
    }
    panic!("query did not finish within 1000 pages");
}

pub async fn item_over_400_kb_is_refused(t: &dyn Table) {
    let big = "x".repeat(MAX_ITEM_BYTES + 1);
    assert_validation(
        t.put(
            item(json!({"pk": "big", "sk": "1", "body": big})),
            Condition::None,
        )
        .await,
        "put over 400 KB",
    );
    assert_validation(
        t.batch_write(vec![WriteOp::Put(item(
            json!({"pk": "big", "sk": "2", "body": big}),
        ))])
        .await,
        "batch put over 400 KB",
    );
    assert_eq!(t.get(&key("big", "1")).await.expect("get"), None);
    // A large item under the limit is fine. (Not right at the limit: moto refuses items
    // over 405,000 bytes, a little under DynamoDB's 409,600.)
    let fits = "x".repeat(390_000);
    put(t, json!({"pk": "big", "sk": "3", "body": fits})).await;
    let got = t.get(&key("big", "3")).await.expect("get").expect("item");
    assert_eq!(got["body"].as_str().map(str::len), Some(390_000));
}

pub async fn empty_key_is_refused(t: &dyn Table) {
    assert_validation(
        t.put(item(json!({"pk": "", "sk": "1"})), Condition::None)
            .await,
        "empty pk",
    );
    assert_validation(
        t.put(item(json!({"pk": "a", "sk": ""})), Condition::None)
            .await,
        "empty sk",
    );
    assert_validation(
        t.put(item(json!({"sk": "1"})), Condition::None).await,
        "no pk",
    );
    assert_validation(
        t.put(item(json!({"pk": 1, "sk": "1"})), Condition::None)
            .await,
        "number pk",
    );
    assert_validation(t.get(&key("", "1")).await, "get with empty pk");
    assert_validation(
        t.delete(&key("", "1"), Condition::None).await,
        "delete with empty pk",
    );
    assert_validation(
        t.update(&key("", "1"), set(json!({"a": 1})), Condition::None)
            .await,
        "update with empty pk",
    );
    assert_validation(
        t.batch_write(vec![WriteOp::Delete(key("", "1"))]).await,
        "batch delete with empty pk",
    );
    assert_validation(
        t.put(
            item(json!({"pk": "a", "sk": "1", "gsi1pk": ""})),
            Condition::None,
        )
        .await,
        "empty index key",
    );
}
