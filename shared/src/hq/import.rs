//! Reading headquarters' files into records: CSV, JSON and Excel (.xlsx), one column schema.
//!
//! A file is a header row and data rows (JSON: objects whose keys are the headers). Headers
//! are matched after folding (case, accents, punctuation and spaces do not matter), in English
//! or Indonesian; `docs/hq-records.md` lists them:
//!
//! | field      | headers                                                                  |
//! |------------|--------------------------------------------------------------------------|
//! | kind       | `kind`, `type`, `record type`, `jenis`, `tipe`                           |
//! | mission    | `mission`, `mission id`, `perwakilan`, `misi`                            |
//! | country    | `country`, `country code`, `negara`, `kode negara`                      |
//! | date       | `date`, `tanggal`, `tgl`                                                 |
//! | title      | `title`, `subject`, `judul`, `perihal`                                   |
//! | summary    | `summary`, `description`, `ringkasan`, `uraian`, `keterangan`, `isi`     |
//! | category   | `category`, `kategori`                                                   |
//! | reference  | `reference`, `ref`, `reference number`, `nomor`, `referensi`, `nomor surat`, `no` |
//! | figures    | any header with a figure word: `evacuated`/`dievakuasi`, `assisted`/`dibantu`, `detained`/`ditahan`, `repatriated`/`dipulangkan`, `deceased`/`meninggal`, `injured`/`luka` |
//!
//! A file needs a date, a title or summary, and a mission or country column; without them it
//! is refused whole ([`ImportError::MissingColumns`]). A row that is wrong (unknown mission,
//! broken date, a figure that is not a whole number) is rejected with its row number and
//! column, and the other rows still land. CSV is streamed (bounded memory whatever the file
//! size); cells that are not UTF-8 are read as Windows-1252 (Latin-1's superset), and a file
//! starting with a UTF-16 byte order mark is decoded as UTF-16.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use chrono::{Duration, NaiveDate};
use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use serde::Serialize;
use serde_json::Value;

use super::{FigureKind, Figures, HqRecord, RecordKind, Stored, record_id, store_records};
use crate::model::Mission;
use crate::registry::Registry;
use crate::store::{Table, TableError};

/// The file formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    /// From a Content-Type (`text/csv; charset=utf-8`, `application/json`, the xlsx type).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" | "text/plain" => Some(Format::Csv),
            "application/json" | "application/x-ndjson" | "application/jsonl" => Some(Format::Json),
            XLSX_CONTENT_TYPE => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// From a file name's extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Why a file could not be imported at all (row problems are [`Rejection`]s instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{source_name}: not a CSV, JSON or .xlsx file ({detail})")]
    UnknownFormat { source_name: String, detail: String },
    #[error(
        "{source_name}: missing column(s) {}; found {}",
        missing.join(", "),
        if found.is_empty() { "none".to_string() } else { found.join(", ") }
    )]
    MissingColumns {
        source_name: String,
        missing: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error("{source_name}: unreadable {format:?} file: {detail}")]
    Unreadable {
        source_name: String,
        format: Format,
        detail: String,
    },
    #[error("{source_name}: {size} bytes is more than the {limit} bytes read for this format")]
    TooLarge {
        source_name: String,
        size: u64,
        limit: u64,
    },
    #[error("{source_name}: storing records failed: {error}")]
    Table {
        source_name: String,
        error: TableError,
    },
}

impl ImportError {
    /// Only a table failure may go away by itself.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ImportError::Table { error, .. } if error.is_retryable())
    }
}

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// 1-based, counting the header as row 1 (as a spreadsheet shows it); JSON: the object's
    /// position, from 1.
    pub row: u64,
    /// The header as the file wrote it; None when the row as a whole is wrong.
    pub column: Option<String>,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub format: Format,
    /// `utf-8`, `utf-16le`, `utf-16be`, or `utf-8 + windows-1252 (N cells)`.
    pub encoding: String,
    /// The field each recognized header was read as.
    pub columns: Vec<(String, String)>,
    /// Headers that matched no field (ignored).
    pub ignored_columns: Vec<String>,
    pub rows_read: u64,
    /// New records.
    pub imported: u64,
    /// Records already there whose content changed (same reference, corrected row).
    pub updated: u64,
    /// Records already there, identical.
    pub unchanged: u64,
    pub rejected: u64,
    /// The first [`MAX_REJECTIONS_LISTED`] rejections.
    pub rejections: Vec<Rejection>,
}

/// A huge broken file must not make a huge report.
pub const MAX_REJECTIONS_LISTED: usize = 200;
/// Longest cell kept (a record is one table item, at most 400 KB).
pub const MAX_CELL_CHARS: usize = 20_000;
/// JSON and .xlsx are read whole; larger files must come as CSV, which is streamed.
pub const MAX_WHOLE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The fields of the column schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Kind,
    Mission,
    Country,
    Date,
    Title,
    Summary,
    Category,
    Reference,
    Figure(FigureKind),
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::Mission => "mission",
            Field::Country => "country",
            Field::Date => "date",
            Field::Title => "title",
            Field::Summary => "summary",
            Field::Category => "category",
            Field::Reference => "reference",
            Field::Figure(k) => k.as_str(),
        }
    }

    /// The field a header names, after folding (`Tanggal Kegiatan` → date).
    fn of_header(header: &str) -> Option<Field> {
        let words = crate::lexicon::words(header);
        let joined = words.join(" ");
        const EXACT: &[(&str, Field)] = &[
            ("kind", Field::Kind),
            ("type", Field::Kind),
            ("record type", Field::Kind),
            ("jenis", Field::Kind),
            ("jenis catatan", Field::Kind),
            ("tipe", Field::Kind),
            ("mission", Field::Mission),
            ("mission id", Field::Mission),
            ("perwakilan", Field::Mission),
            ("misi", Field::Mission),
            ("country", Field::Country),
            ("country code", Field::Country),
            ("negara", Field::Country),
            ("kode negara", Field::Country),
            ("date", Field::Date),
            ("tanggal", Field::Date),
            ("tgl", Field::Date),
            ("title", Field::Title),
            ("subject", Field::Title),
            ("judul", Field::Title),
            ("perihal", Field::Title),
            ("summary", Field::Summary),
            ("description", Field::Summary),
            ("ringkasan", Field::Summary),
            ("uraian", Field::Summary),
            ("keterangan", Field::Summary),
            ("isi", Field::Summary),
            ("category", Field::Category),
            ("kategori", Field::Category),
            ("reference", Field::Reference),
            ("ref", Field::Reference),
            ("reference number", Field::Reference),
            ("referensi", Field::Reference),
            ("nomor", Field::Reference),
            ("nomor surat", Field::Reference),
            ("no referensi", Field::Reference),
            ("no", Field::Reference),
        ];
        if let Some((_, field)) = EXACT.iter().find(|(h, _)| *h == joined) {
            return Some(*field);
        }
        // `Tanggal Kegiatan`, `Date of event`: the first word decides for dates and titles.
        match words.first().map(String::as_str) {
            Some("tanggal" | "date") => return Some(Field::Date),
            Some("judul" | "title") => return Some(Field::Title),
            _ => {}
        }
        words
            .iter()
            .find_map(|w| FigureKind::of_word(w))
            .map(Field::Figure)
    }
}

/// What an import needs besides the file.
pub struct ImportContext<'a> {
    pub table: &'a dyn Table,
    pub registry: &'a Registry,
    /// The kind of rows whose file has no kind column (or an empty cell).
    pub default_kind: RecordKind,
    /// Names the file in reports and in the records (`imported_from`).
    pub source: String,
}

/// Imports a file held in memory (an API body, a bucket object).
pub async fn import_bytes(
    ctx: &ImportContext<'_>,
    format: Format,
    body: &[u8],
) -> Result<ImportReport, ImportError> {
    match format {
        Format::Csv => import_reader(ctx, Box::new(Cursor::new(body.to_vec()))).await,
        Format::Json => {
            let rows = json_rows(&ctx.source, body)?;
            import_rows(ctx, Format::Json, "utf-8".into(), rows).await
        }
        Format::Xlsx => {
            let rows = xlsx_rows(&ctx.source, body)?;
            import_rows(ctx, Format::Xlsx, "utf-8".into(), rows).await
        }
    }
}

/// Imports a CSV stream: read, checked and stored a batch of rows at a time, so memory stays
/// bounded whatever its size. The delimiter (`,`, `;` or tab) is taken from the header line.
pub async fn import_reader(
    ctx: &ImportContext<'_>,
    mut reader: Box<dyn Read + Send>,
) -> Result<ImportReport, ImportError> {
    let unreadable = |detail: String| ImportError::Unreadable {
        source_name: ctx.source.clone(),
        format: Format::Csv,
        detail,
    };
    // Enough of the start to see a byte order mark and the header line.
    let mut head = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(unreadable(e.to_string())),
        }
    }
    head.truncate(filled);
    let utf16 = if head.starts_with(&[0xFF, 0xFE]) {
        Some(UTF_16LE)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some(UTF_16BE)
    } else {
        None
    };
    let (stream, mut encoding): (Box<dyn Read + Send>, String) = match utf16 {
        Some(enc) => {
            // UTF-16 files are rare exports; decoded whole (bounded) and read as UTF-8.
            let mut all = head;
            reader
                .take(MAX_WHOLE_FILE_BYTES)
                .read_to_end(&mut all)
                .map_err(|e| unreadable(e.to_string()))?;
            let (text, _, _) = enc.decode(&all);
            (
                Box::new(Cursor::new(text.into_owned().into_bytes())),
                enc.name().to_ascii_lowercase(),
            )
        }
        None => {
            let start = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            let head = head.split_off(start);
            (
                Box::new(Cursor::new(head).chain(reader)),
                "utf-8".to_owned(),
            )
        }
    };
    let mut peek = std::io::BufReader::new(stream);
    let delimiter = {
        use std::io::BufRead;
        let buf = peek.fill_buf().map_err(|e| unreadable(e.to_string()))?;
        sniff_delimiter(buf)
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(peek);
    let mut latin1_cells = 0u64;
    let mut decode = |bytes: &[u8]| -> String {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                latin1_cells += 1;
                WINDOWS_1252.decode(bytes).0.into_owned()
            }
        }
    };
    let mut records = csv.byte_records();
    let header: Vec<String> = match records.next() {
        Some(Ok(row)) => row.iter().map(&mut decode).collect(),
        Some(Err(e)) => return Err(unreadable(e.to_string())),
        None => Vec::new(),
    };
    let mut importer = Importer::new(ctx, Format::Csv, &header)?;
    let mut row_number = 1u64;
    let mut batch = Vec::with_capacity(BATCH);
    for row in records {
        row_number += 1;
        match row {
            Ok(row) => batch.push((row_number, row.iter().map(&mut decode).collect())),
            Err(e) => importer.reject(row_number, None, format!("unreadable row: {e}")),
        }
        if batch.len() == BATCH {
            importer.take(std::mem::take(&mut batch)).await?;
        }
    }
    importer.take(batch).await?;
    if latin1_cells > 0 {
        encoding = format!("{encoding} + windows-1252 ({latin1_cells} cells)");
    }
    Ok(importer.finish(encoding))
}

/// A file read whole: its header and its rows, each with its row number.
type RowsRead = (Vec<String>, Vec<(u64, Vec<String>)>);

/// Rows stored per step of a streamed import.
const BATCH: usize = 100;

async fn import_rows(
    ctx: &ImportContext<'_>,
    format: Format,
    encoding: String,
    (header, rows): RowsRead,
) -> Result<ImportReport, ImportError> {
    let mut importer = Importer::new(ctx, format, &header)?;
    for chunk in rows.chunks(BATCH) {
        importer.take(chunk.to_vec()).await?;
    }
    Ok(importer.finish(encoding))
}

/// `;` (spreadsheets in locales with a decimal comma), tab, or `,`: whichever the header
/// line holds most of outside quotes.
fn sniff_delimiter(start: &[u8]) -> u8 {
    let line_end = start
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(start.len());
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for &b in &start[..line_end] {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// The header and rows of a JSON file: an array of objects, `{"records": [...]}`, or one
/// object per line (JSON Lines).
fn json_rows(source: &str, body: &[u8]) -> Result<RowsRead, ImportError> {
    let unreadable = |detail: String| ImportError::Unreadable {
        source_name: source.to_owned(),
        format: Format::Json,
        detail,
    };
    if body.len() as u64 > MAX_WHOLE_FILE_BYTES {
        return Err(ImportError::TooLarge {
            source_name: source.to_owned(),
            size: body.len() as u64,
            limit: MAX_WHOLE_FILE_BYTES,
        });
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}');
    let values: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(values)) => values,
        Ok(Value::Object(mut object)) => match object.remove("records") {
            Some(Value::Array(values)) => values,
            _ => vec![Value::Object(object)],
        },
        Ok(_) => return Err(unreadable("expected an array of objects".into())),
        Err(whole) => {
            // JSON Lines: one object per line.
            let mut values = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => values.push(v),
                    Err(_) if n == 0 => return Err(unreadable(whole.to_string())),
                    Err(e) => values.push(Value::String(format!("unreadable line: {e}"))),
                }
            }
            values
        }
    };
    let mut header: Vec<String> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for value in &values {
        if let Value::Object(object) = value {
            for key in object.keys() {
                if !position.contains_key(key) {
                    position.insert(key.clone(), header.len());
                    header.push(key.clone());
                }
            }
        }
    }
    let mut rows = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let mut cells = vec![String::new(); header.len()];
        match value {
            Value::Object(object) => {
                for (key, v) in object {
                    if let Some(&at) = position.get(&key) {
                        cells[at] = match v {
                            Value::Null => String::new(),
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                    }
                }
            }
            // Marked unreadable: an empty row is rejected with its position.
            _ => cells.clear(),
        }
        rows.push((i as u64 + 1, cells));
    }
    Ok((header, rows))
}

/// The header and rows of an .xlsx workbook's first sheet. Dates come as Excel serial numbers
/// (the date parser reads them); formulas as their cached values, never as formulas.
fn xlsx_rows(source: &str, body: &[u8]) -> Result<RowsRead, ImportError> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = |detail: String| ImportError::Unreadable {
        source_name: source.to_owned(),
        format: Format::Xlsx,
        detail,
    };
    if body.len() as u64 > MAX_WHOLE_FILE_BYTES {
        return Err(ImportError::TooLarge {
            source_name: source.to_owned(),
            size: body.len() as u64,
            limit: MAX_WHOLE_FILE_BYTES,
        });
    }
    check_inflated_size(source, body, MAX_XLSX_INFLATED_BYTES)?;
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(body)).map_err(|e| unreadable(e.to_string()))?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| unreadable("the workbook has no sheet".into()))?;
    let range = workbook
        .worksheet_range(&first)
        .map_err(|e| unreadable(e.to_string()))?;
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(dt) => format!("{}", dt.as_f64()),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    // The range starts at the first used cell; row numbers count from the sheet's top.
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell).collect())
        .unwrap_or_default();
    let rows = rows
        .enumerate()
        .map(|(i, r)| (first_row + 1 + i as u64, r.iter().map(cell).collect()))
        .collect();
    Ok((header, rows))
}

/// The most an .xlsx's parts may declare they inflate to, together.
pub const MAX_XLSX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;

/// Refuses a workbook whose parts declare more than `limit` bytes inflated (a zip bomb), before
/// anything is inflated.
fn check_inflated_size(source: &str, body: &[u8], limit: u64) -> Result<(), ImportError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(body)).map_err(|e| ImportError::Unreadable {
            source_name: source.to_owned(),
            format: Format::Xlsx,
            detail: e.to_string(),
        })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        if let Ok(part) = archive.by_index_raw(i) {
            total = total.saturating_add(part.size());
        }
    }
    if total > limit {
        return Err(ImportError::TooLarge {
            source_name: source.to_owned(),
            size: total,
            limit,
        });
    }
    Ok(())
}

/// Turns rows into records and stores them, counting.
struct Importer<'a> {
    ctx: &'a ImportContext<'a>,
    columns: Vec<(usize, Field, String)>,
    report: ImportReport,
    missions: MissionIndex<'a>,
}

impl<'a> Importer<'a> {
    fn new(
        ctx: &'a ImportContext<'a>,
        format: Format,
        header: &[String],
    ) -> Result<Importer<'a>, ImportError> {
        let mut columns: Vec<(usize, Field, String)> = Vec::new();
        let mut ignored = Vec::new();
        for (i, h) in header.iter().enumerate() {
            match Field::of_header(h) {
                // The first column of a field wins; a second is ignored.
                Some(field) if !columns.iter().any(|(_, f, _)| *f == field) => {
                    columns.push((i, field, h.trim().to_owned()))
                }
                _ if h.trim().is_empty() => {}
                _ => ignored.push(h.trim().to_owned()),
            }
        }
        let has = |f: Field| columns.iter().any(|(_, c, _)| *c == f);
        let mut missing = Vec::new();
        if !has(Field::Date) {
            missing.push("date (tanggal)");
        }
        if !has(Field::Title) && !has(Field::Summary) {
            missing.push("title or summary (judul, ringkasan)");
        }
        if !has(Field::Mission) && !has(Field::Country) {
            missing.push("mission or country (perwakilan, negara)");
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns {
                source_name: ctx.source.clone(),
                missing,
                found: header
                    .iter()
                    .map(|h| h.trim().chars().take(60).collect())
                    .collect(),
            });
        }
        let report = ImportReport {
            source: ctx.source.clone(),
            format,
            encoding: String::new(),
            columns: columns
                .iter()
                .map(|(_, f, h)| (h.clone(), f.name().to_owned()))
                .collect(),
            ignored_columns: ignored,
            rows_read: 0,
            imported: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            rejections: Vec::new(),
        };
        Ok(Importer {
            ctx,
            columns,
            report,
            missions: MissionIndex::new(ctx.registry),
        })
    }

    fn reject(&mut self, row: u64, column: Option<String>, reason: String) {
        self.report.rows_read += 1;
        self.report.rejected += 1;
        if self.report.rejections.len() < MAX_REJECTIONS_LISTED {
            self.report.rejections.push(Rejection {
                row,
                column,
                reason,
            });
        }
    }

    async fn take(&mut self, rows: Vec<(u64, Vec<String>)>) -> Result<(), ImportError> {
        let mut records = Vec::with_capacity(rows.len());
        for (number, cells) in rows {
            if cells.iter().all(|c| c.trim().is_empty()) {
                if cells.is_empty() {
                    self.reject(number, None, "not an object with the file's columns".into());
                }
                // Blank spreadsheet lines are not rows.
                continue;
            }
            match self.record(&cells) {
                Ok(record) => {
                    self.report.rows_read += 1;
                    records.push(record);
                }
                Err((column, reason)) => self.reject(number, column, reason),
            }
        }
        let outcomes = store_records(self.ctx.table, &records, &self.ctx.source)
            .await
            .map_err(|error| ImportError::Table {
                source_name: self.ctx.source.clone(),
                error,
            })?;
        for stored in outcomes {
            match stored {
                Stored::New => self.report.imported += 1,
                Stored::Updated => self.report.updated += 1,
                Stored::Unchanged => self.report.unchanged += 1,
            }
        }
        Ok(())
    }

    fn finish(mut self, encoding: String) -> ImportReport {
        self.report.encoding = encoding;
        self.report
    }

    /// One row as a record, or the column at fault and why.
    fn record(&self, cells: &[String]) -> Result<HqRecord, (Option<String>, String)> {
        let cell = |field: Field| -> Option<(&str, &str)> {
            let (i, _, header) = self.columns.iter().find(|(_, f, _)| *f == field)?;
            let value = cells.get(*i).map(|c| c.trim()).unwrap_or("");
            (!value.is_empty()).then_some((value, header.as_str()))
        };
        let fault = |header: &str, reason: String| (Some(header.to_owned()), reason);
        for (i, _, header) in &self.columns {
            if cells
                .get(*i)
                .is_some_and(|c| c.chars().count() > MAX_CELL_CHARS)
            {
                return Err(fault(
                    header,
                    format!("longer than {MAX_CELL_CHARS} characters"),
                ));
            }
        }
        let kind = match cell(Field::Kind) {
            Some((v, h)) => RecordKind::parse(v).ok_or_else(|| {
                fault(
                    h,
                    format!(
                        "`{}` is not a record kind (activity report, citizen case, crisis instruction)",
                        short(v)
                    ),
                )
            })?,
            None => self.ctx.default_kind,
        };
        let mission: Option<&Mission> = match cell(Field::Mission) {
            Some((v, h)) => Some(
                self.missions
                    .resolve(v)
                    .ok_or_else(|| fault(h, format!("unknown mission `{}`", short(v))))?,
            ),
            None => None,
        };
        let country_code = match (mission, cell(Field::Country)) {
            (Some(m), _) => m.country_code.clone(),
            (None, Some((v, h))) => self
                .missions
                .country(v)
                .ok_or_else(|| fault(h, format!("unknown country `{}`", short(v))))?,
            (None, None) => {
                return Err((
                    None,
                    "no mission (and no country for an instruction)".into(),
                ));
            }
        };
        if mission.is_none() && kind != RecordKind::CrisisInstruction {
            let header = self
                .columns
                .iter()
                .find(|(_, f, _)| *f == Field::Mission)
                .map_or("mission".to_owned(), |c| c.2.clone());
            return Err((
                Some(header),
                format!("a {} needs a mission", kind.as_str().replace('_', " ")),
            ));
        }
        let date = match cell(Field::Date) {
            Some((v, h)) => {
                parse_day(v, mission.map(|m| m.time_zone.as_str())).ok_or_else(|| {
                    fault(
                        h,
                        format!("`{}` is not a date (write YYYY-MM-DD)", short(v)),
                    )
                })?
            }
            None => {
                let header = self
                    .columns
                    .iter()
                    .find(|(_, f, _)| *f == Field::Date)
                    .map_or("date".to_owned(), |c| c.2.clone());
                return Err((Some(header), "empty date".into()));
            }
        };
        let summary = cell(Field::Summary).map(|(v, _)| v.to_owned());
        let title = match (cell(Field::Title), &summary) {
            (Some((v, _)), _) => v.to_owned(),
            (None, Some(s)) => s.chars().take(160).collect(),
            (None, None) => return Err((None, "no title and no summary".into())),
        };
        let mut figures = Figures::new();
        for (i, field, header) in &self.columns {
            let Field::Figure(kind) = field else { continue };
            let value = cells.get(*i).map(|c| c.trim()).unwrap_or("");
            if value.is_empty() {
                continue;
            }
            let count = parse_count(value).ok_or_else(|| {
                fault(
                    header,
                    format!("`{}` is not a whole number of people", short(value)),
                )
            })?;
            figures.insert(*kind, count);
        }
        let mut record = HqRecord {
            id: String::new(),
            kind,
            mission: mission.map(|m| m.id.clone()),
            country_code,
            date,
            title,
            summary,
            category: cell(Field::Category).map(|(v, _)| v.to_owned()),
            reference: cell(Field::Reference).map(|(v, _)| v.to_owned()),
            figures,
        };
        record.id = record_id(&record);
        Ok(record)
    }
}

/// A cell quoted in a reason, cut short.
fn short(value: &str) -> String {
    let cut: String = value.chars().take(60).collect();
    if cut.len() < value.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Missions by id, by name (`KBRI Tokyo`) and by city when only one mission is there.
struct MissionIndex<'a> {
    by_name: HashMap<String, Option<&'a Mission>>,
    countries: HashMap<String, String>,
}

impl<'a> MissionIndex<'a> {
    fn new(registry: &'a Registry) -> MissionIndex<'a> {
        let mut by_name: HashMap<String, Option<&Mission>> = HashMap::new();
        let mut countries = HashMap::new();
        for m in &registry.missions {
            if m.country_code.len() != 2 {
                continue; // pseudo-owners (`pusat`, `global`)
            }
            let folded = |s: &str| crate::lexicon::words(s).join(" ");
            by_name.insert(folded(&m.id), Some(m));
            by_name.insert(folded(&m.display_name()), Some(m));
            // A city with two missions (rare) names neither.
            by_name
                .entry(folded(&m.city))
                .and_modify(|e| {
                    if e.is_some_and(|x| x.id != m.id) {
                        *e = None
                    }
                })
                .or_insert(Some(m));
            countries.insert(folded(&m.country), m.country_code.clone());
            countries.insert(m.country_code.to_ascii_lowercase(), m.country_code.clone());
        }
        MissionIndex { by_name, countries }
    }

    fn resolve(&self, text: &str) -> Option<&'a Mission> {
        let folded = crate::lexicon::words(text).join(" ");
        self.by_name.get(&folded).copied().flatten()
    }

    fn country(&self, text: &str) -> Option<String> {
        let folded = crate::lexicon::words(text).join(" ");
        self.countries.get(&folded).cloned()
    }
}

/// A day as headquarters writes one: `2026-03-04`, `04/03/2026` (day first), `4 Maret 2026`,
/// `March 4, 2026`, a timestamp, or an Excel serial day number.
pub fn parse_day(text: &str, zone: Option<&str>) -> Option<NaiveDate> {
    let text = text.trim();
    let plausible = |d: NaiveDate| {
        use chrono::Datelike;
        (1990..=2100).contains(&d.year()).then_some(d)
    };
    // Excel stores days since 1899-12-30 (a fraction is the time of day).
    if let Ok(serial) = text.parse::<f64>() {
        if !(1.0..=100_000.0).contains(&serial) || text.len() > 20 {
            return None;
        }
        let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
        return plausible(base.checked_add_signed(Duration::days(serial.floor() as i64))?);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return plausible(d);
    }
    let zone = zone
        .and_then(crate::parse::date::zone)
        .unwrap_or(chrono_tz::UTC);
    let parsed = crate::parse::date::parse_date(text, zone)?;
    plausible(parsed.at.with_timezone(&zone).date_naive())
}

/// A count of people: `120`, `1.200` or `1,200` (thousands), `1 200`.
pub fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim();
    // Excel may give `120.0`.
    let t = t.strip_suffix(".0").unwrap_or(t);
    let grouped = t.contains(['.', ',', ' ', '\u{a0}']);
    let digits: String = t
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return None;
    }
    if grouped {
        // Every group after the first has three digits, or it is a decimal, not a count.
        let groups: Vec<&str> = t.split(['.', ',', ' ', '\u{a0}']).collect();
        if groups.iter().skip(1).any(|g| g.len() != 3) || groups[0].is_empty() {
            return None;
        }
    }
    digits.parse().ok()
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
