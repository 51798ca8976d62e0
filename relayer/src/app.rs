//! Configuration (flags with environment fallbacks) and the service's lifecycle:
//! start, settle-now, graceful shutdown, and the `micropay-relayer` command.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{atomic::AtomicI64, Arc},
    time::Duration,
};

use clap::Args;
use solana_sdk::{pubkey::Pubkey, signature::read_keypair_file, signer::Signer};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    chain::{decode_config, Chain, ChainError, RpcChain},
    http::{self, AppState},
    intake::{ledger::Settling, IntakeLimits, Sequencer},
    metrics::Metrics,
    serve::{serve, ConnectionLimits},
    settlement::{policy::Policy, Engine, EngineConfig},
    store::{SqlStore, StoreError},
    x402,
};

/// Why the relayer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("reading the keypair {path}: {reason}")]
    Keypair { path: PathBuf, reason: String },
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    #[error("reading the chain: {0}")]
    Chain(#[from] ChainError),
    #[error("{0} is not a micropay config")]
    NotAConfig(Pubkey),
    #[error("{key} is not the sequencer of config {config} (it is {sequencer})")]
    NotTheSequencer {
        key: Pubkey,
        config: Pubkey,
        sequencer: Pubkey,
    },
    #[error("not an origin: {0}")]
    Origin(String),
    #[error("listening on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

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
    /// The sequencer's keypair (Solana CLI JSON): it signs receipts and settlements
    /// and pays their fees. It must be the config's sequencer.
    #[arg(long = "keypair", short = 'k', env = "MICROPAY_KEYPAIR")]
    pub keypair: PathBuf,
    /// The deployment (config account) this relayer sequences.
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
    /// Settle a stream epoch once its first tip is this many seconds old.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_AGE_SECS", default_value_t = 30)]
    pub settle_max_age_secs: u64,
    /// ... or once its total reaches this many token base units.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_TOTAL", default_value_t = u64::MAX)]
    pub settle_max_total: u64,
    /// ... or once it holds this many tips.
    #[arg(long, env = "MICROPAY_SETTLE_MAX_TIPS", default_value_t = 100_000)]
    pub settle_max_tips: u32,
    /// ... or when a withdrawal unlocks, or its key expires, within this many seconds.
    #[arg(long, env = "MICROPAY_SETTLE_HORIZON_SECS", default_value_t = 300)]
    pub settle_horizon_secs: u64,
    /// Milliseconds between settlement passes.
    #[arg(long, env = "MICROPAY_SETTLE_INTERVAL_MS", default_value_t = 1_000)]
    pub settle_interval_ms: u64,
    /// Deactivate a lookup table once it has served no settlement for this many
    /// seconds, and close it (its rent back to the sequencer) when the chain allows.
    #[arg(
        long,
        env = "MICROPAY_LOOKUP_TABLE_IDLE_SECS",
        default_value_t = 86_400
    )]
    pub lookup_table_idle_secs: u64,
    /// Priority fee, micro-lamports per compute unit.
    #[arg(long, env = "MICROPAY_PRIORITY_FEE", default_value_t = 0)]
    pub priority_fee: u64,
    /// A key must stay usable this many seconds past a tip for it to be receipted.
    #[arg(long, env = "MICROPAY_MIN_KEY_VALIDITY_SECS", default_value_t = 600)]
    pub min_key_validity_secs: i64,
    /// Names this instance in settlement leases (several may share a PostgreSQL store).
    #[arg(long, env = "MICROPAY_INSTANCE", default_value = "relayer")]
    pub instance: String,
    /// Web origins whose pages may call the API (`https://example.com`, or `*` for any),
    /// comma-separated; none by default.
    #[arg(
        long = "cors-origin",
        env = "MICROPAY_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Connections served at once; one more is answered `too_many_connections`.
    #[arg(long, env = "MICROPAY_MAX_CONNECTIONS", default_value_t = 1_024)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers; idle keep-alive connections
    /// are closed after as long.
    #[arg(long, env = "MICROPAY_HEADER_TIMEOUT_SECS", default_value_t = micropay_api::HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
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

/// A running relayer: its HTTP address and handles to steer and stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub sequencer: Pubkey,
    settle_opened_before_ms: Arc<AtomicI64>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, lets requests in progress and the current settlement
    /// pass finish, and returns when everything has stopped.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Settles every stream epoch open now, whatever the policy says, each as soon as
    /// the program accepts it (the next pass, or once its top-up window has passed).
    pub fn settle_now(&self) {
        self.settle_opened_before_ms
            .fetch_max(crate::domain::now_ms(), std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops at once, as a crash would: the current pass does not finish.
    pub fn abort(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts the relayer: store, chain access, the sequencer, the HTTP API and the
/// settlement engine.
pub async fn start(args: &RelayerArgs) -> Result<Running, StartError> {
    let key = read_keypair_file(&args.keypair).map_err(|e| StartError::Keypair {
        path: args.keypair.clone(),
        reason: e.to_string(),
    })?;
    let chain: Arc<dyn Chain> = Arc::new(RpcChain::new(&rpc_url(&args.url)));
    let store = Arc::new(SqlStore::connect(&args.store_url).await?);
    let config_account = chain.accounts(&[args.config]).await?;
    let config =
        decode_config(config_account[0].as_ref()).ok_or(StartError::NotAConfig(args.config))?;
    let now = crate::domain::now_ms() / 1_000;
    if !config.is_receipt_signer(&key.pubkey(), now) {
        return Err(StartError::NotTheSequencer {
            key: key.pubkey(),
            config: args.config,
            sequencer: config.params_at(now).sequencer,
        });
    }
    let genesis = chain.genesis_hash().await?;
    let network = micropay_api::x402::solana_network(&genesis.to_string());
    let metrics = Arc::new(Metrics::new());
    // Every settlement pass refreshes the tabs it settles; requests refetch a tab only
    // when it is unknown or older than this. A few seconds of staleness are safe for
    // the funds check: withdrawals wait at least an hour.
    let tab_max_age = Duration::from_millis(args.settle_interval_ms.saturating_mul(5).max(2_000));
    let sequencer = Arc::new(
        Sequencer::new(
            key.insecure_clone(),
            args.config,
            store.clone(),
            !store.is_shared(),
            chain.clone(),
            metrics.clone(),
            IntakeLimits {
                min_key_validity: args.min_key_validity_secs,
                tab_max_age,
                config_max_age: Duration::from_secs(10),
                payee_max_age: Duration::from_secs(60),
            },
        )
        .await?,
    );
    let settle_opened_before_ms = Arc::new(AtomicI64::new(0));
    let engine = Engine::new(
        Arc::new(Settling {
            store: store.clone(),
            ledger: sequencer.ledger_handle(),
        }),
        chain.clone(),
        sequencer.tabs_handle(),
        metrics.clone(),
        Arc::new(key),
        args.config,
        EngineConfig {
            policy: Policy {
                max_age: Duration::from_secs(args.settle_max_age_secs),
                max_total: args.settle_max_total,
                max_tips: args.settle_max_tips,
                horizon: Duration::from_secs(args.settle_horizon_secs),
            },
            instance: args.instance.clone(),
            lease: Duration::from_secs(60),
            compute_unit_price: args.priority_fee,
            table_idle: Duration::from_secs(args.lookup_table_idle_secs),
        },
        settle_opened_before_ms.clone(),
    );

    let (shutdown, shutdown_rx) = watch::channel(false);
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        address: args.listen,
        source,
    })?;
    let app = http::router(
        AppState {
            sequencer: sequencer.clone(),
            reports: store,
            metrics: metrics.clone(),
            x402: Arc::new(x402::Deployment::new(
                network,
                &args.config,
                &sequencer.sequencer(),
                &config.mint,
            )),
            shutdown: shutdown_rx.clone(),
        },
        &args.cors_origins,
    )?;
    let limits = ConnectionLimits {
        max_connections: args.max_connections.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
    };
    let busy = http::busy_router(metrics.clone());
    let http = tokio::spawn(serve(
        listener,
        app,
        busy,
        limits,
        metrics,
        shutdown_rx.clone(),
    ));
    let interval = Duration::from_millis(args.settle_interval_ms);
    let settle = tokio::spawn(engine.run(interval, shutdown_rx));
    tracing::info!(%addr, config = %args.config, sequencer = %sequencer.sequencer(), "relayer running");
    Ok(Running {
        addr,
        sequencer: sequencer.sequencer(),
        settle_opened_before_ms,
        shutdown,
        tasks: vec![http, settle],
    })
}

#[derive(clap::Parser)]
#[command(
    name = "micropay-relayer",
    version,
    about = "micropay relayer: the sequencer that receipts signed tips and settles them in batches"
)]
struct Cli {
    #[command(flatten)]
    relayer: RelayerArgs,
}

impl RelayerArgs {
    /// The arguments `micropay-relayer` would run with given `flags` (its command line
    /// without the program's name; environment fallbacks apply as there).
    pub fn from_flags<I, T>(flags: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::Parser;
        let program = std::ffi::OsString::from("micropay-relayer");
        let command = std::iter::once(program).chain(flags.into_iter().map(Into::into));
        Ok(Cli::try_parse_from(command)?.relayer)
    }
}

/// The `micropay-relayer` command: runs until SIGTERM or Ctrl-C, then stops intake,
/// finishes requests in progress and the current settlement pass, and exits. SIGUSR1
/// settles every stream epoch open at that moment, each as soon as the program accepts
/// it (before maintenance, or to end a benchmark).
pub async fn main() -> anyhow::Result<()> {
    use clap::Parser;
    let cli = Cli::parse();
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
                tracing::info!("SIGUSR1: settling every open stream epoch now");
                running.settle_now();
            }
        }
    }
    tracing::info!("shutting down: finishing requests and the current settlement pass");
    running.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
