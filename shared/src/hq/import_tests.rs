//! Import on a real SQLite table: the column schema in both languages, re-import, bad rows,
//! encodings, JSON, .xlsx, broken and huge files.

use std::io::{Read, Write};

use super::*;
use crate::hq::{FigureKind, mission_records};
use crate::store::sqlite::SqliteTable;

struct Setup {
    _dir: tempfile::TempDir,
    table: SqliteTable,
    registry: Registry,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let table = SqliteTable::open(&dir.path().join("t.sqlite")).unwrap();
    Setup {
        _dir: dir,
        table,
        registry: Registry::load_default().unwrap(),
    }
}

fn ctx<'a>(s: &'a Setup, source: &str) -> ImportContext<'a> {
    ImportContext {
        table: &s.table,
        registry: &s.registry,
        default_kind: RecordKind::ActivityReport,
        source: source.into(),
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const INDONESIAN_CSV: &str = "\
Jenis;Perwakilan;Tanggal;Judul;Ringkasan;Nomor;WNI Dievakuasi;WNI Dibantu;Kolom Lain
laporan kegiatan;KBRI Kuala Lumpur;05/03/2026;Layanan paspor keliling;Di Penang;LK-01/2026;;350;x
kasus WNI;tokyo;2026-03-12;Kebakaran apartemen;\"Empat WNI; dibantu\";;;4;
kasus WNI;Atlantis;2026-03-12;Misi tak dikenal;;;;;
laporan kegiatan;khartoum;32/13/2026;Tanggal rusak;;;;;
kasus WNI;khartoum;8 Maret 2026;Evakuasi ke Port Sudan;;K-7;120;banyak;
kasus WNI;khartoum;8 Maret 2026;Evakuasi ke Port Sudan;;K-8;1.200;;
";

#[tokio::test]
async fn indonesian_headers_bad_rows_and_reimport() {
    let s = setup();
    let report = import_bytes(
        &ctx(&s, "maret.csv"),
        Format::Csv,
        INDONESIAN_CSV.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(report.rows_read, 6, "{report:#?}");
    assert_eq!(report.imported, 3);
    assert_eq!(report.rejected, 3);
    assert_eq!(report.ignored_columns, vec!["Kolom Lain".to_string()]);
    let at = |row: u64| report.rejections.iter().find(|r| r.row == row).unwrap();
    assert_eq!(at(4).column.as_deref(), Some("Perwakilan"));
    assert!(at(4).reason.contains("Atlantis"), "{:?}", at(4));
    assert_eq!(at(5).column.as_deref(), Some("Tanggal"));
    assert!(at(5).reason.contains("32/13/2026"));
    assert_eq!(at(6).column.as_deref(), Some("WNI Dibantu"));

    let (kl, _) = mission_records(
        &s.table,
        "kualalumpur",
        day("2026-03-01"),
        day("2026-03-31"),
    )
    .await
    .unwrap();
    assert_eq!(kl.len(), 1);
    assert_eq!(kl[0].date, day("2026-03-05"), "day first");
    assert_eq!(kl[0].reference.as_deref(), Some("LK-01/2026"));
    assert_eq!(kl[0].figures.get(&FigureKind::Assisted), Some(&350));
    let (khartoum, _) = mission_records(&s.table, "khartoum", day("2026-03-08"), day("2026-03-08"))
        .await
        .unwrap();
    assert_eq!(khartoum.len(), 1);
    assert_eq!(khartoum[0].figures.get(&FigureKind::Evacuated), Some(&1200));
    assert_eq!(khartoum[0].kind, RecordKind::CitizenCase);

    // The same file again: nothing new, nothing duplicated.
    let again = import_bytes(
        &ctx(&s, "maret.csv"),
        Format::Csv,
        INDONESIAN_CSV.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!((again.imported, again.unchanged, again.rejected), (0, 3, 3));
    let (kl, _) = mission_records(
        &s.table,
        "kualalumpur",
        day("2026-03-01"),
        day("2026-03-31"),
    )
    .await
    .unwrap();
    assert_eq!(kl.len(), 1);
}

#[tokio::test]
async fn english_headers_json_and_json_lines() {
    let s = setup();
    let json = r#"[
        {"mission": "riyadh", "date": "2026-03-14", "title": "Repatriation of migrant workers",
         "type": "citizen case", "citizens repatriated": 30, "reference": "R-30"},
        {"mission": "riyadh", "date": "not a date", "title": "Broken"},
        42
    ]"#;
    let report = import_bytes(&ctx(&s, "a.json"), Format::Json, json.as_bytes())
        .await
        .unwrap();
    assert_eq!((report.imported, report.rejected), (1, 2), "{report:#?}");
    assert_eq!(report.rejections[0].row, 2);
    assert_eq!(report.rejections[0].column.as_deref(), Some("date"));
    assert_eq!(report.rejections[1].row, 3);

    let lines = "{\"country\": \"SD\", \"tanggal\": \"2026-03-06\", \"judul\": \"Siapkan rencana kontinjensi\", \"jenis\": \"instruksi krisis\"}\n\
                 {\"country\": \"SD\", \"tanggal\": \"2026-03-06\", \"judul\": \"Laporan tanpa perwakilan\"}\n";
    let report = import_bytes(&ctx(&s, "b.jsonl"), Format::Json, lines.as_bytes())
        .await
        .unwrap();
    assert_eq!((report.imported, report.rejected), (1, 1), "{report:#?}");
    assert!(report.rejections[0].reason.contains("needs a mission"));
    let (sd, _) = crate::hq::country_records(&s.table, "SD", day("2026-03-06"), day("2026-03-06"))
        .await
        .unwrap();
    assert_eq!(sd.len(), 1);
    assert_eq!(sd[0].kind, RecordKind::CrisisInstruction);
    assert_eq!(sd[0].mission, None);
}

#[tokio::test]
async fn latin1_and_utf16_files_are_read() {
    let s = setup();
    // Windows-1252 / Latin-1: `é` is the single byte 0xE9.
    let mut latin1 = b"mission,date,title\ntokyo,2026-03-02,Kunjungan ke caf".to_vec();
    latin1.push(0xE9);
    latin1.extend_from_slice(b" Indonesia\n");
    let report = import_bytes(&ctx(&s, "latin1.csv"), Format::Csv, &latin1)
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
    assert!(
        report.encoding.contains("windows-1252 (1 cells)"),
        "{}",
        report.encoding
    );
    let (found, _) = mission_records(&s.table, "tokyo", day("2026-03-02"), day("2026-03-02"))
        .await
        .unwrap();
    assert_eq!(found[0].title, "Kunjungan ke café Indonesia");

    // UTF-16LE with its byte order mark, tab-separated (Excel's "Unicode text").
    let text = "perwakilan\ttanggal\tjudul\nlondon\t2026-03-09\tPromosi kopi – Türkiye\n";
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let report = import_bytes(&ctx(&s, "utf16.csv"), Format::Csv, &utf16)
        .await
        .unwrap();
    assert_eq!((report.imported, report.rejected), (1, 0), "{report:#?}");
    assert_eq!(report.encoding, "utf-16le");
    let (found, _) = mission_records(&s.table, "london", day("2026-03-09"), day("2026-03-09"))
        .await
        .unwrap();
    assert_eq!(found[0].title, "Promosi kopi – Türkiye");
}

#[tokio::test]
async fn files_without_the_needed_columns_or_unreadable_are_refused_whole() {
    let s = setup();
    let err = import_bytes(
        &ctx(&s, "x.csv"),
        Format::Csv,
        b"nama,alamat\nBudi,Jakarta\n",
    )
    .await
    .unwrap_err();
    match &err {
        ImportError::MissingColumns { missing, found, .. } => {
            assert_eq!(missing.len(), 3, "{missing:?}");
            assert_eq!(found, &["nama", "alamat"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("date (tanggal)"));
    assert!(!err.is_retryable());
    // An empty file, binary junk, junk JSON, a zip that is no workbook: errors, no panic.
    for (format, body) in [
        (Format::Csv, &b""[..]),
        (Format::Csv, &b"\x00\x01\x02\xff\xfe"[..]),
        (Format::Json, &b"{\"a\": "[..]),
        (Format::Json, &b"\"text\""[..]),
        (Format::Xlsx, &b"PK\x03\x04 not really"[..]),
        (Format::Xlsx, &b""[..]),
    ] {
        assert!(
            import_bytes(&ctx(&s, "junk"), format, body).await.is_err(),
            "{format:?} {body:?}"
        );
    }
}

/// A minimal .xlsx: one sheet, inline strings, a date as an Excel serial number.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, value) in row.iter().enumerate() {
            let cell = format!("{}{}", (b'A' + c as u8) as char, r + 1);
            if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                sheet.push_str(&format!("<c r=\"{cell}\"><v>{value}</v></c>"));
            } else {
                sheet.push_str(&format!(
                    "<c r=\"{cell}\" t=\"inlineStr\"><is><t>{value}</t></is></c>"
                ));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Catatan" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in files {
            zip.start_file(name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

#[tokio::test]
async fn an_excel_workbook_is_read_with_serial_dates() {
    let s = setup();
    // 46086 is 2026-03-05 in Excel's day numbering.
    let book = xlsx(&[
        &["Mission", "Date", "Title", "Citizens assisted", "Reference"],
        &[
            "KBRI Kuala Lumpur",
            "46086",
            "Mobile passport service",
            "350",
            "LK-01",
        ],
        &[
            "kualalumpur",
            "2026-03-06",
            "=HYPERLINK(&quot;http://x&quot;)",
            "",
            "",
        ],
        &["kualalumpur", "kemarin lusa", "Broken date", "", ""],
    ]);
    let report = import_bytes(&ctx(&s, "book.xlsx"), Format::Xlsx, &book)
        .await
        .unwrap();
    assert_eq!((report.imported, report.rejected), (2, 1), "{report:#?}");
    assert_eq!(report.rejections[0].row, 4);
    assert_eq!(report.rejections[0].column.as_deref(), Some("Date"));
    let (found, _) = mission_records(
        &s.table,
        "kualalumpur",
        day("2026-03-05"),
        day("2026-03-06"),
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].date, day("2026-03-05"));
    assert_eq!(found[0].figures.get(&FigureKind::Assisted), Some(&350));
    // Stored as text; neutralized where it is exported (api::csv).
    assert!(found[1].title.starts_with("=HYPERLINK"));
}

#[test]
fn a_workbook_inflating_past_the_limit_is_refused_before_reading() {
    let book = xlsx(&[&["mission", "date", "title"], &["tokyo", "2026-03-01", "x"]]);
    assert!(check_inflated_size("b.xlsx", &book, MAX_XLSX_INFLATED_BYTES).is_ok());
    match check_inflated_size("b.xlsx", &book, 100) {
        Err(ImportError::TooLarge { size, limit, .. }) => assert!(size > limit),
        other => panic!("{other:?}"),
    }
}

#[test]
fn days_and_counts_as_headquarters_writes_them() {
    for (text, want) in [
        ("2026-03-05", "2026-03-05"),
        ("05/03/2026", "2026-03-05"),
        ("5-3-2026", "2026-03-05"),
        ("5 Maret 2026", "2026-03-05"),
        ("Kamis, 5 Maret 2026", "2026-03-05"),
        ("5 March 2026", "2026-03-05"),
        ("46086", "2026-03-05"),
        ("2026-03-05T10:00:00+07:00", "2026-03-05"),
    ] {
        assert_eq!(
            parse_day(text, Some("Asia/Jakarta")),
            Some(day(want)),
            "{text}"
        );
    }
    for bad in [
        "32/13/2026",
        "kemarin lusa",
        "",
        "0",
        "1.5e9",
        "2026-02-30",
        "5 Maret 1850",
    ] {
        assert_eq!(parse_day(bad, None), None, "{bad}");
    }
    assert_eq!(parse_count("1.200"), Some(1200));
    assert_eq!(parse_count("1,200"), Some(1200));
    assert_eq!(parse_count("120"), Some(120));
    assert_eq!(parse_count("120.0"), Some(120));
    for bad in ["-3", "banyak", "1.5", "12,50", "", "99999999999"] {
        assert_eq!(parse_count(bad), None, "{bad}");
    }
}

/// Makes `bytes` of CSV rows on the fly, so the test never holds the file.
struct GeneratedCsv {
    remaining: u64,
    row: u64,
    pending: Vec<u8>,
}

impl GeneratedCsv {
    fn new(bytes: u64) -> GeneratedCsv {
        GeneratedCsv {
            remaining: bytes,
            row: 0,
            pending: b"perwakilan,tanggal,judul,ringkasan,nomor,wni dibantu\n".to_vec(),
        }
    }
}

impl Read for GeneratedCsv {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() && self.remaining > 0 {
            self.row += 1;
            let n = self.row;
            // Every 1000th row has a broken date: rejected, reported, the rest lands.
            let date = if n.is_multiple_of(1000) {
                "2026-13-40".to_owned()
            } else {
                format!("2026-03-{:02}", 1 + n % 28)
            };
            self.pending = format!(
                "tokyo,{date},Layanan konsuler ke-{n},\"Pelayanan paspor dan legalisasi dokumen bagi WNI, sesi {n}\",REF-{n},{}\n",
                n % 50
            )
            .into_bytes();
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn import_generated(bytes: u64) -> (ImportReport, u64) {
    let s = setup();
    let started = std::time::Instant::now();
    let report = import_reader(
        &ctx(&s, "generated.csv"),
        Box::new(GeneratedCsv::new(bytes)),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    println!(
        "{} bytes: {} rows read, {} imported, {} rejected in {:.1}s; peak RSS {:?} KiB",
        bytes,
        report.rows_read,
        report.imported,
        report.rejected,
        elapsed.as_secs_f64(),
        peak_rss_kib()
    );
    let rows = report.rows_read;
    (report, rows)
}

#[tokio::test]
async fn a_generated_file_is_streamed_with_a_capped_report() {
    let (report, rows) = import_generated(200_000).await;
    assert!(rows > 1500, "{rows}");
    assert_eq!(report.rejected, rows / 1000);
    assert_eq!(report.imported + report.rejected, rows);
    assert!(
        report
            .rejections
            .iter()
            .all(|r| r.column.as_deref() == Some("tanggal"))
    );
}

/// The 50 MB file of issue 8: `make hq-big` (about 380,000 rows; minutes on the embedded
/// store). Checks the report and that memory did not grow with the file.
#[tokio::test]
#[ignore = "50 MB import: run with `make hq-big`"]
async fn a_50_mb_file_imports_in_bounded_memory() {
    let before = peak_rss_kib().unwrap_or(0);
    let (report, rows) = import_generated(50 * 1024 * 1024).await;
    let after = peak_rss_kib().unwrap_or(0);
    assert_eq!(report.imported + report.rejected, rows);
    assert_eq!(
        report.rejections.len(),
        MAX_REJECTIONS_LISTED.min(report.rejected as usize)
    );
    // The file is 50 MB; the import holds one batch of rows at a time.
    assert!(
        after.saturating_sub(before) < 40 * 1024,
        "peak RSS grew by {} KiB",
        after.saturating_sub(before)
    );
}
