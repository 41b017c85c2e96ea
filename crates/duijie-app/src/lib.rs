//! The duijie application: everything the service does, without HTTP.
//!
//! [`App`] holds the running system (store, index, indexer, matcher, vocabulary); the
//! modules below are its services, one per responsibility, each taking a typed
//! [`auth::Caller`] where access matters and deciding it through [`authz::authorize`].
//! Errors are [`AppError`]s; the server maps their [`ErrorKind`] to an HTTP status in one
//! place and the command line prints them. Engines (`duijie-text`, `duijie-index`,
//! `duijie-store`, `duijie-match`) sit below this crate; the server sits above it.

pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod codes;
pub mod connections;
pub mod demo;
pub mod diagnostics;
pub mod egress;
pub mod error;
pub mod events;
pub mod export;
pub mod import;
pub mod indexer;
pub mod invite;
pub mod ledger;
pub mod listings;
pub mod mail;
pub mod matching;
pub mod metrics;
pub mod quality;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod search;
pub mod secrets;
pub mod settings;
pub mod sheet;
pub mod signup;
pub mod solver;
pub mod stats;

pub use app::{App, IndexMode, StartError};
pub use auth::{Caller, Via};
pub use codes::Code;
pub use error::{AppError, ErrorKind};
pub use settings::Settings;
