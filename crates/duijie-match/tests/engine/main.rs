//! Integration tests of the pairing and scheduling engine.

mod brute;
mod certificate;
mod colouring;
mod common;
mod edits;
mod fuzz;
mod properties;
mod reasons;
mod validation;
