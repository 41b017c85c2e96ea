//! Who is calling: an API token's user, a web session's user, the command line, or nobody.
//! The server resolves the caller of every request through [`user_of_token`] and
//! [`user_of_session`]; services take a [`Caller`] and [`crate::authz`] decides what it
//! may do.
//!
//! Secrets never reach the store or the logs in clear: passwords are hashed with argon2id,
//! session ids and API tokens (256 bits of randomness each) with SHA-256, and only the
//! hashes are stored. Failed sign-ins are counted per account and per client address.

use crate::app::App;
use crate::codes::Code;
use crate::error::AppError;
use duijie_domain::{Role, Viewer};
use duijie_store::User;
use std::net::IpAddr;
use std::time::Duration;

/// Roles, with their Chinese names.
pub const ROLES: &[(&str, &str)] = Role::TABLE;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Nothing.
    Anonymous,
    /// An API token.
    Token,
    /// A web session; its id hash and CSRF token.
    Session {
        /// SHA-256 of the session id.
        id_hash: String,
        /// The token forms must carry.
        csrf: String,
    },
    /// The command line or the server itself (demo data), which run with the data
    /// directory's owner's rights.
    Local(&'static str),
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The signed-in user.
    pub user: Option<User>,
    /// How.
    pub via: Via,
    /// The request came over TLS (cookies get the Secure flag).
    pub secure: bool,
    /// The client's address.
    pub peer: Option<IpAddr>,
    /// The pre-session CSRF cookie, for the sign-in form.
    pub csrf_cookie: Option<String>,
}

impl Caller {
    /// Nobody.
    pub fn anonymous() -> Caller {
        Caller {
            user: None,
            via: Via::Anonymous,
            secure: false,
            peer: None,
            csrf_cookie: None,
        }
    }

    /// The command line or the server itself (`cli`, `demo`).
    pub fn local(name: &'static str) -> Caller {
        Caller {
            via: Via::Local(name),
            ..Caller::anonymous()
        }
    }

    /// A signed-in user (tests and tools that act for a user).
    pub fn user(user: User, via: Via) -> Caller {
        Caller {
            user: Some(user),
            via,
            ..Caller::anonymous()
        }
    }

    /// What the caller may read: contact details only when signed in.
    pub fn viewer(&self) -> Viewer {
        if self.user.is_some() || matches!(self.via, Via::Local(_)) {
            Viewer::SignedIn
        } else {
            Viewer::Public
        }
    }

    /// The signed-in user, or 401.
    pub fn require(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or_else(AppError::unauthenticated)
    }

    /// The role, when signed in.
    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    /// Who, for the audit log.
    pub fn actor(&self) -> String {
        match (&self.user, &self.via) {
            (Some(u), _) => u.email.clone(),
            (None, Via::Local(name)) => (*name).to_string(),
            _ => "anonymous".into(),
        }
    }

    /// The CSRF token a form from this caller must carry, if any can be checked.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Anonymous => self.csrf_cookie.as_deref(),
            _ => None,
        }
    }
}

/// The user of an API token (already stripped of `Bearer `): `Ok(None)` when the token is
/// unknown or revoked.
pub async fn user_of_token(app: &App, token: &str) -> Result<Option<User>, AppError> {
    let hash = sha256_hex(token);
    let generation = app.store.accounts_generation();
    if let Some(user) = app.tokens.get(&hash, generation) {
        return Ok(Some(user));
    }
    let user = app.store.token_user(&hash).await?;
    if let Some(u) = &user {
        app.tokens.put(hash, u.clone(), generation);
    }
    Ok(user)
}

/// How long [`TokenCache`] keeps who a token belongs to: a token revoked, or an account
/// disabled or changed, through another server stops working within this time (through
/// this one, at once).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);

/// Entries kept at most; past it the cache starts again empty.
const TOKEN_CACHE_MAX: usize = 10_000;

/// Who recently seen bearer tokens belong to, so that a client sending many requests costs
/// one store lookup a second rather than one per request. Only tokens found are kept (an
/// unknown token always asks the store), and an entry read before this process's last
/// write to users or tokens ([`duijie_store::Store::accounts_generation`]) is not used.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (User, std::time::Instant, u64)>>,
}

impl TokenCache {
    fn get(&self, hash: &str, generation: u64) -> Option<User> {
        let entries = self.entries.lock().ok()?;
        let (user, at, g) = entries.get(hash)?;
        (*g == generation && at.elapsed() < TOKEN_CACHE_TTL).then(|| user.clone())
    }

    fn put(&self, hash: String, user: User, generation: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (user, std::time::Instant::now(), generation));
        }
    }
}

/// The user and CSRF token of a session cookie's value: `Ok(None)` when the session is
/// unknown or expired.
pub async fn user_of_session(
    app: &App,
    session_id: &str,
) -> Result<Option<(User, String, String)>, AppError> {
    let id_hash = sha256_hex(session_id);
    Ok(app
        .store
        .session(&id_hash)
        .await?
        .map(|(user, csrf)| (user, id_hash, csrf)))
}

// ---------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, AppError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// SHA-256 of a string as lowercase hex.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// A new API token: `(token, its hash, the prefix shown in lists)`.
pub fn new_token() -> Result<(String, String, String), AppError> {
    let token = format!("dj_{}", random_hex(32)?);
    let hash = sha256_hex(&token);
    let prefix = token.chars().take(9).collect();
    Ok((token, hash, prefix))
}

/// Shortest and longest accepted password, characters.
pub const PASSWORD_LEN: (usize, usize) = (10, 200);

/// Checks a new password's length.
pub fn check_new_password(pw: &str) -> Result<(), AppError> {
    let n = pw.chars().count();
    if n < PASSWORD_LEN.0 || n > PASSWORD_LEN.1 {
        return Err(AppError::bad_request(
            Code::WEAK_PASSWORD,
            format!(
                "密码长度应为 {} 到 {} 个字符",
                PASSWORD_LEN.0, PASSWORD_LEN.1
            ),
            format!(
                "a password must have {} to {} characters",
                PASSWORD_LEN.0, PASSWORD_LEN.1
            ),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id (a PHC string with its own random salt). CPU-heavy:
/// call it off the async runtime.
pub fn hash_password(pw: &str) -> Result<String, AppError> {
    use argon2::PasswordHasher;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)
        .map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing: {e}")))
}

/// Checks a password against a PHC string. CPU-heavy: call it off the async runtime.
pub fn verify_password(pw: &str, phc: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::password_hash::PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(pw.as_bytes(), &h)
            .is_ok()
    })
}

/// Hashes a password on the blocking pool.
pub async fn hash_password_async(pw: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(&pw)).await?
}

// ---------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------

/// Attempts per key (an account, an address) within a window, counted in the store so that
/// every server on one database sees the same count: five failed sign-ins spread over two
/// replicas lock the account on both. Keys are stored as hashes.
#[derive(Debug, Default)]
pub struct Limiter;

/// The longest window any limit uses; older attempts are forgotten.
const LONGEST_WINDOW: Duration = Duration::from_secs(24 * 3600);

fn ago(d: Duration) -> String {
    (chrono::Utc::now() - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Limiter {
    /// Attempts under `key` within `window`.
    pub(crate) async fn count(
        &self,
        ctx: &App,
        key: &str,
        window: Duration,
    ) -> Result<usize, AppError> {
        let n = ctx
            .store
            .attempts_since(&sha256_hex(key), &ago(window))
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Logs an attempt under each key.
    pub(crate) async fn fail(&self, ctx: &App, keys: &[&str]) -> Result<(), AppError> {
        let hashes: Vec<String> = keys.iter().map(|k| sha256_hex(k)).collect();
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        ctx.store.log_attempts(&refs, &ago(LONGEST_WINDOW)).await?;
        Ok(())
    }

    /// Forgets the attempts under `key`.
    pub(crate) async fn clear(&self, ctx: &App, key: &str) -> Result<(), AppError> {
        Ok(ctx.store.clear_attempts(&sha256_hex(key)).await?)
    }
}

/// A started session: the cookie value (the only place the id exists in clear) and the user.
pub struct SignedIn {
    /// The session id for the cookie.
    pub session_id: String,
    /// Who.
    pub user: User,
}

/// A PHC string to check against when the e-mail is unknown, so a wrong address takes as
/// long as a wrong password.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

/// Checks e-mail and password and starts a session.
pub async fn sign_in(
    ctx: &App,
    email: &str,
    password: &str,
    peer: Option<IpAddr>,
) -> Result<SignedIn, AppError> {
    let email = email.trim().to_lowercase();
    let a = &ctx.settings.auth;
    let window = Duration::from_secs(a.lockout_minutes * 60);
    let acct = format!("account:{email}");
    let addr = format!(
        "address:{}",
        peer.map(|p| p.to_string()).unwrap_or_default()
    );
    if ctx.limiter.count(ctx, &acct, window).await? >= a.max_failures_per_account
        || ctx.limiter.count(ctx, &addr, window).await? >= a.max_failures_per_address
    {
        return Err(AppError::TooManyRequests(format!(
            "登录失败次数过多，请 {} 分钟后再试 / too many failed sign-ins; try again in {} minutes",
            a.lockout_minutes, a.lockout_minutes
        )));
    }
    let found = ctx.store.user_by_email(&email).await?;
    let (user, phc) = match found {
        Some((u, Some(h))) if !u.disabled && u.status == duijie_store::STATUS_ACTIVE => {
            (Some(u), h)
        }
        _ => (None, dummy_hash().to_string()),
    };
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await?;
    let Some(user) = user.filter(|_| ok) else {
        ctx.limiter.fail(ctx, &[&acct, &addr]).await?;
        tracing::info!(account = %email, "failed sign-in");
        return Err(AppError::Unauthorized {
            code: Code::INVALID_CREDENTIALS,
            message: "邮箱或密码不正确 / wrong e-mail address or password".into(),
        });
    };
    ctx.limiter.clear(ctx, &acct).await?;
    let session_id = random_hex(32)?;
    let csrf = random_hex(16)?;
    let expires = chrono::Utc::now() + chrono::Duration::hours(a.session_hours as i64);
    ctx.store
        .create_session(
            &sha256_hex(&session_id),
            user.id,
            &csrf,
            &expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .await?;
    tracing::info!(user = user.id, "signed in");
    Ok(SignedIn { session_id, user })
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_token_owner_is_dropped_after_an_account_write_or_a_second() {
        let user = User {
            id: 7,
            email: "li@test.example".into(),
            name: None,
            role: Role::Enterprise,
            organization_id: Some(3),
            organization_name: Some("沈阳机床厂".into()),
            disabled: false,
            status: "active".into(),
            org_admin: false,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let cache = TokenCache::default();
        assert_eq!(cache.get("h", 0), None, "nothing before the first lookup");
        cache.put("h".into(), user.clone(), 4);
        assert_eq!(cache.get("h", 4), Some(user.clone()));
        assert_eq!(cache.get("other", 4), None);
        assert_eq!(
            cache.get("h", 5),
            None,
            "a revocation or account change in this process is seen at once"
        );
        std::thread::sleep(TOKEN_CACHE_TTL + Duration::from_millis(50));
        assert_eq!(
            cache.get("h", 4),
            None,
            "another server's revocation is seen within the time to live"
        );
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (t1, h1, p1) = new_token().unwrap();
        let (t2, _, _) = new_token().unwrap();
        assert_ne!(t1, t2);
        assert!(t1.starts_with("dj_") && t1.len() == 67, "{t1}");
        assert_eq!(h1, sha256_hex(&t1));
        assert_ne!(h1, t1);
        assert!(t1.starts_with(&p1));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
