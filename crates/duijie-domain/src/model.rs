//! Validated records: drafts (what a client may write) and stored records (what the store
//! returns, with ids, owning organisation and timestamps).

use serde::{Deserialize, Serialize};

/// Text-length and count limits, in characters (not bytes), enforced at the edge.
pub mod limits {
    /// Listing titles.
    pub const TITLE: usize = 200;
    /// Result summaries, need descriptions.
    pub const BODY: usize = 5000;
    /// Expert summaries.
    pub const EXPERT_SUMMARY: usize = 3000;
    /// Number of keywords / research areas.
    pub const KEYWORDS: usize = 20;
    /// One keyword (long enough for English technical phrases in papers).
    pub const KEYWORD: usize = 100;
    /// Organisation and person names.
    pub const NAME: usize = 100;
    /// Organisation descriptions.
    pub const DESCRIPTION: usize = 2000;
    /// Website addresses.
    pub const URL: usize = 300;
    /// City names.
    pub const CITY: usize = 20;
    /// Team descriptions.
    pub const TEAM: usize = 200;
    /// The organiser's own ids.
    pub const EXTERNAL_ID: usize = 64;
    /// Number of patents on a result.
    pub const PATENTS: usize = 50;
    /// Patent numbers.
    pub const PATENT_NUMBER: usize = 40;
    /// Phone numbers.
    pub const PHONE: usize = 30;
    /// E-mail addresses.
    pub const EMAIL: usize = 100;
    /// Expert job titles (职称).
    pub const JOB_TITLE: usize = 50;
    /// Largest price or budget in yuan (one trillion).
    pub const MONEY: i64 = 1_000_000_000_000;
}

/// How a listing names its owning organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    /// By the store's id.
    Id(i64),
    /// By the organiser's external id.
    ExternalId(String),
    /// By exact name; imports create the organisation when it does not exist yet.
    Name(String),
}

/// Contact details: stored always, shown only to viewers allowed to see them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Contact person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The owner shows these details to every signed-in member (otherwise, under the
    /// default `[privacy] contacts = "accepted"`, only to members of an organisation whose
    /// connection request with the owner was accepted, and to organisers and brokers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
}

impl Contact {
    /// True when no detail is present.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }
}

/// A patent attached to a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patent {
    /// Patent number, e.g. `ZL202310123456.7`.
    pub number: String,
    /// Patent title.
    #[serde(default)]
    pub title: String,
}

/// A validated organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationDraft {
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Name, unique.
    pub name: String,
    /// `university` / `enterprise` / `institute` / `other`.
    pub kind: String,
    /// City (short name, e.g. 沈阳).
    pub city: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A validated research result (科技成果).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultDraft {
    /// Organiser's own id; imports are idempotent by it.
    pub external_id: Option<String>,
    /// Owning organisation.
    pub organization: Option<OrgRef>,
    /// Title.
    pub title: String,
    /// What it is, what it does, key figures.
    pub summary: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// Maturity code (derived from `trl` when only that is given).
    pub maturity: Option<String>,
    /// Technology readiness level 1–9.
    pub trl: Option<u8>,
    /// Accepted transfer modes.
    pub transfer_modes: Vec<String>,
    /// Lowest price in yuan.
    pub price_min: Option<i64>,
    /// Highest price in yuan.
    pub price_max: Option<i64>,
    /// Patents.
    pub patents: Vec<Patent>,
    /// Team description.
    pub team: Option<String>,
    /// Contact details.
    pub contact: Contact,
    /// Status code.
    pub status: String,
}

/// A validated technology need (技术需求).
#[derive(Debug, Clone, PartialEq)]
pub struct NeedDraft {
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Owning enterprise.
    pub organization: Option<OrgRef>,
    /// Title.
    pub title: String,
    /// The problem in the enterprise's own words.
    pub description: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// Wanted cooperation modes.
    pub cooperation_modes: Vec<String>,
    /// Lowest budget in yuan.
    pub budget_min: Option<i64>,
    /// Highest budget in yuan.
    pub budget_max: Option<i64>,
    /// Deadline, `YYYY-MM-DD`.
    pub deadline: Option<String>,
    /// Minimum maturity the enterprise needs.
    pub required_maturity: Option<String>,
    /// Contact details.
    pub contact: Contact,
    /// Status code.
    pub status: String,
}

/// A validated expert profile (专家).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertDraft {
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Organisation.
    pub organization: Option<OrgRef>,
    /// Name.
    pub name: String,
    /// Job title (职称).
    pub title: Option<String>,
    /// Research areas.
    pub research_areas: Vec<String>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Profile.
    pub summary: String,
    /// Main industry.
    pub industry: Option<String>,
    /// Contact details.
    pub contact: Contact,
}

/// What a listing shows of its organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgSummary {
    /// Store id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// City.
    pub city: Option<String>,
    /// Zone codes derived from the city.
    pub zones: Vec<&'static str>,
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    /// Store id.
    pub id: i64,
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: String,
    /// City.
    pub city: Option<String>,
    /// Zone codes derived from the city.
    pub zones: Vec<&'static str>,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A stored research result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResearchResult {
    /// Store id.
    pub id: i64,
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Owning organisation.
    pub organization: Option<OrgSummary>,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// Maturity code.
    pub maturity: Option<String>,
    /// TRL.
    pub trl: Option<u8>,
    /// Transfer mode codes.
    pub transfer_modes: Vec<String>,
    /// Lowest price.
    pub price_min: Option<i64>,
    /// Highest price.
    pub price_max: Option<i64>,
    /// Patents.
    pub patents: Vec<Patent>,
    /// Team.
    pub team: Option<String>,
    /// Contact details; `None` when the viewer may not see them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Status code.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A stored technology need.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Need {
    /// Store id.
    pub id: i64,
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Owning enterprise.
    pub organization: Option<OrgSummary>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// Cooperation mode codes.
    pub cooperation_modes: Vec<String>,
    /// Lowest budget.
    pub budget_min: Option<i64>,
    /// Highest budget.
    pub budget_max: Option<i64>,
    /// Deadline.
    pub deadline: Option<String>,
    /// Required maturity code.
    pub required_maturity: Option<String>,
    /// Contact details; `None` when the viewer may not see them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Status code.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A stored expert profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Expert {
    /// Store id.
    pub id: i64,
    /// Organiser's own id.
    pub external_id: Option<String>,
    /// Organisation.
    pub organization: Option<OrgSummary>,
    /// Name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Research areas.
    pub research_areas: Vec<String>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Profile.
    pub summary: String,
    /// Industry code.
    pub industry: Option<String>,
    /// Contact details; `None` when the viewer may not see them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// Who is looking: decides whether contact details are shown. Accounts (a later issue)
/// produce `SignedIn`; until then every API caller is `Public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Anyone on the internet.
    Public,
    /// A signed-in user of the programme.
    SignedIn,
}

/// Records that carry contact details hide them from viewers who may not see them.
pub trait Redact {
    /// Drops what `viewer` may not see.
    fn redact_for(self, viewer: Viewer) -> Self;
}

macro_rules! redact_contact {
    ($($t:ty),*) => {$(
        impl Redact for $t {
            fn redact_for(mut self, viewer: Viewer) -> Self {
                if viewer == Viewer::Public {
                    self.contact = None;
                }
                self
            }
        }
    )*};
}
redact_contact!(ResearchResult, Need, Expert);

/// The status code of a listing others can find (搜索、匹配、提醒).
pub const PUBLISHED: &str = "published";

/// What decides who sees a listing: its status and its owning organisation.
pub trait Listed {
    /// Status code.
    fn status_code(&self) -> &str;
    /// Owning organisation's store id.
    fn owner_id(&self) -> Option<i64>;
    /// Whether others can find it (status `published`).
    fn is_published(&self) -> bool {
        self.status_code() == PUBLISHED
    }
}

macro_rules! listed {
    ($($t:ty),*) => {$(
        impl Listed for $t {
            fn status_code(&self) -> &str {
                &self.status
            }
            fn owner_id(&self) -> Option<i64> {
                self.organization.as_ref().map(|o| o.id)
            }
        }
    )*};
}
listed!(ResearchResult, Need, ListingText);

/// Expert profiles have no status: they are always published.
impl Listed for Expert {
    fn status_code(&self) -> &str {
        PUBLISHED
    }
    fn owner_id(&self) -> Option<i64> {
        self.organization.as_ref().map(|o| o.id)
    }
}

/// The text of a listing that the index and the matcher read, whatever its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingText {
    /// Kind.
    pub kind: crate::ListingKind,
    /// Store id.
    pub id: i64,
    /// Organiser's id.
    pub external_id: Option<String>,
    /// Title (an expert's name and job title).
    pub title: String,
    /// Summary / description / profile.
    pub body: String,
    /// Keywords (and an expert's research areas).
    pub keywords: Vec<String>,
    /// Organisation.
    pub organization: Option<OrgSummary>,
    /// Industry code.
    pub industry: Option<String>,
    /// Maturity (results) or required maturity (needs).
    pub maturity: Option<String>,
    /// Status code (`published` for experts).
    pub status: String,
    /// Transfer modes (results) or wanted cooperation modes (needs).
    pub modes: Vec<String>,
    /// Price (results) or budget (needs), in yuan.
    pub money_min: Option<i64>,
    /// Price (results) or budget (needs), in yuan.
    pub money_max: Option<i64>,
    /// Need deadline.
    pub deadline: Option<String>,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl ListingText {
    /// Approximate bytes the listing takes in all: itself and [`ListingText::heap_bytes`].
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<ListingText>() + self.heap_bytes()
    }

    /// Approximate heap bytes the listing holds (its strings' lengths, a vector entry and
    /// an allocator's overhead per string), for caches that keep listings within a budget.
    pub fn heap_bytes(&self) -> usize {
        const PER_STRING: usize = 16;
        // an empty string holds no allocation
        let s = |v: &str| {
            if v.is_empty() {
                0
            } else {
                v.len() + PER_STRING
            }
        };
        let opt = |v: &Option<String>| v.as_deref().map_or(0, s);
        let list = |v: &[String]| v.iter().map(|x| s(x) + 24).sum::<usize>();
        s(&self.title)
            + s(&self.body)
            + s(&self.status)
            + s(&self.updated_at)
            + list(&self.keywords)
            + list(&self.modes)
            + opt(&self.external_id)
            + opt(&self.industry)
            + opt(&self.maturity)
            + opt(&self.deadline)
            // the organisation itself is inline (counted in `size_of::<ListingText>()`)
            + self.organization.as_ref().map_or(0, |o| {
                s(&o.name)
                    + s(&o.kind)
                    + opt(&o.city)
                    + o.zones.len() * 16
            })
    }
}

impl From<&ResearchResult> for ListingText {
    fn from(r: &ResearchResult) -> Self {
        ListingText {
            kind: crate::ListingKind::Result,
            id: r.id,
            external_id: r.external_id.clone(),
            title: r.title.clone(),
            body: r.summary.clone(),
            keywords: r.keywords.clone(),
            organization: r.organization.clone(),
            industry: r.industry.clone(),
            maturity: r.maturity.clone(),
            status: r.status.clone(),
            modes: r.transfer_modes.clone(),
            money_min: r.price_min,
            money_max: r.price_max,
            deadline: None,
            updated_at: r.updated_at.clone(),
        }
    }
}

impl From<&Need> for ListingText {
    fn from(n: &Need) -> Self {
        ListingText {
            kind: crate::ListingKind::Need,
            id: n.id,
            external_id: n.external_id.clone(),
            title: n.title.clone(),
            body: n.description.clone(),
            keywords: n.keywords.clone(),
            organization: n.organization.clone(),
            industry: n.industry.clone(),
            maturity: n.required_maturity.clone(),
            status: n.status.clone(),
            modes: n.cooperation_modes.clone(),
            money_min: n.budget_min,
            money_max: n.budget_max,
            deadline: n.deadline.clone(),
            updated_at: n.updated_at.clone(),
        }
    }
}

impl From<&Expert> for ListingText {
    fn from(e: &Expert) -> Self {
        let title = match &e.title {
            Some(t) => format!("{} {}", e.name, t),
            None => e.name.clone(),
        };
        let mut keywords = e.research_areas.clone();
        keywords.extend(e.keywords.iter().cloned());
        ListingText {
            kind: crate::ListingKind::Expert,
            id: e.id,
            external_id: e.external_id.clone(),
            title,
            body: e.summary.clone(),
            keywords,
            organization: e.organization.clone(),
            industry: e.industry.clone(),
            maturity: None,
            status: "published".to_string(),
            modes: Vec::new(),
            money_min: None,
            money_max: None,
            deadline: None,
            updated_at: e.updated_at.clone(),
        }
    }
}
