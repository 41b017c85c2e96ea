//! The matching engine's errors, with stable codes and messages in Chinese and English.

/// Everything matching can fail with. [`MatchError::code`] is stable and meant for API
/// clients; [`std::fmt::Display`] is the English message, [`MatchError::message_zh`] the
/// Chinese one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchError {
    /// A weight is negative, NaN or infinite.
    #[error("weight `{component}` must be a finite number ≥ 0 (got {value})")]
    InvalidWeight {
        /// Component name (`text`, `industry`, ...).
        component: &'static str,
        /// The value given.
        value: f64,
    },
    /// Every weight is zero.
    #[error("at least one weight must be greater than 0")]
    AllWeightsZero,
    /// None of the components that apply to this kind of pair has a weight.
    #[error("no component that applies to {0} pairs has a weight greater than 0")]
    NoApplicableWeight(&'static str),
    /// `limit` out of range.
    #[error("limit must be between 1 and {max} (got {value})")]
    InvalidLimit {
        /// The value given.
        value: usize,
        /// Largest accepted value.
        max: usize,
    },
    /// The text to match has no searchable word.
    #[error("the text has no searchable word")]
    EmptyText,
    /// A date (the reference date `today`) is not `YYYY-MM-DD`.
    #[error("invalid date `{0}`, expected YYYY-MM-DD")]
    InvalidDate(String),
    /// The source listing is not in the index.
    #[error("{kind} {id} is not in the index")]
    NotFound {
        /// Kind code.
        kind: &'static str,
        /// Id.
        id: i64,
    },
    /// The index failed.
    #[error("index error: {0}")]
    Index(String),
}

impl MatchError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MatchError::InvalidWeight { .. } => "invalid_weight",
            MatchError::AllWeightsZero => "weights_all_zero",
            MatchError::NoApplicableWeight(_) => "no_applicable_weight",
            MatchError::InvalidLimit { .. } => "invalid_limit",
            MatchError::EmptyText => "empty_text",
            MatchError::InvalidDate(_) => "invalid_date",
            MatchError::NotFound { .. } => "not_found",
            MatchError::Index(_) => "index_error",
        }
    }

    /// The message in English (same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            MatchError::InvalidWeight { component, value } => {
                format!("权重 {component} 必须是不小于 0 的有限数（收到 {value}）")
            }
            MatchError::AllWeightsZero => "至少一个权重必须大于 0".to_string(),
            MatchError::NoApplicableWeight(pair) => format!("适用于{pair}对接的各项权重均为 0"),
            MatchError::InvalidLimit { value, max } => {
                format!("limit 必须在 1 到 {max} 之间（收到 {value}）")
            }
            MatchError::EmptyText => "文本中没有可检索的词语".to_string(),
            MatchError::InvalidDate(d) => format!("日期“{d}”无效，应为 YYYY-MM-DD"),
            MatchError::NotFound { kind, id } => format!("索引中没有 {kind} {id}"),
            MatchError::Index(e) => format!("索引错误：{e}"),
        }
    }

    /// True for errors caused by the request (HTTP 4xx), false for internal ones.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, MatchError::Index(_))
    }
}

impl From<duijie_index::IndexError> for MatchError {
    fn from(e: duijie_index::IndexError) -> Self {
        MatchError::Index(e.to_string())
    }
}
