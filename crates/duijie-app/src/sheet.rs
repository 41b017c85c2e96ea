//! One bounded XLSX reader for every upload path (bulk import, participant lists, the
//! ledger's spreadsheet import). An XLSX file is a zip archive of XML documents, so a small
//! upload can inflate without limit; this reader refuses such files before anything is
//! imported, with a 4xx naming the limit:
//!
//! 1. the first bytes: an OLE compound file is an old `.xls` or an encrypted workbook
//!    (Office encrypts XLSX that way), neither of which we read;
//! 2. the archive: every member is inflated into nothing, counting, and refused past the
//!    per-member and whole-archive caps (declared sizes can lie, counted bytes cannot);
//!    encrypted members, a truncated or corrupt archive, too many members, and any DTD
//!    (`<!DOCTYPE`, `<!ENTITY`: the road to entity expansion) are refused too;
//! 3. the first sheet, streamed cell by cell (calamine's cell reader, never the whole
//!    sheet in memory), checked against the row, column and cell-length caps;
//! 4. only then the same stream again, handing out rows.
//!
//! Memory stays bounded by the member cap (the shared-string table is the one part held
//! whole) and one row.

use crate::codes::Code;
use crate::error::AppError;
use crate::settings::Settings;
use calamine::Reader as _;
use std::io::{Read, Seek};

/// The caps (`[import]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLimits {
    /// Largest inflated size of one archive member, bytes.
    pub max_member_bytes: u64,
    /// Largest inflated size of the whole archive, bytes.
    pub max_total_bytes: u64,
    /// Most archive members.
    pub max_members: usize,
    /// Most rows of the sheet (the header included).
    pub max_rows: u32,
    /// Most columns.
    pub max_columns: u32,
    /// Longest cell, characters.
    pub max_cell_chars: usize,
}

impl Default for SheetLimits {
    fn default() -> Self {
        SheetLimits {
            max_member_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_members: 1000,
            max_rows: 200_000,
            max_columns: 200,
            max_cell_chars: 32_767,
        }
    }
}

impl SheetLimits {
    /// The caps the settings give.
    pub fn of(s: &Settings) -> SheetLimits {
        let i = &s.import;
        SheetLimits {
            max_member_bytes: i.xlsx_max_member_mb << 20,
            max_total_bytes: i.xlsx_max_total_mb << 20,
            max_members: 1000,
            max_rows: i.max_rows,
            max_columns: i.max_columns,
            max_cell_chars: i.max_cell_chars,
        }
    }
}

fn too_large(zh: String, en: String) -> AppError {
    AppError::bad_request(Code::SPREADSHEET_TOO_LARGE, zh, en)
}

fn unreadable(zh: String, en: String) -> AppError {
    AppError::bad_request(Code::INVALID_XLSX, zh, en)
}

/// Refuses what is not a zip archive by its first bytes (an OLE file: `.xls` or an
/// encrypted workbook).
pub fn check_signature(head: &[u8]) -> Result<(), AppError> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if head.starts_with(OLE) {
        return Err(AppError::UnsupportedMediaType(
            "这是旧版 Excel（.xls）文件或加密的工作簿，无法读取：请在 Excel 中去掉密码并另存为 .xlsx 后再上传 / this is an old Excel (.xls) file or an encrypted workbook: remove the password and save it as .xlsx, then upload again".into(),
        ));
    }
    if !head.starts_with(b"PK") {
        return Err(unreadable(
            "文件不是 XLSX 格式（XLSX 是 zip 压缩包）".into(),
            "the file is not an XLSX workbook (an XLSX file is a zip archive)".into(),
        ));
    }
    Ok(())
}

/// Whether `hay` holds a DTD (`<!DOCTYPE` or `<!ENTITY`).
fn has_dtd(hay: &[u8]) -> bool {
    hay.windows(9)
        .any(|w| w == b"<!DOCTYPE" || w.starts_with(b"<!ENTITY"))
}

/// Inflates every member into nothing, counting, and refuses the archive past a cap.
fn check_archive<R: Read + Seek>(reader: R, l: &SheetLimits) -> Result<(), AppError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| {
        unreadable(
            format!("XLSX 文件不完整或已损坏（{e}）"),
            format!("the XLSX file is truncated or corrupt ({e})"),
        )
    })?;
    if zip.len() > l.max_members {
        return Err(too_large(
            format!(
                "XLSX 压缩包内文件过多：{} 个，上限 {} 个",
                zip.len(),
                l.max_members
            ),
            format!(
                "the XLSX archive holds {} files; at most {} are read",
                zip.len(),
                l.max_members
            ),
        ));
    }
    let mb = |b: u64| b >> 20;
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| {
            if e.to_string().to_lowercase().contains("password") {
                AppError::UnsupportedMediaType(
                    "XLSX 文件已加密，请去掉密码后再上传 / the XLSX file is encrypted: remove the password and upload it again".into(),
                )
            } else {
                unreadable(
                    format!("XLSX 文件已损坏（{e}）"),
                    format!("the XLSX file is corrupt ({e})"),
                )
            }
        })?;
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        let xml = name.ends_with(".xml") || name.ends_with(".rels");
        let mut size = 0u64;
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = f.read(&mut buf).map_err(|e| {
                unreadable(
                    format!("XLSX 文件中的 {name} 无法解压（{e}）"),
                    format!("{name} in the XLSX file cannot be inflated ({e})"),
                )
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if size > l.max_member_bytes {
                return Err(too_large(
                    format!(
                        "XLSX 文件中的 {name} 解压后超过 {} MB 的上限（可能是压缩炸弹）",
                        mb(l.max_member_bytes)
                    ),
                    format!(
                        "{name} in the XLSX file inflates beyond the limit of {} MB (a zip bomb?)",
                        mb(l.max_member_bytes)
                    ),
                ));
            }
            if total > l.max_total_bytes {
                return Err(too_large(
                    format!(
                        "XLSX 文件解压后超过 {} MB 的上限（可能是压缩炸弹）",
                        mb(l.max_total_bytes)
                    ),
                    format!(
                        "the XLSX file inflates beyond the limit of {} MB (a zip bomb?)",
                        mb(l.max_total_bytes)
                    ),
                ));
            }
            if xml {
                // the previous chunk's last bytes, so a DTD split across chunks is seen
                tail.extend_from_slice(&buf[..n]);
                if has_dtd(&tail) {
                    return Err(unreadable(
                        format!("XLSX 文件中的 {name} 含有 DTD 或实体声明，出于安全原因不予读取"),
                        format!(
                            "{name} in the XLSX file declares a DTD or entities; such files are refused for safety"
                        ),
                    ));
                }
                let keep = tail.len().saturating_sub(8);
                tail.drain(..keep);
            }
        }
    }
    Ok(())
}

/// A cell as text (dates as `YYYY-MM-DD`, whole numbers without `.0`).
pub fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Streams the first sheet's cells: `each(row, column, text)` for every non-empty cell, in
/// row order (0-based positions).
fn stream_cells<R: Read + Seek>(
    reader: R,
    mut each: impl FnMut(u32, u32, String) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut wb = calamine::Xlsx::new(reader).map_err(|e| {
        unreadable(
            format!("无法读取 XLSX 文件：{e}"),
            format!("not a readable XLSX file: {e}"),
        )
    })?;
    let Some(sheet) = wb.sheet_names().first().cloned() else {
        return Err(unreadable(
            "XLSX 文件没有工作表".into(),
            "the XLSX file has no sheet".into(),
        ));
    };
    let mut cells = wb.worksheet_cells_reader(&sheet).map_err(|e| {
        unreadable(
            format!("无法读取工作表：{e}"),
            format!("cannot read the sheet: {e}"),
        )
    })?;
    loop {
        let cell = cells.next_cell().map_err(|e| {
            unreadable(
                format!("无法读取工作表：{e}"),
                format!("cannot read the sheet: {e}"),
            )
        })?;
        let Some(cell) = cell else { return Ok(()) };
        let (row, col) = cell.get_position();
        let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
        if !text.trim().is_empty() {
            each(row, col, text)?;
        }
    }
}

/// Checks a workbook against the caps and then hands out the first sheet's rows:
/// `row(line, cells)` with the 1-based line and the cells by column (empty where blank);
/// rows without any text are left out. `open` opens the file afresh for each pass.
/// Returning `false` from `row` stops the reading.
pub fn read_rows<R: Read + Seek>(
    open: &dyn Fn() -> std::io::Result<R>,
    l: &SheetLimits,
    mut row: impl FnMut(u64, Vec<String>) -> bool,
) -> Result<(), AppError> {
    let io = |e: std::io::Error| AppError::Internal(format!("reading the upload: {e}"));
    let mut head = [0u8; 8];
    let mut r = open().map_err(io)?;
    let n = r.read(&mut head).map_err(io)?;
    check_signature(&head[..n])?;
    check_archive(open().map_err(io)?, l)?;
    // first pass: the caps, before a single row is handed out
    stream_cells(open().map_err(io)?, |r, c, text| {
        if r >= l.max_rows {
            return Err(too_large(
                format!(
                    "工作表超过 {} 行的上限（第 {} 行有内容）",
                    l.max_rows,
                    r + 1
                ),
                format!(
                    "the sheet has more than {} rows (row {} has content)",
                    l.max_rows,
                    r + 1
                ),
            ));
        }
        if c >= l.max_columns {
            return Err(too_large(
                format!(
                    "工作表超过 {} 列的上限（第 {} 列有内容）",
                    l.max_columns,
                    c + 1
                ),
                format!(
                    "the sheet has more than {} columns (column {} has content)",
                    l.max_columns,
                    c + 1
                ),
            ));
        }
        let chars = text.chars().count();
        if chars > l.max_cell_chars {
            return Err(too_large(
                format!(
                    "第 {} 行第 {} 列的单元格有 {chars} 个字符，超过 {} 的上限",
                    r + 1,
                    c + 1,
                    l.max_cell_chars
                ),
                format!(
                    "the cell at row {}, column {} holds {chars} characters; at most {}",
                    r + 1,
                    c + 1,
                    l.max_cell_chars
                ),
            ));
        }
        Ok(())
    })?;
    // second pass: the rows
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut stopped = false;
    let stop = || {
        AppError::Internal("stopped".into()) // never surfaces: see below
    };
    let result = stream_cells(open().map_err(io)?, |r, c, text| {
        if current.as_ref().is_some_and(|(cr, _)| *cr != r)
            && let Some((cr, cells)) = current.take()
            && !row(u64::from(cr) + 1, cells)
        {
            stopped = true;
            return Err(stop());
        }
        let (_, cells) = current.get_or_insert_with(|| (r, Vec::new()));
        let c = c as usize;
        if cells.len() <= c {
            cells.resize(c + 1, String::new());
        }
        cells[c] = text;
        Ok(())
    });
    if stopped {
        return Ok(());
    }
    result?;
    if let Some((r, cells)) = current {
        row(u64::from(r) + 1, cells);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn workbook(sheet_xml: &str) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o: zip::write::SimpleFileOptions = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let files = [
            ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
            ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
            ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
            ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
            ("xl/worksheets/sheet1.xml", sheet_xml.to_string()),
        ];
        for (name, body) in files {
            z.start_file(name, o).unwrap();
            z.write_all(body.as_bytes()).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn sheet(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        )
    }

    fn read(bytes: &[u8], l: &SheetLimits) -> Result<Vec<(u64, Vec<String>)>, AppError> {
        let mut out = Vec::new();
        read_rows(&|| Ok(Cursor::new(bytes.to_vec())), l, |n, cells| {
            out.push((n, cells));
            true
        })?;
        Ok(out)
    }

    fn cell(r: &str, text: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    #[test]
    fn rows_come_out_by_line_with_blank_cells_kept_in_place() {
        let xml = sheet(&format!(
            r#"<row r="1">{}{}</row><row r="3">{}</row>"#,
            cell("A1", "名称"),
            cell("C1", "城市"),
            cell("C3", "沈阳")
        ));
        let rows = read(&workbook(&xml), &SheetLimits::default()).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["名称".into(), String::new(), "城市".into()]),
                (3, vec![String::new(), String::new(), "沈阳".into()]),
            ]
        );
    }

    #[test]
    fn every_cap_is_named_in_its_refusal_and_nothing_is_handed_out() {
        let l = SheetLimits {
            max_rows: 3,
            max_columns: 2,
            max_cell_chars: 5,
            max_member_bytes: 4096,
            max_total_bytes: 1 << 20,
            max_members: 10,
        };
        let cases = [
            (
                sheet(&format!(
                    r#"<row r="1">{}</row><row r="9">{}</row>"#,
                    cell("A1", "x"),
                    cell("A9", "y")
                )),
                "3 行",
            ),
            (
                sheet(&format!(r#"<row r="1">{}</row>"#, cell("C1", "x"))),
                "2 列",
            ),
            (
                sheet(&format!(
                    r#"<row r="1">{}</row>"#,
                    cell("A1", "太长的单元格内容")
                )),
                "5 的上限",
            ),
            (
                sheet(&format!(
                    r#"<row r="1">{}</row>{}"#,
                    cell("A1", "x"),
                    "<row r=\"2\"/>".repeat(1000)
                )),
                "MB",
            ),
        ];
        for (xml, needle) in cases {
            let mut handed = 0;
            let e = read_rows(&|| Ok(Cursor::new(workbook(&xml))), &l, |_, _| {
                handed += 1;
                true
            })
            .unwrap_err();
            assert_eq!(e.code(), Code::SPREADSHEET_TOO_LARGE, "{e}");
            assert!(e.message().contains(needle), "{needle}: {e}");
            assert_eq!(handed, 0, "no row before the caps are checked");
        }
    }

    #[test]
    fn dtds_ole_files_and_truncated_archives_are_refused() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>"#;
        let e = read(&workbook(laughs), &SheetLimits::default()).unwrap_err();
        assert!(e.message().contains("DTD"), "{e}");
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.extend(vec![0u8; 600]);
        let e = read(&ole, &SheetLimits::default()).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::UnsupportedMedia);
        assert!(e.message().contains(".xls"));
        let good = workbook(&sheet(&format!(r#"<row r="1">{}</row>"#, cell("A1", "x"))));
        let e = read(&good[..good.len() / 2], &SheetLimits::default()).unwrap_err();
        assert_eq!(e.code(), Code::INVALID_XLSX, "{e}");
        assert!(read(b"plain text", &SheetLimits::default()).is_err());
    }

    #[test]
    fn a_dtd_split_across_read_chunks_is_still_seen() {
        let pad = " ".repeat(64 * 1024 - 20);
        let xml =
            format!(r#"<?xml version="1.0"?>{pad}<!DOCTYPE x [<!ENTITY a "b">]><worksheet/>"#);
        let e = read(&workbook(&xml), &SheetLimits::default()).unwrap_err();
        assert!(e.message().contains("DTD"), "{e}");
    }
}
