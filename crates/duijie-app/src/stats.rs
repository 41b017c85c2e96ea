//! Programme statistics from the outcomes ledger, and the dashboard's charts as SVG drawn
//! by the server (no script, no CDN).
//!
//! Definitions (also in `config/default.toml` `[dashboard]`):
//! - an organisation is **engaged** once one of its entries reached a meeting (已洽谈 or
//!   further, even if later dropped); a university also by filing an inter-university
//!   project that was not dropped;
//! - an **expert sent into an enterprise**: a distinct expert with a pairing or cooperation
//!   entry that reached a meeting;
//! - a **result transferred**: an entry that reached 成果已转化;
//! - **contracts** and **contract value**: entries that reached 已签约, and the sum of their
//!   amounts in yuan.

use crate::settings::DashboardSettings;
use duijie_domain::{Vocabulary, Zone, geo};
use duijie_store::LedgerEntry;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Progress toward one target.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// `universities`, `enterprises`, `experts`, `results`.
    pub code: &'static str,
    /// Chinese label.
    pub label: &'static str,
    /// Reached so far.
    pub value: i64,
    /// The target.
    pub target: i64,
    /// value / target (may exceed 1).
    pub ratio: f64,
}

/// Figures of one group (zone, city, industry, month).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// Code (zone code, city, industry code, `YYYY-MM`).
    pub key: String,
    /// Chinese label.
    pub label: String,
    /// Entries in the group.
    pub entries: i64,
    /// Entries that reached a meeting.
    pub met: i64,
    /// Contracts signed.
    pub contracts: i64,
    /// Their value in yuan.
    pub contract_value_yuan: i64,
    /// Results transferred.
    pub transferred: i64,
}

/// The zone × industry table: entries that reached a meeting.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heat {
    /// Row keys and labels (zones, then 省外/未填).
    pub rows: Vec<(String, String)>,
    /// Column keys and labels (industries with any entry).
    pub columns: Vec<(String, String)>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<i64>>,
    /// The largest cell (for shading).
    pub max: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ProgrammeStats))]
pub struct Stats {
    /// Progress toward the four targets.
    pub targets: Vec<Progress>,
    /// Ledger entries counted.
    pub entries: i64,
    /// Entries by status code.
    pub by_status: BTreeMap<String, i64>,
    /// Contracts signed.
    pub contracts: i64,
    /// Their value in yuan.
    pub contract_value_yuan: i64,
    /// By zone (a city in two zones counts in both), then 省外/未填.
    pub by_zone: Vec<Group>,
    /// By city, most active first.
    pub by_city: Vec<Group>,
    /// By industry, most active first.
    pub by_industry: Vec<Group>,
    /// By month (meetings by their date, contracts by contract date, transfers by
    /// transfer date), every month from the first to the last with data.
    pub monthly: Vec<Group>,
    /// Zone × industry.
    pub heat: Heat,
}

fn add(g: &mut Group, e: &LedgerEntry) {
    g.entries += 1;
    if e.max_stage >= 2 {
        g.met += 1;
    }
    if e.max_stage >= 4 {
        g.contracts += 1;
        g.contract_value_yuan += e.amount_yuan.unwrap_or(0);
    }
    if e.max_stage >= 5 {
        g.transferred += 1;
    }
}

fn zone_keys(city: Option<&str>) -> Vec<(String, String)> {
    let zones = city.map(geo::zones_of_city).unwrap_or_default();
    if zones.is_empty() {
        let (k, l) = match city {
            Some(_) => ("outside", "省外及其他"),
            None => ("unknown", "未填城市"),
        };
        vec![(k.to_string(), l.to_string())]
    } else {
        zones
            .into_iter()
            .map(|z| (z.code().to_string(), z.label_zh().to_string()))
            .collect()
    }
}

fn month(d: &Option<String>) -> Option<String> {
    d.as_deref()
        .filter(|d| d.len() >= 7)
        .map(|d| d[..7].to_string())
}

fn next_month(m: &str) -> Option<String> {
    let y: i32 = m.get(..4)?.parse().ok()?;
    let mo: u32 = m.get(5..7)?.parse().ok()?;
    Some(if mo == 12 {
        format!("{:04}-01", y + 1)
    } else {
        format!("{y:04}-{:02}", mo + 1)
    })
}

/// Computes the statistics of a set of entries.
/// Every month between the first and the last one with activity, so the trend has no
/// silent gaps (at most twenty years).
fn month_series(mut months: BTreeMap<String, Group>) -> Vec<Group> {
    let mut out = Vec::new();
    if let (Some(first), Some(last)) = (
        months.keys().next().cloned(),
        months.keys().next_back().cloned(),
    ) {
        let mut m = first;
        let mut guard = 0;
        while m <= last && guard < 240 {
            let g = months.remove(&m).unwrap_or_else(|| Group {
                label: format!("{}年{}月", &m[..4], m[5..7].trim_start_matches('0')),
                key: m.clone(),
                ..Group::default()
            });
            out.push(g);
            m = match next_month(&m) {
                Some(n) => n,
                None => break,
            };
            guard += 1;
        }
    }
    out
}

/// Meetings by zone (rows) and industry (columns, those with meetings).
fn heat_table(
    by_zone: &[Group],
    by_industry: &[Group],
    heat: &BTreeMap<(String, String), i64>,
) -> Heat {
    let rows: Vec<(String, String)> = by_zone
        .iter()
        .map(|g| (g.key.clone(), g.label.clone()))
        .collect();
    let columns: Vec<(String, String)> = by_industry
        .iter()
        .filter(|g| g.met > 0)
        .map(|g| (g.key.clone(), g.label.clone()))
        .collect();
    let cells: Vec<Vec<i64>> = rows
        .iter()
        .map(|(r, _)| {
            columns
                .iter()
                .map(|(c, _)| heat.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    let max = cells.iter().flatten().copied().max().unwrap_or(0);
    Heat {
        rows,
        columns,
        cells,
        max,
    }
}

/// The programme's statistics from the whole ledger, or from one year's entries, computed
/// off the async runtime.
pub async fn programme(ctx: &crate::App, year: Option<i64>) -> Result<Stats, crate::AppError> {
    let mut entries = ctx
        .store
        .ledger_all(&duijie_store::LedgerFilter::default())
        .await?;
    if let Some(y) = year {
        entries.retain(|e| e.year == y);
    }
    let ctx2 = ctx.clone();
    Ok(tokio::task::spawn_blocking(move || {
        compute(&entries, &ctx2.settings.dashboard, &ctx2.vocab)
    })
    .await?)
}

/// The statistics of a set of ledger entries.
pub fn compute(entries: &[LedgerEntry], t: &DashboardSettings, vocab: &Vocabulary) -> Stats {
    let mut universities = BTreeSet::new();
    let mut enterprises = BTreeSet::new();
    let mut experts = BTreeSet::new();
    let mut transferred = 0;
    let mut s = Stats {
        entries: entries.len() as i64,
        ..Stats::default()
    };
    let mut zones: BTreeMap<String, Group> = BTreeMap::new();
    let mut cities: BTreeMap<String, Group> = BTreeMap::new();
    let mut industries: BTreeMap<String, Group> = BTreeMap::new();
    let mut months: BTreeMap<String, Group> = BTreeMap::new();
    let mut heat: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in entries {
        *s.by_status.entry(e.status.clone()).or_default() += 1;
        let met = e.max_stage >= 2;
        let filed = e.kind == "inter_university" && e.status != "dropped";
        if met || filed {
            universities.extend(e.university_id);
            universities.extend(e.partner_university_id);
        }
        if met {
            enterprises.extend(e.enterprise_id);
            if e.partner_kind.as_deref() == Some("expert") {
                experts.extend(e.partner_id);
            }
        }
        if e.max_stage >= 5 {
            transferred += 1;
        }
        if e.max_stage >= 4 {
            s.contracts += 1;
            s.contract_value_yuan += e.amount_yuan.unwrap_or(0);
        }
        let zks = zone_keys(e.city.as_deref());
        for (k, l) in &zks {
            let g = zones.entry(k.clone()).or_insert_with(|| Group {
                key: k.clone(),
                label: l.clone(),
                ..Group::default()
            });
            add(g, e);
        }
        let city = e.city.clone().unwrap_or_else(|| "未填".into());
        add(
            cities.entry(city.clone()).or_insert_with(|| Group {
                key: city.clone(),
                label: city.clone(),
                ..Group::default()
            }),
            e,
        );
        let ind = e.industry.clone().unwrap_or_else(|| "none".into());
        add(
            industries.entry(ind.clone()).or_insert_with(|| Group {
                label: vocab
                    .industry_label(&ind)
                    .unwrap_or(if ind == "none" { "未填行业" } else { &ind })
                    .to_string(),
                key: ind.clone(),
                ..Group::default()
            }),
            e,
        );
        if met {
            for (k, _) in &zks {
                *heat.entry((k.clone(), ind.clone())).or_default() += 1;
            }
        }
        let mut month_of = |m: Option<String>, f: &dyn Fn(&mut Group)| {
            if let Some(m) = m {
                let g = months.entry(m.clone()).or_insert_with(|| Group {
                    label: format!("{}年{}月", &m[..4], m[5..7].trim_start_matches('0')),
                    key: m,
                    ..Group::default()
                });
                f(g);
            }
        };
        if met {
            month_of(month(&e.met_on), &|g| g.met += 1);
        }
        if e.max_stage >= 4 {
            let v = e.amount_yuan.unwrap_or(0);
            month_of(month(&e.contract_date), &|g| {
                g.contracts += 1;
                g.contract_value_yuan += v;
            });
        }
        if e.max_stage >= 5 {
            month_of(month(&e.transferred_on), &|g| g.transferred += 1);
        }
    }
    let progress = |code, label, value: usize, target: i64| Progress {
        code,
        label,
        value: value as i64,
        target,
        ratio: if target > 0 {
            value as f64 / target as f64
        } else {
            0.0
        },
    };
    s.targets = vec![
        progress(
            "universities",
            "参与高校",
            universities.len(),
            t.target_universities,
        ),
        progress(
            "enterprises",
            "参与企业",
            enterprises.len(),
            t.target_enterprises,
        ),
        progress("experts", "专家进企业", experts.len(), t.target_experts),
        progress("results", "成果转化", transferred, t.target_results),
    ];
    // zones in the programme's order, then the rest
    let mut zone_order: Vec<String> = Zone::ALL.iter().map(|z| z.code().to_string()).collect();
    zone_order.extend(["outside".to_string(), "unknown".to_string()]);
    s.by_zone = zone_order.iter().filter_map(|k| zones.remove(k)).collect();
    let busiest = |m: BTreeMap<String, Group>| {
        let mut v: Vec<Group> = m.into_values().collect();
        v.sort_by(|a, b| {
            (b.met, b.contracts, b.entries)
                .cmp(&(a.met, a.contracts, a.entries))
                .then(a.key.cmp(&b.key))
        });
        v
    };
    s.by_city = busiest(cities);
    s.by_industry = busiest(industries);
    s.monthly = month_series(months);
    s.heat = heat_table(&s.by_zone, &s.by_industry, &heat);
    s
}

fn esc(s: &str) -> String {
    crate::export::escape(s)
}

/// Yuan as people read large sums: 1.25 亿, 350 万, 8,000 元.
pub fn yuan(v: i64) -> String {
    if v >= 100_000_000 {
        format!("{:.2} 亿元", v as f64 / 1e8)
    } else if v >= 10_000 {
        let w = v as f64 / 1e4;
        if w.fract() == 0.0 {
            format!("{w:.0} 万元")
        } else {
            format!("{w:.1} 万元")
        }
    } else {
        format!("{v} 元")
    }
}

/// Progress bars toward the targets.
pub fn progress_svg(s: &Stats) -> String {
    let row = 46;
    let h = row * s.targets.len() + 10;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 {h}" width="100%" role="img" aria-labelledby="progress-title"><title id="progress-title">目标进度</title>"#
    );
    for (i, p) in s.targets.iter().enumerate() {
        let y = i * row + 6;
        let w = (p.ratio.clamp(0.0, 1.0) * 440.0).round();
        let pct = p.ratio * 100.0;
        let colour = if p.ratio >= 1.0 { "#1a7f37" } else { "#1f5fbf" };
        out.push_str(&format!(
            r##"<g class="progress" data-code="{code}"><text x="0" y="{ty}" font-size="14" fill="#222">{label}</text><rect x="0" y="{by}" width="440" height="14" rx="7" fill="#e6ebf2"/><rect x="0" y="{by}" width="{w}" height="14" rx="7" fill="{colour}"/><text x="452" y="{vy}" font-size="13" fill="#222">{value} / {target}（{pct:.1}%）</text></g>"##,
            code = p.code,
            ty = y + 12,
            label = esc(p.label),
            by = y + 18,
            vy = y + 30,
            value = p.value,
            target = p.target,
        ));
    }
    out.push_str("</svg>");
    out
}

/// Gridlines for counts from 0 to `peak`: a whole-number step (1, 2, 5, 10, 20, 50 …) and
/// how many steps (at most 5) reach at least `peak`, so no label repeats and none is a
/// fraction.
pub fn integer_ticks(peak: i64) -> (i64, i64) {
    let peak = peak.max(1);
    let mut base = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = base * m;
            let n = (peak + step - 1) / step;
            if n <= 5 {
                return (step, n.max(1));
            }
        }
        base *= 10;
    }
}

/// The connection funnel as horizontal bars: requests → accepted → met → intention →
/// contract → transferred, with the conversion from the step before.
pub fn funnel_svg(f: &crate::connections::Funnel) -> String {
    let (w, row) = (640.0, 34.0);
    let h = row * f.steps.len() as f64 + 8.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="funnel-title" id="funnel-chart"><title id="funnel-title">对接漏斗：申请 → 接受 → 洽谈 → 意向 → 签约 → 转化</title>"#
    );
    let first = f.steps.first().map(|s| s.count).unwrap_or(0).max(1) as f64;
    for (i, s) in f.steps.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let bw = (s.count as f64 / first * 380.0).max(if s.count > 0 { 2.0 } else { 0.0 });
        let conv = if i == 0 {
            String::new()
        } else {
            format!("（{:.0}%）", s.conversion * 100.0)
        };
        out.push_str(&format!(
            r##"<g class="funnel-step" data-step="{code}" data-count="{n}"><text x="0" y="{ty:.1}" font-size="13" fill="#222">{label}</text><rect x="96" y="{y:.1}" width="{bw:.1}" height="22" rx="3" fill="#1f5fbf"/><text x="{vx:.1}" y="{ty:.1}" font-size="13" fill="#222">{n}{conv}</text></g>"##,
            code = s.step,
            n = s.count,
            ty = y + 16.0,
            label = esc(s.label),
            vx = 96.0 + bw + 8.0,
        ));
    }
    out.push_str("</svg>");
    out
}

/// The monthly trend: contracts as bars, meetings as a line, the last 24 months.
pub fn trend_svg(s: &Stats) -> String {
    let months: Vec<&Group> = s.monthly.iter().rev().take(24).rev().collect();
    let (w, h, left, bottom, top) = (640.0, 240.0, 36.0, 40.0, 16.0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="trend-title"><title id="trend-title">月度趋势：洽谈（折线）与签约（柱）</title>"#
    );
    if months.is_empty() {
        out.push_str(r##"<text x="320" y="120" text-anchor="middle" font-size="14" fill="#666">暂无按月数据：记录洽谈或签约后显示</text></svg>"##);
        return out;
    }
    let peak = months
        .iter()
        .map(|g| g.met.max(g.contracts))
        .max()
        .unwrap_or(0);
    let (tick, ticks) = integer_ticks(peak);
    let max = (tick * ticks) as f64;
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let step = plot_w / months.len() as f64;
    let y_of = |v: f64| top + plot_h - v / max * plot_h;
    // axis and gridlines: whole numbers only, each label once
    for i in 0..=ticks {
        let v = (tick * i) as f64;
        let y = y_of(v);
        out.push_str(&format!(
            r##"<line x1="{left}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#e3e7ee"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#666">{v:.0}</text>"##,
            x2 = w - 10.0,
            tx = left - 4.0,
            ty = y + 4.0,
        ));
    }
    let mut points = Vec::new();
    for (i, g) in months.iter().enumerate() {
        let x = left + step * i as f64;
        let bw = (step * 0.5).max(2.0);
        let bh = g.contracts as f64 / max * plot_h;
        out.push_str(&format!(
            r##"<rect class="bar-contracts" data-month="{m}" x="{bx:.1}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" fill="#1f5fbf"><title>{label}：签约 {c} 项，{value}</title></rect>"##,
            m = g.key,
            bx = x + (step - bw) / 2.0,
            by = top + plot_h - bh,
            label = esc(&g.label),
            c = g.contracts,
            value = yuan(g.contract_value_yuan),
        ));
        points.push(format!("{:.1},{:.1}", x + step / 2.0, y_of(g.met as f64)));
        if months.len() <= 12 || i % 2 == 0 {
            out.push_str(&format!(
                r##"<text x="{tx:.1}" y="{ty}" font-size="11" text-anchor="middle" fill="#444">{m}</text>"##,
                tx = x + step / 2.0,
                ty = h - bottom + 16.0,
                m = &g.key[2..],
            ));
        }
    }
    out.push_str(&format!(
        r##"<polyline class="line-met" points="{}" fill="none" stroke="#d9822b" stroke-width="2"/>"##,
        points.join(" ")
    ));
    out.push_str(&format!(
        r##"<g font-size="12" fill="#333"><rect x="{l}" y="{y}" width="12" height="10" fill="#1f5fbf"/><text x="{lt}" y="{ty}">签约项数</text><line x1="{l2}" y1="{ly}" x2="{l2e}" y2="{ly}" stroke="#d9822b" stroke-width="2"/><text x="{lt2}" y="{ty}">洽谈次数</text></g>"##,
        l = left,
        y = h - 14.0,
        lt = left + 16.0,
        ty = h - 5.0,
        l2 = left + 90.0,
        l2e = left + 104.0,
        ly = h - 9.0,
        lt2 = left + 108.0,
    ));
    out.push_str("</svg>");
    out
}

/// Shade class of a heat cell (0 = empty … 5 = the largest).
pub fn heat_level(v: i64, max: i64) -> i64 {
    if v <= 0 || max <= 0 {
        0
    } else {
        1 + (v * 4 / max).min(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_axis_labels_are_whole_numbers_without_repeats() {
        for peak in 0..=1000 {
            let (step, n) = integer_ticks(peak);
            assert!(step >= 1 && (1..=5).contains(&n), "{peak}: {step} × {n}");
            assert!(step * n >= peak.max(1), "{peak}: the axis reaches the peak");
            assert!(step * (n - 1) < peak.max(1), "{peak}: no empty step on top");
        }
        assert_eq!(
            integer_ticks(3),
            (1, 3),
            "0, 1, 2, 3 — not 0, 1, 1, 2, 2, 3"
        );
        assert_eq!(integer_ticks(7), (2, 4));
    }

    fn entry(id: i64, city: &str, industry: &str, status: &str, max_stage: i64) -> LedgerEntry {
        LedgerEntry {
            id,
            kind: "pairing".into(),
            event_id: Some(1),
            event_name: None,
            enterprise_id: Some(100 + id),
            enterprise_name: None,
            university_id: Some(7),
            university_name: None,
            partner_university_id: None,
            partner_university_name: None,
            need_id: Some(id),
            partner_kind: Some("expert".into()),
            partner_id: Some(500 + id),
            project_kind: None,
            title: "t".into(),
            industry: Some(industry.into()),
            city: Some(city.into()),
            year: 2026,
            status: status.into(),
            max_stage,
            amount_yuan: (max_stage >= 4).then_some(2_000_000),
            contract_date: (max_stage >= 4).then(|| "2026-07-15".into()),
            contract_mode: None,
            reason: None,
            met_on: (max_stage >= 2).then(|| "2026-05-02".into()),
            transferred_on: (max_stage >= 5).then(|| "2026-09-01".into()),
            connection_id: None,
            registration_no: None,
            broker_id: None,
            broker_name: None,
            created_by: "x".into(),
            created_at: "2026-04-25T00:00:00Z".into(),
            updated_at: "2026-04-25T00:00:00Z".into(),
        }
    }

    #[test]
    fn targets_count_what_was_reached_and_months_have_no_gaps() {
        let entries = vec![
            entry(1, "大连", "metallurgy", "proposed", 0),
            entry(2, "大连", "metallurgy", "contract", 4),
            entry(3, "沈阳", "new_energy", "dropped", 2),
            entry(4, "北京", "new_energy", "transferred", 5),
        ];
        let s = compute(
            &entries,
            &DashboardSettings::default(),
            &Vocabulary::default(),
        );
        let v: Vec<(&str, i64)> = s.targets.iter().map(|p| (p.code, p.value)).collect();
        assert_eq!(
            v,
            [
                ("universities", 1),
                ("enterprises", 3),
                ("experts", 3),
                ("results", 1)
            ]
        );
        assert_eq!((s.contracts, s.contract_value_yuan), (2, 4_000_000));
        // 大连 is in the coastal belt only; 北京 is outside the province
        let zones: Vec<(&str, i64)> = s.by_zone.iter().map(|g| (g.key.as_str(), g.met)).collect();
        assert_eq!(
            zones,
            [("shenyang_metro", 1), ("coastal_belt", 1), ("outside", 1)]
        );
        let months: Vec<&str> = s.monthly.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(
            months,
            ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
        );
        assert_eq!(s.monthly[0].met, 3);
        assert_eq!(s.monthly[2].contracts, 2);
        assert_eq!(s.heat.max, 1);
        assert_eq!(s.heat.rows.len(), 3);
        let svg = trend_svg(&s);
        assert_eq!(svg.matches("class=\"bar-contracts\"").count(), 5);
        let bars = progress_svg(&s);
        assert!(bars.contains("3 / 1000"), "{bars}");
    }

    #[test]
    fn sums_read_like_people_write_them() {
        assert_eq!(yuan(8000), "8000 元");
        assert_eq!(yuan(3_500_000), "350 万元");
        assert_eq!(yuan(125_000_000), "1.25 亿元");
        assert_eq!(heat_level(0, 9), 0);
        assert_eq!(heat_level(9, 9), 5);
        assert_eq!(heat_level(1, 9), 1);
    }
}
