//! Closed sets of codes with their Chinese labels: event formats and statuses, account
//! roles, the sides and values of meeting preferences. Code compares these enums, never
//! their strings; the strings exist only at the edges (serde, the store's columns, forms).

use std::fmt;

/// Declares a closed set of codes: the enum, its serde names, `ALL`, `code`, `label_zh`,
/// `parse` (code or Chinese label) and `TABLE` (code, label) for forms and vocabularies.
macro_rules! kinds {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal;)* }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $code)]
                $variant,
            )*
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// `(code, Chinese label)` of every value, in display order.
            pub const TABLE: &'static [(&'static str, &'static str)] = &[$(($code, $zh)),*];

            /// The stable code (API, store, forms).
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The Chinese name shown to people.
            pub fn label_zh(self) -> &'static str {
                match self {
                    $($name::$variant => $zh,)*
                }
            }

            /// A value from its code or its Chinese label (surrounding spaces ignored).
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s || v.label_zh() == s)
            }

            /// The codes, comma-separated (for messages listing the choices).
            pub fn choices() -> String {
                $name::ALL
                    .iter()
                    .map(|v| v.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }

        /// In the API document: a string, one of the codes.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),*]))
                    .description(Some(concat!($($zh, " ",)*).trim_end()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<$name, UnknownCode> {
                $name::parse(s).ok_or_else(|| UnknownCode {
                    what: stringify!($name),
                    code: s.to_string(),
                })
            }
        }
    };
}

/// A code outside its closed set (a stored value from a newer version, typically).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} code '{code}'")]
pub struct UnknownCode {
    /// Which set.
    pub what: &'static str,
    /// The code read.
    pub code: String,
}

kinds! {
    /// How an event's meetings are arranged.
    EventFormat {
        /// 对接会: one-to-one meetings at tables, slot after slot.
        Fair = "fair", "对接会";
        /// 会客厅: a small group of experts visits one enterprise.
        Parlour = "parlour", "会客厅";
        /// 圆桌论坛: one theme per table, several parties at it.
        Roundtable = "roundtable", "圆桌论坛";
    }
}

impl Default for EventFormat {
    /// One-to-one meetings, the usual matchmaking fair.
    fn default() -> Self {
        EventFormat::Fair
    }
}

impl EventFormat {
    /// Whether several parties meet at one table (parlours and roundtables), rather than
    /// one-to-one meetings.
    pub fn is_grouped(self) -> bool {
        self != EventFormat::Fair
    }
}

kinds! {
    /// Where an event stands.
    EventStatus {
        /// Being prepared by its organisers.
        Draft = "draft", "草稿";
        /// Collecting participants and their wishes.
        Open = "open", "征集意向";
        /// Its schedule is published.
        Published = "published", "已发布";
        /// Over; nothing changes any more.
        Closed = "closed", "已结束";
    }
}

kinds! {
    /// What an account may do.
    Role {
        /// An enterprise's member: its needs and profile.
        Enterprise = "enterprise", "企业用户";
        /// A researcher or technology-transfer office: results, experts, profile.
        Researcher = "researcher", "科研人员 / 技术转移机构";
        /// Runs events, imports and the ledger; registers participants.
        Organizer = "organizer", "组织者";
        /// 技术经纪人: follows the connection requests and ledger entries assigned to them,
        /// for an organisation or for the programme office.
        Broker = "broker", "技术经纪人";
        /// Everything, including accounts and the audit log.
        Admin = "admin", "管理员";
    }
}

impl Role {
    /// Organisers and administrators keep the programme's data: they see and change every
    /// organisation's records.
    pub fn keeps_programme(self) -> bool {
        matches!(self, Role::Organizer | Role::Admin)
    }
}

kinds! {
    /// Who declares a meeting preference.
    Side {
        /// The enterprise.
        Enterprise = "enterprise", "企业";
        /// The university (its result or expert).
        University = "university", "高校";
        /// The event's organisers.
        Organizer = "organizer", "组织者";
    }
}

kinds! {
    /// What a preference says about a pair.
    PreferenceKind {
        /// The meeting must take place.
        Must = "must", "必须会谈";
        /// The meeting is wished for.
        Like = "like", "希望会谈";
        /// The meeting is not wanted.
        No = "no", "不必会谈";
        /// A conflict of interest forbids it.
        Conflict = "conflict", "利益冲突";
    }
}

kinds! {
    /// How participants join an event.
    RegistrationMode {
        /// Only the organisers add participants.
        Closed = "closed", "不开放报名";
        /// A member's registration is accepted at once.
        Open = "open", "开放报名";
        /// A registration waits for an organiser's approval.
        Approval = "approval", "报名需审核";
        /// Only organisations the organisers invited (added or approved) take part.
        Invite = "invite", "仅限邀请";
    }
}

kinds! {
    /// Where a registration for an event stands.
    RegistrationStatus {
        /// Waiting for an organiser.
        Pending = "pending", "待审核";
        /// The organisation takes part.
        Approved = "approved", "已通过";
        /// Refused, with a reason.
        Rejected = "rejected", "未通过";
    }
}

kinds! {
    /// A participant's answer to a proposed meeting of its agenda.
    MeetingAnswer {
        /// Kept where it is when the schedule is regenerated.
        Confirmed = "confirmed", "已确认";
        /// Not proposed again.
        Declined = "declined", "已谢绝";
    }
}

kinds! {
    /// Whether a scheduled meeting took place.
    Attendance {
        /// It took place.
        Held = "held", "已会谈";
        /// One side did not come.
        NoShow = "no_show", "缺席";
    }
}

kinds! {
    /// Where a connection request stands.
    ConnectionStatus {
        /// Sent; the recipient has not answered.
        Pending = "pending", "待答复";
        /// One side proposed another meeting time; the other side answers.
        Proposed = "proposed", "已提议新时间";
        /// Accepted: a ledger entry follows it from here.
        Accepted = "accepted", "已接受";
        /// Declined with a reason.
        Declined = "declined", "已谢绝";
        /// Taken back by its sender.
        Withdrawn = "withdrawn", "已撤回";
        /// Not answered in time.
        Expired = "expired", "已过期";
    }
}

impl ConnectionStatus {
    /// Whether the request still waits for an answer.
    pub fn is_open(self) -> bool {
        matches!(self, ConnectionStatus::Pending | ConnectionStatus::Proposed)
    }
}

kinds! {
    /// Why a request was declined.
    DeclineReason {
        /// The listing does not answer the request.
        NotRelevant = "not_relevant", "方向不相关";
        /// Not now.
        Timing = "timing", "时机不合适";
        /// Already working with someone on this.
        AlreadyPartnered = "already_partnered", "已有合作方";
        /// No capacity to take it on.
        Capacity = "capacity", "精力或产能不足";
        /// Something else (the note says what).
        Other = "other", "其他原因";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_round_trip() {
        for f in EventFormat::ALL {
            assert_eq!(EventFormat::parse(f.code()), Some(*f));
            assert_eq!(EventFormat::parse(f.label_zh()), Some(*f));
            assert_eq!(
                serde_json::to_value(f).unwrap(),
                serde_json::json!(f.code())
            );
        }
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>(), Ok(*r));
        }
        assert_eq!(EventStatus::parse(" 已发布 "), Some(EventStatus::Published));
        assert_eq!(
            PreferenceKind::parse("利益冲突"),
            Some(PreferenceKind::Conflict)
        );
        assert!("boss".parse::<Role>().is_err());
        assert_eq!(EventFormat::TABLE.len(), EventFormat::ALL.len());
        assert_eq!(Side::choices(), "enterprise, university, organizer");
    }

    #[test]
    fn grouping_and_programme_keepers() {
        assert!(!EventFormat::Fair.is_grouped());
        assert!(EventFormat::Parlour.is_grouped() && EventFormat::Roundtable.is_grouped());
        assert!(Role::Admin.keeps_programme() && Role::Organizer.keeps_programme());
        assert!(!Role::Enterprise.keeps_programme() && !Role::Researcher.keeps_programme());
    }
}
