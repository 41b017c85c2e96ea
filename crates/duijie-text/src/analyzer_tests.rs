//! Tests of the analyzer's token rules and its tantivy tokenizers.

use std::collections::HashSet;
use std::sync::OnceLock;

use tantivy_tokenizer_api::{TokenStream, Tokenizer};

use crate::test_support::{analyzer, dict_path};
use crate::{Analyzer, AnalyzerConfig, TextError, Token, is_han, normalize};

const CORPUS: &[&str] = &[
    "中国农业发展银行支持现代农业。",
    "推进科技成果转化，促进产学研合作。",
    "稀土催化剂在电解水制氢中的应用研究",
    "基于5G的工业互联网平台，已在鞍钢试点。",
    "ＣＮＣ数控机床五轴联动加工中心，精度达０．００１ｍｍ",
    "PEG-400作为表面活性剂用于精细化工",
    "锂离子电池正极材料（LiFePO4）与钠离子电池对比",
    "氢燃料电池汽车加氢站建设规划 2025—2030",
    "大连化学物理研究所开展质子交换膜燃料电池中试",
    "沈阳新松机器人：工业机器人、协作机器人及AGV",
    "中药材人参、五味子、细辛的道地药材标准化种植",
    "海水淡化与海洋牧场是辽宁海洋经济的重要方向",
    "集成电路、芯片设计、IC封装测试与碳化硅功率器件",
    "企业技术需求：寻求高强钢热轧工艺优化方案，预算50万元",
    "技术转让/作价入股/专利许可均可洽谈",
    "专精特新“小巨人”企业揭榜挂帅项目申报",
    "C++与Python混合编程；Ti-6Al-4V钛合金激光熔覆",
    "菱镁矿资源综合利用及镁合金精深加工技术",
    "食品加工企业冷链物流温控系统（IoT + RFID）",
    "文化旅游：冰雪旅游与工业遗产保护利用",
    "新能源汽车动力电池回收，梯次利用于储能电站",
    "光伏组件用钙钛矿电池效率突破２６％",
    "石油化工催化裂化装置VOCs治理",
    "轨道交通转向架疲劳寿命预测与故障诊断",
    "船舶制造中的智能焊接机器人应用",
    "氘氚聚变燃料与𬭚元素的化学性质",
    "Ｈｅｌｌｏ　Ｗｏｒｌｄ！全角文字测试：ＡＢＣ１２３",
    "温度 -40℃~85℃，湿度≤95%RH，IP67防护",
    "GB/T 19001-2016 质量管理体系认证",
    "农业机械化、智慧农业与水肥一体化技术示范",
    "鞍山钢铁集团有限公司 & 东北大学 联合实验室",
    "生物医药产业园：单克隆抗体、创新药、医疗器械",
    "盘锦市 辽河油田 稠油开采 热采技术",
    "微纳加工 MEMS 传感器 芯片 封装",
    "数据要素×人工智能＋制造业",
    "其中试验数据表明，该方法可以推广。",
    "二〇二三年十二月，3.5亿元投资落地。",
    "",
    "   ，。！？、；：“”‘’（）【】《》",
    "abc\r\ndef\t中文\n\n",
];

fn hmm_analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        Analyzer::new(&AnalyzerConfig {
            hmm: true,
            user_dict: Some(dict_path("user.dict")),
        })
        .expect("user dictionary loads")
    })
}

fn texts(tokens: &[Token]) -> Vec<&str> {
    tokens.iter().map(|t| t.text.as_str()).collect()
}

/// Every query token has an index token with the same text, position and
/// offsets, and the query token texts are a subset of the index token texts.
fn check_query_subset_of_index(a: &Analyzer, text: &str) {
    let index = a.index_tokens(text);
    let query = a.query_tokens(text);
    let index_set: HashSet<(&str, usize, usize, usize)> = index
        .iter()
        .map(|t| (t.text.as_str(), t.position, t.offset_from, t.offset_to))
        .collect();
    for q in &query {
        assert!(
            index_set.contains(&(q.text.as_str(), q.position, q.offset_from, q.offset_to)),
            "query token {q:?} of {text:?} missing from index tokens {index:?}"
        );
    }
    let index_texts: HashSet<&str> = texts(&index).into_iter().collect();
    let query_texts: HashSet<&str> = texts(&query).into_iter().collect();
    assert!(query_texts.is_subset(&index_texts), "{text:?}");
}

/// Offsets are valid byte ranges of the original text on char boundaries,
/// sorted as tantivy requires; positions are the char index of offset_from;
/// the original span folds to the token text (or, for Han sub-words, equals
/// it); nothing is punctuation or whitespace.
fn check_offsets(text: &str, tokens: &[Token]) {
    let mut prev: Option<&Token> = None;
    for t in tokens {
        assert!(t.offset_from < t.offset_to, "{t:?} in {text:?}");
        assert!(t.offset_to <= text.len(), "{t:?} in {text:?}");
        assert!(text.is_char_boundary(t.offset_from), "{t:?} in {text:?}");
        assert!(text.is_char_boundary(t.offset_to), "{t:?} in {text:?}");
        assert_eq!(
            text[..t.offset_from].chars().count(),
            t.position,
            "position of {t:?} in {text:?} is not its char index"
        );
        assert_eq!(
            normalize(&text[t.offset_from..t.offset_to]),
            t.text,
            "span of {t:?} in {text:?}"
        );
        assert!(
            t.text
                .chars()
                .all(|c| c.is_alphanumeric() || "-._/&+#".contains(c)),
            "{t:?} in {text:?}"
        );
        assert!(
            t.text.chars().any(char::is_alphanumeric),
            "{t:?} in {text:?}"
        );
        if let Some(p) = prev {
            assert!(
                p.offset_from <= t.offset_from,
                "{p:?} then {t:?} in {text:?}"
            );
            assert!(p.position <= t.position, "{p:?} then {t:?} in {text:?}");
            assert!(p != t, "duplicate {t:?} in {text:?}");
        }
        prev = Some(t);
    }
}

/// Query tokens do not overlap, so both offsets are monotonic (what tantivy's
/// snippet generator needs).
fn check_query_tokens_do_not_overlap(text: &str, tokens: &[Token]) {
    for w in tokens.windows(2) {
        assert!(w[0].offset_to <= w[1].offset_from, "{w:?} in {text:?}");
    }
}

/// Every Han character and every alphanumeric character lies inside a token.
fn check_coverage(text: &str, tokens: &[Token]) {
    for (b, c) in text.char_indices() {
        let c = crate::fold_char(c);
        if is_han(c) || c.is_alphanumeric() {
            assert!(
                tokens.iter().any(|t| t.offset_from <= b && b < t.offset_to),
                "{c:?} at {b} of {text:?} not covered by {tokens:?}"
            );
        }
    }
}

fn check_all(a: &Analyzer, text: &str) {
    check_query_subset_of_index(a, text);
    let index = a.index_tokens(text);
    let query = a.query_tokens(text);
    check_offsets(text, &index);
    check_offsets(text, &query);
    check_query_tokens_do_not_overlap(text, &query);
    check_coverage(text, &index);
    check_coverage(text, &query);
}

#[test]
fn corpus_invariants() {
    assert!(CORPUS.len() >= 30);
    for a in [analyzer(), hmm_analyzer()] {
        for text in CORPUS {
            check_all(a, text);
        }
    }
}

/// xorshift64*: a tiny deterministic PRNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn fuzz_invariants() {
    let alphabet: Vec<char> =
        "科技成果转化农业中国发展银行稀土催化剂电解水制氢的了是氘氚𬭚〇人工智能数控机床\
                               aBcXyzPEG05９ＡｃＣ５－．＋＃　 ,。.-/+#&_，、（）\n\t%℃"
            .chars()
            .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let len = rng.below(40);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let a = if round % 2 == 0 {
            analyzer()
        } else {
            hmm_analyzer()
        };
        check_all(a, &text);
    }
}

#[test]
fn positions_are_char_indexes_and_phrases_line_up() {
    let a = analyzer();
    let doc = "推进科技成果转化";
    let index = a.index_tokens(doc);
    for (query, shift) in [
        ("成果转化", 4),
        ("科技成果", 2),
        ("科技成果转化", 2),
        ("成果", 4),
    ] {
        let q = a.query_tokens(query);
        assert!(!q.is_empty());
        for t in &q {
            assert!(
                index
                    .iter()
                    .any(|i| i.text == t.text && i.position == t.position + shift),
                "{query}: {t:?} not at +{shift} in {index:?}"
            );
        }
    }
    // A multi-token query keeps its relative positions in the document.
    let doc = "辽宁省推动电解水制氢技术产业化";
    let index = a.index_tokens(doc);
    let q = a.query_tokens("制氢技术产业化");
    assert!(q.len() >= 2, "{q:?}");
    let shift = doc.chars().position(|c| c == '制').unwrap_or(usize::MAX);
    for t in &q {
        assert!(
            index
                .iter()
                .any(|i| i.text == t.text && i.position == t.position + shift),
            "{t:?} not at +{shift} in {index:?}"
        );
    }
    // Positions count characters, not tokens or bytes.
    let q = a.query_tokens("5G，稀土催化剂");
    assert_eq!(texts(&q), vec!["5g", "稀土催化剂"]);
    assert_eq!(q[1].position, 3);
    assert_eq!(q[1].offset_from, "5G，".len());
}

#[test]
fn latin_runs_are_lowercased_and_split_in_index_mode_only() {
    let a = analyzer();
    let q = a.query_tokens("5G ＣＮＣ PEG-400");
    assert_eq!(texts(&q), vec!["5g", "cnc", "peg-400"]);
    let i = a.index_tokens("5G ＣＮＣ PEG-400");
    assert_eq!(texts(&i), vec!["5g", "cnc", "peg", "peg-400", "400"]);
    let peg = &i[2];
    let four = &i[4];
    assert_eq!((peg.position, four.position), (7, 11));
    assert_eq!(
        &"5G ＣＮＣ PEG-400"[four.offset_from..four.offset_to],
        "400"
    );
    // Full-width offsets point into the original text.
    let cnc = &i[1];
    assert_eq!(
        &"5G ＣＮＣ PEG-400"[cnc.offset_from..cnc.offset_to],
        "ＣＮＣ"
    );
    // Mixed letter/digit pieces expose their long parts in index mode.
    let i = a.index_tokens("PEG400 iPhone15 c++ TCP/IP");
    let t = texts(&i);
    for want in [
        "peg400", "peg", "400", "iphone15", "iphone", "15", "c++", "tcp/ip", "tcp", "ip",
    ] {
        assert!(t.contains(&want), "{want} missing from {t:?}");
    }
    assert_eq!(
        texts(&a.query_tokens("PEG400 iPhone15 c++ TCP/IP")),
        vec!["peg400", "iphone15", "c++", "tcp/ip"]
    );
    // Single-character parts are noise and are not indexed.
    assert_eq!(
        texts(&a.index_tokens("3.5 c++ 5G")),
        vec!["3.5", "c++", "5g"]
    );
    // Connectors only join when an alphanumeric follows.
    assert_eq!(
        texts(&a.query_tokens("abc- -def x.y. 3.5")),
        vec!["abc", "def", "x.y", "3.5"]
    );
}

#[test]
fn punctuation_and_space_are_never_tokens_and_oov_is_kept() {
    let a = analyzer();
    for mode_tokens in [
        a.query_tokens("  ，。！？ ... --- ／＼ 【】\t\r\n ℃ % ~"),
        a.index_tokens("  ，。！？ ... --- ／＼ 【】\t\r\n ℃ % ~"),
    ] {
        assert!(mode_tokens.is_empty(), "{mode_tokens:?}");
    }
    let text = "𬭚和氘氚，Ωmega";
    for a in [analyzer(), hmm_analyzer()] {
        for tokens in [a.query_tokens(text), a.index_tokens(text)] {
            let joined: String = texts(&tokens).concat();
            for c in ['𬭚', '氘', '氚', '和'] {
                assert!(joined.contains(c), "{c} missing from {tokens:?}");
            }
            assert!(texts(&tokens).contains(&"ωmega"), "{tokens:?}");
            assert!(!joined.contains('，'));
        }
    }
}

#[test]
fn search_mode_exposes_sub_words() {
    let a = analyzer();
    let text = "中国农业发展银行";
    let index = a.index_tokens(text);
    let query = a.query_tokens(text);
    assert!(
        index.iter().any(|t| t.text == "农业" && t.position == 2),
        "{index:?}"
    );
    // Exact mode hides it inside a longer word (中国 / 农业发展银行).
    assert!(!texts(&query).contains(&"农业"), "{query:?}");
    check_query_subset_of_index(a, text);
}

#[test]
fn user_dictionary_keeps_compounds_whole() {
    let a = analyzer();
    assert!(a.user_words() >= 400, "{}", a.user_words());
    for term in [
        "稀土催化剂",
        "电解水制氢",
        "科技成果转化",
        "数控机床",
        "专精特新",
        "揭榜挂帅",
        "作价入股",
    ] {
        assert_eq!(texts(&a.query_tokens(term)), vec![term], "{term}");
    }
    assert_eq!(
        texts(&a.query_tokens("研发稀土催化剂")),
        vec!["研发", "稀土催化剂"]
    );
    // Without the user dictionary the compound is split.
    let plain = Analyzer::new(&AnalyzerConfig::default()).unwrap();
    assert_ne!(texts(&plain.query_tokens("稀土催化剂")), vec!["稀土催化剂"]);
    assert_eq!(plain.user_words(), 0);
}

#[test]
fn user_dictionary_does_not_swallow_ordinary_words() {
    let a = analyzer();
    for (text, want) in [
        ("其中试验数据", vec!["其中", "试验", "数据"]),
        ("各种业务", vec!["各种", "业务"]),
        ("我们的研究方法", vec!["我们", "的", "研究", "方法"]),
        ("中国农业", vec!["中国", "农业"]),
    ] {
        assert_eq!(texts(&a.query_tokens(text)), want, "{text}");
    }
}

#[test]
fn user_dictionary_file_errors_and_format() {
    let dir = std::env::temp_dir().join(format!("duijie-text-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.dict");
    std::fs::write(
        &good,
        "# comment\n\n氕氘化合物 3000 n\n钼铼合金 2000\n镧铈\nABC公司 100 n\n",
    )
    .unwrap();
    let a = Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(good),
    })
    .unwrap();
    assert_eq!(a.user_words(), 3);
    assert_eq!(texts(&a.query_tokens("氕氘化合物")), vec!["氕氘化合物"]);
    assert_eq!(texts(&a.query_tokens("钼铼合金")), vec!["钼铼合金"]);
    assert!(a.jieba().has_word("镧铈"));
    assert!(!a.jieba().has_word("ABC公司"));

    let bad = dir.join("bad.dict");
    std::fs::write(&bad, "稀土 100 n\n催化剂 many n\n").unwrap();
    let err = Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(bad),
    })
    .unwrap_err();
    assert!(matches!(err, TextError::Parse { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");

    let missing = Analyzer::new(&AnalyzerConfig {
        hmm: false,
        user_dict: Some(dir.join("missing.dict")),
    })
    .unwrap_err();
    assert!(matches!(missing, TextError::Io { .. }), "{missing}");
    assert!(missing.to_string().starts_with("cannot read"), "{missing}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tantivy_tokenizers_match_analyzer_and_clone_cheaply() {
    let a = analyzer();
    let text = "ＣＮＣ数控机床与PEG-400，中国农业发展银行";
    let mut index = a.index_tokenizer();
    let mut stream = index.token_stream(text);
    assert_eq!(stream.token().text, "", "no token before advance");
    let mut got = Vec::new();
    while let Some(t) = stream.next() {
        assert_eq!(t.position_length, 1);
        got.push(Token {
            text: t.text.clone(),
            offset_from: t.offset_from,
            offset_to: t.offset_to,
            position: t.position,
        });
    }
    assert!(!stream.advance());
    assert_eq!(got, a.index_tokens(text));

    let mut query = a.query_tokenizer();
    let mut stream = query.token_stream(text);
    let mut got = Vec::new();
    stream.process(&mut |t| got.push(t.text.clone()));
    assert_eq!(got, texts(&a.query_tokens(text)));

    let before = a.shared_count();
    let clones: Vec<_> = (0..10_000).map(|_| index.clone()).collect();
    let qclones: Vec<_> = (0..10_000).map(|_| query.clone()).collect();
    assert_eq!(a.shared_count(), before + 20_000);
    drop(clones);
    drop(qclones);
    assert_eq!(a.shared_count(), before);
}

#[test]
fn normalize_term_folds_and_lowercases() {
    let a = analyzer();
    assert_eq!(a.normalize_term("ＣＮＣ　机床"), "cnc 机床");
    assert_eq!(
        a.normalize_term(" Liaoning  Province "),
        "liaoning province"
    );
}

/// The domain boundary list (`testdata/domain_boundaries.txt`): sentence, words a
/// search must find in it, words it must not find (known exceptions, marked `~`, left
/// out).
pub(crate) fn domain_cases() -> Vec<(String, Vec<String>, Vec<String>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/domain_boundaries.txt"
    );
    let text = std::fs::read_to_string(path).expect("domain boundary list");
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (sentence, words) = line.split_once('\t').expect("sentence TAB words");
        let (mut find, mut avoid) = (Vec::new(), Vec::new());
        for w in words.split_whitespace() {
            if w.starts_with('~') {
                continue;
            }
            if let Some(w) = w.strip_prefix('+') {
                find.push(w.to_owned());
            } else if let Some(w) = w.strip_prefix('-') {
                avoid.push(w.to_owned());
            } else {
                panic!("word without + or -: {w} in {line}");
            }
        }
        out.push((sentence.to_owned(), find, avoid));
    }
    out
}

/// Whether a search for `word` finds `sentence` on tokens: at some occurrence of the
/// word's characters, every query token of the word is an index token of the sentence
/// at the same character offset (what a term or phrase query on the index matches).
fn finds(a: &Analyzer, sentence: &str, word: &str) -> bool {
    let index: HashSet<(String, usize)> = a
        .index_tokens(sentence)
        .into_iter()
        .map(|t| (t.text, t.position))
        .collect();
    let query = a.query_tokens(word);
    let fold = |s: &str| -> Vec<char> {
        s.chars()
            .map(|c| crate::fold_char(c).to_lowercase().next().unwrap_or(c))
            .collect()
    };
    let (chars, wanted) = (fold(sentence), fold(word));
    !query.is_empty()
        && (0..chars.len()).any(|p| {
            chars[p..].starts_with(&wanted)
                && query
                    .iter()
                    .all(|t| index.contains(&(t.text.clone(), p + t.position)))
        })
}

#[test]
fn domain_sentences_find_whole_words_and_nothing_across_boundaries() {
    let a = analyzer();
    let cases = domain_cases();
    assert!(cases.len() >= 60, "{}", cases.len());
    let mut failures = Vec::new();
    for (sentence, find, avoid) in &cases {
        for w in find {
            assert!(sentence.contains(w.as_str()), "{w} not in {sentence}");
            if !finds(a, sentence, w) {
                failures.push(format!("{sentence}: {w} not found"));
            }
        }
        for w in avoid {
            assert!(sentence.contains(w.as_str()), "{w} not in {sentence}");
            if finds(a, sentence, w) {
                failures.push(format!("{sentence}: {w} found across a boundary"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
