//! The relayer operator's commands. The relayer is its own program,
//! `micropay-relayer`; `micropay relayer run` starts it so that the CLI does not link
//! the server.

use std::{os::unix::process::CommandExt, path::PathBuf};

use anyhow::{anyhow, Context as _};
use micropay_api::{StreamStatus, MAX_PAGE};
use micropay_client::relayer::RelayerClient;
use serde_json::json;
use solana_sdk::pubkey::Pubkey;

use crate::{
    context::{now_ms, Context},
    output::emit,
    payer::relayer_error,
};

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

/// Settlements `relayer status` lists, from the last ten minutes.
const RECENT_SETTLEMENTS: usize = 5;
const RECENT_WINDOW_MS: i64 = 600_000;

pub async fn status(ctx: &Context) -> anyhow::Result<()> {
    // Health needs no deployment: it says which one the relayer serves.
    let client = RelayerClient::new(&ctx.relayer_url, Pubkey::default());
    let health = client.health().await.map_err(|e| relayer_error(ctx, e))?;
    let status = client.status().await.map_err(|e| relayer_error(ctx, e))?;
    // The settlements of the last ten minutes (a page of them), the newest shown.
    let mut recent = client
        .settlements(now_ms() - RECENT_WINDOW_MS, MAX_PAGE)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let recent = recent.split_off(recent.len().saturating_sub(RECENT_SETTLEMENTS));
    let settled = status.totals(StreamStatus::Settled);
    let mut text = format!(
        "Relayer at {}: {}\n  deployment:  {}\n  sequencer:   {}\n  chain:       {}\n  \
         pending:     {} stream epochs, {} base units{}\n  \
         settled:     {} stream epochs, {} tips, {} base units; {} settlement transactions",
        ctx.relayer_url,
        health.status,
        health.config,
        health.sequencer,
        if health.chain_reachable {
            "reachable"
        } else {
            "NOT reachable"
        },
        status.pending_epochs,
        status.pending_amount,
        status
            .oldest_pending_ms
            .map_or(String::new(), |opened| format!(
                ", the oldest tipped {} s ago",
                (now_ms() - opened).max(0) / 1_000
            )),
        settled.epochs,
        settled.tips,
        settled.amount,
        status.settlement_transactions,
    );
    for settlement in &recent {
        text.push_str(&format!(
            "\n    {} {:?}: {} streams, {} tips, {} base units",
            settlement.signature,
            settlement.status,
            settlement.streams,
            settlement.tips,
            settlement.amount
        ));
    }
    emit(
        ctx,
        text,
        json!({
            "relayer": ctx.relayer_url,
            "health": serde_json::to_value(&health).context("encoding health")?,
            "status": serde_json::to_value(&status).context("encoding status")?,
            "recent_settlements": serde_json::to_value(&recent).context("encoding settlements")?,
        }),
    )
}
