//! The pairing solver on its own (`duijie pair`): an instance file in, the optimal
//! assignment and schedule out, without any stored event.

use crate::codes::Code;
use crate::error::{AppError, ErrorKind};
pub use duijie_match::Solution;

fn refusal(e: duijie_match::PairError) -> AppError {
    AppError::BadRequest {
        code: Code::of(e.code(), ErrorKind::BadRequest),
        message: format!("{} / {e}", e.message_zh()),
    }
}

/// Parses, validates and solves an instance given as JSON text; input errors carry the
/// solver's code and a bilingual message.
pub fn solve_text(text: &str) -> Result<Solution, AppError> {
    let instance = duijie_match::parse_instance(text).map_err(refusal)?;
    instance.validate().map_err(refusal)?;
    duijie_match::solve(&instance, &duijie_match::SolveOptions::default()).map_err(refusal)
}
