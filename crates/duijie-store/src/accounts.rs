//! Users, web sessions, API tokens and the audit log. The store only ever sees hashes of
//! passwords, session ids and tokens; hashing and checking are the server's job.

use crate::{Page, Store, StoreError, now};
use duijie_domain::Role;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A user as everyone but the password check sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Store id.
    pub id: i64,
    /// E-mail address, the sign-in name (stored lowercased).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// What the account may do.
    pub role: Role,
    /// The organisation the user belongs to.
    pub organization_id: Option<i64>,
    /// Its name.
    pub organization_name: Option<String>,
    /// A disabled user can neither sign in nor use tokens.
    pub disabled: bool,
    /// `active`, `pending_verification`, `pending_approval` or `rejected`: only active
    /// accounts sign in.
    pub status: String,
    /// Administers its organisation: approves who asks to join it.
    pub org_admin: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// E-mail address (lowercased by the caller).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organization_id: Option<i64>,
    /// Argon2id PHC string; `None` for a user who signs in with tokens only.
    pub password_hash: Option<String>,
}

/// An API token as listed (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Store id.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// What it is for.
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_used_at: Option<String>,
    /// RFC 3339, when revoked.
    pub revoked_at: Option<String>,
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who (absent for the command line and the demo loader).
    pub user_id: Option<i64>,
    /// A readable name of who: the user's e-mail, `cli`, `demo`.
    pub actor: String,
    /// `create`, `update`, `delete`, `import`, `generate`...
    pub action: String,
    /// `result`, `need`, `event`, `user`...
    pub entity: String,
    /// The record's id, when there is one.
    pub entity_id: Option<i64>,
    /// The record before the change, as JSON.
    pub before: Option<String>,
    /// The record after the change, as JSON.
    pub after: Option<String>,
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// Sequence number.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// Who.
    pub user_id: Option<i64>,
    /// Readable name of who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what kind of record.
    pub entity: String,
    /// Which record.
    pub entity_id: Option<i64>,
    /// Before, as JSON.
    pub before: Option<serde_json::Value>,
    /// After, as JSON.
    pub after: Option<serde_json::Value>,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.organization_id, o.name AS organization_name, u.disabled, u.status, u.org_admin, u.created_at, u.updated_at";

pub(crate) fn user_row(r: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: crate::events::code_of(r, "role")?,
        organization_id: r.try_get("organization_id")?,
        organization_name: r.try_get("organization_name")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        status: r.try_get("status")?,
        org_admin: r.try_get::<i64, _>("org_admin")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn token_row(r: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn json_of(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

impl Store {
    /// Creates a user; an e-mail address already in use is a conflict.
    pub async fn create_user(&self, u: &NewUser) -> Result<i64, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let id = insert_user(&mut tx, u, crate::STATUS_ACTIVE).await?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        Ok(id)
    }

    /// One user.
    pub async fn user(&self, id: i64) -> Result<User, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1"
        );
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => user_row(&r),
            None => Err(StoreError::NotFound {
                entity: "user",
                id: id.to_string(),
            }),
        }
    }

    /// A user by e-mail with the password hash, for signing in.
    pub async fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u LEFT JOIN organizations o ON o.id = u.organization_id WHERE u.email = $1"
        );
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => Ok(Some((user_row(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    /// Users, newest first.
    pub async fn users(&self, limit: i64, offset: i64) -> Result<Page<User>, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN organizations o ON o.id = u.organization_id ORDER BY u.id DESC LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(Page {
            items: rows.iter().map(user_row).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// Replaces a user's password hash and ends all their sessions but `keep`.
    pub async fn set_password(
        &self,
        user_id: i64,
        hash: &str,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        let _accounts = self.accounts_write();
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now().as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "user",
                id: user_id.to_string(),
            });
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Changes a user's role, organisation, disabled flag or whether it administers its
    /// organisation; disabling ends their sessions.
    pub async fn update_user(
        &self,
        id: i64,
        role: Role,
        organization_id: Option<i64>,
        disabled: bool,
        org_admin: bool,
    ) -> Result<(), StoreError> {
        let _accounts = self.accounts_write();
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let n = sqlx::query(
            "UPDATE users SET role = $1, organization_id = $2, disabled = $3, org_admin = $4, updated_at = $5 WHERE id = $6",
        )
        .persistent(false)
        .bind(role.code())
        .bind(organization_id)
        .bind(i64::from(disabled))
        .bind(i64::from(org_admin))
        .bind(now().as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "user",
                id: id.to_string(),
            });
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// Starts a web session.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        // expired sessions are cleaned up as new ones start
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(ts.as_str())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(ts.as_str())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user and CSRF token of a live session of an enabled user.
    pub async fn session(&self, id_hash: &str) -> Result<Option<(User, String)>, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS}, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN organizations o ON o.id = u.organization_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = 0 AND u.status = 'active'"
        );
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id_hash)
            .bind(now().as_str())
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => Ok(Some((user_row(&r)?, r.try_get("csrf")?))),
            None => Ok(None),
        }
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a new API token's hash.
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        prefix: &str,
    ) -> Result<ApiToken, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(prefix)
        .bind(now().as_str())
        .fetch_one(&mut *tx)
        .await?;
        let token = token_row(&row)?;
        crate::commit(tx).await?;
        Ok(token)
    }

    /// The enabled user owning a live token, recording its use.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS}, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             LEFT JOIN organizations o ON o.id = u.organization_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0 AND u.status = 'active'"
        );
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let user = user_row(&r)?;
        let token_id: i64 = r.try_get("token_id")?;
        let last: Option<String> = r.try_get("last_used_at")?;
        let ts = now();
        // one write a minute at most per token, not one per request
        if last.as_deref().is_none_or(|l| l.get(..16) != ts.get(..16)) {
            let _g = self.write_lock.lock().await;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(ts.as_str())
                .bind(token_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(user))
    }

    /// A user's tokens, newest first.
    pub async fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }

    /// Revokes one of a user's tokens; someone else's token is "not found".
    pub async fn revoke_token(&self, user_id: i64, id: i64) -> Result<(), StoreError> {
        let _accounts = self.accounts_write();
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now().as_str())
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "token",
                id: id.to_string(),
            });
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// Attempts logged under a key (its hash) at or after `since` (RFC 3339).
    pub async fn attempts_since(&self, key_hash: &str, since: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM attempt_log WHERE key_hash = $1 AND at >= $2")
                .bind(key_hash)
                .bind(since)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    /// Logs an attempt under each key, and forgets attempts older than `forget_before`.
    pub async fn log_attempts(
        &self,
        key_hashes: &[&str],
        forget_before: &str,
    ) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let ts = now();
        for k in key_hashes {
            sqlx::query("INSERT INTO attempt_log (key_hash, at) VALUES ($1, $2)")
                .bind(*k)
                .bind(ts.as_str())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM attempt_log WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Forgets the attempts under a key (a successful sign-in).
    pub async fn clear_attempts(&self, key_hash: &str) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query("DELETE FROM attempt_log WHERE key_hash = $1")
            .bind(key_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a change on its own (a change made outside a store transaction; see
    /// [`crate::audited`] for the rest).
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        insert_audit(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, newest first, optionally of one kind of record (and one record).
    pub async fn audit_log(
        &self,
        entity: Option<&str>,
        entity_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let filter = "($1 = '' OR entity = $1) AND ($2 = 0 OR entity_id = $2)";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, at, user_id, actor, action, entity, entity_id, before, after FROM audit_log WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(entity.unwrap_or(""))
        .bind(entity_id.unwrap_or(0))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE {filter}"
        )))
        .bind(entity.unwrap_or(""))
        .bind(entity_id.unwrap_or(0))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(AuditRecord {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    user_id: r.try_get("user_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    before: json_of(r.try_get("before")?),
                    after: json_of(r.try_get("after")?),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }
}

/// Writes an audit entry inside a transaction.
pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, action, entity, entity_id, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .persistent(false) // optional parameters: a prepared statement would fix their types
    .bind(now().as_str())
    .bind(e.user_id)
    .bind(e.actor.as_str())
    .bind(e.action.as_str())
    .bind(e.entity.as_str())
    .bind(e.entity_id)
    .bind(e.before.as_deref())
    .bind(e.after.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts an account in a status; an e-mail address already in use is a conflict.
pub(crate) async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    u: &NewUser,
    status: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO users (email, name, role, organization_id, password_hash, disabled, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7) RETURNING id",
    )
    .persistent(false) // optional parameters: a prepared statement would fix their types
    .bind(u.email.as_str())
    .bind(u.name.as_deref())
    .bind(u.role.code())
    .bind(u.organization_id)
    .bind(u.password_hash.as_deref())
    .bind(status)
    .bind(now().as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::Conflict {
                code: "email_taken",
                message: format!(
                    "邮箱 {} 已被注册 / the e-mail address {} is already registered",
                    u.email, u.email
                ),
            }
        } else {
            e.into()
        }
    })?;
    Ok(row.try_get("id")?)
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::accounts::{AuditEntry, NewUser};
    use crate::tests::{postgres_or_skip, sqlite_store};
    use duijie_domain::Role;

    async fn accounts_roundtrip(store: &Store) {
        let id = store
            .create_user(&NewUser {
                email: "li@example.com".into(),
                name: Some("李工".into()),
                role: Role::Enterprise,
                organization_id: None,
                password_hash: Some("$argon2id$v=19$fake".into()),
            })
            .await
            .unwrap();
        let again = store
            .create_user(&NewUser {
                email: "li@example.com".into(),
                name: None,
                role: Role::Admin,
                organization_id: None,
                password_hash: None,
            })
            .await;
        assert!(
            matches!(
                again,
                Err(crate::StoreError::Conflict {
                    code: "email_taken",
                    ..
                })
            ),
            "{again:?}"
        );
        let (u, hash) = store
            .user_by_email("li@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(u.id, id);
        assert_eq!(hash.as_deref(), Some("$argon2id$v=19$fake"));
        // sessions expire and end with a password change
        store
            .create_session("s1", id, "c1", "2999-01-01T00:00:00.000Z")
            .await
            .unwrap();
        store
            .create_session("s2", id, "c2", "2999-01-01T00:00:00.000Z")
            .await
            .unwrap();
        store
            .create_session("old", id, "c3", "2000-01-01T00:00:00.000Z")
            .await
            .unwrap();
        assert_eq!(store.session("s1").await.unwrap().unwrap().1, "c1");
        assert!(store.session("old").await.unwrap().is_none(), "expired");
        store.set_password(id, "new", Some("s1")).await.unwrap();
        assert!(store.session("s1").await.unwrap().is_some(), "kept");
        assert!(store.session("s2").await.unwrap().is_none(), "others ended");
        // tokens: found by hash, revoked only by their owner
        let t = store
            .create_token(id, "脚本", "h1", "dj_abcd")
            .await
            .unwrap();
        assert_eq!(store.token_user("h1").await.unwrap().unwrap().id, id);
        assert!(store.token_user("h2").await.unwrap().is_none());
        assert!(store.revoke_token(id + 1, t.id).await.is_err());
        store.revoke_token(id, t.id).await.unwrap();
        assert!(store.token_user("h1").await.unwrap().is_none());
        assert!(store.tokens(id).await.unwrap()[0].revoked_at.is_some());
        // disabling a user ends sessions and tokens
        store.create_token(id, "b", "h3", "dj_x").await.unwrap();
        store
            .update_user(id, Role::Enterprise, None, true, false)
            .await
            .unwrap();
        assert!(store.session("s1").await.unwrap().is_none());
        assert!(store.token_user("h3").await.unwrap().is_none());
        // the audit log keeps before and after
        store
            .audit(&AuditEntry {
                user_id: Some(id),
                actor: "li@example.com".into(),
                action: "update".into(),
                entity: "need".into(),
                entity_id: Some(7),
                before: Some(r#"{"title":"a"}"#.into()),
                after: Some(r#"{"title":"b"}"#.into()),
            })
            .await
            .unwrap();
        let log = store.audit_log(Some("need"), Some(7), 10, 0).await.unwrap();
        assert_eq!(log.total, 1);
        assert_eq!(log.items[0].after.as_ref().unwrap()["title"], "b");
        assert_eq!(
            store
                .audit_log(Some("result"), None, 10, 0)
                .await
                .unwrap()
                .total,
            0
        );
    }

    #[tokio::test]
    async fn accounts_on_sqlite() {
        let (_dir, store) = sqlite_store().await;
        accounts_roundtrip(&store).await;
    }

    #[tokio::test]
    async fn accounts_on_postgres() {
        if let Some(store) = postgres_or_skip("accounts_roundtrip").await {
            accounts_roundtrip(&store).await;
        }
    }
}
