//! A local network for micropay v2: an in-process `solana-test-validator` that loads
//! the program's SBF bytecode (`scripts/build-sbf`) as an upgradeable program, with
//! helpers to send transactions and to set up a deployment (mint, config, vault).
//! Development tooling: the user-facing crates do not depend on it. It also holds the
//! program in `solana-program-test` (`bytecode`, `compute`), the demo and the benchmark: simulated payers and payees on a devnet, driving a relayer
//! over HTTP, and reports read from the relayer's API and the chain.

pub mod bench;
pub mod bytecode;
pub mod compute;
pub mod demo;
pub mod paid;
pub mod process;
pub mod relayer_metrics;
pub mod report;
pub mod scenario;
pub mod simulate;
pub mod web;

use std::path::{Path, PathBuf};

/// A log filter that keeps the in-process validator quiet.
pub const QUIET_LOG: &str =
    "warn,solana=error,agave=error,tarpc=error,solana_core=off,solana_metrics=off";

/// Setup transactions in flight at once.
const SETUP_CONCURRENCY: usize = 128;

use anyhow::{bail, ensure, Context};
use futures::{stream, StreamExt, TryStreamExt};
use micropay_interface::{
    client as builders,
    state::{Params, I64, U16},
};
use process::RelayerFlags;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_rpc::rpc::JsonRpcConfig;
use solana_sdk::{
    instruction::Instruction,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::Transaction,
};
use solana_system_interface::instruction as system_instruction;
use solana_test_validator::{TestValidator, TestValidatorGenesis, UpgradeableProgramInfo};

/// Where `scripts/build-sbf` writes the program.
pub fn program_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../programs/micropay/target/deploy/micropay_program.so")
}

/// The first of two adjacent free ports (JSON-RPC, then its websocket), from the
/// kernel's ephemeral range. Left to itself, a debug-built test validator takes them
/// from a fixed range starting at 2000, and the second validator of a process can get
/// 2049: a port that Node's `fetch` and browsers refuse to connect to ("bad port").
fn free_rpc_ports() -> anyhow::Result<u16> {
    use std::net::{Ipv4Addr, TcpListener};
    for _ in 0..64 {
        let rpc = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = rpc.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            return Ok(port);
        }
    }
    bail!("found no two adjacent free ports for the validator's RPC")
}

/// Adjacent ports the validator binds for gossip, TPU, repair and the rest.
const VALIDATOR_PORTS: u16 = 25;

/// [`VALIDATOR_PORTS`] adjacent ports free for UDP and TCP, below the kernel's
/// ephemeral range. Left to itself, a debug-built test validator takes 2000..2025 in
/// every process, so a second process (a demo while the tests run, or a benchmark
/// started while the last one's validator still shuts down) panics binding gossip.
fn free_validator_ports() -> anyhow::Result<(u16, u16)> {
    use rand::Rng;
    use std::net::{Ipv4Addr, TcpListener, UdpSocket};
    let free = |port: u16| {
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
            && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
    };
    for _ in 0..64 {
        let start = rand::thread_rng().gen_range(10_000..30_000);
        let end = start + VALIDATOR_PORTS;
        if (start..end).all(free) {
            return Ok((start, end));
        }
    }
    bail!("found no {VALIDATOR_PORTS} adjacent free ports for the validator")
}

/// A running validator with the micropay program deployed at its id.
pub struct Devnet {
    validator: TestValidator,
    /// Funded at genesis; pays for everything the devnet sets up.
    pub faucet: Keypair,
    _ledger: tempfile::TempDir,
}

impl Devnet {
    pub async fn start() -> anyhow::Result<Self> {
        let program = program_path();
        ensure!(
            program.exists(),
            "{} is missing: run scripts/build-sbf",
            program.display()
        );
        let ledger = tempfile::tempdir()?;
        let ports = free_validator_ports()?;
        let mut genesis = TestValidatorGenesis::default();
        genesis
            .ledger_path(ledger.path())
            .rpc_port(free_rpc_ports()?)
            .port_range(ports)
            .gossip_port(ports.0)
            .rpc_config(JsonRpcConfig {
                enable_rpc_transaction_history: true,
                // Keeps transactions' logs, where clients read the program's events.
                enable_extended_tx_metadata_storage: true,
                ..JsonRpcConfig::default_for_test()
            })
            .add_upgradeable_programs_with_path(&[UpgradeableProgramInfo {
                program_id: micropay_interface::ID,
                loader: solana_sdk_ids::bpf_loader_upgradeable::id(),
                upgrade_authority: Pubkey::default(),
                program_path: program,
            }]);
        let (validator, faucet) = genesis.start_async().await;
        deprioritize_busy_threads();
        let devnet = Self {
            validator,
            faucet,
            _ledger: ledger,
        };
        // Programs loaded at genesis (the token programs among them) are executable
        // from the slot after: a transaction simulated at slot 0 fails with "Program is
        // not deployed".
        let rpc = devnet.rpc();
        while rpc.get_slot().await? < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(devnet)
    }

    pub fn rpc_url(&self) -> String {
        self.validator.rpc_url()
    }

    /// The validator's websocket (subscriptions) URL.
    pub fn pubsub_url(&self) -> String {
        self.validator.rpc_pubsub_url()
    }

    pub fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(self.rpc_url(), CommitmentConfig::confirmed())
    }

    /// Sends `ixs` paid by the faucet and signed by `signers`, and waits for
    /// confirmation.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Signature> {
        let rpc = self.rpc();
        let blockhash = rpc.get_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![&self.faucet];
        all.extend_from_slice(signers);
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&self.faucet.pubkey()), &all, blockhash);
        Ok(rpc.send_and_confirm_transaction(&tx).await?)
    }

    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
        let ix = system_instruction::transfer(&self.faucet.pubkey(), to, lamports);
        self.send(&[ix], &[]).await.map(|_| ())
    }

    /// A new SPL Token account of `mint` owned by `owner`.
    pub async fn token_account(&self, mint: &Pubkey, owner: &Pubkey) -> anyhow::Result<Pubkey> {
        let account = Keypair::new();
        let space = spl_token_interface::state::Account::LEN;
        let rent = self
            .rpc()
            .get_minimum_balance_for_rent_exemption(space)
            .await?;
        let ixs = [
            system_instruction::create_account(
                &self.faucet.pubkey(),
                &account.pubkey(),
                rent,
                space as u64,
                &spl_token_interface::ID,
            ),
            spl_token_interface::instruction::initialize_account3(
                &spl_token_interface::ID,
                &account.pubkey(),
                mint,
                owner,
            )?,
        ];
        self.send(&ixs, &[&account]).await?;
        Ok(account.pubkey())
    }

    /// The wallet's associated token account of `mint` (SPL Token), created if missing.
    pub async fn associated_token_account(
        &self,
        mint: &Pubkey,
        wallet: &Pubkey,
    ) -> anyhow::Result<Pubkey> {
        let ix = spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            &self.faucet.pubkey(),
            wallet,
            mint,
            &spl_token_interface::ID,
        );
        self.send(&[ix], &[]).await?;
        Ok(
            spl_associated_token_account_interface::address::get_associated_token_address(
                wallet, mint,
            ),
        )
    }

    /// The current cluster time (unix seconds).
    pub async fn unix_time(&self) -> anyhow::Result<i64> {
        Ok(micropay_client::accounts::cluster_time(&self.rpc()).await?)
    }

    pub async fn token_balance(&self, account: &Pubkey) -> anyhow::Result<u64> {
        let data = self.rpc().get_account_data(account).await?;
        Ok(
            spl_token_interface::state::Account::unpack_from_slice(&data)
                .context("a token account")?
                .amount,
        )
    }
}

/// Two of Agave's threads never rest in a one-node validator: the banking-stage
/// scheduler polls for transactions without sleeping for as long as its validator
/// leads (and a one-node validator always leads), and the repair service looks for
/// missing shreds every millisecond. Together they took more than a core from the
/// relayer and clients beside them, even at nice 19. Under `SCHED_IDLE` they run only
/// on a core nobody else wants; the scheduler still schedules every transaction, and
/// one node has nothing to repair.
fn deprioritize_busy_threads() {
    const BUSY: &[&str] = &["solBnkTxSched", "solRepairSvc"];
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let Ok(tid) = task.file_name().to_string_lossy().parse::<libc::pid_t>() else {
            continue;
        };
        if BUSY.contains(&comm.trim()) {
            let idle = libc::sched_param { sched_priority: 0 };
            // SAFETY: sched_setscheduler reads only its arguments; a tid names one
            // thread, and lowering a thread's own process's priority needs no rights.
            unsafe { libc::sched_setscheduler(tid, libc::SCHED_IDLE, &idle) };
        }
    }
}

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
        let space = spl_token_interface::state::Mint::LEN;
        let rent = devnet
            .rpc()
            .get_minimum_balance_for_rent_exemption(space)
            .await?;
        let faucet = devnet.faucet.pubkey();
        devnet
            .send(
                &[
                    system_instruction::create_account(
                        &faucet,
                        &mint.pubkey(),
                        rent,
                        space as u64,
                        &spl_token_interface::ID,
                    ),
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
