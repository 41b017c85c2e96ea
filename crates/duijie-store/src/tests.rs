//! The store suite, run against SQLite always and PostgreSQL when reachable (always in CI).

use super::*;
use crate::listings::Draft;
use duijie_domain::{ListingKind, Vocabulary, input};
use serde_json::json;

fn rec(v: serde_json::Value) -> input::Record {
    v.as_object().cloned().unwrap_or_default()
}

fn result_draft(v: serde_json::Value) -> Draft {
    Draft::Result(input::result(&rec(v), &Vocabulary::default()).expect("valid result"))
}

/// Connects to a fresh PostgreSQL database for this test, or explains why it is skipped.
/// Under `CI=true` an unreachable server fails the test instead.
pub(crate) async fn postgres_or_skip(test: &str) -> Option<Store> {
    Some(postgres_db_or_skip(test).await?.1)
}

/// [`postgres_or_skip`] with the new database's URL, for a second connection to it.
async fn postgres_db_or_skip(test: &str) -> Option<(String, Store)> {
    let base = std::env::var("DUIJIE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    install_default_drivers();
    let admin = format!("{base}/postgres");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let pool = match AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&admin)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            assert!(
                !ci,
                "PostgreSQL is required under CI=true but {admin} is unreachable: {e}"
            );
            eprintln!(
                "SKIPPED {test} on PostgreSQL: no server at {base} ({e}); set DUIJIE_TEST_PG_URL or start PostgreSQL"
            );
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let db = format!(
        "duijie_test_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000
    );
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .expect("create test database");
    pool.close().await;
    let url = format!("{base}/{db}");
    let store = Store::connect(&url)
        .await
        .expect("connect to test database");
    Some((url, store))
}

pub(crate) async fn sqlite_store() -> (tempfile::TempDir, Store) {
    sqlite().await
}

async fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite_dir(dir.path())
        .await
        .expect("open sqlite");
    (dir, store)
}

async fn crud_roundtrip(store: &Store) {
    let org = store
        .create(&Draft::Organization(
            input::organization(&rec(
                json!({"name": "大连理工大学", "kind": "university", "city": "大连市"}),
            ))
            .unwrap(),
        ))
        .await
        .unwrap();
    let o = store.organization(org).await.unwrap();
    assert_eq!(o.city.as_deref(), Some("大连"));
    assert_eq!(o.zones, vec!["coastal_belt"]);

    let seq0 = store.max_seq().await.unwrap();
    let id = store
        .create(&result_draft(json!({
            "title": "稀土金属催化剂低温制氢技术", "summary": "在 200℃ 以下实现氨分解制氢。", "organization_id": org,
            "keywords": ["制氢", "稀土"], "industry": "new_energy", "trl": 5, "transfer_modes": ["许可"],
            "price_min": 500000, "price_max": 2000000, "patents": [{"number": "ZL202310123456.7", "title": "一种催化剂"}],
            "contact": {"name": "张伟", "email": "zw@dlut.edu.cn"}
        })))
        .await
        .unwrap();
    assert!(
        store.max_seq().await.unwrap() > seq0,
        "a write appends to the change log"
    );
    let r = store.result(id).await.unwrap();
    assert_eq!(r.title, "稀土金属催化剂低温制氢技术");
    assert_eq!(r.maturity.as_deref(), Some("pilot"));
    assert_eq!(
        r.organization.as_ref().map(|o| o.name.as_str()),
        Some("大连理工大学")
    );
    assert_eq!(r.patents.len(), 1);
    assert_eq!(
        r.contact.as_ref().and_then(|c| c.email.as_deref()),
        Some("zw@dlut.edu.cn")
    );

    // list with filters and pagination
    for i in 0..5 {
        store
            .create(&result_draft(
                json!({"title": format!("成果{i}"), "summary": "s", "industry": "metallurgy"}),
            ))
            .await
            .unwrap();
    }
    let page = store
        .results(
            &ListFilter {
                industry: Some("metallurgy".into()),
                ..Default::default()
            },
            2,
            1,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].title, "成果3", "newest first, offset 1");
    let page = store
        .results(
            &ListFilter {
                city: Some("大连".into()),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);

    // update
    store
        .update(
            id,
            &result_draft(json!({"title": "新标题", "summary": "新摘要", "status": "withdrawn"})),
        )
        .await
        .unwrap();
    let r = store.result(id).await.unwrap();
    assert_eq!(
        (
            r.title.as_str(),
            r.status.as_str(),
            r.organization.is_none()
        ),
        ("新标题", "withdrawn", true)
    );

    // delete, then not found
    store.delete_listing(ListingKind::Result, id).await.unwrap();
    assert!(matches!(
        store.result(id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_listing(ListingKind::Result, id).await,
        Err(StoreError::NotFound { .. })
    ));
    let changes = store.changes_since(seq0, 1000).await.unwrap();
    assert!(
        changes.iter().filter(|c| c.2 == id).count() >= 3,
        "create, update, delete are all logged"
    );
}

async fn constraints(store: &Store) {
    let org = Draft::Organization(
        input::organization(&rec(
            json!({"name": "鞍钢集团", "kind": "enterprise", "city": "鞍山"}),
        ))
        .unwrap(),
    );
    let id = store.create(&org).await.unwrap();
    assert!(matches!(
        store.create(&org).await,
        Err(StoreError::Conflict {
            code: "duplicate_name",
            ..
        })
    ));
    let need = Draft::Need(
        input::need(
            &rec(json!({"title": "高炉煤气余热回收", "description": "d", "organization_id": id})),
            &Vocabulary::default(),
        )
        .unwrap(),
    );
    store.create(&need).await.unwrap();
    assert!(matches!(
        store.delete_organization(id).await,
        Err(StoreError::Conflict {
            code: "organization_in_use",
            ..
        })
    ));
    let bad = result_draft(json!({"title": "t", "summary": "s", "organization_id": 999_999}));
    assert!(matches!(
        store.create(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    // renaming the organisation re-indexes its listings
    let seq = store.max_seq().await.unwrap();
    store
        .update(
            id,
            &Draft::Organization(
                input::organization(&rec(
                    json!({"name": "鞍钢集团有限公司", "kind": "enterprise"}),
                ))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let changes = store.changes_since(seq, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].1, ListingKind::Need);
}

async fn import_is_idempotent(store: &Store) {
    let batch: Vec<Draft> = (0..50)
        .map(|i| result_draft(json!({"external_id": format!("X-{i}"), "title": format!("成果 {i}"), "summary": "摘要", "organization": "辽宁科技大学"})))
        .collect();
    let first = store.import_batch(&batch).await.unwrap();
    assert!(
        first
            .iter()
            .all(|o| matches!(o, ImportOutcome::Inserted(_)))
    );
    let second = store.import_batch(&batch).await.unwrap();
    assert!(
        second
            .iter()
            .all(|o| matches!(o, ImportOutcome::Updated(_)))
    );
    assert_eq!(store.count(ListingKind::Result).await.unwrap(), 50);
    assert_eq!(
        store.count_organizations().await.unwrap(),
        1,
        "organisation created once by name"
    );
    // a failing record does not lose its neighbours
    let mixed = vec![
        result_draft(json!({"external_id": "Y-1", "title": "好", "summary": "s"})),
        result_draft(
            json!({"external_id": "Y-2", "title": "坏", "summary": "s", "organization_external_id": "NOPE"}),
        ),
        result_draft(json!({"external_id": "Y-3", "title": "好", "summary": "s"})),
    ];
    let out = store.import_batch(&mixed).await.unwrap();
    assert!(matches!(out[0], ImportOutcome::Inserted(_)));
    assert!(
        matches!(
            out[1],
            ImportOutcome::Failed {
                code: "not_found",
                ..
            }
        ),
        "{:?}",
        out
    );
    assert!(matches!(out[2], ImportOutcome::Inserted(_)));
    // a constraint violation mid-batch (two organisations, one name) falls back per record
    let orgs = vec![
        Draft::Organization(
            input::organization(&rec(json!({"external_id": "O-1", "name": "东软集团"}))).unwrap(),
        ),
        Draft::Organization(
            input::organization(&rec(json!({"external_id": "O-2", "name": "沈阳新松"}))).unwrap(),
        ),
        Draft::Organization(
            input::organization(&rec(json!({"external_id": "O-3", "name": "东软集团"}))).unwrap(),
        ),
    ];
    let out = store.import_batch(&orgs).await.unwrap();
    assert!(matches!(out[0], ImportOutcome::Inserted(_)));
    assert!(matches!(out[1], ImportOutcome::Inserted(_)));
    assert!(
        matches!(
            out[2],
            ImportOutcome::Failed {
                code: "duplicate_name",
                ..
            }
        ),
        "{:?}",
        out[2]
    );
    assert_eq!(store.count_organizations().await.unwrap(), 3);
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
                if let Some(store) = super::postgres_or_skip(stringify!($name)).await {
                    super::$name(&store).await;
                }
            }
        }
    )*};
}

both_backends!(crud_roundtrip, constraints, import_is_idempotent);

/// Two servers on one PostgreSQL database: while one server's listing write is open with a
/// change numbered `s`, another server's write may not commit a change numbered after `s`,
/// or an index following the log (`changes_since` from its position) would pass `s` and
/// never index that write.
#[tokio::test]
async fn postgres_changes_commit_in_sequence_order_across_servers() {
    let test = "postgres_changes_commit_in_sequence_order_across_servers";
    let Some((url, reader)) = postgres_db_or_skip(test).await else {
        return;
    };
    let other = Store::connect(&url).await.expect("second server");
    let org = reader
        .create(&Draft::Organization(
            input::organization(&rec(
                json!({"name": "本溪钢铁", "kind": "enterprise", "city": "本溪"}),
            ))
            .unwrap(),
        ))
        .await
        .unwrap();
    let start = reader.max_seq().await.unwrap();
    // the first server is inside a listing write: it took the change-log lock, as every
    // listing write does first
    let mut first = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mut tx = sqlx::Connection::begin(&mut first).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHANGE_LOG_LOCK)
        .execute(&mut *tx)
        .await
        .unwrap();
    // the second server writes a need meanwhile
    let need = Draft::Need(
        input::need(
            &rec(
                json!({"title": "轧钢加热炉燃烧优化", "description": "d", "organization_id": org}),
            ),
            &Vocabulary::default(),
        )
        .unwrap(),
    );
    let write = tokio::spawn(async move { other.create(&need).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = reader.changes_since(start, 100).await.unwrap();
    assert!(
        seen.is_empty(),
        "a change committed while another server's listing write was open: {seen:?}"
    );
    // only now does the first server number its change: the second write, waiting, must
    // not have numbered its own before it (or it would commit a lower number later)
    let row = sqlx::query(
        "INSERT INTO change_log (entity, entity_id, at) VALUES ('need', 424242, 'now') RETURNING seq",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let open: i64 = sqlx::Row::try_get(&row, "seq").unwrap();
    tx.commit().await.unwrap();
    let id = write.await.unwrap().expect("the second write goes through");
    let seen = reader.changes_since(start, 100).await.unwrap();
    assert_eq!(
        seen.iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(),
        [(ListingKind::Need, 424242), (ListingKind::Need, id)],
        "{seen:?}"
    );
    assert_eq!(seen[0].0, open);
    assert!(seen[1].0 > open, "{seen:?}");
}

#[test]
fn database_urls_are_redacted() {
    assert_eq!(
        redact_url("postgres://u:secret@h:5432/db"),
        "postgres://u:***@h:5432/db"
    );
    assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    assert!(matches!(
        Store::connect("mysql://x").await,
        Err(StoreError::Config(_))
    ));
}
