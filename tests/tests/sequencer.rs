//! The v2 relayer end to end on a local validator running the program's bytecode:
//! receipts for every persisted state, concurrent streams of one tab, one writer per
//! stream, the funds check across streams, intake refusing what the program refuses,
//! receipts served and pushed to payees, settlement, and a lower state settled behind
//! the relayer's back topped up from its receipts; many states in one request
//! ([`batch`]); bad input and slow clients
//! ([`limits`]); an RPC outage and its recovery ([`rpc_outage`]); HTTP 402 calls
//! paid through the relayer as facilitator ([`paid_calls`]); and idle lookup tables
//! retired, their rent returned ([`lookup_tables`]).

use std::{sync::Arc, time::Duration};

use micropay_api::{ErrorCode, SignedStreamJson, StreamStatus};
use micropay_client::relayer::{RelayerClient, RelayerError};
use micropay_devnet::{relayer_metrics::Buckets, Deployment, Devnet, Payer};
use micropay_interface::{
    client as builders,
    state::{AccountLayout, Tab},
};
use micropay_protocol::{SignedStream, StreamState};
use micropay_relayer::app::{start, RelayerArgs, Running};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

#[path = "sequencer/batch.rs"]
mod batch;
#[path = "sequencer/limits.rs"]
mod limits;
#[path = "sequencer/lookup_tables.rs"]
mod lookup_tables;
#[path = "sequencer/paid_calls.rs"]
mod paid_calls;
#[path = "sequencer/rpc_outage.rs"]
mod rpc_outage;

const FEE_BPS: u16 = 100;

struct World {
    devnet: Devnet,
    deployment: Deployment,
    relayer: Running,
    client: RelayerClient,
    base: String,
    args: RelayerArgs,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let devnet = Devnet::start().await.expect("validator");
    let deployment = Deployment::create(&devnet, FEE_BPS)
        .await
        .expect("deployment");
    let dir = tempfile::tempdir().unwrap();
    // Settles only when told to.
    let flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    let args = RelayerArgs::from_flags(flags.args()).unwrap();
    let relayer = start(&args).await.expect("relayer");
    let base = format!("http://{}", relayer.addr);
    let client = RelayerClient::new(&base, deployment.sequencer.pubkey());
    World {
        devnet,
        deployment,
        relayer,
        client,
        base,
        args,
        _dir: dir,
    }
}

async fn tab(devnet: &Devnet, tab: &Pubkey) -> Tab {
    *Tab::view(&devnet.rpc().get_account_data(tab).await.unwrap()).expect("a tab")
}

fn refused(result: Result<impl std::fmt::Debug, RelayerError>) -> ErrorCode {
    match result {
        Err(RelayerError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Waits until `check` holds, or fails after a minute.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The net a payee gets for `gross` at the config's fee.
fn net(gross: u64) -> u64 {
    gross - gross * u64::from(FEE_BPS) / 10_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_tip_concurrently_are_receipted_pushed_and_settled() {
    let w = world().await;
    let payer: Payer = w.deployment.payer(&w.devnet, 100_000).await.unwrap();
    let session = Keypair::new();
    let expires = w.devnet.unix_time().await.unwrap() + 3 * 86_400;
    w.deployment
        .add_session(&w.devnet, &payer, 1, &session.pubkey(), expires, 30_000)
        .await
        .unwrap();
    let (alice, alice_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let (bob, bob_account) = w.deployment.payee(&w.devnet).await.unwrap();

    // Alice listens for her receipts before anyone tips.
    let mut events = reqwest::get(format!(
        "{}/v1/payees/{}/receipts/events",
        w.base,
        alice.pubkey()
    ))
    .await
    .unwrap();

    // The owner's stream and the session key's stream tip at the same time.
    let owner_key = Arc::new(payer.owner.insecure_clone());
    let session_key = Arc::new(session.insecure_clone());
    let mut tasks = Vec::new();
    for (key, slot) in [(owner_key.clone(), 0u8), (session_key.clone(), 1u8)] {
        let client = w.client.clone();
        let (tab, alice, bob) = (payer.tab, alice.pubkey(), bob.pubkey());
        tasks.push(tokio::spawn(async move {
            let mut last = None;
            for i in 0..10u64 {
                let payee = if i % 2 == 0 { alice } else { bob };
                last = Some(
                    client
                        .tip(key.as_ref(), &tab, slot, &payee, 100 + i)
                        .await
                        .unwrap(),
                );
            }
            last.unwrap()
        }));
    }
    let mut latest = Vec::new();
    for task in tasks {
        latest.push(task.await.unwrap());
    }
    for receipted in &latest {
        assert_eq!(receipted.state().seq, 10);
        assert!(receipted.receipt_verifies(&w.deployment.sequencer.pubkey()));
    }
    let streamed_total: u64 = latest.iter().map(|r| r.state().total()).sum();
    assert_eq!(streamed_total, 2 * (100..110).sum::<u64>());

    // Each receipted state's wait for its commit, and each request by its route's
    // pattern (one series for every stream), are in the metrics.
    let metrics = reqwest::get(format!("{}/metrics", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let waits = Buckets::parse(&metrics, "micropay_durable_wait_seconds", "");
    assert!(waits.count() >= 20, "{metrics}");
    let route = format!("route=\"{}\"", micropay_api::routes::STREAM_STATES);
    let submitted = Buckets::parse(&metrics, "micropay_http_request_duration_seconds", &route);
    assert!(submitted.count() >= 20, "{metrics}");
    assert!(!metrics.contains(&payer.tab.to_string()));

    // The push channel delivered Alice's receipts as they were issued.
    let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("an event")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: receipt"), "{text}");
    assert!(text.contains(&alice.pubkey().to_string()), "{text}");

    // Both streams' receipts are served to each payee they name.
    let receipts = w
        .client
        .payee_receipts(&bob.pubkey(), 0, 100)
        .await
        .unwrap();
    let mut slots: Vec<u8> = receipts
        .iter()
        .map(|r| r.receipt.signed.state.slot)
        .collect();
    slots.sort();
    assert_eq!(slots, [0, 1]);
    assert!(receipts.iter().all(|r| r.status == StreamStatus::Open));

    // One writer per stream: two different states for the same next seq, sent
    // together; exactly one is receipted, the other is stale.
    let view = w.client.stream(&payer.tab, 0).await.unwrap();
    let base = view.next.to_state().unwrap();
    let racing: Vec<SignedStream> = [alice.pubkey(), bob.pubkey()]
        .iter()
        .map(|payee| SignedStream::sign(base.tip(*payee, 1).unwrap(), &payer.owner).unwrap())
        .collect();
    let (a, b) = tokio::join!(w.client.submit(&racing[0]), w.client.submit(&racing[1]));
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert_eq!(refused(loser), ErrorCode::StaleState);

    // The funds check covers every stream: what is left is the deposit minus both
    // streams' totals.
    let committed: u64 = streamed_total + 1;
    let left = 100_000 - committed;
    let too_much = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), left + 1)
        .await;
    assert_eq!(refused(too_much), ErrorCode::InsufficientFunds);
    // The session key is held to its cap (30,000) whatever the tab holds.
    let over_cap = w
        .client
        .tip(&session, &payer.tab, 1, &alice.pubkey(), 30_000)
        .await;
    assert_eq!(refused(over_cap), ErrorCode::Policy);
    // Two streams asking at once for what only one of them fits: one is receipted.
    let from_session = 20_000;
    let from_owner = left - from_session + 1;
    let (alice_wallet, bob_wallet) = (alice.pubkey(), bob.pubkey());
    let (owner_tip, session_tip) = tokio::join!(
        w.client
            .tip(&payer.owner, &payer.tab, 0, &alice_wallet, from_owner),
        w.client
            .tip(&session, &payer.tab, 1, &bob_wallet, from_session)
    );
    let fitted = [owner_tip.is_ok(), session_tip.is_ok()];
    assert_eq!(fitted.iter().filter(|ok| **ok).count(), 1, "{fitted:?}");
    let refusal = if owner_tip.is_ok() {
        session_tip.map(drop)
    } else {
        owner_tip.map(drop)
    };
    assert_eq!(refused(refusal), ErrorCode::InsufficientFunds);

    // Intake refuses what the program would refuse, and what is not the stream's.
    let no_account = Keypair::new().pubkey();
    let refusal = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &no_account, 1)
        .await;
    assert_eq!(refused(refusal), ErrorCode::Policy);
    let config_as_payee = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &w.deployment.config, 1)
        .await;
    assert_eq!(refused(config_as_payee), ErrorCode::Policy);
    let tab_as_payee = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &payer.tab, 1)
        .await;
    assert_eq!(refused(tab_as_payee), ErrorCode::Policy);
    let view = w.client.stream(&payer.tab, 0).await.unwrap();
    let next = view
        .next
        .to_state()
        .unwrap()
        .tip(alice.pubkey(), 1)
        .unwrap();
    let by_stranger = SignedStream::sign(next.clone(), &Keypair::new()).unwrap();
    assert_eq!(
        refused(w.client.submit(&by_stranger).await),
        ErrorCode::BadSignature
    );
    let by_session = SignedStream::sign(next.clone(), &session).unwrap();
    assert_eq!(
        refused(w.client.submit(&by_session).await),
        ErrorCode::BadSignature
    );
    let cheap = StreamState {
        fee_bps: FEE_BPS - 1,
        ..next.clone()
    };
    let cheap = SignedStream::sign(cheap, &payer.owner).unwrap();
    assert_eq!(refused(w.client.submit(&cheap).await), ErrorCode::Policy);
    let empty_slot = StreamState {
        slot: 3,
        ..next.clone()
    };
    let empty_slot = SignedStream::sign(empty_slot, &payer.owner).unwrap();
    assert_eq!(
        refused(w.client.submit(&empty_slot).await),
        ErrorCode::UnknownStream
    );

    // Malformed and oversized bodies get JSON errors with stable codes.
    let http = reqwest::Client::new();
    let url = format!("{}/v1/streams/{}/0/states", w.base, payer.tab);
    let garbage = http.post(&url).body("{").send().await.unwrap();
    assert_eq!(garbage.status(), 400);
    let body: micropay_api::ErrorResponse = garbage.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::Malformed);
    let huge = http
        .post(&url)
        .body(vec![b' '; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let body: micropay_api::ErrorResponse = huge.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::PayloadTooLarge);
    // A body that stalls half way gets a timeout, not a connection held open.
    let stalled = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::TcpStream::connect(w.relayer.addr)
            .await
            .unwrap();
        let head = format!(
            "POST /v1/streams/{}/0/states HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"tab\"",
            payer.tab
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = socket.read(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    };
    let answer = tokio::time::timeout(Duration::from_secs(30), stalled)
        .await
        .expect("an answer to a stalled body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    let other_stream = SignedStreamJson::from(&SignedStream::sign(next, &payer.owner).unwrap());
    let wrong_url = format!("{}/v1/streams/{}/1/states", w.base, payer.tab);
    let mismatch = http
        .post(&wrong_url)
        .json(&other_stream)
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);
    let bad_slot = http
        .get(format!("{}/v1/streams/{}/256", w.base, payer.tab))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_slot.status(), 400);
    let body: micropay_api::ErrorResponse = bad_slot.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::Malformed);

    // Settlement: both streams in one transaction, each payee paid net of the fee.
    let before = tab(&w.devnet, &payer.tab).await;
    w.relayer.settle_now();
    let alice_gross: u64 = [100u64, 102, 104, 106, 108].iter().sum::<u64>() * 2
        + u64::from(outcomes[0])
        + if fitted[0] { from_owner } else { 0 };
    let bob_gross: u64 = [101u64, 103, 105, 107, 109].iter().sum::<u64>() * 2
        + u64::from(outcomes[1])
        + if fitted[1] { from_session } else { 0 };
    let devnet = &w.devnet;
    eventually("both payees paid", || async {
        devnet.token_balance(&alice_account).await.unwrap() > 0
            && devnet.token_balance(&bob_account).await.unwrap() > 0
    })
    .await;
    // Each payee is paid once per stream: the fee is floored per entry.
    let alice_paid = devnet.token_balance(&alice_account).await.unwrap();
    let bob_paid = devnet.token_balance(&bob_account).await.unwrap();
    assert!(
        alice_paid <= net(alice_gross) + 2 && alice_paid >= net(alice_gross),
        "{alice_paid} of {alice_gross}"
    );
    assert!(
        bob_paid <= net(bob_gross) + 2 && bob_paid >= net(bob_gross),
        "{bob_paid} of {bob_gross}"
    );
    let after = tab(&w.devnet, &payer.tab).await;
    assert_eq!(
        before.balance.get() - after.balance.get(),
        alice_gross + bob_gross
    );
    assert_eq!(
        (after.slots[0].epoch.get(), after.slots[1].epoch.get()),
        (1, 1)
    );
    let client = &w.client;
    eventually("receipts reported settled", || async {
        let receipts = client
            .payee_receipts(&alice.pubkey(), 0, 100)
            .await
            .unwrap();
        receipts.len() == 2 && receipts.iter().all(|r| r.status == StreamStatus::Settled)
    })
    .await;
    // The relayer reports the same: nothing pending, one landed settlement carrying
    // both streams, and each payee's tips settled.
    let status = w.client.status().await.unwrap();
    assert_eq!((status.pending_epochs, status.pending_amount), (0, 0));
    assert_eq!(status.oldest_pending_ms, None);
    let settled = status.totals(StreamStatus::Settled);
    assert_eq!(
        (settled.epochs, settled.amount),
        (2, alice_gross + bob_gross)
    );
    let settlements = w.client.settlements(0, 100).await.unwrap();
    let landed: Vec<_> = settlements
        .iter()
        .filter(|s| s.status == micropay_api::SettlementStatus::Landed)
        .collect();
    assert_eq!(landed.len(), 1, "{settlements:?}");
    assert_eq!(
        (landed[0].streams, landed[0].tips, landed[0].amount),
        (2, settled.tips, alice_gross + bob_gross)
    );
    let alice_summary = w.client.payee(&alice.pubkey()).await.unwrap();
    assert_eq!(
        alice_summary.totals(StreamStatus::Settled).amount,
        alice_gross
    );
    assert_eq!(alice_summary.totals(StreamStatus::Open).epochs, 0);

    // Tips after the settlement open the streams' next epochs.
    let next = w
        .client
        .tip(&session, &payer.tab, 1, &alice.pubkey(), 5)
        .await
        .unwrap();
    assert_eq!((next.state().epoch, next.state().seq), (1, 1));
    // A graceful shutdown ends the open event stream instead of waiting on it.
    tokio::time::timeout(Duration::from_secs(30), w.relayer.shutdown())
        .await
        .expect("shutdown with a subscriber connected");
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lower_state_settled_first_is_topped_up_from_the_receipt() {
    let w = world().await;
    let payer = w.deployment.payer(&w.devnet, 50_000).await.unwrap();
    let (alice, alice_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let first = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), 1_000)
        .await
        .unwrap();
    let second = w
        .client
        .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), 2_000)
        .await
        .unwrap();
    assert_eq!(second.state().seq, 2);

    // The payer and the sequencer's key settle the lower state behind the relayer's
    // back (a stale instance, or collusion).
    w.deployment
        .settle_outside_relayer(&w.devnet, &first)
        .await
        .unwrap();
    assert_eq!(
        w.devnet.token_balance(&alice_account).await.unwrap(),
        net(1_000)
    );

    // The relayer sees the chain settled seq 1 of an epoch it receipted up to seq 2,
    // and tops it up inside the window: Alice gets the rest.
    let devnet = &w.devnet;
    eventually("the top-up", || async {
        devnet.token_balance(&alice_account).await.unwrap() == net(1_000) + net(2_000)
    })
    .await;
    let chain_tab = tab(&w.devnet, &payer.tab).await;
    assert_eq!(chain_tab.balance.get(), 50_000 - 3_000);
    assert_eq!(
        (
            chain_tab.slots[0].epoch.get(),
            chain_tab.slots[0].last_seq.get()
        ),
        (1, 2)
    );
    let client = &w.client;
    eventually("the receipt reported settled", || async {
        let receipts = client.payee_receipts(&alice.pubkey(), 0, 10).await.unwrap();
        receipts.len() == 1 && receipts[0].status == StreamStatus::Settled
    })
    .await;
    w.relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_loses_no_receipt_and_pays_nothing_twice() {
    let w = world().await;
    let payer = w.deployment.payer(&w.devnet, 50_000).await.unwrap();
    let (alice, alice_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let mut gross = 0;
    for amount in [300u64, 200, 100] {
        w.client
            .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), amount)
            .await
            .unwrap();
        gross += amount;
    }
    // A crash right after the receipts: everything receipted is still there.
    w.relayer.abort();
    let relayer = start(&w.args).await.expect("restart");
    let client = RelayerClient::new(
        format!("http://{}", relayer.addr),
        w.deployment.sequencer.pubkey(),
    );
    let view = client.stream(&payer.tab, 0).await.unwrap();
    let latest = view.latest.expect("the receipted state survived");
    assert_eq!(
        (latest.signed.state.seq, latest.signed.state.total),
        (3, gross)
    );
    client
        .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), 400)
        .await
        .unwrap();
    gross += 400;

    // A crash while the settlement is in flight: the next instance reconciles with
    // the chain and neither loses nor repeats the payment.
    relayer.settle_now();
    let devnet = &w.devnet;
    eventually("the settlement", || async {
        devnet.token_balance(&alice_account).await.unwrap() > 0
    })
    .await;
    relayer.abort();
    let relayer = start(&w.args).await.expect("second restart");
    let client = RelayerClient::new(
        format!("http://{}", relayer.addr),
        w.deployment.sequencer.pubkey(),
    );
    relayer.settle_now();
    let client_ref = &client;
    eventually("the receipt reported settled", || async {
        let receipts = client_ref
            .payee_receipts(&alice.pubkey(), 0, 10)
            .await
            .unwrap();
        receipts.len() == 1 && receipts[0].status == StreamStatus::Settled
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        w.devnet.token_balance(&alice_account).await.unwrap(),
        net(gross)
    );
    assert_eq!(
        tab(&w.devnet, &payer.tab).await.balance.get(),
        50_000 - gross
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payee_settles_its_receipts_itself_when_the_relayer_is_gone() {
    let w = world().await;
    let payer = w.deployment.payer(&w.devnet, 50_000).await.unwrap();
    let (alice, alice_account) = w.deployment.payee(&w.devnet).await.unwrap();
    w.devnet.fund(&alice.pubkey(), 100_000_000).await.unwrap();
    for amount in [1_000u64, 500] {
        w.client
            .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), amount)
            .await
            .unwrap();
    }
    let mut watcher = micropay_client::watcher::Watcher::new(
        w.devnet.rpc(),
        w.client.clone(),
        alice.insecure_clone(),
        w.deployment.config,
        3_600,
    );
    let now = w.devnet.unix_time().await.unwrap();
    assert_eq!(watcher.collect(now).await.unwrap(), 1);
    // The sequencer is gone; nothing is due while it still has time.
    w.relayer.shutdown().await;
    assert!(watcher.settle_due(now).await.unwrap().is_empty());

    // The payer asks for its money back: the watcher settles its receipt before the
    // withdrawal can unlock.
    let request = builders::request_withdraw(&payer.owner.pubkey(), &w.deployment.config, 50_000);
    w.devnet.send(&[request], &[&payer.owner]).await.unwrap();
    let now = w.devnet.unix_time().await.unwrap();
    let sent = watcher.settle_due(now).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        w.devnet.token_balance(&alice_account).await.unwrap(),
        net(1_500)
    );
    let chain_tab = tab(&w.devnet, &payer.tab).await;
    assert_eq!(
        (chain_tab.balance.get(), chain_tab.slots[0].epoch.get()),
        (48_500, 1)
    );
    assert!(watcher.held().is_empty());

    // A payee of more payers than one `getMultipleAccounts` may name: the watcher's
    // reads span requests, each account still at its own position.
    let mut keys: Vec<Pubkey> = (0..250).map(|_| Pubkey::new_unique()).collect();
    (keys[0], keys[120], keys[249]) = (w.deployment.config, payer.tab, alice_account);
    let accounts = micropay_client::accounts::multiple(&w.devnet.rpc(), &keys)
        .await
        .unwrap();
    assert_eq!(accounts.len(), keys.len());
    let found: Vec<usize> = (0..keys.len()).filter(|&i| accounts[i].is_some()).collect();
    assert_eq!(found, [0, 120, 249]);
}
