//! Simulated payers tipping through the relayer's HTTP API, as wallets would: each
//! payer's stream is driven by one client (each state extends the last one it had
//! receipted), payers tip concurrently, and every receipt is timed. Each payer tips
//! its own `MAX_ENTRIES` favourite payees (payees `i, i + 1, ...` for payer `i`), as
//! one signed state names at most that many: a payer tipping more payees would open
//! a new epoch each time its state fills, and a stream settles one epoch per top-up
//! window.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use micropay_client::relayer::RelayerClient;
use micropay_protocol::{StreamState, MAX_ENTRIES};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use solana_sdk::{pubkey::Pubkey, signature::Keypair};

use crate::Payer;

/// Which payer tips next.
#[derive(Clone, Copy, Debug)]
pub enum Activity {
    Uniform,
    /// Payer ranks follow a Zipf law with this exponent (a few payers tip most).
    Zipf(f64),
}

/// How many tips, or for how long.
#[derive(Clone, Copy, Debug)]
pub enum Amount {
    Tips(usize),
    For(Duration),
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub activity: Activity,
    pub amount: Amount,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// Tips are uniform in `1..=max_tip` base units.
    pub max_tip: u64,
    pub seed: u64,
}

pub struct Outcome {
    pub accepted: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Time from sending a tip to holding its verified receipt, microseconds.
    pub latency: Histogram<u64>,
    /// Tipped amount per payee index.
    pub per_payee: Vec<u64>,
}

impl Outcome {
    pub fn tips_per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

/// One payer as its client drives it.
struct Tipper {
    tab: Pubkey,
    key: Keypair,
    slot: u8,
    /// The last state this client had receipted, which the next tip extends.
    last: Option<StreamState>,
}

/// Runs `workload` against `relayer`. Payer `i` is driven by client `i % clients`, so
/// no two clients extend the same stream at once.
pub async fn run(
    relayer: &RelayerClient,
    payers: &[Payer],
    payees: &[Pubkey],
    workload: &Workload,
    progress: &ProgressBar,
) -> Outcome {
    let clients = workload.clients.clamp(1, payers.len());
    let mut rng = StdRng::seed_from_u64(workload.seed);
    // Count-based workloads draw every tip up front, so the plan is reproducible.
    let mut queues: Vec<Vec<(usize, usize, u64)>> = vec![Vec::new(); clients];
    if let Amount::Tips(count) = workload.amount {
        let zipf = match workload.activity {
            Activity::Zipf(exponent) => {
                Some(Zipf::new(payers.len() as u64, exponent).expect("valid Zipf parameters"))
            }
            Activity::Uniform => None,
        };
        for n in 0..count {
            let payer = match &zipf {
                Some(zipf) => zipf.sample(&mut rng) as usize - 1,
                None if count == payers.len() => n,
                None => rng.gen_range(0..payers.len()),
            };
            let payee = favourite(payer, rng.gen_range(0..MAX_ENTRIES), payees.len());
            let amount = rng.gen_range(1..=workload.max_tip);
            queues[payer % clients].push((payer, payee, amount));
        }
    }
    let deadline = match workload.amount {
        Amount::For(duration) => Some(Instant::now() + duration),
        Amount::Tips(_) => None,
    };
    let payees = Arc::new(payees.to_vec());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, queue) in queues.into_iter().enumerate() {
        // This client's payers, by payer index.
        let mut mine: Vec<Tipper> = (index..payers.len())
            .step_by(clients)
            .map(|i| {
                let (key, slot) = payers[i].tipper();
                Tipper {
                    tab: payers[i].tab,
                    key: key.insecure_clone(),
                    slot,
                    last: None,
                }
            })
            .collect();
        let (client, payees, progress) = (relayer.clone(), payees.clone(), progress.clone());
        let mut rng = StdRng::seed_from_u64(workload.seed ^ (index as u64 + 1));
        let max_tip = workload.max_tip;
        tasks.spawn(async move {
            let mut latency = latency_histogram();
            let mut per_payee = vec![0u64; payees.len()];
            let (mut accepted, mut failed, mut first_error) = (0u64, 0u64, None);
            let mut next = 0usize;
            let mut queue = queue.into_iter();
            loop {
                let (position, payee, amount) = match deadline {
                    Some(deadline) if Instant::now() >= deadline => break,
                    Some(_) => {
                        next += 1;
                        let position = next % mine.len();
                        let payer = index + position * clients;
                        (
                            position,
                            favourite(payer, rng.gen_range(0..MAX_ENTRIES), payees.len()),
                            rng.gen_range(1..=max_tip),
                        )
                    }
                    None => match queue.next() {
                        // This client drives payers index, index + clients, ...
                        Some((payer, payee, amount)) => (payer / clients, payee, amount),
                        None => break,
                    },
                };
                let tipper = &mut mine[position];
                let sent = Instant::now();
                match client
                    .tip_after(
                        &tipper.key,
                        &tipper.tab,
                        tipper.slot,
                        tipper.last.take(),
                        &payees[payee],
                        amount,
                    )
                    .await
                {
                    Ok(receipted) => {
                        latency.saturating_record(sent.elapsed().as_micros() as u64);
                        tipper.last = Some(receipted.signed.state);
                        per_payee[payee] += amount;
                        accepted += 1;
                    }
                    Err(error) => {
                        failed += 1;
                        first_error.get_or_insert_with(|| error.to_string());
                    }
                }
                progress.inc(1);
            }
            (accepted, failed, first_error, latency, per_payee)
        });
    }
    let mut outcome = Outcome {
        accepted: 0,
        failed: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latency: latency_histogram(),
        per_payee: vec![0; payees.len()],
    };
    while let Some(result) = tasks.join_next().await {
        let (accepted, failed, first_error, latency, per_payee) = result.expect("tipper task");
        outcome.accepted += accepted;
        outcome.failed += failed;
        if outcome.first_error.is_none() {
            outcome.first_error = first_error;
        }
        outcome.latency.add(latency).expect("same histogram bounds");
        for (total, amount) in outcome.per_payee.iter_mut().zip(per_payee) {
            *total += amount;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// Payer `payer`'s `rank`-th favourite among `payees` payees.
fn favourite(payer: usize, rank: usize, payees: usize) -> usize {
    (payer + rank) % payees
}

/// Microseconds, from 1 µs to 10 minutes, three significant digits.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}
