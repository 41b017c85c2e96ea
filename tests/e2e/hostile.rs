//! Hostile spreadsheets posted to every upload path (bulk import, participant lists, the
//! ledger's import) of the real binary: a zip bomb, billion laughs, a million rows, 16,384
//! columns, a 10 MB cell, a truncated archive, an encrypted workbook and an `.xls` renamed
//! `.xlsx`. Each is answered 4xx with a message naming what is wrong, nothing is imported,
//! and the server's peak resident memory stays within 300 MB of its idle size (printed).

use crate::helpers::http::answer;
use serde_json::{Value, json};
use std::io::{Cursor, Write};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const TAIL: &str = "</sheetData></worksheet>";

/// A workbook whose one sheet is written by `sheet` (straight into the deflate stream, so
/// a sheet of hundreds of megabytes costs no memory here either).
fn workbook(sheet: impl FnOnce(&mut dyn Write)) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        z.start_file(name, o).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    sheet(&mut z);
    z.finish().unwrap().into_inner()
}

fn inline(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn header_row(w: &mut dyn Write) {
    write!(
        w,
        "{HEAD}<row r=\"1\">{}{}</row>",
        inline("A1", "title"),
        inline("B1", "summary")
    )
    .unwrap();
}

/// The corpus: (name, bytes, what the refusal must mention).
fn corpus() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    // 200 MB of rows inflating from a few hundred kilobytes
    let bomb = workbook(|w| {
        header_row(w);
        let row = format!("<row>{}</row>", inline("A2", &"炸".repeat(300)));
        let chunk = row.repeat(1000);
        let mut written = 0;
        while written < 200 << 20 {
            w.write_all(chunk.as_bytes()).unwrap();
            written += chunk.len();
        }
        w.write_all(TAIL.as_bytes()).unwrap();
    });
    let laughs = workbook(|w| {
        let mut dtd = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">"#);
        for i in 1..10 {
            let prev = format!("&lol{};", i - 1);
            dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">", prev.repeat(10)));
        }
        dtd.push_str("]>");
        write!(
            w,
            "{dtd}{}<row r=\"1\">{}</row>{TAIL}",
            &HEAD[HEAD.find("<worksheet").unwrap()..],
            inline("A1", "&lol9;")
        )
        .unwrap();
    });
    let million = workbook(|w| {
        header_row(w);
        // empty rows compress to almost nothing
        w.write_all("<row/>".repeat(999_999).as_bytes()).unwrap();
        write!(
            w,
            "<row r=\"1000001\">{}</row>{TAIL}",
            inline("A1000001", "last")
        )
        .unwrap();
    });
    let wide = workbook(|w| {
        w.write_all(HEAD.as_bytes()).unwrap();
        w.write_all(b"<row r=\"1\">").unwrap();
        for c in 0..16_384u32 {
            let mut col = String::new();
            let mut n = c + 1;
            while n > 0 {
                col.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
                n = (n - 1) / 26;
            }
            w.write_all(inline(&format!("{col}1"), "x").as_bytes())
                .unwrap();
        }
        write!(w, "</row>{TAIL}").unwrap();
    });
    let big_cell = workbook(|w| {
        header_row(w);
        write!(
            w,
            "<row r=\"2\">{}</row>{TAIL}",
            inline("A2", &"长".repeat((10 << 20) / 3))
        )
        .unwrap();
    });
    let good = workbook(|w| {
        header_row(w);
        write!(
            w,
            "<row r=\"2\">{}{}</row>{TAIL}",
            inline("A2", "高炉煤气余热发电"),
            inline("B2", "余热回收")
        )
        .unwrap();
    });
    let truncated = good[..good.len() * 2 / 3].to_vec();
    let mut encrypted = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    encrypted.extend(b"\0\0EncryptionInfo\0EncryptedPackage".repeat(64));
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend(b"\0\0W\0o\0r\0k\0b\0o\0o\0k\0".repeat(64));
    for (name, bytes) in [
        ("zip bomb", &bomb),
        ("a million rows", &million),
        ("16,384 columns", &wide),
        ("a 10 MB cell", &big_cell),
    ] {
        // small enough for every upload path, so the reader (not the body limit) refuses
        assert!(bytes.len() < 2 << 20, "{name}: {} bytes", bytes.len());
    }
    vec![
        ("zip bomb", bomb, "MB"),
        ("billion laughs", laughs, "DTD"),
        ("a million rows", million, "行"),
        ("16,384 columns", wide, "列"),
        ("a 10 MB cell", big_cell, "字符"),
        ("truncated archive", truncated, "损坏"),
        ("encrypted workbook", encrypted, "加密"),
        (".xls renamed .xlsx", xls, ".xls"),
    ]
}

/// Resident memory now and at its peak, kB (`/proc/<pid>/status`).
fn memory(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test]
async fn hostile_spreadsheets_are_refused_on_every_upload_path_within_bounded_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("SKIPPED hostile spreadsheets: no /proc to read the server's memory from");
        return;
    }
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = crate::crash::start(dir.path());
    let token = crate::crash::cli_token(dir.path());
    let client = crate::helpers::client_with(&token);
    let (s, ev) = answer(
        client.post(format!("{base}/api/v1/events")),
        Some(json!({"name": "对接会", "format": "fair", "date": "2026-04-25", "slot_count": 3, "table_count": 3})),
    )
    .await;
    assert_eq!(s, 201, "{ev}");
    let event = ev["id"].as_i64().unwrap();
    // warm up (first requests allocate caches), then take the idle size
    for _ in 0..3 {
        let _ = answer(client.get(format!("{base}/api/v1/results?limit=5")), None).await;
    }
    let (idle, _) = memory(server.pid());
    let paths = [
        format!("{base}/api/v1/import?kind=results"),
        format!("{base}/api/v1/events/{event}/participants:import"),
        format!("{base}/api/v1/ledger/import"),
    ];
    for (name, bytes, needle) in &corpus {
        for url in &paths {
            let r = client
                .post(url)
                .header("content-type", XLSX)
                .body(bytes.clone())
                .send()
                .await
                .expect("answered");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert!(
                (400..500).contains(&status),
                "{name} → {url}: {status} {body}"
            );
            let message = body["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(needle), "{name} → {url}: {message}");
        }
    }
    let (after, peak) = memory(server.pid());
    println!(
        "hostile spreadsheets: idle {} MB, peak {} MB (+{} MB), after {} MB, {} files × {} paths",
        idle / 1024,
        peak / 1024,
        peak.saturating_sub(idle) / 1024,
        after / 1024,
        corpus.len(),
        paths.len()
    );
    assert!(
        peak.saturating_sub(idle) < 300 * 1024,
        "peak {peak} kB against idle {idle} kB"
    );
    // nothing half-imported
    let (_, results) = answer(client.get(format!("{base}/api/v1/results")), None).await;
    assert_eq!(results["total"], 0, "{results}");
    let (_, parts) = answer(
        client.get(format!("{base}/api/v1/events/{event}/participants")),
        None,
    )
    .await;
    assert_eq!(parts["items"].as_array().map(Vec::len), Some(0), "{parts}");
    let (_, ledger) = answer(client.get(format!("{base}/api/v1/ledger")), None).await;
    assert_eq!(ledger["total"], 0, "{ledger}");
}
