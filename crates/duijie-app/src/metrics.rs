//! Prometheus metrics (served at `GET /metrics`) (text exposition format 0.0.4).
//!
//! Counters and histograms live in memory, per process: HTTP requests by method, route
//! template and status with their latency; import and pairing runs with their durations;
//! webhook delivery attempts by outcome. Gauges are read at scrape time: index documents by
//! kind, index size and lag behind the store, resident memory and uptime. The format is a
//! few lines of text, so it is written here rather than through a metrics framework.

use crate::app::App;
use duijie_domain::ListingKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bucket bounds (seconds) of request latencies.
const REQUEST_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Bucket bounds (seconds) of import and pairing runs.
const RUN_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 600.0];

/// A cumulative histogram over fixed bounds.
#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations at or below each bound (not yet cumulative).
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], seconds: f64) {
        if self.buckets.len() != bounds.len() {
            self.buckets = vec![0; bounds.len()];
        }
        if let Some(i) = bounds.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// Writes `name_bucket`, `name_sum` and `name_count` with `labels` (already formatted,
    /// without braces; may be empty).
    fn write(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, b) in bounds.iter().enumerate() {
            cumulative += self.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// What a run ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Finished.
    Ok,
    /// Ended with an error (bad input included).
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
        }
    }

    /// The outcome of a result.
    pub fn of<T, E>(r: &Result<T, E>) -> Outcome {
        if r.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error
        }
    }
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// (method, route, status) → latency.
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    /// ("import" | "pairing", outcome) → duration.
    runs: Mutex<BTreeMap<(&'static str, Outcome), Histogram>>,
    /// Records processed by imports (accepted and rejected lines).
    import_records: Mutex<u64>,
    /// Webhook attempts by outcome ("delivered", "failed").
    deliveries: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            http: Mutex::default(),
            runs: Mutex::default(),
            import_records: Mutex::default(),
            deliveries: Mutex::default(),
        }
    }
}

/// Locks a mutex even if a panicking thread poisoned it (counters stay usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// Counts one HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        lock(&self.http)
            .entry((method.to_string(), route.to_string(), status))
            .or_default()
            .observe(&REQUEST_BUCKETS, took.as_secs_f64());
    }

    /// Counts one import run and the records it processed.
    pub fn import_run(&self, outcome: Outcome, took: Duration, records: u64) {
        self.run("import", outcome, took);
        *lock(&self.import_records) += records;
    }

    /// Counts one pairing run.
    pub fn pairing_run(&self, outcome: Outcome, took: Duration) {
        self.run("pairing", outcome, took);
    }

    fn run(&self, kind: &'static str, outcome: Outcome, took: Duration) {
        lock(&self.runs)
            .entry((kind, outcome))
            .or_default()
            .observe(&RUN_BUCKETS, took.as_secs_f64());
    }

    /// Counts one webhook attempt.
    pub fn delivery(&self, delivered: bool) {
        *lock(&self.deliveries)
            .entry(if delivered { "delivered" } else { "failed" })
            .or_default() += 1;
    }

    /// The counters and histograms in the text format.
    fn write_counters(&self, out: &mut String) {
        let http = lock(&self.http).clone();
        out.push_str("# HELP duijie_http_requests_total HTTP requests by method, route and status.\n# TYPE duijie_http_requests_total counter\n");
        for ((m, r, s), h) in &http {
            let _ = writeln!(
                out,
                "duijie_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
                escape(r),
                h.count
            );
        }
        out.push_str("# HELP duijie_http_request_duration_seconds Time to answer an HTTP request.\n# TYPE duijie_http_request_duration_seconds histogram\n");
        for ((m, r, s), h) in &http {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{s}\"", escape(r));
            h.write(
                out,
                "duijie_http_request_duration_seconds",
                &labels,
                &REQUEST_BUCKETS,
            );
        }
        let runs = lock(&self.runs).clone();
        for (kind, what) in [
            ("import", "bulk imports (API, page or command line)"),
            ("pairing", "pairing generations of events"),
        ] {
            let _ = writeln!(
                out,
                "# HELP duijie_{kind}_runs_total Finished {what} by outcome.\n# TYPE duijie_{kind}_runs_total counter"
            );
            for outcome in [Outcome::Ok, Outcome::Error] {
                let n = runs.get(&(kind, outcome)).map(|h| h.count).unwrap_or(0);
                let _ = writeln!(
                    out,
                    "duijie_{kind}_runs_total{{outcome=\"{}\"}} {n}",
                    outcome.label()
                );
            }
            let _ = writeln!(
                out,
                "# HELP duijie_{kind}_duration_seconds Duration of {what}.\n# TYPE duijie_{kind}_duration_seconds histogram"
            );
            for outcome in [Outcome::Ok, Outcome::Error] {
                let h = runs.get(&(kind, outcome)).cloned().unwrap_or_default();
                h.write(
                    out,
                    &format!("duijie_{kind}_duration_seconds"),
                    &format!("outcome=\"{}\"", outcome.label()),
                    &RUN_BUCKETS,
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP duijie_import_records_total Lines read by imports, accepted or not.\n# TYPE duijie_import_records_total counter\nduijie_import_records_total {}",
            *lock(&self.import_records)
        );
        let deliveries = lock(&self.deliveries).clone();
        out.push_str("# HELP duijie_webhook_deliveries_total Webhook delivery attempts by outcome.\n# TYPE duijie_webhook_deliveries_total counter\n");
        for outcome in ["delivered", "failed"] {
            let _ = writeln!(
                out,
                "duijie_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}",
                deliveries.get(outcome).copied().unwrap_or(0)
            );
        }
    }
}

/// Escapes a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Resident memory of this process in bytes (Linux; 0 elsewhere).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// The whole exposition (`GET /metrics`): counters, then gauges read now.
pub async fn render(ctx: &App) -> String {
    let mut out = String::with_capacity(16 * 1024);
    ctx.metrics.write_counters(&mut out);
    // gauges read now; a failing read leaves its gauge out rather than failing the scrape
    let ix = ctx.index.clone();
    let counts = tokio::task::spawn_blocking(move || {
        ListingKind::ALL
            .iter()
            .filter_map(|k| ix.count(Some(*k)).ok().map(|n| (k.plural(), n)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    out.push_str("# HELP duijie_index_documents Documents in the search index by kind.\n# TYPE duijie_index_documents gauge\n");
    for (kind, n) in counts {
        let _ = writeln!(out, "duijie_index_documents{{kind=\"{kind}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP duijie_index_size_bytes Size of the index directory.\n# TYPE duijie_index_size_bytes gauge\nduijie_index_size_bytes {}",
        ctx.index.size_bytes()
    );
    if let (Ok(seq), Ok(applied)) = (ctx.store.max_seq().await, ctx.index.applied_seq()) {
        let _ = writeln!(
            out,
            "# HELP duijie_index_lag_changes Store changes not yet in the index.\n# TYPE duijie_index_lag_changes gauge\nduijie_index_lag_changes {}",
            (seq - applied).max(0)
        );
    }
    let _ = writeln!(
        out,
        "# HELP process_resident_memory_bytes Resident memory.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
        resident_bytes()
    );
    let _ = writeln!(
        out,
        "# HELP duijie_uptime_seconds Seconds since the process started.\n# TYPE duijie_uptime_seconds gauge\nduijie_uptime_seconds {:.3}",
        ctx.metrics.started.elapsed().as_secs_f64()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_everything() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/search", 200, Duration::from_micros(500));
        m.request("GET", "/api/v1/search", 200, Duration::from_millis(30));
        m.request("GET", "/api/v1/search", 200, Duration::from_secs(20));
        let mut out = String::new();
        m.write_counters(&mut out);
        let line = |needle: &str| {
            out.lines()
                .find(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle} in\n{out}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        };
        let labels = "method=\"GET\",route=\"/api/v1/search\",status=\"200\"";
        assert_eq!(
            line(&format!("duijie_http_requests_total{{{labels}}}")),
            "3"
        );
        assert_eq!(
            line(&format!(
                "duijie_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}}"
            )),
            "1"
        );
        assert_eq!(
            line(&format!(
                "duijie_http_request_duration_seconds_bucket{{{labels},le=\"0.05\"}}"
            )),
            "2"
        );
        assert_eq!(
            line(&format!(
                "duijie_http_request_duration_seconds_bucket{{{labels},le=\"10\"}}"
            )),
            "2",
            "20 s is above the last bound"
        );
        assert_eq!(
            line(&format!(
                "duijie_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}"
            )),
            "3"
        );
        assert_eq!(line("duijie_pairing_runs_total{outcome=\"ok\"}"), "0");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
