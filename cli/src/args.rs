//! The command line, spelled like the Solana CLI where the two overlap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use solana_sdk::pubkey::Pubkey;

#[derive(Parser, Debug)]
#[command(
    name = "micropay",
    version,
    about = "Micropayments on Solana: escrow once, tip off-chain, settle in batches",
    after_help = "New here? `./scripts/micropay demo` runs everything on a local chain."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// JSON-RPC URL or moniker (`localhost`, `devnet`, `testnet`, `mainnet-beta`).
    /// Defaults to the Solana CLI's configured URL.
    #[arg(long, short = 'u', global = true, env = "MICROPAY_RPC_URL")]
    pub url: Option<String>,
    /// Keypair file (Solana CLI JSON). Defaults to the Solana CLI's configured keypair.
    #[arg(long, short = 'k', global = true, env = "MICROPAY_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// The deployment: the micropay config account.
    #[arg(long, global = true, env = "MICROPAY_CONFIG")]
    pub config: Option<Pubkey>,
    /// Base URL of the relayer's HTTP API.
    #[arg(
        long,
        global = true,
        env = "MICROPAY_RELAYER",
        default_value = "http://127.0.0.1:7800"
    )]
    pub relayer: String,
    /// `human` or `json` (one JSON document on stdout, for scripts).
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Admin: create a deployment (config) for a mint and a sequencer.
    InitConfig(InitConfigArgs),
    /// Admin: show the deployment, or propose a change (effective after notice).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Anyone: sweep the fees owed to the config's fee destination.
    #[command(subcommand)]
    Fees(FeesCommand),
    /// Payer: open your tab (and optionally deposit into it).
    Open(OpenArgs),
    /// Payer: move tokens from your wallet into a tab.
    Deposit(DepositArgs),
    /// Payer: manage session keys that sign tips on their own streams.
    #[command(subcommand)]
    Signer(SignerCommand),
    /// Payer: tip a payee wallet through the relayer (signs the stream's next state).
    Tip(TipArgs),
    /// Payer: call an HTTP API that charges per call (HTTP 402, x402 v2 `micropay`
    /// scheme), paying from your tab: prints the answer's body.
    Pay(PayArgs),
    /// Payer: your tab's balance, withdrawal, and each stream's state.
    Balance(OwnerArgs),
    /// Payer: take unspent funds back, without the relayer's help.
    #[command(subcommand)]
    Withdraw(WithdrawCommand),
    /// Payer: withdraw everything and close the tab (after a withdrawal request of it all).
    Close(ToArgs),
    /// Payee: the receipts naming your wallet, your balance and any credit.
    Receipts(ReceiptsArgs),
    /// Payee: keep your receipts and settle them yourself when the sequencer does not.
    Watch(WatchArgs),
    /// Payee: what the program owes you because your token account could not receive.
    #[command(subcommand)]
    Credit(CreditCommand),
    /// Relayer operator: run a relayer, or ask one how it is.
    #[command(subcommand)]
    Relayer(RelayerCommand),
    /// Developer: a local chain running the program's bytecode, a relayer, simulated
    /// payers and payees, and a settlement report checked against the chain.
    #[cfg(feature = "dev")]
    Demo(micropay_devnet::demo::DemoArgs),
    /// Developer: named workloads on a local chain, measured.
    #[cfg(feature = "dev")]
    Bench(micropay_devnet::bench::BenchArgs),
}

#[derive(Args, Debug)]
pub struct InitConfigArgs {
    /// The SPL Token or Token-2022 mint tabs hold.
    #[arg(long)]
    pub mint: Pubkey,
    /// The relayer's key: it receipts states and settles them.
    #[arg(long)]
    pub sequencer: Pubkey,
    /// Fee in basis points of each payout (at most 1000).
    #[arg(long, default_value_t = 0)]
    pub fee_bps: u16,
    /// Wallet whose associated token account receives collected fees. Default: the admin.
    #[arg(long)]
    pub fee_destination: Option<Pubkey>,
    /// Seconds between a withdrawal request and the withdrawal (1 hour to 30 days).
    #[arg(long, default_value_t = 86_400)]
    pub withdrawal_delay: i64,
    /// Seconds during which a settled stream can be topped up (at least 60, at most
    /// half the withdrawal delay).
    #[arg(long, default_value_t = 600)]
    pub top_up_window: i64,
    /// Keypair for the config's address. Default: a fresh one.
    #[arg(long)]
    pub config_keypair: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// The deployment's parameters, any pending change, and fees owed.
    Show,
    /// Propose new parameters; they take effect after the notice period.
    Update(UpdateArgs),
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[arg(long)]
    pub sequencer: Option<Pubkey>,
    #[arg(long)]
    pub fee_bps: Option<u16>,
    #[arg(long)]
    pub fee_destination: Option<Pubkey>,
    #[arg(long)]
    pub withdrawal_delay: Option<i64>,
    #[arg(long)]
    pub top_up_window: Option<i64>,
}

#[derive(Subcommand, Debug)]
pub enum FeesCommand {
    /// Pay the fees owed to the fee destination's associated token account.
    Collect,
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// Deposit this much (UI units) right away.
    #[arg(long)]
    pub deposit: Option<String>,
    /// Token account to deposit from. Default: your associated token account.
    #[arg(long)]
    pub from: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct DepositArgs {
    /// Amount in UI units (e.g. 12.5).
    pub amount: String,
    /// Token account to deposit from. Default: your associated token account.
    #[arg(long)]
    pub from: Option<Pubkey>,
    /// Deposit into this owner's tab instead of yours (anyone may fund any tab).
    #[arg(long)]
    pub owner: Option<Pubkey>,
}

#[derive(Subcommand, Debug)]
pub enum SignerCommand {
    /// Register a session key in a free slot (or raise the cap and expiry of a live one).
    Add(SignerAddArgs),
    /// Remove a session key; states it signed still settle for one withdrawal delay.
    Remove {
        /// The session key.
        signer: Pubkey,
    },
    /// The session keys on your tab.
    List,
}

#[derive(Args, Debug)]
pub struct SignerAddArgs {
    /// The session key's public key.
    pub signer: Pubkey,
    /// Most it may spend, UI units.
    #[arg(long)]
    pub cap: String,
    /// Seconds from now until the sequencer stops accepting its tips.
    #[arg(long, default_value_t = 86_400)]
    pub expires_in: i64,
}

#[derive(Args, Debug)]
pub struct TipArgs {
    /// The payee's wallet (paid into its associated token account).
    pub payee: Pubkey,
    /// Amount in UI units (e.g. 0.001).
    pub amount: String,
    /// Sign with this session key instead of the owner keypair.
    #[arg(long)]
    pub session_key: Option<PathBuf>,
    /// The tab owner, when signing with a session key and no owner keypair at hand.
    #[arg(long)]
    pub owner: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct PayArgs {
    /// The URL to call.
    #[arg(value_name = "URL")]
    pub target: String,
    /// The most one call may cost, in UI units (e.g. 0.01): a higher price is refused.
    #[arg(long)]
    pub max: String,
    /// The HTTP method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// The request body, sent as is.
    #[arg(long, short = 'd')]
    pub data: Option<String>,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Sign with this session key instead of the owner keypair.
    #[arg(long)]
    pub session_key: Option<PathBuf>,
    /// The tab owner, when signing with a session key and no owner keypair at hand.
    #[arg(long)]
    pub owner: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct OwnerArgs {
    /// Whose tab. Default: the keypair's.
    #[arg(long)]
    pub owner: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct ToArgs {
    /// Destination token account. Default: your associated token account, created if
    /// missing.
    #[arg(long)]
    pub to: Option<Pubkey>,
}

#[derive(Subcommand, Debug)]
pub enum WithdrawCommand {
    /// Start the withdrawal delay for an amount (UI units, or `all`).
    Request { amount: String },
    /// After the delay: pay the requested amount (or what is left).
    Complete(ToArgs),
}

#[derive(Args, Debug)]
pub struct ReceiptsArgs {
    /// The payee wallet. Default: the keypair's.
    #[arg(long)]
    pub wallet: Option<Pubkey>,
    /// How many receipts to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Seconds a receipt may wait for the sequencer before the watcher settles it.
    #[arg(long, default_value_t = 900)]
    pub patience: i64,
    /// Seconds between passes.
    #[arg(long, default_value_t = 30)]
    pub interval: u64,
    /// One pass, then exit.
    #[arg(long)]
    pub once: bool,
    /// Also keep the receipts in this file (JSON lines, as a paywall's `ReceiptLog`
    /// writes them), and go on without the relayer when it does not answer.
    #[arg(long)]
    pub receipts: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum CreditCommand {
    /// Pay your credit out to a token account; its rent goes back to who paid it.
    Withdraw(ToArgs),
}

#[derive(Subcommand, Debug)]
pub enum RelayerCommand {
    /// Run the relayer: starts the `micropay-relayer` program (installed beside
    /// `micropay`) with these arguments; see `micropay-relayer --help`.
    #[command(disable_help_flag = true)]
    Run {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The relayer's health: its deployment, sequencer and whether it reaches the chain.
    Status,
}
