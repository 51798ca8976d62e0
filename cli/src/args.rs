//! The command line, spelled like the Solana CLI where the two overlap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use solana_sdk::pubkey::Pubkey;

use crate::{bench::BenchArgs, demo::DemoArgs};

#[derive(Parser, Debug)]
#[command(
    name = "micropay",
    version,
    about = "Micropayments on Solana: escrow once, tip off-chain, settle in batches",
    after_help = "Start with `micropay demo`: a local chain, the program, a relayer and simulated users."
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
    /// Admin: create a deployment (config) for a mint, at a fresh address.
    InitConfig(InitConfigArgs),
    /// Payer: open your tab (and optionally deposit into it).
    Open(OpenArgs),
    /// Payer: move tokens from your wallet into your tab.
    Deposit(DepositArgs),
    /// Payer: manage session keys that may sign tips for your tab.
    #[command(subcommand)]
    Signer(SignerCommand),
    /// Payer: tip a payee through the relayer (signs the tab's next state off-chain).
    Tip(TipArgs),
    /// Payer: your tab's balance, pending withdrawal and unsettled tips.
    Balance(BalanceArgs),
    /// Payer: take unspent funds back, without the relayer's help.
    #[command(subcommand)]
    Withdraw(WithdrawCommand),
    /// Payee: tips received, settlements and the token account's balance.
    Earnings(EarningsArgs),
    /// Anyone: settle a tab's latest signed state on-chain yourself, without the relayer.
    Settle(SettleArgs),
    /// Relayer operator: run a relayer.
    #[command(subcommand)]
    Relayer(RelayerCommand),
    /// Developer: a local chain, the program, a relayer, simulated payers and payees,
    /// and a settlement report checked against the chain.
    Demo(DemoArgs),
    /// Developer: named workloads on a local chain, measured.
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct InitConfigArgs {
    /// The SPL Token or Token-2022 mint tabs hold.
    #[arg(long)]
    pub mint: Pubkey,
    /// Relayer fee in basis points of each payout (at most 1000).
    #[arg(long, default_value_t = 0)]
    pub fee_bps: u16,
    /// Seconds between a withdrawal request and the withdrawal (60 s to 30 days).
    #[arg(long, default_value_t = 86_400)]
    pub withdrawal_delay: i64,
    /// Token account (of the mint) receiving fees. Default: the admin's associated
    /// token account, created if missing.
    #[arg(long)]
    pub fee_destination: Option<Pubkey>,
    /// Keypair for the config's address. Default: a fresh one.
    #[arg(long)]
    pub config_keypair: Option<PathBuf>,
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
    /// Register a session key (replaces its expiry and cap if already registered).
    Add(SignerAddArgs),
    /// Remove a session key.
    Remove {
        /// The session key.
        signer: Pubkey,
    },
    /// List the session keys registered on your tab.
    List,
}

#[derive(Args, Debug)]
pub struct SignerAddArgs {
    /// The session key's public key.
    pub signer: Pubkey,
    /// Most it may spend, UI units.
    #[arg(long)]
    pub cap: String,
    /// Seconds from now until it expires.
    #[arg(long, default_value_t = 86_400)]
    pub expires_in: i64,
}

#[derive(Args, Debug)]
pub struct TipArgs {
    /// The payee's token account (of the deployment's mint), or a wallet whose
    /// associated token account exists.
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
pub struct BalanceArgs {
    /// Whose tab. Default: the keypair's.
    #[arg(long)]
    pub owner: Option<Pubkey>,
}

#[derive(Subcommand, Debug)]
pub enum WithdrawCommand {
    /// Start the withdrawal delay for an amount (UI units, or `all`).
    Request { amount: String },
    /// After the delay: pay the requested amount (or what is left) to a token account.
    Complete {
        /// Destination token account. Default: your associated token account, created
        /// if missing.
        #[arg(long)]
        to: Option<Pubkey>,
    },
}

#[derive(Args, Debug)]
pub struct EarningsArgs {
    /// The payee's token account (or a wallet, meaning its associated token account).
    pub payee: Pubkey,
    /// How many recent tips and settlements to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Args, Debug)]
pub struct SettleArgs {
    /// Settle this tab's latest signed state, fetched from the relayer.
    #[arg(long, conflicts_with = "state", required_unless_present = "state")]
    pub tab: Option<Pubkey>,
    /// Settle a signed state from a JSON file (as the relayer's API returns it); `-`
    /// reads stdin.
    #[arg(long)]
    pub state: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RelayerCommand {
    /// Run the relayer (the same options as the `micropay-relayer` binary; see
    /// `micropay relayer run --help`).
    #[command(disable_help_flag = true)]
    Run {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}
