//! A deployment on the devnet (mint, config, vault, sequencer) and the payers and payees
//! set up on it.

use std::path::Path;

use anyhow::Context;
use futures::{stream, StreamExt, TryStreamExt};
use micropay_interface::{
    client as builders,
    state::{Params, I64, U16},
};
use solana_sdk::{program_pack::Pack, pubkey::Pubkey, signature::Keypair, signer::Signer};
use solana_system_interface::instruction as system_instruction;

use crate::{process::RelayerFlags, Devnet};

/// Setup transactions in flight at once.
const SETUP_CONCURRENCY: usize = 128;

/// A payer with a funded tab.
pub struct Payer {
    pub owner: Keypair,
    pub tab: Pubkey,
    /// The owner's token account deposits come from.
    pub source: Pubkey,
    /// A session key in slot 1, when the payer tips through one (as a wallet would).
    pub session: Option<Keypair>,
    pub deposit: u64,
}

impl Payer {
    /// The key that signs this payer's tips, and its stream slot.
    pub fn tipper(&self) -> (&Keypair, u8) {
        match &self.session {
            Some(session) => (session, 1),
            None => (&self.owner, 0),
        }
    }
}

/// A micropay config on the devnet: an SPL mint whose authority is the faucet, a
/// sequencer key, and the config with its vault.
pub struct Deployment {
    pub config: Pubkey,
    pub mint: Pubkey,
    pub admin: Keypair,
    pub sequencer: Keypair,
    pub params: Params,
}

impl Deployment {
    pub const DECIMALS: u8 = 6;

    pub async fn create(devnet: &Devnet, fee_bps: u16) -> anyhow::Result<Self> {
        let mint = Keypair::new();
        let faucet = devnet.faucet.pubkey();
        devnet
            .send(
                &[
                    devnet
                        .create_token_owned(&mint.pubkey(), spl_token_interface::state::Mint::LEN)
                        .await?,
                    spl_token_interface::instruction::initialize_mint2(
                        &spl_token_interface::ID,
                        &mint.pubkey(),
                        &faucet,
                        None,
                        Self::DECIMALS,
                    )?,
                ],
                &[&mint],
            )
            .await?;
        let admin = Keypair::new();
        let sequencer = Keypair::new();
        devnet.fund(&admin.pubkey(), 1_000_000_000).await?;
        // Lookup tables for thousands of tabs hold SOL of rent.
        devnet.fund(&sequencer.pubkey(), 100_000_000_000).await?;
        let params = Params {
            sequencer: sequencer.pubkey(),
            fee_destination: admin.pubkey(),
            withdrawal_delay: I64::new(micropay_interface::MIN_WITHDRAWAL_DELAY),
            top_up_window: I64::new(micropay_interface::MIN_TOP_UP_WINDOW),
            fee_bps: U16::new(fee_bps),
            _padding: [0; 6],
        };
        let config = Keypair::new();
        let init = builders::init_config(
            &admin.pubkey(),
            &config.pubkey(),
            &mint.pubkey(),
            &spl_token_interface::ID,
            &params,
        );
        devnet.send(&[init], &[&admin, &config]).await?;
        Ok(Self {
            config: config.pubkey(),
            mint: mint.pubkey(),
            admin,
            sequencer,
            params,
        })
    }

    /// Mints `amount` to `account` (the faucet is the mint authority).
    pub async fn mint_to(
        &self,
        devnet: &Devnet,
        account: &Pubkey,
        amount: u64,
    ) -> anyhow::Result<()> {
        let ix = spl_token_interface::instruction::mint_to(
            &spl_token_interface::ID,
            &self.mint,
            account,
            &devnet.faucet.pubkey(),
            &[],
            amount,
        )?;
        devnet.send(&[ix], &[]).await.map(|_| ())
    }

    pub fn tab(&self, owner: &Pubkey) -> Pubkey {
        builders::tab_address(&self.config, owner)
    }

    /// A new payer with SOL for fees, `deposit` tokens in a new tab, and as many again
    /// in its associated token account.
    pub async fn payer(&self, devnet: &Devnet, deposit: u64) -> anyhow::Result<Payer> {
        Ok(self.payers(devnet, 1, deposit, false).await?.remove(0))
    }

    /// `count` payers set up concurrently, one transaction each: SOL for rent, an
    /// associated token account holding `deposit`, a tab holding as much, and (with
    /// `sessions`) a session key in slot 1 valid for a day and capped at the deposit.
    pub async fn payers(
        &self,
        devnet: &Devnet,
        count: usize,
        deposit: u64,
        sessions: bool,
    ) -> anyhow::Result<Vec<Payer>> {
        let now = devnet.unix_time().await?;
        let faucet = devnet.faucet.pubkey();
        let spl = spl_token_interface::ID;
        stream::iter(0..count)
            .map(|_| async move {
                let owner = Keypair::new();
                let session = sessions.then(Keypair::new);
                let source = builders::associated_token_address(&owner.pubkey(), &self.mint, &spl);
                let tab = self.tab(&owner.pubkey());
                let mut ixs = vec![
                    system_instruction::transfer(&faucet, &owner.pubkey(), 20_000_000),
                    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                        &faucet,
                        &owner.pubkey(),
                        &self.mint,
                        &spl,
                    ),
                    spl_token_interface::instruction::mint_to(
                        &spl, &self.mint, &source, &faucet, &[], deposit.saturating_mul(2),
                    )?,
                    builders::open_tab(&owner.pubkey(), &self.config),
                    builders::deposit(
                        &builders::Deposit {
                            depositor: &owner.pubkey(),
                            config: &self.config,
                            tab: &tab,
                            mint: &self.mint,
                            source: &source,
                            token_program: &spl,
                        },
                        deposit,
                    ),
                ];
                if let Some(session) = &session {
                    ixs.push(builders::add_signer(
                        &owner.pubkey(),
                        &self.config,
                        1,
                        &session.pubkey(),
                        now + 86_400,
                        deposit,
                    ));
                }
                devnet.send(&ixs, &[&owner]).await.context("opening a payer's tab")?;
                anyhow::Ok(Payer { owner, tab, source, session, deposit })
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// `count` payee wallets with their associated token accounts, set up concurrently.
    pub async fn payees(&self, devnet: &Devnet, count: usize) -> anyhow::Result<Vec<Pubkey>> {
        stream::iter(0..count)
            .map(|_| async move { Ok::<_, anyhow::Error>(self.payee(devnet).await?.0.pubkey()) })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The relayer's flags for this deployment: the sequencer's keypair written into
    /// `dir`, a SQLite store there, any free local port, settling only when told to
    /// (SIGUSR1) or when a stream's tips reach `--settle-max-tips`.
    pub fn relayer_flags(&self, devnet: &Devnet, dir: &Path) -> anyhow::Result<RelayerFlags> {
        let keypair = dir.join("sequencer.json");
        solana_sdk::signature::write_keypair_file(&self.sequencer, &keypair)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", keypair.display()))?;
        let mut flags = RelayerFlags::default();
        flags
            .set("--url", devnet.rpc_url())
            .set("--keypair", keypair.display())
            .set("--config", self.config)
            .set("--listen", "127.0.0.1:0")
            .set(
                "--store-url",
                format!("sqlite://{}", dir.join("relayer.db").display()),
            )
            .set("--settle-max-age-secs", 86_400)
            .set("--settle-max-total", u64::MAX)
            .set("--settle-max-tips", u32::MAX)
            .set("--settle-horizon-secs", 0)
            .set("--settle-interval-ms", 200)
            .set("--lookup-table-idle-secs", 86_400)
            .set("--priority-fee", 0)
            .set("--min-key-validity-secs", 600)
            .set("--instance", "devnet")
            .set("--max-connections", 1_024)
            .set("--header-timeout-secs", 10);
        Ok(flags)
    }

    /// The fee destination's associated token account.
    pub fn fee_account(&self) -> Pubkey {
        builders::associated_token_address(
            &self.params.fee_destination,
            &self.mint,
            &spl_token_interface::ID,
        )
    }

    pub fn vault(&self) -> Pubkey {
        builders::vault_address(&self.config)
    }

    /// Registers `key` in `slot` of the payer's tab.
    pub async fn add_session(
        &self,
        devnet: &Devnet,
        payer: &Payer,
        slot: u8,
        key: &Pubkey,
        expires_at: i64,
        cap: u64,
    ) -> anyhow::Result<()> {
        let ix = builders::add_signer(
            &payer.owner.pubkey(),
            &self.config,
            slot,
            key,
            expires_at,
            cap,
        );
        devnet.send(&[ix], &[&payer.owner]).await.map(drop)
    }

    /// Settles `state` with the sequencer's key outside the relayer, as a stale
    /// instance (or a payer colluding with a leaked key) could; each payee is paid at
    /// its associated token account.
    pub async fn settle_outside_relayer(
        &self,
        devnet: &Devnet,
        state: &micropay_protocol::Receipted,
    ) -> anyhow::Result<()> {
        let token_program = spl_token_interface::ID;
        let payees: Vec<builders::SettlePayee> = state
            .state()
            .entry_list()
            .into_iter()
            .map(|(wallet, _)| builders::SettlePayee {
                wallet,
                token_account: builders::associated_token_address(
                    &wallet,
                    &self.mint,
                    &token_program,
                ),
                pass_wallet: false,
            })
            .collect();
        let item =
            builders::SettleItem::for_state(state.state(), state.signed.signature, None, None);
        let accounts = builders::SettleAccounts {
            settler: &self.sequencer.pubkey(),
            config: &self.config,
            mint: &self.mint,
            token_program: &token_program,
        };
        let ix = builders::settle(&accounts, &[item], &payees)
            .map_err(|e| anyhow::anyhow!("settle instruction: {e:?}"))?;
        devnet.send(&[ix], &[&self.sequencer]).await.map(drop)
    }

    /// A new payee wallet with its associated token account.
    pub async fn payee(&self, devnet: &Devnet) -> anyhow::Result<(Keypair, Pubkey)> {
        let wallet = Keypair::new();
        let account = devnet
            .associated_token_account(&self.mint, &wallet.pubkey())
            .await?;
        Ok((wallet, account))
    }
}
