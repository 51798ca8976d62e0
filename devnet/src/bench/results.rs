//! What `micropay bench` measured (written as JSON) and the tables it prints.

use std::path::PathBuf;

use serde::Serialize;

use super::{WorkloadName, RSS_EVERY};
use crate::{
    compute::{capacity_table, costs_table, Capacity, Cost},
    paid::{self, PaidResults},
    report::SettlementReport,
};

#[derive(Debug, Serialize)]
pub struct BenchRow {
    pub workload: WorkloadName,
    pub payers: usize,
    pub payees: usize,
    pub failed: u64,
    pub accepted_tips_per_second: f64,
    pub receipt_p50_ms: f64,
    pub receipt_p99_ms: f64,
    /// Relayer CPU time per receipted tip during intake, microseconds.
    pub relayer_cpu_us_per_tip: f64,
    /// The simulated clients' CPU time per receipted tip during intake, microseconds:
    /// what they take from the same cores. Presigned clients only send (HTTP); the
    /// soak's also sign and check each receipt.
    pub client_cpu_us_per_tip: f64,
    /// Everything the sequencer spent per tip, lookup tables and their rent included.
    pub sequencer_lamports_per_tip: f64,
    pub settle_seconds: f64,
    pub relayer_peak_rss_mib: f64,
    /// The relayer's resident memory every [`RSS_EVERY`] while tips arrive, MiB.
    pub relayer_rss_mib: Vec<f64>,
    /// What settled, from the relayer's API and the chain (its tips are the ones
    /// receipted: the run fails otherwise).
    pub settlement: SettlementReport,
}

#[derive(Debug, Serialize)]
pub struct ComputeResults {
    pub instructions: Vec<Cost>,
    pub capacity: Capacity,
}

#[derive(Debug, Serialize)]
pub struct BenchResults {
    pub machine: String,
    /// The `micropay-relayer` program measured (none when only `compute` ran).
    pub relayer_program: Option<PathBuf>,
    pub command: String,
    pub compute: Option<ComputeResults>,
    pub rows: Vec<BenchRow>,
    pub paid: Option<PaidResults>,
}

pub fn machine() -> String {
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
    format!("{cores} cores ({cpu}), {memory_gib:.0} GiB")
}

pub fn table(results: &BenchResults) -> String {
    let mut out = format!("machine: {}\n", results.machine);
    if let Some(program) = &results.relayer_program {
        out.push_str(&format!("relayer: {}\n", program.display()));
    }
    out.push_str(&format!("command: {}\n\n", results.command));
    if let Some(compute) = &results.compute {
        out.push_str(&costs_table(&compute.instructions));
        out.push('\n');
        out.push_str(&capacity_table(&compute.capacity));
        out.push('\n');
    }
    if let Some(paid) = &results.paid {
        out.push_str(&paid::table(paid));
        out.push('\n');
    }
    if results.rows.is_empty() {
        return out;
    }
    out.push_str("| workload | payers | payees | tips | receipted tips/s | receipt p50 ms | receipt p99 ms | relayer CPU µs/tip | client CPU µs/tip | txs | tips/tx | streams/tx (mean / max) | tx bytes (mean / max) | accounts max | CU/stream | fee lamports/tip | sequencer lamports/tip | settle s | relayer peak RSS MiB | payouts match chain |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for r in &results.rows {
        out.push_str(&format!(
            "| {:?} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} | {} | {:.1} | {:.1} / {} | {:.0} / {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} | {} |\n",
            r.workload,
            r.payers,
            r.payees,
            r.settlement.tips,
            r.accepted_tips_per_second,
            r.receipt_p50_ms,
            r.receipt_p99_ms,
            r.relayer_cpu_us_per_tip,
            r.client_cpu_us_per_tip,
            r.settlement.transactions,
            r.settlement.tips_per_transaction,
            r.settlement.streams_per_transaction,
            r.settlement.streams_per_transaction_max,
            r.settlement.transaction_bytes_mean,
            r.settlement.transaction_bytes_max,
            r.settlement.accounts_max,
            r.settlement.compute_units_per_stream,
            r.settlement.fee_lamports_per_tip,
            r.sequencer_lamports_per_tip,
            r.settle_seconds,
            r.relayer_peak_rss_mib,
            if r.settlement.payouts_match { "yes" } else { "NO" }
        ));
    }
    for r in results.rows.iter().filter(|r| r.relayer_rss_mib.len() > 2) {
        let samples: Vec<String> = r
            .relayer_rss_mib
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect();
        out.push_str(&format!(
            "\n{:?}: relayer resident memory every {} s while tips arrived, MiB: {}\n",
            r.workload,
            RSS_EVERY.as_secs(),
            samples.join(" ")
        ));
    }
    out
}
