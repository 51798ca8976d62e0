//! The `paid` workload: HTTP calls paid per call through the x402 `micropay` scheme,
//! from parallel clients (one payer stream each), against an axum API behind the
//! paywall with the relayer process as facilitator; then settlement. The same calls
//! unpaid give the baseline; x402's `exact` scheme (one SPL transfer per call, sent
//! and confirmed before the answer, as its facilitator does) is measured on the same
//! validator beside it.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::ensure;
use axum::{routing::get, Router};
use hdrhistogram::Histogram;
use micropay_client::{pay::Payer as PaidCaller, relayer::RelayerClient};
use micropay_paywall::{Paywall, ReceiptSink};
use serde::Serialize;
use solana_sdk::signer::Signer;

use crate::{
    process::RelayerProcess,
    relayer_metrics::RelayerView,
    report::SettlementReport,
    scenario::{Expected, Stage},
};

mod exact;

/// What one call costs, base units (0.001 of a 6-decimal token).
const PRICE: u64 = 1_000;

#[derive(Clone, Debug)]
pub struct PaidWorkload {
    pub calls: usize,
    /// Concurrent clients, each paying from its own payer's session-key stream.
    pub clients: usize,
    /// Calls per second offered, in all (0: as fast as the clients go).
    pub rate: u64,
    /// Calls paid with one confirmed transfer each (the `exact` baseline).
    pub exact_calls: usize,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub calls: u64,
    pub failed: u64,
    pub calls_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct PaidResults {
    pub clients: usize,
    pub offered_rate: u64,
    pub unpaid: Latency,
    /// The whole paid call: the 402, signing, and the paid retry (verify, handler,
    /// settle).
    pub paid: Latency,
    pub added_p50_ms: f64,
    pub added_p99_ms: f64,
    /// Relayer CPU time per paid call (verify and settle), microseconds.
    pub relayer_cpu_us_per_call: f64,
    /// Everything the sequencer spent settling, per paid call.
    pub sequencer_lamports_per_call: f64,
    pub settle_seconds: f64,
    pub settlement: SettlementReport,
    /// x402 `exact` on the same validator: one transfer per call, confirmed.
    pub exact: Latency,
    pub exact_fee_lamports_per_call: f64,
    /// The paid calls inside the relayer, from its own histograms.
    pub relayer: RelayerView,
}

/// The paywall keeps its receipts nowhere here: the relayer holds them, and the run
/// checks them against the chain after settling.
struct Discard;

#[async_trait::async_trait]
impl ReceiptSink for Discard {
    async fn keep(&self, _: &micropay_api::ReceiptJson) -> std::io::Result<()> {
        Ok(())
    }
}

async fn serve_api(paywall: &Paywall) -> anyhow::Result<String> {
    let answer = || async { "{\"answer\":42}" };
    let app = Router::new()
        .route(
            "/paid",
            get(answer).layer(paywall.price(PRICE, "the answer")),
        )
        .route("/free", get(answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Runs `calls` calls of `call` from `clients` workers at `rate` calls per second in
/// all (0: unthrottled); each worker owns its state `S`.
async fn drive<S, F, Fut>(
    workers: Vec<S>,
    calls: usize,
    rate: u64,
    call: F,
) -> anyhow::Result<Latency>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let clients = workers.len();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, state) in workers.into_iter().enumerate() {
        let state = Arc::new(state);
        let call = call.clone();
        let mine = calls / clients + usize::from(index < calls % clients);
        tasks.spawn(async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let (mut failed, mut first_error) = (0u64, None);
            for n in 0..mine {
                if rate > 0 {
                    // Call k of all is due at k / rate; this worker makes every
                    // `clients`-th call, starting at its index.
                    let due = (n * clients + index) as f64 / rate as f64;
                    tokio::time::sleep_until((started + Duration::from_secs_f64(due)).into()).await;
                }
                let sent = Instant::now();
                match call(state.clone()).await {
                    Ok(()) => latency.record(sent.elapsed().as_micros() as u64)?,
                    Err(error) => {
                        failed += 1;
                        first_error.get_or_insert(error);
                    }
                }
            }
            anyhow::Ok((latency, failed, first_error))
        });
    }
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let mut failed = 0;
    for result in tasks.join_all().await {
        let (mine, failures, first_error) = result?;
        latency.add(mine)?;
        failed += failures;
        if let Some(error) = first_error {
            eprintln!("  first failure: {error:#}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Latency {
        calls: latency.len(),
        failed,
        calls_per_second: latency.len() as f64 / elapsed.max(1e-9),
        p50_ms: latency.value_at_quantile(0.5) as f64 / 1_000.0,
        p99_ms: latency.value_at_quantile(0.99) as f64 / 1_000.0,
    })
}

pub async fn run(
    workload: &PaidWorkload,
    fee_bps: u16,
    relayer_program: &Path,
) -> anyhow::Result<PaidResults> {
    let clients = workload.clients.max(1);
    eprintln!(
        "[Paid] devnet, {clients} clients, {} paid calls at {} calls/s offered",
        workload.calls,
        if workload.rate == 0 {
            "max".to_string()
        } else {
            workload.rate.to_string()
        }
    );
    let per_client = (workload.calls / clients + 1) as u64 * PRICE;
    // One payee: the API's owner.
    let stage = Stage::new(fee_bps, clients, per_client, 1).await?;
    let (devnet, deployment, payers) = (&stage.devnet, &stage.deployment, &stage.payers);
    let owner = stage.payees[0];

    let dir = tempfile::tempdir()?;
    let flags = deployment.relayer_flags(devnet, dir.path())?;
    let process = RelayerProcess::spawn_program(relayer_program, &flags).await?;
    let sequencer = deployment.sequencer.pubkey();
    let relayer = RelayerClient::new(&process.url, sequencer);
    let paywall = Paywall::connect(&process.url, owner, Discard).await?;
    let api = serve_api(&paywall).await?;

    let background = devnet.in_background();
    let http = reqwest::Client::new();
    let free = format!("{api}/free");
    let unpaid = drive(
        vec![(); clients],
        workload.calls,
        workload.rate,
        move |_| {
            let (http, url) = (http.clone(), free.clone());
            async move {
                let response = http.get(&url).send().await?;
                ensure!(response.status().is_success(), "{}", response.status());
                response.bytes().await?;
                Ok(())
            }
        },
    )
    .await?;

    let callers: Vec<_> = payers
        .iter()
        .map(|payer| {
            let (key, slot) = payer.tipper();
            PaidCaller::new(
                relayer.clone(),
                key.insecure_clone(),
                deployment.config,
                payer.tab,
                slot,
                PRICE,
            )
        })
        .collect();
    let paid_url = format!("{api}/paid");
    let cpu_before = process.cpu_seconds()?;
    let metrics_before = process.metrics().await?;
    let sequencer_before = stage.sequencer_balance().await?;
    let paid = drive(callers, workload.calls, workload.rate, move |caller| {
        let url = paid_url.clone();
        async move {
            let answer = caller.get(&url).await?;
            ensure!(
                answer.paid.is_some(),
                "not paid: {}",
                answer.response.status()
            );
            answer.response.bytes().await?;
            Ok(())
        }
    })
    .await?;
    let relayer_cpu = process.cpu_seconds()? - cpu_before;
    let relayer_view = RelayerView::between(&metrics_before, &process.metrics().await?);
    drop(background);
    eprintln!(
        "[Paid] {} paid calls, {:.0}/s, p99 {:.1} ms (unpaid p99 {:.1} ms), {} failed",
        paid.calls, paid.calls_per_second, paid.p99_ms, unpaid.p99_ms, paid.failed
    );

    let expected = Expected {
        tips: paid.calls,
        per_payee: None,
    };
    let settled = stage
        .settle(
            &process,
            &relayer,
            sequencer_before,
            expected,
            Duration::from_secs(600),
        )
        .await?;
    process.stop().await?;

    let (exact, exact_fee) = exact::run(devnet, deployment, &owner, workload, clients).await?;
    Ok(PaidResults {
        clients,
        offered_rate: workload.rate,
        added_p50_ms: paid.p50_ms - unpaid.p50_ms,
        added_p99_ms: paid.p99_ms - unpaid.p99_ms,
        relayer_cpu_us_per_call: relayer_cpu * 1e6 / paid.calls.max(1) as f64,
        sequencer_lamports_per_call: settled.sequencer_lamports as f64 / paid.calls.max(1) as f64,
        settle_seconds: settled.seconds,
        settlement: settled.report,
        unpaid,
        paid,
        exact,
        exact_fee_lamports_per_call: exact_fee,
        relayer: relayer_view,
    })
}

pub fn table(results: &PaidResults) -> String {
    let r = results;
    let mut out = format!(
        "Paid calls (HTTP 402, scheme micropay), {} clients, {} offered:\n\n",
        r.clients,
        if r.offered_rate == 0 {
            "as fast as they go".to_string()
        } else {
            format!("{} calls/s", r.offered_rate)
        }
    );
    out.push_str("| calls | kind | calls/s | p50 ms | p99 ms | added p50 / p99 ms | relayer CPU µs/call | fee lamports/call | sequencer lamports/call | settlement txs | payouts match chain |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    out.push_str(&format!(
        "| {} | unpaid | {:.0} | {:.2} | {:.2} | | | | | | |\n",
        r.unpaid.calls, r.unpaid.calls_per_second, r.unpaid.p50_ms, r.unpaid.p99_ms
    ));
    out.push_str(&format!(
        "| {} | micropay | {:.0} | {:.2} | {:.2} | {:.2} / {:.2} | {:.0} | {:.2} | {:.2} | {} | {} |\n",
        r.paid.calls,
        r.paid.calls_per_second,
        r.paid.p50_ms,
        r.paid.p99_ms,
        r.added_p50_ms,
        r.added_p99_ms,
        r.relayer_cpu_us_per_call,
        r.settlement.fee_lamports_per_tip,
        r.sequencer_lamports_per_call,
        r.settlement.transactions,
        if r.settlement.payouts_match { "yes" } else { "NO" }
    ));
    out.push_str(&format!(
        "| {} | x402 exact | {:.1} | {:.0} | {:.0} | {:.0} / {:.0} | | {:.0} | | {} | |\n",
        r.exact.calls,
        r.exact.calls_per_second,
        r.exact.p50_ms,
        r.exact.p99_ms,
        r.exact.p50_ms - r.unpaid.p50_ms,
        r.exact.p99_ms - r.unpaid.p99_ms,
        r.exact_fee_lamports_per_call,
        r.exact.calls
    ));
    let v = &r.relayer;
    out.push_str(&format!(
        "\nInside the relayer (its own histograms, p50 / p99 ms interpolated within \
         buckets): verify {:.2} / {:.2}, settle {:.2} / {:.2}, of which waiting for the \
         commit {:.2} / {:.2}.\n",
        v.verify.p50_ms,
        v.verify.p99_ms,
        v.settle.p50_ms,
        v.settle.p99_ms,
        v.durable_wait.p50_ms,
        v.durable_wait.p99_ms
    ));
    out
}
