//! The `micropay` binary against a local validator running the program's bytecode and
//! a relayer: an admin creates a deployment and proposes a change, a payer opens and
//! funds a tab, registers a session key and tips on two streams, a payee reads its
//! receipts and settles them itself with `watch` (the sequencer being late), anyone
//! sweeps the fees, and mistakes get errors that say what to do; and `pay` calls an
//! API behind the paywall, paying within its limit, and the API's owner settles the
//! receipts its paywall kept with `watch --receipts` once the relayer is gone.

use std::{path::Path, process::Command};

use micropay_devnet::{Deployment, Devnet};
use micropay_paywall::{Paywall, ReceiptLog};
use micropay_relayer::app::RelayerArgs;
use serde_json::Value;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{write_keypair_file, Keypair},
    signer::Signer,
};

struct Cli {
    url: String,
    relayer: String,
    config: Option<Pubkey>,
}

impl Cli {
    fn command(&self, keypair: &Path, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_micropay"));
        command
            .args(["--url", &self.url, "--relayer", &self.relayer, "--keypair"])
            .arg(keypair)
            .args(["--output", "json"])
            .args(args)
            .env("RUST_LOG", "error")
            .env_remove("MICROPAY_CONFIG");
        if let Some(config) = self.config {
            command.args(["--config", &config.to_string()]);
        }
        command.output().expect("run micropay")
    }

    fn ok(&self, keypair: &Path, args: &[&str]) -> Value {
        let output = self.command(keypair, args);
        assert!(
            output.status.success(),
            "micropay {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("one JSON document on stdout")
    }

    fn fails(&self, keypair: &Path, args: &[&str]) -> String {
        let output = self.command(keypair, args);
        assert!(!output.status.success(), "micropay {args:?} should fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

fn keypair_file(dir: &Path, name: &str, keypair: &Keypair) -> std::path::PathBuf {
    let path = dir.join(name);
    write_keypair_file(keypair, &path).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_payer_payee_and_operator_commands() {
    let devnet = Devnet::start().await.unwrap();
    // A mint and, on it, a wallet holding 4 tokens in its associated token account
    // (and a tab in this first deployment, which the test does not use).
    let first = Deployment::create(&devnet, 0).await.unwrap();
    let payer = first
        .payers(&devnet, 1, 2_000_000, false)
        .await
        .unwrap()
        .remove(0);
    let (payee, payee_account) = first.payee(&devnet).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin = Keypair::new();
    let sequencer = Keypair::new();
    devnet.fund(&admin.pubkey(), 1_000_000_000).await.unwrap();
    devnet
        .fund(&sequencer.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    devnet.fund(&payee.pubkey(), 1_000_000_000).await.unwrap();
    let admin_file = keypair_file(dir.path(), "admin.json", &admin);
    let payer_file = keypair_file(dir.path(), "payer.json", &payer.owner);
    let payee_file = keypair_file(dir.path(), "payee.json", &payee);
    let session = Keypair::new();
    let session_file = keypair_file(dir.path(), "session.json", &session);
    let mut cli = Cli {
        url: devnet.rpc_url(),
        relayer: "http://127.0.0.1:9".into(),
        config: None,
    };
    assert!(cli
        .fails(&payer_file, &["balance"])
        .contains("which deployment?"));

    // Admin: a deployment of its own on the same mint, fee 0.5%.
    let mint = first.mint.to_string();
    let created = cli.ok(
        &admin_file,
        &[
            "init-config",
            "--mint",
            &mint,
            "--sequencer",
            &sequencer.pubkey().to_string(),
            "--fee-bps",
            "50",
            "--withdrawal-delay",
            "3600",
            "--top-up-window",
            "60",
        ],
    );
    let config: Pubkey = created["config"].as_str().unwrap().parse().unwrap();
    cli.config = Some(config);
    let shown = cli.ok(&payer_file, &["config", "show"]);
    assert_eq!(shown["params"]["fee_bps"], 50);
    assert_eq!(shown["decimals"], 6);
    assert!(cli
        .fails(&payer_file, &["config", "update", "--fee-bps", "20"])
        .contains("is not the admin"));
    let proposed = cli.ok(&admin_file, &["config", "update", "--fee-bps", "20"]);
    assert_eq!(proposed["pending"]["fee_bps"], 20);
    let shown = cli.ok(&payer_file, &["config", "show"]);
    assert_eq!(shown["params"]["fee_bps"], 50, "in force only after notice");
    assert_eq!(shown["pending"]["fee_bps"], 20);

    // The relayer for it, in process.
    let mut flags = first.relayer_flags(&devnet, dir.path()).unwrap();
    flags.set("--config", config).set(
        "--keypair",
        keypair_file(dir.path(), "sequencer.json", &sequencer).display(),
    );
    let relayer_args = RelayerArgs::from_flags(flags.args()).unwrap();
    let relayer = micropay_relayer::app::start(&relayer_args).await.unwrap();
    cli.relayer = format!("http://{}", relayer.addr);
    let status = cli.ok(&payer_file, &["relayer", "status"]);
    assert_eq!(status["health"]["config"], config.to_string());
    assert_eq!(
        status["health"]["sequencer"],
        sequencer.pubkey().to_string()
    );
    assert_eq!(status["status"]["pending_epochs"], 0);
    assert_eq!(status["recent_settlements"], serde_json::json!([]));

    // Payer: open with a deposit, add to it, register a session key.
    let opened = cli.ok(&payer_file, &["open", "--deposit", "1.5"]);
    assert_eq!(opened["balance"], 1_500_000);
    assert!(opened["tab"].is_string());
    assert!(cli.fails(&payer_file, &["open"]).contains("already open"));
    let deposited = cli.ok(&payer_file, &["deposit", "0.5"]);
    assert_eq!(deposited["balance"], 2_000_000);
    assert!(cli
        .fails(&payer_file, &["deposit", "0.1234567"])
        .contains("more than the mint's 6 decimals"));
    assert!(cli
        .fails(&payer_file, &["deposit", "5"])
        .contains("less than the 5 to deposit"));
    let session_key = session.pubkey().to_string();
    let added = cli.ok(
        &payer_file,
        &[
            "signer",
            "add",
            &session_key,
            "--cap",
            "1",
            "--expires-in",
            "7200",
        ],
    );
    assert_eq!(added["slot"], 1);
    let signers = cli.ok(&payer_file, &["signer", "list"]);
    assert_eq!(signers["signers"][0]["key"], session_key.as_str());
    assert_eq!(signers["signers"][0]["cap"], 1_000_000);
    assert_eq!(signers["signers"][0]["live"], true);

    // Tips on two streams: the session key's (no owner keypair needed) and the owner's.
    let owner = payer.owner.pubkey().to_string();
    let payee_wallet = payee.pubkey().to_string();
    let by_session = cli.ok(
        &session_file,
        &[
            "tip",
            &payee_wallet,
            "0.25",
            "--session-key",
            session_file.to_str().unwrap(),
            "--owner",
            &owner,
        ],
    );
    assert_eq!(by_session["slot"], 1);
    assert_eq!(by_session["receipt"]["seq"], 1);
    assert_eq!(
        by_session["receipt"]["sequencer"],
        sequencer.pubkey().to_string()
    );
    let by_owner = cli.ok(&payer_file, &["tip", &payee_wallet, "0.1"]);
    assert_eq!(by_owner["slot"], 0);
    assert_eq!(by_owner["receipt"]["total"], "100000");
    // 1.65 is left across both streams.
    assert!(cli
        .fails(&payer_file, &["tip", &payee_wallet, "1.7"])
        .contains("Deposit more"));
    let stranger = keypair_file(dir.path(), "stranger.json", &Keypair::new());
    assert!(cli
        .fails(
            &stranger,
            &[
                "tip",
                &payee_wallet,
                "0.1",
                "--session-key",
                stranger.to_str().unwrap(),
                "--owner",
                &owner
            ]
        )
        .contains("neither the owner"));
    let no_account = Keypair::new().pubkey().to_string();
    assert!(cli
        .fails(&payer_file, &["tip", &no_account, "0.1"])
        .contains("policy"));

    let balance = cli.ok(&payer_file, &["balance"]);
    assert_eq!(balance["balance"], 2_000_000);
    let unsettled: Vec<u64> = balance["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["unsettled"].as_u64().unwrap())
        .collect();
    assert_eq!(unsettled, [100_000, 250_000]);
    let receipts = cli.ok(&payee_file, &["receipts"]);
    assert_eq!(receipts["unsettled"], 350_000);
    assert_eq!(receipts["receipts"].as_array().unwrap().len(), 2);
    assert_eq!(receipts["balance"], 0);

    // The payee settles its receipts itself: with no patience, the sequencer is late.
    let watched = cli.ok(&payee_file, &["watch", "--once", "--patience", "0"]);
    assert_eq!(watched["kept"], 2);
    assert_eq!(watched["settled"].as_array().unwrap().len(), 2);
    let net = 350_000 - (250_000 * 50 / 10_000) - (100_000 * 50 / 10_000);
    assert_eq!(devnet.token_balance(&payee_account).await.unwrap(), net);
    let receipts = cli.ok(&payee_file, &["receipts"]);
    assert_eq!(receipts["balance"], net);
    let again = cli.ok(&payee_file, &["watch", "--once", "--patience", "0"]);
    assert!(again["settled"].as_array().unwrap().is_empty());
    let balance = cli.ok(&payer_file, &["balance"]);
    assert_eq!(balance["balance"], 2_000_000 - 350_000);

    // Fees accrued and anyone sweeps them to the fee destination (the admin).
    assert_eq!(cli.ok(&payer_file, &["config", "show"])["fees_owed"], 1_750);
    let collected = cli.ok(&payer_file, &["fees", "collect"]);
    assert_eq!(collected["collected"], 1_750);
    assert_eq!(collected["wallet"], admin.pubkey().to_string());
    assert!(cli
        .fails(&payer_file, &["fees", "collect"])
        .contains("no fees are owed"));
    assert!(cli
        .fails(&payee_file, &["credit", "withdraw"])
        .contains("nothing is owed"));

    // Withdrawals: nothing pending, then a request, then too early (the delay, and the
    // top-up windows of the payee's settlements).
    assert!(cli
        .fails(&payer_file, &["withdraw", "complete"])
        .contains("no withdrawal is pending"));
    let requested = cli.ok(&payer_file, &["withdraw", "request", "all"]);
    assert_eq!(requested["amount"], 1_650_000);
    assert!(cli
        .fails(&payer_file, &["withdraw", "complete"])
        .contains("unlocks in"));
    assert!(cli.fails(&payer_file, &["close"]).contains("unlocks in"));

    // Removing the session key leaves its states settleable for the delay.
    let removed = cli.ok(&payer_file, &["signer", "remove", &session_key]);
    assert_eq!(removed["slot"], 1);
    let signers = cli.ok(&payer_file, &["signer", "list"]);
    assert_eq!(signers["signers"][0]["live"], false);
    assert!(cli
        .fails(&payer_file, &["signer", "remove", &session_key])
        .contains("no longer live"));
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pay_calls_a_paid_api_within_its_limit() {
    let devnet = Devnet::start().await.unwrap();
    let deployment = Deployment::create(&devnet, 100).await.unwrap();
    let payer = deployment.payer(&devnet, 1_000_000).await.unwrap();
    let (owner, owner_account) = deployment.payee(&devnet).await.unwrap();
    devnet.fund(&owner.pubkey(), 1_000_000_000).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    let relayer = micropay_relayer::app::start(&RelayerArgs::from_flags(flags.args()).unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", relayer.addr);
    let kept = dir.path().join("kept.jsonl");
    let paywall = Paywall::connect(&base, owner.pubkey(), ReceiptLog::open(&kept).unwrap())
        .await
        .unwrap();
    let app = axum::Router::new()
        .route(
            "/paid",
            axum::routing::get(|| async { "paid content" }).layer(paywall.price(1_000, "paid")),
        )
        .route("/free", axum::routing::get(|| async { "free content" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cli = Cli {
        url: devnet.rpc_url(),
        relayer: base,
        config: Some(deployment.config),
    };
    let payer_file = keypair_file(dir.path(), "payer.json", &payer.owner);
    let paid_url = format!("{api}/paid");

    // Each call pays 0.001 from the owner's stream; the second extends the first.
    for seq in 1..=2 {
        let paid = cli.ok(&payer_file, &["pay", &paid_url, "--max", "0.001"]);
        assert_eq!(paid["status"], 200);
        assert_eq!(paid["body"], "paid content");
        assert_eq!(paid["paid"]["amount"], 1_000);
        assert_eq!(paid["paid"]["pay_to"], owner.pubkey().to_string());
        assert_eq!(paid["paid"]["receipt"]["seq"], seq);
        assert_eq!(paid["paid"]["receipt"]["total"], (seq * 1_000).to_string());
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap().lines().count(), 2);
    // A free call pays nothing; a price above --max is refused before signing.
    let free = cli.ok(
        &payer_file,
        &["pay", &format!("{api}/free"), "--max", "0.001"],
    );
    assert_eq!(free["body"], "free content");
    assert_eq!(free["paid"], Value::Null);
    assert!(cli
        .fails(&payer_file, &["pay", &paid_url, "--max", "0.0009"])
        .contains("more than --max"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap().lines().count(), 2);

    // The relayer goes away unsettled: the API's owner settles the receipts its
    // paywall kept, with the chain alone.
    relayer.shutdown().await;
    let owner_file = keypair_file(dir.path(), "owner.json", &owner);
    let kept_arg = kept.to_str().unwrap();
    let watched = cli.ok(
        &owner_file,
        &["watch", "--once", "--patience", "0", "--receipts", kept_arg],
    );
    assert_eq!(watched["kept"], 2);
    assert_eq!(watched["settled"].as_array().unwrap().len(), 1);
    assert_eq!(
        devnet.token_balance(&owner_account).await.unwrap(),
        2_000 - 2_000 * 100 / 10_000
    );
}
