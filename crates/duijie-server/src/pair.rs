//! `duijie pair`: the offline solver over an instance file.

use anyhow::Context as _;
use std::path::Path;

/// Reads the instance, solves it and writes the solution; input errors name what is wrong.
pub fn run(input: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let started = std::time::Instant::now();
    let solution = duijie_app::solver::solve_text(&text)
        .map_err(|e| anyhow::anyhow!("{}: [{}] {}", input.display(), e.code(), e.message()))?;
    let json = serde_json::to_string_pretty(&solution)?;
    match output {
        Some(p) => {
            std::fs::write(p, json + "\n")
                .with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "{} pairs, {} enterprises served, total score {:.3}, {} unplaced, in {:.1} ms → {}",
                solution.pairs.len(),
                solution.enterprises_served,
                solution.total_score,
                solution.unplaced.len(),
                started.elapsed().as_secs_f64() * 1000.0,
                p.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(())
}
