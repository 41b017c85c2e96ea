//! Demo data for duijie (校企对接): a deterministic, realistic data set of organisations,
//! research results (科技成果), enterprise technology needs (技术需求) and experts (专家),
//! written in Simplified Chinese for Liaoning's university–enterprise partnership programme.
//!
//! The server loads it into an empty data directory so that a newcomer's first page is not
//! empty, and tests search it. [`generate`] returns the same data on every call: the text is
//! assembled from hand-written per-industry material (technical problems, solutions,
//! indicators, application scenarios, enterprise needs) with a small seeded generator, and
//! many needs have a counterpart among the results described in different words.
//!
//! **All of it is fictional except the names of institutions.** The universities and
//! research institutes are real, as are the enterprises named by the programme (鞍钢集团,
//! 东软集团, 沈阳飞机工业(集团)有限公司, 大连船舶重工集团); every other enterprise name was
//! invented for this demo. Results, needs, patents (numbers and titles), people, phone
//! numbers, e-mail addresses, prices and budgets are made up; enterprise e-mail addresses use
//! `example.com` sub-domains. Real institutions carry their real homepages.

#![warn(missing_docs)]

mod experts;
mod material;
mod names;
mod needs;
mod orgs;
mod results;
mod rng;

#[cfg(test)]
mod tests;

/// The whole demo data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoData {
    /// Universities, institutes and enterprises.
    pub organizations: Vec<DemoOrg>,
    /// Research results offered for transfer.
    pub results: Vec<DemoResult>,
    /// Technology needs posted by enterprises.
    pub needs: Vec<DemoNeed>,
    /// Researchers' profiles.
    pub experts: Vec<DemoExpert>,
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOrg {
    /// Stable id, `ORG-0001`.
    pub external_id: String,
    /// Full name.
    pub name: String,
    /// `university`, `enterprise`, `institute` or `other`.
    pub kind: &'static str,
    /// City, short Chinese name (沈阳, 大连, 沈抚示范区, 北京…).
    pub city: String,
    /// Homepage (real institutions only).
    pub website: Option<String>,
    /// Short description.
    pub description: String,
}

/// A research result (科技成果).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoResult {
    /// Stable id, `RES-0001`.
    pub external_id: String,
    /// Owner: a university or institute.
    pub org_external_id: String,
    /// Title.
    pub title: String,
    /// Summary: background, method, indicators, applications.
    pub summary: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: &'static str,
    /// `lab`, `pilot` or `industrialized`.
    pub maturity: &'static str,
    /// Technology readiness level 1–9, consistent with the maturity.
    pub trl: Option<u8>,
    /// Accepted transfer modes.
    pub transfer_modes: Vec<&'static str>,
    /// Lowest price in yuan.
    pub price_min: Option<i64>,
    /// Highest price in yuan.
    pub price_max: Option<i64>,
    /// Patents (fictional numbers).
    pub patents: Vec<DemoPatent>,
    /// Team description.
    pub team: String,
    /// Contact person.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: String,
    /// Contact e-mail.
    pub contact_email: String,
    /// `draft`, `published`, `withdrawn` or `transferred`.
    pub status: &'static str,
}

/// A patent attached to a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPatent {
    /// Number such as `ZL202310123456.7`.
    pub number: String,
    /// Title.
    pub title: String,
}

/// A technology need (技术需求).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoNeed {
    /// Stable id, `NEED-0001`.
    pub external_id: String,
    /// Owner: an enterprise.
    pub org_external_id: String,
    /// Title.
    pub title: String,
    /// Description: situation, problem, wanted outcome, conditions.
    pub description: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: &'static str,
    /// Wanted cooperation modes.
    pub cooperation_modes: Vec<&'static str>,
    /// Lowest budget in yuan.
    pub budget_min: Option<i64>,
    /// Highest budget in yuan.
    pub budget_max: Option<i64>,
    /// Deadline, `YYYY-MM-DD`, between 2026-12 and 2027-12.
    pub deadline: Option<String>,
    /// Lowest acceptable maturity.
    pub required_maturity: Option<&'static str>,
    /// Contact person.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: String,
    /// Contact e-mail.
    pub contact_email: String,
    /// `draft`, `published`, `matched` or `closed`.
    pub status: &'static str,
}

/// An expert's profile (专家).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoExpert {
    /// Stable id, `EXP-0001`.
    pub external_id: String,
    /// Employer: a university or institute.
    pub org_external_id: String,
    /// Name.
    pub name: String,
    /// Professional title (职称): 教授, 研究员, 副教授, 高级工程师…
    pub title: String,
    /// Research areas.
    pub research_areas: Vec<String>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Short profile.
    pub summary: String,
    /// Main industry code.
    pub industry: &'static str,
    /// E-mail.
    pub contact_email: String,
    /// Phone.
    pub contact_phone: String,
}

/// Seed of the generator; changing it changes every generated detail.
const SEED: u64 = 0x5EED_D01E_2023_0425;

/// Generates the demo data set. Every call returns exactly the same data.
pub fn generate() -> DemoData {
    let mut people = names::People::default();
    let organizations = orgs::build();
    let (experts, expert_refs) = experts::build(&mut rng::Rng::new(SEED ^ 1), &mut people);
    let results = results::build(&mut rng::Rng::new(SEED ^ 2), &mut people, &expert_refs);
    let needs = needs::build(&mut rng::Rng::new(SEED ^ 3), &mut people);
    DemoData {
        organizations,
        results,
        needs,
        experts,
    }
}

/// Number of characters (not bytes) of a string.
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Amount in yuan written in 万元 for prose, e.g. `1500000` → `150`.
fn wan(yuan: i64) -> i64 {
    yuan / 10_000
}
