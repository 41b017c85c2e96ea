//! Bringing organisations into an event: the listings an organisation brings, and inviting
//! by the event's themes (used by the organiser's console and the demo event).

use crate::app::App;
use crate::codes::Code;
use crate::error::AppError;
use crate::events;
use crate::listings::{self, Entity};
use duijie_domain::{ListingKind, Viewer};
use duijie_store::ListFilter;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The published listings an organisation brings, optionally in one industry.
pub async fn org_listings(
    ctx: &App,
    org_id: i64,
    org_kind: &str,
    industry: Option<&str>,
    per_kind: i64,
) -> Result<Vec<Value>, AppError> {
    let kinds: &[ListingKind] = match org_kind {
        "enterprise" => &[ListingKind::Need],
        "university" | "institute" => &[ListingKind::Result, ListingKind::Expert],
        _ => &[ListingKind::Need, ListingKind::Result, ListingKind::Expert],
    };
    let mut out = Vec::new();
    for k in kinds {
        let f = ListFilter {
            organization_id: Some(org_id),
            industry: industry.map(str::to_string),
            status: (*k != ListingKind::Expert).then(|| "published".to_string()),
            ..Default::default()
        };
        let page =
            listings::list(ctx, Entity::Listing(*k), &f, per_kind, 0, Viewer::Public).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            out.push(json!({"kind": k.code(), "id": item["id"]}));
        }
    }
    Ok(out)
}

/// Invites the organisations whose published listings are in the event's themes (all
/// industries when it has none): up to 30 enterprises and 30 universities or institutes.
pub async fn invite_by_theme(ctx: &App, id: i64) -> Result<(), AppError> {
    let e = events::load(ctx, id).await?;
    let themes: Vec<Option<String>> = if e.themes.is_empty() {
        vec![None]
    } else {
        e.themes.iter().cloned().map(Some).collect()
    };
    let mut seen = BTreeSet::new();
    let mut invited = 0usize;
    for (kind, cap) in [(ListingKind::Need, 30usize), (ListingKind::Result, 30)] {
        let mut taken = 0;
        for theme in &themes {
            let f = ListFilter {
                industry: theme.clone(),
                status: Some("published".into()),
                ..Default::default()
            };
            let page =
                listings::list(ctx, Entity::Listing(kind), &f, 500, 0, Viewer::Public).await?;
            for item in page["items"].as_array().into_iter().flatten() {
                let Some(org) = item["organization"]["id"].as_i64() else {
                    continue;
                };
                if taken >= cap || !seen.insert(org) {
                    continue;
                }
                let org_kind = item["organization"]["kind"].as_str().unwrap_or("");
                let brings = org_listings(ctx, org, org_kind, theme.as_deref(), 3).await?;
                if brings.is_empty() {
                    continue;
                }
                let mut rec = Map::new();
                rec.insert("organization_id".into(), json!(org));
                rec.insert("listings".into(), json!(brings));
                // an organisation that cannot take part (say, a draft listing) is skipped
                if events::add_participant(ctx, id, &rec).await.is_ok() {
                    taken += 1;
                    invited += 1;
                }
            }
        }
    }
    if invited == 0 {
        return Err(AppError::Conflict {
            code: Code::NOBODY_TO_INVITE,
            message: "没有找到符合主题、可邀请的单位 / no organization with published listings in the event's themes".into(),
        });
    }
    Ok(())
}
