//! Bulk import of JSONL, CSV and XLSX, shared by `POST /api/v1/import` and `duijie import`.
//!
//! A parser thread reads the source as a stream (an HTTP body through a sync bridge, or a
//! file) and hands batches of records through a bounded channel, so memory stays flat
//! however long the file is. Each batch is validated and written in one store transaction;
//! a bad line is reported with its number and never takes good lines down with it.
//! Records with an `external_id` already stored are updated, so running the same import
//! twice (for example after a crash) completes it without duplicates.

use crate::app::App;
use crate::codes::Code;
use crate::error::AppError;
use crate::listings::{self, Entity};
use duijie_domain::input;
use duijie_store::ImportOutcome;
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use tokio::sync::mpsc;

/// Longest accepted JSONL line, bytes.
const MAX_LINE: usize = 1 << 20;

/// Source formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line.
    Jsonl,
    /// Header row, then one record a row; `gbk` decodes GBK/GB18030 instead of UTF-8.
    Csv {
        /// Decode as GB18030.
        gbk: bool,
    },
    /// First sheet: header row, then one record a row.
    Xlsx,
}

impl Format {
    /// From a Content-Type header value.
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let lower = ct.to_ascii_lowercase();
        let mime = lower.split(';').next().unwrap_or("").trim();
        let charset = lower.split(';').skip(1).find_map(|p| {
            p.trim()
                .strip_prefix("charset=")
                .map(|c| c.trim_matches('"').to_string())
        });
        match mime {
            "application/x-ndjson"
            | "application/jsonl"
            | "application/json-lines"
            | "application/x-jsonlines" => Some(Format::Jsonl),
            "text/csv" => Some(Format::Csv {
                gbk: matches!(charset.as_deref(), Some("gbk" | "gb2312" | "gb18030")),
            }),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Some(Format::Xlsx)
            }
            _ => None,
        }
    }

    /// From a file name (command line).
    pub fn from_path(p: &std::path::Path) -> Option<Format> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv { gbk: false }),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// One refused line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineError {
    /// 1-based line (JSONL, CSV) or row (XLSX) number.
    pub line: u64,
    /// Stable code.
    pub code: &'static str,
    /// `中文 / English`.
    pub message: String,
}

/// The answer of an import.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    /// New records.
    pub imported: u64,
    /// Existing records (same external id) updated.
    pub updated: u64,
    /// Refused records.
    pub failed: u64,
    /// The first refused lines with reasons.
    pub errors: Vec<LineError>,
    /// True when more lines failed than `errors` lists.
    pub errors_truncated: bool,
}

impl ImportSummary {
    fn fail(&mut self, e: LineError, max: usize) {
        self.failed += 1;
        if self.errors.len() < max {
            self.errors.push(e);
        } else {
            self.errors_truncated = true;
        }
    }

    /// Lines processed so far.
    pub fn processed(&self) -> u64 {
        self.imported + self.updated + self.failed
    }
}

type Parsed = (u64, Result<input::Record, (&'static str, String)>);

enum Msg {
    Batch(Vec<Parsed>),
    Fatal(AppError),
}

fn parse_jsonl(reader: impl Read, batch: usize, tx: &mpsc::Sender<Msg>) {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut out = Vec::with_capacity(batch);
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        // read one line, refusing to buffer more than MAX_LINE of it
        let mut too_long = false;
        let n = loop {
            let available = match r.fill_buf() {
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.blocking_send(Msg::Fatal(AppError::bad_request(
                        Code::READ_FAILED,
                        format!("读取上传内容失败：{e}"),
                        format!("could not read the upload: {e}"),
                    )));
                    return;
                }
            };
            if available.is_empty() {
                break buf.len();
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            let len = chunk.len();
            if buf.len() + len <= MAX_LINE {
                buf.extend_from_slice(chunk);
            } else {
                too_long = true;
            }
            r.consume(len);
            if done {
                break buf.len().max(1);
            }
        };
        if n == 0 && !too_long {
            break;
        }
        let item: Option<Parsed> = if too_long {
            Some((
                line,
                Err((
                    "line_too_long",
                    format!(
                        "该行超过 {} 字节 / line longer than {} bytes",
                        MAX_LINE, MAX_LINE
                    ),
                )),
            ))
        } else {
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim(),
                Err(_) => {
                    out.push((
                        line,
                        Err((
                            "invalid_encoding",
                            "该行不是有效的 UTF-8 编码 / line is not valid UTF-8".to_string(),
                        )),
                    ));
                    if out.len() >= batch
                        && tx
                            .blocking_send(Msg::Batch(std::mem::take(&mut out)))
                            .is_err()
                    {
                        return;
                    }
                    continue;
                }
            };
            let text = text.trim_start_matches('\u{feff}');
            if text.is_empty() {
                None
            } else {
                Some(match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(m)) => (line, Ok(m)),
                    Ok(_) => (
                        line,
                        Err((
                            "not_an_object",
                            "每行应为一个 JSON 对象 / each line must be a JSON object".to_string(),
                        )),
                    ),
                    Err(e) => (
                        line,
                        Err((
                            "invalid_json",
                            format!("JSON 格式错误：{e} / invalid JSON: {e}"),
                        )),
                    ),
                })
            }
        };
        if let Some(item) = item {
            out.push(item);
        }
        if out.len() >= batch
            && tx
                .blocking_send(Msg::Batch(std::mem::take(&mut out)))
                .is_err()
        {
            return;
        }
    }
    if !out.is_empty() {
        let _ = tx.blocking_send(Msg::Batch(out));
    }
}

fn decode(bytes: &[u8], gbk: bool) -> Option<String> {
    if gbk {
        let (s, _, bad) = encoding_rs::GB18030.decode(bytes);
        (!bad).then(|| s.into_owned())
    } else {
        std::str::from_utf8(bytes).ok().map(str::to_string)
    }
}

fn parse_csv(reader: impl Read, gbk: bool, batch: usize, tx: &mpsc::Sender<Msg>) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut records = r.byte_records();
    let header = match records.next() {
        None => {
            let _ = tx.blocking_send(Msg::Fatal(AppError::bad_request(
                Code::EMPTY_IMPORT,
                "CSV 文件为空 / the CSV file is empty",
                "",
            )));
            return;
        }
        Some(Err(e)) => {
            let _ = tx.blocking_send(Msg::Fatal(AppError::bad_request(
                Code::INVALID_CSV,
                format!("CSV 表头无法读取：{e}"),
                format!("cannot read the CSV header: {e}"),
            )));
            return;
        }
        Some(Ok(h)) => h,
    };
    let mut names = Vec::new();
    for (i, f) in header.iter().enumerate() {
        let f = if i == 0 {
            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
        } else {
            f
        };
        match decode(f, gbk) {
            Some(s) => names.push(s.trim().to_string()),
            None => {
                let _ = tx.blocking_send(Msg::Fatal(AppError::bad_request(
                    Code::INVALID_ENCODING,
                    "CSV 文件不是 UTF-8 编码；请另存为 UTF-8，或以 Content-Type: text/csv; charset=gbk 上传 GBK 文件",
                    "the CSV file is not UTF-8; save it as UTF-8, or send GBK files with Content-Type: text/csv; charset=gbk",
                )));
                return;
            }
        }
    }
    let mut out = Vec::with_capacity(batch);
    for rec in records {
        let item = match rec {
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                (
                    line,
                    Err((
                        "invalid_csv",
                        format!("CSV 格式错误：{e} / malformed CSV: {e}"),
                    )),
                )
            }
            Ok(rec) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                if rec.len() > names.len() {
                    (
                        line,
                        Err((
                            "too_many_columns",
                            format!(
                                "该行有 {} 列，表头只有 {} 列 / row has {} columns, the header {}",
                                rec.len(),
                                names.len(),
                                rec.len(),
                                names.len()
                            ),
                        )),
                    )
                } else {
                    let mut m = Map::new();
                    let mut bad = false;
                    for (name, f) in names.iter().zip(rec.iter()) {
                        match decode(f, gbk) {
                            Some(s) => {
                                m.insert(name.clone(), Value::String(s));
                            }
                            None => bad = true,
                        }
                    }
                    if bad {
                        (
                            line,
                            Err((
                                "invalid_encoding",
                                "该行不是有效的 UTF-8 编码 / row is not valid UTF-8".to_string(),
                            )),
                        )
                    } else {
                        (line, Ok(m))
                    }
                }
            }
        };
        out.push(item);
        if out.len() >= batch
            && tx
                .blocking_send(Msg::Batch(std::mem::take(&mut out)))
                .is_err()
        {
            return;
        }
    }
    if !out.is_empty() {
        let _ = tx.blocking_send(Msg::Batch(out));
    }
}

fn parse_xlsx(
    path: &std::path::Path,
    limits: &crate::sheet::SheetLimits,
    batch: usize,
    tx: &mpsc::Sender<Msg>,
) {
    let mut names: Option<Vec<String>> = None;
    let mut out = Vec::with_capacity(batch);
    let mut closed = false;
    let r = crate::sheet::read_rows(&|| std::fs::File::open(path), limits, |line, cells| {
        let Some(names) = &names else {
            names = Some(cells.iter().map(|c| c.trim().to_string()).collect());
            return true;
        };
        let mut m = Map::new();
        for (name, v) in names.iter().zip(cells) {
            if !name.is_empty() && !v.is_empty() {
                m.insert(name.clone(), Value::String(v));
            }
        }
        if m.is_empty() {
            return true;
        }
        out.push((line, Ok(m)));
        if out.len() >= batch
            && tx
                .blocking_send(Msg::Batch(std::mem::take(&mut out)))
                .is_err()
        {
            closed = true;
            return false;
        }
        true
    });
    if let Err(e) = r {
        let _ = tx.blocking_send(Msg::Fatal(e));
        return;
    }
    if closed {
        return;
    }
    if names.is_none() {
        let _ = tx.blocking_send(Msg::Fatal(AppError::bad_request(
            Code::EMPTY_IMPORT,
            "XLSX 工作表为空",
            "the sheet is empty",
        )));
        return;
    }
    if !out.is_empty() {
        let _ = tx.blocking_send(Msg::Batch(out));
    }
}

/// Where an import reads from.
pub enum Source {
    /// A stream (HTTP body bridge, file).
    Reader(Box<dyn Read + Send>),
    /// An XLSX file on disk (XLSX needs random access).
    XlsxFile(std::path::PathBuf),
}

/// Runs an import to the end and makes its records searchable before returning.
pub async fn run(
    ctx: &App,
    entity: Entity,
    format: Format,
    source: Source,
    progress: impl FnMut(&ImportSummary) + Send,
) -> Result<ImportSummary, AppError> {
    let started = std::time::Instant::now();
    let r = run_to_end(ctx, entity, format, source, progress).await;
    let records = r.as_ref().map(|s| s.processed()).unwrap_or(0);
    ctx.metrics
        .import_run(crate::metrics::Outcome::of(&r), started.elapsed(), records);
    r
}

/// Runs an import's parser on a thread of its own; the receiver hears when it is done (and
/// errs if it panicked). Not on the blocking pool: a parser lives as long as its upload and
/// waits on the consumer, whose store writes may themselves need the pool (a database
/// connection's host-name lookup), so under the pool's bound (`server.blocking_threads`)
/// parsers holding its threads could wait for ever.
fn spawn_parser(
    parse: impl FnOnce() + Send + 'static,
) -> Result<tokio::sync::oneshot::Receiver<()>, AppError> {
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("duijie-import".into())
        .spawn(move || {
            parse();
            let _ = done.send(());
        })
        .map_err(|e| AppError::Internal(format!("cannot start the import's parser: {e}")))?;
    Ok(finished)
}

async fn run_to_end(
    ctx: &App,
    entity: Entity,
    format: Format,
    source: Source,
    mut progress: impl FnMut(&ImportSummary) + Send,
) -> Result<ImportSummary, AppError> {
    let batch = ctx.settings.import.batch_size;
    let limits = crate::sheet::SheetLimits::of(&ctx.settings);
    let max_errors = ctx.settings.import.max_reported_errors;
    let (tx, mut rx) = mpsc::channel::<Msg>(2);
    let parser = spawn_parser(move || match (format, source) {
        (Format::Jsonl, Source::Reader(r)) => parse_jsonl(r, batch, &tx),
        (Format::Csv { gbk }, Source::Reader(r)) => parse_csv(r, gbk, batch, &tx),
        (Format::Xlsx, Source::XlsxFile(p)) => parse_xlsx(&p, &limits, batch, &tx),
        _ => {
            let _ = tx.blocking_send(Msg::Fatal(AppError::Internal(
                "import source does not fit its format".into(),
            )));
        }
    })?;
    let mut summary = ImportSummary::default();
    let mut seen_any = false;
    while let Some(msg) = rx.recv().await {
        let items = match msg {
            Msg::Fatal(e) => {
                // stop the parser (dropping the receiver) and report; what was already
                // imported stays imported
                drop(rx);
                let _ = parser.await;
                if seen_any {
                    ctx.make_searchable().await?;
                }
                return Err(e);
            }
            Msg::Batch(items) => items,
        };
        seen_any = true;
        let mut drafts = Vec::with_capacity(items.len());
        let mut lines = Vec::with_capacity(items.len());
        for (line, rec) in items {
            match rec {
                Err((code, message)) => summary.fail(
                    LineError {
                        line,
                        code,
                        message,
                    },
                    max_errors,
                ),
                Ok(rec) => match listings::validate(ctx, entity, &input::canonicalize(rec)) {
                    Ok(d) => {
                        drafts.push(d);
                        lines.push(line);
                    }
                    Err(AppError::Validation(f)) => summary.fail(
                        LineError {
                            line,
                            code: f.0.first().map(|e| e.code).unwrap_or("invalid"),
                            message: f.summary(),
                        },
                        max_errors,
                    ),
                    Err(e) => return Err(e),
                },
            }
        }
        if !drafts.is_empty() {
            let t = std::time::Instant::now();
            let outcomes = ctx.store.import_batch(&drafts).await?;
            tracing::debug!(
                records = drafts.len(),
                ms = t.elapsed().as_millis() as u64,
                "import batch stored"
            );
            for (line, o) in lines.into_iter().zip(outcomes) {
                match o {
                    ImportOutcome::Inserted(_) => summary.imported += 1,
                    ImportOutcome::Updated(_) => summary.updated += 1,
                    ImportOutcome::Failed { code, message } => summary.fail(
                        LineError {
                            line,
                            code,
                            message,
                        },
                        max_errors,
                    ),
                }
            }
            if let Some(ix) = &ctx.indexer {
                ix.nudge();
            }
        }
        progress(&summary);
    }
    parser
        .await
        .map_err(|_| AppError::Internal("the import's parser stopped without finishing".into()))?;
    if !seen_any {
        return Err(AppError::bad_request(
            Code::EMPTY_IMPORT,
            "导入内容为空，没有任何记录",
            "the import contains no records",
        ));
    }
    summary.errors.sort_by_key(|e| e.line);
    ctx.make_searchable().await?;
    Ok(summary)
}

#[cfg(test)]
#[path = "import_fuzz.rs"]
mod fuzz;
