//! One test suite, run against both storage backends: SQLite (always) and PostgreSQL
//! (at `MICROPAY_TEST_POSTGRES_URL`; `./scripts/test` starts a server and requires it).

use std::{pin::Pin, sync::Arc};

use futures_util::future::MaybeDone;
use micropay_api::{SettlementStatus, StatusTotals};
use micropay_protocol::{Receipted, SignedStream, StreamState};
use micropay_relayer::{
    domain::{Accepted, EpochKey, StreamKey, StreamStatus},
    store::{Folding, IntakeStore, ReportStore, SettlementStore, SqlStore},
};
use solana_sdk::{
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, VersionedTransaction},
};
use sqlx::{postgres::PgConnection, Connection, Executor};

struct Keys {
    payer: Keypair,
    sequencer: Keypair,
}

impl Keys {
    fn new() -> Self {
        Self {
            payer: Keypair::new(),
            sequencer: Keypair::new(),
        }
    }

    fn receipted(&self, state: StreamState) -> Receipted {
        SignedStream::sign(state, &self.payer)
            .unwrap()
            .receipt(&self.sequencer)
            .unwrap()
    }

    /// `next` as stored after `previous_seq`, adding `tip`.
    fn accepted(
        &self,
        next: &StreamState,
        previous_seq: Option<u32>,
        tip: (Pubkey, u64),
        at_ms: i64,
    ) -> Accepted {
        Accepted {
            receipted: self.receipted(next.clone()),
            previous_seq,
            tip,
            at_ms,
        }
    }
}

/// A signed transaction standing in for a settlement (the store keeps its bytes).
fn settle_tx(payer: &Keypair, lamports: u64) -> VersionedTransaction {
    let ix = solana_sdk::instruction::Instruction::new_with_bytes(
        Pubkey::new_unique(),
        &lamports.to_le_bytes(),
        vec![solana_sdk::instruction::AccountMeta::new(
            payer.pubkey(),
            true,
        )],
    );
    VersionedTransaction::from(Transaction::new_signed_with_payer(
        &[ix],
        Some(&payer.pubkey()),
        &[payer],
        solana_sdk::hash::Hash::new_unique(),
    ))
}

fn sums(status: StreamStatus, epochs: u64, tips: u64, amount: u64) -> StatusTotals {
    StatusTotals {
        status,
        epochs,
        tips,
        amount,
    }
}

/// Stream epochs stored, whatever their status.
async fn epochs_stored(store: &SqlStore) -> u64 {
    let totals = store.totals().await.unwrap();
    totals.epochs.iter().map(|t| t.epochs).sum()
}

async fn suite(store: Arc<SqlStore>) {
    let keys = Keys::new();
    let tab = Pubkey::new_unique();
    let stream = StreamKey { tab, slot: 1 };
    let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    assert!(store.latest(&stream).await.unwrap().is_none());
    assert!(store.tab_epochs(&tab).await.unwrap().is_empty());

    // First state of an epoch, then one extension; a racing state loses.
    let s1 = StreamState::new(tab, 2, 1, 7, 30).tip(alice, 10).unwrap();
    assert!(store
        .accept(keys.accepted(&s1, None, (alice, 10), 1_000))
        .await
        .unwrap());
    assert!(!store
        .accept(keys.accepted(&s1, None, (alice, 10), 1_001))
        .await
        .unwrap());
    let s2 = s1.tip(bob, 5).unwrap();
    let accepted2 = keys.accepted(&s2, Some(1), (bob, 5), 2_000);
    assert!(store.accept(accepted2.clone()).await.unwrap());
    let racing = s1.tip(alice, 1).unwrap();
    assert!(!store
        .accept(keys.accepted(&racing, Some(1), (alice, 1), 2_001))
        .await
        .unwrap());

    let latest = store.latest(&stream).await.unwrap().unwrap();
    assert_eq!(latest.receipted, accepted2.receipted, "round-trips exactly");
    assert_eq!(
        (latest.status, latest.opened_at_ms, latest.updated_at_ms),
        (StreamStatus::Open, 1_000, 2_000)
    );
    assert!(latest.receipted.signed.verify(&keys.payer.pubkey()));
    assert!(latest.receipted.receipt_verifies(&keys.sequencer.pubkey()));
    assert_eq!(store.pending().await.unwrap().len(), 1);

    // Any earlier state of the epoch can be rebuilt (what a top-up names as settled).
    let k7 = EpochKey::of(&s2);
    assert_eq!(store.entries_at(&k7, 1).await.unwrap(), s1.entry_list());
    assert_eq!(store.entries_at(&k7, 2).await.unwrap(), s2.entry_list());

    // Closing stops intake for the epoch.
    assert_eq!(store.close(&[k7]).await.unwrap(), [true]);
    assert_eq!(store.close(&[k7]).await.unwrap(), [false]);
    let s3 = s2.tip(alice, 1).unwrap();
    assert!(!store
        .accept(keys.accepted(&s3, Some(2), (alice, 1), 3_000))
        .await
        .unwrap());

    // The next epoch, and another stream of the same tab; tab_epochs sees both.
    let next = StreamState::new(tab, 2, 1, 8, 30).tip(bob, 3).unwrap();
    assert!(store
        .accept(keys.accepted(&next, None, (bob, 3), 4_000))
        .await
        .unwrap());
    let owner_stream = StreamState::new(tab, 2, 0, 0, 30).tip(bob, 4).unwrap();
    assert!(store
        .accept(keys.accepted(&owner_stream, None, (bob, 4), 4_100))
        .await
        .unwrap());
    assert_eq!(
        store.latest(&stream).await.unwrap().unwrap().state().epoch,
        8
    );
    let epochs: Vec<(u8, u64)> = store
        .tab_epochs(&tab)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.state().slot, e.state().epoch))
        .collect();
    assert_eq!(epochs, [(0, 0), (1, 7), (1, 8)]);

    // A new life of the tab starts its epochs again without meeting the old rows.
    let reborn = StreamState::new(tab, 3, 1, 7, 30).tip(alice, 9).unwrap();
    assert!(store
        .accept(keys.accepted(&reborn, None, (alice, 9), 4_200))
        .await
        .unwrap());
    assert_eq!(
        store
            .latest(&stream)
            .await
            .unwrap()
            .unwrap()
            .state()
            .incarnation,
        3
    );
    assert_eq!(store.entries_at(&k7, 2).await.unwrap(), s2.entry_list());

    // Leases: one instance at a time, until expiry; only closed epochs.
    assert!(store.lease(&[k7], "a", 5_000, 65_000).await.unwrap()[0]);
    assert!(!store.lease(&[k7], "b", 6_000, 66_000).await.unwrap()[0]);
    assert!(
        store.lease(&[k7], "a", 6_000, 66_000).await.unwrap()[0],
        "renewal by the holder"
    );
    assert!(
        store.lease(&[k7], "b", 66_000, 126_000).await.unwrap()[0],
        "after expiry"
    );
    assert!(
        !store
            .lease(&[EpochKey::of(&next)], "a", 6_000, 66_000)
            .await
            .unwrap()[0],
        "open epochs are not leased"
    );

    // A settlement recorded before it is sent is followed after a restart while its
    // epochs are closed; one that failed on chain is unlinked from them.
    let failed = settle_tx(&keys.sequencer, 1);
    store
        .record_settle_tx(&[k7], &failed, 99, 69_000)
        .await
        .unwrap();
    store
        .forget_settle_tx(&[k7], &failed.signatures[0])
        .await
        .unwrap();
    assert!(store.unconfirmed_settlements().await.unwrap().is_empty());
    let sent = settle_tx(&keys.sequencer, 2);
    store
        .record_settle_tx(&[k7], &sent, 120, 69_500)
        .await
        .unwrap();
    let recorded = store.unconfirmed_settlements().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].tx, sent);
    assert_eq!(recorded[0].last_valid_block_height, 120);
    assert_eq!(recorded[0].epochs, vec![k7]);
    let tx = sent.signatures[0];
    store
        .finish(&k7, StreamStatus::Settled, 70_000)
        .await
        .unwrap();
    // Finishing is one-way.
    store.finish(&k7, StreamStatus::Void, 71_000).await.unwrap();
    assert!(store.pending().await.unwrap().iter().all(|e| e.key() != k7));

    // Payees see the newest receipt of each epoch naming them, oldest change first.
    let for_alice = store.payee_receipts(&alice, 0, 10).await.unwrap();
    let seen: Vec<(u64, u64, StreamStatus)> = for_alice
        .iter()
        .map(|e| (e.state().incarnation, e.state().epoch, e.status))
        .collect();
    assert_eq!(
        seen,
        [(3, 7, StreamStatus::Open), (2, 7, StreamStatus::Settled)]
    );
    assert_eq!(for_alice[1].settle_tx, Some(tx));
    assert_eq!(for_alice[1].receipted, accepted2.receipted);
    let for_bob = store.payee_receipts(&bob, 4_050, 10).await.unwrap();
    assert_eq!(
        for_bob.len(),
        2,
        "since_ms filters: owner stream epoch 0 and the settled one"
    );
    assert_eq!(
        store.payee_receipts(&bob, 0, 1).await.unwrap().len(),
        1,
        "limit"
    );
    assert!(store
        .payee_receipts(&Pubkey::new_unique(), 0, 10)
        .await
        .unwrap()
        .is_empty());

    // Reports in sums: epochs by status, the settlement transactions, a payee's tips.
    let totals = store.totals().await.unwrap();
    assert_eq!(
        totals.epochs,
        [
            sums(StreamStatus::Open, 3, 3, 3 + 4 + 9),
            sums(StreamStatus::Settled, 1, 2, 15),
        ]
    );
    assert_eq!(totals.oldest_pending_ms, Some(4_000));
    assert_eq!(totals.settlement_transactions, 2);
    let settlements = store.settlements(0, 10).await.unwrap();
    let seen: Vec<(String, SettlementStatus, i64, u64, u64, u64)> = settlements
        .iter()
        .map(|s| {
            (
                s.signature.clone(),
                s.status,
                s.recorded_at_ms,
                s.streams,
                s.tips,
                s.amount,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                failed.signatures[0].to_string(),
                SettlementStatus::Dropped,
                69_000,
                0,
                0,
                0
            ),
            (tx.to_string(), SettlementStatus::Landed, 69_500, 1, 2, 15),
        ]
    );
    assert_eq!(store.settlements(69_100, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.settlements(0, 1).await.unwrap()[0].recorded_at_ms,
        69_000
    );
    assert_eq!(
        store.payee_totals(&alice).await.unwrap(),
        [
            sums(StreamStatus::Open, 1, 1, 9),
            sums(StreamStatus::Settled, 1, 1, 10)
        ]
    );
    assert_eq!(
        store.payee_totals(&bob).await.unwrap(),
        [
            sums(StreamStatus::Open, 2, 2, 7),
            sums(StreamStatus::Settled, 1, 1, 5)
        ]
    );
    assert!(store
        .payee_totals(&Pubkey::new_unique())
        .await
        .unwrap()
        .is_empty());

    // Lookup tables are remembered per authority, oldest first.
    let (authority, t1, t2) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    store.add_lookup_table(&authority, &t2, 10).await.unwrap();
    store.add_lookup_table(&authority, &t1, 20).await.unwrap();
    store.add_lookup_table(&authority, &t1, 30).await.unwrap();
    assert_eq!(store.lookup_tables(&authority).await.unwrap(), [t2, t1]);
    // ... and forgotten once closed.
    store.remove_lookup_table(&t2).await.unwrap();
    assert_eq!(store.lookup_tables(&authority).await.unwrap(), [t1]);

    // Values above i64::MAX survive the signed columns.
    let big_tab = Pubkey::new_unique();
    let big = StreamState::new(big_tab, u64::MAX, 4, u64::MAX - 1, u16::MAX)
        .tip(alice, u64::MAX)
        .unwrap();
    let big_accepted = keys.accepted(&big, None, (alice, u64::MAX), 7_000);
    assert!(store.accept(big_accepted.clone()).await.unwrap());
    let stored = store
        .latest(&StreamKey {
            tab: big_tab,
            slot: 4,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.receipted, big_accepted.receipted);
    assert_eq!(
        store.entries_at(&EpochKey::of(&big), 1).await.unwrap(),
        big.entry_list()
    );

    group_commit(store.clone(), &keys).await;
    chains_in_one_group(store.clone(), &keys).await;
    a_losing_state_lists_no_payee(store, &keys).await;
}

/// Many concurrent accepts share commits; for each stream exactly one of several
/// racing first states wins, and every winner's tip is recorded.
async fn group_commit(store: Arc<SqlStore>, keys: &Keys) {
    let payee = Pubkey::new_unique();
    let tabs: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    let mut racing = Vec::new();
    for tab in &tabs {
        for amount in 1..=4u64 {
            let state = StreamState::new(*tab, 1, 0, 0, 0)
                .tip(payee, amount)
                .unwrap();
            let accepted = keys.accepted(&state, None, (payee, amount), 9_000);
            let store = store.clone();
            racing.push(tokio::spawn(async move {
                store.accept(accepted).await.unwrap()
            }));
        }
    }
    let mut won = 0;
    for task in racing {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, tabs.len(), "one winner per stream");
    let receipts = store.payee_receipts(&payee, 0, 1_000).await.unwrap();
    assert_eq!(receipts.len(), tabs.len());
    for receipt in receipts {
        let k = receipt.key();
        let entries = store.entries_at(&k, 1).await.unwrap();
        assert_eq!(
            entries,
            receipt.state().entry_list(),
            "the winner's tip is the one recorded"
        );
    }
}

/// Two first states of one epoch queued in one group, to different payees: the payee
/// of the one that loses is listed nowhere.
async fn a_losing_state_lists_no_payee(store: Arc<SqlStore>, keys: &Keys) {
    let (tab, winner, loser) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let first = StreamState::new(tab, 1, 0, 0, 0).tip(winner, 7).unwrap();
    let racing = StreamState::new(tab, 1, 0, 0, 0).tip(loser, 7).unwrap();
    let writes = [
        store.queue(keys.accepted(&first, None, (winner, 7), 9_500)),
        store.queue(keys.accepted(&racing, None, (loser, 7), 9_500)),
    ];
    let mut written = Vec::new();
    for write in writes {
        written.push(write.written().await.unwrap());
    }
    assert_eq!(written, [true, false]);
    assert_eq!(store.payee_receipts(&winner, 0, 10).await.unwrap().len(), 1);
    assert!(store
        .payee_receipts(&loser, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.payee_totals(&loser).await.unwrap().is_empty());
}

/// Several states of one epoch queued together are written as if one by one in the
/// order they came: each later state sees the one before it written, and a stale
/// state between them is refused. 50 epochs: each wave's statements carry 14 rows
/// of nulls after its 50 states, which must write nothing.
async fn chains_in_one_group(store: Arc<SqlStore>, keys: &Keys) {
    let payee = Pubkey::new_unique();
    let tabs: Vec<Pubkey> = (0..50).map(|_| Pubkey::new_unique()).collect();
    let mut queued = Vec::new();
    let mut expected = Vec::new();
    for tab in &tabs {
        let first = StreamState::new(*tab, 1, 0, 0, 0).tip(payee, 1).unwrap();
        let second = first.tip(payee, 2).unwrap();
        let stale = first.tip(payee, 5).unwrap();
        let third = second.tip(payee, 3).unwrap();
        for (state, previous, tip, wins) in [
            (&first, None, 1, true),
            (&second, Some(1), 2, true),
            (&stale, Some(1), 5, false),
            (&third, Some(2), 3, true),
        ] {
            queued.push(MaybeDone::Future(store.accept(keys.accepted(
                state,
                previous,
                (payee, tip),
                9_500,
            ))));
            expected.push(wins);
        }
    }
    // The first poll queues a state: all are queued in order before any is awaited.
    for accept in &mut queued {
        let _ = futures_util::poll!(Pin::new(accept));
    }
    let mut written = Vec::new();
    for mut accept in queued {
        (&mut accept).await;
        written.push(Pin::new(&mut accept).take_output().unwrap().unwrap());
    }
    assert_eq!(written, expected);
    for tab in &tabs {
        let third = StreamState::new(*tab, 1, 0, 0, 0)
            .tip(payee, 1)
            .and_then(|s| s.tip(payee, 2))
            .and_then(|s| s.tip(payee, 3))
            .unwrap();
        let stored = store
            .latest(&EpochKey::of(&third).stream)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.receipted, keys.receipted(third.clone()));
        assert_eq!(
            store.entries_at(&EpochKey::of(&third), 2).await.unwrap(),
            vec![(payee, 3)],
            "the stale state's tip is not recorded"
        );
    }
    // Only each epoch's first tip lists the payee; the report still sums every tip.
    assert_eq!(
        store.payee_totals(&payee).await.unwrap(),
        [sums(StreamStatus::Open, 50, 150, 50 * (1 + 2 + 3))]
    );
}

#[tokio::test]
async fn sqlite_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("relayer.db").display());
    suite(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
    // Reopening runs no migration twice, and everything acknowledged is there.
    let reopened = SqlStore::connect(&url).await.unwrap();
    assert_eq!(epochs_stored(&reopened).await, 5 + 64 + 50 + 1);

    let upgraded = format!("sqlite://{}", dir.path().join("previous.db").display());
    from_the_previous_schema(&upgraded, "sqlite").await;

    let logged = format!("sqlite://{}", dir.path().join("tip-log.db").display());
    the_tip_log(&logged).await;
    let folding = format!("sqlite://{}", dir.path().join("folding.db").display());
    the_writer_folds_the_log(&folding).await;
}

/// SQLite's WAL stays bounded while the store takes commits back to back: a
/// checkpoint must catch up with the writer so that a later commit can start the WAL
/// over. (A checkpointer beside a busy writer never catches up: the WAL grew by about
/// 50 MB a second under the benchmark, docs/adr/0009.)
#[tokio::test]
async fn sqlite_wal_stays_bounded_under_back_to_back_commits() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relayer.db");
    let store = Arc::new(
        SqlStore::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap(),
    );
    let keys = Arc::new(Keys::new());
    let payee = Pubkey::new_unique();
    // Eight writers, so that commits follow each other with no pause between them.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (store, keys) = (store.clone(), keys.clone());
            tokio::spawn(async move {
                for _ in 0..750 {
                    let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
                        .tip(payee, 1)
                        .unwrap();
                    assert!(store
                        .accept(keys.accepted(&state, None, (payee, 1), 1))
                        .await
                        .unwrap());
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let wal = std::fs::metadata(dir.path().join("relayer.db-wal"))
        .unwrap()
        .len();
    // The store checkpoints at 8,192 pages (32 MiB); a group adds a few dozen frames
    // past it. Unchecked, these commits write about 50 MiB.
    assert!(wal < 40 << 20, "the WAL grew to {wal} bytes");
}

#[tokio::test]
async fn postgres_backend() {
    let Ok(url) = std::env::var("MICROPAY_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("MICROPAY_REQUIRE_POSTGRES").is_none(),
            "MICROPAY_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: set MICROPAY_TEST_POSTGRES_URL (./scripts/test does) to run the PostgreSQL suite");
        return;
    };
    // A database of its own, so that runs never see each other's rows.
    let database = format!(
        "micropay_test_{}",
        Keypair::new().pubkey().to_string().to_lowercase()
    );
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("connect to PostgreSQL");
    create_database(&mut admin, &database).await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let database_url = format!("{base}/{database}");
    suite(Arc::new(SqlStore::connect(&database_url).await.unwrap())).await;
    let reopened = SqlStore::connect(&database_url).await.unwrap();
    assert_eq!(epochs_stored(&reopened).await, 5 + 64 + 50 + 1);
    drop(reopened);
    drop_database(&mut admin, &database).await;

    let previous = format!("{database}_previous");
    create_database(&mut admin, &previous).await;
    from_the_previous_schema(&format!("{base}/{previous}"), "postgres").await;
    drop_database(&mut admin, &previous).await;

    let logged = format!("{database}_log");
    create_database(&mut admin, &logged).await;
    the_tip_log(&format!("{base}/{logged}")).await;
    drop_database(&mut admin, &logged).await;

    let folding = format!("{database}_folding");
    create_database(&mut admin, &folding).await;
    the_writer_folds_the_log(&format!("{base}/{folding}")).await;
    drop_database(&mut admin, &folding).await;
}

async fn create_database(admin: &mut PgConnection, database: &str) {
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .expect("create a test database");
}

async fn drop_database(admin: &mut PgConnection, database: &str) {
    admin
        .execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str())
        .await
        .expect("drop the test database");
}

/// Rows in a table of the store at `url`, read beside the store.
async fn rows_in(url: &str, table: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

/// Rows in the tip log and in `tips`.
async fn tip_rows(url: &str) -> (i64, i64) {
    (rows_in(url, "tip_log").await, rows_in(url, "tips").await)
}

/// Tips read the same from the tip log, from `tips` after a fold, and from both; a tip
/// logged twice (an identical state stored again) counts once, before and after.
async fn the_tip_log(url: &str) {
    let keeps_logged = Folding {
        after_tips: usize::MAX,
        when_idle_for: None,
    };
    let store = SqlStore::connect_with(url, keeps_logged).await.unwrap();
    let keys = Keys::new();
    let (tab, alice, bob) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let s1 = StreamState::new(tab, 1, 0, 3, 0).tip(alice, 10).unwrap();
    let s2 = s1.tip(bob, 5).unwrap();
    let s3 = s2.tip(alice, 1).unwrap();
    assert!(store
        .accept(keys.accepted(&s1, None, (alice, 10), 100))
        .await
        .unwrap());
    assert!(!store
        .accept(keys.accepted(&s1, None, (alice, 10), 101))
        .await
        .unwrap());
    assert!(store
        .accept(keys.accepted(&s2, Some(1), (bob, 5), 102))
        .await
        .unwrap());
    assert!(store
        .accept(keys.accepted(&s3, Some(2), (alice, 1), 103))
        .await
        .unwrap());
    let epoch = EpochKey::of(&s3);
    let alice_totals = sums(StreamStatus::Open, 1, 2, 11);
    // s1's tip is logged twice: once stored, once again with its identical state.
    assert_eq!(tip_rows(url).await, (4, 0));
    reads_tips(&store, &[&s1, &s2, &s3], (&alice, alice_totals.clone())).await;

    store.fold_tip_log().await.unwrap();
    assert_eq!(tip_rows(url).await, (0, 3));
    reads_tips(&store, &[&s1, &s2, &s3], (&alice, alice_totals.clone())).await;

    // Tips on both sides, and a folded tip logged again.
    let s4 = s3.tip(bob, 2).unwrap();
    for at in [104, 105] {
        store
            .accept(keys.accepted(&s4, Some(3), (bob, 2), at))
            .await
            .unwrap();
    }
    store.fold_tip_log().await.unwrap();
    assert!(!store
        .accept(keys.accepted(&s4, Some(3), (bob, 2), 106))
        .await
        .unwrap());
    // Read with the folded tip logged again, then folded.
    for logged_and_folded in [(1, 4), (0, 4)] {
        assert_eq!(tip_rows(url).await, logged_and_folded);
        reads_tips(
            &store,
            &[&s1, &s2, &s3, &s4],
            (&alice, alice_totals.clone()),
        )
        .await;
        reads_tips(&store, &[&s4], (&bob, sums(StreamStatus::Open, 1, 2, 7))).await;
        store.fold_tip_log().await.unwrap();
    }

    // What a store left logged is read, and folded, by the next one to open it.
    let s5 = s4.tip(alice, 4).unwrap();
    assert!(store
        .accept(keys.accepted(&s5, Some(4), (alice, 4), 107))
        .await
        .unwrap());
    drop(store);
    let reopened = SqlStore::connect(url).await.unwrap();
    assert_eq!(
        reopened.entries_at(&epoch, 5).await.unwrap(),
        s5.entry_list()
    );
    wait_for_empty_log(url).await;
    assert_eq!(
        reopened.entries_at(&epoch, 5).await.unwrap(),
        s5.entry_list()
    );
}

/// The writer folds by itself: after its count of tips, and when idle.
async fn the_writer_folds_the_log(url: &str) {
    let folding = Folding {
        after_tips: 3,
        when_idle_for: None,
    };
    let store = SqlStore::connect_with(url, folding).await.unwrap();
    let keys = Keys::new();
    let payee = Pubkey::new_unique();
    let mut state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0);
    for seq in 0..3u32 {
        state = state.tip(payee, 1).unwrap();
        let previous = (seq > 0).then_some(seq);
        assert!(store
            .accept(keys.accepted(&state, previous, (payee, 1), 1))
            .await
            .unwrap());
    }
    wait_for_empty_log(url).await;
    assert_eq!(rows_in(url, "tips").await, 3);
    drop(store);

    let idle = Folding {
        after_tips: usize::MAX,
        when_idle_for: Some(std::time::Duration::from_millis(20)),
    };
    let store = SqlStore::connect_with(url, idle).await.unwrap();
    state = state.tip(payee, 1).unwrap();
    assert!(store
        .accept(keys.accepted(&state, Some(3), (payee, 1), 2))
        .await
        .unwrap());
    wait_for_empty_log(url).await;
    assert_eq!(rows_in(url, "tips").await, 4);
}

/// Each state's entries rebuilt from its epoch's tips, and a payee's totals.
async fn reads_tips(store: &SqlStore, states: &[&StreamState], payee: (&Pubkey, StatusTotals)) {
    for state in states {
        assert_eq!(
            store
                .entries_at(&EpochKey::of(state), state.seq)
                .await
                .unwrap(),
            state.entry_list()
        );
    }
    assert_eq!(store.payee_totals(payee.0).await.unwrap(), [payee.1]);
}

async fn wait_for_empty_log(url: &str) {
    for _ in 0..500 {
        if rows_in(url, "tip_log").await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the tip log was never folded");
}

/// A store created by the previous version (every migration but the newest), holding
/// a settled epoch and its settlement: opening it migrates it, and what it held reads
/// back whole.
async fn from_the_previous_schema(url: &str, backend: &str) {
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let previous = tempfile::tempdir().unwrap();
    for file in &files[..files.len() - 1] {
        std::fs::copy(file, previous.path().join(file.file_name().unwrap())).unwrap();
    }
    sqlx::any::install_default_drivers();
    let url_rwc = if backend == "sqlite" {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    };
    let pool = sqlx::AnyPool::connect(&url_rwc).await.unwrap();
    sqlx::migrate::Migrator::new(previous.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();

    // What the previous version wrote: an epoch settled by a recorded transaction.
    let keys = Keys::new();
    let (tab, alice) = (Pubkey::new_unique(), Pubkey::new_unique());
    let state = StreamState::new(tab, 1, 0, 4, 30).tip(alice, 25).unwrap();
    let receipted = keys.receipted(state.clone());
    let tx = settle_tx(&keys.sequencer, 3);
    let signature = tx.signatures[0].to_string();
    let mut entries = alice.to_bytes().to_vec();
    entries.extend_from_slice(&25u64.to_le_bytes());
    sqlx::query(
        "INSERT INTO stream_epochs (tab, incarnation, slot, epoch, seq, fee_bps, total, entries,
            signature, receipt, status, opened_at, updated_at, settle_tx)
         VALUES ($1, 1, 0, 4, 1, 30, 25, $2, $3, $4, 'settled', 100, 200, $5)",
    )
    .bind(tab.to_string())
    .bind(entries)
    .bind(receipted.signed.signature.to_vec())
    .bind(receipted.receipt.to_vec())
    .bind(&signature)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tips (tab, incarnation, slot, epoch, seq, payee, amount, accepted_at)
         VALUES ($1, 1, 0, 4, 1, $2, 25, 100)",
    )
    .bind(tab.to_string())
    .bind(alice.to_string())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO payee_epochs (payee, tab, incarnation, slot, epoch) VALUES ($1, $2, 1, 0, 4)",
    )
    .bind(alice.to_string())
    .bind(tab.to_string())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO settlement_txs (signature, tx, last_valid_block_height, created_at)
         VALUES ($1, $2, 50, 150)",
    )
    .bind(&signature)
    .bind(bincode::serialize(&tx).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = SqlStore::connect(url).await.unwrap();
    let latest = store
        .latest(&StreamKey { tab, slot: 0 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.receipted, receipted);
    assert_eq!(latest.status, StreamStatus::Settled);
    assert_eq!(latest.settle_tx, Some(tx.signatures[0]));
    assert_eq!(
        store.entries_at(&EpochKey::of(&state), 1).await.unwrap(),
        state.entry_list()
    );
    let settlements = store.settlements(0, 10).await.unwrap();
    assert_eq!(settlements.len(), 1);
    assert_eq!(
        (
            settlements[0].status,
            settlements[0].streams,
            settlements[0].amount
        ),
        (SettlementStatus::Landed, 1, 25)
    );
    assert_eq!(
        store.payee_totals(&alice).await.unwrap(),
        [sums(StreamStatus::Settled, 1, 1, 25)]
    );
    let receipts = store.payee_receipts(&alice, 0, 10).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].receipted, receipted);
    assert!(store
        .payee_receipts(&Pubkey::new_unique(), 0, 10)
        .await
        .unwrap()
        .is_empty());
}
