//! `micropay demo --web`: the tip widget on a page, against a local validator running
//! the program's bytecode and a relayer. The page registers a demo Wallet Standard
//! wallet holding a real, funded keypair (a reader), and tips a creator. Development
//! routes settle on demand and show the creator's on-chain balance. The browser test
//! drives this same server.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::ensure;
use axum::{extract::State, routing::get, routing::post, Json, Router};
use serde_json::{json, Value};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use tokio::{net::TcpListener, sync::watch};
use tower_http::services::ServeDir;

use crate::{process::RelayerProcess, Deployment, Devnet};

/// One tip, in base units (the demo mint has 6 decimals: 0.001 tokens).
pub const TIP: u64 = 1_000;
/// What the reader's one approval deposits: a hundred tips.
pub const DEPOSIT: u64 = 100 * TIP;

/// The page and the bundles `npm --prefix sdk run build` writes.
fn web_dirs() -> (PathBuf, PathBuf) {
    let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    (sdk.join("web"), sdk.join("dist/bundle"))
}

struct Shared {
    devnet: Devnet,
    deployment: Deployment,
    relayer: RelayerProcess,
    creator: Pubkey,
    creator_account: Pubkey,
    reader: Keypair,
}

/// A running web demo.
pub struct WebDemo {
    pub url: String,
    pub creator: Pubkey,
    pub creator_account: Pubkey,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl WebDemo {
    /// Starts the validator, a deployment, `relayer_program` (a build of
    /// `micropay-relayer`, callable from any origin), a funded reader and a creator,
    /// and serves the page on `listen`.
    pub async fn start(listen: SocketAddr, relayer_program: &Path) -> anyhow::Result<Self> {
        let (page, bundles) = web_dirs();
        ensure!(
            bundles.join("micropay-tip.js").exists(),
            "{} is missing: run `npm --prefix sdk ci && npm --prefix sdk run build`",
            bundles.join("micropay-tip.js").display()
        );
        let devnet = Devnet::start().await?;
        let deployment = Deployment::create(&devnet, 100).await?;
        let reader = Keypair::new();
        devnet.fund(&reader.pubkey(), 1_000_000_000).await?;
        let source = devnet
            .associated_token_account(&deployment.mint, &reader.pubkey())
            .await?;
        deployment.mint_to(&devnet, &source, 10 * DEPOSIT).await?;
        let (creator, creator_account) = deployment.payee(&devnet).await?;
        let dir = tempfile::tempdir()?;
        let mut flags = deployment.relayer_flags(&devnet, dir.path())?;
        flags.set("--cors-origin", "*");
        let relayer = RelayerProcess::spawn_program(relayer_program, &flags).await?;
        let shared = Arc::new(Shared {
            devnet,
            deployment,
            relayer,
            creator: creator.pubkey(),
            creator_account,
            reader,
        });
        let app = Router::new()
            .route("/demo.json", get(demo_json))
            .route("/demo/creator", get(creator_balance))
            .route("/demo/settle", post(settle))
            .fallback_service(ServeDir::new(page).fallback(ServeDir::new(bundles)))
            .with_state(shared.clone());
        let listener = TcpListener::bind(listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (shutdown, mut stop) = watch::channel(false);
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "demo page server stopped");
            }
        });
        Ok(Self {
            url,
            creator: shared.creator,
            creator_account: shared.creator_account,
            shared,
            shutdown,
            server,
            _dir: dir,
        })
    }

    pub fn devnet(&self) -> &Devnet {
        &self.shared.devnet
    }

    pub fn deployment(&self) -> &Deployment {
        &self.shared.deployment
    }

    pub fn reader(&self) -> Pubkey {
        self.shared.reader.pubkey()
    }

    /// Stops serving the page, then the relayer (SIGTERM: it finishes what it was
    /// doing).
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        // The server and its handlers are gone: the relayer is this demo's alone.
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => shared.relayer.stop().await,
            Err(_) => Ok(()),
        }
    }
}

async fn demo_json(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        // The demo wallet's key: a throwaway local keypair, given to the page on purpose.
        "reader_seed_hex": hex(shared.reader.secret_bytes()),
        "widget": {
            "payee": shared.creator.to_string(),
            "amount": TIP.to_string(),
            "deposit": DEPOSIT.to_string(),
            "config": shared.deployment.config.to_string(),
            "relayer": shared.relayer.url,
            "rpc": shared.devnet.rpc_url(),
            "chain": "solana:localnet",
            "decimals": Deployment::DECIMALS.to_string(),
            "label": "Tip 0.001",
        },
    }))
}

async fn creator_balance(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let balance = shared
        .devnet
        .token_balance(&shared.creator_account)
        .await
        .unwrap_or(0);
    Json(json!({
        "wallet": shared.creator.to_string(),
        "token_account": shared.creator_account.to_string(),
        "balance": balance.to_string(),
    }))
}

/// Settles every open stream epoch now (instead of waiting for the policy).
async fn settle(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let settling = shared.relayer.settle_now().is_ok();
    Json(json!({ "settling": settling }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves the demo until Ctrl-C.
pub async fn main(listen: SocketAddr) -> anyhow::Result<()> {
    let demo = WebDemo::start(listen, &RelayerProcess::beside_this_program()?).await?;
    println!("micropay web demo on {}", demo.url);
    println!(
        "  creator {}, reader (demo wallet) {}",
        demo.creator,
        demo.reader()
    );
    println!("  settle now: curl -X POST {}/demo/settle", demo.url);
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    demo.stop().await
}
