//! The services' answers as OpenAPI schemas (feature `openapi`, which the server turns on).
//! The server's API document names these types for its responses, so a field added to a
//! view appears in the document, and schemathesis checks every answer against it.

use crate::{accounts, admin, alerts, events, ledger, stats};
use duijie_domain::{Expert, Need, Organization, ResearchResult};
use duijie_store::{
    ApiToken, AuditRecord, Delivery, Notification, Participant, Subscription, User,
};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// A schema with its component name.
pub type Named = (String, RefOr<Schema>);

/// Adds `T` and every type it refers to, once each.
fn add<T: ToSchema>(out: &mut Vec<Named>) {
    let mut found = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut found);
    for (name, schema) in found {
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, schema));
        }
    }
}

/// Every response type of the JSON API with the types it refers to, in a stable order.
pub fn views() -> Vec<Named> {
    let mut out = Vec::new();
    add::<Organization>(&mut out);
    add::<ResearchResult>(&mut out);
    add::<Need>(&mut out);
    add::<Expert>(&mut out);
    add::<crate::import::ImportSummary>(&mut out);
    add::<crate::search::SearchResponse>(&mut out);
    add::<crate::matching::Match>(&mut out);
    add::<events::EventView>(&mut out);
    add::<Participant>(&mut out);
    add::<events::ParticipantImport>(&mut out);
    add::<events::PreferenceView>(&mut out);
    add::<events::PairingView>(&mut out);
    add::<events::MeetingView>(&mut out);
    add::<events::ScheduleBody>(&mut out);
    add::<events::PublicProgramme>(&mut out);
    add::<events::RegistrationView>(&mut out);
    add::<events::WishSet>(&mut out);
    add::<events::Catalogue>(&mut out);
    add::<events::MyAgenda>(&mut out);
    add::<events::Published>(&mut out);
    add::<events::AttendanceMarked>(&mut out);
    add::<ledger::EntryView>(&mut out);
    add::<ledger::ChangeView>(&mut out);
    add::<ledger::ImportReport>(&mut out);
    add::<stats::Stats>(&mut out);
    add::<Subscription>(&mut out);
    add::<alerts::SubscriptionCreated>(&mut out);
    add::<Delivery>(&mut out);
    add::<alerts::DeliveryLog>(&mut out);
    add::<Notification>(&mut out);
    add::<alerts::NotificationPage>(&mut out);
    add::<admin::IndexStatus>(&mut out);
    add::<admin::Reindexed>(&mut out);
    add::<User>(&mut out);
    add::<ApiToken>(&mut out);
    add::<accounts::TokenCreated>(&mut out);
    add::<AuditRecord>(&mut out);
    add::<crate::signup::Registered>(&mut out);
    add::<crate::signup::InvitationSent>(&mut out);
    add::<crate::signup::NotificationSetting>(&mut out);
    add::<duijie_store::Applicant>(&mut out);
    add::<duijie_store::Mail>(&mut out);
    add::<duijie_store::Connection>(&mut out);
    add::<duijie_store::ConnectionStep>(&mut out);
    add::<crate::connections::ConnectionView>(&mut out);
    add::<crate::connections::ConnectionDetail>(&mut out);
    add::<crate::connections::FunnelStep>(&mut out);
    add::<crate::connections::Funnel>(&mut out);
    add::<crate::connections::FunnelReport>(&mut out);
    add::<crate::connections::Responsiveness>(&mut out);
    add::<duijie_store::LedgerEntry>(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_schema_is_defined_once_and_every_reference_resolves() {
        let all = views();
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "a schema name is used twice: {names:?}"
        );
        let text = serde_json::to_string(&all.iter().map(|(_, s)| s).collect::<Vec<_>>())
            .expect("schemas serialise");
        for part in text.split("#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap_or(part.len())];
            assert!(
                names.contains(&name),
                "{name} is referred to but not defined"
            );
        }
    }
}
