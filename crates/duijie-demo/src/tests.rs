//! Checks of the whole data set: sizes, codes, references, limits, uniqueness, determinism.

use std::collections::{HashMap, HashSet};

use crate::material::INDUSTRIES;
use crate::orgs::ORGS;
use crate::{DemoData, chars, generate};

const KINDS: &[&str] = &["university", "enterprise", "institute", "other"];
const INDUSTRY_CODES: &[&str] = &[
    "information_technology",
    "metallurgy",
    "intelligent_manufacturing",
    "biomedicine",
    "fine_chemicals",
    "advanced_equipment",
    "petrochemicals",
    "new_materials",
    "new_energy",
    "integrated_circuits",
    "cnc_machine_tools",
    "rail_transit",
    "shipbuilding",
    "marine_economy",
    "modern_agriculture",
    "food_processing",
    "tcm",
    "culture_tourism",
];
const MATURITIES: &[&str] = &["lab", "pilot", "industrialized"];
const MODES: &[&str] = &[
    "transfer",
    "license",
    "equity",
    "joint_development",
    "commissioned_development",
    "technical_service",
];
const RESULT_STATUSES: &[&str] = &["draft", "published", "withdrawn", "transferred"];
const NEED_STATUSES: &[&str] = &["draft", "published", "matched", "closed"];
const LIAONING: &[&str] = &[
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "本溪",
    "丹东",
    "锦州",
    "营口",
    "阜新",
    "辽阳",
    "盘锦",
    "铁岭",
    "朝阳",
    "葫芦岛",
];
const HYDROGEN: &[&str] = &["氢能", "制氢", "储氢", "加氢", "燃料电池", "电解水", "氢气"];
const PLACEHOLDERS: &[&str] = &["XXX", "xxx", "TODO", "lorem", "Lorem", "某某", "{", "}"];

fn data() -> DemoData {
    generate()
}

fn in_range(s: &str, lo: usize, hi: usize) -> bool {
    (lo..=hi).contains(&chars(s))
}

#[test]
fn sizes_meet_the_minimums() {
    let d = data();
    assert!(d.organizations.len() >= 70, "{}", d.organizations.len());
    assert!(d.results.len() >= 420, "results: {}", d.results.len());
    assert!(d.needs.len() >= 260, "needs: {}", d.needs.len());
    assert!(d.experts.len() >= 130, "experts: {}", d.experts.len());
    let enterprises = d
        .organizations
        .iter()
        .filter(|o| o.kind == "enterprise")
        .count();
    assert!(enterprises >= 35, "enterprises: {enterprises}");
    let institutes = d
        .organizations
        .iter()
        .filter(|o| o.kind == "institute")
        .count();
    assert!((2..=3).contains(&institutes));
}

#[test]
fn named_institutions_are_present_in_their_cities() {
    let d = data();
    let city: HashMap<&str, &str> = d
        .organizations
        .iter()
        .map(|o| (o.name.as_str(), o.city.as_str()))
        .collect();
    let expected = [
        ("东北大学", "沈阳"),
        ("大连理工大学", "大连"),
        ("沈阳工业大学", "沈阳"),
        ("沈阳药科大学", "沈阳"),
        ("沈阳航空航天大学", "沈阳"),
        ("沈阳农业大学", "沈阳"),
        ("沈阳化工大学", "沈阳"),
        ("辽宁科技大学", "鞍山"),
        ("辽宁大学", "沈阳"),
        ("中国医科大学", "沈阳"),
        ("大连海事大学", "大连"),
        ("东北财经大学", "大连"),
        ("大连交通大学", "大连"),
        ("辽宁工程技术大学", "阜新"),
        ("大连海洋大学", "大连"),
        ("大连工业大学", "大连"),
        ("渤海大学", "锦州"),
        ("辽东学院", "丹东"),
        ("辽宁中医药大学", "沈阳"),
        ("沈阳理工大学", "沈阳"),
        ("大连医科大学", "大连"),
        ("辽宁工业大学", "锦州"),
        ("清华大学", "北京"),
        ("北京大学", "北京"),
        ("哈尔滨工业大学", "哈尔滨"),
        ("吉林大学", "长春"),
        ("鞍钢集团有限公司", "鞍山"),
        ("东软集团股份有限公司", "沈阳"),
        ("沈阳飞机工业(集团)有限公司", "沈阳"),
        ("大连船舶重工集团有限公司", "大连"),
        ("中国科学院大连化学物理研究所", "大连"),
        ("中国科学院金属研究所", "沈阳"),
    ];
    for (name, c) in expected {
        assert_eq!(city.get(name), Some(&c), "{name}");
    }
    for o in &d.organizations {
        assert!(KINDS.contains(&o.kind), "{}", o.kind);
        let outside = ["北京", "哈尔滨", "长春"].contains(&o.city.as_str());
        assert!(
            LIAONING.contains(&o.city.as_str()) || o.city == "沈抚示范区" || outside,
            "{}: {}",
            o.name,
            o.city
        );
        if outside {
            assert_eq!(o.kind, "university", "{}", o.name);
        }
        if o.kind == "university" {
            assert!(o.website.is_some(), "{}", o.name);
        }
        assert!(in_range(&o.name, 2, 50) && in_range(&o.description, 10, 600));
    }
    // Enterprises in every city of the province.
    for c in LIAONING {
        assert!(
            d.organizations
                .iter()
                .any(|o| o.kind == "enterprise" && o.city == *c),
            "no enterprise in {c}"
        );
    }
}

#[test]
fn codes_are_from_the_allowed_lists() {
    let d = data();
    for r in &d.results {
        assert!(INDUSTRY_CODES.contains(&r.industry));
        assert!(MATURITIES.contains(&r.maturity));
        assert!(RESULT_STATUSES.contains(&r.status));
        assert!(!r.transfer_modes.is_empty());
        assert!(r.transfer_modes.iter().all(|m| MODES.contains(m)));
        if let Some(t) = r.trl {
            let ok = match r.maturity {
                "lab" => (1..=4).contains(&t),
                "pilot" => (5..=7).contains(&t),
                _ => (8..=9).contains(&t),
            };
            assert!(ok, "{} trl {t} vs {}", r.external_id, r.maturity);
        }
    }
    for n in &d.needs {
        assert!(INDUSTRY_CODES.contains(&n.industry));
        assert!(NEED_STATUSES.contains(&n.status));
        assert!(!n.cooperation_modes.is_empty());
        assert!(n.cooperation_modes.iter().all(|m| MODES.contains(m)));
        assert!(n.required_maturity.is_none_or(|m| MATURITIES.contains(&m)));
        if let Some(dl) = &n.deadline {
            assert_eq!(dl.len(), 10, "{dl}");
            assert!(("2026-12-01"..="2027-12-31").contains(&dl.as_str()), "{dl}");
            let (m, day): (u32, u32) = (dl[5..7].parse().unwrap(), dl[8..].parse().unwrap());
            assert!((1..=12).contains(&m) && (1..=28).contains(&day), "{dl}");
        }
    }
    for e in &d.experts {
        assert!(INDUSTRY_CODES.contains(&e.industry));
    }
    // Mostly published.
    let published = d.results.iter().filter(|r| r.status == "published").count();
    assert!(published * 100 >= d.results.len() * 85, "{published}");
    assert!(published < d.results.len());
    let published = d.needs.iter().filter(|n| n.status == "published").count();
    assert!(published * 100 >= d.needs.len() * 75, "{published}");
}

#[test]
fn owners_resolve_and_have_the_right_kind() {
    let d = data();
    let kind: HashMap<&str, &str> = d
        .organizations
        .iter()
        .map(|o| (o.external_id.as_str(), o.kind))
        .collect();
    let research = |id: &str| matches!(kind.get(id), Some(&"university") | Some(&"institute"));
    for r in &d.results {
        assert!(research(&r.org_external_id), "{}", r.external_id);
    }
    for e in &d.experts {
        assert!(research(&e.org_external_id), "{}", e.external_id);
    }
    for n in &d.needs {
        assert_eq!(
            kind.get(n.org_external_id.as_str()),
            Some(&"enterprise"),
            "{}",
            n.external_id
        );
    }
    // Every university and institute owns results and has experts.
    for o in d.organizations.iter().filter(|o| research(&o.external_id)) {
        assert!(
            d.results.iter().any(|r| r.org_external_id == o.external_id),
            "{} has no result",
            o.name
        );
        assert!(
            d.experts.iter().any(|e| e.org_external_id == o.external_id),
            "{} has no expert",
            o.name
        );
    }
    // Results are in an industry of their owner.
    for r in &d.results {
        let spec = &ORGS[r.org_external_id[4..].parse::<usize>().unwrap() - 1];
        assert!(
            spec.industries.contains(&r.industry),
            "{} ({}) not in {}",
            r.title,
            r.industry,
            spec.name
        );
    }
}

#[test]
fn length_limits_hold() {
    let d = data();
    let keywords_ok = |k: &[String]| {
        (3..=8).contains(&k.len())
            && k.iter().all(|w| in_range(w, 2, 12))
            && k.iter().collect::<HashSet<_>>().len() == k.len()
    };
    let price_ok = |min: Option<i64>, max: Option<i64>| match (min, max) {
        (None, None) => true,
        (Some(a), Some(b)) => (50_000..=20_000_000).contains(&a) && a <= b && b <= 20_000_000,
        _ => false,
    };
    for r in &d.results {
        let id = &r.external_id;
        assert!(in_range(&r.title, 4, 60), "{id} title {}", r.title);
        assert!(
            in_range(&r.summary, 150, 600),
            "{id} summary {}: {}",
            chars(&r.summary),
            r.summary
        );
        assert!(keywords_ok(&r.keywords), "{id} keywords {:?}", r.keywords);
        assert!(chars(&r.team) <= 100, "{id} team {}", r.team);
        assert!(r.patents.len() <= 3);
        for p in &r.patents {
            let n = &p.number;
            assert!(
                n.starts_with("ZL") && n.len() == 16 && &n[14..15] == ".",
                "{n}"
            );
            assert!(n[2..14].bytes().all(|b| b.is_ascii_digit()), "{n}");
            assert!(in_range(&p.title, 6, 80), "{}", p.title);
        }
        assert!(price_ok(r.price_min, r.price_max), "{id}");
        assert!(in_range(&r.contact_name, 2, 50));
        assert!(r.contact_email.contains('@') && r.contact_email.is_ascii());
        assert!(phone_ok(&r.contact_phone), "{}", r.contact_phone);
    }
    for n in &d.needs {
        let id = &n.external_id;
        assert!(in_range(&n.title, 4, 60), "{id} title {}", n.title);
        assert!(
            in_range(&n.description, 150, 600),
            "{id} description {}: {}",
            chars(&n.description),
            n.description
        );
        assert!(keywords_ok(&n.keywords), "{id} keywords {:?}", n.keywords);
        assert!(price_ok(n.budget_min, n.budget_max), "{id}");
        assert!(in_range(&n.contact_name, 2, 50));
        assert!(n.contact_email.contains('@') && n.contact_email.is_ascii());
        assert!(phone_ok(&n.contact_phone), "{}", n.contact_phone);
    }
    for e in &d.experts {
        let id = &e.external_id;
        assert!(in_range(&e.name, 2, 50));
        assert!(in_range(&e.title, 2, 10), "{id}");
        assert!(
            in_range(&e.summary, 80, 300),
            "{id} summary {}: {}",
            chars(&e.summary),
            e.summary
        );
        assert!((2..=4).contains(&e.research_areas.len()), "{id}");
        assert!(e.research_areas.iter().all(|a| in_range(a, 2, 40)));
        assert!(keywords_ok(&e.keywords), "{id} keywords {:?}", e.keywords);
        assert!(e.contact_email.contains('@') && e.contact_email.is_ascii());
        assert!(phone_ok(&e.contact_phone), "{}", e.contact_phone);
    }
}

fn phone_ok(p: &str) -> bool {
    let mobile = p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit());
    let landline = p.split_once('-').is_some_and(|(code, local)| {
        code.starts_with('0')
            && (3..=4).contains(&code.len())
            && (7..=8).contains(&local.len())
            && (code.to_owned() + local)
                .bytes()
                .all(|b| b.is_ascii_digit())
    });
    mobile || landline
}

#[test]
fn ids_and_titles_are_unique() {
    let d = data();
    let mut ids = HashSet::new();
    for id in d
        .organizations
        .iter()
        .map(|o| &o.external_id)
        .chain(d.results.iter().map(|r| &r.external_id))
        .chain(d.needs.iter().map(|n| &n.external_id))
        .chain(d.experts.iter().map(|e| &e.external_id))
    {
        assert!(ids.insert(id.clone()), "duplicate id {id}");
    }
    assert!(d.results[0].external_id == "RES-0001" && d.needs[0].external_id == "NEED-0001");
    assert_eq!(d.experts[0].external_id, "EXP-0001");
    assert_eq!(d.organizations[0].external_id, "ORG-0001");
    let mut titles = HashSet::new();
    for t in d
        .results
        .iter()
        .map(|r| &r.title)
        .chain(d.needs.iter().map(|n| &n.title))
    {
        assert!(titles.insert(t.clone()), "duplicate title {t}");
    }
    let names: HashSet<_> = d.organizations.iter().map(|o| &o.name).collect();
    assert_eq!(names.len(), d.organizations.len());
    let experts: HashSet<_> = d.experts.iter().map(|e| &e.name).collect();
    assert_eq!(experts.len(), d.experts.len());
    let summaries: HashSet<_> = d.results.iter().map(|r| &r.summary).collect();
    assert_eq!(summaries.len(), d.results.len());
    let descriptions: HashSet<_> = d.needs.iter().map(|n| &n.description).collect();
    assert_eq!(descriptions.len(), d.needs.len());
}

/// FNV-1a over the debug rendering: a digest of everything generated.
fn digest(d: &DemoData) -> u64 {
    format!("{d:?}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[test]
fn generation_is_deterministic() {
    let (a, b) = (generate(), generate());
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(a, b);
}

#[test]
fn every_industry_is_covered() {
    let d = data();
    for code in INDUSTRY_CODES {
        let results = d.results.iter().filter(|r| r.industry == *code).count();
        let needs = d.needs.iter().filter(|n| n.industry == *code).count();
        let experts = d.experts.iter().filter(|e| e.industry == *code).count();
        assert!(results >= 10, "{code}: {results} results");
        assert!(needs >= 5, "{code}: {needs} needs");
        assert!(experts >= 2, "{code}: {experts} experts");
    }
    assert_eq!(INDUSTRIES.len(), INDUSTRY_CODES.len());
}

#[test]
fn hydrogen_and_rare_earth_are_there() {
    let d = data();
    let about_h2 = |text: &str| HYDROGEN.iter().any(|w| text.contains(w));
    let results = d
        .results
        .iter()
        .filter(|r| about_h2(&r.title) || about_h2(&r.summary))
        .count();
    let needs = d
        .needs
        .iter()
        .filter(|n| about_h2(&n.title) || about_h2(&n.description))
        .count();
    assert!(results >= 15, "hydrogen results: {results}");
    assert!(needs >= 8, "hydrogen needs: {needs}");
    assert!(
        d.results
            .iter()
            .any(|r| (r.title.clone() + &r.summary).contains("稀土金属催化剂低温制氢"))
    );
    assert!(
        d.needs
            .iter()
            .any(|n| (n.title.clone() + &n.description).contains("稀土催化制氢"))
    );
}

#[test]
fn no_placeholder_text() {
    let d = data();
    let mut texts: Vec<&str> = Vec::new();
    for o in &d.organizations {
        texts.extend([o.name.as_str(), &o.description]);
    }
    for r in &d.results {
        texts.extend([r.title.as_str(), &r.summary, &r.team]);
        texts.extend(r.keywords.iter().map(String::as_str));
        texts.extend(r.patents.iter().map(|p| p.title.as_str()));
    }
    for n in &d.needs {
        texts.extend([n.title.as_str(), &n.description]);
        texts.extend(n.keywords.iter().map(String::as_str));
    }
    for e in &d.experts {
        texts.extend([e.name.as_str(), &e.title, &e.summary]);
        texts.extend(e.research_areas.iter().map(String::as_str));
    }
    for t in texts {
        for p in PLACEHOLDERS {
            assert!(!t.contains(p), "placeholder {p:?} in {t}");
        }
        assert!(
            !t.contains("。。") && !t.contains("，。") && !t.contains("，，"),
            "{t}"
        );
        assert!(!t.trim().is_empty());
    }
}

#[test]
fn needs_have_counterparts_among_results() {
    // Every need comes from a topic that also has results; check they share keywords.
    let d = data();
    let result_keywords: HashSet<&str> = d
        .results
        .iter()
        .flat_map(|r| r.keywords.iter().map(String::as_str))
        .collect();
    let matched = d
        .needs
        .iter()
        .filter(|n| {
            n.keywords
                .iter()
                .any(|k| result_keywords.contains(k.as_str()))
        })
        .count();
    assert_eq!(matched, d.needs.len());
}

#[test]
fn material_is_well_formed() {
    for ind in INDUSTRIES {
        for t in ind.topics {
            assert!(!t.routes.is_empty(), "{}", t.area);
            assert!(t.metrics.len() >= 3, "{}", t.area);
            for ri in 0..t.routes.len() {
                assert!(t.metrics_for(ri).len() >= 2, "{} route {ri}", t.area);
            }
            for m in t.metrics {
                if let Some((tag, _)) = m.split_once('|') {
                    assert!(
                        tag.bytes().all(|b| (b - b'0') < t.routes.len() as u8),
                        "{m}"
                    );
                }
            }
            assert!(t.patents.len() <= 2 * t.routes.len(), "{}", t.area);
            assert!((3..=8).contains(&t.keywords.len()), "{}", t.area);
            assert!(in_range(t.area, 2, 20), "{}", t.area);
            for kw in t.keywords.iter().chain(t.routes.iter().flat_map(|r| r.kw)) {
                assert!(in_range(kw, 2, 12), "{kw}");
            }
            for o in t.owners {
                let spec = &ORGS[crate::orgs::index_of(o)];
                assert!(
                    spec.industries.contains(&ind.code),
                    "{o} not in {}",
                    ind.code
                );
            }
            for a in t.asks {
                let spec = &ORGS[crate::orgs::index_of(a.by)];
                assert_eq!(spec.kind, "enterprise", "{}", a.by);
            }
            assert!(!t.problem.ends_with('。') && !t.scene.ends_with('。'));
        }
    }
    for o in ORGS {
        assert!(o.domain.is_ascii() && o.key.is_ascii());
        assert!(!o.industries.is_empty());
        for i in o.industries {
            assert!(INDUSTRY_CODES.contains(i), "{i}");
        }
    }
}

/// Prints a few records; run with `cargo test -p duijie-demo -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_samples() {
    let d = data();
    for r in d.results.iter().take(6) {
        println!("{r:#?}\n");
    }
    for n in d.needs.iter().take(4) {
        println!("{n:#?}\n");
    }
    for e in d.experts.iter().take(4) {
        println!("{e:#?}\n");
    }
    println!(
        "orgs {} results {} needs {} experts {}",
        d.organizations.len(),
        d.results.len(),
        d.needs.len(),
        d.experts.len()
    );
}

/// Prints every record, one per line; run with `-- --ignored dump --nocapture`.
#[test]
#[ignore]
fn dump() {
    let d = data();
    for o in &d.organizations {
        println!("ORG\t{}\t{}\t{}\t{}", o.external_id, o.kind, o.city, o.name);
    }
    for r in &d.results {
        println!(
            "RES\t{}\t{}\t{}\t{}\t{:?}\t{:?}-{:?}\t{}\t{}\t{}\t{:?}\t{}",
            r.external_id,
            r.org_external_id,
            r.industry,
            r.maturity,
            r.transfer_modes,
            r.price_min,
            r.price_max,
            r.status,
            r.title,
            r.summary,
            r.keywords,
            r.team
        );
    }
    for n in &d.needs {
        println!(
            "NEED\t{}\t{}\t{}\t{:?}\t{:?}-{:?}\t{:?}\t{}\t{}\t{}",
            n.external_id,
            n.org_external_id,
            n.industry,
            n.cooperation_modes,
            n.budget_min,
            n.budget_max,
            n.deadline,
            n.status,
            n.title,
            n.description
        );
    }
    for e in &d.experts {
        println!(
            "EXP\t{}\t{}\t{}\t{}\t{}\t{:?}\t{:?}\t{}",
            e.external_id,
            e.org_external_id,
            e.name,
            e.title,
            e.industry,
            e.research_areas,
            e.keywords,
            e.summary
        );
    }
}
