//! The v2 program as SBF bytecode (`programs/micropay/target/deploy/micropay_program.so`,
//! built by `scripts/build-sbf`) inside `solana-program-test`: a real bank with the
//! real token programs, compute metering and the program's own logs and events.

use micropay_interface::{
    client::{self as builders, Deposit, Payout, SettleAccounts, SettleItem, SettlePayee},
    event::{self, AnyEvent},
    state::{AccountLayout, Config, Credit, Params, Tab, I64, U16},
    MicropayError,
};
use micropay_protocol::StreamMessage;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::Account,
    clock::Clock,
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use solana_system_interface::instruction as system_instruction;

pub use micropay_interface as interface;
pub use spl_token_2022_interface::extension::ExtensionType;

pub const DECIMALS: u8 = 6;
pub const WITHDRAWAL_DELAY: i64 = 3_600;
pub const TOP_UP_WINDOW: i64 = 600;
pub const FEE_BPS: u16 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Spl,
    Token2022,
}

impl TokenKind {
    pub fn program_id(self) -> Pubkey {
        match self {
            TokenKind::Spl => spl_token_interface::ID,
            TokenKind::Token2022 => spl_token_2022_interface::ID,
        }
    }
}

/// A `ProgramTest` that loads the bytecode (never a native build of the program).
pub fn program_test() -> ProgramTest {
    let so = crate::program_path();
    assert!(
        so.exists(),
        "{} is missing: run scripts/build-sbf (scripts/test does)",
        so.display()
    );
    // SAFETY: every test sets the same value.
    unsafe { std::env::set_var("SBF_OUT_DIR", so.parent().expect("the deploy folder")) };
    let mut test = ProgramTest::new("micropay_program", micropay_interface::ID, None);
    test.prefer_bpf(true);
    test
}

/// What a transaction did: compute units and the events it logged, and its size.
#[derive(Debug, Default)]
pub struct Outcome {
    pub compute_units: u64,
    pub events: Vec<AnyEvent>,
    /// Serialized bytes, and accounts it locks.
    pub bytes: usize,
    pub accounts: usize,
}

/// A payer with an open, funded tab.
pub struct Payer {
    pub owner: Keypair,
    pub tab: Pubkey,
    pub token_account: Pubkey,
}

/// A payee wallet and its token account.
pub struct Payee {
    pub wallet: Keypair,
    pub token_account: Pubkey,
}

impl Payee {
    pub fn settle_payee(&self) -> SettlePayee {
        SettlePayee {
            wallet: self.wallet.pubkey(),
            token_account: self.token_account,
            pass_wallet: false,
        }
    }
}

/// One config on a fresh bank.
pub struct Env {
    pub ctx: ProgramTestContext,
    pub token: TokenKind,
    pub mint_authority: Keypair,
    pub admin: Keypair,
    pub sequencer: Keypair,
    pub config: Pubkey,
    pub mint: Pubkey,
}

impl Env {
    pub async fn new(token: TokenKind) -> Self {
        let mut env = Self::without_config(token).await;
        let mint = env.create_mint(&[]).await;
        env.mint = mint;
        let config = Keypair::new();
        env.init_config(&config, &mint, &env.params())
            .await
            .expect("init_config");
        env.config = config.pubkey();
        env
    }

    /// A bank with a sequencer and an admin but no config yet.
    pub async fn without_config(token: TokenKind) -> Self {
        let ctx = program_test().start_with_context().await;
        let mut env = Env {
            ctx,
            token,
            mint_authority: Keypair::new(),
            admin: Keypair::new(),
            sequencer: Keypair::new(),
            config: Pubkey::default(),
            mint: Pubkey::default(),
        };
        let admin = env.admin.pubkey();
        env.airdrop(&admin, 10_000_000_000).await;
        // The sequencer pays the rent of the credits its settlements create.
        let sequencer = env.sequencer.pubkey();
        env.airdrop(&sequencer, 1_000_000_000).await;
        env
    }

    pub fn params(&self) -> Params {
        Params {
            sequencer: self.sequencer.pubkey(),
            fee_destination: self.admin.pubkey(),
            withdrawal_delay: I64::new(WITHDRAWAL_DELAY),
            top_up_window: I64::new(TOP_UP_WINDOW),
            fee_bps: U16::new(FEE_BPS),
            _padding: [0; 6],
        }
    }

    pub async fn init_config(
        &mut self,
        config: &Keypair,
        mint: &Pubkey,
        params: &Params,
    ) -> Result<Outcome, BanksClientError> {
        let admin = self.admin.insecure_clone();
        let ix = builders::init_config(
            &admin.pubkey(),
            &config.pubkey(),
            mint,
            &self.token.program_id(),
            params,
        );
        self.send(&[ix], &[&admin, config]).await
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// Sends `ixs` paid by the context payer, with a fresh blockhash so that an
    /// identical resend is a new transaction; returns its compute units and events.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Outcome, BanksClientError> {
        let tx = self.transaction(ixs, signers).await;
        let bytes = bincode::serialize(&tx).expect("serialize").len();
        let accounts = tx.message.account_keys.len();
        let result = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await?;
        result.result.map_err(BanksClientError::TransactionError)?;
        let metadata = result.metadata.expect("banks return metadata");
        Ok(Outcome {
            compute_units: metadata.compute_units_consumed,
            events: events_in_logs(&metadata.log_messages),
            bytes,
            accounts,
        })
    }

    /// Sends `ixs` as a v0 transaction paid and signed by `fee_payer` alone, with
    /// every account that may be in a lookup table in one table installed for it, as
    /// a relayer would send a settlement. Returns the outcome, the serialized size and
    /// the number of accounts the transaction locks.
    pub async fn send_v0(
        &mut self,
        fee_payer: &Keypair,
        ixs: &[Instruction],
    ) -> (Result<Outcome, BanksClientError>, usize, usize) {
        use solana_sdk::message::{v0, AddressLookupTableAccount, VersionedMessage};
        let programs: Vec<Pubkey> = ixs.iter().map(|ix| ix.program_id).collect();
        let mut addresses: Vec<Pubkey> = Vec::new();
        for meta in ixs.iter().flat_map(|ix| ix.accounts.iter()) {
            if !meta.is_signer
                && !programs.contains(&meta.pubkey)
                && !addresses.contains(&meta.pubkey)
            {
                addresses.push(meta.pubkey);
            }
        }
        let table = self.install_lookup_table(addresses.clone()).await;
        let blockhash = self
            .ctx
            .get_new_latest_blockhash()
            .await
            .expect("blockhash");
        let message = v0::Message::try_compile(
            &fee_payer.pubkey(),
            ixs,
            &[AddressLookupTableAccount {
                key: table,
                addresses,
            }],
            blockhash,
        )
        .expect("v0 message");
        let accounts = message.account_keys.len()
            + message
                .address_table_lookups
                .iter()
                .map(|lookup| lookup.writable_indexes.len() + lookup.readonly_indexes.len())
                .sum::<usize>();
        let tx = solana_sdk::transaction::VersionedTransaction::try_new(
            VersionedMessage::V0(message),
            &[fee_payer],
        )
        .expect("signed");
        let bytes = bincode::serialize(&tx).expect("serialize").len();
        let result = match self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
        {
            Err(error) => Err(error),
            Ok(result) => result
                .result
                .map_err(BanksClientError::TransactionError)
                .map(|()| {
                    let metadata = result.metadata.expect("banks return metadata");
                    Outcome {
                        compute_units: metadata.compute_units_consumed,
                        events: events_in_logs(&metadata.log_messages),
                        bytes,
                        accounts,
                    }
                }),
        };
        (result, bytes, accounts)
    }

    /// Writes an active lookup table holding `addresses` into the bank.
    async fn install_lookup_table(&mut self, addresses: Vec<Pubkey>) -> Pubkey {
        use solana_address_lookup_table_interface::state::{AddressLookupTable, LookupTableMeta};
        let slot = self.ctx.banks_client.get_root_slot().await.expect("slot");
        if slot < 2 {
            self.ctx.warp_to_slot(2).expect("warp");
        }
        let key = Pubkey::new_unique();
        let data = AddressLookupTable {
            meta: LookupTableMeta {
                deactivation_slot: u64::MAX,
                last_extended_slot: 0,
                last_extended_slot_start_index: 0,
                authority: None,
                _padding: 0,
            },
            addresses: std::borrow::Cow::Owned(addresses),
        }
        .serialize_for_tests()
        .expect("table");
        let account = Account {
            lamports: 1_000_000_000,
            data,
            owner: solana_address_lookup_table_interface::program::ID,
            executable: false,
            rent_epoch: 0,
        };
        self.ctx
            .set_account(&key, &solana_sdk::account::AccountSharedData::from(account));
        key
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

    /// A mint of this env's token program; for Token-2022, `extensions` are
    /// instructions run between allocating the mint and initializing it, sized by
    /// `extension_types`.
    pub async fn create_mint(&mut self, extensions: &[MintExtension]) -> Pubkey {
        let mint = Keypair::new();
        let program = self.token.program_id();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let kinds: Vec<_> = extensions.iter().map(|extension| extension.kind).collect();
        let space = if kinds.is_empty() {
            spl_token_interface::state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<spl_token_2022_interface::state::Mint>(
                &kinds,
            )
            .unwrap()
        };
        let mut ixs = vec![system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            &mint.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &program,
        )];
        for extension in extensions {
            ixs.push((extension.init)(&mint.pubkey()));
        }
        ixs.push(with_program(
            program,
            spl_token_interface::instruction::initialize_mint2(
                &spl_token_interface::ID,
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
                Some(&self.mint_authority.pubkey()),
                DECIMALS,
            )
            .unwrap(),
        ));
        self.send(&ixs, &[&mint]).await.expect("create mint");
        mint.pubkey()
    }

    pub async fn create_token_account(&mut self, owner: &Pubkey) -> Pubkey {
        self.create_token_account_with(owner, &[]).await
    }

    /// A token account of the mint, sized for the extensions its mint requires plus
    /// `extra` (Token-2022 only).
    pub async fn create_token_account_with(
        &mut self,
        owner: &Pubkey,
        extra: &[ExtensionType],
    ) -> Pubkey {
        use spl_token_2022_interface::{
            extension::{BaseStateWithExtensions, StateWithExtensions},
            state::{Account as Token2022Account, Mint as Token2022Mint},
        };
        let account = Keypair::new();
        let program = self.token.program_id();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = match self.token {
            TokenKind::Spl => spl_token_interface::state::Account::LEN,
            TokenKind::Token2022 => {
                let mint = self.mint;
                let data = self.account(&mint).await.expect("mint").data;
                let mint = StateWithExtensions::<Token2022Mint>::unpack(&data).expect("mint");
                let mut kinds = ExtensionType::get_required_init_account_extensions(
                    &mint.get_extension_types().expect("extensions"),
                );
                kinds.extend_from_slice(extra);
                ExtensionType::try_calculate_account_len::<Token2022Account>(&kinds).unwrap()
            }
        };
        let create = system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            &account.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &program,
        );
        let init = with_program(
            program,
            spl_token_interface::instruction::initialize_account3(
                &spl_token_interface::ID,
                &account.pubkey(),
                &self.mint,
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
        let ix = with_program(
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

    /// Freezes a token account with the mint's freeze authority.
    pub async fn freeze(&mut self, account: &Pubkey) {
        let ix = with_program(
            self.token.program_id(),
            spl_token_interface::instruction::freeze_account(
                &spl_token_interface::ID,
                account,
                &self.mint,
                &self.mint_authority.pubkey(),
                &[],
            )
            .unwrap(),
        );
        let authority = self.mint_authority.insecure_clone();
        self.send(&[ix], &[&authority]).await.expect("freeze");
    }

    /// Closes an empty token account owned by `owner`.
    pub async fn close_token_account(&mut self, account: &Pubkey, owner: &Keypair) {
        let ix = with_program(
            self.token.program_id(),
            spl_token_interface::instruction::close_account(
                &spl_token_interface::ID,
                account,
                &owner.pubkey(),
                &owner.pubkey(),
                &[],
            )
            .unwrap(),
        );
        self.send(&[ix], &[owner])
            .await
            .expect("close token account");
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

    pub async fn lamports(&mut self, address: &Pubkey) -> u64 {
        self.account(address)
            .await
            .map_or(0, |account| account.lamports)
    }

    pub async fn tab(&mut self, tab: &Pubkey) -> Tab {
        let account = self.account(tab).await.expect("tab exists");
        *Tab::view(&account.data).expect("a tab")
    }

    pub async fn config_state(&mut self) -> Config {
        let config = self.config;
        let account = self.account(&config).await.expect("config exists");
        *Config::view(&account.data).expect("a config")
    }

    pub async fn credit(&mut self, wallet: &Pubkey) -> Option<Credit> {
        let address = builders::credit_address(&self.config, wallet);
        let account = self.account(&address).await?;
        Credit::view(&account.data).copied()
    }

    pub fn vault(&self) -> Pubkey {
        builders::vault_address(&self.config)
    }

    pub async fn vault_balance(&mut self) -> u64 {
        let vault = self.vault();
        self.token_balance(&vault).await
    }

    pub async fn now(&mut self) -> i64 {
        let clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp
    }

    pub async fn advance_time(&mut self, seconds: i64) {
        let mut clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp += seconds;
        self.ctx.set_sysvar(&clock);
    }

    /// A wallet with a token account of the mint.
    pub async fn new_payee(&mut self) -> Payee {
        let wallet = Keypair::new();
        let token_account = self.create_token_account(&wallet.pubkey()).await;
        Payee {
            wallet,
            token_account,
        }
    }

    /// A payer with `funds` tokens who opened a tab and deposited `deposit` of them.
    pub async fn new_payer(&mut self, funds: u64, deposit: u64) -> Payer {
        let owner = Keypair::new();
        self.airdrop(&owner.pubkey(), 1_000_000_000).await;
        let token_account = self.create_token_account(&owner.pubkey()).await;
        self.mint_to(&token_account, funds).await;
        let config = self.config;
        self.send(&[builders::open_tab(&owner.pubkey(), &config)], &[&owner])
            .await
            .expect("open_tab");
        let tab = builders::tab_address(&config, &owner.pubkey());
        if deposit > 0 {
            let ix = self.deposit_ix(&owner.pubkey(), &tab, &token_account, deposit);
            self.send(&[ix], &[&owner]).await.expect("deposit");
        }
        Payer {
            owner,
            tab,
            token_account,
        }
    }

    pub fn deposit_ix(
        &self,
        depositor: &Pubkey,
        tab: &Pubkey,
        source: &Pubkey,
        amount: u64,
    ) -> Instruction {
        builders::deposit(
            &Deposit {
                depositor,
                config: &self.config,
                tab,
                mint: &self.mint,
                source,
                token_program: &self.token.program_id(),
            },
            amount,
        )
    }

    pub fn payout<'a>(&'a self, destination: &'a Pubkey, token_program: &'a Pubkey) -> Payout<'a> {
        Payout {
            config: &self.config,
            mint: &self.mint,
            destination,
            token_program,
        }
    }

    /// The open state of `slot` of `tab` paying `entries` (wallet, amount), sorted.
    pub async fn open_state(
        &mut self,
        tab: &Pubkey,
        slot: u8,
        seq: u32,
        entries: &[(Pubkey, u64)],
    ) -> StreamMessage {
        let state = self.tab(tab).await;
        let epoch = state.slots[slot as usize].epoch.get();
        stream_message(tab, state.incarnation.get(), slot, epoch, seq, entries)
    }

    /// The `settle` instruction of `items`, sent by `settler`.
    pub fn settle_ix(
        &self,
        settler: &Keypair,
        items: &[SettleItem],
        payees: &[SettlePayee],
    ) -> Instruction {
        builders::settle(
            &SettleAccounts {
                settler: &settler.pubkey(),
                config: &self.config,
                mint: &self.mint,
                token_program: &self.token.program_id(),
            },
            items,
            payees,
        )
        .expect("settle instruction")
    }

    /// Settles `items` with `settler` (the sequencer unless given).
    pub async fn settle(
        &mut self,
        settler: &Keypair,
        items: &[SettleItem],
        payees: &[SettlePayee],
    ) -> Result<Outcome, BanksClientError> {
        let ix = self.settle_ix(settler, items, payees);
        let compute =
            solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                1_400_000,
            );
        self.send(&[compute, ix], &[settler]).await
    }

    /// The receipt the sequencer gives for `message`.
    pub fn receipt(&self, message: &StreamMessage) -> [u8; 64] {
        self.sequencer.sign_message(&message.receipt_bytes()).into()
    }

    /// Checks the vault invariant: vault == tab balances + credits + fees owed.
    pub async fn assert_vault_invariant(&mut self, tabs: &[Pubkey], credited: &[Pubkey]) {
        let mut expected = self.config_state().await.fees_owed.get();
        for tab in tabs {
            expected += self.tab(tab).await.balance.get();
        }
        for wallet in credited {
            expected += self
                .credit(wallet)
                .await
                .map_or(0, |credit| credit.amount.get());
        }
        assert_eq!(
            self.vault_balance().await,
            expected,
            "vault == balances + credits + fees"
        );
    }
}

/// A Token-2022 mint extension for [`Env::create_mint`].
pub struct MintExtension {
    pub kind: ExtensionType,
    pub init: Box<dyn Fn(&Pubkey) -> Instruction>,
}

/// The message for a state of `entries` (wallet, amount), sorted by wallet.
pub fn stream_message(
    tab: &Pubkey,
    incarnation: u64,
    slot: u8,
    epoch: u64,
    seq: u32,
    entries: &[(Pubkey, u64)],
) -> StreamMessage {
    StreamMessage {
        tab: *tab,
        incarnation,
        slot,
        epoch,
        seq,
        fee_bps: FEE_BPS,
        total: entries.iter().map(|(_, amount)| amount).sum(),
        entries_hash: micropay_protocol::entries_hash(
            entries.iter().map(|(wallet, amount)| (wallet, *amount)),
        ),
        count: entries.len() as u16,
    }
}

/// A settle item for `message`, signed by `key`, with `entries` as signed.
pub fn item(message: &StreamMessage, key: &Keypair, entries: &[(Pubkey, u64)]) -> SettleItem {
    SettleItem {
        tab: message.tab,
        slot: message.slot,
        seq: message.seq,
        fee_bps: message.fee_bps,
        entries: entries.to_vec(),
        previous: None,
        signature: key.sign_message(&message.state_bytes()).into(),
        receipt: None,
    }
}

/// Entries sorted by wallet, as states are signed.
pub fn sorted(mut entries: Vec<(Pubkey, u64)>) -> Vec<(Pubkey, u64)> {
    entries.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    entries
}

pub fn events_in_logs(logs: &[String]) -> Vec<AnyEvent> {
    use base64::Engine;
    logs.iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|data| {
            let fields: Vec<Vec<u8>> = data
                .split(' ')
                .filter_map(|field| base64::engine::general_purpose::STANDARD.decode(field).ok())
                .collect();
            let joined: Vec<u8> = fields.concat();
            event::decode(&joined)
        })
        .collect()
}

fn with_program(program: Pubkey, mut ix: Instruction) -> Instruction {
    ix.program_id = program;
    ix
}

/// Asserts that a transaction failed with `expected`.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, BanksClientError>,
    expected: MicropayError,
) {
    match result {
        Err(BanksClientError::TransactionError(TransactionError::InstructionError(
            _,
            InstructionError::Custom(code),
        ))) if code == expected.code() => {}
        other => panic!(
            "expected {} ({}), got {:?}",
            expected.name(),
            expected.code(),
            other.map(|_| ())
        ),
    }
}
