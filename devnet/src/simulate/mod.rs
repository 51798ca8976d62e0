//! Simulated payers tipping through the relayer's HTTP API. Each payer's stream is
//! driven by one client, so each state extends the last one that client had
//! receipted; clients tip concurrently, and every receipt is timed. Each payer tips its
//! own `MAX_ENTRIES` favourite payees (payees `i, i + 1, ...` for payer `i`), as one
//! signed state names at most that many: a payer tipping more payees would open a new
//! epoch each time its state fills, and a stream settles one epoch per top-up window.
//!
//! Two kinds of client: [`live`] signs each tip as it goes, as a wallet does through
//! the SDK (the demo and the soak); [`presigned`] signs and encodes every state before
//! the timed window and checks the receipts after it, so that what the window
//! measures is the relayer (the benchmark's throughput workloads).

pub mod live;
pub mod presigned;

use std::time::Duration;

use hdrhistogram::Histogram;
use micropay_protocol::MAX_ENTRIES;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};

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
    /// Presigned clients send this many states per request (`POST /v1/states`);
    /// `None`: one state per request to its stream's route.
    pub batch: Option<usize>,
}

impl Workload {
    /// Clients actually running: one payer's stream is never split between two.
    fn clients_for(&self, payers: usize) -> usize {
        self.clients.clamp(1, payers)
    }
}

pub struct Outcome {
    pub accepted: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Time from sending a tip to holding its receipt, microseconds.
    pub latency: Histogram<u64>,
    /// Tipped amount per payee index.
    pub per_payee: Vec<u64>,
}

impl Outcome {
    fn empty(payees: usize) -> Self {
        Self {
            accepted: 0,
            failed: 0,
            first_error: None,
            elapsed: Duration::ZERO,
            latency: latency_histogram(),
            per_payee: vec![0; payees],
        }
    }

    fn accept(&mut self, tip: &Tip) {
        self.accepted += 1;
        self.per_payee[tip.payee] += tip.amount;
    }

    fn fail(&mut self, error: impl std::fmt::Display) {
        self.failed += 1;
        self.first_error.get_or_insert_with(|| error.to_string());
    }

    /// Adds another client's counts to these.
    fn merge(&mut self, other: Outcome) {
        self.accepted += other.accepted;
        self.failed += other.failed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latency
            .add(other.latency)
            .expect("same histogram bounds");
        for (total, amount) in self.per_payee.iter_mut().zip(other.per_payee) {
            *total += amount;
        }
    }

    pub fn tips_per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

/// One tip: payer and payee by index, and its amount.
#[derive(Clone, Copy, Debug)]
struct Tip {
    payer: usize,
    payee: usize,
    amount: u64,
}

/// The tips one client sends, in order. Client `c` of `n` drives payers `c, c + n,
/// c + 2n, ...`, so no two clients extend the same stream.
enum ClientTips {
    /// A count of tips, drawn up front so that the plan is reproducible.
    Drawn(std::vec::IntoIter<Tip>),
    /// Tips for as long as the workload runs: the client's payers in turn.
    Endless {
        client: usize,
        clients: usize,
        /// How many payers this client drives.
        drives: usize,
        payees: usize,
        max_tip: u64,
        turn: usize,
        rng: Box<StdRng>,
    },
}

impl Iterator for ClientTips {
    type Item = Tip;

    fn next(&mut self) -> Option<Tip> {
        match self {
            ClientTips::Drawn(tips) => tips.next(),
            ClientTips::Endless {
                client,
                clients,
                drives,
                payees,
                max_tip,
                turn,
                rng,
            } => {
                *turn += 1;
                let payer = *client + (*turn % *drives) * *clients;
                Some(Tip {
                    payer,
                    payee: favourite(payer, rng.gen_range(0..MAX_ENTRIES), *payees),
                    amount: rng.gen_range(1..=*max_tip),
                })
            }
        }
    }
}

/// Every client's tips for `workload` over `payers` payers and `payees` payees.
fn plans(payers: usize, payees: usize, workload: &Workload) -> Vec<ClientTips> {
    let clients = workload.clients_for(payers);
    match workload.amount {
        Amount::Tips(count) => {
            let mut rng = StdRng::seed_from_u64(workload.seed);
            let zipf = match workload.activity {
                Activity::Zipf(exponent) => {
                    Some(Zipf::new(payers as u64, exponent).expect("valid Zipf parameters"))
                }
                Activity::Uniform => None,
            };
            let mut queues = vec![Vec::new(); clients];
            for n in 0..count {
                let payer = match &zipf {
                    Some(zipf) => zipf.sample(&mut rng) as usize - 1,
                    None if count == payers => n,
                    None => rng.gen_range(0..payers),
                };
                let payee = favourite(payer, rng.gen_range(0..MAX_ENTRIES), payees);
                let amount = rng.gen_range(1..=workload.max_tip);
                queues[payer % clients].push(Tip {
                    payer,
                    payee,
                    amount,
                });
            }
            queues
                .into_iter()
                .map(|queue| ClientTips::Drawn(queue.into_iter()))
                .collect()
        }
        Amount::For(_) => (0..clients)
            .map(|client| ClientTips::Endless {
                client,
                clients,
                drives: (payers - client).div_ceil(clients),
                payees,
                max_tip: workload.max_tip,
                turn: 0,
                rng: Box::new(StdRng::seed_from_u64(workload.seed ^ (client as u64 + 1))),
            })
            .collect(),
    }
}

/// Payer `payer`'s `rank`-th favourite among `payees` payees.
fn favourite(payer: usize, rank: usize, payees: usize) -> usize {
    (payer + rank) % payees
}

/// Microseconds, from 1 µs to 10 minutes, three significant digits.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(amount: Amount, clients: usize) -> Workload {
        Workload {
            activity: Activity::Zipf(1.0),
            amount,
            clients,
            max_tip: 100,
            seed: 9,
            batch: None,
        }
    }

    #[test]
    fn each_payer_is_driven_by_one_client_only() {
        for amount in [Amount::Tips(5_000), Amount::For(Duration::from_secs(1))] {
            let plans = plans(37, 8, &workload(amount, 5));
            assert_eq!(plans.len(), 5);
            let mut driver = vec![None; 37];
            for (client, tips) in plans.into_iter().enumerate() {
                for tip in tips.take(2_000) {
                    assert!(tip.payee < 8 && (1..=100).contains(&tip.amount));
                    let earlier = driver[tip.payer].replace(client);
                    assert!(earlier.is_none_or(|earlier| earlier == client));
                }
            }
            assert!(driver.iter().all(Option::is_some), "every payer tips");
        }
    }

    #[test]
    fn a_count_of_tips_is_reproducible_and_exact() {
        let draw = || -> Vec<(usize, usize, u64)> {
            plans(20, 8, &workload(Amount::Tips(1_000), 3))
                .into_iter()
                .flatten()
                .map(|tip| (tip.payer, tip.payee, tip.amount))
                .collect()
        };
        let tips = draw();
        assert_eq!(tips.len(), 1_000);
        assert_eq!(tips, draw());
    }
}
