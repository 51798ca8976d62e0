//! End-to-end support: a deployment on a local validator over JSON-RPC, payers with
//! funded tabs, payees, a relayer running against it, and a switchable RPC proxy.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use anchor_lang::AccountDeserialize;
use futures::future::try_join_all;
use micropay::state::Tab;
use micropay_relayer::run::{start, RelayerArgs, Running};
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
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

use crate::{validator::LocalValidator, Deployment, DECIMALS, WITHDRAWAL_DELAY};
use anchor_lang::solana_program::system_instruction;

pub struct Payer {
    pub owner: Keypair,
    pub tab: Pubkey,
    pub token_account: Pubkey,
    pub deposit: u64,
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
    pub async fn start(fee_bps: u16) -> Self {
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
        this.fund(&this.admin.pubkey(), 10_000_000_000).await;
        let rent_mint = this
            .rpc
            .get_minimum_balance_for_rent_exemption(spl_token_interface::state::Mint::LEN)
            .await
            .unwrap();
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
        )
        .unwrap();
        let mut ixs = vec![create_mint, init_mint];
        ixs.extend(
            this.token_account_ixs(&fee_destination.pubkey(), &this.admin.pubkey())
                .await,
        );
        let admin = this.admin.insecure_clone();
        this.send(&ixs, &[&admin, &mint, &fee_destination]).await;
        let init = this.deployment.init_config_ix(
            config.pubkey(),
            fee_bps,
            WITHDRAWAL_DELAY,
            mint.pubkey(),
            fee_destination.pubkey(),
        );
        this.send(&[init], &[&admin, &config]).await;
        this
    }

    /// Sends and confirms a transaction paid by the admin (plus `signers`).
    pub async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Signature {
        let blockhash = self.rpc.get_latest_blockhash().await.unwrap();
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&signers[0].pubkey()), signers, blockhash);
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .unwrap_or_else(|e| panic!("transaction failed: {e}"))
    }

    pub async fn fund(&self, to: &Pubkey, lamports: u64) {
        let faucet = &self.validator.faucet;
        let ix = system_instruction::transfer(&faucet.pubkey(), to, lamports);
        let blockhash = self.rpc.get_latest_blockhash().await.unwrap();
        let tx =
            Transaction::new_signed_with_payer(&[ix], Some(&faucet.pubkey()), &[faucet], blockhash);
        self.rpc.send_and_confirm_transaction(&tx).await.unwrap();
    }

    async fn token_account_ixs(&self, account: &Pubkey, owner: &Pubkey) -> [Instruction; 2] {
        let len = spl_token_interface::state::Account::LEN;
        let rent = self
            .rpc
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .unwrap();
        [
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
            )
            .unwrap(),
        ]
    }

    /// Token accounts for `count` payees (owned by fresh keys).
    pub async fn payees(&self, count: usize) -> Vec<Pubkey> {
        let futures = (0..count).map(|_| async {
            let account = Keypair::new();
            let ixs = self
                .token_account_ixs(&account.pubkey(), &Pubkey::new_unique())
                .await;
            self.send(&ixs, &[&self.admin, &account]).await;
            account.pubkey()
        });
        futures::future::join_all(futures).await
    }

    /// `count` payers, each with a tab holding `deposit` (and as much again in its wallet).
    pub async fn payers(&self, count: usize, deposit: u64) -> Vec<Payer> {
        let futures = (0..count).map(|_| async {
            let owner = Keypair::new();
            let account = Keypair::new();
            let tab = self.deployment.tab_address(&owner.pubkey());
            let mut ixs = self
                .token_account_ixs(&account.pubkey(), &owner.pubkey())
                .await
                .to_vec();
            ixs.push(system_instruction::transfer(
                &self.admin.pubkey(),
                &owner.pubkey(),
                10_000_000,
            ));
            ixs.push(
                spl_token_interface::instruction::mint_to(
                    &spl_token_interface::ID,
                    &self.deployment.mint,
                    &account.pubkey(),
                    &self.mint_authority.pubkey(),
                    &[],
                    2 * deposit,
                )
                .unwrap(),
            );
            ixs.push(self.deployment.open_tab_ix(&owner.pubkey()));
            ixs.push(
                self.deployment
                    .deposit_ix(&owner.pubkey(), &tab, &account.pubkey(), deposit),
            );
            self.send(&ixs, &[&self.admin, &account, &self.mint_authority, &owner])
                .await;
            Ok::<_, ()>(Payer {
                owner,
                tab,
                token_account: account.pubkey(),
                deposit,
            })
        });
        try_join_all(futures).await.unwrap()
    }

    pub async fn token_balance(&self, account: &Pubkey) -> u64 {
        let data = self.rpc.get_account_data(account).await.unwrap();
        spl_token_interface::state::Account::unpack_from_slice(&data[..165])
            .unwrap()
            .amount
    }

    pub async fn tab(&self, tab: &Pubkey) -> Tab {
        let data = self.rpc.get_account_data(tab).await.unwrap();
        Tab::try_deserialize(&mut data.as_slice()).unwrap()
    }

    /// A funded relayer keypair file and store in `dir`, with the given policy.
    pub async fn relayer_args(&self, dir: &std::path::Path, rpc_url: &str) -> RelayerArgs {
        let keypair_path = dir.join("relayer.json");
        if !keypair_path.exists() {
            let keypair = Keypair::new();
            self.fund(&keypair.pubkey(), 100_000_000_000).await;
            std::fs::write(
                &keypair_path,
                serde_json::to_string(&keypair.to_bytes().to_vec()).unwrap(),
            )
            .unwrap();
        }
        RelayerArgs {
            url: rpc_url.to_string(),
            keypair: keypair_path,
            program_id: micropay::ID,
            config: self.deployment.config,
            store_url: format!("sqlite://{}", dir.join("relayer.db").display()),
            listen: "127.0.0.1:0".parse().unwrap(),
            settle_max_age_secs: 2,
            settle_max_total: u64::MAX,
            settle_max_tips: 100_000,
            settle_withdrawal_horizon_secs: 120,
            settle_interval_ms: 300,
            priority_fee: 0,
            min_session_validity_secs: 60,
            instance: "e2e".into(),
        }
    }

    pub async fn start_relayer(&self, args: &RelayerArgs) -> Running {
        start(args).await.expect("relayer starts")
    }
}

/// Waits until the relayer has nothing open or closed left, i.e. everything settled.
pub async fn wait_settled(running: &Running, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let counts = running.relayer.store.counts().await.unwrap();
        let pending =
            counts.get("open").copied().unwrap_or(0) + counts.get("closed").copied().unwrap_or(0);
        if pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {pending} epochs unsettled: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP proxy in front of the validator's RPC that can be switched off, to play an
/// unreachable RPC.
pub struct RpcProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl RpcProxy {
    pub async fn start(target: &str) -> Self {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .parse()
            .expect("validator rpc address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        {
            let (up, connections) = (up.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection close
                    }
                    connections.lock().await.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            });
        }
        Self {
            addr,
            up,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every open connection and refuses new ones, until `set_up(true)`.
    pub async fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.connections.lock().await.abort_all();
        }
    }
}

/// A relayer on its own runtime, which can be killed the way a crash would: every task
/// stops where it is, and its store connections close (rolling back whatever was not
/// committed), as when the process dies.
pub struct CrashableRelayer {
    pub addr: SocketAddr,
    kill: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl CrashableRelayer {
    pub fn start(args: RelayerArgs) -> Self {
        let (ready, started) = std::sync::mpsc::channel();
        let (kill, killed) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let running = runtime.block_on(start(&args)).expect("relayer starts");
            ready.send(running.addr).expect("test is waiting");
            let _ = killed.recv();
            // No graceful anything: drop every task wherever it is.
            runtime.shutdown_background();
            drop(running);
        });
        let addr = started.recv().expect("relayer started");
        Self { addr, kill, thread }
    }

    pub fn crash(self) {
        let _ = self.kill.send(());
        self.thread.join().expect("relayer thread");
    }
}

/// The relayer command running as its own OS process, to be stopped with SIGTERM or
/// killed with SIGKILL.
pub struct RelayerProcess {
    child: std::process::Child,
    pub addr: SocketAddr,
}

impl RelayerProcess {
    /// Starts `binary` (the relayer command) with `args` and waits until it answers.
    pub async fn spawn(binary: &str, args: &RelayerArgs) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let child = std::process::Command::new(binary)
            .arg("--url")
            .arg(&args.url)
            .arg("--keypair")
            .arg(&args.keypair)
            .arg("--program-id")
            .arg(args.program_id.to_string())
            .arg("--config")
            .arg(args.config.to_string())
            .arg("--store-url")
            .arg(&args.store_url)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--settle-max-age-secs")
            .arg(args.settle_max_age_secs.to_string())
            .arg("--settle-interval-ms")
            .arg(args.settle_interval_ms.to_string())
            .arg("--min-session-validity-secs")
            .arg(args.min_session_validity_secs.to_string())
            .arg("--instance")
            .arg(&args.instance)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start the relayer process");
        let process = Self { child, addr };
        let health = format!("http://{addr}/v1/health");
        for _ in 0..300 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the relayer process did not come up");
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling our own child process by its pid.
        assert_eq!(
            unsafe { libc::kill(pid, libc::SIGTERM) },
            0,
            "SIGTERM delivered"
        );
        tokio::task::spawn_blocking(move || self.child.wait().expect("wait for the relayer"))
            .await
            .unwrap()
    }

    /// SIGKILL: the process dies wherever it is.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap the relayer");
    }
}
