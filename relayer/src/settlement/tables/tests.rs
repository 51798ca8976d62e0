use std::{collections::HashSet, time::Duration};

use solana_sdk::{pubkey::Pubkey, signer::Signer};

use super::*;
use crate::settlement::testing::Fixture;

fn keys(n: usize) -> Vec<Pubkey> {
    (0..n).map(|_| Pubkey::new_unique()).collect()
}

/// Makes `tables` hold `shared` and `tabs` on the fixture's chain.
async fn ensure(
    fixture: &Fixture,
    tables: &mut Tables,
    shared: &[Pubkey],
    tabs: &[Pubkey],
) -> Result<(), EngineError> {
    tables
        .ensure(&fixture.chain, &fixture.store, &fixture.payer, shared, tabs)
        .await
}

/// Each local table is what the chain holds, owned by `authority`.
fn check_against_chain(fixture: &Fixture, tables: &Tables) {
    for table in tables.all() {
        assert_eq!(
            fixture.chain.table(&table.key),
            Some((Some(fixture.payer.pubkey()), table.addresses.clone()))
        );
    }
}

#[tokio::test]
async fn every_address_gets_a_table_shared_ones_in_each_and_a_restart_reuses_them() {
    let fixture = Fixture::new().await;
    let (shared, tabs) = (keys(5), keys(300));
    let mut tables = Tables::default();
    ensure(&fixture, &mut tables, &shared, &tabs).await.unwrap();
    assert_eq!(tables.all().len(), 2);
    check_against_chain(&fixture, &tables);
    let mut held_tabs: Vec<Pubkey> = Vec::new();
    for table in tables.all() {
        assert!(shared.iter().all(|key| table.addresses.contains(key)));
        held_tabs.extend(table.addresses.iter().filter(|a| !shared.contains(a)));
    }
    held_tabs.sort();
    let mut expected = tabs.clone();
    expected.sort();
    assert_eq!(held_tabs, expected, "each tab in exactly one table");

    // After a restart the tables are read back, and nothing is sent for known addresses.
    let sent = fixture.chain.sent().len();
    let mut restarted = Tables::default();
    ensure(&fixture, &mut restarted, &shared, &tabs)
        .await
        .unwrap();
    assert_eq!(fixture.chain.sent().len(), sent);
    let all = |t: &Tables| -> Vec<(Pubkey, Vec<Pubkey>)> {
        t.all()
            .iter()
            .map(|t| (t.key, t.addresses.clone()))
            .collect()
    };
    assert_eq!(all(&restarted), all(&tables));

    // New tabs go into the last table while it has room: one extension.
    let more = keys(10);
    ensure(&fixture, &mut restarted, &shared, &more)
        .await
        .unwrap();
    assert_eq!(fixture.chain.sent().len(), sent + 1);
    assert_eq!(restarted.all().len(), 2);
    assert!(more
        .iter()
        .all(|k| restarted.all()[1].addresses.contains(k)));
    check_against_chain(&fixture, &restarted);
}

#[tokio::test]
async fn an_extension_that_never_lands_is_not_relied_on_and_is_made_again() {
    let fixture = Fixture::new().await;
    let (shared, tabs) = (keys(3), keys(10));
    let mut tables = Tables::default();
    ensure(&fixture, &mut tables, &shared, &tabs).await.unwrap();

    let lost = keys(4);
    fixture.chain.drop_sends(usize::MAX);
    assert!(ensure(&fixture, &mut tables, &shared, &lost).await.is_err());
    fixture.chain.drop_sends(0);
    ensure(&fixture, &mut tables, &shared, &lost).await.unwrap();
    check_against_chain(&fixture, &tables);
    let held: HashSet<&Pubkey> = tables.all()[0].addresses.iter().collect();
    assert!(lost
        .iter()
        .chain(&tabs)
        .chain(&shared)
        .all(|k| held.contains(k)));
    assert_eq!(
        held.len(),
        tables.all()[0].addresses.len(),
        "no address twice"
    );
}

const DAY: Duration = Duration::from_secs(86_400);

/// Retires what is due; returns the rent the closes returned.
async fn retire(fixture: &Fixture, tables: &mut Tables, idle: Duration) -> u64 {
    tables
        .retire(&fixture.chain, &fixture.store, &fixture.payer, idle)
        .await
        .unwrap()
}

async fn lamports(fixture: &Fixture, key: &Pubkey) -> u64 {
    let account = fixture.chain.accounts(&[*key]).await.unwrap().remove(0);
    account.map_or(0, |account| account.lamports)
}

fn keys_of(tables: &Tables) -> Vec<Pubkey> {
    tables.all().iter().map(|t| t.key).collect()
}

#[tokio::test]
async fn an_idle_table_is_deactivated_then_closed_and_its_tabs_move_to_a_live_one() {
    let fixture = Fixture::new().await;
    let (shared, tabs) = (keys(5), keys(300));
    let mut tables = Tables::default();
    ensure(&fixture, &mut tables, &shared, &tabs).await.unwrap();
    let [busy, idle] = keys_of(&tables)[..] else {
        panic!("two tables")
    };
    let idle_tabs: Vec<Pubkey> = tables.all()[1]
        .addresses
        .iter()
        .filter(|a| !shared.contains(a))
        .copied()
        .collect();

    tokio::time::sleep(Duration::from_millis(60)).await;
    // Settling tabs of the first table keeps it in use.
    ensure(&fixture, &mut tables, &shared, &tabs[..10])
        .await
        .unwrap();
    retire(&fixture, &mut tables, Duration::from_millis(50)).await;
    assert_eq!(keys_of(&tables), [busy], "the idle table is out of use");
    assert_eq!(tables.counts(), (1, 1));
    assert!(fixture.chain.deactivated_at(&idle).is_some());
    assert_eq!(fixture.chain.deactivated_at(&busy), None);

    // Not closed while its deactivation could still be in SlotHashes.
    let before = lamports(&fixture, &fixture.payer.pubkey()).await;
    assert_eq!(retire(&fixture, &mut tables, DAY).await, 0);
    assert!(fixture.chain.table(&idle).is_some());
    fixture.chain.pass_slots(513);
    assert_eq!(
        retire(&fixture, &mut tables, DAY).await,
        crate::settlement::testing::TABLE_RENT
    );
    assert_eq!(fixture.chain.table(&idle), None, "closed");
    assert_eq!(tables.counts(), (1, 0));
    assert_eq!(
        lamports(&fixture, &fixture.payer.pubkey()).await,
        before + crate::settlement::testing::TABLE_RENT,
        "its rent is back"
    );
    assert_eq!(
        fixture
            .store
            .lookup_tables(&fixture.payer.pubkey())
            .await
            .unwrap(),
        [busy]
    );

    // Its tabs settling again go into a live table: a new one, the first being full.
    ensure(&fixture, &mut tables, &shared, &idle_tabs)
        .await
        .unwrap();
    assert_eq!(tables.all().len(), 2);
    assert!(idle_tabs
        .iter()
        .all(|tab| tables.all()[1].addresses.contains(tab)));
    check_against_chain(&fixture, &tables);
}

#[tokio::test]
async fn a_restart_closes_what_was_deactivated_before_it() {
    let fixture = Fixture::new().await;
    let (shared, tabs) = (keys(3), keys(10));
    let mut tables = Tables::default();
    ensure(&fixture, &mut tables, &shared, &tabs).await.unwrap();
    let [table] = keys_of(&tables)[..] else {
        panic!("one table")
    };
    retire(&fixture, &mut tables, Duration::ZERO).await;
    assert!(fixture.chain.deactivated_at(&table).is_some());

    let mut restarted = Tables::default();
    retire(&fixture, &mut restarted, DAY).await;
    assert!(
        restarted.all().is_empty(),
        "a deactivated table is not used"
    );
    assert!(fixture.chain.table(&table).is_some());
    fixture.chain.pass_slots(513);
    retire(&fixture, &mut restarted, DAY).await;
    assert_eq!(fixture.chain.table(&table), None);
    assert!(fixture
        .store
        .lookup_tables(&fixture.payer.pubkey())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_table_another_instance_retires_goes_out_of_use_here() {
    let fixture = Fixture::new().await;
    let (shared, tabs) = (keys(3), keys(10));
    let (mut first, mut second) = (Tables::default(), Tables::default());
    ensure(&fixture, &mut first, &shared, &tabs).await.unwrap();
    ensure(&fixture, &mut second, &shared, &tabs).await.unwrap();
    let [table] = keys_of(&second)[..] else {
        panic!("the first instance's table")
    };
    retire(&fixture, &mut first, Duration::ZERO).await;

    // The second instance's next read of its tables drops it; the tabs get another.
    second.refreshed = None;
    ensure(&fixture, &mut second, &shared, &tabs).await.unwrap();
    assert!(!keys_of(&second).contains(&table));
    assert!(tabs
        .iter()
        .all(|tab| second.all()[0].addresses.contains(tab)));
    check_against_chain(&fixture, &second);

    // Whichever instance closes it, the other forgets it.
    fixture.chain.pass_slots(513);
    retire(&fixture, &mut first, DAY).await;
    retire(&fixture, &mut second, DAY).await;
    assert_eq!(fixture.chain.table(&table), None);
    assert!(second.retiring.is_empty());
    assert_eq!(
        fixture
            .store
            .lookup_tables(&fixture.payer.pubkey())
            .await
            .unwrap(),
        keys_of(&second)
    );
}
