//! The structured components of a match score. Each returns a score in [0, 1] and a
//! one-line reason in Chinese naming the specifics. They are defined by role (the need side,
//! the result side), never by which side asked, so a pair scores the same from either side.

use duijie_domain::geo::{city_key, in_province, shared_zone};
use duijie_domain::vocab::{INDUSTRIES, MATURITIES, TRANSFER_MODES, label, maturity_rank};
use duijie_domain::{ListingKind, ListingText};

/// A component's value with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// In [0, 1].
    pub score: f64,
    /// One line in Chinese.
    pub reason: String,
}

/// A score, and its reason when `explain` (ranking candidates needs only the score: their
/// reasons are left empty and never written).
fn scored<R: Into<String>>(score: f64, explain: bool, reason: impl FnOnce() -> R) -> Scored {
    Scored {
        score: score.clamp(0.0, 1.0),
        reason: if explain {
            reason().into()
        } else {
            String::new()
        },
    }
}

/// Industry score when the industries differ but are related (same value chain).
pub const RELATED_INDUSTRY: f64 = 0.6;
/// Industry score when either side's industry is unknown.
pub const UNKNOWN_INDUSTRY: f64 = 0.5;

/// Pairs of industries that share technologies (symmetric).
const RELATED: &[(&str, &str)] = &[
    ("metallurgy", "new_materials"),
    ("fine_chemicals", "petrochemicals"),
    ("fine_chemicals", "new_materials"),
    ("fine_chemicals", "biomedicine"),
    ("petrochemicals", "new_energy"),
    ("new_materials", "new_energy"),
    ("intelligent_manufacturing", "advanced_equipment"),
    ("intelligent_manufacturing", "cnc_machine_tools"),
    ("intelligent_manufacturing", "information_technology"),
    ("advanced_equipment", "cnc_machine_tools"),
    ("advanced_equipment", "rail_transit"),
    ("advanced_equipment", "shipbuilding"),
    ("shipbuilding", "marine_economy"),
    ("information_technology", "integrated_circuits"),
    ("biomedicine", "tcm"),
    ("modern_agriculture", "food_processing"),
    ("modern_agriculture", "marine_economy"),
    ("food_processing", "biomedicine"),
    ("tcm", "modern_agriculture"),
];

fn industry_name(code: &str) -> String {
    label(INDUSTRIES, code).unwrap_or(code).to_string()
}

/// Whether two industry codes are related (same value chain); symmetric.
pub fn industries_related(a: &str, b: &str) -> bool {
    RELATED
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// Same industry 1, related [`RELATED_INDUSTRY`], unknown [`UNKNOWN_INDUSTRY`], different 0.
pub fn industry(a: Option<&str>, b: Option<&str>, explain: bool) -> Scored {
    match (a, b) {
        (Some(a), Some(b)) if a == b => {
            scored(1.0, explain, || format!("同属{}行业", industry_name(a)))
        }
        (Some(a), Some(b)) if industries_related(a, b) => scored(RELATED_INDUSTRY, explain, || {
            format!("行业相关：{}与{}", industry_name(a), industry_name(b))
        }),
        (Some(a), Some(b)) => scored(0.0, explain, || {
            format!("行业不同：{}与{}", industry_name(a), industry_name(b))
        }),
        _ => scored(UNKNOWN_INDUSTRY, explain, || "行业未知（至少一方未填写）"),
    }
}

/// Same city 1 > shared zone of 一圈一带两区 0.75 > both in Liaoning 0.5 > at least one
/// outside the province 0.25; unknown city 0.5.
pub fn region(a: Option<&str>, b: Option<&str>, explain: bool) -> Scored {
    let (Some(a), Some(b)) = (
        a.filter(|s| !s.trim().is_empty()),
        b.filter(|s| !s.trim().is_empty()),
    ) else {
        return scored(0.5, explain, || "地域未知（至少一方未填写城市）");
    };
    let (ca, cb) = (city_key(a), city_key(b));
    if ca == cb {
        return scored(1.0, explain, || format!("同在{ca}"));
    }
    if let Some(z) = shared_zone(cb, ca) {
        return scored(0.75, explain, || format!("{ca}与{cb}同属{}", z.label_zh()));
    }
    if in_province(ca) && in_province(cb) {
        return scored(0.5, explain, || format!("{ca}与{cb}均在辽宁省内"));
    }
    scored(0.25, explain, || format!("{ca}与{cb}，至少一方在省外"))
}

fn maturity_name(code: &str) -> String {
    label(MATURITIES, code).unwrap_or(code).to_string()
}

/// Score when the maturity of either side is missing.
pub const UNKNOWN_MATURITY: f64 = 0.7;

/// The result's maturity against the need's required maturity: reaches it 1, one level
/// short 0.4, two levels short 0; missing on either side [`UNKNOWN_MATURITY`].
pub fn maturity(result: Option<&str>, required: Option<&str>, explain: bool) -> Scored {
    let r = result.and_then(maturity_rank);
    let q = required.and_then(maturity_rank);
    match (r, q, result, required) {
        (Some(r), Some(q), Some(rc), Some(qc)) => {
            if r >= q {
                scored(1.0, explain, || {
                    format!(
                        "成果已达{}，满足需求要求的{}",
                        maturity_name(rc),
                        maturity_name(qc)
                    )
                })
            } else if q - r == 1 {
                scored(0.4, explain, || {
                    format!(
                        "成果处于{}，比需求要求的{}低一级",
                        maturity_name(rc),
                        maturity_name(qc)
                    )
                })
            } else {
                scored(0.0, explain, || {
                    format!(
                        "成果处于{}，远低于需求要求的{}",
                        maturity_name(rc),
                        maturity_name(qc)
                    )
                })
            }
        }
        (_, None, _, _) => scored(UNKNOWN_MATURITY, explain, || "成熟度要求未知（需求未填写）"),
        _ => scored(UNKNOWN_MATURITY, explain, || "成熟度未知（成果未填写）"),
    }
}

fn mode_names(codes: &[&String]) -> String {
    codes
        .iter()
        .map(|c| label(TRANSFER_MODES, c).unwrap_or(c.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

/// Share of the cooperation modes the need wants that the result accepts (|N∩R| / |N|);
/// either list empty 0.5.
pub fn modes(need: &[String], result: &[String], explain: bool) -> Scored {
    if need.is_empty() || result.is_empty() {
        return scored(0.5, explain, || "合作方式未知（至少一方未填写）");
    }
    let mut wanted: Vec<&String> = need.iter().collect();
    wanted.sort();
    wanted.dedup();
    let common: Vec<&String> = wanted
        .iter()
        .copied()
        .filter(|m| result.contains(m))
        .collect();
    let share = common.len() as f64 / wanted.len() as f64;
    if common.is_empty() {
        let mut offered: Vec<&String> = result.iter().collect();
        offered.sort();
        offered.dedup();
        scored(0.0, explain, || {
            format!(
                "无共同合作方式：需求希望{}，成果接受{}",
                mode_names(&wanted),
                mode_names(&offered)
            )
        })
    } else {
        scored(share, explain, || {
            format!(
                "合作方式一致：{}（满足需求 {}/{} 项）",
                mode_names(&common),
                common.len(),
                wanted.len()
            )
        })
    }
}

/// Formats an amount in yuan the way people read it (万元 / 亿元), to two decimals of the
/// unit rounded half away from zero, without trailing zeros (`1.5亿元`, `12.35万元`,
/// `800元`). Integer arithmetic: exact for every amount, and cheap (it is written for each
/// shown match's budget).
pub fn fmt_yuan(v: i64) -> String {
    use std::fmt::Write;
    let a = u128::from(v.unsigned_abs());
    // the unit after rounding: 99,999,950 yuan is 1亿元, not 10000万元
    let (scale, unit) = if a >= 99_999_950 {
        (100_000_000u128, "亿元")
    } else if a >= 10_000 {
        (10_000, "万元")
    } else {
        (1, "元")
    };
    let hundredths = (a * 100 + scale / 2) / scale;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    let mut s = String::with_capacity(24);
    if v < 0 {
        s.push('-');
    }
    // writing to a String cannot fail
    let _ = match frac {
        0 => write!(s, "{whole}"),
        f if f % 10 == 0 => write!(s, "{whole}.{}", f / 10),
        f => write!(s, "{whole}.{f:02}"),
    };
    s.push_str(unit);
    s
}

fn fmt_range(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a == b => fmt_yuan(a),
        (Some(a), Some(b)) => format!("{}–{}", fmt_yuan(a), fmt_yuan(b)),
        (Some(a), None) => format!("{}以上", fmt_yuan(a)),
        (None, Some(b)) => format!("{}以内", fmt_yuan(b)),
        (None, None) => "未填写".to_string(),
    }
}

/// The need's budget `[bmin, bmax]` against the result's price `[pmin, pmax]` (a missing end
/// is open): ranges overlap 1; price above the budget `bmax / pmin` (how much of the lowest
/// price the budget covers); either side entirely missing 0.5.
pub fn budget(
    need: (Option<i64>, Option<i64>),
    result: (Option<i64>, Option<i64>),
    explain: bool,
) -> Scored {
    let (bmin, bmax) = need;
    let (pmin, pmax) = result;
    if (bmin.is_none() && bmax.is_none()) || (pmin.is_none() && pmax.is_none()) {
        return scored(0.5, explain, || "预算或报价未知（至少一方未填写）");
    }
    let text = || {
        format!(
            "需求预算{}，成果报价{}",
            fmt_range(bmin, bmax),
            fmt_range(pmin, pmax)
        )
    };
    match (bmax, pmin) {
        (Some(b), Some(p)) if p > b => {
            let s = if p > 0 {
                (b.max(0) as f64) / (p as f64)
            } else {
                0.0
            };
            scored(s, explain, || format!("{}，最低报价超出预算", text()))
        }
        _ => {
            // price not above the budget's top: they overlap, or the price is below the budget
            let below = matches!((bmin, pmax), (Some(b), Some(p)) if p < b);
            if below {
                scored(1.0, explain, || format!("{}，报价低于预算", text()))
            } else {
                scored(1.0, explain, || format!("{}，区间有重叠", text()))
            }
        }
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (or the date part of an RFC 3339 time).
pub fn days_of(date: &str) -> Option<i64> {
    let d = date.get(..10)?;
    let mut parts = d.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || d.as_bytes().get(4) != Some(&b'-')
    {
        return None;
    }
    // days from civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today in days since the epoch, from the system clock (UTC).
pub fn today_days() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86_400) as i64)
        .unwrap_or(0)
}

/// Half-life of the recency bonus, days.
pub const RECENCY_HALF_LIFE_DAYS: f64 = 180.0;

/// One listing's freshness: 0 when it is a need whose deadline has passed; otherwise
/// `0.5 + 0.5 · 2^(−age / 180 days)` by the age of its last update (0.75 when unknown).
pub fn listing_freshness(l: &ListingText, today: i64, explain: bool) -> (f64, String) {
    let reason = |r: &dyn Fn() -> String| if explain { r() } else { String::new() };
    if l.kind == ListingKind::Need
        && let Some(dl) = l.deadline.as_deref()
        && let Some(d) = days_of(dl)
        && d < today
    {
        return (0.0, reason(&|| format!("需求截止日期{dl}已过")));
    }
    match days_of(&l.updated_at) {
        Some(u) => {
            let age = (today - u).max(0) as f64;
            let s = 0.5 + 0.5 * (-age / RECENCY_HALF_LIFE_DAYS).exp2();
            let why = || {
                let what = if l.kind == ListingKind::Need {
                    "需求"
                } else {
                    "成果"
                };
                let deadline = match (l.kind, l.deadline.as_deref()) {
                    (ListingKind::Need, Some(dl)) => format!("，截止{dl}"),
                    _ => String::new(),
                };
                format!("{what}{}天前更新{deadline}", age as i64)
            };
            (s, reason(&why))
        }
        None => (0.75, reason(&|| "更新时间未知".to_string())),
    }
}

/// Freshness of a pair: the mean of [`listing_freshness`] over the sides that count (saved
/// needs and results). `None` when no side counts.
pub fn freshness(sides: &[&ListingText], today: i64, explain: bool) -> Option<Scored> {
    if !explain && !sides.is_empty() {
        // the same mean, summed in the same order, without collecting the reasons
        let sum = sides
            .iter()
            .map(|l| listing_freshness(l, today, false).0)
            .sum::<f64>();
        return Some(scored(sum / sides.len() as f64, false, String::new));
    }
    let parts: Vec<(f64, String)> = sides
        .iter()
        .map(|l| listing_freshness(l, today, explain))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let mean = parts.iter().map(|p| p.0).sum::<f64>() / parts.len() as f64;
    Some(scored(mean, explain, || {
        parts
            .into_iter()
            .map(|p| p.1)
            .collect::<Vec<_>>()
            .join("；")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn industry_boundaries() {
        assert_eq!(
            industry(Some("metallurgy"), Some("metallurgy"), true).score,
            1.0
        );
        assert!(
            industry(Some("metallurgy"), Some("metallurgy"), true)
                .reason
                .contains("冶金")
        );
        assert_eq!(
            industry(Some("metallurgy"), Some("new_materials"), true).score,
            RELATED_INDUSTRY
        );
        assert_eq!(
            industry(Some("new_materials"), Some("metallurgy"), true).score,
            RELATED_INDUSTRY
        );
        assert_eq!(industry(Some("metallurgy"), Some("tcm"), true).score, 0.0);
        assert_eq!(industry(None, Some("tcm"), true).score, UNKNOWN_INDUSTRY);
        assert_eq!(industry(None, None, true).score, UNKNOWN_INDUSTRY);
    }

    #[test]
    fn region_boundaries() {
        assert_eq!(region(Some("沈阳"), Some("沈阳市"), true).score, 1.0);
        let z = region(Some("沈阳"), Some("鞍山"), true);
        assert_eq!(z.score, 0.75);
        assert!(z.reason.contains("沈阳现代化都市圈"), "{}", z.reason);
        assert_eq!(region(Some("沈阳"), Some("大连"), true).score, 0.5);
        assert_eq!(region(Some("沈阳"), Some("北京"), true).score, 0.25);
        assert_eq!(region(Some("哈尔滨"), Some("北京"), true).score, 0.25);
        assert_eq!(region(None, Some("北京"), true).score, 0.5);
        assert_eq!(region(Some(""), Some("北京"), true).score, 0.5);
    }

    #[test]
    fn maturity_boundaries() {
        assert_eq!(
            maturity(Some("industrialized"), Some("pilot"), true).score,
            1.0
        );
        assert_eq!(maturity(Some("pilot"), Some("pilot"), true).score, 1.0);
        assert_eq!(maturity(Some("lab"), Some("pilot"), true).score, 0.4);
        assert_eq!(
            maturity(Some("lab"), Some("industrialized"), true).score,
            0.0
        );
        let u = maturity(None, Some("pilot"), true);
        assert_eq!(u.score, UNKNOWN_MATURITY);
        assert!(u.reason.contains("未知"));
        assert_eq!(maturity(Some("lab"), None, true).score, UNKNOWN_MATURITY);
        assert_eq!(
            maturity(Some("bogus"), Some("pilot"), true).score,
            UNKNOWN_MATURITY
        );
    }

    #[test]
    fn modes_boundaries() {
        assert_eq!(modes(&s(&["transfer"]), &s(&["license"]), true).score, 0.0);
        assert_eq!(
            modes(
                &s(&["transfer", "license"]),
                &s(&["license", "transfer", "equity"]),
                true
            )
            .score,
            1.0
        );
        let half = modes(&s(&["transfer", "license"]), &s(&["license"]), true);
        assert_eq!(half.score, 0.5);
        assert!(half.reason.contains("许可"), "{}", half.reason);
        assert_eq!(modes(&[], &s(&["license"]), true).score, 0.5);
        assert_eq!(modes(&s(&["license"]), &[], true).score, 0.5);
    }

    #[test]
    fn ranking_candidates_scores_each_component_as_explaining_does_without_its_reason() {
        let cities = [None, Some("沈阳"), Some("鞍山"), Some("大连"), Some("北京")];
        let industries = [None, Some("metallurgy"), Some("new_materials"), Some("tcm")];
        let maturities = [None, Some("lab"), Some("pilot"), Some("industrialized")];
        let money = [None, Some(0), Some(500_000), Some(2_000_000)];
        let mode_lists = [
            vec![],
            vec!["transfer".to_string()],
            vec!["license".to_string()],
        ];
        let mut checked = 0;
        let mut same = |with: Scored, without: Scored| {
            assert_eq!(with.score, without.score, "{with:?}");
            assert!(!with.reason.is_empty(), "{with:?}");
            assert!(without.reason.is_empty(), "{without:?}");
            checked += 1;
        };
        for a in cities {
            for b in cities {
                same(region(a, b, true), region(a, b, false));
            }
        }
        for a in industries {
            for b in industries {
                same(industry(a, b, true), industry(a, b, false));
            }
        }
        for a in maturities {
            for b in maturities {
                same(maturity(a, b, true), maturity(a, b, false));
            }
        }
        for a in &mode_lists {
            for b in &mode_lists {
                same(modes(a, b, true), modes(a, b, false));
            }
        }
        for a in money {
            for b in money {
                let (need, result) = ((a, b), (b, a));
                same(budget(need, result, true), budget(need, result, false));
            }
        }
        assert_eq!(checked, 25 + 16 + 16 + 9 + 16);
    }

    #[test]
    fn budget_boundaries() {
        assert_eq!(
            budget(
                (Some(500_000), Some(1_000_000)),
                (Some(800_000), Some(1_200_000)),
                true
            )
            .score,
            1.0
        );
        let over = budget((None, Some(500_000)), (Some(1_000_000), None), true);
        assert!((over.score - 0.5).abs() < 1e-12, "{over:?}");
        assert!(over.reason.contains("50万元"), "{}", over.reason);
        assert_eq!(
            budget((Some(2_000_000), None), (None, Some(1_000_000)), true).score,
            1.0
        );
        assert_eq!(budget((None, None), (Some(1), Some(2)), true).score, 0.5);
        assert_eq!(budget((Some(1), None), (None, None), true).score, 0.5);
        assert_eq!(budget((None, Some(0)), (Some(10), None), true).score, 0.0);
        assert_eq!(fmt_yuan(150_000_000), "1.5亿元");
        assert_eq!(fmt_yuan(800), "800元");
        assert_eq!(fmt_yuan(0), "0元");
        assert_eq!(fmt_yuan(9_999), "9999元");
        assert_eq!(fmt_yuan(10_000), "1万元");
        assert_eq!(fmt_yuan(123_456), "12.35万元");
        assert_eq!(fmt_yuan(10_050), "1.01万元");
        assert_eq!(fmt_yuan(10_049), "1万元");
        assert_eq!(fmt_yuan(99_999_949), "9999.99万元");
        assert_eq!(fmt_yuan(99_999_950), "1亿元");
        assert_eq!(fmt_yuan(99_999_999), "1亿元");
        assert_eq!(fmt_yuan(100_000_000), "1亿元");
        assert_eq!(fmt_yuan(150_000_001), "1.5亿元");
        assert_eq!(fmt_yuan(123_456_789_000), "1234.57亿元");
        assert_eq!(fmt_yuan(-9_999), "-9999元");
        assert_eq!(fmt_yuan(-1_234_500), "-123.45万元");
        assert_eq!(fmt_yuan(-1_234_550), "-123.46万元");
        assert_eq!(fmt_yuan(2_030_000_000), "20.3亿元");
        assert_eq!(fmt_yuan(-25_000), "-2.5万元");
        assert_eq!(fmt_yuan(i64::MIN), "-92233720368.55亿元");
        // the float formatting it replaced, wherever its decimal is not a tie
        for v in (0..2_000_000i64)
            .step_by(7_919)
            .chain((100_000_000..3_000_000_000i64).step_by(98_765_431))
            .chain([987_654_321_000])
        {
            let x = v as f64;
            let (y, unit) = if x >= 1e8 {
                (x / 1e8, "亿元")
            } else if x >= 1e4 {
                (x / 1e4, "万元")
            } else {
                (x, "元")
            };
            let t = format!("{y:.2}");
            let old = format!("{}{unit}", t.trim_end_matches('0').trim_end_matches('.'));
            let scale = if x >= 1e8 {
                1_000_000
            } else if x >= 1e4 {
                100
            } else {
                1
            };
            if scale == 1 || v % scale != scale / 2 {
                assert_eq!(fmt_yuan(v), old, "{v}");
            }
        }
    }

    #[test]
    fn dates_and_freshness() {
        assert_eq!(days_of("1970-01-01"), Some(0));
        assert_eq!(days_of("2000-03-01"), Some(11_017));
        assert_eq!(days_of("2026-11-23T00:00:00.000Z"), days_of("2026-11-23"));
        assert_eq!(days_of("2026-13-01"), None);
        assert_eq!(days_of("20261101"), None);
        assert_eq!(days_of(""), None);
        let today = days_of("2026-11-23").unwrap();
        let mut need = ListingText {
            kind: ListingKind::Need,
            id: 1,
            external_id: None,
            title: String::new(),
            body: String::new(),
            keywords: vec![],
            organization: None,
            industry: None,
            maturity: None,
            status: "published".into(),
            modes: vec![],
            money_min: None,
            money_max: None,
            deadline: Some("2026-11-22".into()),
            updated_at: "2026-11-23T00:00:00Z".into(),
        };
        let past = freshness(&[&need], today, true).unwrap();
        let unexplained = freshness(&[&need], today, false).unwrap();
        assert_eq!(
            (unexplained.score, unexplained.reason.as_str()),
            (past.score, "")
        );
        assert_eq!(past.score, 0.0);
        assert!(past.reason.contains("已过"));
        need.deadline = Some("2027-01-01".into());
        assert_eq!(freshness(&[&need], today, true).unwrap().score, 1.0);
        need.updated_at = "2026-05-27".into(); // 180 days earlier
        assert!((freshness(&[&need], today, true).unwrap().score - 0.75).abs() < 1e-9);
        need.updated_at = String::new();
        assert_eq!(freshness(&[&need], today, true).unwrap().score, 0.75);
        assert!(freshness(&[], today, true).is_none());
    }
}
