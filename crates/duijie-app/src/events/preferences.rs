//! Preferences: who wants (or must not) meet whom, and conflicts of interest.

use super::*;

/// A preference with the names of who and whom.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferenceView {
    /// The stored preference.
    #[serde(flatten)]
    pub preference: Preference,
    /// Enterprise name.
    pub enterprise_name: String,
    /// Need title when the preference is about one need.
    pub need_title: Option<String>,
    /// Result title or expert name.
    pub partner_title: Option<String>,
    /// The partner's organisation.
    pub partner_organization_name: Option<String>,
}

pub(super) fn preference_view(p: Preference, names: &Names) -> PreferenceView {
    let owner = names.owner(p.partner_kind, p.partner_id);
    PreferenceView {
        enterprise_name: names.org(p.enterprise_id),
        need_title: p.need_id.and_then(|n| names.title(ListingKind::Need, n)),
        partner_title: names.title(p.partner_kind, p.partner_id),
        partner_organization_name: owner.map(|o| names.org(o)),
        preference: p,
    }
}

/// The preferences `caller` may see: all for those who keep the programme (conflicts of
/// interest among them); for a participating organisation the rows it declared or that name
/// it (its enterprise, or one of its results or experts), but another side's "no" only to
/// whoever said it; anonymous callers 401.
pub async fn preferences_for(
    ctx: &App,
    caller: &crate::auth::Caller,
    event_id: i64,
) -> Result<Vec<PreferenceView>, AppError> {
    let own = own_rows_caller(caller)?;
    load_for(ctx, caller, event_id).await?;
    let all = preferences(ctx, event_id).await?;
    let Some(org) = own else {
        return Ok(all);
    };
    let Some(org) = org else {
        return Ok(Vec::new());
    };
    let mine: BTreeSet<(ListingKind, i64)> = ctx
        .store
        .participants(event_id)
        .await?
        .into_iter()
        .filter(|p| p.organization_id == org)
        .flat_map(|p| p.listings.into_iter().map(|l| (l.kind, l.id)))
        .collect();
    // a "no" is private to whoever said it (and the organisers)
    let declared_by_us = |p: &Preference| match p.side {
        Side::Enterprise => p.enterprise_id == org,
        Side::University => mine.contains(&(p.partner_kind, p.partner_id)),
        Side::Organizer => false,
    };
    Ok(all
        .into_iter()
        .filter(|v| {
            v.preference.enterprise_id == org
                || mine.contains(&(v.preference.partner_kind, v.preference.partner_id))
        })
        .filter(|v| v.preference.preference != PreferenceKind::No || declared_by_us(&v.preference))
        .collect())
}

/// The preferences of an event.
pub async fn preferences(ctx: &App, event_id: i64) -> Result<Vec<PreferenceView>, AppError> {
    load(ctx, event_id).await?;
    let names = Names::of(&ctx.store.participants(event_id).await?);
    Ok(ctx
        .store
        .preferences(event_id)
        .await?
        .into_iter()
        .map(|p| preference_view(p, &names))
        .collect())
}

/// The ids naming an enterprise (a need, or the organisation) and a partner (a result or
/// an expert), as preferences and added meetings give them.
pub(super) struct PairIds {
    pub(super) need_id: Option<i64>,
    pub(super) org_id: Option<i64>,
    pub(super) result_id: Option<i64>,
    pub(super) expert_id: Option<i64>,
}

impl PairIds {
    pub(super) fn read(r: &mut In<'_>) -> PairIds {
        let mut id = |name: &'static str| {
            r.raw(name)
                .is_some()
                .then(|| r.int_or(name, 0, 1, i64::MAX))
        };
        PairIds {
            need_id: id("need_id"),
            org_id: id("organization_id"),
            result_id: id("result_id"),
            expert_id: id("expert_id"),
        }
    }
}

/// The enterprise owning need `n` in this event, checked against `org` when both are given.
pub(super) fn need_owner(
    names: &Names,
    n: i64,
    org: Option<i64>,
    errors: &mut FieldErrors,
) -> Option<i64> {
    match names.owner(ListingKind::Need, n) {
        Some(owner) if org.is_none_or(|o| o == owner) => Some(owner),
        Some(_) => {
            errors.push(
                "organization_id",
                "mismatch",
                "organization_id 与该需求所属单位不一致",
                "organization_id is not the need's organization",
            );
            None
        }
        None => {
            errors.push(
                "need_id",
                "not_participating",
                format!("技术需求 {n} 不在本次对接会中"),
                format!("need {n} does not take part in this event"),
            );
            None
        }
    }
}

/// Records an error when the partner does not take part in this event.
pub(super) fn check_partner(
    names: &Names,
    partner: Option<(ListingKind, i64)>,
    errors: &mut FieldErrors,
) {
    if let Some((k, id)) = partner
        && names.owner(k, id).is_none()
    {
        let field = if k == ListingKind::Result {
            "result_id"
        } else {
            "expert_id"
        };
        errors.push(
            field,
            "not_participating",
            format!("{}{id} 不在本次对接会中", k.label_zh()),
            format!("{} {id} does not take part in this event", k.code()),
        );
    }
}

/// Records a preference from `{need_id | organization_id, result_id | expert_id, side,
/// preference}`; returns it and whether it is new (a side's new word on the same pair
/// replaces its old one).
pub async fn set_preference(
    ctx: &App,
    event_id: i64,
    rec: &Record,
) -> Result<(PreferenceView, bool), AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let participants = ctx.store.participants(event_id).await?;
    let names = Names::of(&participants);
    let mut r = In::new(rec);
    let PairIds {
        need_id,
        org_id,
        result_id,
        expert_id,
    } = PairIds::read(&mut r);
    let side = r.choice_or("side", SIDES, None);
    let preference = r.choice_or("preference", PREFERENCES, None);
    let mut errors = r.finish_ignoring(&[]);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let enterprise = match (need_id, org_id) {
        (Some(n), o) => need_owner(&names, n, o, &mut errors),
        (None, Some(o)) => {
            let brings_needs = participants.iter().any(|p| {
                p.organization_id == o && p.listings.iter().any(|l| l.kind == ListingKind::Need)
            });
            if brings_needs {
                Some(o)
            } else {
                errors.push(
                    "organization_id",
                    "not_participating",
                    format!("单位 {o} 没有带技术需求参加本次对接会"),
                    format!("organization {o} takes part in this event with no need"),
                );
                None
            }
        }
        (None, None) => {
            errors.push(
                "need_id",
                "required",
                "需要 need_id 或 organization_id（企业）",
                "need_id or organization_id (the enterprise) is required",
            );
            None
        }
    };
    let partner = match (result_id, expert_id) {
        (Some(id), None) => Some((ListingKind::Result, id)),
        (None, Some(id)) => Some((ListingKind::Expert, id)),
        (Some(_), Some(_)) => {
            errors.push(
                "expert_id",
                "exclusive",
                "result_id 与 expert_id 只能给一个",
                "give result_id or expert_id, not both",
            );
            None
        }
        (None, None) => {
            errors.push(
                "result_id",
                "required",
                "需要 result_id 或 expert_id",
                "result_id or expert_id is required",
            );
            None
        }
    };
    check_partner(&names, partner, &mut errors);
    let side = side.and_then(Side::parse);
    let preference = preference.and_then(PreferenceKind::parse);
    if side == Some(Side::Organizer) && preference == Some(PreferenceKind::Like) {
        errors.push(
            "preference",
            "invalid_choice",
            "组织者可指定 must、no 或 conflict，不能指定 like",
            "the organizer sets must, no or conflict, not like",
        );
    }
    let (Some(enterprise), Some((partner_kind, partner_id)), Some(side), Some(preference)) =
        (enterprise, partner, side, preference)
    else {
        return Err(AppError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let d = PreferenceDraft {
        enterprise_id: enterprise,
        need_id,
        partner_kind,
        partner_id,
        side,
        preference,
    };
    let (id, created) = ctx.store.upsert_preference(event_id, &d).await?;
    Ok((
        preference_view(ctx.store.preference(event_id, id).await?, &names),
        created,
    ))
}

/// Deletes a preference.
pub async fn delete_preference(ctx: &App, event_id: i64, id: i64) -> Result<(), AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    match ctx.store.delete_preference(event_id, id).await {
        Err(duijie_store::StoreError::NotFound { .. }) => {
            Err(AppError::not_found("意向", "preference", id))
        }
        other => Ok(other?),
    }
}
