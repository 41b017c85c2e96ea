//! Exports of an event's pairing for organisers and participants: an XLSX workbook (pairing
//! list, schedule grid, unplaced report), a CSV of the pairing list that Excel opens
//! correctly (UTF-8 with a byte-order mark), and printable per-participant agendas as one
//! self-contained HTML page (no external resources, one printed page per participant).
//!
//! Everything here works from an [`events::ScheduleView`], so the exports show exactly what
//! `GET .../schedule` shows.

use crate::error::AppError;
use crate::events::{MeetingView, ScheduleView};
use duijie_domain::ListingKind;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

fn kind_zh(k: ListingKind) -> &'static str {
    k.label_zh()
}

fn or_deleted(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("（已删除）")
}

/// Columns of the pairing list (CSV and the first sheet).
const LIST_HEADERS: [&str; 13] = [
    "序号",
    "时段",
    "开始时间",
    "结束时间",
    "桌号",
    "企业",
    "技术需求",
    "对接单位",
    "对接项目",
    "类型",
    "匹配分",
    "指定会谈",
    "来源",
];

fn list_row(i: usize, m: &MeetingView) -> [String; 13] {
    [
        (i + 1).to_string(),
        (m.slot + 1).to_string(),
        m.start.clone(),
        m.end.clone(),
        m.table_name.clone(),
        m.enterprise.organization_name.clone(),
        m.enterprise.need_title.clone().unwrap_or_default(),
        m.partner.organization_name.clone().unwrap_or_default(),
        or_deleted(&m.partner.title).to_string(),
        kind_zh(m.partner.kind).to_string(),
        format!("{:.3}", m.score),
        if m.forced { "是" } else { "" }.to_string(),
        if m.origin == "manual" {
            "人工调整"
        } else {
            "自动生成"
        }
        .to_string(),
    ]
}

/// A file name for downloads: ASCII fallback plus the UTF-8 name (RFC 6266 / 5987).
pub fn content_disposition(event_id: i64, name: &str, ext: &str) -> String {
    let utf8: String = format!("{name}-{ext}")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .collect::<String>()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let ext_only = ext.rsplit('.').next().unwrap_or(ext);
    format!("attachment; filename=\"event-{event_id}.{ext_only}\"; filename*=UTF-8''{utf8}")
}

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx export: {e}"))
}

/// The workbook: 对接清单 (pairing list), 日程 (slots × tables), 未安排 (unplaced and
/// unseated).
pub fn xlsx(s: &ScheduleView) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    list_sheet(&mut wb, s, &bold)?;
    grid_sheet(&mut wb, s, &bold)?;
    unplaced_sheet(&mut wb, s, &bold)?;
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The first sheet: one row per meeting, as the CSV export.
fn list_sheet(wb: &mut Workbook, s: &ScheduleView, bold: &Format) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name("对接清单").map_err(xlsx_error)?;
    for (c, h) in LIST_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, bold)
            .map_err(xlsx_error)?;
    }
    for (i, m) in s.pairing.items.iter().enumerate() {
        let row = (i + 1) as u32;
        for (c, v) in list_row(i, m).iter().enumerate() {
            match c {
                0 | 1 => ws
                    .write_number(row, c as u16, v.parse::<f64>().unwrap_or(0.0))
                    .map_err(xlsx_error)?,
                10 => ws
                    .write_number(row, c as u16, m.score)
                    .map_err(xlsx_error)?,
                _ => ws.write_string(row, c as u16, v).map_err(xlsx_error)?,
            };
        }
    }
    for (c, w) in [
        6.0, 6.0, 9.0, 9.0, 12.0, 24.0, 30.0, 24.0, 30.0, 8.0, 8.0, 9.0, 10.0,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w).map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    Ok(())
}

/// The second sheet: the schedule as a grid of slots × tables, with the breaks.
fn grid_sheet(wb: &mut Workbook, s: &ScheduleView, bold: &Format) -> Result<(), AppError> {
    let wrap = Format::new().set_text_wrap();
    let title = Format::new().set_bold().set_font_size(14);
    let ws = wb.add_worksheet();
    ws.set_name("日程").map_err(xlsx_error)?;
    ws.write_string_with_format(
        0,
        0,
        format!("{} 日程（{}）", s.event.name, s.event.date),
        &title,
    )
    .map_err(xlsx_error)?;
    ws.write_string_with_format(1, 0, "时段", bold)
        .map_err(xlsx_error)?;
    for t in &s.pairing.tables {
        ws.write_string_with_format(1, (t.table + 1) as u16, &t.name, bold)
            .map_err(xlsx_error)?;
        ws.set_column_width((t.table + 1) as u16, 28.0)
            .map_err(xlsx_error)?;
    }
    ws.set_column_width(0, 14.0).map_err(xlsx_error)?;
    let mut row = 2u32;
    for g in &s.grid {
        ws.write_string_with_format(row, 0, format!("{}–{}", g.start, g.end), bold)
            .map_err(xlsx_error)?;
        for cell in &g.cells {
            if cell.meetings.is_empty() {
                continue;
            }
            let text = cell
                .meetings
                .iter()
                .map(|m| {
                    format!(
                        "{} × {}（{}）",
                        m.enterprise.organization_name,
                        or_deleted(&m.partner.title),
                        m.partner.organization_name.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            ws.write_string_with_format(row, (cell.table + 1) as u16, text, &wrap)
                .map_err(xlsx_error)?;
        }
        row += 1;
        if let Some(b) = &g.break_after {
            ws.write_string(
                row,
                0,
                format!(
                    "{}（{} 分钟）",
                    b.label.as_deref().unwrap_or("休息"),
                    b.minutes
                ),
            )
            .map_err(xlsx_error)?;
            row += 1;
        }
    }
    ws.set_freeze_panes(2, 1).map_err(xlsx_error)?;
    Ok(())
}

/// The third sheet: who got fewer meetings than wished, unseated and ignored meetings, each
/// with its reason.
fn unplaced_sheet(wb: &mut Workbook, s: &ScheduleView, bold: &Format) -> Result<(), AppError> {
    let ws = wb.add_worksheet();
    ws.set_name("未安排").map_err(xlsx_error)?;
    for (c, h) in [
        "类别",
        "单位",
        "项目",
        "期望场次",
        "已安排",
        "原因代码",
        "原因",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, bold)
            .map_err(xlsx_error)?;
    }
    let mut row = 1u32;
    for u in &s.pairing.unplaced {
        let side = match u.side {
            "enterprise" => "企业",
            "expert" => "专家",
            _ => "科技成果",
        };
        ws.write_string(row, 0, side).map_err(xlsx_error)?;
        ws.write_string(row, 1, &u.organization_name)
            .map_err(xlsx_error)?;
        ws.write_string(row, 2, u.title.as_deref().unwrap_or(""))
            .map_err(xlsx_error)?;
        ws.write_number(row, 3, u.wanted as f64)
            .map_err(xlsx_error)?;
        ws.write_number(row, 4, u.got as f64).map_err(xlsx_error)?;
        ws.write_string(row, 5, &u.reason_code)
            .map_err(xlsx_error)?;
        ws.write_string(row, 6, &u.reason).map_err(xlsx_error)?;
        row += 1;
    }
    for (what, list) in [
        ("未排座会谈", &s.pairing.unseated),
        ("未能指定的会谈", &s.pairing.ignored_forced),
    ] {
        for u in list {
            ws.write_string(row, 0, what).map_err(xlsx_error)?;
            ws.write_string(
                row,
                1,
                format!(
                    "{} × {}",
                    u.enterprise.organization_name,
                    u.partner.organization_name.as_deref().unwrap_or("")
                ),
            )
            .map_err(xlsx_error)?;
            ws.write_string(row, 2, or_deleted(&u.partner.title))
                .map_err(xlsx_error)?;
            ws.write_string(row, 5, u.reason_code.as_deref().unwrap_or("unseated"))
                .map_err(xlsx_error)?;
            ws.write_string(row, 6, &u.reason).map_err(xlsx_error)?;
            row += 1;
        }
    }
    for (c, w) in [12.0, 30.0, 30.0, 9.0, 8.0, 14.0, 60.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(xlsx_error)?;
    }
    Ok(())
}

/// The pairing list as CSV: UTF-8 with a byte-order mark (so Excel does not read it as the
/// local code page), Chinese headers, one meeting a row.
pub fn csv(s: &ScheduleView) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().from_writer(b"\xEF\xBB\xBF".to_vec());
    let err = |e: csv::Error| AppError::Internal(format!("csv export: {e}"));
    w.write_record(LIST_HEADERS).map_err(err)?;
    for (i, m) in s.pairing.items.iter().enumerate() {
        w.write_record(list_row(i, m).iter().map(|c| csv_safe(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("csv export: {e}")))
}

/// Neutralises a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first):
/// names and titles come from users, and a CSV cell carries no type.
pub(crate) fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const AGENDA_CSS: &str = "body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"PingFang SC\",sans-serif;margin:0;color:#222}\
section.page{padding:16mm 14mm;page-break-after:always;break-after:page}\
section.page:last-of-type{page-break-after:auto;break-after:auto}\
h1{font-size:18pt;margin:0 0 4pt}h2{font-size:15pt;margin:12pt 0 6pt}\
p.meta{margin:0;color:#555}table{border-collapse:collapse;width:100%;margin-top:8pt}\
th,td{border:1px solid #999;padding:4pt 6pt;text-align:left;vertical-align:top;font-size:10.5pt}\
th{background:#eee}p.none{color:#777}\
@media screen{section.page{border-bottom:2px dashed #bbb}}";

/// Printable agendas: one `<section>` (one printed page) per participant, all text escaped.
pub fn agenda_html(s: &ScheduleView) -> String {
    let e = &s.event;
    let mut h = String::with_capacity(4096 + s.agendas.len() * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>{} 日程</title><style>{AGENDA_CSS}</style></head><body>\n",
        escape(&e.name)
    ));
    let format = e.format.label_zh();
    let meta = match &e.venue {
        Some(v) => format!("{} · {} · {}", escape(&e.date), escape(v), escape(format)),
        None => format!("{} · {}", escape(&e.date), escape(format)),
    };
    for a in &s.agendas {
        h.push_str("<section class=\"page\">\n");
        h.push_str(&format!(
            "<h1>{}</h1><p class=\"meta\">{meta}</p>\n",
            escape(&e.name)
        ));
        let role = duijie_domain::label(duijie_domain::vocab::ORG_KINDS, &a.organization_kind)
            .unwrap_or("");
        h.push_str(&format!(
            "<h2>{}<small>（{}）</small></h2>\n",
            escape(&a.organization_name),
            escape(role)
        ));
        if a.items.is_empty() {
            h.push_str("<p class=\"none\">暂无安排的会谈。</p>\n");
        } else {
            h.push_str("<table><thead><tr><th>时间</th><th>桌号</th><th>本方项目</th><th>对接单位</th><th>对方项目</th></tr></thead><tbody>\n");
            for i in &a.items {
                h.push_str(&format!(
                    "<tr><td>{}–{}</td><td>{}</td><td>{}：{}</td><td>{}</td><td>{}：{}</td></tr>\n",
                    escape(&i.start),
                    escape(&i.end),
                    escape(&i.table_name),
                    kind_zh(i.own_kind),
                    escape(or_deleted(&i.own_title)),
                    escape(&i.counterpart_organization),
                    kind_zh(i.counterpart_kind),
                    escape(or_deleted(&i.counterpart_title)),
                ));
            }
            h.push_str("</tbody></table>\n");
        }
        h.push_str("</section>\n");
    }
    if s.agendas.is_empty() {
        h.push_str(&format!(
            "<section class=\"page\"><h1>{}</h1><p class=\"none\">尚无参会单位。</p></section>\n",
            escape(&e.name)
        ));
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_run_as_formulas() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("鞍钢集团"), "鞍钢集团");
        assert_eq!(csv_safe("0.970"), "0.970");
    }

    #[test]
    fn escaping_and_file_names() {
        assert_eq!(
            escape("<script>alert('x')&\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;"
        );
        let d = content_disposition(7, "对接会 \"A\"", "export.xlsx");
        assert!(
            d.starts_with("attachment; filename=\"event-7.xlsx\"; filename*=UTF-8''"),
            "{d}"
        );
        assert!(!d[d.find("UTF-8''").unwrap()..].contains([' ', '"']), "{d}");
    }
}
