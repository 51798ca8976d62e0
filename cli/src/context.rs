//! What every chain command needs: the RPC endpoint, the keypair, the deployment and
//! its mint, resolved from flags, environment and the Solana CLI's configuration.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use micropay_client::{accounts, amount, Deployment};
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
    pub relayer: String,
    pub output: Output,
}

/// A deployment read from the chain, with its mint's decimals.
pub struct Loaded {
    pub deployment: Deployment,
    pub decimals: u8,
}

impl Loaded {
    pub fn parse(&self, ui: &str) -> anyhow::Result<u64> {
        Ok(amount::parse_ui(ui, self.decimals)?)
    }

    pub fn format(&self, base: u64) -> String {
        amount::format_ui(base, self.decimals)
    }
}

impl Context {
    pub fn new(global: &GlobalArgs) -> anyhow::Result<Self> {
        let solana = solana_cli_config::CONFIG_FILE
            .as_deref()
            .and_then(|file| solana_cli_config::Config::load(file).ok())
            .unwrap_or_default();
        let rpc_url = micropay_relayer_v1::run::rpc_url(
            global.url.as_deref().unwrap_or(&solana.json_rpc_url),
        );
        let keypair_path = global
            .keypair
            .clone()
            .unwrap_or_else(|| PathBuf::from(&solana.keypair_path));
        Ok(Self {
            rpc: RpcClient::new_with_commitment(rpc_url.clone(), CommitmentConfig::confirmed()),
            rpc_url,
            keypair_path,
            config: global.config,
            relayer: global.relayer.clone(),
            output: global.output,
        })
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
    pub async fn load(&self) -> anyhow::Result<Loaded> {
        let address = self.config_address()?;
        let config = accounts::config(&self.rpc, &address)
            .await
            .with_context(|| {
                format!(
                    "reading the deployment from {} (is --url right?)",
                    self.rpc_url
                )
            })?;
        let decimals = accounts::mint_decimals(&self.rpc, &config.mint).await?;
        Ok(Loaded {
            deployment: Deployment::from_config(address, &config),
            decimals,
        })
    }

    /// `wallet`'s associated token account for the deployment's mint.
    pub fn associated_account(&self, loaded: &Loaded, wallet: &Pubkey) -> Pubkey {
        spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
            wallet,
            &loaded.deployment.mint,
            &loaded.deployment.token_program,
        )
    }

    /// A token account of the deployment's mint: `address` itself if it is one, else
    /// the associated token account of `address` as a wallet.
    pub async fn payee_account(&self, loaded: &Loaded, address: &Pubkey) -> anyhow::Result<Pubkey> {
        if let Ok(Some(account)) = accounts::token_account(&self.rpc, address).await {
            if account.mint != loaded.deployment.mint {
                bail!(
                    "{address} is a token account of mint {}, not of this deployment's mint {}",
                    account.mint,
                    loaded.deployment.mint
                );
            }
            return Ok(*address);
        }
        let associated = self.associated_account(loaded, address);
        match accounts::token_account(&self.rpc, &associated).await? {
            Some(_) => Ok(associated),
            None => bail!(
                "{address} is neither a token account of mint {} nor a wallet with one: the \
                 payee must create its associated token account first",
                loaded.deployment.mint
            ),
        }
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
        let clock = self
            .rpc
            .get_account(&solana_sdk::sysvar::clock::ID)
            .await
            .context("reading the cluster clock")?;
        let clock: solana_sdk::clock::Clock =
            bincode::deserialize(&clock.data).context("decoding the cluster clock")?;
        Ok(clock.unix_timestamp)
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
