//! Hand-written technical material per industry.
//!
//! Each [`Topic`] is one technical problem area. Its [`Route`]s are technical solutions
//! offered by researchers (each becomes one result), and its [`Ask`]s are the same problem
//! described by an enterprise in its own words (each becomes one need), so that the demo
//! needs have real counterparts among the demo results. Text may contain `{a-b}`
//! placeholders which the generator replaces by random numbers in that range.

mod agri;
mod bio;
mod chem;
mod energy;
mod info;
mod manuf;
mod metal;
mod transport;

/// One industry with its material.
#[derive(Debug)]
pub struct Industry {
    /// Industry code.
    pub code: &'static str,
    /// Chinese name of the industry.
    pub name: &'static str,
    /// The topics.
    pub topics: &'static [Topic],
}

/// A technical problem area.
#[derive(Debug)]
pub struct Topic {
    /// Research area, a short noun phrase (used for experts' research areas).
    pub area: &'static str,
    /// Keys of research organisations especially suited to own results on this topic;
    /// empty means any research organisation working in the industry.
    pub owners: &'static [&'static str],
    /// The problem as a researcher frames it: a clause describing the state of the art.
    pub problem: &'static str,
    /// Solutions, each one a result.
    pub routes: &'static [Route],
    /// Indicator clauses with numbers. A clause prefixed with route indices and a bar,
    /// such as `"0|…"` or `"12|…"`, applies only to those routes; others apply to all.
    pub metrics: &'static [&'static str],
    /// Where it applies, a clause starting with a verb (可用于…, 适用于…).
    pub scene: &'static str,
    /// Keywords shared by results and needs of the topic.
    pub keywords: &'static [&'static str],
    /// Patent titles, shared out among the routes.
    pub patents: &'static [&'static str],
    /// Needs posted by enterprises on this topic.
    pub asks: &'static [Ask],
}

impl Topic {
    /// The indicator clauses that apply to route `ri`, without their prefixes.
    pub fn metrics_for(&self, ri: usize) -> Vec<&'static str> {
        self.metrics
            .iter()
            .filter_map(|m| match m.split_once('|') {
                Some((tag, text)) if tag.bytes().all(|b| b.is_ascii_digit()) => tag
                    .bytes()
                    .any(|b| usize::from(b - b'0') == ri)
                    .then_some(text),
                _ => Some(*m),
            })
            .collect()
    }
}

/// A technical solution, one result.
#[derive(Debug)]
pub struct Route {
    /// Result title.
    pub title: &'static str,
    /// What it is and how it works: a clause starting with a verb (采用…, 以…, 将…).
    pub method: &'static str,
    /// Extra keywords specific to this route.
    pub kw: &'static [&'static str],
}

/// A need posted by an enterprise.
#[derive(Debug)]
pub struct Ask {
    /// Key of the enterprise posting it.
    pub by: &'static str,
    /// Need title.
    pub title: &'static str,
    /// The situation and the problem in the enterprise's words.
    pub pain: &'static str,
    /// What the enterprise wants, with target figures.
    pub want: &'static str,
}

/// All industries, in the order of the industry code list.
pub static INDUSTRIES: &[Industry] = &[
    Industry {
        code: "information_technology",
        name: "信息技术",
        topics: info::INFORMATION_TECHNOLOGY,
    },
    Industry {
        code: "metallurgy",
        name: "冶金",
        topics: metal::METALLURGY,
    },
    Industry {
        code: "intelligent_manufacturing",
        name: "智能制造",
        topics: manuf::INTELLIGENT_MANUFACTURING,
    },
    Industry {
        code: "biomedicine",
        name: "生物医药",
        topics: bio::BIOMEDICINE,
    },
    Industry {
        code: "fine_chemicals",
        name: "精细化工",
        topics: chem::FINE_CHEMICALS,
    },
    Industry {
        code: "advanced_equipment",
        name: "高端装备",
        topics: manuf::ADVANCED_EQUIPMENT,
    },
    Industry {
        code: "petrochemicals",
        name: "石油化工",
        topics: chem::PETROCHEMICALS,
    },
    Industry {
        code: "new_materials",
        name: "新材料",
        topics: metal::NEW_MATERIALS,
    },
    Industry {
        code: "new_energy",
        name: "新能源、储能、氢能",
        topics: energy::NEW_ENERGY,
    },
    Industry {
        code: "integrated_circuits",
        name: "集成电路",
        topics: info::INTEGRATED_CIRCUITS,
    },
    Industry {
        code: "cnc_machine_tools",
        name: "数控机床",
        topics: manuf::CNC_MACHINE_TOOLS,
    },
    Industry {
        code: "rail_transit",
        name: "轨道交通",
        topics: transport::RAIL_TRANSIT,
    },
    Industry {
        code: "shipbuilding",
        name: "船舶制造",
        topics: transport::SHIPBUILDING,
    },
    Industry {
        code: "marine_economy",
        name: "海洋经济",
        topics: transport::MARINE_ECONOMY,
    },
    Industry {
        code: "modern_agriculture",
        name: "现代农业",
        topics: agri::MODERN_AGRICULTURE,
    },
    Industry {
        code: "food_processing",
        name: "食品加工",
        topics: agri::FOOD_PROCESSING,
    },
    Industry {
        code: "tcm",
        name: "中医药",
        topics: bio::TCM,
    },
    Industry {
        code: "culture_tourism",
        name: "文化旅游",
        topics: agri::CULTURE_TOURISM,
    },
];

/// The industry with the given code.
pub fn industry(code: &str) -> &'static Industry {
    INDUSTRIES
        .iter()
        .find(|i| i.code == code)
        .unwrap_or_else(|| panic!("unknown industry {code}"))
}
