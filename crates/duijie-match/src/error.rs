//! Errors of the pairing engine: every variant has a stable machine code, an English
//! `Display` message and a Chinese message, and names the offending id or pair.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// The two sides of the bipartite market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// An enterprise with a technology need.
    Enterprise,
    /// A university research result.
    Result,
}

impl Side {
    /// English noun (`"enterprise"` / `"result"`), also the JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Enterprise => "enterprise",
            Side::Result => "result",
        }
    }

    /// Chinese noun (`"企业"` / `"成果"`).
    pub fn zh(self) -> &'static str {
        match self {
            Side::Enterprise => "企业",
            Side::Result => "成果",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong when parsing, validating or solving an instance.
///
/// `code()` is stable and meant for machines (API responses, tests); `Display` is English and
/// `message_zh()` Chinese, both meant for people.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PairError {
    /// The input is not valid JSON or does not have the instance's shape.
    #[error("invalid instance JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The same id is listed twice on one side.
    #[error("duplicate {side} id \"{id}\"")]
    DuplicateId {
        /// Side of the duplicated id.
        side: Side,
        /// The duplicated id.
        id: String,
    },
    /// `scores`, `forbidden`, `forced` or `groups` names an id that is not declared.
    #[error("unknown {side} id \"{id}\" in {context}")]
    UnknownId {
        /// Side the id was expected on.
        side: Side,
        /// The unknown id.
        id: String,
        /// Which list mentioned it (`scores`, `forbidden`, `forced`, `groups`).
        context: &'static str,
    },
    /// A capacity below zero.
    #[error("{side} \"{id}\" has negative capacity {capacity}")]
    NegativeCapacity {
        /// Side of the participant.
        side: Side,
        /// The participant.
        id: String,
        /// The capacity given.
        capacity: i64,
    },
    /// A score that is NaN, infinite, negative or above [`crate::MAX_SCORE`].
    #[error(
        "score {score} of pair (\"{enterprise}\", \"{result}\") is invalid: scores must be finite numbers between 0 and 1e9"
    )]
    InvalidScore {
        /// Enterprise of the pair.
        enterprise: String,
        /// Result of the pair.
        result: String,
        /// The score given.
        score: f64,
    },
    /// The same (enterprise, result) pair is listed twice in `scores` or `forced`.
    #[error("pair (\"{enterprise}\", \"{result}\") is listed more than once in {list}")]
    DuplicatePair {
        /// Enterprise of the pair.
        enterprise: String,
        /// Result of the pair.
        result: String,
        /// Which list (`scores` or `forced`).
        list: &'static str,
    },
    /// `slots` is zero or negative.
    #[error("slots must be at least 1, got {slots}")]
    InvalidSlots {
        /// The value given.
        slots: i64,
    },
    /// `tables` is zero or negative.
    #[error("tables must be at least 1, got {tables}")]
    InvalidTables {
        /// The value given.
        tables: i64,
    },
    /// `min_score` is NaN or infinite.
    #[error("min_score must be a finite number, got {value}")]
    InvalidMinScore {
        /// The value given.
        value: f64,
    },
    /// A pair is both forced and forbidden.
    #[error("pair (\"{enterprise}\", \"{result}\") is both forced and forbidden")]
    ForcedForbidden {
        /// Enterprise of the pair.
        enterprise: String,
        /// Result of the pair.
        result: String,
    },
    /// A participant has more forced pairs than its capacity.
    #[error("{side} \"{id}\" has {forced} forced pairs but capacity {capacity}")]
    ForcedOverCapacity {
        /// Side of the participant.
        side: Side,
        /// The participant.
        id: String,
        /// Number of forced pairs naming it.
        forced: u64,
        /// Its capacity.
        capacity: i64,
    },
    /// A participant has more forced pairs than there are time slots.
    #[error("{side} \"{id}\" has {forced} forced pairs but there are only {slots} time slots")]
    ForcedOverSlots {
        /// Side of the participant.
        side: Side,
        /// The participant.
        id: String,
        /// Number of forced pairs naming it.
        forced: u64,
        /// Number of slots.
        slots: i64,
    },
    /// The forced pairs alone need more seats than `slots × tables`.
    #[error("{forced} forced pairs do not fit into {slots} slots x {tables} tables")]
    ForcedOverTables {
        /// Number of forced pairs.
        forced: u64,
        /// Number of slots.
        slots: i64,
        /// Number of tables.
        tables: i64,
    },
    /// Two groups have the same id.
    #[error("duplicate group id \"{id}\"")]
    DuplicateGroup {
        /// The duplicated id.
        id: String,
    },
    /// A group cap below zero.
    #[error("group \"{group}\" has negative capacity {capacity}")]
    NegativeGroupCapacity {
        /// The group.
        group: String,
        /// The cap given.
        capacity: i64,
    },
    /// A result is listed in two groups (or twice in one).
    #[error(
        "result \"{result}\" is listed in group \"{first}\" and again in group \"{second}\"; a result belongs to at most one group"
    )]
    GroupConflict {
        /// The result.
        result: String,
        /// The group listing it first.
        first: String,
        /// The group listing it again.
        second: String,
    },
    /// The forced pairs of a group's results exceed the group's cap.
    #[error("group \"{group}\" has {forced} forced pairs but capacity {capacity}")]
    ForcedOverGroupCapacity {
        /// The group.
        group: String,
        /// Forced pairs naming its results.
        forced: u64,
        /// Its cap.
        capacity: i64,
    },
    /// Scores and capacities are so large that exact integer costs could overflow.
    #[error("instance too large for exact integer costs: {detail}")]
    TooLarge {
        /// What overflowed.
        detail: String,
    },
    /// A low-level routine (`assign`, `schedule`, `seat`) was called with inconsistent data,
    /// or an internal invariant failed.
    #[error("invalid problem: {detail}")]
    InvalidProblem {
        /// What is wrong.
        detail: String,
    },
    /// The caller's cancellation flag was raised.
    #[error("solving was cancelled")]
    Cancelled,
}

impl PairError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            PairError::Json { .. } => "json",
            PairError::DuplicateId { .. } => "duplicate_id",
            PairError::UnknownId { .. } => "unknown_id",
            PairError::NegativeCapacity { .. } => "negative_capacity",
            PairError::InvalidScore { .. } => "invalid_score",
            PairError::DuplicatePair { .. } => "duplicate_pair",
            PairError::InvalidSlots { .. } => "invalid_slots",
            PairError::InvalidTables { .. } => "invalid_tables",
            PairError::InvalidMinScore { .. } => "invalid_min_score",
            PairError::ForcedForbidden { .. } => "forced_forbidden",
            PairError::ForcedOverCapacity { .. } => "forced_over_capacity",
            PairError::ForcedOverSlots { .. } => "forced_over_slots",
            PairError::ForcedOverTables { .. } => "forced_over_tables",
            PairError::DuplicateGroup { .. } => "duplicate_group",
            PairError::NegativeGroupCapacity { .. } => "negative_group_capacity",
            PairError::GroupConflict { .. } => "group_conflict",
            PairError::ForcedOverGroupCapacity { .. } => "forced_over_group_capacity",
            PairError::TooLarge { .. } => "too_large",
            PairError::InvalidProblem { .. } => "invalid_problem",
            PairError::Cancelled => "cancelled",
        }
    }

    /// The message in Chinese (names the same ids as the English one).
    pub fn message_zh(&self) -> String {
        match self {
            PairError::Json {
                line,
                column,
                message,
            } => format!("实例 JSON 无效（第 {line} 行第 {column} 列）：{message}"),
            PairError::DuplicateId { side, id } => format!("{}编号“{id}”重复", side.zh()),
            PairError::UnknownId { side, id, context } => {
                format!("{context} 中出现未知的{}编号“{id}”", side.zh())
            }
            PairError::NegativeCapacity { side, id, capacity } => {
                format!("{}“{id}”的容量为负数：{capacity}", side.zh())
            }
            PairError::InvalidScore {
                enterprise,
                result,
                score,
            } => format!(
                "配对（“{enterprise}”，“{result}”）的分数 {score} 无效：分数必须是 0 到 1e9 之间的有限数"
            ),
            PairError::DuplicatePair {
                enterprise,
                result,
                list,
            } => format!("配对（“{enterprise}”，“{result}”）在 {list} 中重复出现"),
            PairError::InvalidSlots { slots } => format!("时段数必须至少为 1，实际为 {slots}"),
            PairError::InvalidTables { tables } => format!("桌数必须至少为 1，实际为 {tables}"),
            PairError::InvalidMinScore { value } => {
                format!("最低分数 min_score 必须是有限数，实际为 {value}")
            }
            PairError::ForcedForbidden { enterprise, result } => {
                format!("配对（“{enterprise}”，“{result}”）既被指定又被禁止")
            }
            PairError::ForcedOverCapacity {
                side,
                id,
                forced,
                capacity,
            } => format!(
                "{}“{id}”有 {forced} 个指定配对，超过其容量 {capacity}",
                side.zh()
            ),
            PairError::ForcedOverSlots {
                side,
                id,
                forced,
                slots,
            } => format!(
                "{}“{id}”有 {forced} 个指定配对，但只有 {slots} 个时段",
                side.zh()
            ),
            PairError::ForcedOverTables {
                forced,
                slots,
                tables,
            } => format!("{forced} 个指定配对无法安排进 {slots} 个时段 × {tables} 张桌"),
            PairError::DuplicateGroup { id } => format!("单位编号“{id}”重复"),
            PairError::NegativeGroupCapacity { group, capacity } => {
                format!("单位“{group}”的会谈上限为负数：{capacity}")
            }
            PairError::GroupConflict {
                result,
                first,
                second,
            } => format!(
                "成果“{result}”同时列在单位“{first}”和单位“{second}”中；每个成果最多属于一个单位"
            ),
            PairError::ForcedOverGroupCapacity {
                group,
                forced,
                capacity,
            } => format!("单位“{group}”的成果有 {forced} 个指定配对，超过其会谈上限 {capacity}"),
            PairError::TooLarge { detail } => format!("实例过大，整数成本可能溢出：{detail}"),
            PairError::InvalidProblem { detail } => format!("问题数据无效：{detail}"),
            PairError::Cancelled => "求解已取消".to_string(),
        }
    }
}
