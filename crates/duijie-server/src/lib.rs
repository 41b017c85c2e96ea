//! The duijie server: HTTP (the JSON API, the web pages, authentication middleware,
//! metrics), start-up and the command line. The only crate that knows HTTP; everything it
//! serves comes from the application crate, `duijie-app`.

pub mod auth;
pub mod bench;
pub mod cli;
pub mod error;
pub mod eval;
pub mod extract;
pub mod guard;
pub mod metrics;
pub mod openapi;
pub mod pair;
pub mod routes;
pub mod startup;
pub mod web;

/// Installs the tracing subscriber (pretty or JSON, filter from settings or RUST_LOG).
pub fn init_tracing(format: &str, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
