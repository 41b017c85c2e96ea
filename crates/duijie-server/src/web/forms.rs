//! Forms to post a technology need and to list a research result, with field-level
//! messages in Chinese and "see matches before you publish" (the unsaved-text match).

use super::{FormPairs, WebError, industry_options, options, render, render_status};
use crate::auth::{Caller, Who};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::listings::ListFilter;
use duijie_app::listings::{self, Entity};
use duijie_app::matching;
use duijie_app::matching::MatchOptions;
use duijie_domain::{ListingKind, input::Record, vocab};
use serde_json::{Map, Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/needs/new",
            get(|s, c, u| blank(s, c, u, ListingKind::Need))
                .post(|s, c, f| submit(s, c, f, ListingKind::Need)),
        )
        .route(
            "/results/new",
            get(|s, c, u| blank(s, c, u, ListingKind::Result))
                .post(|s, c, f| submit(s, c, f, ListingKind::Result)),
        )
}

/// The fields of each form: text fields, then the repeated (checkbox) field.
fn fields(kind: ListingKind) -> (&'static [&'static str], &'static str) {
    match kind {
        ListingKind::Need => (
            &[
                "title",
                "description",
                "keywords",
                "industry",
                "required_maturity",
                "budget_min",
                "budget_max",
                "deadline",
                "organization",
                "contact_name",
                "contact_phone",
                "contact_email",
                "contact_public",
            ],
            "cooperation_modes",
        ),
        _ => (
            &[
                "title",
                "summary",
                "keywords",
                "industry",
                "maturity",
                "trl",
                "price_min",
                "price_max",
                "team",
                "organization",
                "contact_name",
                "contact_phone",
                "contact_email",
                "contact_public",
            ],
            "transfer_modes",
        ),
    }
}

/// The form as a record for validation: empty fields are left out, so they count as absent.
fn record(kind: ListingKind, form: &FormPairs) -> Record {
    let (text, multi) = fields(kind);
    let mut rec = Map::new();
    for name in text {
        if let Some(v) = form.get(name) {
            rec.insert(name.to_string(), json!(v));
        }
    }
    let modes = form.all(multi);
    if !modes.is_empty() {
        rec.insert(multi.to_string(), json!(modes));
    }
    rec
}

/// What the template needs to show the form again: the values and the chosen modes.
fn values(kind: ListingKind, form: &FormPairs) -> Value {
    let (text, multi) = fields(kind);
    let mut v = Map::new();
    for name in text {
        v.insert(name.to_string(), json!(form.get(name).unwrap_or_default()));
    }
    v.insert(multi.to_string(), json!(form.all(multi)));
    Value::Object(v)
}

/// The organisation a member publishes for (`None` for organisers and administrators,
/// who name it in the form).
fn own_org(caller: &Caller) -> Option<String> {
    let u = caller.user.as_ref()?;
    if u.role.keeps_programme() {
        return None;
    }
    Some(u.organization_name.clone().unwrap_or_default())
}

async fn form_context(ctx: &App, caller: &Caller, kind: ListingKind) -> Result<Value, AppError> {
    let org_kind = if kind == ListingKind::Need {
        "enterprise"
    } else {
        "university"
    };
    let orgs = duijie_app::listings::organizations(
        ctx,
        &ListFilter {
            kind: Some(org_kind.into()),
            ..Default::default()
        },
        500,
        0,
    )
    .await?;
    Ok(json!({
        "kind": kind.code(),
        "industries": industry_options(ctx),
        "maturities": options(vocab::MATURITIES),
        "modes": options(vocab::TRANSFER_MODES),
        "orgs": orgs.items.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
        "own_org": own_org(caller),
    }))
}

fn title_of(kind: ListingKind) -> &'static str {
    if kind == ListingKind::Need {
        "发布技术需求"
    } else {
        "发布科技成果"
    }
}

/// Who may post this kind: not signed in goes to sign in first; a role that cannot
/// publish it gets a page saying so.
async fn may_post(ctx: &App, caller: &Caller, kind: ListingKind) -> Result<(), WebError> {
    duijie_app::authz::authorize(ctx, caller, duijie_app::authz::Action::CreateListing(kind))
        .await?;
    Ok(())
}

async fn blank(
    State(ctx): State<App>,
    caller: Who,
    uri: axum::http::Uri,
    kind: ListingKind,
) -> Result<Response, WebError> {
    if caller.user.is_none() {
        return Ok(super::to_login(&uri).into_response());
    }
    may_post(&ctx, &caller, kind).await?;
    let mut page = form_context(&ctx, &caller, kind).await?;
    page["values"] = values(kind, &FormPairs(Vec::new()));
    Ok(render(
        &ctx,
        &caller,
        "form.html",
        kind.plural(),
        title_of(kind),
        page,
    )?
    .into_response())
}

/// "Preview" shows the matches of the text as typed; "publish" validates and stores it.
async fn submit(
    State(ctx): State<App>,
    caller: Who,
    form: FormPairs,
    kind: ListingKind,
) -> Result<Response, WebError> {
    may_post(&ctx, &caller, kind).await?;
    let mut rec = record(kind, &form);
    let pinned = own_org(&caller);
    if pinned.is_some() {
        // enterprise members and researchers publish for their own organisation
        rec.remove("organization");
    }
    let mut page = form_context(&ctx, &caller, kind).await?;
    page["values"] = values(kind, &form);
    let preview = form.get("action").as_deref() == Some("preview");
    if preview {
        let body_field = if kind == ListingKind::Need {
            "description"
        } else {
            "summary"
        };
        let text = [
            form.get("title"),
            form.get("keywords"),
            form.get(body_field),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
        if text.trim().is_empty() {
            page["preview_error"] = json!("请先填写标题或内容，再查看匹配");
        } else {
            let mut sections = Vec::new();
            for target in matching::allowed_targets(Some(kind)) {
                let limit = if *target == ListingKind::Expert { 3 } else { 5 };
                let opts = MatchOptions {
                    limit,
                    ..Default::default()
                };
                match matching::for_text(&ctx, text.clone(), *target, opts).await {
                    Ok(items) => sections.push(json!({
                        "kind": target.code(),
                        "title": format!("可能匹配的{}", target.label_zh()),
                        "items": super::pages::match_items(&items),
                    })),
                    Err(AppError::BadRequest { message, .. }) => {
                        page["preview_error"] = json!(super::zh(&message));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            page["preview"] = json!(sections);
        }
        // show what would be refused on publishing, without refusing the preview
        if let Err(AppError::Validation(e)) = listings::validate(&ctx, Entity::Listing(kind), &rec)
        {
            let (by_field, _) = super::field_errors(&e);
            page["hints"] = by_field;
        }
        return Ok(render(
            &ctx,
            &caller,
            "form.html",
            kind.plural(),
            title_of(kind),
            page,
        )?
        .into_response());
    }
    match listings::create(&ctx, &caller, Entity::Listing(kind), rec).await {
        Ok(v) => {
            let id = v["id"].as_i64().unwrap_or(0);
            Ok(Redirect::to(&format!("/{}/{id}?published=1", kind.plural())).into_response())
        }
        Err(AppError::Validation(e)) => {
            let (by_field, summary) = super::field_errors(&e);
            page["errors"] = by_field;
            page["error_summary"] = json!(summary);
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ctx,
                &caller,
                "form.html",
                kind.plural(),
                title_of(kind),
                page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
