//! The relayer against a real local validator (in-process `solana-test-validator`,
//! JSON-RPC) running the natively registered program.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use micropay_protocol::client::SignedState;
use micropay_relayer_v1::{
    api::StateJson,
    client::RelayerClient,
    run::{start, RelayerArgs, Running},
};
use micropay_tests::{
    e2e::{wait_settled, CrashableRelayer, LocalDeployment, Payer, RelayerProcess, RpcProxy},
    sign,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// Every tip is a multiple of 100 base units and the fee is 1%, so each netted payee
/// credit pays an exact fee whatever the batching: payees get exactly 99% of their tips.
const FEE_BPS: u16 = 100;
const UNIT: u64 = 100;

fn client(running: &Running) -> RelayerClient {
    RelayerClient::new(format!("http://{}", running.addr))
}

/// A deployment with funded payers and payees, and relayer arguments for a fresh store.
struct Setup {
    local: LocalDeployment,
    payers: Vec<Payer>,
    payees: Vec<Pubkey>,
    dir: tempfile::TempDir,
    args: RelayerArgs,
}

async fn setup(payers: usize, deposit: u64, payees: usize) -> Setup {
    let local = LocalDeployment::start(FEE_BPS).await.unwrap();
    let payers = local.payers(payers, deposit).await.unwrap();
    let payees = local.payees(payees).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = local
        .relayer_args(dir.path(), &local.validator.rpc_url(), 2)
        .await
        .unwrap();
    Setup {
        local,
        payers,
        payees,
        dir,
        args,
    }
}

/// Sends `per_payer` tips from every payer (concurrently across payers), to payees
/// chosen deterministically; returns what each payee and each tab must end up with.
async fn tip_all(
    client: &RelayerClient,
    payers: &[Payer],
    payees: &[Pubkey],
    per_payer: usize,
    seed: usize,
) -> (HashMap<Pubkey, u64>, HashMap<Pubkey, u64>) {
    let tasks = payers.iter().enumerate().map(|(p, payer)| {
        let client = client.clone();
        let owner = payer.owner.insecure_clone();
        let tab = payer.tab;
        let payees = payees.to_vec();
        async move {
            let mut known: Option<SignedState> = None;
            let mut sent = Vec::with_capacity(per_payer);
            for i in 0..per_payer {
                let payee = payees[(p * 7 + i * 3 + seed) % payees.len()];
                let amount = UNIT * (1 + ((p + i + seed) % 10) as u64);
                let accepted = client
                    .tip(&tab, &owner, &[owner.pubkey()], known.take(), payee, amount)
                    .await
                    .unwrap_or_else(|e| panic!("tip {i} of payer {p}: {e}"));
                known = Some(accepted);
                sent.push((payee, amount));
            }
            (tab, sent)
        }
    });
    let mut by_payee = HashMap::new();
    let mut by_tab = HashMap::new();
    for (tab, sent) in futures::future::join_all(tasks).await {
        for (payee, amount) in sent {
            *by_payee.entry(payee).or_insert(0) += amount;
            *by_tab.entry(tab).or_insert(0) += amount;
        }
    }
    (by_payee, by_tab)
}

/// Adds per-key amounts of `from` into `into`.
fn add_into(into: &mut HashMap<Pubkey, u64>, from: HashMap<Pubkey, u64>) {
    for (key, amount) in from {
        *into.entry(key).or_insert(0) += amount;
    }
}

/// Starts a relayer on the store in `args`, waits until it has settled everything, and
/// checks every balance against what was tipped.
async fn restart_and_check(
    local: &LocalDeployment,
    args: &RelayerArgs,
    payers: &[Payer],
    by_payee: &HashMap<Pubkey, u64>,
    by_tab: &HashMap<Pubkey, u64>,
) {
    let running = start(&args).await.expect("relayer starts");
    wait_settled(&running, Duration::from_secs(120)).await;
    check_balances(local, payers, by_payee, by_tab).await;
    running.shutdown().await;
}

/// Checks every balance on chain against what was tipped: payees get their tips minus
/// the fee to the unit, tabs paid exactly what their owners signed, the vault holds the
/// rest.
async fn check_balances(
    local: &LocalDeployment,
    payers: &[Payer],
    by_payee: &HashMap<Pubkey, u64>,
    by_tab: &HashMap<Pubkey, u64>,
) {
    let mut total = 0;
    for (payee, tipped) in by_payee {
        let balance = local.token_balance(payee).await.unwrap();
        assert_eq!(
            balance,
            tipped - tipped * u64::from(FEE_BPS) / 10_000,
            "payee {payee}"
        );
        total += tipped;
    }
    let fees = local
        .token_balance(&local.deployment.fee_destination)
        .await
        .unwrap();
    assert!(fees >= total * u64::from(FEE_BPS) / 10_000);
    let mut held = 0;
    for payer in payers {
        let tab = local.tab(&payer.tab).await.unwrap();
        let paid = by_tab.get(&payer.tab).copied().unwrap_or(0);
        assert_eq!(
            tab.settled_total, paid,
            "tab {} paid more or less than signed",
            payer.tab
        );
        held += tab.balance;
    }
    assert_eq!(
        local.token_balance(&local.deployment.vault).await.unwrap(),
        held
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_tips_settle_completely() {
    let Setup {
        local,
        payers,
        payees,
        dir: _dir,
        args,
    } = setup(50, 1_000_000_000, 10).await;
    let running = start(&args).await.expect("relayer starts");
    let client = client(&running);

    let started = Instant::now();
    let (by_payee, by_tab) = tip_all(&client, &payers, &payees, 400, 0).await;
    let intake = started.elapsed();
    let tips: u64 = 50 * 400;
    wait_settled(&running, Duration::from_secs(180)).await;
    check_balances(&local, &payers, &by_payee, &by_tab).await;

    let metrics = &running.relayer.metrics;
    let transactions = metrics.settlements.with_label_values(&["confirmed"]).get();
    let fees = metrics.fee_lamports.get();
    let tabs_per_tx =
        metrics.tabs_per_tx.get_sample_sum() / metrics.tabs_per_tx.get_sample_count() as f64;
    println!(
        "\n{tips} tips from 50 payers to 10 payees: intake {:.1} s ({:.0} tips/s over HTTP, each fsynced), \
         {transactions} settlement transactions, {:.0} tips and {tabs_per_tx:.1} tabs per transaction, \
         {fees} lamports of fees ({:.2} lamports/tip)",
        intake.as_secs_f64(),
        tips as f64 / intake.as_secs_f64(),
        tips as f64 / transactions as f64,
        fees as f64 / tips as f64,
    );
    assert!(transactions > 0 && transactions < tips / 100);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crashes_lose_nothing_and_pay_nothing_twice() {
    let Setup {
        local,
        payers,
        payees,
        dir: _dir,
        args,
    } = setup(8, 1_000_000_000, 4).await;

    let mut by_payee: HashMap<Pubkey, u64> = HashMap::new();
    let mut by_tab: HashMap<Pubkey, u64> = HashMap::new();
    // Crash at different moments of a run: right after acknowledging, while epochs are
    // rotating and packing, between sending and confirming.
    for (round, crash_after_ms) in [0u64, 150, 700, 1_300, 2_600, 3_400]
        .into_iter()
        .enumerate()
    {
        let relayer = CrashableRelayer::start(args.clone());
        let client = RelayerClient::new(format!("http://{}", relayer.addr));
        let (payee_tips, tab_tips) = tip_all(&client, &payers, &payees, 20, round).await;
        add_into(&mut by_payee, payee_tips);
        add_into(&mut by_tab, tab_tips);
        tokio::time::sleep(Duration::from_millis(crash_after_ms)).await;
        relayer.crash();
    }
    restart_and_check(&local, &args, &payers, &by_payee, &by_tab).await;
}

/// The shipped relayer command as an OS process: SIGTERM while it is settling makes it
/// finish and exit cleanly; SIGKILL at several moments loses nothing; a restart on the
/// same store settles everything exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relayer_process_survives_sigterm_and_sigkill() {
    let Setup {
        local,
        payers,
        payees,
        dir: _dir,
        args,
    } = setup(4, 1_000_000_000, 3).await;
    let binary = env!("CARGO_BIN_EXE_relayer-under-test");
    let mut by_payee = HashMap::new();
    let mut by_tab = HashMap::new();

    let process = RelayerProcess::spawn(binary, &args).await;
    let (payee_tips, tab_tips) =
        tip_all(&RelayerClient::new(process.url()), &payers, &payees, 15, 0).await;
    add_into(&mut by_payee, payee_tips);
    add_into(&mut by_tab, tab_tips);
    // Epochs are rotating and settlements are being sent.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let status = process.terminate().await;
    assert!(
        status.success(),
        "the relayer exits cleanly on SIGTERM: {status}"
    );

    for (round, kill_after_ms) in [100u64, 1_200, 2_400].into_iter().enumerate() {
        let process = RelayerProcess::spawn(binary, &args).await;
        let client = RelayerClient::new(process.url());
        let (payee_tips, tab_tips) = tip_all(&client, &payers, &payees, 15, round + 1).await;
        add_into(&mut by_payee, payee_tips);
        add_into(&mut by_tab, tab_tips);
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        process.kill();
    }
    restart_and_check(&local, &args, &payers, &by_payee, &by_tab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn intake_survives_an_rpc_outage_and_settlement_resumes() {
    let Setup {
        local,
        payers,
        payees,
        dir: _dir,
        mut args,
    } = setup(4, 1_000_000_000, 3).await;
    let proxy = RpcProxy::start(&local.validator.rpc_url()).await;
    args.url = proxy.url();
    let running = start(&args).await.expect("relayer starts");
    let client = client(&running);

    let (mut by_payee, mut by_tab) = tip_all(&client, &payers, &payees, 5, 0).await;
    proxy.set_up(false).await;
    let (more_payee, more_tab) = tip_all(&client, &payers, &payees, 10, 1).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let counts = running.relayer.store.counts().await.unwrap();
    assert_eq!(
        counts.get("settled"),
        None,
        "nothing can settle while the RPC is down"
    );
    proxy.set_up(true).await;
    add_into(&mut by_payee, more_payee);
    add_into(&mut by_tab, more_tab);
    wait_settled(&running, Duration::from_secs(120)).await;
    check_balances(&local, &payers, &by_payee, &by_tab).await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_submissions_get_their_codes_and_change_nothing() {
    let Setup {
        local: _local,
        payers,
        payees,
        dir: _dir,
        mut args,
    } = setup(1, 10_000, 2).await;
    args.settle_max_age_secs = 3_600;
    let running = start(&args).await.expect("relayer starts");
    let client = client(&running);
    let payer = &payers[0];
    let owner = payer.owner.insecure_clone();

    let first = client
        .tip(
            &payer.tab,
            &owner,
            &[owner.pubkey()],
            None,
            payees[0],
            1_000,
        )
        .await
        .unwrap();
    let before = client.state(&payer.tab).await.unwrap();
    let expect = |result: Result<StateJson, micropay_relayer_v1::client::ClientError>,
                  status: u16,
                  code: &str| {
        match result {
            Err(micropay_relayer_v1::client::ClientError::Refused {
                status: s, code: c, ..
            }) => {
                assert_eq!((s, c.as_str()), (status, code))
            }
            other => panic!("expected {status} {code}, got {other:?}"),
        }
    };

    // Forged: a state altered after signing.
    let mut forged = sign(first.state.tip(payees[1], 500).unwrap(), &owner);
    forged.state = forged.state.tip(payees[1], 1).unwrap();
    forged.state.seq -= 1;
    expect(client.submit(&forged).await, 401, "bad_signature");
    // Signed by a stranger.
    let stranger = sign(first.state.tip(payees[1], 500).unwrap(), &Keypair::new());
    expect(client.submit(&stranger).await, 401, "bad_signature");
    // Replayed: the accepted state again.
    expect(client.submit(&first).await, 409, "stale_state");
    // Stale: an extension of an older state.
    let mut old = first.state.clone();
    old.seq = 0;
    old.entries.clear();
    old.total = 0;
    expect(
        client
            .submit(&sign(old.tip(payees[1], 5).unwrap(), &owner))
            .await,
        409,
        "stale_state",
    );
    // Over the balance (10,000 deposited, 1,000 already signed).
    expect(
        client
            .submit(&sign(first.state.tip(payees[1], 9_001).unwrap(), &owner))
            .await,
        402,
        "insufficient_funds",
    );
    // Two tips in one step.
    let mut two = first
        .state
        .tip(payees[1], 5)
        .unwrap()
        .tip(payees[0], 5)
        .unwrap();
    two.seq -= 1;
    expect(client.submit(&sign(two, &owner)).await, 422, "policy");
    // Malformed bodies.
    expect(
        client
            .submit_raw(&payer.tab, &serde_json::json!({"tab": 1}))
            .await,
        400,
        "malformed",
    );
    let mut zero = StateJson::from_signed(&first);
    zero.entries[0].amount = 0;
    expect(client.submit_raw(&payer.tab, &zero).await, 400, "malformed");
    let garbage = reqwest::Client::new()
        .post(format!(
            "http://{}/v1/tabs/{}/states",
            running.addr, payer.tab
        ))
        .body(vec![0xffu8; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(
        garbage.status().as_u16(),
        413,
        "oversized bodies are refused"
    );

    // A burst of garbage, concurrently: every request is answered, nothing changes.
    let http = reqwest::Client::new();
    let burst = (0..400u32).map(|i| {
        let http = http.clone();
        let url = format!("http://{}/v1/tabs/{}/states", running.addr, payer.tab);
        async move {
            let body: Vec<u8> = match i % 4 {
                0 => (0..(i * 37 % 2_000)).map(|b| (b * 31 + i) as u8).collect(),
                1 => format!(
                    "{{\"tab\": \"{}\", \"epoch\": {i}}}",
                    "x".repeat(i as usize)
                )
                .into_bytes(),
                2 => b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec(),
                _ => serde_json::to_vec(
                    &serde_json::json!({"entries": [{"payee": i, "amount": -1}]}),
                )
                .unwrap(),
            };
            http.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    for status in futures::future::join_all(burst).await {
        assert_eq!(status, 400, "garbage must be answered as malformed");
    }
    assert_eq!(
        client.state(&payer.tab).await.unwrap(),
        before,
        "nothing changed"
    );
    let metrics = reqwest::get(format!("http://{}/metrics", running.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("micropay_tips_rejected_total{reason=\"bad_signature\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("micropay_tips_accepted_total 1"));
    assert!(
        metrics.contains("micropay_tips_rejected_total{reason=\"malformed\"} 402"),
        "{metrics}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payee_settles_without_the_relayer_and_the_relayer_notices() {
    let Setup {
        local,
        payers,
        payees,
        dir: _dir,
        mut args,
    } = setup(1, 100_000, 1).await;
    args.settle_max_age_secs = 3_600;
    let running = start(&args).await.expect("relayer starts");
    let client = client(&running);
    let payer = &payers[0];
    let owner = payer.owner.insecure_clone();

    let mut known = None;
    for _ in 0..3 {
        known = Some(
            client
                .tip(
                    &payer.tab,
                    &owner,
                    &[owner.pubkey()],
                    known,
                    payees[0],
                    1_000,
                )
                .await
                .unwrap(),
        );
    }
    // The payee fetches the latest signed state and settles it itself.
    let latest = client.state(&payer.tab).await.unwrap().to_signed().unwrap();
    assert!(latest.verify());
    let payee_key = Keypair::new();
    local
        .fund(&payee_key.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let ixs = local.deployment.settle_ixs(&[&latest]).unwrap();
    local.send(&ixs, &[&payee_key]).await.unwrap();
    assert_eq!(local.token_balance(&payees[0]).await.unwrap(), 2_970);

    // The relayer sees the epoch settled and moves on to the next one.
    wait_settled(&running, Duration::from_secs(30)).await;
    let next = client.state(&payer.tab).await.unwrap();
    assert_eq!((next.epoch, next.seq), (1, 0));
    client
        .tip(
            &payer.tab,
            &owner,
            &[owner.pubkey()],
            None,
            payees[0],
            1_000,
        )
        .await
        .unwrap();
    running.shutdown().await;
    // The relayer never settled the first epoch again.
    let tab = local.tab(&payer.tab).await.unwrap();
    assert_eq!((tab.epoch, tab.settled_total), (1, 3_000));
}

/// Two relayer instances on one PostgreSQL store: both take tips, the store's leases
/// let only one send each epoch, and everything settles exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_a_postgres_store() {
    use sqlx::{postgres::PgConnection, Connection, Executor};
    let Ok(url) = std::env::var("MICROPAY_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("MICROPAY_REQUIRE_POSTGRES").is_none(),
            "MICROPAY_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: set MICROPAY_TEST_POSTGRES_URL (./scripts/test does)");
        return;
    };
    let database = format!(
        "micropay_e2e_{}",
        Keypair::new().pubkey().to_string().to_lowercase()
    );
    let mut admin = PgConnection::connect(&url).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);

    let local = LocalDeployment::start(FEE_BPS).await.unwrap();
    let payers = local.payers(8, 1_000_000_000).await.unwrap();
    let payees = local.payees(4).await.unwrap();
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let mut args_a = local
        .relayer_args(dir_a.path(), &local.validator.rpc_url(), 2)
        .await
        .unwrap();
    let mut args_b = local
        .relayer_args(dir_b.path(), &local.validator.rpc_url(), 2)
        .await
        .unwrap();
    args_a.store_url = format!("{base}/{database}");
    args_b.store_url = args_a.store_url.clone();
    args_a.instance = "a".into();
    args_b.instance = "b".into();
    let a = start(&args_a).await.expect("relayer starts");
    let b = start(&args_b).await.expect("relayer starts");

    let (half_a, half_b) = payers.split_at(4);
    let (client_a, client_b) = (client(&a), client(&b));
    let ((mut by_payee, mut by_tab), (payee_b, tab_b)) = tokio::join!(
        tip_all(&client_a, half_a, &payees, 30, 0),
        tip_all(&client_b, half_b, &payees, 30, 1),
    );
    add_into(&mut by_payee, payee_b);
    by_tab.extend(tab_b);
    wait_settled(&a, Duration::from_secs(120)).await;
    check_balances(&local, &payers, &by_payee, &by_tab).await;
    for running in [&a, &b] {
        let failed = running
            .relayer
            .metrics
            .settlements
            .with_label_values(&["failed"])
            .get();
        assert_eq!(failed, 0, "an instance sent an epoch the other had settled");
    }
    let sent: u64 = [&a, &b]
        .iter()
        .map(|r| {
            r.relayer
                .metrics
                .settlements
                .with_label_values(&["sent"])
                .get()
        })
        .sum();
    assert!(sent > 0);
    a.shutdown().await;
    b.shutdown().await;
    admin
        .execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str())
        .await
        .unwrap();
}
