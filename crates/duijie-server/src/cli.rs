//! The `duijie` command line.

use crate::startup::{Application, shutdown_signal};
use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use duijie_app::app::{App, IndexMode};
use duijie_app::import::{self, Format, Source};
use duijie_app::listings::Entity;
use duijie_app::settings::Settings;
use std::path::PathBuf;

/// duijie 校企对接：科技成果与技术需求的检索、匹配与对接会排期。
#[derive(Debug, Parser)]
#[command(name = "duijie", version, about, long_about = None)]
pub struct Cli {
    /// Settings file layered over the defaults (default: config/local.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite store and search index).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (empty: SQLite in the data directory; postgres://... for PostgreSQL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web service (loads demo data into an empty store unless --no-demo).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        bind: Option<String>,
        /// Load the demo data into an empty store (default).
        #[arg(long, conflicts_with = "no_demo")]
        demo: bool,
        /// Do not load demo data.
        #[arg(long)]
        no_demo: bool,
    },
    /// Import a JSONL, CSV or XLSX file (same rules as POST /api/v1/import).
    Import {
        /// results, needs, experts or organizations.
        #[arg(long)]
        kind: String,
        /// The file; its extension (.jsonl, .csv, .xlsx) gives the format.
        file: PathBuf,
        /// Decode a CSV file as GBK instead of UTF-8.
        #[arg(long)]
        gbk: bool,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Search the index.
    Search {
        /// The query (Chinese or mixed text).
        query: String,
        /// results, needs or experts.
        #[arg(long)]
        kind: Option<String>,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the raw JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Solve an offline pairing instance (see crates/duijie-match).
    Pair {
        /// Instance JSON file.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the solution (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Measure import and search speed on 100,000 generated listings.
    Bench(crate::bench::BenchArgs),
    /// Propose matches for a stored need or result, or for a text, with the score explained.
    Match {
        /// A stored need.
        #[arg(long, conflicts_with_all = ["result", "text"])]
        need: Option<i64>,
        /// A stored result.
        #[arg(long, conflicts_with = "text")]
        result: Option<i64>,
        /// An unsaved text (what an enterprise would type).
        #[arg(long)]
        text: Option<String>,
        /// What to propose: results, needs or experts (default: results for a need or a text,
        /// needs for a result).
        #[arg(long)]
        kind: Option<String>,
        /// Number of matches.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
    /// Quality reports.
    Eval {
        /// Which report.
        #[command(subcommand)]
        report: EvalReport,
    },
    /// Accounts; works while the server runs.
    Admin {
        /// What to do.
        #[command(subcommand)]
        action: AdminCommand,
    },
}

/// Account administration on the command line (acts with administrator rights: whoever
/// can open the data directory owns the service).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user (the first administrator, or anyone).
    CreateUser {
        /// E-mail address, the sign-in name.
        #[arg(long)]
        email: String,
        /// enterprise, researcher, organizer or admin.
        #[arg(long)]
        role: String,
        /// The user's organisation by name (registered when new).
        #[arg(long)]
        org: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line); without it the account can
        /// use API tokens only.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for a user and print it (the only output on standard output).
    CreateToken {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "命令行创建 / created on the command line")]
        name: String,
    },
    /// Seal every webhook secret again under the current `[alerts] secret_key` (after a
    /// rotation: the old key still in `previous_secret_keys`).
    RotateWebhookSecrets,
}

/// Quality reports.
#[derive(Debug, Subcommand)]
pub enum EvalReport {
    /// Matching quality on CSL-shaped papers (id, title, abstract, keywords, discipline).
    Csl {
        /// The papers (JSONL).
        file: PathBuf,
        /// Extra papers whose titles are added as distractor needs.
        #[arg(long)]
        distractors: Option<PathBuf>,
        /// Also report plain jieba + BM25 for comparison.
        #[arg(long)]
        baseline: bool,
        /// Fail (exit 3) when the known-item MRR@10 of either direction is below this.
        #[arg(long, value_name = "F")]
        min_mrr: Option<f64>,
        /// Fail (exit 3) when same-discipline P@10 of abstracts is below this.
        #[arg(long, value_name = "F")]
        min_p10_abstract: Option<f64>,
        /// Fail (exit 3) when same-discipline P@10 of titles is below this.
        #[arg(long, value_name = "F")]
        min_p10_title: Option<f64>,
    },
}

fn api(e: duijie_app::AppError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        e.body()["error"]["message"]
            .as_str()
            .unwrap_or("request refused")
    )
}

/// Settings from the layers plus the global flags.
pub fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = Settings::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        s.data.dir = d.clone();
    }
    if let Some(u) = &cli.database_url {
        s.database.url = u.clone();
    }
    s.validate()?;
    Ok(s)
}

fn entity(kind: &str) -> anyhow::Result<Entity> {
    Entity::parse(kind).with_context(|| {
        format!("unknown kind '{kind}': use results, needs, experts or organizations")
    })
}

async fn admin(s: Settings, action: AdminCommand) -> anyhow::Result<()> {
    let ctx = App::open(s, IndexMode::WriterIfFree).await?;
    let caller = duijie_app::Caller::local("cli");
    match action {
        AdminCommand::CreateUser {
            email,
            role,
            org,
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                let pw = line.trim_end_matches(['\n', '\r']).to_string();
                if pw.is_empty() {
                    bail!("--password-stdin: standard input held no password");
                }
                Some(pw)
            } else {
                None
            };
            let token_only = password.is_none();
            let user = duijie_app::accounts::register(
                &ctx,
                &caller,
                duijie_app::accounts::NewAccount {
                    email,
                    name,
                    role,
                    organization: duijie_app::accounts::OrgChoice::Name(org),
                    password,
                },
            )
            .await
            .map_err(api)?;
            ctx.make_searchable().await.map_err(api)?;
            println!("{}", serde_json::to_string(&user)?);
            if token_only {
                eprintln!(
                    "没有设置密码：此账户只能使用 API 令牌（duijie admin create-token）/ no password set: this account can use API tokens only"
                );
            }
            Ok(())
        }
        AdminCommand::CreateToken { email, name } => {
            let user = duijie_app::accounts::active_user_by_email(&ctx, &email)
                .await
                .map_err(api)?;
            let (token, _) = duijie_app::accounts::token_for(&ctx, &caller, user.id, &name)
                .await
                .map_err(api)?;
            println!("{token}");
            Ok(())
        }
        AdminCommand::RotateWebhookSecrets => {
            let n = duijie_app::alerts::rotate_secrets(&ctx)
                .await
                .map_err(api)?;
            println!("已重新加密 {n} 个 Webhook 密钥 / sealed {n} webhook secrets again");
            Ok(())
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // before any HTTP client (webhooks, `eval`, `bench`) is built
    duijie_app::alerts::install_tls_provider();
    let s = settings(&cli)?;
    match cli.command {
        Command::Serve {
            bind,
            demo,
            no_demo,
        } => serve(s, bind, demo, no_demo).await,
        Command::Import { kind, file, gbk } => import(s, kind, file, gbk).await,
        Command::Reindex => reindex(s).await,
        Command::Search {
            query,
            kind,
            limit,
            json,
        } => search(s, query, kind, limit, json).await,
        Command::Admin { action } => admin(s, action).await,
        Command::Pair { input, output } => crate::pair::run(&input, output.as_deref()),
        Command::Bench(args) => crate::bench::run(s, args).await,
        Command::Eval {
            report:
                EvalReport::Csl {
                    file,
                    distractors,
                    baseline,
                    min_mrr,
                    min_p10_abstract,
                    min_p10_title,
                },
        } => {
            let floors = crate::eval::Floors {
                mrr: min_mrr,
                p10_abstract: min_p10_abstract,
                p10_title: min_p10_title,
            };
            crate::eval::run(s, &file, distractors.as_deref(), baseline, floors).await
        }
        Command::Match {
            need,
            result,
            text,
            kind,
            limit,
            json,
        } => match_listings(s, need, result, text, kind, limit, json).await,
    }
}

/// `duijie serve`: starts the service and serves until Ctrl-C or SIGTERM.
async fn serve(
    mut s: Settings,
    bind: Option<String>,
    demo: bool,
    no_demo: bool,
) -> anyhow::Result<()> {
    if let Some(b) = bind {
        s.server.bind = b;
    }
    if no_demo {
        s.demo.load = false;
    } else if demo {
        s.demo.load = true;
    }
    s.validate()?;
    let data_dir = s.data.dir.clone();
    let app = Application::build(s).await?;
    if let Some(d) = app.demo_loaded() {
        println!(
            "已载入演示数据 / demo data loaded: {} organizations, {} results, {} needs, {} experts",
            d.organizations, d.results, d.needs, d.experts
        );
    }
    if let Some(a) = app.demo_accounts() {
        print!("{a}");
    }
    println!(
        "duijie 已启动 / listening on http://{}  (data: {})",
        app.addr(),
        data_dir.display()
    );
    if let Some(m) = app.metrics_addr() {
        println!("指标 / metrics on {m}/metrics");
    }
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

/// `duijie import`: a bulk import with a progress bar; exits 2 when lines failed.
async fn import(s: Settings, kind: String, file: PathBuf, gbk: bool) -> anyhow::Result<()> {
    let entity = entity(&kind)?;
    let mut format = Format::from_path(&file)
        .with_context(|| format!("{}: use a .jsonl, .csv or .xlsx file", file.display()))?;
    if let Format::Csv { .. } = format {
        format = Format::Csv { gbk };
    }
    let ctx = App::open(s, IndexMode::WriterIfFree).await?;
    let source = match format {
        Format::Xlsx => Source::XlsxFile(file.clone()),
        _ => Source::Reader(Box::new(
            std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?,
        )),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = std::time::Instant::now();
    let summary = import::run(&ctx, entity, format, source, |s| {
        bar.set_message(format!(
            "已处理 {} 行 / {} lines: {} new, {} updated, {} failed",
            s.processed(),
            s.processed(),
            s.imported,
            s.updated,
            s.failed
        ));
        bar.tick();
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{}",
            e.body()["error"]["message"]
                .as_str()
                .unwrap_or("import failed")
        )
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "导入完成 / import finished in {secs:.1}s: {} imported, {} updated, {} failed ({:.0} lines/s)",
        summary.imported,
        summary.updated,
        summary.failed,
        summary.processed() as f64 / secs.max(1e-9)
    );
    for e in &summary.errors {
        eprintln!("  line {}: [{}] {}", e.line, e.code, e.message);
    }
    if summary.errors_truncated {
        eprintln!("  … more errors not shown");
    }
    if !ctx.owns_index() {
        println!(
            "索引由正在运行的服务更新 / the running server will index these records within its poll interval"
        );
    }
    if summary.failed > 0 {
        std::process::exit(2);
    }
    Ok(())
}

/// `duijie reindex`: rebuilds the index from the store (with no server running).
async fn reindex(s: Settings) -> anyhow::Result<()> {
    let ctx = App::open(s, IndexMode::Writer).await.map_err(|e| match e {
        e if e.index_locked().is_some() => {
            anyhow::anyhow!("the index in {} is in use by a running server: stop it, or call POST /api/v1/admin/reindex", e.index_locked().unwrap_or_default())
        }
        e => e.into(),
    })?;
    let bar = indicatif::ProgressBar::new_spinner();
    let done = duijie_app::admin::rebuild_index(&ctx, |n| {
        bar.set_message(format!("已索引 {n} 条 / {n} listings indexed"))
    })
    .await
    .map_err(api)?;
    bar.finish_and_clear();
    println!(
        "索引已重建 / index rebuilt: {} documents up to change {} in {:.1}s",
        done.documents, done.index_seq, done.seconds
    );
    Ok(())
}

/// `duijie search`: a search from the command line.
async fn search(
    s: Settings,
    query: String,
    kind: Option<String>,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let ctx = App::open(s, IndexMode::ReadOnly).await?;
    let kind = match kind {
        None => None,
        Some(k) => Some(
            duijie_domain::ListingKind::parse(&k)
                .with_context(|| format!("unknown kind '{k}': use results, needs or experts"))?,
        ),
    };
    if !(1..=1000).contains(&limit) {
        bail!("--limit must be between 1 and 1000");
    }
    let req = duijie_app::search::SearchRequest {
        q: query,
        kind,
        limit,
        ..Default::default()
    };
    let resp = duijie_app::search::search(&ctx, req).await.map_err(api)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&resp)?);
    } else {
        println!("共 {} 条 / {} hits", resp.total, resp.total);
        for h in resp.hits {
            println!(
                "[{}#{}] {:.2} {}  — {}",
                h.kind.code(),
                h.id,
                h.score,
                h.title,
                h.organization.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// `duijie match`: the best partners of a need, a result or a text.
async fn match_listings(
    s: Settings,
    need: Option<i64>,
    result: Option<i64>,
    text: Option<String>,
    kind: Option<String>,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let ctx = App::open(s, IndexMode::ReadOnly).await?;
    let opts = duijie_app::matching::MatchOptions {
        limit: duijie_app::matching::limit(Some(&serde_json::Value::from(limit as i64)))
            .map_err(api)?,
        ..Default::default()
    };
    let items = match (need, result, text) {
        (Some(id), _, _) => {
            let target = duijie_app::matching::target_kind(
                kind.as_deref(),
                Some(duijie_domain::ListingKind::Need),
            )
            .map_err(api)?;
            duijie_app::matching::for_listing(
                &ctx,
                &duijie_app::Caller::local("cli"),
                duijie_domain::ListingKind::Need,
                id,
                target,
                opts,
            )
            .await
            .map_err(api)?
        }
        (_, Some(id), _) => {
            let target = duijie_app::matching::target_kind(
                kind.as_deref(),
                Some(duijie_domain::ListingKind::Result),
            )
            .map_err(api)?;
            duijie_app::matching::for_listing(
                &ctx,
                &duijie_app::Caller::local("cli"),
                duijie_domain::ListingKind::Result,
                id,
                target,
                opts,
            )
            .await
            .map_err(api)?
        }
        (_, _, Some(t)) => {
            let target =
                duijie_app::matching::target_kind(Some(kind.as_deref().unwrap_or("results")), None)
                    .map_err(api)?;
            duijie_app::matching::for_text(&ctx, t, target, opts)
                .await
                .map_err(api)?
        }
        _ => bail!("give --need ID, --result ID or --text \"...\""),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        for (i, m) in items.iter().enumerate() {
            println!(
                "{}. [{}#{}] {:.3} {}",
                i + 1,
                m.kind.code(),
                m.id,
                m.score,
                m.title
            );
            for c in &m.breakdown {
                println!(
                    "     {:<10} {:.2} × {:.2}  {}",
                    c.component.label_zh(),
                    c.score,
                    c.weight,
                    c.reason
                );
            }
            if !m.matched_terms.is_empty() {
                println!("     共同词：{}", m.matched_terms.join("、"));
            }
        }
    }
    Ok(())
}
