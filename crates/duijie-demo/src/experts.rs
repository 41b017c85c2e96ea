//! Experts: researchers of the universities and institutes, with research areas taken from
//! the topics of their industry.

use crate::material::{self, Topic};
use crate::names::{self, People};
use crate::orgs::{self, ORGS};
use crate::rng::{Rng, fill};
use crate::{DemoExpert, chars};

/// What the result generator needs to know about an expert to make them a team leader.
#[derive(Debug, Clone)]
pub struct ExpertRef {
    /// Index of the employer in [`ORGS`].
    pub org: usize,
    /// Main industry.
    pub industry: &'static str,
    /// Name.
    pub name: String,
    /// Title (教授…).
    pub title: &'static str,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
}

const UNIVERSITY_TITLES: &[(&str, u32)] = &[
    ("教授", 46),
    ("副教授", 34),
    ("研究员", 5),
    ("高级工程师", 10),
    ("正高级工程师", 5),
];
const INSTITUTE_TITLES: &[(&str, u32)] = &[
    ("研究员", 50),
    ("副研究员", 35),
    ("高级工程师", 10),
    ("正高级工程师", 5),
];

/// How many experts an organisation gets in its `k`-th industry out of `n`.
fn experts_per_industry(k: usize, n: usize) -> usize {
    match n {
        1 => 4,
        2 => 3 - k.min(1),
        _ if k < 2 => 2,
        _ => 1,
    }
}

/// Builds the experts, in the order of their employers.
pub fn build(rng: &mut Rng, people: &mut People) -> (Vec<DemoExpert>, Vec<ExpertRef>) {
    let mut experts = Vec::new();
    let mut refs = Vec::new();
    for (org_index, org) in ORGS.iter().enumerate() {
        if !orgs::is_research(org) {
            continue;
        }
        for (k, code) in org.industries.iter().enumerate() {
            let industry = material::industry(code);
            for _ in 0..experts_per_industry(k, org.industries.len()) {
                let person = people.person(rng);
                let table = if org.kind == "institute" {
                    INSTITUTE_TITLES
                } else {
                    UNIVERSITY_TITLES
                };
                let weights: Vec<u32> = table.iter().map(|t| t.1).collect();
                let title = table[rng.weighted(&weights)].0;
                // Areas from topics this organisation is suited to, for a coherent profile.
                let mut eligible: Vec<&Topic> = industry
                    .topics
                    .iter()
                    .filter(|t| t.owners.is_empty() || t.owners.contains(&org.key))
                    .collect();
                if eligible.len() < 2 {
                    eligible = industry.topics.iter().collect();
                }
                let n_areas = rng.range(2, 4) as usize;
                let topics: Vec<&Topic> = rng.sample(&eligible, n_areas);
                let areas: Vec<String> = topics.iter().map(|t| t.area.to_string()).collect();
                let mut keywords: Vec<String> = Vec::new();
                for t in &topics {
                    for kw in rng.sample(t.keywords, 3) {
                        if !keywords.iter().any(|k| k == kw) {
                            keywords.push(kw.to_string());
                        }
                    }
                }
                keywords.truncate(rng.range(4, 7) as usize);
                let summary = profile(rng, org.name, industry, title, &areas);
                let email = people.email(&person.pinyin, org.domain);
                let phone = if rng.chance(55) {
                    names::landline(org.city, rng)
                } else {
                    names::mobile(rng)
                };
                refs.push(ExpertRef {
                    org: org_index,
                    industry: industry.code,
                    name: person.name.clone(),
                    title,
                    email: email.clone(),
                    phone: phone.clone(),
                });
                experts.push(DemoExpert {
                    external_id: format!("EXP-{:04}", experts.len() + 1),
                    org_external_id: orgs::external_id(org_index),
                    name: person.name,
                    title: title.to_string(),
                    research_areas: areas,
                    keywords,
                    summary,
                    industry: industry.code,
                    contact_email: email,
                    contact_phone: phone,
                });
            }
        }
    }
    (experts, refs)
}

/// A short profile of 80–300 characters.
fn profile(
    rng: &mut Rng,
    org: &str,
    industry: &material::Industry,
    title: &str,
    areas: &[String],
) -> String {
    let senior = matches!(title, "教授" | "研究员" | "正高级工程师");
    let mut intro = format!("{org}{title}");
    if title == "教授" || title == "研究员" {
        intro.push_str(if rng.chance(75) {
            "，博士生导师"
        } else {
            "，硕士生导师"
        });
    } else if title.starts_with('副') {
        intro.push_str("，硕士生导师");
    }
    let listed = areas.join("、");
    let research = match rng.below(4) {
        0 => format!("长期从事{listed}等方向的研究"),
        1 => format!("主要研究方向为{listed}"),
        2 => format!("研究工作聚焦{listed}，注重工程应用"),
        _ => format!("围绕{listed}开展应用基础研究与工程化开发"),
    };
    let projects = if senior {
        fill(
            rng.pick_str(&[
                "主持国家重点研发计划课题、国家自然科学基金等项目{6-18}项",
                "主持国家级和省部级科研项目{8-20}项，承担企业委托项目{10-40}项",
                "先后承担国家科技重大专项课题{1-3}项、省部级项目{5-12}项",
            ]),
            rng,
        )
    } else {
        fill(
            rng.pick_str(&[
                "主持国家自然科学基金青年项目及省级项目{2-6}项",
                "参与国家重点研发计划项目{1-3}项，主持企业横向课题{4-15}项",
                "主持辽宁省科技计划项目{1-4}项，参与企业技术攻关{5-12}项",
            ]),
            rng,
        )
    };
    let output = if senior {
        fill(
            rng.pick_str(&[
                "发表学术论文{50-150}篇，授权发明专利{10-40}项",
                "发表SCI/EI论文{40-100}篇，授权发明专利{8-30}项",
                "授权发明专利{12-35}项，其中{3-8}项已实现转化",
            ]),
            rng,
        )
    } else {
        fill(
            rng.pick_str(&[
                "发表学术论文{15-50}篇，授权发明专利{3-12}项",
                "发表SCI/EI论文{10-35}篇，授权发明专利{2-10}项",
                "授权发明专利{4-12}项，其中{1-3}项已实现转化",
            ]),
            rng,
        )
    };
    let achievement = fill(
        &match rng.below(6) {
            0 => "曾获省部级科技进步二等奖",
            1 => "担任{2-6}家专精特新中小企业的技术导师",
            2 => "入选辽宁省校企协同创新专家库，可为{name}企业提供技术诊断与工艺优化服务",
            3 => "参与制定国家或行业标准{1-3}项",
            4 => "研究成果已在{3-12}家企业推广应用",
            _ => "作为科技特派员长期驻企开展技术服务",
        }
        .replace("{name}", industry.name),
        rng,
    );
    let mut text = format!("{intro}。{research}。{projects}，{output}。{achievement}。");
    if chars(&text) > 300 {
        text = format!("{intro}。{research}。{achievement}。");
    }
    text
}
