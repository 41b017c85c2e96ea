//! Integration tests of the matching engine on a small index built in a temporary directory.

use duijie_domain::{ListingKind, ListingText, OrgSummary, zones_of_city};
use duijie_index::similar::TermVector;
use duijie_index::{IndexOptions, SearchIndex};
use duijie_match::engine::{
    ComponentKind, MatchError, MatchFilters, MatchOptions, MatchWeights, Matcher, MatcherConfig,
    WeightsOverride,
};
use duijie_text::{Analyzer, AnalyzerConfig, Stopwords, Synonyms};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn dict(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/dict")).join(name)
}

fn analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| {
        Arc::new(
            Analyzer::new(&AnalyzerConfig {
                hmm: false,
                user_dict: Some(dict("user.dict")),
            })
            .expect("analyzer"),
        )
    })
    .clone()
}

fn org(city: &str) -> Option<OrgSummary> {
    Some(OrgSummary {
        id: 1,
        name: format!("{city}某单位"),
        kind: "university".into(),
        city: Some(city.into()),
        zones: zones_of_city(city).into_iter().map(|z| z.code()).collect(),
    })
}

fn listing(kind: ListingKind, id: i64, title: &str, body: &str) -> ListingText {
    ListingText {
        kind,
        id,
        external_id: Some(format!("{}-{id}", kind.code())),
        title: title.into(),
        body: body.into(),
        keywords: vec![],
        organization: None,
        industry: None,
        maturity: None,
        status: "published".into(),
        modes: vec![],
        money_min: None,
        money_max: None,
        deadline: None,
        updated_at: "2026-11-01T00:00:00Z".into(),
    }
}

const TODAY: &str = "2026-11-23";

fn need_h2() -> ListingText {
    let mut n = listing(
        ListingKind::Need,
        1,
        "稀土催化制氢技术需求",
        "我公司希望引进稀土催化制氢技术，降低电解水制氢的能耗和成本，要求催化剂稳定、可在较低温度下运行。",
    );
    n.keywords = vec!["稀土".into(), "催化剂".into(), "制氢".into()];
    n.organization = org("沈阳");
    n.industry = Some("new_energy".into());
    n.maturity = Some("pilot".into());
    n.modes = vec!["license".into(), "transfer".into()];
    n.money_min = Some(500_000);
    n.money_max = Some(2_000_000);
    n.deadline = Some("2027-06-30".into());
    n
}

fn result_h2() -> ListingText {
    let mut r = listing(
        ListingKind::Result,
        10,
        "稀土金属催化剂低温制氢技术",
        "采用稀土金属催化剂，在低温条件下实现高效制氢，催化剂寿命长，制氢能耗降低三成，已完成中试。",
    );
    r.keywords = vec!["稀土金属".into(), "催化剂".into(), "低温制氢".into()];
    r.organization = org("大连");
    r.industry = Some("new_energy".into());
    r.maturity = Some("pilot".into());
    r.modes = vec!["license".into()];
    r.money_min = Some(1_000_000);
    r.money_max = Some(1_500_000);
    r
}

const FILLER: &[&str] = &[
    "数控机床热误差补偿|基于温度传感器的数控机床热误差建模与实时补偿，提高加工精度。",
    "船舶焊接机器人|面向船舶分段的焊接机器人视觉引导与路径规划系统。",
    "中药配方颗粒质量控制|中药配方颗粒的指纹图谱与质量一致性评价方法。",
    "海水养殖尾水处理|海水养殖尾水的生物净化与循环利用技术。",
    "高炉炼铁智能控制|高炉炼铁过程的炉温预测与智能优化控制。",
    "锂离子电池正极材料|高镍三元锂离子电池正极材料的制备与包覆改性。",
    "玉米秸秆饲料化|玉米秸秆青贮与微生物发酵饲料化利用技术。",
    "轨道交通信号系统|城市轨道交通列车自动控制信号系统的国产化。",
    "集成电路封装测试|先进集成电路封装的可靠性测试与失效分析。",
    "工业互联网平台|面向中小企业的工业互联网平台与设备上云。",
    "精细化工催化加氢|精细化工中间体的选择性催化加氢工艺。",
    "水稻病虫害监测|基于图像识别的水稻病虫害智能监测预警。",
    "食品冷链保鲜|生鲜食品冷链物流中的保鲜包装与温度监控。",
    "钢铁表面缺陷检测|基于深度学习的带钢表面缺陷在线检测。",
    "风电叶片健康监测|风力发电机叶片的振动监测与故障诊断。",
    "生物医药抗体制备|单克隆抗体的高效表达与纯化工艺。",
];

struct Fixture {
    _dir: tempfile::TempDir,
    index: Arc<SearchIndex>,
    matcher: Matcher,
}

fn fixture(filler_copies: usize) -> Fixture {
    fixture_of(&[fixture_docs(filler_copies)])
}

/// An index in a temporary directory holding `batches`, each committed on its own (its own
/// segment), and a matcher over it.
fn fixture_of(batches: &[Vec<ListingText>]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let syn = Arc::new(Synonyms::load(&dict("synonyms.txt"), &analyzer()).expect("synonyms"));
    let index = Arc::new(
        SearchIndex::open(
            dir.path(),
            analyzer(),
            syn,
            &IndexOptions {
                writer_threads: 1,
                writer_memory: 32 << 20,
                ..Default::default()
            },
        )
        .expect("open"),
    );
    for (seq, docs) in batches.iter().enumerate() {
        index.apply(&[], docs, seq as i64 + 1).expect("apply");
    }
    let stop = Arc::new(Stopwords::load(&dict("stopwords.txt")).expect("stopwords"));
    let matcher = Matcher::new(index.clone(), stop, MatchWeights::default()).expect("matcher");
    Fixture {
        _dir: dir,
        index,
        matcher,
    }
}

/// The fixture's listings: the related need and result, withdrawn and closed copies, an
/// unrelated result, two experts, and `filler_copies` copies of the fillers.
fn fixture_docs(filler_copies: usize) -> Vec<ListingText> {
    let mut docs = vec![need_h2(), result_h2()];
    let mut unrelated = listing(
        ListingKind::Result,
        11,
        "数控机床主轴故障诊断",
        "针对数控机床主轴的振动信号进行故障诊断与寿命预测。",
    );
    unrelated.organization = org("沈阳");
    unrelated.industry = Some("cnc_machine_tools".into());
    docs.push(unrelated);
    let mut withdrawn = result_h2();
    withdrawn.id = 12;
    withdrawn.title = "稀土催化制氢新工艺".into();
    withdrawn.status = "withdrawn".into();
    docs.push(withdrawn);
    let mut closed = need_h2();
    closed.id = 2;
    closed.status = "closed".into();
    docs.push(closed);
    let mut other_need = listing(
        ListingKind::Need,
        3,
        "低温制氢催化剂",
        "寻求低温高效的制氢催化剂，可替代贵金属。",
    );
    other_need.industry = Some("new_energy".into());
    docs.push(other_need);
    let mut expert = listing(
        ListingKind::Expert,
        20,
        "张明 教授",
        "长期从事稀土催化材料与氢能研究，主持电解水制氢催化剂项目。",
    );
    expert.keywords = vec!["稀土催化".into(), "氢能".into()];
    expert.organization = org("大连");
    expert.industry = Some("new_energy".into());
    docs.push(expert);
    let mut other_expert = listing(
        ListingKind::Expert,
        21,
        "李华 研究员",
        "从事中药质量控制与药物分析研究。",
    );
    other_expert.industry = Some("tcm".into());
    docs.push(other_expert);
    let mut id = 100;
    for copy in 0..filler_copies {
        for (i, f) in FILLER.iter().enumerate() {
            let (t, b) = f.split_once('|').unwrap_or((f, f));
            let kind = if (i + copy) % 2 == 0 {
                ListingKind::Result
            } else {
                ListingKind::Need
            };
            let mut l = listing(
                kind,
                id,
                t,
                &format!(
                    "{b}{}",
                    if copy > 0 {
                        "应用推广与示范。"
                    } else {
                        ""
                    }
                ),
            );
            l.industry = Some(
                [
                    "metallurgy",
                    "tcm",
                    "new_materials",
                    "information_technology",
                ][i % 4]
                    .into(),
            );
            docs.push(l);
            id += 1;
        }
    }
    docs
}

fn opts() -> MatchOptions {
    MatchOptions {
        today: Some(TODAY.into()),
        ..Default::default()
    }
}

#[test]
fn need_ranks_the_related_result_first_with_matched_terms_and_highlights() {
    for copies in [0, 4] {
        let f = fixture(copies);
        let stats = f.matcher.refresh_model().unwrap();
        assert_eq!(
            stats.dims > 0,
            copies > 0,
            "semantic model only with enough listings: {stats:?}"
        );
        let m = f
            .matcher
            .for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap();
        assert!(!m.is_empty());
        assert_eq!(m[0].id, 10, "{m:#?}");
        if let Some(pos) = m.iter().position(|x| x.id == 11) {
            assert!(m[pos].score < m[0].score);
        }
        let terms = &m[0].matched_terms;
        assert!(terms.iter().any(|t| t.contains("稀土")), "{terms:?}");
        assert!(terms.iter().any(|t| t.contains("制氢")), "{terms:?}");
        assert!(terms.iter().any(|t| t.contains("催化")), "{terms:?}");
        assert!(
            m[0].highlights.title.contains("<mark>"),
            "{:?}",
            m[0].highlights
        );
        assert!(
            m[0].highlights.summary.contains("<mark>"),
            "{:?}",
            m[0].highlights
        );
        let text = &m[0].breakdown[0];
        assert_eq!(text.component, ComponentKind::Text);
        assert!(
            text.reason.contains("共同关键词") && text.reason.contains("稀土"),
            "{}",
            text.reason
        );
        // serialisation uses exactly the agreed field names
        let json = serde_json::to_value(&m[0]).unwrap();
        for k in [
            "id",
            "external_id",
            "kind",
            "title",
            "score",
            "breakdown",
            "matched_terms",
            "highlights",
        ] {
            assert!(json.get(k).is_some(), "{k} missing in {json}");
        }
        assert_eq!(json["breakdown"][0]["component"], "text");
        assert!(
            json["highlights"].get("title").is_some()
                && json["highlights"].get("summary").is_some()
        );
    }
}

#[test]
fn withdrawn_results_and_closed_needs_are_never_proposed() {
    let f = fixture(2);
    let big = MatchOptions {
        limit: 200,
        candidates: Some(1000),
        ..opts()
    };
    let results = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Result, &big)
        .unwrap();
    assert!(
        results.iter().all(|m| m.id != 12),
        "withdrawn result proposed"
    );
    let needs = f
        .matcher
        .for_listing(&result_h2(), ListingKind::Need, &big)
        .unwrap();
    assert!(needs.iter().all(|m| m.id != 2), "closed need proposed");
    assert!(
        needs.iter().any(|m| m.id == 1) && needs.iter().any(|m| m.id == 3),
        "{needs:#?}"
    );
    let text = f
        .matcher
        .for_text("稀土催化制氢", ListingKind::Result, &big)
        .unwrap();
    assert!(text.iter().all(|m| m.id != 12));
    // the source itself is never proposed
    let same = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Need, &big)
        .unwrap();
    assert!(same.iter().all(|m| m.id != 1));
}

#[test]
fn breakdown_weights_sum_to_one_and_explain_the_score_exactly() {
    let f = fixture(2);
    for target in [ListingKind::Result, ListingKind::Need, ListingKind::Expert] {
        for m in f
            .matcher
            .for_listing(
                &need_h2(),
                target,
                &MatchOptions {
                    limit: 50,
                    ..opts()
                },
            )
            .unwrap()
        {
            let sum_w: f64 = m.breakdown.iter().map(|c| c.weight).sum();
            let sum: f64 = m.breakdown.iter().map(|c| c.weight * c.score).sum();
            assert!((sum_w - 1.0).abs() < 1e-12, "{m:#?}");
            assert!((sum - m.score).abs() < 1e-12, "{m:#?}");
            assert!(
                m.breakdown
                    .iter()
                    .all(|c| (0.0..=1.0).contains(&c.score) && !c.reason.is_empty())
            );
            assert!((0.0..=1.0).contains(&m.score));
        }
    }
}

#[test]
fn pair_scores_are_symmetric_and_agree_with_ranked_matches() {
    let f = fixture(2);
    let w = MatchWeights::default();
    let (n, r) = (need_h2(), result_h2());
    let ab = f.matcher.pair_score(&n, &r, &w).unwrap();
    let ba = f.matcher.pair_score(&r, &n, &w).unwrap();
    assert_eq!(ab.score, ba.score);
    for (x, y) in ab.breakdown.iter().zip(&ba.breakdown) {
        assert_eq!(
            (x.component, x.score, x.weight),
            (y.component, y.score, y.weight)
        );
    }
    assert_eq!(ab.id, 10);
    assert_eq!(ba.id, 1);
    // unrelated pairs too, and listings of the same kind
    let mut other = listing(
        ListingKind::Result,
        11,
        "数控机床主轴故障诊断",
        "针对数控机床主轴的振动信号进行故障诊断与寿命预测。",
    );
    other.organization = org("沈阳");
    assert_eq!(
        f.matcher.pair_score(&n, &other, &w).unwrap().score,
        f.matcher.pair_score(&other, &n, &w).unwrap().score
    );
    assert_eq!(
        f.matcher.pair_score(&r, &other, &w).unwrap().score,
        f.matcher.pair_score(&other, &r, &w).unwrap().score
    );
    // the ranked list scores the pair as pair_score does (same vectors, same model)
    let ranked = f
        .matcher
        .for_listing(&n, ListingKind::Result, &opts())
        .unwrap();
    let from_list = ranked.iter().find(|m| m.id == 10).unwrap();
    let pa = f.matcher.prepare(&n).unwrap();
    let pb = f.matcher.prepare(&r).unwrap();
    let direct = f
        .matcher
        .pair_score_prepared(&pa, &pb, &w, Some(TODAY))
        .unwrap();
    assert!(
        (from_list.score - direct.score).abs() < 1e-9,
        "{} vs {}",
        from_list.score,
        direct.score
    );
    // and from the result's side
    let back = f
        .matcher
        .for_listing(&r, ListingKind::Need, &opts())
        .unwrap();
    let from_back = back.iter().find(|m| m.id == 1).unwrap();
    assert!(
        (from_back.score - from_list.score).abs() < 1e-9,
        "{} vs {}",
        from_back.score,
        from_list.score
    );
}

#[test]
fn need_result_components_have_specific_reasons() {
    let f = fixture(0);
    let m = f
        .matcher
        .pair_score(&need_h2(), &result_h2(), &MatchWeights::default())
        .unwrap();
    let get = |c: ComponentKind| m.breakdown.iter().find(|x| x.component == c).unwrap();
    assert_eq!(get(ComponentKind::Industry).score, 1.0);
    assert_eq!(
        get(ComponentKind::Region).score,
        0.5,
        "沈阳 and 大连 share no zone: {}",
        get(ComponentKind::Region).reason
    );
    assert_eq!(get(ComponentKind::Maturity).score, 1.0);
    assert_eq!(get(ComponentKind::Modes).score, 0.5);
    assert!(get(ComponentKind::Modes).reason.contains("许可"));
    assert_eq!(get(ComponentKind::Budget).score, 1.0);
    assert!(get(ComponentKind::Budget).reason.contains("万元"));
    assert_eq!(m.breakdown.len(), 7);
}

#[test]
fn experts_leave_out_result_only_components() {
    let f = fixture(2);
    let m = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Expert, &opts())
        .unwrap();
    assert_eq!(m[0].id, 20, "{m:#?}");
    for x in &m {
        let kinds: Vec<ComponentKind> = x.breakdown.iter().map(|c| c.component).collect();
        assert!(
            !kinds.contains(&ComponentKind::Maturity)
                && !kinds.contains(&ComponentKind::Modes)
                && !kinds.contains(&ComponentKind::Budget),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&ComponentKind::Text)
                && kinds.contains(&ComponentKind::Industry)
                && kinds.contains(&ComponentKind::Region)
        );
        let w = MatchWeights::default();
        let text = x
            .breakdown
            .iter()
            .find(|c| c.component == ComponentKind::Text)
            .unwrap();
        let applicable = w.text + w.industry + w.region + w.freshness;
        assert!(
            (text.weight - w.text / applicable).abs() < 1e-12,
            "{text:?}"
        );
    }
}

#[test]
fn weights_override_and_validation() {
    let f = fixture(0);
    let only_text = WeightsOverride {
        text: Some(1.0),
        industry: Some(0.0),
        region: Some(0.0),
        maturity: Some(0.0),
        modes: Some(0.0),
        budget: Some(0.0),
        freshness: Some(0.0),
    };
    let m = f
        .matcher
        .for_listing(
            &need_h2(),
            ListingKind::Result,
            &MatchOptions {
                weights: only_text,
                ..opts()
            },
        )
        .unwrap();
    for x in &m {
        let text = x
            .breakdown
            .iter()
            .find(|c| c.component == ComponentKind::Text)
            .unwrap();
        assert_eq!(text.weight, 1.0);
        assert!((x.score - text.score).abs() < 1e-12);
    }
    let region_heavy = WeightsOverride {
        region: Some(5.0),
        ..Default::default()
    };
    let m2 = f
        .matcher
        .for_listing(
            &need_h2(),
            ListingKind::Result,
            &MatchOptions {
                weights: region_heavy,
                ..opts()
            },
        )
        .unwrap();
    let region = m2[0]
        .breakdown
        .iter()
        .find(|c| c.component == ComponentKind::Region)
        .unwrap();
    assert!(region.weight > 0.5, "{region:?}");

    let bad = |o: MatchOptions| {
        f.matcher
            .for_listing(&need_h2(), ListingKind::Result, &o)
            .unwrap_err()
    };
    let e = bad(MatchOptions {
        weights: WeightsOverride {
            text: Some(-0.1),
            ..Default::default()
        },
        ..opts()
    });
    assert_eq!(e.code(), "invalid_weight");
    let zero = WeightsOverride {
        text: Some(0.0),
        ..only_text
    };
    assert_eq!(
        bad(MatchOptions {
            weights: zero,
            ..opts()
        }),
        MatchError::AllWeightsZero
    );
    assert_eq!(
        bad(MatchOptions { limit: 0, ..opts() }).code(),
        "invalid_limit"
    );
    assert_eq!(
        bad(MatchOptions {
            limit: 10_000,
            ..opts()
        })
        .code(),
        "invalid_limit"
    );
    assert_eq!(
        bad(MatchOptions {
            today: Some("2026/11/23".into()),
            ..opts()
        })
        .code(),
        "invalid_date"
    );
    // only result-side components weighted: nothing applies to experts
    let result_only = WeightsOverride {
        text: Some(0.0),
        industry: Some(0.0),
        region: Some(0.0),
        freshness: Some(0.0),
        ..Default::default()
    };
    let e = f
        .matcher
        .for_listing(
            &need_h2(),
            ListingKind::Expert,
            &MatchOptions {
                weights: result_only,
                ..opts()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "no_applicable_weight");
    assert!(
        Matcher::new(
            f.index.clone(),
            Arc::new(Stopwords::default()),
            MatchWeights {
                text: f64::NAN,
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[test]
fn unsaved_text_filters_exclusions_and_ids() {
    let f = fixture(2);
    let m = f
        .matcher
        .for_text("想找稀土催化制氢的技术", ListingKind::Result, &opts())
        .unwrap();
    assert_eq!(m[0].id, 10, "{m:#?}");
    assert!(
        !m[0]
            .breakdown
            .iter()
            .any(|c| c.component == ComponentKind::Freshness && c.reason.contains("需求")),
        "unsaved text has no freshness of its own"
    );
    assert_eq!(
        f.matcher
            .for_text("  ", ListingKind::Result, &opts())
            .unwrap_err(),
        MatchError::EmptyText
    );
    assert_eq!(
        f.matcher
            .for_text("，。！", ListingKind::Result, &opts())
            .unwrap_err()
            .code(),
        "empty_text"
    );

    let city = |c: &str| {
        let o = MatchOptions {
            filters: MatchFilters {
                city: Some(c.into()),
                ..Default::default()
            },
            ..opts()
        };
        f.matcher
            .for_listing(&need_h2(), ListingKind::Result, &o)
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(city("大连"), vec![10]);
    // the only result in 沈阳 shares no term with the need: candidates come from the index
    assert!(city("沈阳").iter().all(|id| *id == 11));
    let industry = MatchOptions {
        filters: MatchFilters {
            industry: Some("cnc_machine_tools".into()),
            ..Default::default()
        },
        ..opts()
    };
    assert!(
        f.matcher
            .for_listing(&need_h2(), ListingKind::Result, &industry)
            .unwrap()
            .iter()
            .all(|x| x.id == 11)
    );
    let excluded = f
        .matcher
        .for_listing(
            &need_h2(),
            ListingKind::Result,
            &MatchOptions {
                exclude: vec![(ListingKind::Result, 10)],
                ..opts()
            },
        )
        .unwrap();
    assert!(excluded.iter().all(|x| x.id != 10));

    let by_id = f
        .matcher
        .for_id(ListingKind::Need, 1, ListingKind::Result, &opts())
        .unwrap();
    assert_eq!(by_id[0].id, 10);
    let direct = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Result, &opts())
        .unwrap();
    assert!((by_id[0].score - direct[0].score).abs() < 1e-9);
    assert_eq!(
        f.matcher
            .for_id(ListingKind::Need, 999, ListingKind::Result, &opts())
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[test]
fn model_follows_index_changes_and_is_deterministic() {
    let f = fixture(3);
    let a = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Result, &opts())
        .unwrap();
    let b = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Result, &opts())
        .unwrap();
    assert_eq!(a, b);
    let before = f.matcher.model().unwrap().n_docs();
    let mut r = result_h2();
    r.id = 13;
    r.title = "稀土催化制氢装置".into();
    f.index.apply(&[], &[r], 2).unwrap();
    assert_eq!(
        f.matcher.model().unwrap().n_docs(),
        before + 1,
        "small indexes rebuild the model at once"
    );
    let m = f
        .matcher
        .for_listing(&need_h2(), ListingKind::Result, &opts())
        .unwrap();
    assert!(m.iter().any(|x| x.id == 13));
    // a second matcher over the same index builds the same model and scores
    let other = Matcher::with_config(
        f.index.clone(),
        Arc::new(Stopwords::load(&dict("stopwords.txt")).unwrap()),
        MatchWeights::default(),
        MatcherConfig::default(),
    )
    .unwrap();
    assert_eq!(
        other
            .for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap(),
        m
    );
}

#[test]
fn the_model_depends_on_the_listings_not_on_their_segments() {
    let docs = fixture_docs(3);
    let one = fixture_of(std::slice::from_ref(&docs));
    // the same listings, backwards, in three commits (three segments)
    let mut reversed = docs.clone();
    reversed.reverse();
    let third = reversed.len() / 3;
    let batches: Vec<Vec<ListingText>> = vec![
        reversed[..third].to_vec(),
        reversed[third..2 * third].to_vec(),
        reversed[2 * third..].to_vec(),
    ];
    let three = fixture_of(&batches);
    assert!(three.index.searcher().segment_readers().len() > 1);
    let (a, b) = (one.matcher.model().unwrap(), three.matcher.model().unwrap());
    assert!(a.has_semantic());
    assert_eq!(a.stats().semantic_terms, b.stats().semantic_terms);
    assert_eq!(a.stats().dims, b.stats().dims);
    let stop = Stopwords::load(&dict("stopwords.txt")).unwrap();
    for l in [need_h2(), result_h2(), docs[docs.len() - 1].clone()] {
        let terms = TermVector::of_listing(&analyzer(), &l).terms;
        let (pa, pb) = (
            a.prepare(terms.iter().map(|(t, w)| (t.as_str(), *w)), &stop),
            b.prepare(terms.iter().map(|(t, w)| (t.as_str(), *w)), &stop),
        );
        assert_eq!(pa.terms, pb.terms, "term ids and weights of {}", l.title);
        assert_eq!(pa.semantic, pb.semantic, "semantic vector of {}", l.title);
        assert!(pa.semantic.is_some());
    }
    // and so every score, to the last bit
    for kind in [ListingKind::Result, ListingKind::Expert] {
        let ma = one.matcher.for_listing(&need_h2(), kind, &opts()).unwrap();
        let mb = three
            .matcher
            .for_listing(&need_h2(), kind, &opts())
            .unwrap();
        assert!(!ma.is_empty());
        assert_eq!(ma, mb);
    }
    // a model trained on a sample (a third of the listings, picked by a hash of each) too
    let sampled = |f: &Fixture| {
        let mut config = MatcherConfig::default();
        config.semantic_params.train_max_docs = docs.len() / 3;
        built_matcher(f, config)
    };
    let ((sa, stats_a), (sb, stats_b)) = (sampled(&one), sampled(&three));
    assert!(stats_a.dims > 0, "{stats_a:?}");
    assert_eq!(
        (stats_a.semantic_terms, stats_a.dims),
        (stats_b.semantic_terms, stats_b.dims)
    );
    let ma = sa
        .for_listing(&need_h2(), ListingKind::Result, &opts())
        .unwrap();
    assert!(!ma.is_empty());
    assert_eq!(
        ma,
        sb.for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap()
    );
}

#[test]
fn score_only_path_gives_exactly_the_full_paths_score() {
    let f = fixture(3);
    let heavy_text = MatchWeights {
        text: 0.9,
        ..Default::default()
    };
    let listings = [
        need_h2(),
        result_h2(),
        listing(
            ListingKind::Result,
            11,
            "数控机床主轴故障诊断",
            "针对数控机床主轴的振动信号进行故障诊断与寿命预测。",
        ),
        listing(
            ListingKind::Expert,
            20,
            "张明 教授",
            "长期从事稀土催化材料与氢能研究，主持电解水制氢催化剂项目。",
        ),
        listing(ListingKind::Need, 99, "无关", "完全没有共同词语的文字"),
    ];
    let prepared: Vec<_> = listings
        .iter()
        .map(|l| f.matcher.prepare(l).unwrap())
        .collect();
    for w in [MatchWeights::default(), heavy_text] {
        for a in &prepared {
            for b in &prepared {
                let full = f
                    .matcher
                    .pair_score_prepared(a, b, &w, Some(TODAY))
                    .unwrap();
                let only = f.matcher.pair_score_only(a, b, &w, Some(TODAY)).unwrap();
                assert_eq!(full.score, only, "{} → {}", a.listing().id, b.listing().id);
            }
        }
    }
    // invalid weights fail the same way on both paths
    let bad = MatchWeights {
        text: -1.0,
        ..Default::default()
    };
    assert!(
        f.matcher
            .pair_score_only(&prepared[0], &prepared[1], &bad, None)
            .is_err()
    );
}

#[test]
fn ranking_without_explanations_matches_the_explained_ranking() {
    let f = fixture(3);
    for (source, target) in [
        (need_h2(), ListingKind::Result),
        (need_h2(), ListingKind::Expert),
        (result_h2(), ListingKind::Need),
        (result_h2(), ListingKind::Result),
    ] {
        let explained = f.matcher.for_listing(&source, target, &opts()).unwrap();
        let ranked = f.matcher.rank_listing(&source, target, &opts()).unwrap();
        assert!(!ranked.is_empty());
        let a: Vec<(ListingKind, i64, f64)> =
            explained.iter().map(|m| (m.kind, m.id, m.score)).collect();
        let b: Vec<(ListingKind, i64, f64)> =
            ranked.iter().map(|m| (m.kind, m.id, m.score)).collect();
        assert_eq!(a, b);
    }
}

#[test]
fn cached_listing_vectors_equal_a_fresh_analysis() {
    let f = fixture(3);
    let model = f.matcher.model().unwrap();
    assert!(model.has_semantic());
    let stats = model.stats();
    assert_eq!(stats.cached_docs as u64, stats.docs);
    assert!(stats.cache_bytes > 0);
    let stop = Stopwords::load(&dict("stopwords.txt")).unwrap();
    let mut checked = 0;
    for (kind, id) in [
        (ListingKind::Need, 1),
        (ListingKind::Result, 10),
        (ListingKind::Result, 11),
        (ListingKind::Expert, 20),
        (ListingKind::Result, 100),
        (ListingKind::Need, 101),
    ] {
        let stored = f.index.get_listing(kind, id).unwrap().unwrap();
        let cached = model
            .cached(kind, id, &stored.encoded_terms)
            .expect("indexed listings are cached");
        let fresh = model.prepare(stored.terms(), &stop);
        assert_eq!(cached.terms, fresh.terms);
        assert_eq!(cached.norm, fresh.norm);
        assert_eq!(cached.semantic, fresh.semantic);
        assert!(cached.semantic.is_some());
        // another text under the same id is not served from the cache
        assert!(model.cached(kind, id, "其他:1").is_none());
        assert!(
            model
                .cached(kind, id + 10_000, &stored.encoded_terms)
                .is_none()
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
    // a listing read elsewhere (the store) with the texts it was indexed with gets the kept
    // vectors without being analysed, equal to an analysis of its texts; once its texts
    // differ from the indexed ones (edited since), or under another id, it gets none
    let analyzer = f.index.analyzer();
    for listing in [need_h2(), result_h2()] {
        let kept = model
            .kept_for_texts(&listing)
            .expect("an indexed listing's vectors are kept");
        let tv = TermVector::of_listing(analyzer, &listing);
        let fresh = model.prepare(tv.terms.iter().map(|(t, w)| (t.as_str(), *w)), &stop);
        assert_eq!(kept.terms, fresh.terms);
        assert_eq!(kept.norm, fresh.norm);
        assert_eq!(kept.semantic, fresh.semantic);
        let mut edited = listing.clone();
        edited.body.push_str("新增内容。");
        assert!(model.kept_for_texts(&edited).is_none());
        let mut retitled = listing.clone();
        retitled.title.push('Ⅱ');
        assert!(model.kept_for_texts(&retitled).is_none());
        let mut keyworded = listing.clone();
        keyworded.keywords.push("新词".into());
        assert!(model.kept_for_texts(&keyworded).is_none());
        // the keywords' boundaries count: the same characters split otherwise differ
        let mut regrouped = listing.clone();
        let joined = regrouped.keywords.concat();
        regrouped.keywords = vec![joined];
        assert!(model.kept_for_texts(&regrouped).is_none());
        let mut other = listing.clone();
        other.id += 10_000;
        assert!(model.kept_for_texts(&other).is_none());
        // fields outside the texts do not change the vectors
        let mut moved = listing.clone();
        moved.industry = Some("tcm".into());
        assert!(model.kept_for_texts(&moved).is_some());
    }
    // without the cache: nothing kept (so no candidates from the semantic space, which
    // searches the kept vectors), the same rankings and scores as with the cache and the
    // BM25 candidates alone
    let stop = Arc::new(stop);
    let with = |cache_docs: bool| {
        let mut config = MatcherConfig {
            latent_candidates: 0,
            ..MatcherConfig::default()
        };
        config.semantic_params.cache_docs = cache_docs;
        Matcher::with_config(
            f.index.clone(),
            stop.clone(),
            MatchWeights::default(),
            config,
        )
        .unwrap()
    };
    let (uncached, cached) = (with(false), with(true));
    assert_eq!(uncached.refresh_model().unwrap().cached_docs, 0);
    assert!(cached.refresh_model().unwrap().cached_docs > 0);
    assert_eq!(
        uncached
            .for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap(),
        cached
            .for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap()
    );
}

/// A matcher over the fixture's index with `config`, its model built, and what was built.
fn built_matcher(
    f: &Fixture,
    config: MatcherConfig,
) -> (Matcher, duijie_match::engine::CorpusStats) {
    let stop = Arc::new(Stopwords::load(&dict("stopwords.txt")).expect("stopwords"));
    let m = Matcher::with_config(f.index.clone(), stop, MatchWeights::default(), config)
        .expect("matcher");
    let stats = m.refresh_model().expect("model");
    (m, stats)
}

#[test]
fn a_sampled_training_set_keeps_the_whole_vocabulary_and_the_ranking() {
    let f = fixture(4);
    let with_sample = |max: usize| {
        let mut config = MatcherConfig::default();
        config.semantic_params.train_max_docs = max;
        built_matcher(&f, config)
    };
    let (whole, whole_stats) = with_sample(usize::MAX);
    let (same, same_stats) = with_sample(whole_stats.docs as usize);
    let (sampled, sampled_stats) = with_sample(whole_stats.docs as usize / 2);
    // a sample as large as the corpus is the corpus: the very same model
    let need = |m: &Matcher| {
        m.for_listing(&need_h2(), ListingKind::Result, &opts())
            .unwrap()
    };
    assert_eq!(same_stats.semantic_terms, whole_stats.semantic_terms);
    assert_eq!(need(&same), need(&whole));
    // half the listings train the term space; every listing still counts for the
    // vocabulary, gets its vectors and can be matched
    assert_eq!(sampled_stats.docs, whole_stats.docs);
    assert_eq!(sampled_stats.terms, whole_stats.terms);
    assert_eq!(sampled_stats.cached_docs, whole_stats.cached_docs);
    assert!(sampled_stats.dims > 0, "{sampled_stats:?}");
    assert!(
        sampled_stats.dims < whole_stats.dims,
        "the sample is smaller than the corpus: {sampled_stats:?} vs {whole_stats:?}"
    );
    // the related result leads as it does with the whole corpus (the fillers behind it are
    // near ties, which a different term space may reorder)
    let ids = |m: Vec<duijie_match::engine::Match>| m.into_iter().map(|x| x.id).collect::<Vec<_>>();
    let (got, expected) = (ids(need(&sampled)), ids(need(&whole)));
    assert_eq!(expected[0], 10, "{expected:?}");
    assert_eq!(got[0], 10, "{got:?}");
    assert_eq!(got.len(), expected.len());
}

#[test]
fn a_memory_budget_keeps_fewer_listings_and_changes_no_match() {
    let f = fixture(4);
    let with_budget = |bytes: usize| {
        let mut config = MatcherConfig::default();
        config.semantic_params.cache_max_bytes = bytes;
        built_matcher(&f, config)
    };
    let (all, all_stats) = with_budget(usize::MAX);
    let (half, half_stats) = with_budget(all_stats.cache_bytes / 2);
    let (none, none_stats) = with_budget(0);
    assert_eq!(all_stats.cached_docs as u64, all_stats.docs);
    assert!(
        half_stats.cached_docs > 0 && half_stats.cached_docs < all_stats.cached_docs,
        "half the memory keeps some listings: {half_stats:?} of {all_stats:?}"
    );
    assert!(half_stats.cache_bytes < all_stats.cache_bytes);
    assert_eq!(none_stats.cached_docs, 0);
    // the listings not kept are read from the index, and the semantic candidates are the
    // same (their vectors are kept whatever the budget): the same matches, scores and
    // explanations
    for (source, target) in [
        (need_h2(), ListingKind::Result),
        (need_h2(), ListingKind::Expert),
    ] {
        let expected = all.for_listing(&source, target, &opts()).unwrap();
        assert!(!expected.is_empty());
        assert_eq!(
            half.for_listing(&source, target, &opts()).unwrap(),
            expected
        );
        assert_eq!(
            none.for_listing(&source, target, &opts()).unwrap(),
            expected
        );
    }
    let text = "氢燃料电池 催化剂 低铂 膜电极";
    let expected = all.for_text(text, ListingKind::Result, &opts()).unwrap();
    assert!(!expected.is_empty());
    assert_eq!(
        half.for_text(text, ListingKind::Result, &opts()).unwrap(),
        expected
    );
    assert_eq!(
        none.for_text(text, ListingKind::Result, &opts()).unwrap(),
        expected
    );
}

#[test]
fn semantic_candidates_reach_listings_without_the_query_terms_through_the_same_filters() {
    let f = fixture(4);
    let stop = Arc::new(Stopwords::load(&dict("stopwords.txt")).expect("stopwords"));
    // stage 1's BM25 query reduced to the source's single heaviest term
    let narrow = |latent: usize| {
        Matcher::with_config(
            f.index.clone(),
            stop.clone(),
            MatchWeights::default(),
            MatcherConfig {
                query_terms: 1,
                latent_candidates: latent,
                ..MatcherConfig::default()
            },
        )
        .expect("matcher")
    };
    let (bm25_only, with_latent) = (narrow(0), narrow(200));
    assert!(with_latent.refresh_model().unwrap().dims > 0);
    bm25_only.refresh_model().unwrap();
    let all = MatchOptions {
        limit: 200,
        candidates: Some(200),
        ..opts()
    };
    let ids = |m: &Matcher, o: &MatchOptions| -> Vec<i64> {
        m.for_listing(&need_h2(), ListingKind::Result, o)
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect()
    };
    let few = ids(&bm25_only, &all);
    let more = ids(&with_latent, &all);
    assert!(few.iter().all(|id| more.contains(id)), "{few:?} ⊄ {more:?}");
    assert!(
        more.len() > few.len(),
        "the semantic space adds listings that lack the query term: {few:?} vs {more:?}"
    );
    // never a withdrawn result, never the excluded one, whichever stage found it
    assert!(!more.contains(&12), "withdrawn result proposed: {more:?}");
    let excluded = MatchOptions {
        exclude: vec![(ListingKind::Result, 10)],
        ..all.clone()
    };
    assert!(!ids(&with_latent, &excluded).contains(&10));
    // every filter holds for every match (the filler results have industries, no city)
    let filtered = |filters: MatchFilters| {
        with_latent
            .for_listing(
                &need_h2(),
                ListingKind::Result,
                &MatchOptions {
                    filters,
                    ..all.clone()
                },
            )
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    let metallurgy = filtered(MatchFilters {
        industry: Some("metallurgy".into()),
        ..Default::default()
    });
    assert!(!metallurgy.is_empty());
    // fixture ids: filler results from 100, industries cycling from metallurgy
    assert!(
        metallurgy
            .iter()
            .all(|id| *id >= 100 && (id - 100) % 16 % 4 == 0),
        "{metallurgy:?}"
    );
    assert_eq!(
        filtered(MatchFilters {
            city: Some("大连".into()),
            ..Default::default()
        }),
        vec![10]
    );
    // only results 10 (大连) and 11 (沈阳) have an organisation, so a zone
    let zone = zones_of_city("大连")[0].code();
    let in_zone = filtered(MatchFilters {
        zone: Some(zone.into()),
        ..Default::default()
    });
    assert!(in_zone.contains(&10), "{in_zone:?}");
    assert!(
        in_zone.iter().all(|id| [10, 11].contains(id)),
        "{in_zone:?}"
    );
    assert_eq!(
        filtered(MatchFilters {
            maturity: Some("pilot".into()),
            ..Default::default()
        }),
        vec![10]
    );
}

#[test]
fn the_model_knows_how_much_of_what_it_keeps_is_gone() {
    let f = fixture(2);
    let model = f.matcher.model().unwrap();
    assert_eq!(model.stale_share(&f.index.searcher()), 0.0);
    // two listings deleted, one edited (its old version deleted, the new one elsewhere)
    let mut edited = result_h2();
    edited.body.push_str("新增说明。");
    f.index
        .apply(
            &[
                (ListingKind::Result, 11),
                (ListingKind::Need, 3),
                (ListingKind::Result, 10),
            ],
            &[edited],
            2,
        )
        .unwrap();
    let share = model.stale_share(&f.index.searcher());
    let expected = 3.0 / model.n_docs() as f64;
    assert!((share - expected).abs() < 1e-9, "{share} vs {expected}");
    // a model of the new state keeps nothing stale
    let fresh = f.matcher.model().unwrap();
    assert_eq!(fresh.stale_share(&f.index.searcher()), 0.0);
}
