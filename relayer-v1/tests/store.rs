//! One test suite, run against both storage backends: SQLite (always) and PostgreSQL
//! (at `MICROPAY_TEST_POSTGRES_URL`; `./scripts/test` starts a server and requires it).

use std::sync::Arc;

use micropay_protocol::{client::SignedState, EpochState};
use micropay_relayer_v1::store::{EpochStatus, SqlStore, Store};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use sqlx::{postgres::PgConnection, Connection, Executor};

fn signed(state: EpochState, key: &Keypair) -> SignedState {
    SignedState::sign(state, key).unwrap()
}

async fn suite(store: Arc<dyn Store>) {
    let owner = Keypair::new();
    let tab = Pubkey::new_unique();
    let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    assert!(store.latest(&tab).await.unwrap().is_none());

    // First state of an epoch, then one extension; a stale extension loses.
    let s1 = EpochState::new(tab, 2, 7).tip(alice, 10).unwrap();
    assert!(store
        .accept(&signed(s1.clone(), &owner), None, (alice, 10), 1_000)
        .await
        .unwrap());
    assert!(!store
        .accept(&signed(s1.clone(), &owner), None, (alice, 10), 1_001)
        .await
        .unwrap());
    let s2 = s1.tip(bob, 5).unwrap();
    let signed2 = signed(s2.clone(), &owner);
    assert!(store
        .accept(&signed2, Some(1), (bob, 5), 2_000)
        .await
        .unwrap());
    let racing = signed(s1.tip(alice, 1).unwrap(), &owner);
    assert!(!store
        .accept(&racing, Some(1), (alice, 1), 2_001)
        .await
        .unwrap());

    let latest = store.latest(&tab).await.unwrap().unwrap();
    assert_eq!(latest.signed, signed2, "stored state round-trips exactly");
    assert_eq!(
        (latest.status, latest.opened_at_ms),
        (EpochStatus::Open, 1_000)
    );
    assert!(latest.signed.verify());
    assert_eq!(store.open_epochs().await.unwrap().len(), 1);

    // Rotation stops intake for the epoch.
    assert_eq!(store.close_epochs(&[(tab, 7)]).await.unwrap(), [true]);
    assert_eq!(store.close_epochs(&[(tab, 7)]).await.unwrap(), [false]);
    let s3 = s2.tip(alice, 1).unwrap();
    assert!(!store
        .accept(&signed(s3, &owner), Some(2), (alice, 1), 3_000)
        .await
        .unwrap());
    let closed = store.closed(&tab).await.unwrap();
    assert_eq!(closed.len(), 1);
    let (latest, closed_too) = store.intake_view(&tab).await.unwrap();
    assert_eq!(
        (latest.unwrap().signed, closed_too),
        (signed2.clone(), closed.clone())
    );
    assert_eq!(store.all_closed().await.unwrap()[0].signed, signed2);

    // The next epoch starts fresh.
    let next = EpochState::new(tab, 2, 8).tip(bob, 3).unwrap();
    assert!(store
        .accept(&signed(next, &owner), None, (bob, 3), 4_000)
        .await
        .unwrap());
    assert_eq!(store.latest(&tab).await.unwrap().unwrap().epoch(), 8);
    let (latest, closed) = store.intake_view(&tab).await.unwrap();
    assert_eq!(latest.unwrap().epoch(), 8);
    assert_eq!(closed.iter().map(|e| e.epoch()).collect::<Vec<_>>(), [7]);

    // Leases: one instance at a time, until expiry.
    assert!(store.lease(&[(tab, 7)], "a", 5_000, 65_000).await.unwrap()[0]);
    assert!(!store.lease(&[(tab, 7)], "b", 6_000, 66_000).await.unwrap()[0]);
    assert!(
        store.lease(&[(tab, 7)], "a", 6_000, 66_000).await.unwrap()[0],
        "renewal by the holder"
    );
    assert!(
        store
            .lease(&[(tab, 7)], "b", 66_000, 126_000)
            .await
            .unwrap()[0],
        "after expiry"
    );
    assert!(
        !store.lease(&[(tab, 8)], "a", 6_000, 66_000).await.unwrap()[0],
        "open epochs are not leased"
    );

    let tx = solana_sdk::signature::Signature::from([7u8; 64]);
    store.record_settle_tx(&[(tab, 7)], &tx).await.unwrap();
    assert_eq!(store.closed(&tab).await.unwrap()[0].settle_tx, Some(tx));
    assert!(store.all_settled().await.unwrap().is_empty());
    store.finish(&tab, 7, EpochStatus::Settled).await.unwrap();
    assert!(store.closed(&tab).await.unwrap().is_empty());
    // Finishing is one-way.
    store.finish(&tab, 7, EpochStatus::Void).await.unwrap();
    let settled = store.all_settled().await.unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(
        (settled[0].signed.clone(), settled[0].settle_tx),
        (signed2.clone(), Some(tx))
    );

    let tips = store.payee_tips(&alice, 10).await.unwrap();
    assert_eq!(tips.len(), 1);
    assert_eq!((tips[0].amount, tips[0].status.as_str()), (10, "settled"));
    let tips = store.payee_tips(&bob, 10).await.unwrap();
    assert_eq!(tips.iter().map(|t| t.amount).collect::<Vec<_>>(), [3, 5]);
    let settlements = store.payee_settlements(&bob, 10).await.unwrap();
    assert_eq!(settlements.len(), 1);
    assert_eq!((settlements[0].epoch, settlements[0].amount), (7, 5));
    assert_eq!(settlements[0].settle_tx, Some(tx.to_string()));

    let counts = store.counts().await.unwrap();
    assert_eq!(
        (counts.get("settled"), counts.get("open")),
        (Some(&1), Some(&1))
    );

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
    assert!(store
        .lookup_tables(&Pubkey::new_unique())
        .await
        .unwrap()
        .is_empty());

    // Amounts above i64::MAX survive the signed columns.
    let big_tab = Pubkey::new_unique();
    let big = EpochState::new(big_tab, u64::MAX, u64::MAX - 1)
        .tip(alice, u64::MAX)
        .unwrap();
    let big_signed = signed(big, &owner);
    assert!(store
        .accept(&big_signed, None, (alice, u64::MAX), 7_000)
        .await
        .unwrap());
    assert_eq!(
        store.latest(&big_tab).await.unwrap().unwrap().signed,
        big_signed
    );

    group_commit(store).await;
}

/// Many concurrent accepts share commits; for each tab exactly one of several racing
/// first states wins, and every winner's tip is recorded.
async fn group_commit(store: Arc<dyn Store>) {
    let owner = Keypair::new();
    let payee = Pubkey::new_unique();
    let tabs: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    let mut racing = Vec::new();
    for tab in &tabs {
        for amount in 1..=4u64 {
            let state = signed(
                EpochState::new(*tab, 1, 0).tip(payee, amount).unwrap(),
                &owner,
            );
            let store = store.clone();
            racing.push(tokio::spawn(async move {
                store
                    .accept(&state, None, (payee, amount), 9_000)
                    .await
                    .unwrap()
            }));
        }
    }
    let mut won = 0;
    for task in racing {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, tabs.len(), "one winner per tab");
    for tab in &tabs {
        let latest = store.latest(tab).await.unwrap().unwrap();
        assert_eq!(latest.signed.state.seq, 1);
        assert!(store
            .payee_tips(&payee, 1_000)
            .await
            .unwrap()
            .iter()
            .any(|t| t.tab == tab.to_string() && t.amount == latest.signed.state.total));
    }
    assert_eq!(
        store.payee_tips(&payee, 1_000).await.unwrap().len(),
        tabs.len()
    );
}

#[tokio::test]
async fn sqlite_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("relayer.db").display());
    suite(Arc::new(SqlStore::connect(&url).await.unwrap())).await;
    // Everything acknowledged is there after reopening.
    let reopened = SqlStore::connect(&url).await.unwrap();
    assert_eq!(
        reopened.counts().await.unwrap().values().sum::<u64>(),
        3 + 64
    );
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
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .expect("create a test database");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let store = SqlStore::connect(&format!("{base}/{database}"))
        .await
        .unwrap();
    suite(Arc::new(store)).await;
    admin
        .execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str())
        .await
        .expect("drop the test database");
}
