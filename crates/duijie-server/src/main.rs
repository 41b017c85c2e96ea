//! `duijie`: parse the command line, set up logging, run.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = duijie_server::cli::Cli::parse();
    let settings = duijie_server::cli::settings(&cli)?;
    duijie_server::init_tracing(&settings.log.format, &settings.log.level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(duijie_server::cli::run(cli))
}
