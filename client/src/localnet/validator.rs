//! A real in-process validator (`solana-test-validator`, JSON-RPC on a local port) with
//! the natively built micropay program registered.
//!
//! The validator's genesis only loads `.so` programs and the SBF toolchain is not
//! available here, so the program runs as a native builtin, the way
//! `solana-program-test` runs it:
//! 1. a `ProgramTest` is started once, which installs its syscall stubs (native code's
//!    sysvar reads and CPIs then go through the running transaction's invoke context);
//! 2. genesis holds an executable, native-loader-owned account at the program id;
//! 3. every bank of the validator gets the program as a builtin. A child bank inherits
//!    its parent's builtins, but banks that already exist when we start do not, so a
//!    watcher registers it on each bank it has not seen yet until the validator stops.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use solana_program_runtime::{
    invoke_context::BuiltinFunctionWithContext, loaded_programs::ProgramCacheEntry,
};
use solana_program_test::{processor, ProgramTest};
use solana_rpc::rpc::JsonRpcConfig;
use solana_sdk::{
    account::{Account, AccountSharedData},
    signature::Keypair,
};
use solana_test_validator::{TestValidator, TestValidatorGenesis};
use tokio::sync::OnceCell;

use crate::native::process_instruction;

const PROGRAM_NAME: &str = "micropay";

static STUBS: OnceCell<()> = OnceCell::const_new();

async fn install_native_stubs() {
    STUBS
        .get_or_init(|| async {
            let _ = ProgramTest::default().start().await;
        })
        .await;
}

pub struct LocalValidator {
    pub validator: TestValidator,
    /// Funded with the genesis supply.
    pub faucet: Keypair,
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
    _ledger: tempfile::TempDir,
}

impl LocalValidator {
    pub async fn start() -> Self {
        install_native_stubs().await;
        let ledger = tempfile::tempdir().expect("ledger dir");
        let mut genesis = TestValidatorGenesis::default();
        genesis
            .ledger_path(ledger.path())
            // Settlement reports read the transactions back, as the CLI's validator does.
            .rpc_config(JsonRpcConfig {
                enable_rpc_transaction_history: true,
                ..JsonRpcConfig::default_for_test()
            })
            .add_account(
                micropay::ID,
                AccountSharedData::from(Account {
                    lamports: 1,
                    data: PROGRAM_NAME.as_bytes().to_vec(),
                    owner: solana_sdk::native_loader::ID,
                    executable: true,
                    rent_epoch: 0,
                }),
            );
        // The validator prints its progress ("Waiting for fees to stabilize") on stdout,
        // which belongs to the command's output (`--output json`): send it to stderr.
        let stdout = StdoutToStderr::new();
        let (validator, faucet) = genesis.start_async().await;
        drop(stdout);

        let stop = Arc::new(AtomicBool::new(false));
        let bank_forks = validator.bank_forks();
        let watcher = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut registered = HashSet::new();
                let builtin: Option<BuiltinFunctionWithContext> = processor!(process_instruction);
                let builtin = builtin.expect("native processor");
                while !stop.load(Ordering::Relaxed) {
                    let banks: Vec<_> = {
                        let forks = bank_forks.read().unwrap();
                        forks
                            .banks()
                            .iter()
                            .map(|(slot, bank)| (*slot, bank.clone_without_scheduler()))
                            .collect()
                    };
                    for (slot, bank) in banks {
                        if registered.insert(slot) {
                            bank.add_builtin(
                                micropay::ID,
                                PROGRAM_NAME,
                                ProgramCacheEntry::new_builtin(0, PROGRAM_NAME.len(), builtin),
                            );
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        Self {
            validator,
            faucet,
            stop,
            watcher: Some(watcher),
            _ledger: ledger,
        }
    }

    pub fn rpc_url(&self) -> String {
        self.validator.rpc_url()
    }
}

impl Drop for LocalValidator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// Points file descriptor 1 at stderr until dropped.
struct StdoutToStderr {
    saved: libc::c_int,
}

impl StdoutToStderr {
    fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: duplicating and replacing the process's own standard descriptors.
        let saved = unsafe { libc::dup(1) };
        if saved >= 0 {
            unsafe { libc::dup2(2, 1) };
        }
        Self { saved }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if self.saved >= 0 {
            // SAFETY: restoring the descriptor saved in `new`.
            unsafe {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}
