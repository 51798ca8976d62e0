use std::collections::HashSet;

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
