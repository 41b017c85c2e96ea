//! Domain types, vocabulary and validation for duijie: no I/O.
//!
//! Everything a client sends passes through [`input`] once, at the edge, and comes out as
//! a validated draft ([`model::ResultDraft`], [`model::NeedDraft`], ...) or as a list of
//! field-level errors ([`FieldErrors`]) whose messages are in Chinese and English. The
//! store, the index and the matching engine only ever see validated values, so none of
//! them re-checks lengths or enum codes.
#![warn(missing_docs)]

pub mod connection;
pub mod credit;
pub mod geo;
pub mod input;
pub mod kinds;
pub mod ledger;
pub mod model;
pub mod vocab;

mod error;

pub use error::{FieldError, FieldErrors};
pub use geo::{Zone, zones_of_city};
pub use kinds::{
    Attendance, EventFormat, EventStatus, MeetingAnswer, PreferenceKind, RegistrationMode,
    RegistrationStatus, Role, Side,
};
pub use model::*;
pub use vocab::{Vocabulary, label};

/// The kinds of listing the index holds and search answers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ListingKind {
    /// 科技成果.
    Result,
    /// 技术需求.
    Need,
    /// 专家.
    Expert,
}

impl ListingKind {
    /// All kinds, in display order.
    pub const ALL: [ListingKind; 3] = [ListingKind::Result, ListingKind::Need, ListingKind::Expert];

    /// The singular code used in the index and in change records.
    pub fn code(self) -> &'static str {
        match self {
            ListingKind::Result => "result",
            ListingKind::Need => "need",
            ListingKind::Expert => "expert",
        }
    }

    /// The plural form used in URLs and query parameters (`kind=results`).
    pub fn plural(self) -> &'static str {
        match self {
            ListingKind::Result => "results",
            ListingKind::Need => "needs",
            ListingKind::Expert => "experts",
        }
    }

    /// Chinese name for the interface.
    pub fn label_zh(self) -> &'static str {
        match self {
            ListingKind::Result => "科技成果",
            ListingKind::Need => "技术需求",
            ListingKind::Expert => "专家",
        }
    }

    /// Parses either the singular or the plural code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "result" | "results" => Some(ListingKind::Result),
            "need" | "needs" => Some(ListingKind::Need),
            "expert" | "experts" => Some(ListingKind::Expert),
            _ => None,
        }
    }
}
