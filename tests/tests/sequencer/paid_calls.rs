//! HTTP 402 pay-per-call end to end: an axum API behind the paywall, the relayer as
//! facilitator, payers paying from parallel streams of one tab, refusals that change
//! nothing, the receipts kept for the API's owner, and settlement paying the owner.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{http::StatusCode, routing::get, Router};
use micropay_api::{
    x402::{
        decode_header, encode_header, headers, solana_network, PaymentPayload, PaymentRequired,
        X402_VERSION,
    },
    ReceiptJson, SignedStreamJson,
};
use micropay_client::pay::{PayError, Payer as PaidCaller};
use micropay_paywall::{Paywall, ReceiptLog};

use super::*;

const PRICE: u64 = 1_000;
const WORKERS: u8 = 4;
const CALLS_PER_WORKER: usize = 10;

/// The API, and a count of the requests that reached it carrying no payment.
async fn serve(paywall: &Paywall) -> (String, Arc<AtomicUsize>) {
    let unpaid = Arc::new(AtomicUsize::new(0));
    let counted = unpaid.clone();
    let app = Router::new()
        .route(
            "/paid",
            get(|| async { "paid content" }).layer(paywall.price(PRICE, "a paid answer")),
        )
        .route(
            "/fails",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") })
                .layer(paywall.price(PRICE, "an answer that fails")),
        )
        .layer(axum::middleware::map_request(
            move |request: axum::extract::Request| {
                if !request.headers().contains_key(headers::PAYMENT_SIGNATURE) {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
                async move { request }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, unpaid)
}

fn required(response: &reqwest::Response) -> PaymentRequired {
    let header = response.headers()[headers::PAYMENT_REQUIRED]
        .to_str()
        .unwrap();
    decode_header(header).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paid_calls_are_receipted_kept_and_settled_to_the_owner() {
    let w = world().await;
    let sequencer = w.deployment.sequencer.pubkey();
    let (owner, owner_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("receipts.jsonl");
    let paywall = Paywall::connect(&w.base, owner.pubkey(), ReceiptLog::open(&log).unwrap())
        .await
        .unwrap();
    let (api, unpaid_requests) = serve(&paywall).await;

    // Unpaid: a 402 offering the price to the owner, in this deployment and cluster.
    let unpaid = reqwest::get(format!("{api}/paid")).await.unwrap();
    assert_eq!(unpaid.status(), StatusCode::PAYMENT_REQUIRED);
    let offer = required(&unpaid).accepts.remove(0);
    let genesis = w.devnet.rpc().get_genesis_hash().await.unwrap();
    assert_eq!(offer.network, solana_network(&genesis.to_string()));
    assert_eq!(offer.amount.0, PRICE);
    assert_eq!(offer.pay_to, owner.pubkey().to_string());
    assert_eq!(offer.asset, w.deployment.mint.to_string());
    assert_eq!(offer.extra.config, w.deployment.config.to_string());
    assert_eq!(offer.extra.sequencer, sequencer.to_string());
    assert_eq!(offer.extra.relayer, w.base);

    // Workers of one agent pay in parallel, each from its own session key's stream.
    let payer = w.deployment.payer(&w.devnet, 1_000_000).await.unwrap();
    let expires = w.devnet.unix_time().await.unwrap() + 86_400;
    // The relayer has read the tab before its session keys exist. The first worker
    // starts as soon as its key is registered, well within the tab cache's life: the
    // relayer must look at the chain again. The others start once all keys are in.
    w.client.stream(&payer.tab, 0).await.unwrap();
    let url = format!("{api}/paid");
    let worker = |slot: u8, key: Keypair| {
        let caller = PaidCaller::new(
            RelayerClient::new(&w.base, sequencer),
            key,
            w.deployment.config,
            payer.tab,
            slot,
            PRICE,
        );
        let url = url.clone();
        async move {
            for _ in 0..CALLS_PER_WORKER {
                let answer = caller.get(&url).await.unwrap();
                assert_eq!(answer.response.status(), StatusCode::OK);
                let paid = answer.paid.expect("paid");
                assert_eq!(paid.amount, PRICE);
                assert_eq!(answer.response.text().await.unwrap(), "paid content");
            }
            caller
        }
    };
    let mut workers = tokio::task::JoinSet::new();
    let mut later = Vec::new();
    for slot in 1..=WORKERS {
        let key = Keypair::new();
        w.deployment
            .add_session(&w.devnet, &payer, slot, &key.pubkey(), expires, 500_000)
            .await
            .unwrap();
        if slot == 1 {
            workers.spawn(worker(slot, key));
        } else {
            later.push((slot, key));
        }
    }
    for (slot, key) in later {
        workers.spawn(worker(slot, key));
    }
    let callers: Vec<_> = workers.join_all().await;
    let paid_calls = usize::from(WORKERS) * CALLS_PER_WORKER;
    // One 402 per worker (and the one above): a route paid once is paid upfront after.
    assert_eq!(
        unpaid_requests.load(Ordering::Relaxed),
        1 + usize::from(WORKERS)
    );

    // A failing handler is not charged; the stream goes on where it was.
    let failed = callers[0].get(&format!("{api}/fails")).await.unwrap();
    assert_eq!(failed.response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(failed.paid.is_none());
    // A price above the caller's limit is refused before anything is signed.
    let stingy = PaidCaller::new(
        RelayerClient::new(&w.base, sequencer),
        payer.owner.insecure_clone(),
        w.deployment.config,
        payer.tab,
        0,
        PRICE - 1,
    );
    assert!(matches!(
        stingy.get(&format!("{api}/paid")).await,
        Err(PayError::TooExpensive { .. })
    ));

    // By hand on the owner's stream: underpaying, then replaying a paid header.
    let http = reqwest::Client::new();
    let paid_with = |state: StreamState| {
        let signed = SignedStream::sign(state, &payer.owner).unwrap();
        encode_header(&PaymentPayload {
            x402_version: X402_VERSION,
            resource: None,
            accepted: offer.clone(),
            payload: SignedStreamJson::from(&signed),
        })
    };
    let next = w
        .client
        .stream(&payer.tab, 0)
        .await
        .unwrap()
        .next
        .to_state()
        .unwrap();
    let short = paid_with(next.tip(owner.pubkey(), PRICE - 1).unwrap());
    let refused = http
        .get(format!("{api}/paid"))
        .header(headers::PAYMENT_SIGNATURE, short)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::PAYMENT_REQUIRED);
    let error = required(&refused).error.unwrap();
    assert!(error.starts_with("invalid_payment_amount"), "{error}");
    let exact = paid_with(next.tip(owner.pubkey(), PRICE).unwrap());
    for expected in [StatusCode::OK, StatusCode::PAYMENT_REQUIRED] {
        let answer = http
            .get(format!("{api}/paid"))
            .header(headers::PAYMENT_SIGNATURE, &exact)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), expected, "a paid header serves once");
        if expected == StatusCode::PAYMENT_REQUIRED {
            let error = required(&answer).error.unwrap();
            assert!(error.starts_with("stale_state"), "{error}");
        }
    }
    let paid_calls = paid_calls + 1;

    // The owner kept every receipt, each the sequencer's and paying it the price.
    let kept = std::fs::read_to_string(&log).unwrap();
    assert_eq!(kept.lines().count(), paid_calls);
    for line in kept.lines() {
        let (receipted, named) = serde_json::from_str::<ReceiptJson>(line)
            .unwrap()
            .to_receipted()
            .unwrap();
        assert_eq!(named, sequencer);
        assert!(receipted.receipt_verifies(&sequencer));
        assert!(receipted.state().entries.contains_key(&owner.pubkey()));
    }

    // Settled: the owner gets every call's price less the fee, nothing more.
    w.relayer.settle_now();
    let expected = net(paid_calls as u64 * PRICE);
    let devnet = &w.devnet;
    eventually("the owner's payout", || async {
        devnet.token_balance(&owner_account).await.unwrap() == expected
    })
    .await;
    let tab = tab(devnet, &payer.tab).await;
    assert_eq!(tab.balance.get(), 1_000_000 - paid_calls as u64 * PRICE);
}
