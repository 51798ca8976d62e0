//! `micropay bench`: named workloads on a fresh local chain each, with the relayer as
//! its own OS process (so its memory is its own), driven over loopback HTTP.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use micropay_client::localnet::{wait_settled, LocalDeployment};
use micropay_relayer_v1::{run::RelayerArgs, store::SqlStore};
use serde::Serialize;

use crate::{
    args::Output,
    output::print,
    report::settlement_report,
    simulate::{self, Activity, Amount, Workload},
};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadName {
    /// 64 payers, 8 payees, 200,000 tips, Zipf-skewed payer activity.
    Stream,
    /// 5,000 payers, 100 payees, one tip each.
    Fans,
    /// Concurrent clients submitting for a fixed time.
    Ingest,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Workloads to run (default: all three).
    #[arg(value_enum)]
    pub workloads: Vec<WorkloadName>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench-results.json")]
    pub json: PathBuf,
    /// Seconds the ingest workload submits for.
    #[arg(long, default_value_t = 20)]
    pub ingest_secs: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Multiplies every workload's payers and tips (e.g. 0.05 for a quick look).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Relayer fee, basis points.
    #[arg(long, default_value_t = 100)]
    pub fee_bps: u16,
}

#[derive(Debug, Serialize)]
pub struct BenchRow {
    pub workload: WorkloadName,
    pub payers: usize,
    pub payees: usize,
    pub tips: u64,
    pub failed: u64,
    pub accepted_tips_per_second: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    /// Relayer CPU time per accepted tip during intake, microseconds.
    pub relayer_cpu_us_per_tip: f64,
    pub transactions: usize,
    pub tips_per_transaction: f64,
    pub tabs_per_transaction: f64,
    pub transaction_bytes_mean: f64,
    pub transaction_bytes_max: usize,
    pub fee_lamports_per_tip: f64,
    pub settle_seconds: f64,
    pub relayer_peak_rss_mib: f64,
    pub payouts_match: bool,
}

#[derive(Debug, Serialize)]
pub struct BenchResults {
    pub machine: String,
    pub command: String,
    pub rows: Vec<BenchRow>,
}

/// The relayer command as a child process.
struct RelayerProcess {
    child: Child,
    url: String,
}

impl RelayerProcess {
    async fn spawn(args: &RelayerArgs) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(std::env::current_exe()?)
            .args(["relayer", "run", "--url", &args.url, "--keypair"])
            .arg(&args.keypair)
            .args([
                "--config",
                &args.config.to_string(),
                "--store-url",
                &args.store_url,
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--settle-max-age-secs",
                &args.settle_max_age_secs.to_string(),
            ])
            .args(["--settle-interval-ms", &args.settle_interval_ms.to_string()])
            .args([
                "--min-session-validity-secs",
                &args.min_session_validity_secs.to_string(),
            ])
            .env(
                "RUST_LOG",
                std::env::var("MICROPAY_RELAYER_LOG")
                    .unwrap_or_else(|_| "error,micropay_relayer_v1=warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .context("starting the relayer process")?;
        let process = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let health = format!("{}/v1/health", process.url);
        for _ in 0..300 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(process);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the relayer process did not come up")
    }

    fn signal(&self, signal: libc::c_int) -> anyhow::Result<()> {
        // SAFETY: signalling our own child process by its pid.
        ensure!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) } == 0,
            "signal not delivered"
        );
        Ok(())
    }

    /// CPU time the process has used, seconds.
    fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the parenthesised command name; utime and stime are 14 and 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("malformed /proc stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Ok(ticks / per_second)
    }

    /// Peak resident memory, MiB.
    fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .context("no VmHWM in /proc status")?;
        Ok(kib / 1024.0)
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        self.signal(libc::SIGTERM)?;
        let status = tokio::task::spawn_blocking(move || self.child.wait()).await??;
        ensure!(status.success(), "the relayer exited with {status}");
        Ok(())
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cores} cores ({cpu}), {memory_gib:.0} GiB, debug build with optimised dependencies")
}

async fn run_workload(name: WorkloadName, args: &BenchArgs) -> anyhow::Result<BenchRow> {
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
                },
            )
        }
        WorkloadName::Ingest => (
            args.clients * 4,
            16,
            Workload {
                activity: Activity::Uniform,
                amount: Amount::For(Duration::from_secs(args.ingest_secs)),
                clients: args.clients,
                max_tip: 10_000,
                seed: 3,
            },
        ),
    };
    let deposit = match workload.amount {
        Amount::Tips(tips) => workload.max_tip * tips as u64,
        Amount::For(duration) => workload.max_tip * 20_000 * duration.as_secs().max(1),
    };
    eprintln!("[{name:?}] local validator, {payers} payers, {payees} payees");
    let local = LocalDeployment::start(args.fee_bps).await?;
    let setup = Instant::now();
    let payer_list = local.payers_with_sessions(payers, deposit).await?;
    let payee_list = local.payees(payees).await?;
    eprintln!(
        "[{name:?}] set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let relayer_args = local
        .relayer_args(dir.path(), &local.validator.rpc_url(), 3_600)
        .await?;
    let relayer = RelayerProcess::spawn(&relayer_args).await?;
    let store = SqlStore::connect(&relayer_args.store_url).await?;

    let progress = match workload.amount {
        Amount::Tips(tips) => ProgressBar::new(tips as u64),
        Amount::For(_) => ProgressBar::no_length(),
    }
    .with_style(
        ProgressStyle::with_template("  {bar:40} {pos} tips  {per_sec}  {elapsed}")
            .expect("template"),
    );
    let cpu_before = relayer.cpu_seconds()?;
    let outcome = simulate::run(&relayer.url, &payer_list, &payee_list, &workload, &progress).await;
    let intake_cpu = relayer.cpu_seconds()? - cpu_before;
    progress.finish_and_clear();
    eprintln!(
        "[{name:?}] {} tips accepted in {:.1} s ({} failed{})",
        outcome.accepted,
        outcome.elapsed.as_secs_f64(),
        outcome.failed,
        outcome
            .first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default()
    );

    let settle_started = Instant::now();
    relayer.signal(libc::SIGUSR1)?;
    wait_settled(&store, Duration::from_secs(1_800)).await?;
    let settle_seconds = settle_started.elapsed().as_secs_f64();
    let peak_rss_mib = relayer.peak_rss_mib()?;
    let report = settlement_report(&store, &local.rpc, args.fee_bps, &payee_list).await?;
    relayer.stop().await?;
    ensure!(
        report.tips == outcome.accepted,
        "{} tips accepted, {} settled",
        outcome.accepted,
        report.tips
    );
    eprintln!(
        "[{name:?}] settled in {settle_seconds:.1} s, {} transactions",
        report.transactions
    );
    Ok(BenchRow {
        workload: name,
        payers,
        payees,
        tips: outcome.accepted,
        failed: outcome.failed,
        accepted_tips_per_second: outcome.tips_per_second(),
        ack_p50_ms: outcome.latency_ms(0.5),
        ack_p99_ms: outcome.latency_ms(0.99),
        relayer_cpu_us_per_tip: intake_cpu * 1e6 / outcome.accepted.max(1) as f64,
        transactions: report.transactions,
        tips_per_transaction: report.tips_per_transaction,
        tabs_per_transaction: report.tabs_per_transaction,
        transaction_bytes_mean: report.transaction_bytes_mean,
        transaction_bytes_max: report.transaction_bytes_max,
        fee_lamports_per_tip: report.fee_lamports_per_tip,
        settle_seconds,
        relayer_peak_rss_mib: peak_rss_mib,
        payouts_match: report.payouts_match,
    })
}

pub fn table(results: &BenchResults) -> String {
    let mut out = format!(
        "machine: {}\ncommand: {}\n\n| workload | payers | payees | tips | accepted tips/s | ack p50 ms | ack p99 ms | relayer CPU µs/tip | txs | tips/tx | tabs/tx | tx bytes (mean / max) | fee lamports/tip | settle s | relayer peak RSS MiB | payouts match chain |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
        results.machine, results.command
    );
    for r in &results.rows {
        out.push_str(&format!(
            "| {:?} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {} | {:.1} | {:.2} | {:.0} / {} | {:.2} | {:.1} | {:.0} | {} |\n",
            r.workload,
            r.payers,
            r.payees,
            r.tips,
            r.accepted_tips_per_second,
            r.ack_p50_ms,
            r.ack_p99_ms,
            r.relayer_cpu_us_per_tip,
            r.transactions,
            r.tips_per_transaction,
            r.tabs_per_transaction,
            r.transaction_bytes_mean,
            r.transaction_bytes_max,
            r.fee_lamports_per_tip,
            r.settle_seconds,
            r.relayer_peak_rss_mib,
            if r.payouts_match { "yes" } else { "NO" }
        ));
    }
    out
}

pub async fn main(args: BenchArgs, output: Output) -> anyhow::Result<()> {
    let workloads = if args.workloads.is_empty() {
        vec![
            WorkloadName::Stream,
            WorkloadName::Fans,
            WorkloadName::Ingest,
        ]
    } else {
        args.workloads.clone()
    };
    let mut rows = Vec::new();
    for name in workloads {
        rows.push(
            run_workload(name, &args)
                .await
                .with_context(|| format!("workload {name:?}"))?,
        );
    }
    let results = BenchResults {
        machine: machine(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        rows,
    };
    let json = serde_json::to_value(&results)?;
    std::fs::write(&args.json, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("writing {}", args.json.display()))?;
    print(output, &table(&results), &json)?;
    ensure!(
        results.rows.iter().all(|r| r.payouts_match),
        "some payouts do not match the chain"
    );
    Ok(())
}
