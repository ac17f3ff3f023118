//! Lists as CSV (RFC 4180): a header row, CRLF line ends, fields quoted when they hold a comma,
//! a quote or a line break, quotes doubled. Cells a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`: titles come from the
//! outside world and must not run in an analyst's spreadsheet.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8; header=present";

/// Header carrying a CSV page's `next_cursor` (the JSON form has it in the body).
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

/// One cell, neutralized and quoted as needed.
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// The whole document: `header` then `rows`, each line ending in CRLF.
pub fn document(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        let joined: Vec<String> = cells.collect();
        out.push_str(&joined.join(","));
        out.push_str("\r\n");
    };
    line(&mut header.iter().map(|h| cell(h)));
    for row in rows {
        line(&mut row.iter().map(|c| cell(c)));
    }
    out
}

/// A 200 response with the document, and the next page's cursor in a header when there is one.
pub fn response(
    header: &[&str],
    rows: &[Vec<String>],
    next_cursor: Option<&str>,
    filename: &str,
) -> Response {
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        document(header, rows),
    )
        .into_response();
    if let Some(value) = next_cursor.and_then(|c| HeaderValue::from_str(c).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(NEXT_CURSOR_HEADER), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_per_rfc_4180() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn formula_starts_are_neutralized() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+62 21"), "'+62 21");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn a_document_has_a_header_and_crlf_lines() {
        let doc = document(&["id", "title"], &[vec!["1".into(), "x, y".into()]]);
        assert_eq!(doc, "id,title\r\n1,\"x, y\"\r\n");
    }
}
