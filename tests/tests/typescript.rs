//! The TypeScript side against the real program and relayer on a local validator:
//!
//! - the SDK from Node (`sdk/examples/agent.ts`): it builds open-tab, deposit and
//!   add-signer from the IDL into one transaction the program accepts, signs states
//!   with a WebCrypto session key, the relayer receipts them, the SDK checks the
//!   receipts, and the bytecode settles them;
//! - the tip widget in a real browser: the web demo (validator, relayer, a demo
//!   wallet with a real keypair) driven by the Playwright test in `sdk/browser/`
//!   with Debian's Chromium, headless. Playwright's verdict is the test's; the chain
//!   is checked here too;
//! - an agent paying per call (`sdk/examples/paid-agent.ts`): `micropayFetch`, on
//!   `@x402/core`'s client and `@x402/fetch`, against an API behind the Rust paywall,
//!   from three workers with a stream each.
//!
//! Needs the SDK built (`npm --prefix sdk ci && npm --prefix sdk run build`) and
//! Chromium installed; `./scripts/test` does both first. One test binary for both:
//! each binary that links the validator costs a long link on a cold build.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use micropay_api::ReceiptJson;
use micropay_client::relayer::RelayerClient;
use micropay_devnet::{
    web::{WebDemo, TIP},
    Deployment, Devnet,
};
use micropay_interface::state::{AccountLayout, Tab};
use micropay_relayer::app::{start, RelayerArgs};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const FEE_BPS: u16 = 100;

/// The tests each run a validator, a relayer and Node (one of them Chromium too):
/// one at a time, so that two cores serve each of them in turn.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn net(gross: u64) -> u64 {
    gross - gross * u64::from(FEE_BPS) / 10_000
}

fn sdk_example(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sdk/dist/examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `npm --prefix sdk ci && npm --prefix sdk run build`",
        path.display()
    );
    path
}

/// Runs a Node example to its end (two minutes at most); fails the test if it fails.
async fn run_node(mut command: tokio::process::Command, what: &str) -> std::process::Output {
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("node finishes")
        .expect("node runs");
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The devnet's relayer flags for `deployment`, to start the relayer in this process.
fn relayer_args(deployment: &Deployment, devnet: &Devnet, dir: &Path) -> RelayerArgs {
    let flags = deployment.relayer_flags(devnet, dir).unwrap();
    RelayerArgs::from_flags(flags.args()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_typescript_agent_opens_its_tab_in_one_transaction_and_its_tips_settle() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let devnet = Devnet::start().await.expect("validator");
    let deployment = Deployment::create(&devnet, FEE_BPS)
        .await
        .expect("deployment");
    // The agent's owner key: SOL for fees and tokens in its associated account, no tab.
    let owner = Keypair::new();
    devnet.fund(&owner.pubkey(), 1_000_000_000).await.unwrap();
    let source = devnet
        .associated_token_account(&deployment.mint, &owner.pubkey())
        .await
        .unwrap();
    deployment.mint_to(&devnet, &source, 500_000).await.unwrap();
    let (alice, alice_account) = deployment.payee(&devnet).await.unwrap();
    let (bob, bob_account) = deployment.payee(&devnet).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let relayer = start(&relayer_args(&deployment, &devnet, dir.path()))
        .await
        .expect("relayer");
    let base = format!("http://{}", relayer.addr);

    let tips: Vec<(Pubkey, u64)> = vec![
        (alice.pubkey(), 1_000),
        (bob.pubkey(), 2_500),
        (alice.pubkey(), 700),
        (bob.pubkey(), 1),
        (alice.pubkey(), 30_000),
    ];
    let mut command = tokio::process::Command::new("node");
    command
        .arg(sdk_example("agent.js"))
        .args(["--rpc", &devnet.rpc_url(), "--ws", &devnet.pubsub_url()])
        .args(["--relayer", &base])
        .args(["--config", &deployment.config.to_string()])
        .args(["--owner-seed-hex", &hex(owner.secret_bytes())])
        // Enough for the first four tips only: the fifth needs a second approval.
        .args(["--deposit", "20000"]);
    for (payee, amount) in &tips {
        command.args(["--tip", &format!("{payee}:{amount}")]);
    }
    // Two more, signed ahead and sent in one request (`POST /v1/states`).
    let batch: Vec<(Pubkey, u64)> = vec![(bob.pubkey(), 3), (alice.pubkey(), 4)];
    for (payee, amount) in &batch {
        command.args(["--batch-tip", &format!("{payee}:{amount}")]);
    }
    let output = run_node(command, "the SDK agent").await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    let session: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();

    // One approval opened the tab (at the address Rust derives), deposited and
    // registered the session key in slot 1; when the fifth tip (30,000) outgrew the
    // tab and the key's cap, a second one deposited what it needed and raised the cap
    // to all the tab holds.
    assert_eq!(session["approvals"], 2);
    let tab_address = deployment.tab(&owner.pubkey());
    assert_eq!(session["tab"], tab_address.to_string());
    let session_key: Pubkey = session["session"].as_str().unwrap().parse().unwrap();
    let data = devnet.rpc().get_account_data(&tab_address).await.unwrap();
    let tab = *Tab::view(&data).expect("a tab");
    let needed = 1_000 + 2_500 + 700 + 1 + 30_000;
    assert_eq!(tab.balance.get(), 20_000 + needed);
    assert_eq!(tab.slots[1].key, session_key);
    assert_eq!(tab.slots[1].cap.get(), 20_000 + needed);

    // One receipt per tip, each the sequencer's over the state Node signed.
    let receipts: Vec<ReceiptJson> = lines
        .map(|line| serde_json::from_str(line).expect("a receipt"))
        .collect();
    assert_eq!(receipts.len(), tips.len() + batch.len());
    for (i, json) in receipts.iter().enumerate() {
        let (receipted, sequencer) = json.to_receipted().unwrap();
        assert_eq!(sequencer, deployment.sequencer.pubkey());
        assert!(receipted.receipt_verifies(&sequencer));
        assert!(
            receipted.signed.verify(&session_key),
            "signed by the session key"
        );
        assert_eq!(receipted.state().seq as usize, i + 1);
        assert_eq!(receipted.state().slot, 1);
    }
    let last = receipts.last().unwrap().to_receipted().unwrap().0;
    let alice_gross: u64 = 1_000 + 700 + 30_000 + 4;
    let bob_gross: u64 = 2_500 + 1 + 3;
    assert_eq!(last.state().entries[&alice.pubkey()], alice_gross);
    assert_eq!(last.state().entries[&bob.pubkey()], bob_gross);

    // The relayer holds the same state as its latest receipt.
    let client = RelayerClient::new(&base, deployment.sequencer.pubkey());
    let view = client.stream(&tab_address, 1).await.unwrap();
    assert_eq!(view.latest.as_ref(), receipts.last());

    // The payee's view from the SDK: its receipts, checked, and what is owed.
    let alice_view = payee_view(&base, &deployment.sequencer.pubkey(), &alice.pubkey()).await;
    assert_eq!(alice_view["receipts"], 1);
    assert_eq!(alice_view["receipted"], alice_gross.to_string());
    assert_eq!(alice_view["unsettled"], alice_gross.to_string());

    // The program settles the TypeScript-signed state: each payee paid net of the fee.
    relayer.settle_now();
    for _ in 0..600 {
        if devnet.token_balance(&bob_account).await.unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        devnet.token_balance(&alice_account).await.unwrap(),
        net(alice_gross)
    );
    assert_eq!(
        devnet.token_balance(&bob_account).await.unwrap(),
        net(bob_gross)
    );
    // The relayer marks the epoch settled once it confirms the transaction.
    let mut alice_view = serde_json::Value::Null;
    for _ in 0..60 {
        alice_view = payee_view(&base, &deployment.sequencer.pubkey(), &alice.pubkey()).await;
        if alice_view["statuses"] == serde_json::json!(["settled"]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(alice_view["statuses"], serde_json::json!(["settled"]));
    assert_eq!(alice_view["unsettled"], "0");
    relayer.shutdown().await;
}

/// `sdk/examples/payee.ts`: the receipts naming `wallet`, as the SDK collects them.
async fn payee_view(relayer: &str, sequencer: &Pubkey, wallet: &Pubkey) -> serde_json::Value {
    let output = tokio::process::Command::new("node")
        .arg(sdk_example("payee.js"))
        .args(["--relayer", relayer])
        .args(["--sequencer", &sequencer.to_string()])
        .args(["--wallet", &wallet.to_string()])
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the SDK payee example failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_tip_widget_tips_from_chromium_and_the_creator_is_paid() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let relayer_program = Path::new(env!("CARGO_BIN_EXE_relayer-under-test"));
    let demo = WebDemo::start("127.0.0.1:0".parse().unwrap(), relayer_program)
        .await
        .expect("the web demo starts");
    let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    let run = tokio::process::Command::new("npx")
        .args(["--no-install", "playwright", "test"])
        .current_dir(&sdk)
        .env("MICROPAY_DEMO_URL", &demo.url)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("playwright finishes")
        .expect("playwright runs");
    assert!(
        status.success(),
        "the browser test failed (see its output above)"
    );

    // Twenty tips of TIP, settled, net of the 1% fee: the creator's token account.
    let gross = 20 * TIP;
    assert_eq!(
        demo.devnet()
            .token_balance(&demo.creator_account)
            .await
            .unwrap(),
        gross - gross / 100
    );
    demo.stop().await.expect("the demo stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_typescript_agent_pays_per_call_from_parallel_streams() {
    const PRICE: u64 = 1_000;
    const CALLS: usize = 8;
    let _turn = ONE_AT_A_TIME.lock().await;
    let devnet = Devnet::start().await.expect("validator");
    let deployment = Deployment::create(&devnet, FEE_BPS)
        .await
        .expect("deployment");
    let dir = tempfile::tempdir().unwrap();
    let relayer = start(&relayer_args(&deployment, &devnet, dir.path()))
        .await
        .expect("relayer");
    let base = format!("http://{}", relayer.addr);
    let (owner, owner_account) = deployment.payee(&devnet).await.unwrap();
    let receipts = micropay_paywall::ReceiptLog::open(dir.path().join("kept.jsonl")).unwrap();
    let paywall = micropay_paywall::Paywall::connect(&base, owner.pubkey(), receipts)
        .await
        .unwrap();
    let app = axum::Router::new().route(
        "/fortune",
        axum::routing::get(|| async { "a fortune" }).layer(paywall.price(PRICE, "a fortune")),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/fortune", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The agent's tab, and one session key per worker in slots 1 to 3.
    let payer = deployment.payer(&devnet, 100_000).await.unwrap();
    let expires = devnet.unix_time().await.unwrap() + 86_400;
    let mut command = tokio::process::Command::new("node");
    command
        .arg(sdk_example("paid-agent.js"))
        .args(["--url", &api])
        .args(["--config", &deployment.config.to_string()])
        .args(["--sequencer", &deployment.sequencer.pubkey().to_string()])
        .args(["--tab", &payer.tab.to_string()])
        .args(["--max", &PRICE.to_string()])
        .args(["--calls", &CALLS.to_string()]);
    for slot in 1..=3u8 {
        let key = Keypair::new();
        deployment
            .add_session(&devnet, &payer, slot, &key.pubkey(), expires, 50_000)
            .await
            .unwrap();
        command.args(["--worker", &format!("{slot}:{}", hex(key.secret_bytes()))]);
    }
    let output = run_node(command, "the paying agent").await;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Every call paid once, each worker on its own stream, seq 1 to CALLS.
    assert_eq!(report["calls"], 3 * CALLS);
    for slot in 1..=3u64 {
        let seqs: Vec<u64> = report["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["slot"] == slot)
            .map(|r| r["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=CALLS as u64).collect::<Vec<_>>(), "slot {slot}");
    }

    // Settled: the API's owner gets every call's price, net of the fee.
    relayer.settle_now();
    let expected = 3 * net(CALLS as u64 * PRICE);
    for _ in 0..600 {
        if devnet.token_balance(&owner_account).await.unwrap() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        devnet.token_balance(&owner_account).await.unwrap(),
        expected
    );
    relayer.shutdown().await;
}
