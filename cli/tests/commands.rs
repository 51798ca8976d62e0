//! The `micropay` binary against a local validator and a relayer: an admin creates a
//! deployment, a payer opens and funds a tab, registers a session key, tips with it
//! and with the owner key, a payee looks at its earnings and settles the payer's state
//! without the relayer; mistakes get errors that say what to do.

use std::{path::Path, process::Command};

use micropay_client::localnet::LocalDeployment;
use serde_json::Value;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

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
            .env("RUST_LOG", "error");
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
    std::fs::write(
        &path,
        serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_payer_and_payee_commands() {
    let local = LocalDeployment::start(100).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A wallet with 2 tokens in a token account of the mint (and a tab in the first
    // deployment, which this test does not use).
    let payer = local.payers(1, 2_000_000).await.unwrap().remove(0);
    let payee = local.payees(1).await.unwrap()[0];
    let admin_file = keypair_file(dir.path(), "admin.json", &local.admin);
    let payer_file = keypair_file(dir.path(), "payer.json", &payer.owner);
    let session = Keypair::new();
    let session_file = keypair_file(dir.path(), "session.json", &session);
    let mut cli = Cli {
        url: local.validator.rpc_url(),
        relayer: String::new(),
        config: None,
    };

    // Admin: a deployment of its own on the same mint, fee 0.5%.
    let created = cli.ok(
        &admin_file,
        &[
            "init-config",
            "--mint",
            &local.deployment.mint.to_string(),
            "--fee-bps",
            "50",
            "--withdrawal-delay",
            "60",
        ],
    );
    let config: Pubkey = created["config"].as_str().unwrap().parse().unwrap();
    cli.config = Some(config);

    let mut relayer_args = local
        .relayer_args(dir.path(), &local.validator.rpc_url(), 3_600)
        .await
        .unwrap();
    relayer_args.config = config;
    let relayer = micropay_relayer_v1::run::start(&relayer_args)
        .await
        .unwrap();
    cli.relayer = format!("http://{}", relayer.addr);

    // Payer: open with a deposit, add to it, register a session key.
    let from = payer.token_account.to_string();
    let opened = cli.ok(&payer_file, &["open", "--deposit", "1.5", "--from", &from]);
    assert_eq!(opened["deposited"], 1_500_000);
    let tab = opened["tab"].as_str().unwrap().to_string();
    assert!(cli
        .fails(&payer_file, &["open", "--from", &from])
        .contains("already open"));
    let deposited = cli.ok(&payer_file, &["deposit", "0.5", "--from", &from]);
    assert_eq!(deposited["balance"], 2_000_000);
    assert!(cli
        .fails(&payer_file, &["deposit", "0.1234567", "--from", &from])
        .contains("more than the mint's 6 decimals"));
    assert!(cli
        .fails(&payer_file, &["deposit", "5", "--from", &from])
        .contains("less than the 5 to deposit"));
    let session_key = session.pubkey().to_string();
    cli.ok(
        &payer_file,
        &[
            "signer",
            "add",
            &session_key,
            "--cap",
            "1",
            "--expires-in",
            "3600",
        ],
    );
    let signers = cli.ok(&payer_file, &["signer", "list"]);
    assert_eq!(signers["signers"][0]["key"], session_key.as_str());
    assert_eq!(signers["signers"][0]["cap"], 1_000_000);

    // Tips: with the session key (no owner keypair needed), then with the owner key,
    // each extending the relayer's latest state after checking it is the payer's own.
    let owner = payer.owner.pubkey().to_string();
    let payee_text = payee.to_string();
    let first = cli.ok(
        &session_file,
        &[
            "tip",
            &payee_text,
            "0.25",
            "--session-key",
            session_file.to_str().unwrap(),
            "--owner",
            &owner,
        ],
    );
    assert_eq!(first["state"]["seq"], 1);
    assert_eq!(first["state"]["signer"], session_key.as_str());
    let second = cli.ok(&payer_file, &["tip", &payee_text, "0.1"]);
    assert_eq!(second["state"]["seq"], 2);
    assert_eq!(second["state"]["total"], 350_000);
    assert!(cli
        .fails(&payer_file, &["tip", &payee_text, "1.7"])
        .contains("Deposit more"));
    let stranger = keypair_file(dir.path(), "stranger.json", &Keypair::new());
    assert!(cli
        .fails(
            &stranger,
            &[
                "tip",
                &payee_text,
                "0.1",
                "--session-key",
                stranger.to_str().unwrap(),
                "--owner",
                &owner
            ]
        )
        .contains("neither the owner"));

    let balance = cli.ok(&payer_file, &["balance"]);
    assert_eq!(balance["balance"], 2_000_000);
    assert_eq!(balance["unsettled_open_epoch"], 350_000);
    let earnings = cli.ok(&payer_file, &["earnings", &payee_text]);
    assert_eq!(earnings["unsettled_recent"], 350_000);
    assert_eq!(earnings["tips"].as_array().unwrap().len(), 2);

    // The payee settles the payer's latest state itself, without the relayer's help.
    let anyone = keypair_file(dir.path(), "anyone.json", &local.admin);
    let settled = cli.ok(&anyone, &["settle", "--tab", &tab]);
    assert_eq!(
        (settled["tips"].clone(), settled["total"].clone()),
        (2.into(), 350_000.into())
    );
    assert_eq!(local.token_balance(&payee).await.unwrap(), 350_000 - 1_750);
    let balance = cli.ok(&payer_file, &["balance"]);
    assert_eq!(
        (balance["balance"].clone(), balance["epoch"].clone()),
        (1_650_000.into(), 1.into())
    );
    // The relayer still offers the settled state until it notices; settling it again
    // is refused before any transaction is sent.
    let again = cli.fails(&anyone, &["settle", "--tab", &tab]);
    assert!(
        again.contains("settled already") || again.contains("nothing to settle"),
        "{again}"
    );

    // Withdrawals: nothing pending, then a request, then too early.
    assert!(cli
        .fails(&payer_file, &["withdraw", "complete"])
        .contains("no withdrawal is pending"));
    let requested = cli.ok(&payer_file, &["withdraw", "request", "all"]);
    assert_eq!(requested["amount"], 1_650_000);
    assert!(cli
        .fails(&payer_file, &["withdraw", "complete"])
        .contains("unlocks in"));

    cli.ok(&payer_file, &["signer", "remove", &session_key]);
    assert!(cli.ok(&payer_file, &["signer", "list"])["signers"]
        .as_array()
        .unwrap()
        .is_empty());
    relayer.shutdown().await;
}
