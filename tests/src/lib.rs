//! Test support: the micropay program registered natively inside `solana-program-test`
//! (a real bank with the real SPL Token and Token-2022 programs), and helpers to drive it.

use anchor_lang::solana_program::system_instruction;
use anchor_lang::{AccountDeserialize, AnchorDeserialize, Discriminator};
use micropay::{errors::MicropayError, state::Tab};
use micropay_protocol::{
    client::{vault_address, SignedState},
    EpochState,
};
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError, VersionedTransaction},
};

pub use micropay_protocol as protocol;

pub mod bytecode;
pub mod e2e;

pub use micropay_client::{native::program_test, Deployment};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Spl,
    Token2022,
}

impl TokenKind {
    pub fn program_id(self) -> Pubkey {
        match self {
            TokenKind::Spl => spl_token_interface::ID,
            TokenKind::Token2022 => anchor_spl::token_2022::ID,
        }
    }
}

pub const DECIMALS: u8 = 6;
pub const WITHDRAWAL_DELAY: i64 = 3_600;

/// A payer with an open, funded tab.
pub struct Payer {
    pub owner: Keypair,
    pub tab: Pubkey,
    pub token_account: Pubkey,
}

impl Payer {
    /// The empty state of the tab's current epoch.
    pub fn epoch_state(&self, tab: &Tab) -> EpochState {
        EpochState::new(self.tab, tab.incarnation, tab.epoch)
    }
}

/// One deployment (config) on a fresh bank.
pub struct Env {
    pub ctx: ProgramTestContext,
    pub token: TokenKind,
    pub mint_authority: Keypair,
    pub admin: Keypair,
    pub deployment: Deployment,
    pub fee_bps: u16,
}

impl std::ops::Deref for Env {
    type Target = Deployment;

    fn deref(&self) -> &Deployment {
        &self.deployment
    }
}

impl std::ops::DerefMut for Env {
    fn deref_mut(&mut self) -> &mut Deployment {
        &mut self.deployment
    }
}

impl Env {
    pub async fn new(token: TokenKind, fee_bps: u16) -> Self {
        Self::with_program_test(program_test(), token, fee_bps).await
    }

    pub async fn with_program_test(test: ProgramTest, token: TokenKind, fee_bps: u16) -> Self {
        let ctx = test.start_with_context().await;
        let mint_authority = Keypair::new();
        let admin = Keypair::new();
        let mut env = Env {
            ctx,
            token,
            deployment: Deployment::new(
                admin.pubkey(),
                Pubkey::default(),
                Pubkey::default(),
                token.program_id(),
                Pubkey::default(),
            ),
            mint_authority,
            admin,
            fee_bps,
        };
        env.airdrop(&env.admin.pubkey(), 10_000_000_000).await;
        env.mint = env.create_mint().await;
        let admin = env.admin.pubkey();
        env.fee_destination = env.create_token_account(&admin).await;
        let config = Keypair::new();
        env.config = config.pubkey();
        env.vault = vault_address(&micropay::ID, &env.config).0;
        let ix = env.deployment.init_config_ix(
            env.config,
            fee_bps,
            WITHDRAWAL_DELAY,
            env.mint,
            env.fee_destination,
        );
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &[&admin, &config])
            .await
            .expect("init_config");
        env
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// Sends `ixs` paid by the context payer, with a fresh blockhash so that an
    /// identical resend is a new transaction (needed to test replays).
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), BanksClientError> {
        let tx = self.transaction(ixs, signers).await;
        self.ctx.banks_client.process_transaction(tx).await
    }

    pub async fn transaction(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Transaction {
        let payer = self.payer();
        let blockhash = self
            .ctx
            .get_new_latest_blockhash()
            .await
            .expect("blockhash");
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend_from_slice(signers);
        Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash)
    }

    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) {
        let ix = system_instruction::transfer(&self.ctx.payer.pubkey(), to, lamports);
        self.send(&[ix], &[]).await.expect("airdrop");
    }

    pub async fn create_mint(&mut self) -> Pubkey {
        let mint = Keypair::new();
        let program = self.token.program_id();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = spl_token_interface::state::Mint::LEN;
        let create = system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            &mint.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &program,
        );
        let init = token_instruction(
            program,
            spl_token_interface::instruction::initialize_mint2(
                &spl_token_interface::ID,
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
                None,
                DECIMALS,
            )
            .unwrap(),
        );
        self.send(&[create, init], &[&mint])
            .await
            .expect("create mint");
        mint.pubkey()
    }

    pub async fn create_token_account(&mut self, owner: &Pubkey) -> Pubkey {
        let mint = self.mint;
        self.create_token_account_for(&mint, owner).await
    }

    pub async fn create_token_account_for(&mut self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let program = self.token.program_id();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = spl_token_interface::state::Account::LEN;
        let create = system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            &account.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &program,
        );
        let init = token_instruction(
            program,
            spl_token_interface::instruction::initialize_account3(
                &spl_token_interface::ID,
                &account.pubkey(),
                mint,
                owner,
            )
            .unwrap(),
        );
        self.send(&[create, init], &[&account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    pub async fn mint_to(&mut self, account: &Pubkey, amount: u64) {
        let ix = token_instruction(
            self.token.program_id(),
            spl_token_interface::instruction::mint_to(
                &spl_token_interface::ID,
                &self.mint,
                account,
                &self.mint_authority.pubkey(),
                &[],
                amount,
            )
            .unwrap(),
        );
        let authority = self.mint_authority.insecure_clone();
        self.send(&[ix], &[&authority]).await.expect("mint_to");
    }

    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let account = self.account(account).await.expect("token account exists");
        spl_token_interface::state::Account::unpack_from_slice(&account.data[..165])
            .expect("token account")
            .amount
    }

    pub async fn account(&mut self, address: &Pubkey) -> Option<Account> {
        self.ctx.banks_client.get_account(*address).await.unwrap()
    }

    pub async fn tab(&mut self, tab: &Pubkey) -> Tab {
        let account = self.account(tab).await.expect("tab exists");
        Tab::try_deserialize(&mut &account.data[..]).expect("tab account")
    }

    pub async fn config_account(&mut self) -> micropay::state::Config {
        let config = self.config;
        let account = self.account(&config).await.expect("config exists");
        micropay::state::Config::try_deserialize(&mut &account.data[..]).expect("config")
    }

    /// Creates an owner with `funds` in a token account, opens its tab and deposits `deposit`.
    pub async fn new_payer(&mut self, funds: u64, deposit: u64) -> Payer {
        let owner = Keypair::new();
        self.airdrop(&owner.pubkey(), 100_000_000).await;
        let token_account = self.create_token_account(&owner.pubkey()).await;
        if funds > 0 {
            self.mint_to(&token_account, funds).await;
        }
        let tab = self.tab_address(&owner.pubkey());
        let mut ixs = vec![self.open_tab_ix(&owner.pubkey())];
        if deposit > 0 {
            ixs.push(self.deposit_ix(&owner.pubkey(), &tab, &token_account, deposit));
        }
        self.send(&ixs, &[&owner]).await.expect("open and deposit");
        Payer {
            owner,
            tab,
            token_account,
        }
    }

    pub async fn settle(&mut self, states: &[&SignedState]) -> Result<(), BanksClientError> {
        let ixs = self.settle_ixs(states).expect("settle batch");
        self.send(&ixs, &[]).await
    }

    /// Moves the bank's clock to `unix_timestamp`.
    pub async fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
    }

    pub async fn now(&mut self) -> i64 {
        let clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp
    }

    /// Every inner (CPI) instruction a transaction makes, as `(program, data)`, from a
    /// simulation, so the bank's state is unchanged.
    pub async fn simulate_inner(
        &mut self,
        tx: impl Into<VersionedTransaction>,
    ) -> Vec<(Pubkey, Vec<u8>)> {
        let tx: VersionedTransaction = tx.into();
        let keys = tx.message.static_account_keys().to_vec();
        let simulation = self
            .ctx
            .banks_client
            .simulate_transaction(tx)
            .await
            .expect("simulate");
        if let Some(Err(err)) = simulation.result {
            panic!("simulation failed: {err:?}");
        }
        let details = simulation.simulation_details.expect("simulation details");
        details
            .inner_instructions
            .expect("inner instructions recorded")
            .into_iter()
            .flatten()
            .map(|ix| {
                let program = keys[usize::from(ix.instruction.program_id_index)];
                (program, ix.instruction.data)
            })
            .collect()
    }

    /// The micropay events a transaction emits: `emit_cpi!` records each as an inner
    /// instruction to the program itself (which works natively, unlike logs).
    pub async fn simulate_events(&mut self, tx: impl Into<VersionedTransaction>) -> Vec<Vec<u8>> {
        self.simulate_inner(tx)
            .await
            .into_iter()
            .filter(|(program, _)| *program == micropay::ID)
            .filter_map(|(_, data)| {
                data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)
                    .map(<[u8]>::to_vec)
            })
            .collect()
    }
}

/// Decodes events of type `E` from event payloads (discriminator + borsh body).
pub fn events_of<E: Discriminator + AnchorDeserialize>(payloads: &[Vec<u8>]) -> Vec<E> {
    payloads
        .iter()
        .filter_map(|p| p.strip_prefix(E::DISCRIMINATOR))
        .map(|mut body| E::deserialize(&mut body).expect("event body"))
        .collect()
}

/// Token instruction builders check the program id against SPL Token; the Token-2022
/// program takes the same instructions, so only the id is swapped.
fn token_instruction(program: Pubkey, mut ix: Instruction) -> Instruction {
    ix.program_id = program;
    ix
}

/// The custom error code Anchor gives a `MicropayError`.
pub fn code(error: MicropayError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

/// Asserts that a transaction failed with `expected` as a custom program error.
#[track_caller]
pub fn assert_custom_error(result: Result<(), BanksClientError>, expected: u32) {
    match result {
        Err(err) => match err.unwrap() {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
                assert_eq!(code, expected, "expected error {expected}, got {code}")
            }
            other => panic!("expected custom error {expected}, got {other:?}"),
        },
        Ok(()) => panic!("expected error {expected}, transaction succeeded"),
    }
}

#[track_caller]
pub fn assert_error(result: Result<(), BanksClientError>, expected: MicropayError) {
    assert_custom_error(result, code(expected))
}

#[track_caller]
pub fn assert_anchor_error(
    result: Result<(), BanksClientError>,
    expected: anchor_lang::error::ErrorCode,
) {
    assert_custom_error(result, expected as u32)
}

/// Signs `state` with `signer`.
pub fn sign(state: EpochState, signer: &Keypair) -> SignedState {
    SignedState::sign(state, signer).expect("sign")
}
