//! A local network in one process: a validator running the program, a deployment on it
//! (mint, config), funded payers and payees, and relayer arguments for it. Used by
//! `micropay demo`, `micropay bench` and the end-to-end tests.

mod validator;

use std::{path::Path, sync::Arc, time::Duration};

use anchor_lang::solana_program::system_instruction;
use anyhow::Context;
use futures::{stream, StreamExt, TryStreamExt};
use micropay::state::Tab;
use micropay_relayer_v1::run::RelayerArgs;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    instruction::Instruction,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::Transaction,
};

pub use validator::LocalValidator;

use crate::Deployment;

/// Decimals of the local mint.
pub const DECIMALS: u8 = 6;
/// The config's withdrawal delay (seconds).
pub const WITHDRAWAL_DELAY: i64 = 3_600;
/// Setup transactions in flight at once.
const SETUP_CONCURRENCY: usize = 128;

pub struct Payer {
    pub owner: Keypair,
    /// A session key registered on the tab (when asked for), which signs tips.
    pub session: Option<Keypair>,
    pub tab: Pubkey,
    pub token_account: Pubkey,
    pub deposit: u64,
}

impl Payer {
    /// The key that signs this payer's tips: the session key if there is one.
    pub fn tip_signer(&self) -> &Keypair {
        self.session.as_ref().unwrap_or(&self.owner)
    }

    /// Every key whose signature on this tab's states is the payer's own.
    pub fn own_keys(&self) -> Vec<Pubkey> {
        let mut keys = vec![self.owner.pubkey()];
        keys.extend(self.session.as_ref().map(Keypair::pubkey));
        keys
    }
}

/// A deployment (SPL Token mint, config) on a running local validator.
pub struct LocalDeployment {
    pub validator: LocalValidator,
    pub rpc: Arc<RpcClient>,
    pub deployment: Deployment,
    pub admin: Keypair,
    pub mint_authority: Keypair,
    pub fee_bps: u16,
}

impl LocalDeployment {
    pub async fn start(fee_bps: u16) -> anyhow::Result<Self> {
        let validator = LocalValidator::start().await;
        let rpc = Arc::new(RpcClient::new_with_commitment(
            validator.rpc_url(),
            CommitmentConfig::confirmed(),
        ));
        let admin = Keypair::new();
        let mint_authority = Keypair::new();
        let mint = Keypair::new();
        let config = Keypair::new();
        let fee_destination = Keypair::new();
        let this = Self {
            validator,
            rpc,
            deployment: Deployment::new(
                admin.pubkey(),
                config.pubkey(),
                mint.pubkey(),
                spl_token_interface::ID,
                fee_destination.pubkey(),
            ),
            admin,
            mint_authority,
            fee_bps,
        };
        this.fund(&this.admin.pubkey(), 1_000_000_000_000).await?;
        let rent_mint = this
            .rpc
            .get_minimum_balance_for_rent_exemption(spl_token_interface::state::Mint::LEN)
            .await?;
        let create_mint = system_instruction::create_account(
            &this.admin.pubkey(),
            &mint.pubkey(),
            rent_mint,
            spl_token_interface::state::Mint::LEN as u64,
            &spl_token_interface::ID,
        );
        let init_mint = spl_token_interface::instruction::initialize_mint2(
            &spl_token_interface::ID,
            &mint.pubkey(),
            &this.mint_authority.pubkey(),
            None,
            DECIMALS,
        )?;
        let mut ixs = vec![create_mint, init_mint];
        ixs.extend(
            this.token_account_ixs(&fee_destination.pubkey(), &this.admin.pubkey())
                .await?,
        );
        this.send(&ixs, &[&this.admin, &mint, &fee_destination])
            .await
            .context("creating the mint")?;
        let init = this.deployment.init_config_ix(
            config.pubkey(),
            fee_bps,
            WITHDRAWAL_DELAY,
            mint.pubkey(),
            fee_destination.pubkey(),
        );
        this.send(&[init], &[&this.admin, &config])
            .await
            .context("creating the config")?;
        Ok(this)
    }

    /// Sends and confirms a transaction paid by `signers[0]`.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Signature> {
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&signers[0].pubkey()), signers, blockhash);
        Ok(self.rpc.send_and_confirm_transaction(&tx).await?)
    }

    /// Lamports from the genesis faucet.
    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
        let faucet = &self.validator.faucet;
        let ix = system_instruction::transfer(&faucet.pubkey(), to, lamports);
        self.send(&[ix], &[faucet])
            .await
            .context("funding from the faucet")?;
        Ok(())
    }

    async fn token_account_ixs(
        &self,
        account: &Pubkey,
        owner: &Pubkey,
    ) -> anyhow::Result<[Instruction; 2]> {
        let len = spl_token_interface::state::Account::LEN;
        let rent = self.rpc.get_minimum_balance_for_rent_exemption(len).await?;
        Ok([
            system_instruction::create_account(
                &self.admin.pubkey(),
                account,
                rent,
                len as u64,
                &spl_token_interface::ID,
            ),
            spl_token_interface::instruction::initialize_account3(
                &spl_token_interface::ID,
                account,
                &self.deployment.mint,
                owner,
            )?,
        ])
    }

    /// Token accounts for `count` payees (owned by fresh keys).
    pub async fn payees(&self, count: usize) -> anyhow::Result<Vec<Pubkey>> {
        stream::iter(0..count)
            .map(|_| async {
                let account = Keypair::new();
                let ixs = self
                    .token_account_ixs(&account.pubkey(), &Pubkey::new_unique())
                    .await?;
                self.send(&ixs, &[&self.admin, &account])
                    .await
                    .context("creating a payee token account")?;
                anyhow::Ok(account.pubkey())
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// `count` payers, each with a tab holding `deposit` (and as much again in its wallet).
    pub async fn payers(&self, count: usize, deposit: u64) -> anyhow::Result<Vec<Payer>> {
        self.open_payers(count, deposit, false).await
    }

    /// Like [`Self::payers`], and each tab also registers a session key (valid for a
    /// day, capped at the deposit) that signs its tips, as a wallet would.
    pub async fn payers_with_sessions(
        &self,
        count: usize,
        deposit: u64,
    ) -> anyhow::Result<Vec<Payer>> {
        self.open_payers(count, deposit, true).await
    }

    async fn open_payers(
        &self,
        count: usize,
        deposit: u64,
        with_session: bool,
    ) -> anyhow::Result<Vec<Payer>> {
        let now = self.now().await?;
        stream::iter(0..count)
            .map(|_| async move {
                let owner = Keypair::new();
                let account = Keypair::new();
                let session = with_session.then(Keypair::new);
                let tab = self.deployment.tab_address(&owner.pubkey());
                let mut ixs = self
                    .token_account_ixs(&account.pubkey(), &owner.pubkey())
                    .await?
                    .to_vec();
                ixs.push(system_instruction::transfer(
                    &self.admin.pubkey(),
                    &owner.pubkey(),
                    10_000_000,
                ));
                ixs.push(spl_token_interface::instruction::mint_to(
                    &spl_token_interface::ID,
                    &self.deployment.mint,
                    &account.pubkey(),
                    &self.mint_authority.pubkey(),
                    &[],
                    2 * deposit,
                )?);
                ixs.push(self.deployment.open_tab_ix(&owner.pubkey()));
                ixs.push(self.deployment.deposit_ix(
                    &owner.pubkey(),
                    &tab,
                    &account.pubkey(),
                    deposit,
                ));
                if let Some(session) = &session {
                    ixs.push(self.deployment.add_signer_ix(
                        &owner.pubkey(),
                        session.pubkey(),
                        now + 86_400,
                        deposit,
                    ));
                }
                self.send(&ixs, &[&self.admin, &account, &self.mint_authority, &owner])
                    .await
                    .context("opening a payer's tab")?;
                anyhow::Ok(Payer {
                    owner,
                    session,
                    tab,
                    token_account: account.pubkey(),
                    deposit,
                })
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The cluster's clock (unix seconds).
    pub async fn now(&self) -> anyhow::Result<i64> {
        let slot = self.rpc.get_slot().await?;
        Ok(self.rpc.get_block_time(slot).await.unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .as_secs() as i64
        }))
    }

    pub async fn token_balance(&self, account: &Pubkey) -> anyhow::Result<u64> {
        Ok(crate::accounts::token_account(&self.rpc, account)
            .await?
            .with_context(|| format!("no token account {account}"))?
            .amount)
    }

    pub async fn tab(&self, tab: &Pubkey) -> anyhow::Result<Tab> {
        crate::accounts::tab(&self.rpc, tab)
            .await?
            .with_context(|| format!("no tab {tab}"))
    }

    /// Arguments for a relayer of this deployment with a funded keypair and a SQLite
    /// store in `dir`, listening on a free loopback port, settling every epoch
    /// `settle_max_age_secs` after its first tip.
    pub async fn relayer_args(
        &self,
        dir: &Path,
        rpc_url: &str,
        settle_max_age_secs: u64,
    ) -> anyhow::Result<RelayerArgs> {
        let keypair_path = dir.join("relayer.json");
        if !keypair_path.exists() {
            let keypair = Keypair::new();
            self.fund(&keypair.pubkey(), 100_000_000_000).await?;
            std::fs::write(
                &keypair_path,
                serde_json::to_string(&keypair.to_bytes().to_vec())?,
            )?;
        }
        Ok(RelayerArgs {
            url: rpc_url.to_string(),
            keypair: keypair_path,
            program_id: micropay::ID,
            config: self.deployment.config,
            store_url: format!("sqlite://{}", dir.join("relayer.db").display()),
            listen: "127.0.0.1:0".parse()?,
            settle_max_age_secs,
            settle_max_total: u64::MAX,
            settle_max_tips: u32::MAX,
            settle_withdrawal_horizon_secs: 120,
            settle_interval_ms: 300,
            priority_fee: 0,
            min_session_validity_secs: 60,
            instance: "local".into(),
        })
    }
}

/// Waits until the relayer's store has no open or closed epoch left: everything settled.
pub async fn wait_settled(
    store: &dyn micropay_relayer_v1::store::Store,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let counts = store.counts().await?;
        let pending =
            counts.get("open").copied().unwrap_or(0) + counts.get("closed").copied().unwrap_or(0);
        if pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "still {pending} epochs unsettled after {timeout:?}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
