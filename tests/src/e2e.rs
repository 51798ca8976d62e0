//! End-to-end support on top of `micropay_client::localnet`: a switchable RPC proxy,
//! a relayer that can crash, and the relayer command as an OS process.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use micropay_relayer_v1::run::{start, RelayerArgs, Running};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};

pub use micropay_client::localnet::{LocalDeployment, Payer};

/// Waits until the relayer has nothing open or closed left, i.e. everything settled.
pub async fn wait_settled(running: &Running, timeout: Duration) {
    micropay_client::localnet::wait_settled(running.relayer.store.as_ref(), timeout)
        .await
        .unwrap()
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
