//! Clients whose every state is signed and encoded before the timed window, and whose
//! receipts are checked after it: in the window a client only sends a prepared body
//! and keeps the answer, so the cores go to the relayer being measured. A body is one
//! state, or with [`Workload::batch`] that many of the client's states in a row
//! (`POST /v1/states`). A stream the relayer refuses once is not sent again (its later
//! states extend one that was not stored).

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use micropay_client::relayer::{RelayerClient, RelayerError, Submission};
use micropay_protocol::{SignedStream, StreamState};
use solana_sdk::pubkey::Pubkey;

use super::{latency_histogram, plans, Amount, Outcome, Tip, Workload};
use crate::Payer;

/// States prepared per second of a timed workload, well above what two cores ingest:
/// a timed run that uses them all ends early, and its rate is still what it measured.
const PREPARED_PER_SECOND: usize = 15_000;

/// One request: its tips' states, signed and encoded.
struct Prepared {
    tips: Vec<Tip>,
    signed: Vec<SignedStream>,
    submission: Submission,
}

/// Every client's states, in the order it sends them.
pub struct Presigned {
    clients: Vec<Vec<Prepared>>,
    payees: usize,
    duration: Option<Duration>,
    /// Whether each request is a batch (`POST /v1/states`).
    batched: bool,
}

impl Presigned {
    /// Signs every state `workload` sends, each stream starting from the relayer's
    /// state of it, on every core.
    pub async fn prepare(
        relayer: &RelayerClient,
        payers: &[Payer],
        payees: &[Pubkey],
        workload: &Workload,
    ) -> anyhow::Result<Self> {
        let (per_client, duration) = match workload.amount {
            Amount::Tips(_) => (usize::MAX, None),
            Amount::For(duration) => (
                (PREPARED_PER_SECOND * duration.as_secs().max(1) as usize)
                    .div_ceil(workload.clients_for(payers.len())),
                Some(duration),
            ),
        };
        let plans: Vec<Vec<Tip>> = plans(payers.len(), payees.len(), workload)
            .into_iter()
            .map(|tips| tips.take(per_client).collect())
            .collect();
        // As many reads at once as the workload has clients: the relayer caps
        // connections.
        let starts: Vec<StreamState> = futures::stream::iter(payers)
            .map(|payer| {
                let (key, slot) = payer.tipper();
                relayer.next_state(key, &payer.tab, slot)
            })
            .buffered(workload.clients_for(payers.len()))
            .try_collect()
            .await
            .context("reading the streams' states")?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = plans.len().div_ceil(threads).max(1);
        let clients = std::thread::scope(|scope| {
            let workers: Vec<_> = plans
                .chunks(chunk)
                .map(|plans| {
                    let starts = &starts;
                    scope.spawn(move || {
                        plans
                            .iter()
                            .map(|plan| {
                                let signed = sign_plan(payers, payees, starts, plan)?;
                                requests(relayer, signed, workload.batch)
                            })
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("signing thread"))
                .collect::<anyhow::Result<Vec<_>>>()
        })?
        .into_iter()
        .flatten()
        .collect();
        Ok(Self {
            clients,
            payees: payees.len(),
            duration,
            batched: workload.batch.is_some(),
        })
    }

    /// How many states are ready to send.
    pub fn states(&self) -> usize {
        self.clients.iter().flatten().map(|p| p.tips.len()).sum()
    }

    /// The timed window: every client sends its states in order, keeping the answers.
    pub async fn send(self, relayer: &RelayerClient, progress: &ProgressBar) -> Sent {
        let started = Instant::now();
        let deadline = self.duration.map(|duration| started + duration);
        let mut tasks = tokio::task::JoinSet::new();
        for prepared in self.clients {
            let (relayer, progress) = (relayer.clone(), progress.clone());
            tasks.spawn(async move {
                let mut latency = latency_histogram();
                let mut answers = Vec::with_capacity(prepared.len());
                let mut refused = HashSet::new();
                for Prepared {
                    tips,
                    signed,
                    submission,
                } in prepared
                {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        break;
                    }
                    if tips.iter().any(|tip| refused.contains(&tip.payer)) {
                        continue;
                    }
                    let sent = Instant::now();
                    let answer = relayer.send(&submission).await;
                    match &answer {
                        Ok(_) => latency.saturating_record_n(
                            sent.elapsed().as_micros() as u64,
                            tips.len() as u64,
                        ),
                        Err(_) => refused.extend(tips.iter().map(|tip| tip.payer)),
                    }
                    progress.inc(tips.len() as u64);
                    answers.push(Answer {
                        tips,
                        signed,
                        answer,
                    });
                }
                (answers, latency)
            });
        }
        let mut answers = Vec::new();
        let mut latency = latency_histogram();
        while let Some(result) = tasks.join_next().await {
            let (client_answers, client_latency) = result.expect("client task");
            answers.push(client_answers);
            latency.add(client_latency).expect("same histogram bounds");
        }
        Sent {
            answers,
            latency,
            elapsed: started.elapsed(),
            payees: self.payees,
            batched: self.batched,
        }
    }
}

/// One client's tips in order, extending each of its streams from where the relayer
/// has it, each with its state signed.
fn sign_plan(
    payers: &[Payer],
    payees: &[Pubkey],
    starts: &[StreamState],
    plan: &[Tip],
) -> anyhow::Result<Vec<(Tip, SignedStream)>> {
    let mut latest: HashMap<usize, StreamState> = HashMap::new();
    plan.iter()
        .map(|tip| {
            let state = latest
                .entry(tip.payer)
                .or_insert_with(|| starts[tip.payer].clone());
            let next = state.tip_or_next_epoch(payees[tip.payee], tip.amount)?;
            let signed = SignedStream::sign(next.clone(), payers[tip.payer].tipper().0)?;
            *state = next;
            Ok((*tip, signed))
        })
        .collect()
}

/// A client's signed states as the requests it sends: one each, or `batch` at a time.
fn requests(
    relayer: &RelayerClient,
    signed: Vec<(Tip, SignedStream)>,
    batch: Option<usize>,
) -> anyhow::Result<Vec<Prepared>> {
    signed
        .chunks(batch.unwrap_or(1))
        .map(|chunk| {
            let (tips, signed): (Vec<Tip>, Vec<SignedStream>) = chunk.iter().cloned().unzip();
            let submission = match batch {
                Some(_) => relayer.batch_submission(&signed),
                None => relayer.submission(&signed[0]),
            }?;
            Ok(Prepared {
                tips,
                signed,
                submission,
            })
        })
        .collect()
}

/// A request sent in the timed window, and the relayer's answer to it.
struct Answer {
    tips: Vec<Tip>,
    signed: Vec<SignedStream>,
    answer: Result<Bytes, RelayerError>,
}

impl Answer {
    /// Whether each tip was receipted, its receipt checked against its state and the
    /// sequencer.
    fn check(&self, relayer: &RelayerClient, batched: bool) -> Vec<Result<(), String>> {
        let checked = self
            .answer
            .as_ref()
            .map_err(|e| e.to_string())
            .and_then(|answer| {
                if batched {
                    relayer
                        .check_receipts(&self.signed, answer)
                        .map_err(|e| e.to_string())
                } else {
                    Ok(vec![relayer.check_receipt(&self.signed[0], answer)])
                }
            });
        match checked {
            Ok(results) => results
                .into_iter()
                .map(|result| result.map(drop).map_err(|e| e.to_string()))
                .collect(),
            Err(error) => vec![Err(error); self.tips.len()],
        }
    }
}

/// The answers of a timed window, their receipts not yet checked.
pub struct Sent {
    answers: Vec<Vec<Answer>>,
    latency: hdrhistogram::Histogram<u64>,
    elapsed: Duration,
    payees: usize,
    batched: bool,
}

impl Sent {
    /// Checks every receipt against its state and the sequencer, on every core: a tip
    /// counts as accepted only with a receipt that verifies.
    pub fn check(self, relayer: &RelayerClient) -> Outcome {
        let (payees, batched) = (self.payees, self.batched);
        let mut outcome = std::thread::scope(|scope| {
            let workers: Vec<_> = self
                .answers
                .iter()
                .map(|answers| {
                    scope.spawn(move || {
                        let mut outcome = Outcome::empty(payees);
                        for answer in answers {
                            for (tip, receipted) in
                                answer.tips.iter().zip(answer.check(relayer, batched))
                            {
                                match receipted {
                                    Ok(()) => outcome.accept(tip),
                                    Err(error) => outcome.fail(error),
                                }
                            }
                        }
                        outcome
                    })
                })
                .collect();
            let mut outcome = Outcome::empty(payees);
            for worker in workers {
                outcome.merge(worker.join().expect("checking thread"));
            }
            outcome
        });
        outcome.latency = self.latency;
        outcome.elapsed = self.elapsed;
        outcome
    }
}
