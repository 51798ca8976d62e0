//! The relayer as the OS process operators run (`micropay-relayer`, built here as
//! `relayer-under-test`), on a local validator running the program's bytecode:
//! SIGKILL while tips arrive and while it settles loses no receipted tip and pays
//! nothing twice, nor does SIGKILL at each named crash point (`micropay_relayer::crash`),
//! a top-up's flight among them; SIGTERM while settling exits cleanly; two instances sharing one
//! PostgreSQL store keep one writer per stream and settle each epoch once; a full disk
//! refuses tips as `store_full` and intake resumes when room returns.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use micropay_api::ErrorCode;
use micropay_client::relayer::RelayerClient;
use micropay_devnet::{
    process::{RelayerFlags, RelayerProcess},
    report::{settlement_report, wait_settled, Receipts},
    Deployment, Devnet, Payer,
};
use micropay_protocol::SignedStream;
use micropay_relayer::app::{start, RelayerArgs};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use tokio::sync::Mutex;

/// The relayer process, and a client of it.
async fn spawn(flags: &RelayerFlags, sequencer: Pubkey) -> (RelayerProcess, RelayerClient) {
    let program = Path::new(env!("CARGO_BIN_EXE_relayer-under-test"));
    let process = RelayerProcess::spawn_program(program, flags)
        .await
        .expect("the relayer process");
    let client = RelayerClient::new(&process.url, sequencer);
    (process, client)
}

/// The highest seq each stream epoch had receipted, as the tippers saw it.
type Receipted = Arc<Mutex<BTreeMap<(Pubkey, u8, u64), u32>>>;

/// Keeps the highest seq a tipper holds a receipt for in each stream epoch.
async fn note_receipted(seen: &Receipted, receipted: &micropay_protocol::Receipted) {
    let state = receipted.state();
    let mut seen = seen.lock().await;
    let entry = seen
        .entry((state.tab, state.slot, state.epoch))
        .or_default();
    *entry = (*entry).max(state.seq);
}

/// Every payer tips through `client` until `stop` is set, keeping the receipts.
fn tip_until(
    client: RelayerClient,
    payers: &[Payer],
    payees: &[Pubkey],
    seen: Receipted,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinSet<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for (n, payer) in payers.iter().enumerate() {
        let (key, slot) = payer.tipper();
        let (key, tab, client, seen, stop) = (
            key.insecure_clone(),
            payer.tab,
            client.clone(),
            seen.clone(),
            stop.clone(),
        );
        let payees = payees.to_vec();
        tasks.spawn(async move {
            let mut i = n;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                i += 1;
                match client
                    .tip(
                        &key,
                        &tab,
                        slot,
                        &payees[i % payees.len()],
                        1 + i as u64 % 7,
                    )
                    .await
                {
                    Ok(receipted) => note_receipted(&seen, &receipted).await,
                    // The process is gone, or the answer was cut: try again.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
    }
    tasks
}

/// Every stream epoch the tippers had receipted settled at that seq or higher, and
/// every payee holds exactly what the settled states owe it.
async fn check_settled(
    devnet: &Devnet,
    deployment: &Deployment,
    client: &RelayerClient,
    payees: &[Pubkey],
    seen: &Receipted,
) {
    wait_settled(client, Duration::from_secs(300))
        .await
        .unwrap();
    let receipts = Receipts::fetch(client, payees).await.unwrap();
    let seen = seen.lock().await;
    assert!(!seen.is_empty());
    for ((tab, slot, epoch), seq) in seen.iter() {
        let settled = receipts
            .epochs
            .iter()
            .find(|(key, _)| key.0 == *tab && key.2 == *slot && key.3 == *epoch)
            .map(|(_, (state, status, _))| (state.seq, *status));
        let (settled_seq, status) = settled.expect("a receipted epoch is known after restarts");
        assert!(settled_seq >= *seq, "stream epoch lost receipted tips");
        assert_eq!(status, micropay_api::StreamStatus::Settled);
    }
    let report = settlement_report(client, &devnet.rpc(), deployment, payees)
        .await
        .unwrap();
    assert_eq!(report.unsettled, 0);
    assert!(report.payouts_match, "{:?}", report.payees);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_tipping_and_settling_loses_nothing_and_pays_nothing_twice() {
    let devnet = Devnet::start().await.unwrap();
    let deployment = Deployment::create(&devnet, 100).await.unwrap();
    let payers = deployment
        .payers(&devnet, 6, 1_000_000, true)
        .await
        .unwrap();
    let payees = deployment.payees(&devnet, 3).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    let sequencer = deployment.sequencer.pubkey();
    let seen: Receipted = Arc::default();

    // Killed while tips arrive, at three moments; then while it settles.
    for kill_after_ms in [150u64, 700, 1_500] {
        let (process, client) = spawn(&flags, sequencer).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tippers = tip_until(client.clone(), &payers, &payees, seen.clone(), stop.clone());
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        process.kill().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        while tippers.join_next().await.is_some() {}
    }
    for kill_after_ms in [100u64, 400] {
        let (process, _client) = spawn(&flags, sequencer).await;
        process.settle_now().unwrap();
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        process.kill().unwrap();
    }
    // More tips after the crashes, then SIGTERM in the middle of settling: a clean exit.
    let (process, client) = spawn(&flags, sequencer).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tippers = tip_until(client.clone(), &payers, &payees, seen.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    while tippers.join_next().await.is_some() {}
    process.settle_now().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(process.terminate().await.unwrap().success());

    // A last restart settles whatever is left; everything adds up.
    let (process, client) = spawn(&flags, sequencer).await;
    process.settle_now().unwrap();
    check_settled(&devnet, &deployment, &client, &payees, &seen).await;
    assert!(process.terminate().await.unwrap().success());
}

/// A database of its own on the test PostgreSQL server, or `None` when none is set up.
async fn postgres_database() -> Option<String> {
    use sqlx::{Connection, Executor};
    let Ok(url) = std::env::var("MICROPAY_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("MICROPAY_REQUIRE_POSTGRES").is_none(),
            "MICROPAY_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: set MICROPAY_TEST_POSTGRES_URL (./scripts/test does)");
        return None;
    };
    let database = format!(
        "micropay_e2e_{}",
        solana_sdk::signature::Keypair::new()
            .pubkey()
            .to_string()
            .to_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    Some(format!("{base}/{database}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_a_postgres_store() {
    let Some(store_url) = postgres_database().await else {
        return;
    };
    let devnet = Devnet::start().await.unwrap();
    let deployment = Deployment::create(&devnet, 100).await.unwrap();
    let payers = deployment
        .payers(&devnet, 4, 1_000_000, true)
        .await
        .unwrap();
    let payees = deployment.payees(&devnet, 2).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    flags.set("--store-url", store_url).set("--instance", "a");
    let a = start(&RelayerArgs::from_flags(flags.args()).unwrap())
        .await
        .unwrap();
    flags.set("--instance", "b");
    let b = start(&RelayerArgs::from_flags(flags.args()).unwrap())
        .await
        .unwrap();
    let sequencer = deployment.sequencer.pubkey();
    let client_a = RelayerClient::new(format!("http://{}", a.addr), sequencer);
    let client_b = RelayerClient::new(format!("http://{}", b.addr), sequencer);

    // One writer per stream across instances: the same next seq sent to both at once,
    // twenty times over; each time exactly one is receipted.
    let payer = &payers[0];
    let (key, slot) = payer.tipper();
    for round in 0..20 {
        let base = client_a
            .stream(&payer.tab, slot)
            .await
            .unwrap()
            .next
            .to_state()
            .unwrap();
        let one = SignedStream::sign(base.tip(payees[0], 1).unwrap(), key).unwrap();
        let other = SignedStream::sign(base.tip(payees[1], 2).unwrap(), key).unwrap();
        let (x, y) = tokio::join!(client_a.submit(&one), client_b.submit(&other));
        assert_eq!(
            usize::from(x.is_ok()) + usize::from(y.is_ok()),
            1,
            "round {round}: {x:?} {y:?}"
        );
        let loser = if x.is_ok() { y } else { x };
        assert_eq!(loser.unwrap_err().code(), Some(ErrorCode::StaleState));
    }

    // Every payer tips through both instances at once; both settle.
    let seen: Receipted = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tippers = tip_until(
        client_a.clone(),
        &payers,
        &payees,
        seen.clone(),
        stop.clone(),
    );
    let mut more = tip_until(
        client_b.clone(),
        &payers,
        &payees,
        seen.clone(),
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    while tippers.join_next().await.is_some() {}
    while more.join_next().await.is_some() {}
    a.settle_now();
    b.settle_now();
    check_settled(&devnet, &deployment, &client_b, &payees, &seen).await;
    a.shutdown().await;
    b.shutdown().await;
}

/// The relayer process set to SIGKILL itself at `point` (`micropay_relayer::crash`).
async fn spawn_crashing(
    flags: &RelayerFlags,
    sequencer: Pubkey,
    point: &str,
) -> (RelayerProcess, RelayerClient) {
    let program = Path::new(env!("CARGO_BIN_EXE_relayer-under-test"));
    let process =
        RelayerProcess::spawn_program_with(program, flags, &[("MICROPAY_CRASH_AT", point)])
            .await
            .expect("the relayer process");
    let client = RelayerClient::new(&process.url, sequencer);
    (process, client)
}

/// Waits for the process to kill itself at its crash point, asking it to settle
/// meanwhile; fails if it is still alive after a minute.
async fn killed_at_its_point(mut process: RelayerProcess, point: &str) {
    use std::os::unix::process::ExitStatusExt;
    for _ in 0..120 {
        if let Some(status) = process.exited(Duration::from_millis(500)).await.unwrap() {
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{point}: {status}");
            return;
        }
        let _ = process.settle_now();
    }
    panic!("the relayer never reached {point}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_each_crash_point_loses_nothing_and_pays_nothing_twice() {
    use micropay_interface::state::{AccountLayout, Tab};

    let devnet = Devnet::start().await.unwrap();
    let deployment = Deployment::create(&devnet, 100).await.unwrap();
    let points: Vec<&str> = micropay_relayer::crash::POINTS
        .iter()
        .copied()
        .filter(|point| *point != "top-up-sent")
        .collect();
    // Two payers per point: a stream settled in one run could not settle again in the
    // next before the top-up window has passed.
    let payers = deployment
        .payers(&devnet, 2 * points.len(), 1_000_000, true)
        .await
        .unwrap();
    let payees = deployment.payees(&devnet, 3).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    let sequencer = deployment.sequencer.pubkey();
    let seen: Receipted = Arc::default();

    // Under load, killed at each point in turn, each restart recovering from the last.
    for (point, payers) in points.iter().zip(payers.chunks(2)) {
        let (process, client) = spawn_crashing(&flags, sequencer, point).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tippers = tip_until(client, payers, &payees, seen.clone(), stop.clone());
        killed_at_its_point(process, point).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        while tippers.join_next().await.is_some() {}
    }

    // Between a top-up's send and its confirmation: a lower state of a stream is
    // settled behind the relayer's back, the relayer tops it up and dies.
    let payer = deployment.payer(&devnet, 50_000).await.unwrap();
    let (carol, carol_account) = deployment.payee(&devnet).await.unwrap();
    let (process, client) = spawn_crashing(&flags, sequencer, "top-up-sent").await;
    let first = client
        .tip(&payer.owner, &payer.tab, 0, &carol.pubkey(), 1_000)
        .await
        .unwrap();
    client
        .tip(&payer.owner, &payer.tab, 0, &carol.pubkey(), 2_000)
        .await
        .unwrap();
    deployment
        .settle_outside_relayer(&devnet, &first)
        .await
        .unwrap();
    killed_at_its_point(process, "top-up-sent").await;

    // A clean restart settles everything left, once.
    let (process, client) = spawn(&flags, sequencer).await;
    process.settle_now().unwrap();
    check_settled(&devnet, &deployment, &client, &payees, &seen).await;
    let net = |gross: u64| gross - gross / 100;
    assert_eq!(
        devnet.token_balance(&carol_account).await.unwrap(),
        net(1_000) + net(2_000),
        "the top-up was paid exactly once"
    );
    let data = devnet.rpc().get_account_data(&payer.tab).await.unwrap();
    let tab = *<Tab as AccountLayout>::view(&data).expect("a tab");
    assert_eq!(tab.balance.get(), 50_000 - 3_000);
    assert_eq!(tab.slots[0].last_seq.get(), 2);
    assert!(process.terminate().await.unwrap().success());
}

/// A tmpfs of a few MiB mounted at a directory of its own: a disk that really fills.
struct SmallDisk {
    dir: tempfile::TempDir,
}

/// `program` as root: directly when the tests run as root, else through sudo (as
/// `scripts/test` installs its packages).
fn as_root(program: &str) -> std::process::Command {
    if unsafe { libc::geteuid() } == 0 {
        std::process::Command::new(program)
    } else {
        let mut sudo = std::process::Command::new("sudo");
        sudo.args(["-n", program]);
        sudo
    }
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = as_root("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=1777"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(status.success(), "mounting a tmpfs needs root: {status}");
        Self { dir }
    }

    /// Grows a file until the disk has no room left (again: SQLite frees room when it
    /// truncates its log); deleting the file gives the room back.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.dir.path().join("filler");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&filler)
            .unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(error) => panic!("filling the disk: {error}"),
            }
        }
        let _ = file.write(&[0u8; 1]);
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = as_root("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_refuses_tips_with_store_full_and_intake_resumes_when_room_returns() {
    let devnet = Devnet::start().await.unwrap();
    let deployment = Deployment::create(&devnet, 100).await.unwrap();
    let payers = deployment
        .payers(&devnet, 2, 1_000_000, true)
        .await
        .unwrap();
    let payees = deployment.payees(&devnet, 3).await.unwrap();
    let disk = SmallDisk::mount(8);
    let flags = deployment.relayer_flags(&devnet, disk.dir.path()).unwrap();
    let sequencer = deployment.sequencer.pubkey();
    let (process, client) = spawn(&flags, sequencer).await;
    let seen: Receipted = Arc::default();
    let tip = |n: usize| {
        let (client, payer, payee, seen) = (
            client.clone(),
            &payers[n % payers.len()],
            payees[n % payees.len()],
            seen.clone(),
        );
        async move {
            let (key, slot) = payer.tipper();
            let result = client
                .tip(key, &payer.tab, slot, &payee, 1 + n as u64 % 5)
                .await;
            if let Ok(receipted) = &result {
                note_receipted(&seen, receipted).await;
            }
            result
        }
    };
    for n in 0..20 {
        tip(n)
            .await
            .expect("tips are receipted while there is room");
    }

    // The disk fills, and is kept full: tips go on being receipted while SQLite still
    // has room in its files, then they are refused as store_full, never as an
    // internal error.
    let filler = disk.fill();
    let (mut receipted, mut refused) = (20, 0);
    for n in 20..20_000 {
        match tip(n).await {
            Ok(_) => {
                receipted += 1;
                disk.fill();
            }
            Err(error) => {
                assert_eq!(error.code(), Some(ErrorCode::StoreFull), "{error}");
                refused += 1;
                if refused == 20 {
                    break;
                }
            }
        }
    }
    assert_eq!(refused, 20, "the store never reported the full disk");
    // Every receipt is on disk, as another reader of the file sees it (a connection
    // left inside a failed transaction once answered success for writes it never made).
    let stored: i64 = {
        use sqlx::Connection;
        let url = format!("sqlite://{}/relayer.db?mode=ro", disk.dir.path().display());
        let mut reader = sqlx::SqliteConnection::connect(&url).await.unwrap();
        // A tip is in `tips` or still in the tip log, each once by its key (ADR 0019).
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM (
                 SELECT tab, incarnation, slot, epoch, seq FROM tips
                 UNION SELECT tab, incarnation, slot, epoch, seq FROM tip_log)",
        )
        .fetch_one(&mut reader)
        .await
        .unwrap()
    };
    assert_eq!(stored, receipted, "every receipted tip is stored");
    let metrics = process.metrics().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.contains("code=\"store_full\"") && !line.ends_with(" 0")),
        "store_full refusals are counted"
    );

    // Room returns: intake resumes by itself, and everything receipted settles once.
    std::fs::remove_file(filler).unwrap();
    for n in 0..20 {
        tip(n)
            .await
            .expect("tips are receipted once the disk has room");
    }
    process.settle_now().unwrap();
    check_settled(&devnet, &deployment, &client, &payees, &seen).await;
    assert!(process.terminate().await.unwrap().success());
}
