//! The relayer operator's commands. The relayer is its own program,
//! `micropay-relayer`; `micropay relayer run` starts it so that the CLI does not link
//! the server.

use std::{os::unix::process::CommandExt, path::PathBuf};

use anyhow::{anyhow, Context as _};
use micropay_client::relayer::RelayerClient;
use serde_json::json;
use solana_sdk::pubkey::Pubkey;

use crate::{context::Context, output::emit, payer::relayer_error};

/// The `micropay-relayer` program: beside this executable, else on `PATH`.
fn relayer_program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("micropay-relayer")))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("micropay-relayer"))
}

/// Replaces this process with the relayer, passing `args` through.
pub fn run(args: &[String]) -> anyhow::Error {
    let program = relayer_program();
    let error = std::process::Command::new(&program).args(args).exec();
    anyhow!(error).context(format!(
        "starting {}: build it with `cargo build -p micropay-relayer` or put it on PATH",
        program.display()
    ))
}

pub async fn status(ctx: &Context) -> anyhow::Result<()> {
    // Health needs no deployment: it says which one the relayer serves.
    let client = RelayerClient::new(&ctx.relayer_url, Pubkey::default());
    let health = client.health().await.map_err(|e| relayer_error(ctx, e))?;
    emit(
        ctx,
        format!(
            "Relayer at {}: {}\n  deployment: {}\n  sequencer:  {}\n  chain:      {}",
            ctx.relayer_url,
            health.status,
            health.config,
            health.sequencer,
            if health.chain_reachable {
                "reachable"
            } else {
                "NOT reachable"
            }
        ),
        serde_json::to_value(&health)
            .context("encoding health")
            .map(|h| json!({ "relayer": ctx.relayer_url, "health": h }))?,
    )
}
