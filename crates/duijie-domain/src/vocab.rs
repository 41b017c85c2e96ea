//! The closed vocabularies: codes in English (stored, sent over the API), labels in Chinese
//! (shown to people). Industries are a fixed list that configuration may extend; every other
//! set is closed.

use std::collections::BTreeMap;

/// Organisation kinds.
pub const ORG_KINDS: &[(&str, &str)] = &[
    ("university", "高校"),
    ("enterprise", "企业"),
    ("institute", "科研院所"),
    ("other", "其他"),
];

/// Maturity levels; TRL 1–4 is lab, 5–7 pilot, 8–9 industrialised.
pub const MATURITIES: &[(&str, &str)] = &[
    ("lab", "实验室阶段"),
    ("pilot", "小试/中试"),
    ("industrialized", "产业化"),
];

/// Transfer / cooperation modes.
pub const TRANSFER_MODES: &[(&str, &str)] = &[
    ("transfer", "转让"),
    ("license", "许可"),
    ("equity", "作价入股"),
    ("joint_development", "合作开发"),
    ("commissioned_development", "委托开发"),
    ("technical_service", "技术服务"),
];

/// Result statuses.
pub const RESULT_STATUSES: &[(&str, &str)] = &[
    ("draft", "草稿"),
    ("published", "已发布"),
    ("withdrawn", "已撤回"),
    ("transferred", "已转化"),
];

/// Need statuses.
pub const NEED_STATUSES: &[(&str, &str)] = &[
    ("draft", "草稿"),
    ("published", "已发布"),
    ("matched", "已对接"),
    ("closed", "已关闭"),
];

/// The programme's industries (domain.md).
pub const INDUSTRIES: &[(&str, &str)] = &[
    ("information_technology", "信息技术"),
    ("metallurgy", "冶金"),
    ("intelligent_manufacturing", "智能制造"),
    ("biomedicine", "生物医药"),
    ("fine_chemicals", "精细化工"),
    ("advanced_equipment", "高端装备"),
    ("petrochemicals", "石油化工"),
    ("new_materials", "新材料"),
    ("new_energy", "新能源、储能、氢能"),
    ("integrated_circuits", "集成电路"),
    ("cnc_machine_tools", "数控机床"),
    ("rail_transit", "轨道交通"),
    ("shipbuilding", "船舶制造"),
    ("marine_economy", "海洋经济"),
    ("modern_agriculture", "现代农业"),
    ("food_processing", "食品加工"),
    ("tcm", "中医药"),
    ("culture_tourism", "文化旅游"),
];

/// Looks a code up in one of the fixed tables above and returns its Chinese label.
pub fn label(table: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Maps a TRL (1–9) to the maturity level it implies.
pub fn maturity_of_trl(trl: u8) -> &'static str {
    match trl {
        0..=4 => "lab",
        5..=7 => "pilot",
        _ => "industrialized",
    }
}

/// Orders maturity levels so that "result maturity ≥ what the need asks" can be checked.
pub fn maturity_rank(code: &str) -> Option<u8> {
    match code {
        "lab" => Some(1),
        "pilot" => Some(2),
        "industrialized" => Some(3),
        _ => None,
    }
}

/// The vocabularies in force: the fixed tables plus industries added by configuration.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    industries: BTreeMap<String, String>,
    industry_order: Vec<String>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Self::with_extra_industries(&[])
    }
}

impl Vocabulary {
    /// The programme's industries plus `(code, label)` pairs from configuration.
    pub fn with_extra_industries(extra: &[(String, String)]) -> Self {
        let mut industries = BTreeMap::new();
        let mut industry_order = Vec::new();
        for (c, l) in INDUSTRIES {
            industries.insert(c.to_string(), l.to_string());
            industry_order.push(c.to_string());
        }
        for (c, l) in extra {
            if industries.insert(c.clone(), l.clone()).is_none() {
                industry_order.push(c.clone());
            }
        }
        Vocabulary {
            industries,
            industry_order,
        }
    }

    /// The industry codes in display order.
    pub fn industries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.industry_order
            .iter()
            .map(|c| (c.as_str(), self.industries[c].as_str()))
    }

    /// Resolves an industry given by code or by its Chinese label (imports often use labels).
    pub fn resolve_industry(&self, s: &str) -> Option<String> {
        let s = s.trim();
        if self.industries.contains_key(s) {
            return Some(s.to_string());
        }
        self.industries
            .iter()
            .find(|(_, l)| l.as_str() == s || l.split('、').any(|part| part == s))
            .map(|(c, _)| c.clone())
    }

    /// The Chinese label of an industry code.
    pub fn industry_label(&self, code: &str) -> Option<&str> {
        self.industries.get(code).map(|s| s.as_str())
    }
}

/// Resolves a code of a fixed table given either as code or as Chinese label.
pub fn resolve(table: &[(&'static str, &'static str)], s: &str) -> Option<&'static str> {
    let s = s.trim();
    table
        .iter()
        .find(|(c, l)| *c == s || *l == s || l.split('/').any(|p| p == s))
        .map(|(c, _)| *c)
}

/// The accepted codes of a table, for error messages.
pub fn choices(table: &[(&'static str, &'static str)]) -> String {
    table.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn industries_resolve_by_code_and_label_and_can_be_extended() {
        let v = Vocabulary::with_extra_industries(&[("aerospace".into(), "航空航天".into())]);
        assert_eq!(
            v.resolve_industry("new_energy").as_deref(),
            Some("new_energy")
        );
        assert_eq!(v.resolve_industry("氢能").as_deref(), Some("new_energy"));
        assert_eq!(v.resolve_industry("航空航天").as_deref(), Some("aerospace"));
        assert_eq!(v.resolve_industry("不存在"), None);
        assert_eq!(v.industries().count(), INDUSTRIES.len() + 1);
    }

    #[test]
    fn modes_resolve_by_chinese_label() {
        assert_eq!(resolve(TRANSFER_MODES, "作价入股"), Some("equity"));
        assert_eq!(resolve(MATURITIES, "中试"), Some("pilot"));
        assert_eq!(resolve(MATURITIES, "量产"), None);
        assert_eq!(maturity_of_trl(6), "pilot");
    }
}
