//! `micropay demo`: the whole system on one machine. A local validator running the
//! program's bytecode, a mint and a deployment, payers with funded tabs and session
//! keys, payee wallets, the relayer (the sequencer) on SQLite, concurrent simulated
//! tippers over HTTP, settlement, and a report checked against the chain.

use std::{path::Path, time::Duration};

use anyhow::ensure;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micropay_client::{amount::format_ui, relayer::RelayerClient};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

use crate::{
    process::RelayerProcess,
    report::{SettlementReport, DIRECT_TRANSFER_FEE},
    scenario::{Expected, Stage},
    simulate::{live, Activity, Amount, Workload},
    Deployment, Devnet, Payer,
};

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Payers, each with a tab and a session key that signs its tips.
    #[arg(long, default_value_t = 16)]
    pub payers: usize,
    /// Payees (creators), wallets with a token account.
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
    /// The config's fee, basis points (payers sign it with every state).
    #[arg(long, default_value_t = 100)]
    pub fee_bps: u16,
    /// Instead: serve the tip widget on a page, with a demo wallet, against the local
    /// validator and relayer (build it first: `npm --prefix sdk ci && npm --prefix sdk run build`).
    #[arg(long)]
    pub web: bool,
    /// Where `--web` serves the page.
    #[arg(long, default_value = "127.0.0.1:7900")]
    pub listen: std::net::SocketAddr,
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
    /// Seconds from asking the relayer to settle to the last settlement confirmed.
    pub settle_seconds: f64,
    /// Everything the sequencer spent: settlement fees, lookup tables and their rent.
    pub sequencer_lamports: u64,
}

/// A finished demo: its report, and the chain it ran on (still running, to be checked).
pub struct Demo {
    pub report: DemoReport,
    pub devnet: Devnet,
    pub deployment: Deployment,
    pub payers: Vec<Payer>,
    pub payees: Vec<Pubkey>,
}

fn step(quiet: bool, message: &str) {
    if !quiet {
        eprintln!("• {message}");
    }
}

/// Runs the demo with `relayer_program` (a build of `micropay-relayer`) as the
/// relayer.
pub async fn run(args: &DemoArgs, relayer_program: &Path, quiet: bool) -> anyhow::Result<Demo> {
    ensure!(
        args.payers > 0 && args.payees > 0,
        "a demo needs at least one payer and one payee"
    );
    let decimals = Deployment::DECIMALS;
    let max_tip = micropay_client::amount::parse_ui(&args.max_tip, decimals)?;
    ensure!(max_tip > 0, "--max-tip must be more than zero");
    // Enough for every tip to land on one payer.
    let deposit = max_tip.saturating_mul(args.tips as u64).max(1);

    step(
        quiet,
        &format!(
            "starting a local validator with the micropay program's bytecode; {} tabs \
             with session keys, {} payee wallets",
            args.payers, args.payees
        ),
    );
    let stage = Stage::new(args.fee_bps, args.payers, deposit, args.payees).await?;
    let deployment = &stage.deployment;
    step(
        quiet,
        &format!(
            "deployment {} for mint {} ({decimals} decimals), fee {} bps, sequencer {}",
            deployment.config,
            deployment.mint,
            args.fee_bps,
            deployment.sequencer.pubkey()
        ),
    );

    let dir = tempfile::tempdir()?;
    let flags = deployment.relayer_flags(&stage.devnet, dir.path())?;
    let process = RelayerProcess::spawn_program(relayer_program, &flags).await?;
    let relayer = RelayerClient::new(&process.url, deployment.sequencer.pubkey());
    step(
        quiet,
        &format!(
            "relayer {} on {} with store {}",
            relayer_program.display(),
            process.url,
            flags.get("--store-url").unwrap_or_default()
        ),
    );
    let sequencer_before = stage.sequencer_balance().await?;

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
        batch: None,
    };
    let outcome = live::run(&relayer, &stage.payers, &stage.payees, &workload, &progress).await;
    progress.finish_and_clear();
    if let Some(error) = &outcome.first_error {
        anyhow::bail!("{} tip(s) failed; the first: {error}", outcome.failed);
    }

    step(quiet, "settling every stream");
    let settled = stage
        .settle(
            &process,
            &relayer,
            sequencer_before,
            Expected::tipped(&outcome),
            Duration::from_secs(600),
        )
        .await?;
    process.stop().await?;
    let Stage {
        devnet,
        deployment,
        payers,
        payees,
    } = stage;
    Ok(Demo {
        report: DemoReport {
            payers: args.payers,
            payees: args.payees,
            fee_bps: args.fee_bps,
            decimals,
            intake: Intake {
                accepted: outcome.accepted,
                failed: outcome.failed,
                seconds: outcome.elapsed.as_secs_f64(),
                tips_per_second: outcome.tips_per_second(),
                p50_ms: outcome.latency_ms(0.5),
                p99_ms: outcome.latency_ms(0.99),
            },
            settlement: settled.report,
            settle_seconds: settled.seconds,
            sequencer_lamports: settled.sequencer_lamports,
        },
        devnet,
        deployment,
        payers,
        payees,
    })
}

pub fn human(report: &DemoReport) -> String {
    let s = &report.settlement;
    let i = &report.intake;
    let ui = |amount: u64| format_ui(amount, report.decimals);
    let mut out = format!(
        "micropay demo: {} payers tipped {} payees {} times through the relayer, on the program's bytecode\n\n\
         intake      {} tips receipted in {:.1} s: {:.0} tips/s, receipt in hand after {:.1} ms (p50) / {:.1} ms (p99),\n\
         \x20           each state written to disk before its receipt\n\
         settlement  {} stream epochs in {} transactions: {:.1} tips and {:.1} streams per transaction,\n\
         \x20           {:.0} bytes on average ({} max), {:.0} compute units per stream; {:.1} s\n\
         fees        {} lamports of transaction fees: {:.1} lamports per tip, against {} for one transfer per tip ({:.0}x less);\n\
         \x20           the sequencer spent {} lamports in all, {} of them rent its lookup tables hold (returned when it retires them)\n\n\
         payouts (fee {} bps, signed by every state)   tipped          owed    on chain\n",
        report.payers,
        report.payees,
        i.accepted,
        i.accepted,
        i.seconds,
        i.tips_per_second,
        i.p50_ms,
        i.p99_ms,
        s.streams,
        s.transactions,
        s.tips_per_transaction,
        s.streams_per_transaction,
        s.transaction_bytes_mean,
        s.transaction_bytes_max,
        s.compute_units_per_stream,
        report.settle_seconds,
        s.fee_lamports,
        s.fee_lamports_per_tip,
        DIRECT_TRANSFER_FEE,
        DIRECT_TRANSFER_FEE as f64 / s.fee_lamports_per_tip.max(1e-9),
        report.sequencer_lamports,
        s.table_rent_lamports,
        report.fee_bps,
    );
    for p in &s.payees {
        out.push_str(&format!(
            "  {:<44} {:>10} {:>13} {:>11} {}\n",
            p.wallet,
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
        "\nEvery payee holds on chain exactly what its receipted tips owe it."
    } else {
        "\nSOME PAYOUTS DO NOT MATCH THE CHAIN."
    });
    out
}

pub async fn main(args: DemoArgs, json: bool) -> anyhow::Result<()> {
    if args.web {
        return crate::web::main(args.listen).await;
    }
    let demo = run(&args, &RelayerProcess::beside_this_program()?, json).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&demo.report)?);
    } else {
        println!("{}", human(&demo.report));
    }
    ensure!(
        demo.report.settlement.payouts_match,
        "payouts do not match the chain"
    );
    Ok(())
}
