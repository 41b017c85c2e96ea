//! The running system without HTTP: store, index, indexer, vocabulary and text resources,
//! built from settings. The server and every command-line subcommand share it.

use crate::indexer::{self, Indexer};
use crate::settings::Settings;
use duijie_domain::Vocabulary;
use duijie_index::{IndexError, IndexOptions, SearchIndex};
use duijie_match::engine::Matcher;
use duijie_store::Store;
use duijie_text::{Analyzer, Stopwords, Synonyms};
use std::sync::Arc;
use std::time::Duration;

/// The built-in dictionaries, so the binary works from any directory.
pub const BUILTIN_USER_DICT: &str = include_str!("../../../config/dict/user.dict");
/// Built-in synonyms.
pub const BUILTIN_SYNONYMS: &str = include_str!("../../../config/dict/synonyms.txt");
/// Built-in stopwords.
pub const BUILTIN_STOPWORDS: &str = include_str!("../../../config/dict/stopwords.txt");

/// Start-up failures, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Settings are wrong.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// A dictionary file could not be read.
    #[error("text resources: {0}")]
    Text(String),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] duijie_store::StoreError),
    /// The index could not be opened.
    #[error("index: {0}")]
    Index(#[from] IndexError),
    /// Catching up the index failed.
    #[error("index catch-up: {0}")]
    Sync(#[from] indexer::SyncError),
    /// The data directory cannot be written (read-only, full, or not a directory).
    #[error("{0}")]
    DataDir(String),
    /// Loading the demo data failed.
    #[error("demo data: {0}")]
    Demo(String),
}

impl StartError {
    /// The index directory, when start-up failed because another process holds the index
    /// writer.
    pub fn index_locked(&self) -> Option<String> {
        match self {
            StartError::Index(IndexError::Locked(d)) => Some(d.to_string()),
            _ => None,
        }
    }
}

/// Loaded text resources.
pub struct TextResources {
    /// Analyzer (jieba loaded once).
    pub analyzer: Arc<Analyzer>,
    /// Synonyms.
    pub synonyms: Arc<Synonyms>,
    /// Stopwords.
    pub(crate) stopwords: Arc<Stopwords>,
    /// Fingerprint of everything that shapes index tokens.
    pub fingerprint: String,
}

fn read_or_builtin(path: &str, builtin: &'static str) -> Result<String, StartError> {
    if path.is_empty() {
        Ok(builtin.to_string())
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| StartError::Text(format!("cannot read {path}: {e}")))
    }
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Loads the analyzer, synonyms and stopwords named by the settings.
pub fn text_resources(s: &Settings) -> Result<TextResources, StartError> {
    let dict = read_or_builtin(&s.text.user_dict, BUILTIN_USER_DICT)?;
    let analyzer = Analyzer::with_user_dict_text(s.text.hmm, &dict)
        .map_err(|e| StartError::Text(e.to_string()))?;
    let syn = read_or_builtin(&s.text.synonyms, BUILTIN_SYNONYMS)?;
    let synonyms = Synonyms::parse(&syn, &analyzer).map_err(|e| StartError::Text(e.to_string()))?;
    let stop = read_or_builtin(&s.text.stopwords, BUILTIN_STOPWORDS)?;
    let stopwords = Stopwords::parse(&stop);
    let fingerprint = format!("hmm={}:dict={:016x}", s.text.hmm, fnv(&dict));
    Ok(TextResources {
        analyzer: Arc::new(analyzer),
        synonyms: Arc::new(synonyms),
        stopwords: Arc::new(stopwords),
        fingerprint,
    })
}

/// Everything a request handler or a command needs.
#[derive(Clone)]
pub struct App {
    /// Settings in force.
    pub settings: Arc<Settings>,
    /// Source of truth.
    pub(crate) store: Arc<Store>,
    /// Search index.
    pub(crate) index: Arc<SearchIndex>,
    /// Index maintenance; `None` when another process owns the index writer.
    pub(crate) indexer: Option<Indexer>,
    /// Vocabularies.
    pub vocab: Arc<Vocabulary>,
    /// Stopwords (matching).
    pub(crate) stopwords: Arc<Stopwords>,
    /// The matching engine over the index.
    pub(crate) matcher: Arc<Matcher>,
    /// Failed sign-ins per account and address.
    pub(crate) limiter: Arc<crate::auth::Limiter>,
    /// Who recently seen API tokens belong to.
    pub(crate) tokens: Arc<crate::auth::TokenCache>,
    /// Pages of published listings as anonymous visitors see them.
    pub(crate) public_pages: Arc<crate::listings::PublicPages>,
    /// Seals and opens webhook secrets.
    pub(crate) secrets: Arc<crate::secrets::SecretBox>,
    /// Request, run and delivery counters (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The address the server listens on, once bound (links in mail use it when
    /// `server.public_url` is empty).
    pub(crate) bound: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    /// Renders mail templates (given by the server; see [`crate::mail::Renderer`]).
    pub(crate) mail_renderer: Arc<std::sync::OnceLock<Arc<dyn crate::mail::Renderer>>>,
}

/// How the index is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexMode {
    /// Must own the writer (the server, `reindex`).
    Writer,
    /// Own the writer if free, otherwise read-only and leave indexing to its owner (`import`
    /// beside a running server).
    WriterIfFree,
    /// Read-only (`search`).
    ReadOnly,
}

/// Checks at start that the data directory takes a small synced write, so a read-only or
/// full disk is a clear message now rather than a failed write later.
fn probe_data_dir(dir: &std::path::Path) -> Result<(), StartError> {
    use std::io::Write;
    let probe = dir.join(".write-probe");
    let result = std::fs::create_dir_all(dir).and_then(|_| {
        let mut f = std::fs::File::create(&probe)?;
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    result.map_err(|e| {
        StartError::DataDir(format!(
            "数据目录 {d} 无法写入（只读、空间已满或不是目录）/ the data directory {d} cannot be written (read-only, full, or not a directory): {e}",
            d = dir.display()
        ))
    })
}

impl App {
    /// Opens the store (running migrations), the index, and catches the index up.
    pub async fn open(settings: Settings, mode: IndexMode) -> Result<App, StartError> {
        let text = tokio::task::spawn_blocking({
            let s = settings.clone();
            move || text_resources(&s)
        })
        .await
        .map_err(|e| StartError::Text(e.to_string()))??;
        if mode != IndexMode::ReadOnly {
            probe_data_dir(&settings.data.dir)?;
        }
        let store = if settings.database.url.is_empty() {
            Store::open_sqlite_dir(&settings.data.dir).await?
        } else {
            Store::connect(&settings.database.url).await?
        };
        let store = Arc::new(store);
        let stored_key = if settings.alerts.secret_key.trim().is_empty() {
            let fresh = crate::secrets::SecretBox::fresh_key()
                .map_err(|e| StartError::Settings(crate::settings::SettingsError(e.to_string())))?;
            Some(store.server_key(crate::secrets::STORED_KEY, &fresh).await?)
        } else {
            None
        };
        let secrets = crate::secrets::SecretBox::from_settings(&settings, stored_key.as_deref())
            .map_err(|e| StartError::Settings(crate::settings::SettingsError(e)))?;
        let threads = writer_threads(&settings);
        let mut opts = IndexOptions {
            writer_memory: settings.index.writer_memory_mb << 20,
            writer_threads: threads,
            read_only: mode == IndexMode::ReadOnly,
            analyzer_fingerprint: text.fingerprint.clone(),
        };
        let dir = settings.index_dir();
        let index =
            match SearchIndex::open(&dir, text.analyzer.clone(), text.synonyms.clone(), &opts) {
                Ok(i) => i,
                Err(IndexError::Locked(_)) if mode == IndexMode::WriterIfFree => {
                    opts.read_only = true;
                    SearchIndex::open(&dir, text.analyzer.clone(), text.synonyms.clone(), &opts)?
                }
                Err(e) => return Err(e.into()),
            };
        let index = Arc::new(index);
        let owns_writer = !opts.read_only;
        let indexer = if owns_writer {
            if index.needs_rebuild()? {
                tracing::info!(
                    "index was built with another analyzer or schema; rebuilding from the store"
                );
                indexer::rebuild(&store, &index, |_| {}).await?;
            } else {
                let behind = store.max_seq().await? - index.applied_seq()?;
                if behind > 0 {
                    tracing::info!(behind, "index is behind the store; catching up");
                }
                indexer::catch_up(&store, &index, |_, _| {}).await?;
            }
            let cursor = indexer::cursor_name(&dir).map_err(|e| {
                StartError::DataDir(format!(
                    "cannot keep the index's name in {}: {e}",
                    dir.display()
                ))
            })?;
            Some(Indexer::start(
                store.clone(),
                index.clone(),
                Duration::from_millis(settings.index.poll_interval_ms),
                cursor,
            )?)
        } else {
            None
        };
        let matcher = Arc::new(
            Matcher::with_config(
                index.clone(),
                text.stopwords.clone(),
                settings.matching.weights,
                settings.matching.engine.config(),
            )
            .map_err(|e| StartError::Text(format!("matching: {}", e.message_en())))?,
        );
        // build the semantic model in the background so the first match request does not
        if index.num_docs() > 0 {
            matcher.spawn_refresh();
        }
        let extra: Vec<(String, String)> = settings
            .industries
            .extra
            .iter()
            .map(|e| (e.code.clone(), e.label.clone()))
            .collect();
        Ok(App {
            settings: Arc::new(settings),
            store,
            index,
            indexer,
            vocab: Arc::new(Vocabulary::with_extra_industries(&extra)),
            stopwords: text.stopwords,
            matcher,
            limiter: Arc::default(),
            tokens: Arc::default(),
            public_pages: Arc::default(),
            secrets: Arc::new(secrets),
            metrics: Arc::default(),
            bound: Arc::default(),
            mail_renderer: Arc::default(),
        })
    }

    /// Gives the application the mail templates' renderer (the server does, at start).
    pub fn set_mail_renderer(&self, r: Arc<dyn crate::mail::Renderer>) {
        let _ = self.mail_renderer.set(r);
    }

    /// Records the address the server is bound to (port 0 becomes a real port).
    pub fn set_bound_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.bound.set(addr);
    }

    /// The site's address for links in mail, without a trailing slash:
    /// `server.public_url`, or `http://` and the address the server listens on.
    pub fn public_url(&self) -> String {
        match self.bound.get() {
            Some(a) if self.settings.server.public_url.is_empty() => format!("http://{a}"),
            _ => self.settings.public_url(),
        }
    }

    /// Builds the matching engine's semantic model again in the background (after a bulk
    /// load such as the demo data), so the first match request does not wait for it.
    pub fn refresh_matching_model(&self) {
        self.matcher.spawn_refresh();
    }

    /// Closes the store's connections (at shutdown, after the last request).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Whether this process maintains the index (otherwise another process, typically the
    /// running server, picks up changes at its next poll).
    pub fn owns_index(&self) -> bool {
        self.indexer.is_some()
    }

    /// Makes the latest store changes searchable and waits for it (read-your-writes for
    /// API clients). Without an indexer (another process owns the index) it returns at
    /// once; that process picks the change up at its next poll.
    pub async fn make_searchable(&self) -> Result<(), crate::error::AppError> {
        if let Some(ix) = &self.indexer {
            let seq = self.store.max_seq().await?;
            ix.wait_for(seq)
                .await
                .map_err(|e| crate::error::AppError::IndexBehind(e.to_string()))?;
        }
        Ok(())
    }
}

/// Indexing threads: the setting, or (0) the cores available, at most four.
fn writer_threads(settings: &Settings) -> usize {
    match settings.index.writer_threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(4),
        n => n,
    }
}

impl App {
    /// The index writer's threads and memory budget (bytes), as the settings give them.
    pub fn index_writer_budget(&self) -> (usize, usize) {
        (
            writer_threads(&self.settings),
            self.settings.index.writer_memory_mb << 20,
        )
    }
}
