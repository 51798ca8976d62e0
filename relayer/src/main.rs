//! `micropay-relayer`: runs the relayer until SIGTERM or Ctrl-C.

use clap::Parser;
use micropay_relayer::run::{start, RelayerArgs};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    version,
    about = "micropay relayer: durable intake of signed tips, batched settlement"
)]
struct Cli {
    #[command(flatten)]
    relayer: RelayerArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let running = start(&cli.relayer).await?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down: finishing requests and the current settlement pass");
    running.shutdown().await;
    Ok(())
}
