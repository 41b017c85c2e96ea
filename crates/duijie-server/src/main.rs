//! `duijie`: parse the command line, set up logging, run.

use clap::Parser;

/// mimalloc instead of the system allocator: large transient work (the matching model's
/// build reads every listing, an import parses its whole body) frees its memory back to the
/// system, where glibc's malloc kept most of it resident between the long-lived allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = duijie_server::cli::Cli::parse();
    let settings = duijie_server::cli::settings(&cli)?;
    duijie_server::init_tracing(&settings.log.format, &settings.log.level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(settings.server.blocking_pool())
        .build()?;
    runtime.block_on(duijie_server::cli::run(cli))
}
