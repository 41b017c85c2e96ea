//! The duijie server: settings, start-up, the JSON API and the command line. The only
//! crate that knows HTTP; everything it serves comes from the engine crates.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod bench;
pub mod cli;
pub mod context;
pub mod demo;
pub mod error;
pub mod eval;
pub mod events;
pub mod export;
pub mod extract;
pub mod import;
pub mod indexer;
pub mod invite;
pub mod ledger;
pub mod listings;
pub mod matching;
pub mod metrics;
pub mod openapi;
pub mod pair;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod stats;
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
