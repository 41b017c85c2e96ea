//! The audit log is written in the transaction that makes the change: every acknowledged
//! change has its entry (event writes with the event before and what was asked), a change
//! that rolls back has none, and when the entry cannot be written the change is not made
//! either. On SQLite and on PostgreSQL.

use crate::helpers::*;
use serde_json::{Value, json};

async fn entries(app: &TestApp, entity: &str, id: i64) -> Vec<Value> {
    let (s, log) = app
        .get(&format!(
            "/api/v1/audit?entity={entity}&entity_id={id}&limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{log}");
    log["items"].as_array().cloned().unwrap_or_default()
}

async fn audit_is_atomic(app: &TestApp, db: &str, postgres: bool) {
    // acknowledged changes: one entry each, naming the record a creation made
    let (s, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "审计测试企业", "kind": "enterprise"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    let (s, need) = app
        .post(
            "/api/v1/needs",
            &json!({"title": "余热回收", "description": "高炉煤气余热回收发电", "organization_id": org_id}),
        )
        .await;
    assert_eq!(s, 201, "{need}");
    let need_id = need["id"].as_i64().unwrap();
    let (s, _) = app
        .patch(
            &format!("/api/v1/needs/{need_id}"),
            &json!({"title": "余热发电"}),
        )
        .await;
    assert_eq!(s, 200);
    let log = entries(app, "need", need_id).await;
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["update", "create"], "{log:?}");
    assert_eq!(log[0]["before"]["title"], "余热回收");
    assert_eq!(log[0]["after"]["title"], "余热发电");

    // a change that rolls back leaves no entry: renaming to a taken name
    let (s, other) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "另一家企业", "kind": "enterprise"}),
        )
        .await;
    assert_eq!(s, 201);
    let other_id = other["id"].as_i64().unwrap();
    let (s, e) = app
        .patch(
            &format!("/api/v1/organizations/{other_id}"),
            &json!({"name": "审计测试企业"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let log = entries(app, "organization", other_id).await;
    assert_eq!(log.len(), 1, "only the creation: {log:?}");

    // event writes: the event before and what was asked
    let (s, ev) = app
        .post(
            "/api/v1/events",
            &json!({"name": "审计对接会", "format": "fair", "date": "2026-05-01", "slot_count": 2, "table_count": 2}),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    let ev_id = ev["id"].as_i64().unwrap();
    let (s, _) = app
        .patch(
            &format!("/api/v1/events/{ev_id}"),
            &json!({"name": "审计对接会（改期）"}),
        )
        .await;
    assert_eq!(s, 200);
    let log = entries(app, "event", ev_id).await;
    let patch = log
        .iter()
        .find(|e| e["action"].as_str().is_some_and(|a| a.starts_with("PATCH")))
        .unwrap_or_else(|| panic!("the event edit is audited: {log:?}"));
    assert_eq!(patch["before"]["name"], "审计对接会");
    assert_eq!(patch["after"]["name"], "审计对接会（改期）");

    // when the entry cannot be written, the change is not made either
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db)
        .await
        .expect("the test reads the store");
    let refuse = if postgres {
        vec![
            "CREATE FUNCTION audit_refuses() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit log refuses'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuses()",
        ]
    } else {
        vec![
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log refuses'); END",
        ]
    };
    for q in refuse {
        sqlx::query(sqlx::AssertSqlSafe(q))
            .execute(&pool)
            .await
            .unwrap();
    }
    let (s, _) = app
        .patch(
            &format!("/api/v1/needs/{need_id}"),
            &json!({"title": "不应保存的标题"}),
        )
        .await;
    assert!(s >= 500, "the write fails with its entry: {s}");
    let (_, now) = app.get(&format!("/api/v1/needs/{need_id}")).await;
    assert_eq!(
        now["title"], "余热发电",
        "the change rolled back with its entry"
    );
    let drop = if postgres {
        "DROP TRIGGER audit_refuses ON audit_log"
    } else {
        "DROP TRIGGER audit_refuses"
    };
    sqlx::query(drop).execute(&pool).await.unwrap();
    pool.close().await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/needs/{need_id}"),
            &json!({"title": "恢复后的标题"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(entries(app, "need", need_id).await.len(), 3);
}

#[tokio::test]
async fn audit_entries_commit_with_their_change_on_sqlite() {
    let app = spawn_app().await;
    let db = format!(
        "sqlite://{}",
        app.ctx.settings.data.dir.join("duijie.db").display()
    );
    audit_is_atomic(&app, &db, false).await;
}

#[tokio::test]
async fn audit_entries_commit_with_their_change_on_postgresql() {
    let Some(db) = crate::replicas::fresh_database("audit atomicity on PostgreSQL").await else {
        return;
    };
    let app = spawn_with(|s| s.database.url = db.clone()).await;
    audit_is_atomic(&app, &db, true).await;
}
