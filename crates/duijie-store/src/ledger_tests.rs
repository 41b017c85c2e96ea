//! The ledger suite, on SQLite always and PostgreSQL when reachable (always in CI).

use crate::events_tests::{draft, fixture};
use crate::tests::postgres_or_skip;
use crate::*;
use duijie_domain::ListingKind;
use duijie_domain::ledger::Outcome;

fn actor() -> LedgerActor {
    LedgerActor {
        user_id: None,
        name: "zuzhi@example.com".into(),
    }
}

fn outcome(status: &str) -> Outcome {
    Outcome {
        status: status.into(),
        date: Some("2026-05-10".into()),
        ..Outcome::default()
    }
}

/// Pairing entries follow the event's meetings; outcomes move forward with history.
async fn pairing_entries_follow_the_pairing(store: &Store) {
    let (ent, [n1, _], uni, r, x) = fixture(store).await;
    let ev = store.create_event(&draft("对接会")).await.unwrap();
    store
        .add_participant(ev, ent, &[(ListingKind::Need, n1)])
        .await
        .unwrap();
    store
        .add_participant(
            ev,
            uni,
            &[(ListingKind::Result, r), (ListingKind::Expert, x)],
        )
        .await
        .unwrap();
    let meeting = |kind, id, slot| PairingDraft {
        enterprise_id: ent,
        need_id: n1,
        partner_kind: kind,
        partner_id: id,
        score: 0.8,
        base_score: 0.5,
        slot,
        table: 0,
        forced: false,
        origin: "solver".into(),
    };
    store
        .save_pairing(
            ev,
            "{}",
            "{}",
            &[
                meeting(ListingKind::Result, r, 0),
                meeting(ListingKind::Expert, x, 1),
            ],
        )
        .await
        .unwrap();
    let filter = LedgerFilter {
        event_id: Some(ev),
        ..LedgerFilter::default()
    };
    let page = store.ledger(&filter, 10, 0).await.unwrap();
    assert_eq!(page.total, 2);
    let result_entry = page
        .items
        .iter()
        .find(|e| e.partner_kind.as_deref() == Some("result"))
        .unwrap()
        .clone();
    assert_eq!(result_entry.title, "高炉煤气余热回收 ↔ 低温余热发电技术");
    assert_eq!(result_entry.enterprise_name.as_deref(), Some("鞍钢集团"));
    assert_eq!(result_entry.university_name.as_deref(), Some("东北大学"));
    assert_eq!(result_entry.city.as_deref(), Some("鞍山"));
    assert_eq!(
        (result_entry.status.as_str(), result_entry.year),
        ("proposed", 2026)
    );

    // outcomes up to a contract, then a step back is refused and changes nothing
    store
        .record_outcome(result_entry.id, &outcome("met"), &actor(), None)
        .await
        .unwrap();
    let signed = Outcome {
        amount_yuan: Some(1_500_000),
        contract_date: Some("2026-06-01".into()),
        contract_mode: Some("license".into()),
        ..outcome("contract")
    };
    let e = store
        .record_outcome(result_entry.id, &signed, &actor(), Some("met"))
        .await
        .unwrap();
    assert_eq!((e.status.as_str(), e.max_stage), ("contract", 4));
    assert_eq!(e.amount_yuan, Some(1_500_000));
    assert_eq!(e.met_on.as_deref(), Some("2026-05-10"));
    let back = store
        .record_outcome(result_entry.id, &outcome("accepted"), &actor(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            back,
            StoreError::Conflict {
                code: "invalid_transition",
                ..
            }
        ),
        "{back}"
    );
    let stale = store
        .record_outcome(
            result_entry.id,
            &outcome("transferred"),
            &actor(),
            Some("met"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            StoreError::Conflict {
                code: "ledger_changed",
                ..
            }
        ),
        "{stale}"
    );
    let history = store.ledger_history(result_entry.id).await.unwrap();
    let steps: Vec<(Option<&str>, &str)> = history
        .iter()
        .map(|h| (h.from_status.as_deref(), h.to_status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "proposed"),
            (Some("proposed"), "met"),
            (Some("met"), "contract")
        ]
    );
    assert_eq!(history[2].actor, "zuzhi@example.com");

    // regenerating without the expert removes its untouched entry and keeps the contract
    store
        .save_pairing(ev, "{}", "{}", &[meeting(ListingKind::Result, r, 2)])
        .await
        .unwrap();
    let page = store.ledger(&filter, 10, 0).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(
        page.items[0].id, result_entry.id,
        "the same entry, not a new one"
    );
    store.save_pairing(ev, "{}", "{}", &[]).await.unwrap();
    let page = store.ledger(&filter, 10, 0).await.unwrap();
    assert_eq!(
        page.total, 1,
        "an entry with a contract outlives its meeting"
    );

    // filters
    let by_city = |cities: Vec<&str>| LedgerFilter {
        cities: Some(cities.into_iter().map(String::from).collect()),
        ..LedgerFilter::default()
    };
    assert_eq!(
        store
            .ledger(&by_city(vec!["鞍山"]), 10, 0)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .ledger(&by_city(vec!["大连"]), 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
    let by_org = LedgerFilter {
        organization_id: Some(uni),
        status: Some("contract".into()),
        ..LedgerFilter::default()
    };
    assert_eq!(store.ledger(&by_org, 10, 0).await.unwrap().total, 1);
}

/// A university files at most five projects of a kind a year; dropped ones free a place.
async fn five_projects_per_kind_per_year(store: &Store) {
    let (_, _, uni, _, _) = fixture(store).await;
    let project = |kind: &str, year| LedgerDraft {
        kind: "inter_university".into(),
        university_id: Some(uni),
        project_kind: Some(kind.into()),
        title: "联合培养研究生".into(),
        year,
        ..LedgerDraft::default()
    };
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            store
                .create_ledger_entry(&project("joint_training", 2026), &actor())
                .await
                .unwrap(),
        );
    }
    let err = store
        .create_ledger_entry(&project("joint_training", 2026), &actor())
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict { code, message } => {
            assert_eq!(code, "project_limit");
            assert!(
                message.contains("东北大学") && message.contains("联合培养"),
                "{message}"
            );
        }
        other => panic!("{other}"),
    }
    // another kind, another year: fine
    store
        .create_ledger_entry(&project("exchange", 2026), &actor())
        .await
        .unwrap();
    store
        .create_ledger_entry(&project("joint_training", 2027), &actor())
        .await
        .unwrap();
    let dropped = Outcome {
        reason: Some("导师调动".into()),
        ..outcome("dropped")
    };
    store
        .record_outcome(ids[0], &dropped, &actor(), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .projects_filed(uni, "joint_training", 2026)
            .await
            .unwrap(),
        4
    );
    store
        .create_ledger_entry(&project("joint_training", 2026), &actor())
        .await
        .unwrap();
}

macro_rules! both_backends {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (_dir, store) = crate::tests::sqlite_store().await;
                super::$name(&store).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(store) = postgres_or_skip(stringify!($name)).await {
                    super::$name(&store).await;
                }
            }
            use super::postgres_or_skip;
        }
    )*};
}

both_backends!(
    pairing_entries_follow_the_pairing,
    five_projects_per_kind_per_year
);
