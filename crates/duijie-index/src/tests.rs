use super::*;
use duijie_domain::{ListingKind, ListingText, OrgSummary};
use duijie_text::AnalyzerConfig;
use std::sync::OnceLock;
use tantivy::DocAddress;

fn analyzer() -> Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| {
        let dict = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/dict/user.dict"
        ));
        Arc::new(
            Analyzer::new(&AnalyzerConfig {
                hmm: false,
                user_dict: Some(dict),
            })
            .expect("analyzer"),
        )
    })
    .clone()
}

fn synonyms() -> Arc<Synonyms> {
    let a = analyzer();
    Arc::new(Synonyms::parse("人工智能 AI\n数控机床 CNC机床\n", &a).expect("synonyms"))
}

fn open(dir: &Path) -> SearchIndex {
    SearchIndex::open(
        dir,
        analyzer(),
        synonyms(),
        &IndexOptions {
            writer_threads: 1,
            writer_memory: 32 << 20,
            ..Default::default()
        },
    )
    .expect("open")
}

fn listing(kind: ListingKind, id: i64, title: &str, body: &str) -> ListingText {
    ListingText {
        kind,
        id,
        external_id: Some(format!("X-{id}")),
        title: title.into(),
        body: body.into(),
        keywords: vec![],
        organization: Some(OrgSummary {
            id: 1,
            name: "大连理工大学".into(),
            kind: "university".into(),
            city: Some("大连".into()),
            zones: vec!["coastal_belt"],
        }),
        industry: Some("new_energy".into()),
        maturity: Some("pilot".into()),
        status: "published".into(),
        modes: vec![],
        money_min: None,
        money_max: None,
        deadline: None,
        updated_at: "2026-11-23T00:00:00.000Z".into(),
    }
}

fn req(q: &str) -> SearchRequest {
    SearchRequest {
        q: q.into(),
        limit: 10,
        ..Default::default()
    }
}

#[test]
fn phrase_queries_match_across_overlapping_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    let docs = vec![
        listing(
            ListingKind::Result,
            1,
            "高校科技成果转化平台建设",
            "推动科技成果转化。",
        ),
        listing(
            ListingKind::Result,
            2,
            "成果展示与技术转化",
            "成果 转化 分开出现。",
        ),
    ];
    idx.apply(&[], &docs, 2).unwrap();
    let r = idx.search(&req("成果转化")).unwrap();
    assert_eq!(
        r.hits[0].id, 1,
        "the title containing the phrase ranks first"
    );
    // the title phrase clause matches only doc 1: check through the phrase alone
    let f = idx.fields();
    let toks = analyzer().query_tokens("成果转化");
    let terms: Vec<(usize, Term)> = toks
        .iter()
        .map(|t| (t.position, Term::from_field_text(f.title, &t.text)))
        .collect();
    if terms.len() >= 2 {
        let q = tantivy::query::PhraseQuery::new_with_offset(terms);
        let n = idx.searcher().search(&q, &Count).unwrap();
        assert_eq!(n, 1);
    } else {
        let q = TermQuery::new(
            Term::from_field_text(f.title, &toks[0].text),
            IndexRecordOption::Basic,
        );
        assert_eq!(
            idx.searcher().search(&q, &Count).unwrap(),
            1,
            "成果转化 is one dictionary word found inside 科技成果转化"
        );
    }
}

#[test]
fn highlights_are_valid_on_mixed_text_and_escape_html() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    let body = "面向５Ｇ基站的 PEG-400 改性<script>alert('x')</script>材料，CNC 加工精度 0.01mm；中国农业发展银行支持。";
    idx.apply(
        &[],
        &[listing(
            ListingKind::Result,
            7,
            "ＣＮＣ数控机床 5G 模组 & PEG-400",
            body,
        )],
        1,
    )
    .unwrap();
    for q in [
        "5g",
        "peg-400",
        "cnc",
        "农业",
        "400",
        "数控机床",
        "<script>",
    ] {
        let r = idx.search(&req(q)).unwrap();
        if q == "<script>" {
            // punctuation-only after analysis → 'script' token may match; never raw HTML
            for h in &r.hits {
                assert!(
                    !h.highlights.summary.contains("<script>"),
                    "{}",
                    h.highlights.summary
                );
            }
            continue;
        }
        assert_eq!(r.total, 1, "query {q} finds the document");
        let h = &r.hits[0].highlights;
        assert!(
            !h.summary.contains("<script>") && !h.title.contains("<script>"),
            "html is escaped: {h:?}"
        );
        let marked = h.title.contains("<mark>") || h.summary.contains("<mark>");
        if q != "农业" && q != "400" {
            assert!(marked, "query {q} is highlighted: {h:?}");
        }
    }
}

#[test]
fn filters_facets_status_and_pagination() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    let mut docs = Vec::new();
    for i in 0..25 {
        let mut d = listing(
            if i % 5 == 0 {
                ListingKind::Need
            } else {
                ListingKind::Result
            },
            i,
            &format!("氢能 储氢 技术 {i}"),
            "电解水制氢",
        );
        if i % 2 == 0 {
            d.industry = Some("metallurgy".into());
        }
        if i == 3 {
            d.status = "withdrawn".into();
        }
        docs.push(d);
    }
    idx.apply(&[], &docs, 25).unwrap();
    let r = idx
        .search(&SearchRequest {
            kind: Some(ListingKind::Result),
            ..req("氢能")
        })
        .unwrap();
    assert_eq!(r.total, 19, "20 results minus one withdrawn");
    assert_eq!(r.hits.len(), 10);
    assert_eq!(r.facets["kind"].get("result"), Some(&19));
    assert_eq!(r.facets["zone"].get("coastal_belt"), Some(&19));
    let page3 = idx
        .search(&SearchRequest {
            kind: Some(ListingKind::Result),
            offset: 10,
            ..req("氢能")
        })
        .unwrap();
    assert_eq!(page3.hits.len(), 9);
    let metal = idx
        .search(&SearchRequest {
            industry: Some("metallurgy".into()),
            ..req("")
        })
        .unwrap();
    assert_eq!(metal.total, 13);
    let nothing = idx
        .search(&SearchRequest {
            city: Some("沈阳".into()),
            ..req("氢能")
        })
        .unwrap();
    assert_eq!(nothing.total, 0);
}

#[test]
fn watermark_survives_reopen_and_updates_replace_documents() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = open(dir.path());
        assert_eq!(idx.applied_seq().unwrap(), 0);
        idx.apply(
            &[],
            &[listing(ListingKind::Result, 1, "冶金焦炭", "正文")],
            5,
        )
        .unwrap();
        idx.apply(
            &[(ListingKind::Result, 1)],
            &[listing(ListingKind::Result, 1, "海水淡化", "正文")],
            6,
        )
        .unwrap();
        idx.apply(&[(ListingKind::Need, 9)], &[], 7).unwrap();
    }
    let idx = open(dir.path());
    assert_eq!(idx.applied_seq().unwrap(), 7);
    assert_eq!(idx.ids(ListingKind::Result).unwrap(), vec![1]);
    assert_eq!(idx.search(&req("冶金焦炭")).unwrap().total, 0);
    assert_eq!(idx.search(&req("海水淡化")).unwrap().total, 1);
    // a second writer on the same directory is refused clearly
    let err = SearchIndex::open(dir.path(), analyzer(), synonyms(), &IndexOptions::default())
        .unwrap_err();
    assert!(matches!(err, IndexError::Locked(_)), "{err}");
    // a changed analyzer fingerprint asks for a rebuild
    drop(idx);
    let other = SearchIndex::open(
        dir.path(),
        analyzer(),
        synonyms(),
        &IndexOptions {
            analyzer_fingerprint: "hmm".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(other.needs_rebuild().unwrap());
    assert_eq!(other.applied_seq().unwrap(), 0);
}

#[test]
fn synonyms_and_exact_titles() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    idx.apply(
        &[],
        &[
            listing(
                ListingKind::Result,
                1,
                "人工智能质检系统",
                "基于深度学习的表面缺陷检测",
            ),
            listing(ListingKind::Result, 2, "数控机床热误差补偿", "提高加工精度"),
            listing(
                ListingKind::Result,
                3,
                "面向数控机床的人工智能运维",
                "预测性维护",
            ),
        ],
        3,
    )
    .unwrap();
    let r = idx.search(&req("AI")).unwrap();
    assert_eq!(r.total, 2, "AI finds 人工智能 through the synonyms");
    let r = idx.search(&req("数控机床热误差补偿")).unwrap();
    assert_eq!(r.hits[0].id, 2, "an exact title comes first");
    let r = idx.search(&req("，。！")).unwrap();
    assert_eq!(
        r.total, 0,
        "punctuation-only queries match nothing rather than everything"
    );
}

#[test]
fn an_index_with_an_older_schema_is_recreated_for_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut b = tantivy::schema::Schema::builder();
        b.add_text_field("something_else", tantivy::schema::TEXT);
        let old = tantivy::Index::create_in_dir(dir.path(), b.build()).unwrap();
        let mut w: IndexWriter = old.writer_with_num_threads(1, 15_000_000).unwrap();
        w.commit().unwrap();
    }
    let idx = open(dir.path());
    assert!(
        idx.needs_rebuild().unwrap(),
        "the caller is told to rebuild from the store"
    );
    assert_eq!(idx.count(None).unwrap(), 0);
    idx.apply(
        &[],
        &[listing(ListingKind::Result, 1, "海水淡化", "反渗透膜")],
        1,
    )
    .unwrap();
    assert_eq!(idx.search(&req("海水淡化")).unwrap().total, 1);
}

mod fuzz {
    //! The query side on any text a person or a client can send: no panic, hits only from
    //! the index, totals that agree with the page.
    use super::*;
    use proptest::prelude::*;

    fn index() -> &'static (tempfile::TempDir, SearchIndex) {
        static I: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
        I.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let idx = open(dir.path());
            let docs: Vec<ListingText> = [
                "稀土金属催化剂低温制氢",
                "高炉煤气余热发电",
                "AI 视觉检测 CNC机床",
                "海水淡化反渗透膜",
            ]
            .iter()
            .enumerate()
            .map(|(i, t)| listing(ListingKind::Result, i as i64 + 1, t, t))
            .collect();
            idx.apply(&[], &docs, 4).unwrap();
            (dir, idx)
        })
    }

    /// Text with the characters that break naive query parsers.
    fn nasty() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("\"".to_string()),
            Just("*".to_string()),
            Just("AND".to_string()),
            Just("OR".to_string()),
            Just("-".to_string()),
            Just("+".to_string()),
            Just(":".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("[".to_string()),
            Just("\\".to_string()),
            Just("~".to_string()),
            Just("^2".to_string()),
            Just("title:".to_string()),
            Just("\u{3000}".to_string()),
            Just("\u{200b}".to_string()),
            Just("ｆｕｌｌ".to_string()),
            Just("制氢".to_string()),
            Just("稀土".to_string()),
            "[\\PC]{0,8}",
            "[a-z0-9]{1,12}",
        ];
        proptest::collection::vec(pieces, 0..12).prop_map(|v| v.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn any_query_text_searches_cleanly(q in prop_oneof![nasty(), "\\PC{0,200}", ".{0,64}"], limit in 1usize..30, offset in 0usize..10) {
            let (_, idx) = index();
            let r = idx
                .search(&SearchRequest { q: q.clone(), limit, offset, ..Default::default() })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(r.total <= 4);
            prop_assert!(r.hits.len() <= limit);
            prop_assert!(r.hits.iter().all(|h| (1..=4).contains(&h.id)));
        }
    }
}

/// The domain boundary list of duijie-text (`testdata/domain_boundaries.txt`): each
/// sentence indexed as a title; a word's query (its query tokens as one term, or as a
/// phrase on character positions) must find the sentences listing it with `+` and not
/// those listing it with `-`. Single-token words are also run through `search`.
#[test]
fn domain_sentences_are_found_by_whole_words_only() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../duijie-text/testdata/domain_boundaries.txt"
    );
    let text = std::fs::read_to_string(path).expect("domain boundary list");
    let mut cases: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (sentence, words) = line.split_once('\t').expect("sentence TAB words");
        // `~` marks known exceptions, not asserted
        let find = words.split_whitespace().filter_map(|w| w.strip_prefix('+'));
        let avoid = words.split_whitespace().filter_map(|w| w.strip_prefix('-'));
        cases.push((
            sentence.to_owned(),
            find.map(str::to_owned).collect(),
            avoid.map(str::to_owned).collect(),
        ));
    }
    assert!(cases.len() >= 60);
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    let docs: Vec<ListingText> = cases
        .iter()
        .enumerate()
        .map(|(i, (sentence, _, _))| ListingText {
            organization: None,
            keywords: vec![],
            ..listing(ListingKind::Result, i as i64 + 1, sentence, "")
        })
        .collect();
    idx.apply(&[], &docs, 1).unwrap();
    let f = idx.fields();
    let searcher = idx.searcher();
    let id_of = |addr: tantivy::DocAddress| -> i64 {
        let doc: TantivyDocument = searcher.doc(addr).unwrap();
        schema::stored_i64(&doc, f.id).unwrap()
    };
    let found_ids = |word: &str| -> Vec<i64> {
        let toks = analyzer().query_tokens(word);
        let q: Box<dyn tantivy::query::Query> = if toks.len() == 1 {
            Box::new(TermQuery::new(
                Term::from_field_text(f.title, &toks[0].text),
                IndexRecordOption::Basic,
            ))
        } else {
            Box::new(tantivy::query::PhraseQuery::new_with_offset(
                toks.iter()
                    .map(|t| (t.position, Term::from_field_text(f.title, &t.text)))
                    .collect(),
            ))
        };
        let top = tantivy::collector::TopDocs::with_limit(1000).order_by_score();
        let hits: Vec<(f32, tantivy::DocAddress)> = searcher.search(&q, &top).unwrap();
        hits.into_iter().map(|(_, a)| id_of(a)).collect()
    };
    let mut failures = Vec::new();
    for (i, (sentence, find, avoid)) in cases.iter().enumerate() {
        let id = i as i64 + 1;
        for w in find {
            if !found_ids(w).contains(&id) {
                failures.push(format!("{w} does not find {sentence}"));
            }
            if analyzer().query_tokens(w).len() == 1 {
                let r = idx
                    .search(&SearchRequest {
                        limit: 1000,
                        ..req(w)
                    })
                    .unwrap();
                if !r.hits.iter().any(|h| h.id == id) {
                    failures.push(format!("search {w} does not find {sentence}"));
                }
            }
        }
        for w in avoid {
            if found_ids(w).contains(&id) {
                failures.push(format!("{w} finds {sentence} across a word boundary"));
            }
            if analyzer().query_tokens(w).len() == 1 {
                let r = idx
                    .search(&SearchRequest {
                        limit: 1000,
                        ..req(w)
                    })
                    .unwrap();
                if r.hits.iter().any(|h| h.id == id) {
                    failures.push(format!("search {w} finds {sentence}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_synonym_piece_is_never_highlighted_alone() {
    // 氢能 has the synonym 氢能源, searched as the phrase 氢 能源: its lone 氢 must not
    // mark the 氢 of 临氢 in a title that does not say 氢能
    let dir = tempfile::tempdir().unwrap();
    let a = analyzer();
    let syn = Arc::new(Synonyms::parse("氢能 氢能源\n", &a).expect("synonyms"));
    let idx = SearchIndex::open(
        dir.path(),
        a,
        syn,
        &IndexOptions {
            writer_threads: 1,
            writer_memory: 32 << 20,
            ..Default::default()
        },
    )
    .expect("open");
    idx.apply(
        &[],
        &[listing(
            ListingKind::Result,
            9,
            "高压临氢设备材料氢脆评价技术",
            "针对氢能设施安全监测和材料评价手段不足等问题，建立材料氢相容性数据库。",
        )],
        1,
    )
    .unwrap();
    let r = idx.search(&req("氢能")).unwrap();
    assert_eq!(r.total, 1);
    let h = &r.hits[0].highlights;
    assert!(!h.title.contains("<mark>"), "lone 氢 in the title: {h:?}");
    assert!(h.summary.contains("<mark>氢能</mark>"), "{h:?}");
    // a character the reader typed on its own is still highlighted
    let r = idx.search(&req("氢")).unwrap();
    assert!(
        r.hits[0].highlights.title.contains("<mark>氢</mark>"),
        "{:?}",
        r.hits[0].highlights
    );
}

/// The README's example, `search?q=氢能`, on the demo data with the shipped synonyms: no
/// highlight marks the 氢能 of 产氢能力 (产氢|能力, hydrogen output capacity), and a
/// listing whose only 氢能 is that one is not a hit; 钢材 finds 高强度钢材焊接变形控制.
#[test]
fn readme_hydrogen_energy_search_on_demo_data_has_no_hit_across_a_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyzer();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/dict/synonyms.txt"
    ))
    .expect("synonyms");
    let syn = Arc::new(Synonyms::parse(&shipped, &a).expect("synonyms"));
    let idx = SearchIndex::open(
        dir.path(),
        a,
        syn,
        &IndexOptions {
            writer_threads: 1,
            writer_memory: 32 << 20,
            ..Default::default()
        },
    )
    .expect("open");
    let demo = duijie_demo::generate();
    let mut docs: Vec<ListingText> = Vec::new();
    for r in &demo.results {
        docs.push(ListingText {
            keywords: r.keywords.clone(),
            ..listing(
                ListingKind::Result,
                docs.len() as i64 + 1,
                &r.title,
                &r.summary,
            )
        });
    }
    for n in &demo.needs {
        docs.push(ListingText {
            keywords: n.keywords.clone(),
            ..listing(
                ListingKind::Need,
                docs.len() as i64 + 1,
                &n.title,
                &n.description,
            )
        });
    }
    let title = "高强度钢材焊接变形控制";
    docs.push(listing(ListingKind::Need, docs.len() as i64 + 1, title, ""));
    idx.apply(&[], &docs, 1).unwrap();

    let with_capacity = docs.iter().filter(|d| d.body.contains("产氢能力")).count();
    assert!(with_capacity > 0, "the demo data no longer says 产氢能力");
    let r = idx
        .search(&SearchRequest {
            limit: 1000,
            ..req("氢能")
        })
        .unwrap();
    assert!(r.total > 0 && r.hits.len() == r.total, "{}", r.total);
    for h in &r.hits {
        let doc = &docs[h.id as usize - 1];
        let marked = [
            &h.highlights.title,
            &h.highlights.summary,
            &h.highlights.keywords,
        ];
        for m in marked {
            assert!(!m.contains("产<mark>氢能"), "氢能 marked in 产氢能力: {m}");
            assert!(!m.contains("<mark>氢</mark>"), "a lone 氢 marked: {m}");
        }
        // every hit says 氢能 (or its synonym 氢能源) somewhere other than in 产氢能力
        let said = |s: &str| s.replace("产氢能力", "").contains("氢能");
        assert!(
            said(&doc.title) || said(&doc.body) || doc.keywords.iter().any(|k| said(k)),
            "{} is a 氢能 hit only through 产氢能力",
            doc.title
        );
    }
    let r = idx.search(&req("钢材")).unwrap();
    assert!(
        r.hits
            .iter()
            .any(|h| h.highlights.title.contains("<mark>钢材</mark>")),
        "{r:?}"
    );
}

/// Listings with titles, keywords, bodies and organisation names of every shape the
/// analyser treats differently: compounds, Latin and digit runs with connectors, full-width
/// forms, an expert (whose title carries no weight in the term vector).
fn varied_listings(n: usize) -> Vec<ListingText> {
    const TITLES: [&str; 6] = [
        "稀土催化剂在电解水制氢中的应用研究",
        "基于5G的工业互联网平台",
        "ＣＮＣ数控机床五轴联动加工中心",
        "PEG-400表面活性剂用于精细化工",
        "锂离子电池正极材料（LiFePO4）",
        "中国农业发展银行支持现代农业",
    ];
    const BODIES: [&str; 4] = [
        "采用静电纺丝制备纳米纤维隔膜，孔隙率高，已在鞍钢试点。京沪高速铁路沿线检测。",
        "面向焊接机器人的视觉定位系统，定位精度达０．０１ｍｍ，支持C++与Python接口。",
        "研究了氢能源储运中的临氢材料失效问题，提出新的涂层工艺。",
        "",
    ];
    const KEYWORDS: [&[&str]; 4] = [
        &["锂电池", "隔膜"],
        &["AI", "c++", "机器视觉"],
        &[],
        &["氢能", "PEG-400", "催化剂；载体"],
    ];
    (0..n)
        .map(|i| {
            let kind = ListingKind::ALL[i % ListingKind::ALL.len()];
            let mut l = listing(
                kind,
                i as i64 + 1,
                TITLES[i % TITLES.len()],
                &format!(
                    "{}{}",
                    BODIES[i % BODIES.len()],
                    BODIES[(i / 4) % BODIES.len()]
                ),
            );
            l.keywords = KEYWORDS[(i / 3) % KEYWORDS.len()]
                .iter()
                .map(|s| s.to_string())
                .collect();
            if i % 5 == 0 {
                l.organization = None;
            } else if let Some(o) = &mut l.organization {
                o.name = ["大连理工大学", "沈阳新松机器人自动化股份有限公司"][i % 2].into();
            }
            l
        })
        .collect()
}

/// The same document with every pre-analysed text given as plain text, so that tantivy
/// runs the registered tokenizer on it (how documents were indexed before).
fn with_plain_texts(doc: &TantivyDocument) -> TantivyDocument {
    use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
    use tantivy::schema::{OwnedValue, Value};
    let mut plain = TantivyDocument::new();
    for (field, v) in doc.field_values() {
        match v.as_value() {
            ReferenceValue::Leaf(ReferenceValueLeaf::PreTokStr(p)) => {
                plain.add_text(field, &p.text)
            }
            other => plain.add_field_value(field, &OwnedValue::from(other)),
        }
    }
    plain
}

#[test]
fn indexing_analyses_each_text_once_and_indexes_what_the_tokenizer_would() {
    let a = analyzer();
    let texts = varied_listings(120);
    let (_, fields) = schema::build();
    // the stored term vector is the one analysed field by field
    for t in &texts {
        let doc = schema::document(&fields, &a, t);
        assert_eq!(
            schema::stored_str(&doc, fields.terms).unwrap_or_default(),
            similar::TermVector::of_listing(&a, t).encode(),
            "term vector of {:?}",
            t.title
        );
    }
    // the same listings indexed through the pre-analysed path (two analysis threads) and
    // through tantivy's tokenizer answer every search identically
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fast = SearchIndex::open(
        d1.path(),
        analyzer(),
        synonyms(),
        &IndexOptions {
            writer_threads: 2,
            writer_memory: 64 << 20,
            ..Default::default()
        },
    )
    .unwrap();
    fast.apply(&[], &texts, 1).unwrap();
    let reference = open(d2.path());
    reference
        .with_writer(|w| {
            for t in &texts {
                w.add_document(with_plain_texts(&schema::document(&fields, &a, t)))?;
            }
            w.commit()?;
            Ok(())
        })
        .unwrap();
    reference.reader.reload().unwrap();
    let mut queries: Vec<String> = texts
        .iter()
        .flat_map(|t| a.index_tokens(&format!("{} {}", t.title, t.keywords.join(" "))))
        .map(|t| t.text)
        .collect();
    queries.extend(
        [
            "氢能源",
            "数控机床",
            "AI 机器视觉",
            "peg-400",
            "c++",
            "铁路",
            "农业",
        ]
        .map(String::from),
    );
    queries.sort();
    queries.dedup();
    assert!(queries.len() > 40, "{} queries", queries.len());
    for q in &queries {
        let mut r = req(q);
        r.limit = 200;
        let (x, y) = (fast.search(&r).unwrap(), reference.search(&r).unwrap());
        assert_eq!(x.total, y.total, "{q}");
        assert!(x.total > 0, "{q} finds its own listing");
        assert_eq!(x.facets, y.facets, "{q}");
        // scores agree up to the order of a float sum (ranking by WAND sums a document's
        // term scores in the order its segment's postings reach it)
        let key = |h: &Hit| (h.id, h.kind, h.highlights.clone(), h.score);
        let (mut xs, mut ys): (Vec<_>, Vec<_>) = (
            x.hits.iter().map(key).collect(),
            y.hits.iter().map(key).collect(),
        );
        xs.sort_by_key(|k| (k.0, k.1.code()));
        ys.sort_by_key(|k| (k.0, k.1.code()));
        let without_scores = |v: &[(i64, ListingKind, Highlights, f32)]| {
            v.iter()
                .map(|(id, kind, h, _)| (*id, *kind, h.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(without_scores(&xs), without_scores(&ys), "{q}");
        for (a, b) in xs.iter().zip(&ys) {
            assert!(
                (a.3 - b.3).abs() <= 1e-5 * b.3.abs().max(1.0),
                "{q}: {} scored {} and {}",
                a.0,
                a.3,
                b.3
            );
        }
    }
}

#[test]
fn counts_are_reused_for_the_next_page_and_never_outlive_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    idx.apply(
        &[],
        &[
            listing(ListingKind::Result, 1, "锂电池隔膜", "静电纺丝制备"),
            listing(ListingKind::Result, 2, "锂电池回收", "湿法冶金"),
            listing(ListingKind::Need, 3, "锂电池检测", "求检测设备"),
        ],
        1,
    )
    .unwrap();
    let page = |offset: usize, kind: Option<ListingKind>| {
        idx.search(&SearchRequest {
            q: "锂电池".into(),
            kind,
            limit: 1,
            offset,
            ..Default::default()
        })
        .unwrap()
    };
    let kinds = |r: &SearchResponse| r.facets["kind"].clone();
    let first = page(0, None);
    assert_eq!(first.total, 3);
    assert_eq!(
        kinds(&first),
        [("need".into(), 1), ("result".into(), 2)].into()
    );
    // the next page has the same counts and another hit
    let second = page(1, None);
    assert_eq!((second.total, kinds(&second)), (3, kinds(&first)));
    assert_ne!(second.hits[0].id, first.hits[0].id);
    // a filter counts on its own
    let needs = page(0, Some(ListingKind::Need));
    assert_eq!((needs.total, needs.hits[0].id), (1, 3));
    assert_eq!(kinds(&needs), [("need".into(), 1)].into());
    // an addition and a deletion are counted as soon as they are committed
    idx.apply(
        &[],
        &[listing(ListingKind::Need, 4, "锂电池材料", "求正极材料")],
        2,
    )
    .unwrap();
    let after = page(0, None);
    assert_eq!(after.total, 4);
    assert_eq!(
        kinds(&after),
        [("need".into(), 2), ("result".into(), 2)].into()
    );
    assert_eq!(page(0, Some(ListingKind::Need)).total, 2);
    idx.apply(&[(ListingKind::Result, 1)], &[], 3).unwrap();
    let deleted = page(0, None);
    assert_eq!(deleted.total, 3);
    assert_eq!(
        kinds(&deleted),
        [("need".into(), 2), ("result".into(), 1)].into()
    );
}

/// Totals and facet counts come from per-segment tables and the status filter stands aside
/// in segments where every document passes it; both must agree with counting the listings
/// themselves (empty query) and with tantivy's own `Count` and `FacetCollector` over the
/// same query (text queries), across segments that are all published, all withdrawn and
/// mixed, with deleted documents, multi-valued and repeated zones, and every filter.
#[test]
fn facet_counts_agree_with_the_listings_and_with_tantivys_collectors_across_segments() {
    use std::collections::{BTreeMap, BTreeSet};
    use tantivy::collector::{Count, FacetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    const CITIES: [&str; 3] = ["大连", "沈阳", "鞍山"];
    const ZONES: [&[&str]; 4] = [
        &["coastal_belt"],
        &["coastal_belt", "shenyang_metro"],
        &[],
        &["shenyang_metro", "shenyang_metro"],
    ];
    const INDUSTRIES: [&str; 3] = ["new_energy", "metallurgy", "equipment/机床"];
    let make = |i: usize, status: &str| {
        let kind = ListingKind::ALL[i % ListingKind::ALL.len()];
        let mut l = listing(
            kind,
            i as i64,
            ["氢能 储氢 技术", "焊接机器人视觉定位", "稀土催化剂"][i % 3],
            ["电解水制氢与储运", "机器视觉用于焊接", "氢能源催化材料"][(i / 3) % 3],
        );
        l.status = status.into();
        l.industry = (!i.is_multiple_of(7)).then(|| INDUSTRIES[i % 3].to_string());
        l.maturity = (!i.is_multiple_of(4)).then(|| ["pilot", "lab"][i % 2].to_string());
        if i.is_multiple_of(11) {
            l.organization = None;
        } else if let Some(o) = &mut l.organization {
            o.city = (!i.is_multiple_of(5)).then(|| CITIES[i % 3].to_string());
            o.zones = ZONES[i % 4].to_vec();
        }
        l
    };
    let mut live: BTreeMap<i64, ListingText> = BTreeMap::new();
    // one segment all published, one all withdrawn, one mixed
    let batches: [Vec<ListingText>; 3] = [
        (0..40).map(|i| make(i, "published")).collect(),
        (40..60).map(|i| make(i, "withdrawn")).collect(),
        (60..100)
            .map(|i| make(i, if i % 3 == 0 { "withdrawn" } else { "published" }))
            .collect(),
    ];
    for (seq, batch) in batches.iter().enumerate() {
        idx.apply(&[], batch, seq as i64 + 1).unwrap();
        live.extend(batch.iter().map(|l| (l.id, l.clone())));
    }
    // deletions and a change of status in the all-published segment
    let touched: Vec<(ListingKind, i64)> =
        [3, 17, 65].iter().map(|id| (live[id].kind, *id)).collect();
    let mut changed = live[&17].clone();
    changed.status = "withdrawn".into();
    for (_, id) in &touched {
        live.remove(id);
    }
    live.insert(17, changed.clone());
    idx.apply(&touched, &[changed], 4).unwrap();

    let f = idx.fields;
    let requests: Vec<SearchRequest> = vec![
        req(""),
        req("氢能"),
        req("焊接 机器人"),
        SearchRequest {
            status: Some("withdrawn".into()),
            ..req("")
        },
        SearchRequest {
            status: Some("withdrawn".into()),
            ..req("催化剂")
        },
        SearchRequest {
            kind: Some(ListingKind::Result),
            ..req("")
        },
        SearchRequest {
            industry: Some("equipment/机床".into()),
            ..req("")
        },
        SearchRequest {
            city: Some("沈阳".into()),
            zone: Some("shenyang_metro".into()),
            ..req("氢")
        },
        SearchRequest {
            maturity: Some("lab".into()),
            kind: Some(ListingKind::Need),
            ..req("")
        },
    ];
    let searcher = idx.searcher();
    for r in &requests {
        let got = idx.search(r).unwrap();
        for d in ["industry", "zone", "city", "maturity", "kind"] {
            assert!(got.facets.contains_key(d), "{r:?}: every dimension listed");
        }
        let without_empty = |f: &Facets| -> Facets {
            f.iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        // tantivy's own collectors over the plain boolean query
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(t) = query::text_query(
            &idx.analyzer,
            &idx.synonyms,
            &f,
            &query::FieldWeights::default(),
            &r.q,
        ) {
            clauses.push((Occur::Must, t));
        } else {
            clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
        }
        let mut term = |field, v: &str| {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, v),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            ))
        };
        term(f.status, r.status.as_deref().unwrap_or("published"));
        if let Some(k) = r.kind {
            term(f.kind, k.code());
        }
        for (field, v) in [
            (f.industry, &r.industry),
            (f.city, &r.city),
            (f.zone, &r.zone),
            (f.maturity, &r.maturity),
        ] {
            if let Some(v) = v {
                term(field, v);
            }
        }
        let plain = BooleanQuery::new(clauses);
        let mut fc = FacetCollector::for_field("facets");
        for d in ["industry", "zone", "city", "maturity", "kind"] {
            fc.add_facet(format!("/{d}").as_str());
        }
        let (top, total, counts) = searcher
            .search(
                &plain,
                &(TopDocs::with_limit(10).order_by_score(), Count, fc),
            )
            .unwrap();
        let mut theirs = Facets::new();
        for d in ["industry", "zone", "city", "maturity", "kind"] {
            for (facet, n) in counts.get(format!("/{d}").as_str()) {
                let value = facet.to_path().last().unwrap().to_string();
                theirs.entry(d.to_string()).or_default().insert(value, n);
            }
        }
        assert_eq!(got.total, total, "{r:?}");
        assert_eq!(without_empty(&got.facets), theirs, "{r:?}");
        let scores: Vec<f32> = top.iter().map(|(s, _)| *s).collect();
        let got_scores: Vec<f32> = got.hits.iter().map(|h| h.score).collect();
        assert_eq!(got_scores, scores, "{r:?}: the same ranking");
        // and, for the empty query, the listings themselves
        if r.q.is_empty() {
            let status = r.status.as_deref().unwrap_or("published");
            let passing: Vec<&ListingText> = live
                .values()
                .filter(|l| l.status == status)
                .filter(|l| r.kind.is_none_or(|k| k == l.kind))
                .filter(|l| r.industry.is_none() || r.industry == l.industry)
                .filter(|l| r.maturity.is_none() || r.maturity == l.maturity)
                .filter(|l| {
                    r.city.is_none()
                        || l.organization.as_ref().and_then(|o| o.city.clone()) == r.city
                })
                .filter(|l| {
                    r.zone.as_deref().is_none_or(|z| {
                        l.organization
                            .as_ref()
                            .is_some_and(|o| o.zones.contains(&z))
                    })
                })
                .collect();
            let mut expected = Facets::new();
            for l in &passing {
                let mut values: BTreeSet<(&str, String)> = BTreeSet::new();
                values.insert(("kind", l.kind.code().to_string()));
                if let Some(i) = &l.industry {
                    values.insert(("industry", i.replace('/', "／")));
                }
                if let Some(m) = &l.maturity {
                    values.insert(("maturity", m.clone()));
                }
                if let Some(o) = &l.organization {
                    if let Some(c) = &o.city {
                        values.insert(("city", c.clone()));
                    }
                    for z in &o.zones {
                        values.insert(("zone", z.to_string()));
                    }
                }
                for (d, v) in values {
                    *expected
                        .entry(d.to_string())
                        .or_default()
                        .entry(v)
                        .or_insert(0) += 1;
                }
            }
            assert_eq!(got.total, passing.len(), "{r:?}");
            assert_eq!(without_empty(&got.facets), expected, "{r:?}");
        }
    }
}

/// A merge the writer commits in the background is picked up without another commit:
/// searches move to the merged segment (and let the merged-away files go), and a commit
/// right after is still searchable on return.
#[test]
fn searches_move_to_merged_segments_without_another_commit() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    for seq in 1..=3 {
        let batch: Vec<ListingText> = (0..4)
            .map(|i| {
                listing(
                    ListingKind::Result,
                    seq * 10 + i,
                    "氢能 储氢 技术",
                    "电解水制氢",
                )
            })
            .collect();
        idx.apply(&[], &batch, seq).unwrap();
    }
    let segments = |idx: &SearchIndex| idx.searcher().segment_readers().len();
    let ids = idx.index.searchable_segment_ids().unwrap();
    assert!(ids.len() >= 2, "three commits, several segments: {ids:?}");
    let before = idx.search(&req("氢能")).unwrap();
    idx.with_writer(|w| {
        w.merge(&ids).wait()?;
        Ok(())
    })
    .unwrap();
    // the reload follows tantivy's watch of meta.json (polled about twice a second)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while segments(&idx) != 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        segments(&idx),
        1,
        "the searcher moved to the merged segment"
    );
    let after = idx.search(&req("氢能")).unwrap();
    assert_eq!(after.total, before.total);
    assert_eq!(after.facets, before.facets);
    // a commit still reloads at once
    idx.apply(
        &[],
        &[listing(ListingKind::Need, 99, "氢能 储运", "加氢站")],
        4,
    )
    .unwrap();
    assert_eq!(idx.search(&req("氢能")).unwrap().total, before.total + 1);
}

/// A deterministic stream of numbers for generated test data.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn the_pruned_ranking_gives_the_same_hits_and_scores_as_scoring_every_match() {
    const WORDS: [&str; 24] = [
        "氢能",
        "储氢",
        "燃料电池",
        "催化剂",
        "稀土",
        "焊接",
        "机器人",
        "视觉",
        "定位",
        "数控机床",
        "五轴",
        "加工",
        "锂电池",
        "隔膜",
        "正极材料",
        "人工智能",
        "工业互联网",
        "传感器",
        "涂层",
        "纳米",
        "检测",
        "智能制造",
        "新材料",
        "装备",
    ];
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    let mut rng = Lcg(7);
    let words = |rng: &mut Lcg, n: usize| -> String {
        (0..n)
            .map(|_| WORDS[rng.below(WORDS.len())])
            .collect::<Vec<_>>()
            .join("")
    };
    let mut live: std::collections::BTreeMap<i64, ListingText> = Default::default();
    // three segments: all published, mixed, all published with a second industry
    for (seq, range) in [(1, 0..1500), (2, 1500..2300), (3, 2300..3000)] {
        let batch: Vec<ListingText> = range
            .map(|i: usize| {
                let title_len = 2 + rng.below(4);
                let title = words(&mut rng, title_len);
                let body_len = 3 + rng.below(30);
                let body = words(&mut rng, body_len);
                let mut l = listing(ListingKind::ALL[i % 2], i as i64 + 1, &title, &body);
                if seq == 2 && i.is_multiple_of(3) {
                    l.status = "withdrawn".into();
                }
                if seq == 3 || i.is_multiple_of(5) {
                    l.industry = Some("equipment".into());
                }
                l.keywords = (0..rng.below(3))
                    .map(|_| WORDS[rng.below(WORDS.len())].to_string())
                    .collect();
                l
            })
            .collect();
        let mut batch = batch;
        if seq == 1 {
            // found only through the multi-word synonym of 数控机床 (a phrase)
            for id in 10_001..10_004 {
                batch.push(listing(
                    ListingKind::Result,
                    id,
                    "CNC机床改造",
                    "传感器检测",
                ));
            }
        }
        idx.apply(&[], &batch, seq).unwrap();
        live.extend(batch.iter().map(|l| (l.id, l.clone())));
    }
    let gone: Vec<(ListingKind, i64)> = [5, 700, 1600, 2999]
        .iter()
        .map(|id| (live[id].kind, *id))
        .collect();
    idx.apply(&gone, &[], 4).unwrap();
    assert!(
        idx.searcher().segment_readers().len() >= 2,
        "several segments"
    );

    let mut queries: Vec<String> = vec![
        "氢能储氢".into(),
        "焊接机器人视觉定位".into(),
        "人工智能".into(),     // a one-word synonym (AI)
        "数控机床五轴".into(), // a multi-word synonym (CNC 机床): phrases decide matches
        "催化剂".into(),
    ];
    for _ in 0..40 {
        let n = 1 + rng.below(3);
        queries.push(words(&mut rng, n));
    }
    let mut phrase_scored = false;
    for q in &queries {
        for (limit, offset, industry, status, kind) in [
            (10, 0, None, None, None),
            (5, 7, None, None, None),
            (10, 0, Some("equipment"), None, None),
            (10, 0, None, Some("withdrawn"), None),
            (20, 0, None, None, Some(ListingKind::Result)),
        ] {
            let r = SearchRequest {
                q: q.clone(),
                limit,
                offset,
                industry: industry.map(str::to_string),
                status: status.map(str::to_string),
                kind,
                ..Default::default()
            };
            let pruned = idx.search_ranked(&r, true).unwrap();
            let every = idx.search_ranked(&r, false).unwrap();
            assert_eq!(pruned.total, every.total, "{r:?}");
            // the total is tantivy's count of the whole query
            let text = query::text_query_parts(
                &idx.analyzer,
                &idx.synonyms,
                &idx.fields,
                &query::FieldWeights::default(),
                q,
            )
            .unwrap();
            let f = idx.fields;
            let mut filters: Vec<Term> = Vec::new();
            if let Some(k) = kind {
                filters.push(Term::from_field_text(f.kind, k.code()));
            }
            if let Some(i) = industry {
                filters.push(Term::from_field_text(f.industry, i));
            }
            filters.push(Term::from_field_text(
                f.status,
                status.unwrap_or("published"),
            ));
            let counted = idx
                .searcher()
                .search(
                    &crate::search::Ranking::of(&text, filters, false),
                    &tantivy::collector::Count,
                )
                .unwrap();
            assert_eq!(pruned.total, counted, "{r:?}");
            assert_eq!(pruned.facets, every.facets, "{r:?}");
            let ids = |s: &SearchResponse| s.hits.iter().map(|h| h.id).collect::<Vec<_>>();
            assert_eq!(
                ids(&pruned),
                ids(&every),
                "{r:?}: the same hits in the same order"
            );
            for (a, b) in pruned.hits.iter().zip(&every.hits) {
                assert!(
                    (a.score - b.score).abs() <= 1e-4 * b.score.abs().max(1.0),
                    "{r:?}: {} scored {} and {}",
                    a.id,
                    a.score,
                    b.score
                );
                assert_eq!(a.highlights, b.highlights, "{r:?}");
            }
            if offset == 0 && limit == 10 && industry.is_none() && status.is_none() {
                assert_eq!(
                    pruned.hits.len(),
                    pruned.total.min(10),
                    "{r:?}: a full page"
                );
                // the title phrase is exercised: some hit of a query of two or more
                // words holds the query as written in its title
                let multi = query::text_query_parts(
                    &idx.analyzer,
                    &idx.synonyms,
                    &idx.fields,
                    &query::FieldWeights::default(),
                    q,
                )
                .is_some_and(|t| t.title_phrase().is_some());
                phrase_scored |= multi && pruned.hits.iter().any(|h| h.title.contains(q.as_str()));
            }
        }
    }
    assert!(
        phrase_scored,
        "some query of two or more words is found as a phrase in a title"
    );
}

/// The candidates' BM25 scores as tantivy gives them with the searcher's own statistics.
fn plain_bm25(
    idx: &SearchIndex,
    searcher: &tantivy::Searcher,
    term: &str,
) -> Vec<(DocAddress, f32)> {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query};
    let f = &idx.fields;
    let clauses: Vec<(Occur, Box<dyn Query>)> = [(f.title, 2.0), (f.keywords, 1.5), (f.body, 1.0)]
        .into_iter()
        .map(|(field, boost)| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            ));
            (
                Occur::Should,
                Box::new(BoostQuery::new(q, boost)) as Box<dyn Query>,
            )
        })
        .collect();
    let mut hits: Vec<(DocAddress, f32)> = searcher
        .search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(100).order_by_score(),
        )
        .unwrap()
        .into_iter()
        .map(|(s, a)| (a, s))
        .collect();
    hits.sort_by_key(|h| h.0);
    hits
}

#[test]
fn candidates_score_with_the_statistics_of_the_searcher_they_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let idx = open(dir.path());
    idx.add_uncommitted(&[
        listing(
            ListingKind::Result,
            1,
            "稀土催化制氢",
            "稀土金属催化剂低温制氢。",
        ),
        listing(ListingKind::Result, 2, "数控机床主轴", "主轴振动故障诊断。"),
    ])
    .unwrap();
    idx.commit(1).unwrap();
    let fw = crate::query::FieldWeights {
        title: 2.0,
        keywords: 1.5,
        body: 1.0,
        org: 0.0,
    };
    let filter = similar::CandidateFilter {
        kind: Some(ListingKind::Result),
        ..Default::default()
    };
    let terms = [crate::query::WeightedTerm {
        term: "稀土".into(),
        weight: 1.0,
    }];
    let scores = |searcher: &tantivy::Searcher| {
        let mut c: Vec<(DocAddress, f32)> = idx
            .candidates(searcher, &terms, &fw, &filter, 20)
            .unwrap()
            .into_iter()
            .map(|c| (c.addr, c.score))
            .collect();
        c.sort_by_key(|h| h.0);
        c
    };
    let first = idx.searcher();
    let before = scores(&first);
    assert_eq!(before.len(), 1);
    // the figures are tantivy's own, asked again they are the same
    assert_eq!(before, plain_bm25(&idx, &first, "稀土"));
    assert_eq!(scores(&first), before);

    // more listings with the term: a rarer term no more, so the first listing's score falls
    let more: Vec<ListingText> = (3..13)
        .map(|id| listing(ListingKind::Result, id, "稀土永磁材料", "稀土永磁电机。"))
        .collect();
    idx.add_uncommitted(&more).unwrap();
    idx.commit(2).unwrap();
    let second = idx.searcher();
    assert_ne!(
        second.generation().generation_id(),
        first.generation().generation_id()
    );
    let after = scores(&second);
    assert_eq!(after.len(), 11);
    assert_eq!(after, plain_bm25(&idx, &second, "稀土"));
    let of_first = |hits: &[(DocAddress, f32)]| hits.iter().map(|h| h.1).fold(f32::MIN, f32::max);
    assert!(
        after.iter().all(|h| h.1 < of_first(&before)),
        "{before:?} {after:?}"
    );
    // an older searcher still scores with its own statistics
    assert_eq!(scores(&first), before);
}
