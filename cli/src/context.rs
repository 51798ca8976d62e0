//! What every chain command needs: the RPC endpoint, the keypair, the deployment, the
//! relayer, resolved from flags, environment and the Solana CLI's configuration.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use micropay_client::{accounts, relayer::RelayerClient, Deployment};
use solana_cli_config::ConfigInput;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{read_keypair_file, Keypair, Signature},
    signer::Signer,
    transaction::Transaction,
};

use crate::args::{GlobalArgs, Output};

pub struct Context {
    pub rpc: RpcClient,
    pub rpc_url: String,
    keypair_path: PathBuf,
    config: Option<Pubkey>,
    pub relayer_url: String,
    pub output: Output,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Self {
        let solana = solana_cli_config::CONFIG_FILE
            .as_deref()
            .and_then(|file| solana_cli_config::Config::load(file).ok())
            .unwrap_or_default();
        let (_, rpc_url) = ConfigInput::compute_json_rpc_url_setting(
            global.url.as_deref().unwrap_or_default(),
            &solana.json_rpc_url,
        );
        let keypair_path = global
            .keypair
            .clone()
            .unwrap_or_else(|| PathBuf::from(&solana.keypair_path));
        Self {
            rpc: RpcClient::new_with_commitment(rpc_url.clone(), CommitmentConfig::confirmed()),
            rpc_url,
            keypair_path,
            config: global.config,
            relayer_url: global.relayer.clone(),
            output: global.output,
        }
    }

    pub fn keypair(&self) -> anyhow::Result<Keypair> {
        read_keypair(&self.keypair_path)
    }

    pub fn config_address(&self) -> anyhow::Result<Pubkey> {
        self.config.ok_or_else(|| {
            anyhow!("which deployment? pass --config <CONFIG> or set MICROPAY_CONFIG")
        })
    }

    /// The deployment named by `--config`, read from the chain.
    pub async fn load(&self) -> anyhow::Result<Deployment> {
        let address = self.config_address()?;
        Deployment::load(&self.rpc, &address)
            .await
            .with_context(|| {
                format!(
                    "reading the deployment from {} (is --url right?)",
                    self.rpc_url
                )
            })
    }

    /// The relayer, whose receipts must be signed by the deployment's sequencer.
    pub fn relayer(&self, deployment: &Deployment) -> RelayerClient {
        let now = now_ms() / 1_000;
        RelayerClient::new(&self.relayer_url, deployment.params(now).sequencer)
    }

    /// Signs with `signers` (the first pays), sends and confirms.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Signature> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .with_context(|| format!("cannot reach the cluster at {}", self.rpc_url))?;
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&signers[0].pubkey()), signers, blockhash);
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map_err(|error| anyhow!(crate::errors::explain(&error)))
    }

    /// The cluster's clock, unix seconds.
    pub async fn cluster_time(&self) -> anyhow::Result<i64> {
        accounts::cluster_time(&self.rpc)
            .await
            .context("reading the cluster clock")
    }
}

pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    read_keypair_file(path).map_err(|error| {
        anyhow!(
            "cannot read keypair {}: {error}. Create one with `solana-keygen new -o {}` or \
             pass --keypair <FILE>",
            path.display(),
            path.display()
        )
    })
}

/// The system clock, unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
