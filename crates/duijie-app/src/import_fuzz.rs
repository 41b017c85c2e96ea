//! Property tests of the import parsers: on any bytes they never panic, every line they
//! report is a line of the input, and well-formed lines come through whole.

use super::*;
use proptest::prelude::*;

/// Runs a parser to the end and collects what it sent.
fn collect(run: impl FnOnce(&mpsc::Sender<Msg>)) -> (Vec<Parsed>, bool) {
    let (tx, mut rx) = mpsc::channel::<Msg>(100_000);
    run(&tx);
    drop(tx);
    let mut items = Vec::new();
    let mut fatal = false;
    while let Ok(m) = rx.try_recv() {
        match m {
            Msg::Batch(b) => items.extend(b),
            Msg::Fatal(_) => fatal = true,
        }
    }
    (items, fatal)
}

/// A JSONL line: a record, or one of the ways a line goes wrong.
fn jsonl_line() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        ("[\\PC]{0,20}", "[\\PC]{0,40}").prop_map(|(t, s)| (
            serde_json::json!({"title": t, "summary": s}).to_string(),
            true
        )),
        "[\\PC]{0,60}".prop_map(|s| {
            let ok = matches!(
                serde_json::from_str::<Value>(s.trim().trim_start_matches('\u{feff}')),
                Ok(Value::Object(_))
            );
            (s, ok)
        }),
        Just(("[1, 2]".to_string(), false)),
        Just(("{\"title\": ".to_string(), false)),
        Just((String::new(), false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn jsonl_of_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), batch in 1usize..9) {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let (items, fatal) = collect(|tx| parse_jsonl(&bytes[..], batch, tx));
        prop_assert!(!fatal);
        let mut last = 0;
        for (line, _) in &items {
            prop_assert!(*line > last && *line <= lines, "line {} of {}", line, lines);
            last = *line;
        }
    }

    #[test]
    fn jsonl_keeps_every_well_formed_record(lines in proptest::collection::vec(jsonl_line(), 0..30), batch in 1usize..9) {
        let text: String = lines.iter().map(|(l, _)| format!("{}\n", l.replace('\n', " "))).collect();
        let expected: Vec<u64> = lines
            .iter()
            .enumerate()
            .filter(|(_, (l, ok))| *ok && !l.contains('\n'))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let (items, _) = collect(|tx| parse_jsonl(text.as_bytes(), batch, tx));
        let good: Vec<u64> = items.iter().filter(|(_, r)| r.is_ok()).map(|(l, _)| *l).collect();
        prop_assert_eq!(good, expected);
    }

    #[test]
    fn csv_of_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), gbk in any::<bool>(), batch in 1usize..9) {
        let (items, _) = collect(|tx| parse_csv(&bytes[..], gbk, batch, tx));
        let mut last = 0;
        for (line, _) in &items {
            // a bare carriage return ends a record without starting a new line number
            prop_assert!(*line >= last, "lines in order");
            last = *line;
        }
    }

    #[test]
    fn csv_with_a_header_keeps_its_rows(rows in proptest::collection::vec(("[\\PC&&[^,\"\r\n]]{1,20}", "[\\PC&&[^,\"\r\n]]{0,30}"), 0..20)) {
        let mut text = String::from("title,summary\n");
        for (t, s) in &rows {
            text.push_str(&format!("{t},{s}\n"));
        }
        let (items, fatal) = collect(|tx| parse_csv(text.as_bytes(), false, 5, tx));
        prop_assert!(!fatal);
        let titles: Vec<String> = items
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .filter_map(|m| m.get("title").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        // rows of nothing but spaces are skipped, as Excel leaves them
        let expected: Vec<String> = rows
            .iter()
            .filter(|(t, s)| !format!("{t}{s}").bytes().all(|b| b.is_ascii_whitespace()))
            .map(|(t, _)| t.to_string())
            .collect();
        prop_assert_eq!(titles, expected);
    }

    #[test]
    fn xlsx_of_any_bytes_is_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, &bytes).unwrap();
        let (items, fatal) = collect(|tx| parse_xlsx(f.path(), &Default::default(), 5, tx));
        prop_assert!(fatal || items.is_empty() || !bytes.is_empty());
    }

    #[test]
    fn tables_of_any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), gbk in any::<bool>()) {
        let _ = crate::events::read_table(Format::Csv { gbk }, &bytes, &Default::default());
        let _ = crate::events::read_table(Format::Xlsx, &bytes, &Default::default());
    }
}

/// Truncated and bit-flipped copies of a real workbook (random bytes rarely look like a
/// zip archive, so this reaches the XLSX reader's inner layers).
#[test]
fn damaged_workbooks_are_refused_cleanly() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["title", "summary"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..20u32 {
        ws.write_string(r, 0, format!("成果 {r}")).unwrap();
        ws.write_string(r, 1, "摘要").unwrap();
    }
    let good = wb.save_to_buffer().unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(
                0..good.len(),
                proptest::collection::vec((0..good.len(), any::<u8>()), 0..8),
            ),
            |(cut, flips)| {
                let mut bytes = good[..cut.max(1)].to_vec();
                for (i, b) in flips {
                    if i < bytes.len() {
                        bytes[i] ^= b;
                    }
                }
                let _ = crate::events::read_table(Format::Xlsx, &bytes, &Default::default());
                let mut f = tempfile::NamedTempFile::new().unwrap();
                std::io::Write::write_all(&mut f, &bytes).unwrap();
                let _ = collect(|tx| parse_xlsx(f.path(), &Default::default(), 5, tx));
                Ok(())
            },
        )
        .unwrap();
    // and the undamaged one reads all 19 rows
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, &good).unwrap();
    let (items, fatal) = collect(|tx| parse_xlsx(f.path(), &Default::default(), 5, tx));
    assert!(!fatal);
    assert_eq!(items.iter().filter(|(_, r)| r.is_ok()).count(), 19);
}
