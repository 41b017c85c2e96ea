//! End-to-end tests: the real server on port 0 with a temporary data directory, driven
//! over HTTP (and the real `duijie` binary where a process must be killed or run).
//! One test binary with a module per feature, so it links once.

mod helpers;

mod alerts;
mod api_errors;
mod api_import;
mod api_listings;
mod api_search;
mod audit;
mod authz;
mod browser;
mod cli;
mod connections;
mod crash;
mod demo;
mod events;
mod hostile;
mod ledger;
mod mail;
mod matching;
mod metrics;
mod openapi;
mod participation;
mod pg_restart;
mod replicas;
mod storage;
mod web;
