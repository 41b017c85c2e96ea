//! Settings: the embedded `config/default.toml`, then an optional file (`--config` or
//! `config/local.toml` in the working directory), then `DUIJIE__SECTION__KEY` environment
//! variables, then command-line flags (applied by the caller). The only place that reads
//! the environment.

use serde::Deserialize;
use std::path::PathBuf;

const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// The whole settings tree.
#[derive(Clone, Deserialize)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Data directory.
    pub data: DataSettings,
    /// Relational store.
    pub database: DatabaseSettings,
    /// Search index.
    pub index: IndexSettings,
    /// Chinese analysis.
    pub text: TextSettings,
    /// Demo data.
    pub demo: DemoSettings,
    /// Logging.
    pub log: LogSettings,
    /// Bulk import.
    pub import: ImportSettings,
    /// Industries added to the programme's list.
    #[serde(default)]
    pub industries: IndustrySettings,
    /// Matching.
    #[serde(default)]
    pub matching: MatchingSettings,
    /// Accounts and sign-in.
    #[serde(default)]
    pub auth: AuthSettings,
    /// The programme's targets shown on the dashboard.
    #[serde(default)]
    pub dashboard: DashboardSettings,
    /// Match alerts and their webhook deliveries.
    #[serde(default)]
    pub alerts: AlertSettings,
    /// Outgoing mail.
    #[serde(default)]
    pub mail: MailSettings,
    /// Self-service sign-up, invitations and password resets.
    #[serde(default)]
    pub signup: SignupSettings,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// Connection requests and the follow-up after them.
    #[serde(default)]
    pub connections: ConnectionSettings,
    /// Who sees contact details.
    #[serde(default)]
    pub privacy: PrivacySettings,
}

/// Connection requests (`[connections]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// Open (unanswered) requests one user may have sent.
    pub max_open_per_user: i64,
    /// Requests one user may send in 24 hours.
    pub max_per_day: i64,
    /// Days a request waits for an answer before it expires.
    pub expire_days: f64,
    /// Days before expiry the recipient is reminded.
    pub remind_days_before: f64,
    /// Days after acceptance the meeting question is asked when no meeting was set.
    pub feedback_days_without_meeting: f64,
    /// Days after the meeting of the first follow-up (intention, contract).
    pub first_follow_up_days: f64,
    /// Days after the meeting of the second follow-up.
    pub second_follow_up_days: f64,
    /// Seconds between the sweeps that expire, remind, ask and follow up.
    pub sweep_interval_secs: u64,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            max_open_per_user: 20,
            max_per_day: 10,
            expire_days: 14.0,
            remind_days_before: 3.0,
            feedback_days_without_meeting: 14.0,
            first_follow_up_days: 90.0,
            second_follow_up_days: 180.0,
            sweep_interval_secs: 300,
        }
    }
}

/// Contact details (`[privacy]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PrivacySettings {
    /// `accepted`: a listing's contact details are shown to members of another organisation
    /// only once a connection request between the two is accepted (organisers and brokers
    /// always see them; an owner can show a listing's to every member). `members`: every
    /// signed-in member sees them.
    pub contacts: String,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            contacts: "accepted".into(),
        }
    }
}

/// `/metrics` (`[metrics]`): not public. On the public listener it answers administrators
/// and a scraper with `token`; `listen` adds a listener of its own (an internal address)
/// that serves `/metrics` alone, without credentials.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// A bearer token for the scraper (`Authorization: Bearer <token>`); empty: none. Set
    /// it from the environment (`DUIJIE__METRICS__TOKEN`), not in a file.
    pub token: String,
    /// An address for a metrics-only listener (e.g. `127.0.0.1:9464`); empty: none.
    pub listen: String,
}

/// Outgoing mail (`[mail]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// `file` (each message an `.eml` under `data/outbox/`), `smtp` or `off` (messages stay
    /// in the outbox, unsent).
    pub transport: String,
    /// `smtp://host:port` (TLS as `smtp_tls` says) or
    /// `smtps://host:port`; the user name and password come from the environment
    /// (`DUIJIE_SMTP_USERNAME`, `DUIJIE_SMTP_PASSWORD`), never from a file.
    pub smtp_url: String,
    /// For `smtp://`: `opportunistic` (STARTTLS when offered), `required` or `none`.
    pub smtp_tls: String,
    /// The sender, e.g. `校企对接平台 <noreply@example.org>`.
    pub from: String,
    /// How often the delivery worker looks for due messages, ms.
    pub poll_interval_ms: u64,
    /// Delay before the first retry, ms; it doubles with every further attempt.
    pub retry_base_ms: u64,
    /// Longest delay between two attempts, ms.
    pub retry_max_ms: u64,
    /// Attempts per message before it is marked failed.
    pub max_attempts: u32,
    /// Time one attempt holds a message (and allows the transport), ms; a process that
    /// dies during an attempt leaves the message to be tried again after it.
    pub lease_ms: u64,
    /// A daily digest goes out once the oldest match in it is this many hours old (for
    /// users who chose digests).
    pub digest_after_hours: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: "file".into(),
            smtp_url: String::new(),
            smtp_tls: "opportunistic".into(),
            from: "校企对接平台 <noreply@duijie.invalid>".into(),
            poll_interval_ms: 1000,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            max_attempts: 10,
            lease_ms: 60_000,
            digest_after_hours: 24,
        }
    }
}

/// Self-service sign-up (`[signup]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SignupSettings {
    /// Whether people can sign themselves up (invitations work either way).
    pub open: bool,
    /// Hours a verification link stays good.
    pub verify_hours: u64,
    /// Minutes a password-reset link stays good.
    pub reset_minutes: u64,
    /// Days an invitation stays good.
    pub invite_days: u64,
    /// Sign-ups and reset requests per client address per hour.
    pub max_per_address_per_hour: usize,
    /// Sign-ups and reset requests per e-mail address per hour.
    pub max_per_email_per_hour: usize,
}

impl Default for SignupSettings {
    fn default() -> Self {
        SignupSettings {
            open: true,
            verify_hours: 24,
            reset_minutes: 60,
            invite_days: 14,
            max_per_address_per_hour: 20,
            max_per_email_per_hour: 3,
        }
    }
}

/// Match alerts and their webhook deliveries (`[alerts]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AlertSettings {
    /// How often the alert worker reads new changes and the delivery worker looks for due
    /// deliveries, ms.
    pub poll_interval_ms: u64,
    /// Delay before the first retry, ms; it doubles with every further attempt.
    pub retry_base_ms: u64,
    /// Longest delay between two attempts, ms.
    pub retry_max_ms: u64,
    /// Attempts per delivery (the first included) before it is marked failed.
    pub max_attempts: u32,
    /// Time allowed for one webhook request, ms.
    pub request_timeout_ms: u64,
    /// Lowest score of `need_matches` subscriptions that do not give one.
    pub default_min_score: f64,
    /// Allow webhooks to loopback, private and link-local addresses (`localhost`, 10.x,
    /// 192.168.x, 127.x...). Off by default, so a subscriber cannot make the server call
    /// into its own network.
    pub allow_private_targets: bool,
    /// Names pinned to addresses ahead of DNS for webhook deliveries (`name = "ip"`, like
    /// `/etc/hosts`); the addresses are checked like resolved ones.
    pub resolve: std::collections::BTreeMap<String, String>,
    /// The key webhook secrets are sealed with at rest: 64 hex digits (set
    /// `DUIJIE__ALERTS__SECRET_KEY`); empty: a key made at first start and kept in the
    /// database.
    pub secret_key: String,
    /// Keys of earlier rotations, comma-separated, still opening what they sealed (see
    /// `duijie admin rotate-webhook-secrets`).
    pub previous_secret_keys: String,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            poll_interval_ms: 1000,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            max_attempts: 8,
            request_timeout_ms: 10_000,
            default_min_score: 0.5,
            allow_private_targets: false,
            resolve: Default::default(),
            secret_key: String::new(),
            previous_secret_keys: String::new(),
        }
    }
}

/// Accounts and sign-in.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// How long a web session lasts, hours.
    pub session_hours: u64,
    /// `auto` (Secure when the request came over TLS, per `X-Forwarded-Proto`), `always`
    /// or `never`.
    pub secure_cookies: String,
    /// Failed sign-ins per account before it is locked for `lockout_minutes`.
    pub max_failures_per_account: usize,
    /// Failed sign-ins per client address before it is locked for `lockout_minutes`.
    pub max_failures_per_address: usize,
    /// Length of a lock, minutes.
    pub lockout_minutes: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_hours: 12,
            secure_cookies: "auto".into(),
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            lockout_minutes: 15,
        }
    }
}

/// The programme's targets (domain.md: 100+ universities with 1,000+ enterprises,
/// 2,000+ experts sent into enterprises, 7,000+ results transferred).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DashboardSettings {
    /// Universities engaged.
    pub target_universities: i64,
    /// Enterprises engaged.
    pub target_enterprises: i64,
    /// Experts sent into enterprises.
    pub target_experts: i64,
    /// Results transferred.
    pub target_results: i64,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            target_universities: 100,
            target_enterprises: 1000,
            target_experts: 2000,
            target_results: 7000,
        }
    }
}

/// Matching.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MatchingSettings {
    /// Component weights (`[matching.weights]`); a request may override them.
    #[serde(default)]
    pub weights: duijie_match::engine::MatchWeights,
    /// Engine tuning (`[matching.engine]`).
    #[serde(default)]
    pub engine: MatchingEngineSettings,
}

/// Engine tuning (`[matching.engine]`); see `duijie_match::engine::MatcherConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchingEngineSettings {
    /// Candidates of the BM25 query re-scored per request.
    pub candidates: usize,
    /// Further candidates from the semantic space (0: none).
    pub latent_candidates: usize,
    /// Salient terms of the source in the BM25 query.
    pub query_terms: usize,
    /// α: share of the lexical cosine in the text component, for two long texts.
    pub lexical_share: f64,
    /// α for a pair with a very short side.
    pub short_lexical_share: f64,
    /// Threads re-scoring one request's candidates.
    pub threads: usize,
    /// Memory for the indexed listings' vectors kept with the semantic model, MiB (0: none
    /// kept; candidates are then read from the index).
    pub cache_mib: usize,
}

impl Default for MatchingEngineSettings {
    fn default() -> Self {
        let c = duijie_match::engine::MatcherConfig::default();
        MatchingEngineSettings {
            candidates: c.candidates,
            latent_candidates: c.latent_candidates,
            query_terms: c.query_terms,
            lexical_share: c.lexical_share,
            short_lexical_share: c.short_lexical_share,
            threads: c.threads,
            cache_mib: c.semantic_params.cache_max_bytes >> 20,
        }
    }
}

impl MatchingEngineSettings {
    /// The engine configuration: these values over the engine's defaults.
    pub fn config(&self) -> duijie_match::engine::MatcherConfig {
        duijie_match::engine::MatcherConfig {
            candidates: self.candidates,
            latent_candidates: self.latent_candidates,
            query_terms: self.query_terms,
            lexical_share: self.lexical_share,
            short_lexical_share: self.short_lexical_share,
            threads: self.threads,
            semantic_params: duijie_match::engine::SemanticParams {
                cache_max_bytes: self.cache_mib << 20,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let max = duijie_match::engine::MAX_CANDIDATES;
        let counts = [
            ("candidates", self.candidates, 1, max),
            ("latent_candidates", self.latent_candidates, 0, max),
            ("query_terms", self.query_terms, 1, 256),
            ("threads", self.threads, 1, 64),
            ("cache_mib", self.cache_mib, 0, 1 << 20),
        ];
        for (name, v, lo, hi) in counts {
            if !(lo..=hi).contains(&v) {
                return Err(SettingsError(format!(
                    "matching.engine.{name} must be between {lo} and {hi}, not {v}"
                )));
            }
        }
        for (name, v) in [
            ("lexical_share", self.lexical_share),
            ("short_lexical_share", self.short_lexical_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(SettingsError(format!(
                    "matching.engine.{name} must be between 0 and 1, not {v}"
                )));
            }
        }
        Ok(())
    }
}

/// HTTP server.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// Largest JSON request body, bytes (imports stream and are not limited by it).
    pub max_json_bytes: usize,
    /// Largest page size of list and search endpoints.
    pub max_page_size: usize,
    /// The address people reach the site at, for links in mail (`https://duijie.example.org`);
    /// empty: `http://` and the bind address.
    #[serde(default)]
    pub public_url: String,
    /// Threads for blocking work (searches, matches, index writes, password hashing); 0:
    /// eight per core, at least 16; otherwise 4 to 1,024. Imports parse on threads of their
    /// own. Requests beyond it wait for a
    /// thread rather than start one: each thread keeps a heap of its own, so a burst of
    /// concurrent requests on an uncapped pool leaves the server holding memory.
    #[serde(default)]
    pub blocking_threads: usize,
}

/// Most threads `server.blocking_threads` may ask for.
pub const MAX_BLOCKING_THREADS: usize = 1024;

/// Fewest threads `server.blocking_threads` may ask for (other than 0, the default): a few
/// long tasks (an event's pairing, an export) must leave searches a thread.
pub const MIN_BLOCKING_THREADS: usize = 4;

impl ServerSettings {
    /// The blocking pool's size: `blocking_threads`, or eight per core and at least 16.
    pub fn blocking_pool(&self) -> usize {
        if self.blocking_threads > 0 {
            return self.blocking_threads;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (cores * 8).clamp(16, MAX_BLOCKING_THREADS)
    }
}

/// Data directory.
#[derive(Debug, Clone, Deserialize)]
pub struct DataSettings {
    /// Holds `duijie.db` (SQLite) and `index/`.
    pub dir: PathBuf,
}

/// Relational store.
#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Empty: SQLite in the data directory; `postgres://...` for PostgreSQL.
    pub url: String,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &duijie_store::redact_url(&self.url))
            .finish()
    }
}

/// Search index.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexSettings {
    /// Writer memory budget in MiB.
    pub writer_memory_mb: usize,
    /// Indexing threads; 0 means one per core (at most 4).
    pub writer_threads: usize,
    /// How often the index looks for changes written by other processes, ms.
    pub poll_interval_ms: u64,
    /// Changes older than this (minutes) that every live server has applied are removed
    /// from the change log.
    #[serde(default = "default_retention")]
    pub change_log_retention_minutes: u64,
    /// How often a server compacts the change log, seconds.
    #[serde(default = "default_compaction_interval")]
    pub compaction_interval_secs: u64,
}

fn default_retention() -> u64 {
    7 * 24 * 60
}

fn default_compaction_interval() -> u64 {
    3600
}

/// Chinese analysis.
#[derive(Debug, Clone, Deserialize)]
pub struct TextSettings {
    /// jieba HMM for unknown words.
    pub hmm: bool,
    /// User dictionary file; empty uses the built-in one.
    pub user_dict: String,
    /// Synonyms file; empty uses the built-in one.
    pub synonyms: String,
    /// Stopwords file; empty uses the built-in one.
    pub stopwords: String,
}

/// Demo data.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    /// Load the demo set into an empty store at start.
    pub load: bool,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// `RUST_LOG`-style filter.
    pub level: String,
}

/// Bulk import.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportSettings {
    /// Records per store transaction.
    pub batch_size: usize,
    /// Line errors reported in one answer (the counts are always complete).
    pub max_reported_errors: usize,
    /// XLSX uploads: largest inflated size of one member of the archive, MiB.
    pub xlsx_max_member_mb: u64,
    /// XLSX uploads: largest inflated size of the whole archive, MiB.
    pub xlsx_max_total_mb: u64,
    /// Spreadsheets: most rows (the header included).
    pub max_rows: u32,
    /// Spreadsheets: most columns.
    pub max_columns: u32,
    /// Spreadsheets: longest cell, characters.
    pub max_cell_chars: usize,
}

/// Extra industries.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IndustrySettings {
    /// `[[industries.extra]] code = "aerospace" label = "航空航天"`.
    #[serde(default)]
    pub extra: Vec<ExtraIndustry>,
}

/// One extra industry.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtraIndustry {
    /// Code.
    pub code: String,
    /// Chinese label.
    pub label: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("data", &self.data)
            .field("database", &self.database)
            .field("index", &self.index)
            .field("text", &self.text)
            .field("demo", &self.demo)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Settings problems, reported before anything starts.
#[derive(Debug, thiserror::Error)]
#[error("settings: {0}")]
pub struct SettingsError(pub String);

impl Settings {
    /// Loads the layers. `file`: an explicit settings file (must exist).
    pub fn load(file: Option<&std::path::Path>) -> Result<Settings, SettingsError> {
        let mut b = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        match file {
            Some(p) => {
                if !p.exists() {
                    return Err(SettingsError(format!(
                        "settings file {} does not exist",
                        p.display()
                    )));
                }
                b = b.add_source(config::File::from(p));
            }
            None => {
                b = b.add_source(config::File::with_name("config/local").required(false));
            }
        }
        b = b.add_source(
            config::Environment::with_prefix("DUIJIE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let s: Settings = b
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| SettingsError(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Defaults only (tests start from these and adjust).
    pub fn defaults() -> Settings {
        let c = config::Config::builder()
            .add_source(config::File::from_str(
                DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .build()
            .and_then(|c| c.try_deserialize::<Settings>());
        match c {
            Ok(s) => s,
            Err(e) => panic!("embedded config/default.toml is invalid: {e}"),
        }
    }

    /// Checks values that deserialisation cannot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(SettingsError(format!(
                "server.bind '{}' is not an address like 127.0.0.1:8080",
                self.server.bind
            )));
        }
        if !self.database.url.is_empty()
            && !self.database.url.starts_with("postgres")
            && !self.database.url.starts_with("sqlite:")
        {
            return Err(SettingsError("database.url must be empty (SQLite in the data directory), sqlite://... or postgres://...".into()));
        }
        if !["pretty", "json"].contains(&self.log.format.as_str()) {
            return Err(SettingsError(format!(
                "log.format must be pretty or json, not '{}'",
                self.log.format
            )));
        }
        self.matching
            .weights
            .validate()
            .map_err(|e| SettingsError(format!("matching.weights: {}", e.message_en())))?;
        self.matching.engine.validate()?;
        if !["auto", "always", "never"].contains(&self.auth.secure_cookies.as_str()) {
            return Err(SettingsError(format!(
                "auth.secure_cookies must be auto, always or never, not '{}'",
                self.auth.secure_cookies
            )));
        }
        if self.auth.session_hours == 0 || self.auth.max_failures_per_account == 0 {
            return Err(SettingsError(
                "auth.session_hours and auth.max_failures_per_account must be at least 1".into(),
            ));
        }
        if self.alerts.max_attempts == 0
            || self.alerts.poll_interval_ms == 0
            || self.alerts.request_timeout_ms == 0
            || !(0.0..=1.0).contains(&self.alerts.default_min_score)
        {
            return Err(SettingsError(
                "alerts.max_attempts, alerts.poll_interval_ms and alerts.request_timeout_ms must be at least 1, alerts.default_min_score from 0 to 1".into(),
            ));
        }
        self.validate_mail()?;
        if let Some((name, ip)) = self
            .alerts
            .resolve
            .iter()
            .find(|(_, ip)| ip.parse::<std::net::IpAddr>().is_err())
        {
            return Err(SettingsError(format!(
                "alerts.resolve: '{ip}' (for {name}) is not an IP address"
            )));
        }
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(SettingsError(format!(
                "metrics.listen '{}' is not an address like 127.0.0.1:9464",
                self.metrics.listen
            )));
        }
        if !self.metrics.token.is_empty() && self.metrics.token.len() < 16 {
            return Err(SettingsError(
                "metrics.token must have at least 16 characters".into(),
            ));
        }
        let i = &self.import;
        if i.xlsx_max_member_mb == 0
            || i.xlsx_max_total_mb < i.xlsx_max_member_mb
            || i.max_rows < 2
            || i.max_columns == 0
            || i.max_cell_chars == 0
        {
            return Err(SettingsError(
                "import.xlsx_max_member_mb, max_columns and max_cell_chars must be at least 1, max_rows at least 2, xlsx_max_total_mb at least xlsx_max_member_mb".into(),
            ));
        }
        let threads = self.server.blocking_threads;
        if threads != 0 && !(MIN_BLOCKING_THREADS..=MAX_BLOCKING_THREADS).contains(&threads) {
            return Err(SettingsError(format!(
                "server.blocking_threads must be 0 (eight per core) or between {MIN_BLOCKING_THREADS} and {MAX_BLOCKING_THREADS}, not {threads}"
            )));
        }
        if self.import.batch_size == 0 || self.server.max_page_size == 0 {
            return Err(SettingsError(
                "import.batch_size and server.max_page_size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), SettingsError> {
        let m = &self.mail;
        if !["file", "smtp", "off"].contains(&m.transport.as_str()) {
            return Err(SettingsError(format!(
                "mail.transport must be file, smtp or off, not '{}'",
                m.transport
            )));
        }
        if m.transport == "smtp"
            && !(m.smtp_url.starts_with("smtp://") || m.smtp_url.starts_with("smtps://"))
        {
            return Err(SettingsError(format!(
                "mail.smtp_url must be smtp://host:port or smtps://host:port when mail.transport is smtp, not '{}'",
                m.smtp_url
            )));
        }
        if m.smtp_url.contains('@') {
            return Err(SettingsError(
                "mail.smtp_url must not hold credentials: set DUIJIE_SMTP_USERNAME and DUIJIE_SMTP_PASSWORD instead".into(),
            ));
        }
        if !["opportunistic", "required", "none"].contains(&m.smtp_tls.as_str()) {
            return Err(SettingsError(format!(
                "mail.smtp_tls must be opportunistic, required or none, not '{}'",
                m.smtp_tls
            )));
        }
        if m.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(SettingsError(format!(
                "mail.from '{}' is not an address like 校企对接平台 <noreply@example.org>",
                m.from
            )));
        }
        if m.max_attempts == 0 || m.poll_interval_ms == 0 || m.lease_ms < 1000 {
            return Err(SettingsError(
                "mail.max_attempts and mail.poll_interval_ms must be at least 1, mail.lease_ms at least 1000".into(),
            ));
        }
        let p = &self.server.public_url;
        if !(p.is_empty() || p.starts_with("http://") || p.starts_with("https://")) {
            return Err(SettingsError(format!(
                "server.public_url must start with http:// or https://, not '{p}'"
            )));
        }
        let c = &self.connections;
        let days = [
            c.expire_days,
            c.remind_days_before,
            c.feedback_days_without_meeting,
            c.first_follow_up_days,
            c.second_follow_up_days,
        ];
        if c.max_open_per_user < 1
            || c.max_per_day < 1
            || c.sweep_interval_secs == 0
            || days
                .iter()
                .any(|d| !d.is_finite() || *d < 0.0 || *d > 3660.0)
            || c.expire_days <= 0.0
        {
            return Err(SettingsError(
                "connections: max_open_per_user, max_per_day and sweep_interval_secs must be at least 1, the day counts from 0 to 3660 (expire_days above 0)".into(),
            ));
        }
        if !["accepted", "members"].contains(&self.privacy.contacts.as_str()) {
            return Err(SettingsError(format!(
                "privacy.contacts must be \"accepted\" or \"members\", not '{}'",
                self.privacy.contacts
            )));
        }
        let u = &self.signup;
        if u.verify_hours == 0
            || u.reset_minutes == 0
            || u.invite_days == 0
            || u.max_per_address_per_hour == 0
            || u.max_per_email_per_hour == 0
        {
            return Err(SettingsError(
                "signup.verify_hours, reset_minutes, invite_days and the max_per_* limits must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The site's address for links in mail, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.bind)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    /// The index directory.
    pub fn index_dir(&self) -> PathBuf {
        self.data.dir.join("index")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_engine_defaults_are_the_engines_and_bad_values_are_named() {
        let s = Settings::defaults();
        assert!(s.validate().is_ok());
        assert_eq!(s.matching.engine, MatchingEngineSettings::default());
        assert_eq!(
            s.matching.engine.config(),
            duijie_match::engine::MatcherConfig::default()
        );
        let bad = |f: fn(&mut MatchingEngineSettings), key: &str| {
            let mut s = Settings::defaults();
            f(&mut s.matching.engine);
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("matching.engine.{key}")), "{e}");
        };
        bad(|e| e.candidates = 0, "candidates");
        bad(|e| e.candidates = 100_000, "candidates");
        bad(|e| e.latent_candidates = 5_000, "latent_candidates");
        bad(|e| e.query_terms = 0, "query_terms");
        bad(|e| e.threads = 0, "threads");
        bad(|e| e.lexical_share = 1.5, "lexical_share");
        bad(|e| e.short_lexical_share = f64::NAN, "short_lexical_share");
        bad(|e| e.lexical_share = -0.1, "lexical_share");
    }

    #[test]
    fn the_blocking_pool_is_bounded_and_its_setting_checked() {
        let mut s = Settings::defaults();
        assert_eq!(s.server.blocking_threads, 0);
        let auto = s.server.blocking_pool();
        assert!((16..=MAX_BLOCKING_THREADS).contains(&auto), "{auto}");
        s.server.blocking_threads = 4;
        assert_eq!(s.server.blocking_pool(), 4);
        assert!(s.validate().is_ok());
        for bad in [1, MIN_BLOCKING_THREADS - 1, MAX_BLOCKING_THREADS + 1] {
            s.server.blocking_threads = bad;
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains("server.blocking_threads"), "{bad}: {e}");
        }
    }
}
