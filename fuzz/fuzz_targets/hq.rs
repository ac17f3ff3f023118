//! Headquarters files (CSV, JSON, .xlsx) on any bytes: the first byte picks the format. An
//! import must end in a report or an error value, never a panic; rows go to an in-memory table.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pantau::hq::RecordKind;
use pantau::hq::import::{Format, ImportContext, import_bytes};
use pantau::registry::Registry;
use pantau::store::sqlite::SqliteTable;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::load_default().expect("the bundled registry loads"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = [Format::Csv, Format::Json, Format::Xlsx][usize::from(selector % 3)];
    let table = SqliteTable::in_memory().expect("an in-memory table opens");
    let ctx = ImportContext {
        table: &table,
        registry: registry(),
        default_kind: RecordKind::ActivityReport,
        source: "fuzz".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let _ = runtime.block_on(import_bytes(&ctx, format, body));
});
