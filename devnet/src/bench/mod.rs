//! `micropay bench`: named workloads, each on a fresh devnet running the program's
//! bytecode, with the relayer as its own OS process (`--relayer-program`, by default
//! the `micropay-relayer` beside this one, so that its CPU and memory are its own),
//! driven over loopback HTTP.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{ensure, Context};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use micropay_client::relayer::RelayerClient;
use serde::Serialize;
use solana_sdk::signer::Signer;

pub mod results;

use results::{machine, table, BenchResults, BenchRow, ComputeResults};

use crate::{
    compute::{instruction_costs, settlement_capacity},
    paid::{self, PaidWorkload},
    process::{runtime_cpu_seconds, RelayerProcess},
    scenario::{Expected, Stage},
    simulate::{
        live,
        presigned::{Presigned, Sent},
        Activity, Amount, Outcome, Workload,
    },
};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadName {
    /// Compute units, bytes and accounts of every instruction, and settlements of 1, 4
    /// and the most one-tip streams that fit, on the bytecode in solana-program-test.
    Compute,
    /// 64 payers, 8 payees, 200,000 tips, Zipf-skewed payer activity.
    Stream,
    /// 5,000 payers, 100 payees, one tip each.
    Fans,
    /// Concurrent clients submitting for a fixed time, one state per request.
    Ingest,
    /// Ingest by fewer clients, each sending `--batch-states` of its streams' states
    /// per request (`POST /v1/states`), as a gateway collecting its users' tips would.
    IngestBatch,
    /// Ingest for `--soak-secs` (10 minutes) while the relayer settles every 30 s:
    /// every receipted tip settled once, the relayer's memory sampled as it goes. Run
    /// only when named.
    Soak,
    /// HTTP calls paid per call (x402 `micropay`) beside the same calls unpaid and
    /// x402 `exact` (one transfer per call).
    Paid,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Workloads to run (default: all).
    #[arg(value_enum)]
    pub workloads: Vec<WorkloadName>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench-results.json")]
    pub json: PathBuf,
    /// Seconds the ingest workload submits for.
    #[arg(long, default_value_t = 20)]
    pub ingest_secs: u64,
    /// Seconds the soak workload runs.
    #[arg(long, default_value_t = 600)]
    pub soak_secs: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// The ingest-batch workload's concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub batch_clients: usize,
    /// States per request in the ingest-batch workload.
    #[arg(long, default_value_t = 64)]
    pub batch_states: usize,
    /// Multiplies every workload's payers and tips (e.g. 0.05 for a quick look).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// The config's fee, basis points.
    #[arg(long, default_value_t = 100)]
    pub fee_bps: u16,
    /// Calls the paid workload pays for.
    #[arg(long, default_value_t = 10_000)]
    pub paid_calls: usize,
    /// The paid workload's concurrent clients (each pays from its own stream).
    #[arg(long, default_value_t = 16)]
    pub paid_clients: usize,
    /// Calls per second the paid workload offers, in all (0: as fast as they go).
    #[arg(long, default_value_t = 1_000)]
    pub paid_rate: u64,
    /// Calls the paid workload's x402 `exact` baseline pays, one transfer each.
    #[arg(long, default_value_t = 500)]
    pub exact_calls: usize,
    /// The relayer program to measure (default: `micropay-relayer` beside this one).
    /// `scripts/micropay bench` builds it with `--release`, as it is deployed.
    #[arg(long, env = "MICROPAY_RELAYER_PROGRAM")]
    pub relayer_program: Option<PathBuf>,
}

async fn run_workload(
    name: WorkloadName,
    args: &BenchArgs,
    relayer_program: &Path,
) -> anyhow::Result<BenchRow> {
    let scaled = |n: usize| ((n as f64 * args.scale).round() as usize).max(1);
    let (payers, payees, workload) = match name {
        WorkloadName::Stream => (
            64,
            8,
            Workload {
                activity: Activity::Zipf(1.0),
                amount: Amount::Tips(scaled(200_000)),
                clients: args.clients,
                max_tip: 10_000,
                seed: 1,
                batch: None,
            },
        ),
        WorkloadName::Fans => {
            let payers = scaled(5_000);
            (
                payers,
                100,
                Workload {
                    activity: Activity::Uniform,
                    amount: Amount::Tips(payers),
                    clients: args.clients,
                    max_tip: 10_000,
                    seed: 2,
                    batch: None,
                },
            )
        }
        WorkloadName::Compute => unreachable!("measured in solana-program-test"),
        WorkloadName::Paid => unreachable!("run by `paid::run`"),
        WorkloadName::Ingest | WorkloadName::Soak => (
            args.clients * 4,
            16,
            Workload {
                activity: Activity::Uniform,
                amount: Amount::For(Duration::from_secs(if name == WorkloadName::Soak {
                    args.soak_secs
                } else {
                    args.ingest_secs
                })),
                clients: args.clients,
                max_tip: 10_000,
                seed: if name == WorkloadName::Soak { 4 } else { 3 },
                batch: None,
            },
        ),
        // The same payers as ingest, driven by fewer clients that batch.
        WorkloadName::IngestBatch => (
            args.clients * 4,
            16,
            Workload {
                activity: Activity::Uniform,
                amount: Amount::For(Duration::from_secs(args.ingest_secs)),
                clients: args.batch_clients,
                max_tip: 10_000,
                seed: 5,
                batch: Some(args.batch_states.clamp(1, micropay_api::MAX_BATCH_STATES)),
            },
        ),
    };
    let deposit = match workload.amount {
        Amount::Tips(tips) => workload.max_tip * tips as u64,
        Amount::For(duration) => workload.max_tip * 20_000 * duration.as_secs().max(1),
    };
    eprintln!("[{name:?}] devnet, {payers} payers, {payees} payees");
    let setup = Instant::now();
    let stage = Stage::new(args.fee_bps, payers, deposit, payees).await?;
    eprintln!(
        "[{name:?}] set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let mut flags = stage.deployment.relayer_flags(&stage.devnet, dir.path())?;
    if name == WorkloadName::Soak {
        // Settlement runs beside intake the whole time, as in production.
        flags.set("--settle-max-age-secs", 30);
    }
    let process = RelayerProcess::spawn_program(relayer_program, &flags).await?;
    let relayer = RelayerClient::new(&process.url, stage.deployment.sequencer.pubkey());
    let sequencer_before = stage.sequencer_balance().await?;

    // The throughput workloads sign ahead so that the window measures the relayer; the
    // soak signs as it goes, as wallets do, for as long as it runs.
    let presigned = if name == WorkloadName::Soak {
        None
    } else {
        let presigned =
            Presigned::prepare(&relayer, &stage.payers, &stage.payees, &workload).await?;
        eprintln!("[{name:?}] {} states signed ahead", presigned.states());
        Some(presigned)
    };
    let progress = match workload.amount {
        Amount::Tips(tips) => ProgressBar::new(tips as u64),
        Amount::For(_) => ProgressBar::no_length(),
    }
    .with_style(
        ProgressStyle::with_template("  {bar:40} {pos} tips  {per_sec}  {elapsed}")
            .expect("template"),
    );
    // The soak settles beside intake, as in production, and needs the chain at pace.
    let background = (name != WorkloadName::Soak).then(|| stage.devnet.in_background());
    let cpu_before = process.cpu_seconds()?;
    let client_cpu_before = runtime_cpu_seconds()?;
    let window = async {
        match presigned {
            Some(presigned) => Window::Unchecked(presigned.send(&relayer, &progress).await),
            None => Window::Checked(
                live::run(&relayer, &stage.payers, &stage.payees, &workload, &progress).await,
            ),
        }
    };
    tokio::pin!(window);
    let mut rss_mib = Vec::new();
    let mut sample = tokio::time::interval(RSS_EVERY);
    let window = loop {
        tokio::select! {
            window = &mut window => break window,
            _ = sample.tick() => rss_mib.push(process.rss_mib()?),
        }
    };
    rss_mib.push(process.rss_mib()?);
    let intake_cpu = process.cpu_seconds()? - cpu_before;
    let client_cpu = runtime_cpu_seconds()? - client_cpu_before;
    drop(background);
    progress.finish_and_clear();
    let outcome = match window {
        Window::Unchecked(sent) => sent.check(&relayer),
        Window::Checked(outcome) => outcome,
    };
    eprintln!(
        "[{name:?}] {} tips receipted in {:.1} s ({} failed{})",
        outcome.accepted,
        outcome.elapsed.as_secs_f64(),
        outcome.failed,
        outcome
            .first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default()
    );

    let settled = stage
        .settle(
            &process,
            &relayer,
            sequencer_before,
            Expected::tipped(&outcome),
            Duration::from_secs(1_800),
        )
        .await?;
    let peak_rss_mib = process.peak_rss_mib()?;
    process.stop().await?;
    eprintln!(
        "[{name:?}] settled in {:.1} s, {} transactions",
        settled.seconds, settled.report.transactions
    );
    Ok(BenchRow {
        workload: name,
        payers,
        payees,
        failed: outcome.failed,
        accepted_tips_per_second: outcome.tips_per_second(),
        receipt_p50_ms: outcome.latency_ms(0.5),
        receipt_p99_ms: outcome.latency_ms(0.99),
        relayer_cpu_us_per_tip: intake_cpu * 1e6 / outcome.accepted.max(1) as f64,
        client_cpu_us_per_tip: client_cpu * 1e6 / outcome.accepted.max(1) as f64,
        sequencer_lamports_per_tip: settled.sequencer_lamports as f64
            / settled.report.tips.max(1) as f64,
        settle_seconds: settled.seconds,
        relayer_peak_rss_mib: peak_rss_mib,
        relayer_rss_mib: rss_mib,
        settlement: settled.report,
    })
}

/// What a timed window returns: presigned clients check their receipts after it.
enum Window {
    Unchecked(Sent),
    Checked(Outcome),
}

/// How often a workload samples the relayer's memory.
const RSS_EVERY: Duration = Duration::from_secs(30);

pub async fn main(args: BenchArgs, json: bool) -> anyhow::Result<()> {
    let workloads = if args.workloads.is_empty() {
        vec![
            WorkloadName::Compute,
            WorkloadName::Stream,
            WorkloadName::Fans,
            WorkloadName::Ingest,
            WorkloadName::IngestBatch,
            WorkloadName::Paid,
        ]
    } else {
        args.workloads.clone()
    };
    // Only the compute workload runs without a relayer process.
    let relayer_program = if workloads.iter().all(|w| *w == WorkloadName::Compute) {
        None
    } else {
        let program = match &args.relayer_program {
            Some(program) => program.clone(),
            None => RelayerProcess::beside_this_program()?,
        };
        eprintln!("relayer: {}", program.display());
        Some(program)
    };
    let relayer = || {
        relayer_program
            .as_deref()
            .expect("resolved for relayer workloads")
    };
    let mut compute = None;
    let mut rows = Vec::new();
    let mut paid = None;
    for name in workloads {
        if name == WorkloadName::Paid {
            let workload = PaidWorkload {
                calls: args.paid_calls,
                clients: args.paid_clients,
                rate: args.paid_rate,
                exact_calls: args.exact_calls,
            };
            paid = Some(
                paid::run(&workload, args.fee_bps, relayer())
                    .await
                    .context("workload Paid")?,
            );
            continue;
        }
        if name == WorkloadName::Compute {
            eprintln!("[Compute] every instruction on the bytecode in solana-program-test");
            compute = Some(ComputeResults {
                instructions: instruction_costs().await,
                capacity: settlement_capacity().await,
            });
            continue;
        }
        rows.push(
            run_workload(name, &args, relayer())
                .await
                .with_context(|| format!("workload {name:?}"))?,
        );
    }
    let results = BenchResults {
        machine: machine(),
        relayer_program,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        compute,
        rows,
        paid,
    };
    let value = serde_json::to_value(&results)?;
    std::fs::write(&args.json, serde_json::to_string_pretty(&value)?)
        .with_context(|| format!("writing {}", args.json.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", table(&results));
    }
    ensure!(
        results.rows.iter().all(|r| r.settlement.payouts_match)
            && results
                .paid
                .as_ref()
                .is_none_or(|p| p.settlement.payouts_match),
        "some payouts do not match the chain"
    );
    Ok(())
}
