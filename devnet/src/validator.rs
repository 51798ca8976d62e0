//! The local validator: an in-process `solana-test-validator` that loads the program's
//! SBF bytecode as an upgradeable program, on ports of its own, with helpers to send
//! transactions and read accounts.

use std::path::PathBuf;

use anyhow::{bail, ensure, Context};
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

/// A log filter that keeps the in-process validator quiet.
pub const QUIET_LOG: &str =
    "warn,solana=error,agave=error,tarpc=error,solana_core=off,solana_metrics=off";

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
        Self::launch(None).await
    }

    /// A validator whose slots last 50 ms instead of 400, for tests that wait out
    /// hundreds of slots (a lookup table's deactivation, before it can be closed).
    pub async fn start_with_short_slots() -> anyhow::Result<Self> {
        Self::launch(Some(8)).await
    }

    /// Until the guard drops, every thread of the validator but its RPC service runs
    /// under `SCHED_IDLE`, on cores nobody else wants: for a benchmark's timed window,
    /// where the validator stands in for a cluster on other machines and the figures
    /// are to be the relayer's and its clients', not their competition with the
    /// validator for the same cores. It still makes blocks on idle cores, but a window
    /// that needs the chain at pace (settling beside intake, as the soak does) must
    /// not use it. Leaving `SCHED_IDLE` needs `CAP_SYS_NICE` (root, as the scripts
    /// run); without it the validator stays in the background after the guard too,
    /// which slows it only while something else wants the cores.
    pub fn in_background(&self) -> InBackground<'_> {
        set_policy_of_threads(makes_blocks, libc::SCHED_IDLE);
        InBackground(std::marker::PhantomData)
    }

    async fn launch(ticks_per_slot: Option<u64>) -> anyhow::Result<Self> {
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
        if let Some(ticks) = ticks_per_slot {
            genesis.ticks_per_slot(ticks);
        }
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

    /// The faucet's instruction creating `account` as a rent-exempt SPL Token account
    /// of `space` bytes, for the token program to initialize.
    pub(crate) async fn create_token_owned(
        &self,
        account: &Pubkey,
        space: usize,
    ) -> anyhow::Result<Instruction> {
        let rent = self
            .rpc()
            .get_minimum_balance_for_rent_exemption(space)
            .await?;
        Ok(system_instruction::create_account(
            &self.faucet.pubkey(),
            account,
            rent,
            space as u64,
            &spl_token_interface::ID,
        ))
    }

    /// A new SPL Token account of `mint` owned by `owner`.
    pub async fn token_account(&self, mint: &Pubkey, owner: &Pubkey) -> anyhow::Result<Pubkey> {
        let account = Keypair::new();
        let ixs = [
            self.create_token_owned(&account.pubkey(), spl_token_interface::state::Account::LEN)
                .await?,
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
    set_policy_of_threads(|name| BUSY_THREADS.contains(&name), libc::SCHED_IDLE);
}

const BUSY_THREADS: &[&str] = &["solBnkTxSched", "solRepairSvc"];

/// The validator's threads are back at normal priority, but for the two that never
/// rest, when this drops.
pub struct InBackground<'a>(std::marker::PhantomData<&'a Devnet>);

impl Drop for InBackground<'_> {
    fn drop(&mut self) {
        set_policy_of_threads(
            |name| makes_blocks(name) && !BUSY_THREADS.contains(&name),
            libc::SCHED_OTHER,
        );
    }
}

/// Whether a thread makes blocks: Agave names its threads `sol…`; RocksDB's and the
/// banking stage's manager are the validator's too. Not its RPC service, which a
/// relayer asks during intake (a new tab's account) and which, elsewhere, would
/// answer at once.
fn makes_blocks(name: &str) -> bool {
    let rpc = name.starts_with("solRpc") || name.starts_with("solJsonRpc");
    (name.starts_with("sol") && !rpc) || name.starts_with("rocksdb:") || name == "BankingMgr"
}

/// Sets the scheduling policy of every thread of this process whose name `select`
/// picks. Threads they start later inherit it.
fn set_policy_of_threads(select: impl Fn(&str) -> bool, policy: libc::c_int) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let Ok(tid) = task.file_name().to_string_lossy().parse::<libc::pid_t>() else {
            continue;
        };
        if select(comm.trim()) {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: sched_setscheduler reads only its arguments, and a tid names one
            // thread; where the change needs rights it lacks, it fails and changes
            // nothing.
            unsafe { libc::sched_setscheduler(tid, policy, &param) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_of(tid: libc::pid_t) -> libc::c_int {
        // SAFETY: sched_getscheduler reads only its argument.
        unsafe { libc::sched_getscheduler(tid) }
    }

    #[test]
    fn only_the_threads_that_make_blocks_go_to_the_background() {
        assert!(makes_blocks("solBnkTxSched"));
        assert!(makes_blocks("rocksdb:low"));
        assert!(makes_blocks("BankingMgr"));
        assert!(!makes_blocks("solRpcEl"));
        assert!(!makes_blocks("solJsonRpcSvc"));
        assert!(!makes_blocks("tokio-rt-worker"));

        // A parked thread under the given name, and its tid.
        let spawn = |name: &str| {
            let (tid_tx, tid_rx) = std::sync::mpsc::channel();
            let thread = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    // SAFETY: gettid has no arguments.
                    tid_tx.send(unsafe { libc::gettid() }).unwrap();
                    std::thread::park();
                })
                .unwrap();
            (thread, tid_rx.recv().unwrap())
        };
        let (maker, maker_tid) = spawn("solPohTickProd");
        let (rpc, rpc_tid) = spawn("solRpcEl");

        set_policy_of_threads(makes_blocks, libc::SCHED_IDLE);
        assert_eq!(policy_of(maker_tid), libc::SCHED_IDLE);
        assert_eq!(policy_of(rpc_tid), libc::SCHED_OTHER);
        assert_eq!(policy_of(0), libc::SCHED_OTHER, "the test's own thread");

        for thread in [maker, rpc] {
            thread.thread().unpark();
            thread.join().unwrap();
        }
    }
}
