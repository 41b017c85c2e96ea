//! Research results: one per route of every topic, owned by a research organisation that
//! works in the industry.

use crate::experts::ExpertRef;
use crate::material::{INDUSTRIES, Route, Topic};
use crate::names::{self, People};
use crate::orgs::{self, ORGS};
use crate::rng::{Rng, fill};
use crate::{DemoPatent, DemoResult, chars};

/// Industries whose results usually come with software copyrights.
const SOFTWARE_HEAVY: &[&str] = &["information_technology"];

/// Builds all results, shuffled and numbered.
pub fn build(rng: &mut Rng, people: &mut People, experts: &[ExpertRef]) -> Vec<DemoResult> {
    let mut load = vec![0usize; ORGS.len()];
    let mut out = Vec::new();
    for industry in INDUSTRIES {
        let candidates: Vec<usize> = ORGS
            .iter()
            .enumerate()
            .filter(|(_, o)| orgs::is_research(o) && o.industries.contains(&industry.code))
            .map(|(i, _)| i)
            .collect();
        assert!(!candidates.is_empty(), "no owner for {}", industry.code);
        for topic in industry.topics {
            let owners: Vec<usize> = if topic.owners.is_empty() {
                candidates.clone()
            } else {
                topic.owners.iter().map(|k| orgs::index_of(k)).collect()
            };
            for (ri, route) in topic.routes.iter().enumerate() {
                // Two random choices, keep the less loaded: spreads results over owners.
                let (a, b) = (*rng.pick(&owners), *rng.pick(&owners));
                let owner = if load[b] < load[a] { b } else { a };
                load[owner] += 1;
                out.push(one(
                    rng,
                    people,
                    experts,
                    industry.code,
                    topic,
                    route,
                    ri,
                    owner,
                ));
            }
        }
    }
    rng.shuffle(&mut out);
    for (i, r) in out.iter_mut().enumerate() {
        r.external_id = format!("RES-{:04}", i + 1);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn one(
    rng: &mut Rng,
    people: &mut People,
    experts: &[ExpertRef],
    industry: &'static str,
    topic: &Topic,
    route: &Route,
    ri: usize,
    owner: usize,
) -> DemoResult {
    let org = &ORGS[owner];
    let maturity = ["lab", "pilot", "industrialized"][rng.weighted(&[28, 44, 28])];
    let trl = rng.chance(90).then(|| {
        (match maturity {
            "lab" => rng.range(2, 4),
            "pilot" => rng.range(5, 7),
            _ => rng.range(8, 9),
        }) as u8
    });
    let transfer_modes = modes(rng, maturity);
    let (price_min, price_max) = price(rng, maturity);
    let patents = patents(rng, topic, route, ri, maturity);

    // The team leader is one of the owner's experts in this industry when there is one.
    let own: Vec<&ExpertRef> = experts
        .iter()
        .filter(|e| e.org == owner && e.industry == industry)
        .collect();
    let (leader, leader_title, leader_email, leader_phone) = if own.is_empty() {
        let p = people.person(rng);
        let title = if org.kind == "institute" {
            "研究员"
        } else {
            "教授"
        };
        let email = people.email(&p.pinyin, org.domain);
        (p.name, title, email, names::mobile(rng))
    } else {
        let e = rng.pick(&own);
        (e.name.clone(), e.title, e.email.clone(), e.phone.clone())
    };
    let team = team(rng, &leader, leader_title, topic);
    let (contact_name, contact_phone, contact_email) = if rng.chance(65) {
        (leader, leader_phone, leader_email)
    } else {
        // The technology-transfer office of the owner answers for the team.
        let p = people.person(rng);
        let email = people.email(&p.pinyin, org.domain);
        (p.name, names::landline(org.city, rng), email)
    };

    let mut keywords: Vec<String> = Vec::new();
    let n_topic = rng.range(2, 4) as usize;
    for kw in rng
        .sample(topic.keywords, n_topic)
        .into_iter()
        .chain(route.kw.iter().copied())
    {
        if !keywords.iter().any(|k| k == kw) {
            keywords.push(kw.to_string());
        }
    }
    keywords.truncate(8);

    let summary = summary(rng, industry, topic, route, ri, maturity, &patents);
    let status = ["published", "draft", "withdrawn", "transferred"][rng.weighted(&[90, 4, 2, 4])];

    DemoResult {
        external_id: String::new(),
        org_external_id: orgs::external_id(owner),
        title: route.title.to_string(),
        summary,
        keywords,
        industry,
        maturity,
        trl,
        transfer_modes,
        price_min,
        price_max,
        patents,
        team,
        contact_name,
        contact_phone,
        contact_email,
        status,
    }
}

fn modes(rng: &mut Rng, maturity: &str) -> Vec<&'static str> {
    const ALL: [&str; 6] = [
        "transfer",
        "license",
        "equity",
        "joint_development",
        "commissioned_development",
        "technical_service",
    ];
    let weights: [u32; 6] = match maturity {
        "lab" => [5, 15, 5, 45, 20, 10],
        "pilot" => [15, 25, 10, 30, 10, 10],
        _ => [30, 30, 15, 5, 5, 15],
    };
    let n = rng.range(1, 3) as usize;
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < n {
        let i = rng.weighted(&weights);
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|i| ALL[i]).collect()
}

/// Price range in yuan, rounded to 万元; `None` means 面议.
fn price(rng: &mut Rng, maturity: &str) -> (Option<i64>, Option<i64>) {
    if rng.chance(12) {
        return (None, None);
    }
    let (lo, hi) = match maturity {
        "lab" => (5, 60),
        "pilot" => (20, 300),
        _ => (80, 900),
    };
    let mut min = rng.range(lo, hi);
    if min > 50 {
        min = min / 10 * 10;
    }
    let max = (min * rng.range(15, 40) / 10).clamp(min, 2000);
    let max = if max > 50 { max / 10 * 10 } else { max };
    (Some(min * 10_000), Some(max.max(min) * 10_000))
}

/// Patent title derived from a result title.
fn patent_title(title: &str) -> String {
    let strip = |suffix: &str| title.strip_suffix(suffix);
    if let Some(stem) = strip("技术") {
        format!("一种{stem}方法")
    } else if let Some(stem) = strip("平台") {
        format!("一种{stem}系统及方法")
    } else if let Some(stem) = strip("软件") {
        format!("一种{stem}方法")
    } else if let Some(stem) = strip("装备") {
        format!("一种{stem}装置")
    } else if title.ends_with("系统")
        || title.ends_with("装置")
        || title.ends_with("方法")
        || title.ends_with("工艺")
    {
        format!("一种{title}")
    } else if title.ends_with("材料") || title.ends_with("剂") || title.ends_with("涂层") {
        if title.contains('及') {
            format!("一种{title}")
        } else {
            format!("一种{title}及其制备方法")
        }
    } else {
        format!("一种{title}及其应用")
    }
}

/// Chinese patent number with its check digit, e.g. `ZL202310123456.7`.
pub fn patent_number(rng: &mut Rng, year: i64, invention: bool) -> String {
    let digits = format!(
        "{year}{}{}{}",
        if invention { 1 } else { 2 },
        rng.below(2),
        rng.digits(6)
    );
    format!("ZL{digits}.{}", check_digit(&digits))
}

/// Check digit of a 12-digit application number (weights 2–9, 2–5, modulo 11, 10 → X).
fn check_digit(digits: &str) -> char {
    const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = digits
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match sum % 11 {
        10 => 'X',
        c => char::from(b'0' + c as u8),
    }
}

fn patents(
    rng: &mut Rng,
    topic: &Topic,
    route: &Route,
    ri: usize,
    maturity: &str,
) -> Vec<DemoPatent> {
    let weights: [u32; 4] = match maturity {
        "lab" => [30, 45, 25, 0],
        "pilot" => [10, 35, 35, 20],
        _ => [5, 30, 35, 30],
    };
    let n = rng.weighted(&weights);
    let mut titles = vec![patent_title(route.title)];
    let routes = topic.routes.len();
    titles.extend(
        topic
            .patents
            .iter()
            .enumerate()
            .filter(|(j, _)| j % routes == ri)
            .map(|(_, t)| t.to_string()),
    );
    titles.truncate(n);
    titles
        .into_iter()
        .map(|title| {
            let year = rng.range(2015, 2023);
            // Utility models protect devices and structures only, never methods.
            let device = [
                "装置", "系统", "结构", "设备", "机构", "器", "板", "台", "塔",
            ]
            .iter()
            .any(|e| title.ends_with(e));
            let invention = !device || rng.chance(70);
            DemoPatent {
                number: patent_number(rng, year, invention),
                title,
            }
        })
        .collect()
}

fn team(rng: &mut Rng, leader: &str, title: &str, topic: &Topic) -> String {
    let n = rng.range(4, 15);
    let text = match rng.below(4) {
        0 => format!(
            "{leader}{title}团队，核心成员{n}人，其中博士{}人",
            rng.range(2, n.min(8))
        ),
        1 => format!(
            "项目负责人{leader}（{title}），团队{n}人，含高级职称{}人",
            rng.range(2, (n - 1).min(6))
        ),
        2 => {
            let kws = rng.sample(topic.keywords, 2);
            format!(
                "{leader}{title}课题组，成员{n}人，研究方向涵盖{}",
                kws.join("、")
            )
        }
        _ => format!(
            "由{leader}{title}牵头，联合企业工程师组成{n}人研发团队，具备中试放大与现场调试能力"
        ),
    };
    debug_assert!(chars(&text) <= 100);
    text
}

fn verify_phrase(rng: &mut Rng, maturity: &str) -> String {
    let options: &[&str] = match maturity {
        "lab" => &[
            "实验室测试表明，",
            "小样试验结果显示，",
            "模拟工况下的对比试验表明，",
            "经实验室条件下的验证，",
        ],
        "pilot" => &[
            "中试结果表明，",
            "经{3-12}个月中试运行，",
            "在合作企业中试线上验证，",
            "经第三方检测机构测试，",
        ],
        _ => &[
            "已在{2-15}家企业推广应用，运行数据显示，",
            "工业应用表明，",
            "经用户现场连续运行{6-24}个月，",
            "产业化示范线数据表明，",
        ],
    };
    let choice = rng.pick_str(options);
    fill(choice, rng)
}

fn ip_sentence(rng: &mut Rng, industry: &str, maturity: &str, patents: &[DemoPatent]) -> String {
    let inventions = patents
        .iter()
        .filter(|p| p.number.as_bytes().get(6) == Some(&b'1'))
        .count();
    let software = SOFTWARE_HEAVY.contains(&industry);
    let soft = if software {
        format!("、软件著作权{}项", rng.range(1, 6))
    } else {
        String::new()
    };
    if patents.is_empty() {
        return match maturity {
            "industrialized" => "核心工艺以技术秘密形式保护，可提供完整工艺包".to_string(),
            _ if software => format!("已登记软件著作权{}项", rng.range(1, 4)),
            _ => String::new(),
        };
    }
    let n = patents.len();
    let mut text = if inventions == n {
        match rng.below(4) {
            0 => format!("项目已获授权发明专利{n}项{soft}"),
            1 => format!("核心技术已获{n}项发明专利授权{soft}"),
            2 => format!("拥有自主知识产权，授权发明专利{n}项{soft}"),
            _ => format!("已形成授权发明专利{n}项{soft}的知识产权保护"),
        }
    } else if inventions == 0 {
        format!("项目已获授权实用新型专利{n}项{soft}")
    } else {
        format!("拥有授权专利{n}项（其中发明专利{inventions}项）{soft}")
    };
    if rng.chance(25) {
        text.push_str(&format!(
            "，另有{}项发明专利申请处于实质审查阶段",
            rng.range(1, 3)
        ));
    }
    text
}

/// Sentences that may close a summary that would otherwise be too short.
const SERVICES: &[&str] = &[
    "团队可提供工艺包设计、设备选型及人员培训等配套服务",
    "可根据企业现场条件进行定制化设计和联合调试",
    "欢迎有意向的企业开展中试放大或示范应用合作",
    "技术方可派驻工程师协助完成安装调试和试生产",
];

fn summary(
    rng: &mut Rng,
    industry: &str,
    topic: &Topic,
    route: &Route,
    ri: usize,
    maturity: &str,
    patents: &[DemoPatent],
) -> String {
    let problem = fill(topic.problem, rng);
    let method = fill(route.method, rng);
    let scene = fill(topic.scene, rng);
    let n_metrics = rng.range(2, 3) as usize;
    let metrics: Vec<String> = rng
        .sample(&topic.metrics_for(ri), n_metrics)
        .into_iter()
        .map(|m| fill(m, rng))
        .collect();
    let verify = verify_phrase(rng, maturity);
    let ip = ip_sentence(rng, industry, maturity, patents);
    let ip = if ip.is_empty() { ip } else { ip + "。" };
    let mut template = (ri + rng.below(2)) % 4;
    if template == 1 && problem.contains("问题") {
        template = 0;
    }
    let mut text = match template {
        0 => format!(
            "{problem}。本成果{method}。{verify}{}。{scene}。{ip}",
            metrics.join("，")
        ),
        1 => format!(
            "针对{problem}等问题，{}{method}。{verify}{}。该技术{scene}。{ip}",
            rng.pick_str(&["项目团队", "课题组", "研究团队", "本项目"]),
            metrics.join("，")
        ),
        2 => format!(
            "【技术背景】{problem}。【技术内容】{method}。【技术指标】{}。【应用前景】{scene}。{ip}",
            metrics.join("；")
        ),
        _ => format!(
            "本成果{method}，{}。{verify}{}。研发背景：{problem}。成果{scene}。{ip}",
            metrics[0],
            metrics[1..].join("，")
        ),
    };
    let mut extra = rng.sample(SERVICES, SERVICES.len()).into_iter();
    while chars(&text) < 150 {
        match extra.next() {
            Some(s) => {
                text.push_str(s);
                text.push('。');
            }
            None => break,
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patent_numbers_have_valid_check_digits() {
        let mut rng = Rng::new(9);
        for _ in 0..100 {
            let n = patent_number(&mut rng, 2021, true);
            assert_eq!(n.len(), "ZL202310123456.7".len(), "{n}");
            assert!(n.starts_with("ZL20211"));
        }
        // 2·2 + 0·3 + 2·4 + 3·5 + 1·6 + 0·7 + 1·8 + 2·9 + 3·2 + 4·3 + 5·4 + 6·5 = 127 ≡ 6.
        assert_eq!(check_digit("202310123456"), '6');
        // 2·2 + 0·3 + 2·4 + 1·5 + 1·6 + 0·7 + 0·8 + 0·9 + 0·2 + 0·3 + 0·4 + 1·5 = 28 ≡ 6.
        assert_eq!(check_digit("202110000001"), '6');
        // 2·2 + 0·3 + 1·4 + 9·5 + 1·6 + 0·7 + 0·8 + 0·9 + 0·2 + 0·3 + 0·4 + 3·5 = 74 ≡ 8.
        assert_eq!(check_digit("201910000003"), '8');
    }

    #[test]
    fn patent_titles_read_like_patents() {
        assert_eq!(
            patent_title("高炉煤气余压余热梯级利用技术"),
            "一种高炉煤气余压余热梯级利用方法"
        );
        assert_eq!(
            patent_title("耐海水腐蚀钛合金涂层"),
            "一种耐海水腐蚀钛合金涂层及其制备方法"
        );
    }
}
