//! `micropay demo`: the whole system on one machine. A local validator running the
//! program, a mint and a deployment, payers with funded tabs and session keys, payees,
//! a relayer on SQLite, concurrent simulated tippers over HTTP, settlement, and a report
//! checked against the chain.

use std::time::{Duration, Instant};

use anyhow::ensure;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micropay_client::{
    amount::format_ui,
    localnet::{wait_settled, LocalDeployment, Payer, DECIMALS},
};
use micropay_relayer_v1::run::start;
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

use crate::{
    args::Output,
    output::print,
    report::{settlement_report, SettlementReport, DIRECT_TRANSFER_FEE},
    simulate::{self, Activity, Amount, Workload},
};

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Payers, each with a tab and a session key that signs its tips.
    #[arg(long, default_value_t = 16)]
    pub payers: usize,
    /// Payees (creators), each with a token account.
    #[arg(long, default_value_t = 8)]
    pub payees: usize,
    /// Tips to send.
    #[arg(long, default_value_t = 5_000)]
    pub tips: usize,
    /// Concurrent simulated users (HTTP clients).
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Largest tip, in token units (tips are uniform from one base unit up to this).
    #[arg(long, default_value = "0.01")]
    pub max_tip: String,
    /// Relayer fee, basis points.
    #[arg(long, default_value_t = 100)]
    pub fee_bps: u16,
}

#[derive(Debug, Serialize)]
pub struct Intake {
    pub accepted: u64,
    pub failed: u64,
    pub seconds: f64,
    pub tips_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub payers: usize,
    pub payees: usize,
    pub fee_bps: u16,
    pub decimals: u8,
    pub intake: Intake,
    pub settlement: SettlementReport,
    /// Seconds from the last tip to the last settlement confirmed.
    pub settle_seconds: f64,
}

/// A finished demo: its report, and the chain it ran on (still running, to be checked).
pub struct Demo {
    pub report: DemoReport,
    pub local: LocalDeployment,
    pub payers: Vec<Payer>,
    pub payees: Vec<Pubkey>,
}

fn step(quiet: bool, message: &str) {
    if !quiet {
        eprintln!("• {message}");
    }
}

pub async fn run(args: &DemoArgs, quiet: bool) -> anyhow::Result<Demo> {
    ensure!(
        args.payers > 0 && args.payees > 0,
        "a demo needs at least one payer and one payee"
    );
    let max_tip = micropay_client::amount::parse_ui(&args.max_tip, DECIMALS)?;
    ensure!(max_tip > 0, "--max-tip must be more than zero");
    // Enough for every tip to land on one payer.
    let deposit = max_tip.saturating_mul(args.tips as u64).max(1);

    step(
        quiet,
        "starting a local validator with the micropay program",
    );
    let local = LocalDeployment::start(args.fee_bps).await?;
    step(
        quiet,
        &format!(
            "deployment {} for mint {} ({} decimals), fee {} bps",
            local.deployment.config, local.deployment.mint, DECIMALS, args.fee_bps
        ),
    );
    step(
        quiet,
        &format!(
            "opening {} tabs with session keys, {} payee accounts",
            args.payers, args.payees
        ),
    );
    let payers = local.payers_with_sessions(args.payers, deposit).await?;
    let payees = local.payees(args.payees).await?;

    let dir = tempfile::tempdir()?;
    let mut relayer_args = local
        .relayer_args(dir.path(), &local.validator.rpc_url(), 3_600)
        .await?;
    relayer_args.settle_interval_ms = 200;
    let running = start(&relayer_args).await?;
    step(
        quiet,
        &format!(
            "relayer on http://{} with store {}",
            running.addr, relayer_args.store_url
        ),
    );

    let progress = if quiet {
        ProgressBar::with_draw_target(Some(args.tips as u64), ProgressDrawTarget::hidden())
    } else {
        ProgressBar::new(args.tips as u64).with_style(
            ProgressStyle::with_template("  {bar:40} {pos}/{len} tips  {per_sec}  {elapsed}")
                .expect("template"),
        )
    };
    let workload = Workload {
        activity: Activity::Zipf(1.0),
        amount: Amount::Tips(args.tips),
        clients: args.clients,
        max_tip,
        seed: 7,
    };
    let outcome = simulate::run(
        &format!("http://{}", running.addr),
        &payers,
        &payees,
        &workload,
        &progress,
    )
    .await;
    progress.finish_and_clear();
    if let Some(error) = &outcome.first_error {
        anyhow::bail!("{} tip(s) failed; the first: {error}", outcome.failed);
    }

    step(quiet, "settling every open epoch");
    let settle_started = Instant::now();
    running.settle_now();
    wait_settled(running.relayer.store.as_ref(), Duration::from_secs(600)).await?;
    let settle_seconds = settle_started.elapsed().as_secs_f64();
    let settlement = settlement_report(
        running.relayer.store.as_ref(),
        &local.rpc,
        args.fee_bps,
        &payees,
    )
    .await?;
    running.shutdown().await;

    ensure!(
        settlement.tips == outcome.accepted,
        "{} tips were accepted but {} settled",
        outcome.accepted,
        settlement.tips
    );
    for (payout, sent) in settlement.payees.iter().zip(&outcome.per_payee) {
        ensure!(
            payout.gross == *sent,
            "payee {} was tipped {sent} but settled {}",
            payout.payee,
            payout.gross
        );
    }
    Ok(Demo {
        report: DemoReport {
            payers: args.payers,
            payees: args.payees,
            fee_bps: args.fee_bps,
            decimals: DECIMALS,
            intake: Intake {
                accepted: outcome.accepted,
                failed: outcome.failed,
                seconds: outcome.elapsed.as_secs_f64(),
                tips_per_second: outcome.tips_per_second(),
                p50_ms: outcome.latency_ms(0.5),
                p99_ms: outcome.latency_ms(0.99),
            },
            settlement,
            settle_seconds,
        },
        local,
        payers,
        payees,
    })
}

pub fn human(report: &DemoReport) -> String {
    let s = &report.settlement;
    let i = &report.intake;
    let ui = |amount: u64| format_ui(amount, report.decimals);
    let mut out = format!(
        "micropay demo: {} payers tipped {} payees {} times through the relayer\n\n\
         intake      {} tips accepted in {:.1} s: {:.0} tips/s, acknowledged in {:.1} ms (p50) / {:.1} ms (p99),\n\
         \x20           each written to disk before its acknowledgement\n\
         settlement  {} epochs in {} transactions: {:.1} tips and {:.1} tabs per transaction, \
         {:.0} bytes on average ({} max); {:.1} s after the last tip\n\
         fees        {} lamports in all: {:.1} lamports per tip, against {} for one transfer per tip ({:.0}x less)\n\n\
         payouts (fee {} bps per netted credit)      tipped          paid    on chain\n",
        report.payers,
        report.payees,
        i.accepted,
        i.accepted,
        i.seconds,
        i.tips_per_second,
        i.p50_ms,
        i.p99_ms,
        s.epochs,
        s.transactions,
        s.tips_per_transaction,
        s.tabs_per_transaction,
        s.transaction_bytes_mean,
        s.transaction_bytes_max,
        report.settle_seconds,
        s.fee_lamports,
        s.fee_lamports_per_tip,
        DIRECT_TRANSFER_FEE,
        DIRECT_TRANSFER_FEE as f64 / s.fee_lamports_per_tip.max(1e-9),
        report.fee_bps,
    );
    for p in &s.payees {
        out.push_str(&format!(
            "  {:<44} {:>10} {:>13} {:>11} {}\n",
            p.payee,
            ui(p.gross),
            ui(p.expected),
            ui(p.on_chain),
            if p.expected == p.on_chain {
                "ok"
            } else {
                "MISMATCH"
            }
        ));
    }
    out.push_str(if s.payouts_match {
        "\nEvery payee's on-chain balance equals what the settled tips owe it."
    } else {
        "\nSOME PAYOUTS DO NOT MATCH THE CHAIN."
    });
    out
}

pub async fn main(args: DemoArgs, output: Output) -> anyhow::Result<()> {
    let demo = run(&args, output == Output::Json).await?;
    print(
        output,
        &human(&demo.report),
        &serde_json::to_value(&demo.report)?,
    )?;
    ensure!(
        demo.report.settlement.payouts_match,
        "payouts do not match the chain"
    );
    Ok(())
}
