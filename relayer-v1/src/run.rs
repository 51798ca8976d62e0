//! Configuration (flags with environment fallbacks) and the service's lifecycle.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anchor_lang::AccountDeserialize;
use anyhow::{bail, Context};
use clap::Args;
use micropay::state::Config;
use micropay_protocol::client::SettleAccounts;
use solana_sdk::{pubkey::Pubkey, signature::Keypair};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    api,
    chain::{Chain, RpcChain},
    metrics::Metrics,
    service::{Relayer, TabCache},
    settlement::{Engine, EngineConfig, Policy},
    store::SqlStore,
};

#[derive(Args, Clone, Debug)]
pub struct RelayerArgs {
    /// JSON-RPC URL of the cluster (or `localhost`, `devnet`, `mainnet-beta`).
    #[arg(
        long = "url",
        short = 'u',
        env = "MICROPAY_RPC_URL",
        default_value = "localhost"
    )]
    pub url: String,
    /// Keypair (Solana CLI JSON) that pays settlement fees and owns lookup tables.
    #[arg(long = "keypair", short = 'k', env = "MICROPAY_KEYPAIR")]
    pub keypair: PathBuf,
    /// The micropay program.
    #[arg(long, env = "MICROPAY_PROGRAM_ID", default_value_t = micropay::ID)]
    pub program_id: Pubkey,
    /// The deployment (config account) whose tabs this relayer serves.
    #[arg(long, env = "MICROPAY_CONFIG")]
    pub config: Pubkey,
    /// `sqlite://path` (embedded, default) or `postgres://...` (shared by instances).
    #[arg(
        long,
        env = "MICROPAY_STORE_URL",
        default_value = "sqlite://micropay-relayer.db"
    )]
    pub store_url: String,
    /// Address the HTTP API listens on.
    #[arg(long, env = "MICROPAY_LISTEN", default_value = "127.0.0.1:7800")]
    pub listen: SocketAddr,
    /// Settle an epoch once its first tip is this many seconds old.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_AGE_SECS", default_value_t = 30)]
    pub settle_max_age_secs: u64,
    /// ... or once its total reaches this many token base units.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_TOTAL", default_value_t = u64::MAX)]
    pub settle_max_total: u64,
    /// ... or once it holds this many tips.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_TIPS", default_value_t = 100_000)]
    pub settle_max_tips: u32,
    /// ... or when the owner's withdrawal unlocks within this many seconds.
    #[arg(
        long,
        env = "MICROPAY_SETTLE_WITHDRAWAL_HORIZON_SECS",
        default_value_t = 120
    )]
    pub settle_withdrawal_horizon_secs: u64,
    /// Milliseconds between settlement passes.
    #[arg(long, env = "MICROPAY_SETTLE_INTERVAL_MS", default_value_t = 1_000)]
    pub settle_interval_ms: u64,
    /// Priority fee, micro-lamports per compute unit.
    #[arg(long, env = "MICROPAY_PRIORITY_FEE", default_value_t = 0)]
    pub priority_fee: u64,
    /// Session keys must stay valid at least this many seconds past a tip.
    #[arg(
        long,
        env = "MICROPAY_MIN_SESSION_VALIDITY_SECS",
        default_value_t = 300
    )]
    pub min_session_validity_secs: i64,
    /// Name of this instance in settlement leases (several may share a PostgreSQL store).
    #[arg(long, env = "MICROPAY_INSTANCE", default_value = "relayer")]
    pub instance: String,
}

/// Expands the Solana CLI's URL monikers.
pub fn rpc_url(url: &str) -> String {
    match url {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

pub fn read_keypair(path: &PathBuf) -> anyhow::Result<Keypair> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).context("keypair file is not a JSON byte array")?;
    Keypair::try_from(bytes.as_slice()).context("keypair file does not hold a keypair")
}

/// A running relayer: its HTTP address and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub relayer: Arc<Relayer>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, lets in-flight ones and the current settlement pass
    /// finish, and returns when everything has stopped.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Settles every open epoch on the next pass, whatever the policy says.
    pub fn settle_now(&self) {
        self.relayer
            .settle_now
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops at once, as a crash would: the current settlement pass does not finish.
    pub fn abort(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts the relayer: store, chain access, HTTP API and the settlement engine.
pub async fn start(args: &RelayerArgs) -> anyhow::Result<Running> {
    let payer = Arc::new(read_keypair(&args.keypair)?);
    let chain: Arc<dyn Chain> = Arc::new(RpcChain::new(&rpc_url(&args.url)));
    let store = Arc::new(
        SqlStore::connect(&args.store_url)
            .await
            .context("opening the store")?,
    );

    let config_account = chain
        .accounts(&[args.config])
        .await
        .context("fetching the config")?
        .pop()
        .flatten()
        .with_context(|| format!("config {} not found", args.config))?;
    if config_account.owner != args.program_id {
        bail!(
            "{} is not owned by the program {}",
            args.config,
            args.program_id
        );
    }
    let config = Config::try_deserialize(&mut config_account.data.as_slice())
        .context("config account does not decode")?;

    let relayer = Arc::new(Relayer {
        config: args.config,
        store,
        chain,
        // Every settlement pass refreshes all watched tabs; requests fetch a tab on
        // their own only when it is unknown or the passes have fallen behind. A few
        // seconds of staleness are safe for the funds check: withdrawals unlock only
        // after the config's delay (at least 60 s).
        tabs: TabCache::new(Duration::from_millis(
            args.settle_interval_ms.saturating_mul(5).max(2_000),
        )),
        metrics: Metrics::new(),
        min_session_validity: args.min_session_validity_secs,
        settle_now: Default::default(),
    });
    let engine = Engine::new(
        relayer.clone(),
        payer,
        SettleAccounts {
            program_id: args.program_id,
            config: args.config,
            mint: config.mint,
            fee_destination: config.fee_destination,
            token_program: config.token_program,
        },
        EngineConfig {
            policy: Policy {
                max_age: Duration::from_secs(args.settle_max_age_secs),
                max_total: args.settle_max_total,
                max_tips: args.settle_max_tips,
                withdrawal_horizon: Duration::from_secs(args.settle_withdrawal_horizon_secs),
            },
            instance: args.instance.clone(),
            lease: Duration::from_secs(60),
            compute_unit_price: args.priority_fee,
        },
    );

    let (shutdown, shutdown_rx) = watch::channel(false);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let app = api::router(relayer.clone());
    let mut http_shutdown = shutdown_rx.clone();
    let http = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = http_shutdown.changed().await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "http server stopped");
        }
    });
    let interval = Duration::from_millis(args.settle_interval_ms);
    let settle = tokio::spawn(engine.run(interval, shutdown_rx));
    tracing::info!(%addr, config = %args.config, "relayer running");
    Ok(Running {
        addr,
        relayer,
        shutdown,
        tasks: vec![http, settle],
    })
}

#[derive(clap::Parser)]
#[command(
    name = "micropay-relayer",
    version,
    about = "micropay relayer: durable intake of signed tips, batched settlement"
)]
struct Cli {
    #[command(flatten)]
    relayer: RelayerArgs,
}

/// The `micropay-relayer` command: runs until SIGTERM or Ctrl-C, then stops intake,
/// finishes requests in progress and the current settlement pass, and exits. SIGUSR1
/// settles every open epoch at once (before maintenance, or to end a benchmark).
pub async fn main() -> anyhow::Result<()> {
    main_from(std::env::args()).await
}

/// [`main`] with the command line given (`micropay relayer run` passes its own).
pub async fn main_from(
    argv: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
) -> anyhow::Result<()> {
    use clap::Parser;
    let cli = Cli::parse_from(argv);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let running = start(&cli.relayer).await?;
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut settle_now = signal(SignalKind::user_defined1())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            _ = settle_now.recv() => {
                tracing::info!("SIGUSR1: settling every open epoch now");
                running.settle_now();
            }
        }
    }
    tracing::info!("shutting down: finishing requests and the current settlement pass");
    running.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
