//! Technology needs: one per ask of every topic, posted by the enterprise the ask names.

use crate::material::{Ask, INDUSTRIES, Topic};
use crate::names::{self, People};
use crate::orgs::{self, ORGS};
use crate::rng::{Rng, fill};
use crate::{DemoNeed, chars, wan};

const MODE_NAMES: [(&str, &str); 6] = [
    ("transfer", "技术转让"),
    ("license", "专利许可"),
    ("equity", "技术作价入股"),
    ("joint_development", "合作开发"),
    ("commissioned_development", "委托开发"),
    ("technical_service", "技术服务"),
];

/// What the enterprise offers a partner.
const OFFERS: &[&str] = &[
    "公司可提供生产现场和试验条件",
    "公司可开放一条生产线用于现场验证",
    "公司已预留专项技改资金，并配备专职技术人员对接",
    "可提供历史运行数据和工艺参数供技术方分析",
    "公司可提供中试场地和公用工程配套",
    "项目已列入公司年度重点技术攻关计划",
];

/// What the enterprise asks of a partner.
const REQUIREMENTS: &[&str] = &[
    "要求合作方具备同类项目的工程化实施经验",
    "希望合作方能派技术人员驻厂指导",
    "合作方需提供完整的技术资料并负责人员培训",
    "优先考虑省内高校和科研院所团队",
    "要求技术方案通过专家论证后再实施",
    "希望与高校建立长期稳定的产学研合作关系",
];

/// Sentences that may close a description that would otherwise be too short.
const CLOSINGS: &[&str] = &[
    "目前已完成前期调研，急需外部技术力量支持。",
    "欢迎高校、科研院所和科技型企业联系洽谈。",
    "该问题已持续较长时间，公司内部技术力量难以独立解决。",
];

/// Builds all needs, shuffled and numbered.
pub fn build(rng: &mut Rng, people: &mut People) -> Vec<DemoNeed> {
    let mut out = Vec::new();
    for industry in INDUSTRIES {
        for topic in industry.topics {
            for ask in topic.asks {
                out.push(one(rng, people, industry.code, topic, ask));
            }
        }
    }
    rng.shuffle(&mut out);
    for (i, n) in out.iter_mut().enumerate() {
        n.external_id = format!("NEED-{:04}", i + 1);
    }
    out
}

fn one(
    rng: &mut Rng,
    people: &mut People,
    industry: &'static str,
    topic: &Topic,
    ask: &Ask,
) -> DemoNeed {
    let owner = orgs::index_of(ask.by);
    let org = &ORGS[owner];
    let n_modes = rng.range(1, 3) as usize;
    let mut modes: Vec<usize> = Vec::new();
    while modes.len() < n_modes {
        let i = rng.weighted(&[12, 10, 3, 30, 30, 20]);
        if !modes.contains(&i) {
            modes.push(i);
        }
    }
    modes.sort_unstable();
    let cooperation_modes: Vec<&'static str> = modes.iter().map(|&i| MODE_NAMES[i].0).collect();

    let (budget_min, budget_max) = if rng.chance(12) {
        (None, None)
    } else {
        let mut min = rng.range(5, 400);
        if min > 50 {
            min = min / 10 * 10;
        }
        let mut max = (min * rng.range(13, 30) / 10).min(2000);
        if max > 50 {
            max = max / 10 * 10;
        }
        (Some(min * 10_000), Some(max.max(min) * 10_000))
    };
    let deadline = rng.chance(85).then(|| {
        let month = rng.range(0, 12); // 0 = 2026-12 … 12 = 2027-12
        let (year, month) = if month == 0 {
            (2026, 12)
        } else {
            (2027, month)
        };
        format!("{year}-{month:02}-{:02}", rng.range(1, 28))
    });
    let required_maturity = match rng.weighted(&[35, 8, 32, 25]) {
        0 => None,
        1 => Some("lab"),
        2 => Some("pilot"),
        _ => Some("industrialized"),
    };

    let n_kw = rng.range(3, 5) as usize;
    let keywords: Vec<String> = rng
        .sample(topic.keywords, n_kw)
        .into_iter()
        .map(str::to_string)
        .collect();

    let description = describe(
        rng,
        ask,
        &modes,
        budget_min.zip(budget_max),
        deadline.as_deref(),
        required_maturity,
    );

    let person = people.person(rng);
    let contact_email = people.email(&person.pinyin, org.domain);
    let contact_phone = if rng.chance(50) {
        names::landline(org.city, rng)
    } else {
        names::mobile(rng)
    };
    let status = ["published", "draft", "matched", "closed"][rng.weighted(&[84, 6, 7, 3])];

    DemoNeed {
        external_id: String::new(),
        org_external_id: orgs::external_id(owner),
        title: ask.title.to_string(),
        description,
        keywords,
        industry,
        cooperation_modes,
        budget_min,
        budget_max,
        deadline,
        required_maturity,
        contact_name: person.name,
        contact_phone,
        contact_email,
        status,
    }
}

fn describe(
    rng: &mut Rng,
    ask: &Ask,
    modes: &[usize],
    budget: Option<(i64, i64)>,
    deadline: Option<&str>,
    maturity: Option<&str>,
) -> String {
    let pain = fill(ask.pain, rng);
    let want = fill(ask.want, rng);
    let mode_text: Vec<&str> = modes.iter().map(|&i| MODE_NAMES[i].1).collect();
    let mode_text = match mode_text.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}或{last}", rest.join("、")),
        _ => mode_text.concat(),
    };
    let offer = rng.pick_str(OFFERS);
    let requirement = rng.pick_str(REQUIREMENTS);
    let cond = match rng.below(3) {
        0 => format!("拟以{mode_text}形式推进，{offer}"),
        1 => format!("合作方式以{mode_text}为主，{requirement}"),
        _ => format!("拟采用{mode_text}方式，{offer}，{requirement}"),
    };
    let budget_text = match budget {
        Some((min, max)) if min == max => format!("项目预算约{}万元", wan(min)),
        Some((min, max)) => match rng.below(2) {
            0 => format!("项目预算{}万至{}万元", wan(min), wan(max)),
            _ => format!("预计投入{}—{}万元", wan(min), wan(max)),
        },
        None => "合作费用可面议".to_string(),
    };
    let when_phrase = rng.below(4);
    let when = deadline.map(|d| {
        let (y, rest) = d.split_at(4);
        let month: u32 = rest[1..3].parse().unwrap_or(12);
        match when_phrase {
            0 => format!("希望在{y}年{month}月前完成技术方案并启动实施"),
            1 => format!("计划于{y}年{month}月前完成现场验证"),
            2 => format!("要求{y}年{month}月底前交付阶段性成果"),
            _ => format!("项目需在{y}年{month}月前取得实质性进展"),
        }
    });
    let maturity_text = match maturity {
        Some("lab") => Some(rng.pick_str(&[
            "可接受处于实验室阶段、具备放大潜力的技术",
            "也欢迎尚处于实验室阶段的技术方案，可共同开展放大研究",
        ])),
        Some("pilot") => Some(rng.pick_str(&[
            "技术应至少完成中试验证",
            "要求技术已通过中试或小批量试制",
            "希望技术具备中试以上成熟度",
        ])),
        Some(_) => Some(rng.pick_str(&[
            "优先考虑已有工业化应用案例的成熟技术",
            "要求技术已有成功的工业应用案例",
            "希望采用经过规模化生产验证的成熟技术",
        ])),
        None => None,
    };
    let mut tail: Vec<String> = vec![budget_text];
    tail.extend(when);
    let mut text = match rng.below(3) {
        0 => format!("{pain}。{want}。{cond}。{}。", tail.join("，")),
        1 => format!(
            "【现状】{pain}。【需求】{want}。【合作方式】{cond}；{}。",
            tail.join("，")
        ),
        _ => format!("{pain}。为此，{want}。{cond}，{}。", tail.join("，")),
    };
    if let Some(m) = maturity_text {
        text.push_str(m);
        text.push('。');
    }
    let mut extras = rng.sample(CLOSINGS, CLOSINGS.len()).into_iter();
    while chars(&text) < 150 {
        match extras.next() {
            Some(extra) => text.push_str(extra),
            None => break,
        }
    }
    text
}
