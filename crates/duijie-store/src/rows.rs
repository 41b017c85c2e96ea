//! Column lists and row decoding, one place per table so the SELECTs and the decoders
//! cannot drift apart.

use crate::StoreError;
use duijie_domain::{
    Contact, Expert, Need, OrgSummary, Organization, Patent, ResearchResult, zones_of_city,
};
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) const ORG_COLUMNS: &str = "o.id, o.external_id, o.name, o.kind, o.city, o.website, o.description, o.created_at, o.updated_at";

pub(crate) const RESULT_COLUMNS: &str = "r.id, r.external_id, r.organization_id, r.title, r.summary, r.keywords, r.industry, r.maturity, r.trl, \
     r.transfer_modes, r.price_min, r.price_max, r.patents, r.team, r.contact, r.status, r.created_at, r.updated_at, \
     o.name AS org_name, o.kind AS org_kind, o.city AS org_city";

pub(crate) const NEED_COLUMNS: &str = "r.id, r.external_id, r.organization_id, r.title, r.description, r.keywords, r.industry, \
     r.cooperation_modes, r.budget_min, r.budget_max, r.deadline, r.required_maturity, r.contact, r.status, r.created_at, \
     r.updated_at, o.name AS org_name, o.kind AS org_kind, o.city AS org_city";

pub(crate) const EXPERT_COLUMNS: &str = "r.id, r.external_id, r.organization_id, r.name, r.title, r.research_areas, r.keywords, r.summary, \
     r.industry, r.contact, r.created_at, r.updated_at, o.name AS org_name, o.kind AS org_kind, o.city AS org_city";

fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T, StoreError> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn org_summary(row: &AnyRow) -> Result<Option<OrgSummary>, StoreError> {
    let id: Option<i64> = row.try_get("organization_id")?;
    let Some(id) = id else { return Ok(None) };
    let name: Option<String> = row.try_get("org_name")?;
    let Some(name) = name else { return Ok(None) };
    let city: Option<String> = row.try_get("org_city")?;
    Ok(Some(OrgSummary {
        id,
        name,
        kind: row.try_get("org_kind")?,
        zones: city
            .as_deref()
            .map(zones_of_city)
            .unwrap_or_default()
            .into_iter()
            .map(|z| z.code())
            .collect(),
        city,
    }))
}

fn contact(row: &AnyRow) -> Result<Option<Contact>, StoreError> {
    let c: Contact = json(row, "contact")?;
    Ok(Some(c))
}

pub(crate) fn organization(row: &AnyRow) -> Result<Organization, StoreError> {
    let city: Option<String> = row.try_get("city")?;
    Ok(Organization {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        zones: city
            .as_deref()
            .map(zones_of_city)
            .unwrap_or_default()
            .into_iter()
            .map(|z| z.code())
            .collect(),
        city,
        website: row.try_get("website")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn result(row: &AnyRow) -> Result<ResearchResult, StoreError> {
    let trl: Option<i64> = row.try_get("trl")?;
    let patents: Vec<Patent> = json(row, "patents")?;
    Ok(ResearchResult {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        organization: org_summary(row)?,
        title: row.try_get("title")?,
        summary: row.try_get("summary")?,
        keywords: json(row, "keywords")?,
        industry: row.try_get("industry")?,
        maturity: row.try_get("maturity")?,
        trl: trl.and_then(|t| u8::try_from(t).ok()),
        transfer_modes: json(row, "transfer_modes")?,
        price_min: row.try_get("price_min")?,
        price_max: row.try_get("price_max")?,
        patents,
        team: row.try_get("team")?,
        contact: contact(row)?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn need(row: &AnyRow) -> Result<Need, StoreError> {
    Ok(Need {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        organization: org_summary(row)?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        keywords: json(row, "keywords")?,
        industry: row.try_get("industry")?,
        cooperation_modes: json(row, "cooperation_modes")?,
        budget_min: row.try_get("budget_min")?,
        budget_max: row.try_get("budget_max")?,
        deadline: row.try_get("deadline")?,
        required_maturity: row.try_get("required_maturity")?,
        contact: contact(row)?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn expert(row: &AnyRow) -> Result<Expert, StoreError> {
    Ok(Expert {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        organization: org_summary(row)?,
        name: row.try_get("name")?,
        title: row.try_get("title")?,
        research_areas: json(row, "research_areas")?,
        keywords: json(row, "keywords")?,
        summary: row.try_get("summary")?,
        industry: row.try_get("industry")?,
        contact: contact(row)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}
