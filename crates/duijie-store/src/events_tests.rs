//! The event store suite, run against SQLite always and PostgreSQL when reachable (always
//! in CI), like `tests.rs`.

use crate::tests::postgres_or_skip;
use crate::*;
use duijie_domain::{
    EventFormat, EventStatus, ListingKind, PreferenceKind, Side, Vocabulary, input,
};
use serde_json::json;

fn rec(v: serde_json::Value) -> input::Record {
    v.as_object().cloned().unwrap_or_default()
}

async fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite_dir(dir.path())
        .await
        .expect("open sqlite");
    (dir, store)
}

pub(crate) fn draft(name: &str) -> EventDraft {
    EventDraft {
        name: name.into(),
        format: EventFormat::Fair,
        date: "2026-04-25".into(),
        venue: Some("沈阳国际展览中心".into()),
        description: None,
        themes: vec!["new_energy".into(), "metallurgy".into()],
        start_time: "09:00".into(),
        slot_minutes: 20,
        slot_count: 6,
        breaks: vec![EventBreak {
            after_slot: 3,
            minutes: 15,
            label: Some("茶歇".into()),
        }],
        table_count: 4,
        table_names: vec!["A1".into()],
        seats_per_table: 4,
        max_per_enterprise: 3,
        max_per_result: 2,
        max_per_expert: 2,
        min_score: 0.25,
        status: EventStatus::Draft,
        self_service: Default::default(),
    }
}

/// An enterprise with two needs and a university with a result and an expert.
pub(crate) async fn fixture(store: &Store) -> (i64, [i64; 2], i64, i64, i64) {
    let v = Vocabulary::default();
    let ent = store
        .create(&Draft::Organization(
            input::organization(&rec(
                json!({"name": "鞍钢集团", "kind": "enterprise", "city": "鞍山"}),
            ))
            .unwrap(),
        ))
        .await
        .unwrap();
    let uni = store
        .create(&Draft::Organization(
            input::organization(&rec(
                json!({"name": "东北大学", "kind": "university", "city": "沈阳"}),
            ))
            .unwrap(),
        ))
        .await
        .unwrap();
    let n1 = store
        .create(&Draft::Need(input::need(&rec(json!({"title": "高炉煤气余热回收", "description": "d", "organization_id": ent})), &v).unwrap()))
        .await
        .unwrap();
    let n2 = store
        .create(&Draft::Need(input::need(&rec(json!({"title": "连铸坯表面缺陷检测", "description": "d", "organization_id": ent})), &v).unwrap()))
        .await
        .unwrap();
    let r = store
        .create(&Draft::Result(
            input::result(&rec(json!({"title": "低温余热发电技术", "summary": "s", "organization_id": uni, "status": "published"})), &v).unwrap(),
        ))
        .await
        .unwrap();
    let x = store
        .create(&Draft::Expert(
            input::expert(&rec(json!({"name": "王教授", "organization_id": uni})), &v).unwrap(),
        ))
        .await
        .unwrap();
    (ent, [n1, n2], uni, r, x)
}

async fn event_crud(store: &Store) {
    let id = store
        .create_event(&draft("2026 辽宁校企成果对接会"))
        .await
        .unwrap();
    let e = store.event(id).await.unwrap();
    assert_eq!(e.name, "2026 辽宁校企成果对接会");
    assert_eq!(
        e.breaks,
        vec![EventBreak {
            after_slot: 3,
            minutes: 15,
            label: Some("茶歇".into())
        }]
    );
    assert_eq!(e.themes, vec!["new_energy", "metallurgy"]);
    assert!((e.min_score - 0.25).abs() < 1e-12);
    assert_eq!(e.to_draft(), draft("2026 辽宁校企成果对接会"));

    let mut d = e.to_draft();
    d.status = EventStatus::Open;
    d.format = EventFormat::Roundtable;
    d.table_names = vec![];
    store.update_event(id, &d).await.unwrap();
    let e = store.event(id).await.unwrap();
    assert_eq!(
        (e.status.code(), e.format.code(), e.table_names.len()),
        ("open", "roundtable", 0)
    );

    let other = store.create_event(&draft("会客厅")).await.unwrap();
    let page = store.events(&EventFilter::default(), 10, 0).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].id, other, "newest first");
    let page = store
        .events(
            &EventFilter {
                status: Some(EventStatus::Open),
                format: None,
                announced_only: false,
            },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items[0].id), (1, id));
    let page = store
        .events(
            &EventFilter {
                status: None,
                format: Some(EventFormat::Fair),
                announced_only: false,
            },
            1,
            0,
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));

    store.delete_event(other).await.unwrap();
    assert!(matches!(
        store.event(other).await,
        Err(StoreError::NotFound {
            entity: "event",
            ..
        })
    ));
    assert!(matches!(
        store.delete_event(other).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.update_event(other, &d).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn participants_and_preferences(store: &Store) {
    let (ent, [n1, n2], uni, r, x) = fixture(store).await;
    let ev = store.create_event(&draft("对接会")).await.unwrap();
    let (pe, created) = store
        .add_participant(ev, ent, &[(ListingKind::Need, n1)])
        .await
        .unwrap();
    assert!(created);
    // the same organisation again adds listings to the same participant; repeats are ignored
    let (again, created) = store
        .add_participant(ev, ent, &[(ListingKind::Need, n1), (ListingKind::Need, n2)])
        .await
        .unwrap();
    assert_eq!((again, created), (pe, false));
    let out = store
        .add_participants(
            ev,
            &[(
                uni,
                vec![(ListingKind::Result, r), (ListingKind::Expert, x)],
            )],
        )
        .await
        .unwrap();
    let pu = out[0].0;
    let ps = store.participants(ev).await.unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(
        (
            ps[0].organization_name.as_str(),
            ps[0].organization_kind.as_str()
        ),
        ("鞍钢集团", "enterprise")
    );
    assert_eq!(
        ps[0].listings.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![n1, n2]
    );
    assert_eq!(ps[0].listings[0].title.as_deref(), Some("高炉煤气余热回收"));
    assert_eq!(ps[1].listings.len(), 2);
    let expert = ps[1]
        .listings
        .iter()
        .find(|l| l.kind == ListingKind::Expert)
        .unwrap();
    assert_eq!(
        (expert.title.as_deref(), expert.status.as_deref()),
        (Some("王教授"), Some("published"))
    );

    // a deleted listing shows without a title instead of failing
    store.delete_listing(ListingKind::Need, n2).await.unwrap();
    let ps = store.participants(ev).await.unwrap();
    let gone = ps[0].listings.iter().find(|l| l.id == n2).unwrap();
    assert_eq!((gone.title.as_ref(), gone.status.as_ref()), (None, None));

    // preferences: a side's second word replaces its first
    let like = PreferenceDraft {
        enterprise_id: ent,
        need_id: Some(n1),
        partner_kind: ListingKind::Result,
        partner_id: r,
        side: Side::Enterprise,
        preference: PreferenceKind::Like,
    };
    let (p1, new) = store.upsert_preference(ev, &like).await.unwrap();
    assert!(new);
    let (p1b, new) = store
        .upsert_preference(
            ev,
            &PreferenceDraft {
                preference: PreferenceKind::Must,
                ..like.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!((p1b, new), (p1, false));
    let (p2, new) = store
        .upsert_preference(
            ev,
            &PreferenceDraft {
                need_id: None,
                partner_kind: ListingKind::Expert,
                partner_id: x,
                side: Side::University,
                ..like.clone()
            },
        )
        .await
        .unwrap();
    assert!(new);
    let prefs = store.preferences(ev).await.unwrap();
    assert_eq!(prefs.len(), 2);
    assert_eq!(
        (prefs[0].preference, prefs[0].need_id),
        (PreferenceKind::Must, Some(n1))
    );
    assert_eq!(
        (prefs[1].need_id, prefs[1].partner_kind),
        (None, ListingKind::Expert)
    );
    assert_eq!(
        store.preference(ev, p2).await.unwrap().side,
        Side::University
    );
    store.delete_preference(ev, p2).await.unwrap();
    assert!(matches!(
        store.delete_preference(ev, p2).await,
        Err(StoreError::NotFound { .. })
    ));

    // removing the university removes its preferences too
    store.remove_participant(ev, pu).await.unwrap();
    assert!(store.preferences(ev).await.unwrap().is_empty());
    assert_eq!(store.participants(ev).await.unwrap().len(), 1);
    assert!(matches!(
        store.remove_participant(ev, pu).await,
        Err(StoreError::NotFound { .. })
    ));

    // deleting the event takes everything with it
    store.delete_event(ev).await.unwrap();
    assert!(store.participants(ev).await.unwrap().is_empty());
}

async fn pairings_persist_and_edits_are_versioned(store: &Store) {
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
    assert!(store.pairing_run(ev).await.unwrap().is_none());
    let meeting = |kind, id, slot, table| PairingDraft {
        enterprise_id: ent,
        need_id: n1,
        partner_kind: kind,
        partner_id: id,
        score: 0.8,
        base_score: 0.5,
        slot,
        table,
        forced: kind == ListingKind::Expert,
        origin: "solver".into(),
    };
    let rows = store
        .save_pairing(
            ev,
            r#"{"instance":1}"#,
            r#"{"report":1}"#,
            &[
                meeting(ListingKind::Expert, x, 1, 0),
                meeting(ListingKind::Result, r, 0, 2),
            ],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].slot, rows[0].table, rows[0].partner_kind),
        (0, 2, ListingKind::Result),
        "ordered by slot"
    );
    assert!(rows[1].forced && !rows[0].forced);
    assert!((rows[0].score - 0.8).abs() < 1e-12 && (rows[0].base_score - 0.5).abs() < 1e-12);
    let run = store.pairing_run(ev).await.unwrap().unwrap();
    assert_eq!(
        (run.version, run.stale, run.instance.as_str()),
        (1, false, r#"{"instance":1}"#)
    );

    // an edit against the current version applies and bumps it
    let moved = rows[0].id;
    store
        .edit_pairing(
            ev,
            1,
            &[PairingChange::Move {
                id: moved,
                slot: 2,
                table: 3,
            }],
            r#"{"report":2}"#,
        )
        .await
        .unwrap();
    let run = store.pairing_run(ev).await.unwrap().unwrap();
    assert_eq!((run.version, run.report.as_str()), (2, r#"{"report":2}"#));
    let rows = store.pairings(ev).await.unwrap();
    let m = rows.iter().find(|p| p.id == moved).unwrap();
    assert_eq!((m.slot, m.table), (2, 3));
    // a stale version is refused and changes nothing
    let err = store
        .edit_pairing(ev, 1, &[PairingChange::Delete(moved)], "{}")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "pairing_changed",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.pairings(ev).await.unwrap().len(), 2);
    // the same pair twice is a conflict, and the whole edit is rolled back
    let err = store
        .edit_pairing(
            ev,
            2,
            &[
                PairingChange::Delete(moved),
                PairingChange::Insert(meeting(ListingKind::Expert, x, 3, 0)),
            ],
            "{}",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "already_paired",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.pairings(ev).await.unwrap().len(), 2);
    assert_eq!(store.pairing_run(ev).await.unwrap().unwrap().version, 2);
    let ids = store
        .edit_pairing(
            ev,
            2,
            &[
                PairingChange::Delete(moved),
                PairingChange::Insert(meeting(ListingKind::Result, r, 4, 1)),
            ],
            "{}",
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    let rows = store.pairings(ev).await.unwrap();
    assert_eq!(
        rows.iter().map(|p| (p.slot, p.table)).collect::<Vec<_>>(),
        vec![(1, 0), (4, 1)]
    );
    assert_eq!(rows[1].id, ids[0]);
    assert!(matches!(
        store
            .edit_pairing(ev, 3, &[PairingChange::Delete(999_999)], "{}")
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // a preference change marks the pairing stale; generating again replaces everything
    let pref = PreferenceDraft {
        enterprise_id: ent,
        need_id: None,
        partner_kind: ListingKind::Result,
        partner_id: r,
        side: Side::Organizer,
        preference: PreferenceKind::No,
    };
    store.upsert_preference(ev, &pref).await.unwrap();
    assert!(store.pairing_run(ev).await.unwrap().unwrap().stale);
    let rows = store
        .save_pairing(ev, "{}", "{}", &[meeting(ListingKind::Expert, x, 0, 0)])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let run = store.pairing_run(ev).await.unwrap().unwrap();
    assert_eq!(
        (run.version, run.stale),
        (4, false),
        "versions go on across generations"
    );
    assert!(
        store.edit_pairing(ev, 3, &[], "{}").await.is_err(),
        "an edit against the old pairing is refused"
    );

    // removing the enterprise removes its meetings
    let p = store.participants(ev).await.unwrap();
    store.remove_participant(ev, p[0].id).await.unwrap();
    assert!(store.pairings(ev).await.unwrap().is_empty());
    assert!(store.pairing_run(ev).await.unwrap().unwrap().stale);
}

async fn pairing_lock_is_exclusive_and_lapses(store: &Store) {
    assert!(store.try_lock_pairing(7, "a", 60_000).await.unwrap());
    assert!(
        !store.try_lock_pairing(7, "b", 60_000).await.unwrap(),
        "held by a"
    );
    assert!(
        store.try_lock_pairing(8, "b", 60_000).await.unwrap(),
        "another event is free"
    );
    // only the holder gives it back
    store.unlock_pairing(7, "b").await.unwrap();
    assert!(!store.try_lock_pairing(7, "b", 60_000).await.unwrap());
    store.unlock_pairing(7, "a").await.unwrap();
    assert!(store.try_lock_pairing(7, "b", 60_000).await.unwrap());
    // a lock whose lease ran out (its holder was killed) is taken over
    assert!(store.try_lock_pairing(9, "killed", -1).await.unwrap());
    assert!(store.try_lock_pairing(9, "c", 60_000).await.unwrap());
    assert!(!store.try_lock_pairing(9, "killed", 60_000).await.unwrap());
}

macro_rules! both_backends {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (_dir, store) = super::sqlite().await;
                super::$name(&store).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(store) = super::postgres_or_skip(concat!("events_", stringify!($name))).await {
                    super::$name(&store).await;
                }
            }
        }
    )*};
}

both_backends!(
    event_crud,
    participants_and_preferences,
    pairings_persist_and_edits_are_versioned,
    pairing_lock_is_exclusive_and_lapses
);
