//! Matching requests, shared by the API and the command line: validation of options and
//! the calls into the engine, off the async runtime.

use crate::app::App;
use crate::auth::Caller;
use crate::authz;
use crate::codes::Code;
use crate::error::AppError;
use crate::error::ErrorKind;
use duijie_domain::{Listed, ListingKind};
pub use duijie_match::engine::{ComponentKind, Match, MatchOptions};
use duijie_match::engine::{MatchError, MatchFilters, WeightsOverride};
use serde_json::Value;

/// Longest unsaved text accepted, characters.
pub const MAX_TEXT_CHARS: usize = 5000;

impl From<MatchError> for AppError {
    fn from(e: MatchError) -> Self {
        if e.is_client_error() {
            AppError::BadRequest {
                code: Code::of(e.code(), ErrorKind::BadRequest),
                message: format!("{} / {}", e.message_zh(), e.message_en()),
            }
        } else {
            AppError::Internal(e.message_en())
        }
    }
}

/// Which kinds a source kind may be matched with.
pub fn allowed_targets(source: Option<ListingKind>) -> &'static [ListingKind] {
    match source {
        Some(ListingKind::Need) => &[ListingKind::Result, ListingKind::Expert],
        Some(ListingKind::Result) => &[ListingKind::Need],
        Some(ListingKind::Expert) => &[ListingKind::Need],
        None => &[ListingKind::Result, ListingKind::Need, ListingKind::Expert],
    }
}

/// Parses a target kind, checking it makes sense for the source.
pub fn target_kind(s: Option<&str>, source: Option<ListingKind>) -> Result<ListingKind, AppError> {
    let allowed = allowed_targets(source);
    let names = allowed
        .iter()
        .map(|k| k.plural())
        .collect::<Vec<_>>()
        .join(", ");
    let Some(s) = s else {
        return match source {
            Some(_) => Ok(allowed[0]),
            None => Err(AppError::bad_request(
                Code::MISSING_PARAMETER,
                format!("缺少 kind，可选：{names}"),
                format!("kind is required: {names}"),
            )),
        };
    };
    match ListingKind::parse(s) {
        Some(k) if allowed.contains(&k) => Ok(k),
        _ => Err(AppError::bad_request(
            Code::INVALID_PARAMETER,
            format!("kind“{s}”无效，可选：{names}"),
            format!("kind '{s}' is not one of: {names}"),
        )),
    }
}

/// Validates a limit given as a JSON number or a query-string value.
pub fn limit(v: Option<&Value>) -> Result<usize, AppError> {
    let max = duijie_match::engine::MAX_LIMIT as i64;
    let Some(v) = v else { return Ok(20) };
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        _ => Err(AppError::bad_request(
            Code::INVALID_PARAMETER,
            format!("limit 应为 1 到 {max} 之间的整数，收到 {v}"),
            format!("limit must be an integer from 1 to {max}, got {v}"),
        )),
    }
}

/// Parses weight overrides from a JSON object of numbers.
pub fn weights(v: Option<&Value>) -> Result<WeightsOverride, AppError> {
    let Some(v) = v else {
        return Ok(WeightsOverride::default());
    };
    let Value::Object(m) = v else {
        return Err(AppError::bad_request(
            Code::INVALID_WEIGHTS,
            "weights 应为对象，如 {\"text\": 0.7}",
            "weights must be an object such as {\"text\": 0.7}",
        ));
    };
    for (k, val) in m {
        match val {
            Value::Number(n) if n.as_f64().is_some_and(|f| f.is_finite() && f >= 0.0) => {}
            _ => {
                return Err(AppError::bad_request(
                    Code::INVALID_WEIGHT,
                    format!("权重 {k} 应为非负数，收到 {val}"),
                    format!("weight {k} must be a non-negative number, got {val}"),
                ));
            }
        }
    }
    serde_json::from_value(v.clone()).map_err(|e| {
        let names = duijie_match::engine::ComponentKind::ALL
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(", ");
        AppError::bad_request(
            Code::INVALID_WEIGHTS,
            format!("权重无效（可选：{names}）：{e}"),
            format!("invalid weights (components: {names}): {e}"),
        )
    })
}

/// Parses candidate filters from a JSON object of strings.
pub fn filters(ctx: &App, v: Option<&Value>) -> Result<MatchFilters, AppError> {
    let Some(v) = v else {
        return Ok(MatchFilters::default());
    };
    let Value::Object(m) = v else {
        return Err(AppError::bad_request(
            Code::INVALID_FILTERS,
            "filters 应为对象",
            "filters must be an object",
        ));
    };
    let mut f = MatchFilters::default();
    for (k, val) in m {
        let Some(s) = val.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(AppError::bad_request(
                Code::INVALID_FILTERS,
                format!("筛选条件 {k} 应为文本"),
                format!("filter {k} must be a string"),
            ));
        };
        match k.as_str() {
            "industry" => {
                f.industry = Some(ctx.vocab.resolve_industry(s).ok_or_else(|| {
                    AppError::bad_request(
                        Code::INVALID_FILTERS,
                        format!("行业“{s}”不在行业目录中"),
                        format!("industry '{s}' is not in the vocabulary"),
                    )
                })?)
            }
            "city" => f.city = Some(duijie_domain::geo::normalize_city(s)),
            "zone" => {
                f.zone = Some(
                    duijie_domain::Zone::parse(s)
                        .map(|z| z.code().to_string())
                        .ok_or_else(|| {
                            AppError::bad_request(
                                Code::INVALID_FILTERS,
                                format!("区域“{s}”无效"),
                                format!("zone '{s}' is not a zone code"),
                            )
                        })?,
                )
            }
            "maturity" => {
                f.maturity = Some(
                    duijie_domain::vocab::resolve(duijie_domain::vocab::MATURITIES, s)
                        .map(str::to_string)
                        .ok_or_else(|| {
                            AppError::bad_request(
                                Code::INVALID_FILTERS,
                                format!("成熟度“{s}”无效"),
                                format!("maturity '{s}' is not one of: lab, pilot, industrialized"),
                            )
                        })?,
                )
            }
            other => {
                return Err(AppError::bad_request(
                    Code::INVALID_FILTERS,
                    format!("未知筛选条件“{other}”，可选：industry, city, zone, maturity"),
                    format!("unknown filter '{other}': use industry, city, zone, maturity"),
                ));
            }
        }
    }
    Ok(f)
}

/// Matches a stored listing. A listing others cannot see (a draft, a withdrawn result, a
/// closed need) is matched only for those who may see it (its organisation, the
/// programme's organisers, the command line); for anyone else it does not exist (404, as
/// when reading it).
pub async fn for_listing(
    ctx: &App,
    caller: &Caller,
    kind: ListingKind,
    id: i64,
    target: ListingKind,
    opts: MatchOptions,
) -> Result<Vec<Match>, AppError> {
    let not_found = || AppError::not_found(kind.label_zh(), kind.code(), id);
    let source = ctx
        .store
        .listing_texts(kind, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    if !source.is_published()
        && !authz::sees_unpublished(caller, source.organization.as_ref().map(|o| o.id))
    {
        return Err(not_found());
    }
    let m = ctx.matcher.clone();
    Ok(tokio::task::spawn_blocking(move || m.for_listing(&source, target, &opts)).await??)
}

/// Matches an unsaved text.
pub async fn for_text(
    ctx: &App,
    text: String,
    target: ListingKind,
    opts: MatchOptions,
) -> Result<Vec<Match>, AppError> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        return Err(AppError::bad_request(
            Code::EMPTY_TEXT,
            "text 不能为空",
            "text must not be empty",
        ));
    }
    if n > MAX_TEXT_CHARS {
        return Err(AppError::bad_request(
            Code::TEXT_TOO_LONG,
            format!("text 过长：{n} 字，最多 {MAX_TEXT_CHARS} 字"),
            format!("text is too long: {n} characters, at most {MAX_TEXT_CHARS}"),
        ));
    }
    let m = ctx.matcher.clone();
    Ok(tokio::task::spawn_blocking(move || m.for_text(&text, target, &opts)).await??)
}
