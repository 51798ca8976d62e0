//! The relayer retires its idle address lookup tables on a real validator: an idle
//! table is deactivated, closed once the chain allows it, its rent back with the
//! sequencer, and settling goes on with a new table. Slots are 50 ms here, so that the
//! 512 slots a deactivated table waits pass in about half a minute.

use solana_address_lookup_table_interface::state::AddressLookupTable;
use solana_client::{
    rpc_config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, UiAccountEncoding},
    rpc_filter::{Memcmp, RpcFilterType},
};

use super::*;

/// Where a lookup table's authority is: type (4), deactivation slot (8), last extended
/// slot (8) and its start index (1), then the `Option` tag (1).
const AUTHORITY_OFFSET: usize = 22;

/// The lookup tables `authority` holds: each with its lamports, deactivation slot and
/// addresses.
async fn tables_of(devnet: &Devnet, authority: &Pubkey) -> Vec<(Pubkey, u64, u64, Vec<Pubkey>)> {
    let filter = RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
        AUTHORITY_OFFSET,
        authority.to_bytes().to_vec(),
    ));
    devnet
        .rpc()
        .get_program_ui_accounts_with_config(
            &solana_address_lookup_table_interface::program::ID,
            RpcProgramAccountsConfig {
                filters: Some(vec![filter]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(UiAccountEncoding::Base64),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(key, account)| {
            let account = account.to_account().expect("base64 data");
            let table = AddressLookupTable::deserialize(&account.data).unwrap();
            (
                key,
                account.lamports,
                table.meta.deactivation_slot,
                table.addresses.to_vec(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_lookup_table_is_closed_and_its_rent_returned() {
    let devnet = Devnet::start_with_short_slots().await.expect("validator");
    let deployment = Deployment::create(&devnet, FEE_BPS)
        .await
        .expect("deployment");
    let dir = tempfile::tempdir().unwrap();
    let mut flags = deployment.relayer_flags(&devnet, dir.path()).unwrap();
    flags.set("--lookup-table-idle-secs", 3);
    let relayer = start(&RelayerArgs::from_flags(flags.args()).unwrap())
        .await
        .expect("relayer");
    let client = RelayerClient::new(
        format!("http://{}", relayer.addr),
        deployment.sequencer.pubkey(),
    );
    let sequencer = deployment.sequencer.pubkey();
    let payers = deployment.payers(&devnet, 2, 10_000, false).await.unwrap();
    let (alice, alice_account) = deployment.payee(&devnet).await.unwrap();

    client
        .tip(&payers[0].owner, &payers[0].tab, 0, &alice.pubkey(), 1_000)
        .await
        .unwrap();
    relayer.settle_now();
    let devnet = &devnet;
    eventually("the first tab settled", || async {
        devnet.token_balance(&alice_account).await.unwrap() == net(1_000)
    })
    .await;
    let tables = tables_of(devnet, &sequencer).await;
    let [(table, rent, u64::MAX, ref addresses)] = tables[..] else {
        panic!("one live table: {tables:?}")
    };
    assert!(addresses.contains(&payers[0].tab));

    // Idle for 3 s, it is deactivated; 512 slots later, closed.
    eventually("the idle table deactivated", || async {
        tables_of(devnet, &sequencer)
            .await
            .iter()
            .any(|(key, _, deactivated_at, _)| *key == table && *deactivated_at != u64::MAX)
    })
    .await;
    let before_close = devnet.rpc().get_balance(&sequencer).await.unwrap();
    eventually("the retired table closed", || async {
        devnet.rpc().get_account(&table).await.is_err()
    })
    .await;
    assert_eq!(
        devnet.rpc().get_balance(&sequencer).await.unwrap(),
        before_close + rent - 5_000,
        "the rent is back, less the close transaction's fee"
    );
    let returned = format!("micropay_lookup_table_rent_returned_lamports_total {rent}");
    let metrics_url = format!("http://{}/metrics", relayer.addr);
    eventually("the returned rent in the metrics", || async {
        let metrics = reqwest::get(&metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics.contains(&returned)
    })
    .await;

    // Settling goes on: the next tab gets a new table.
    client
        .tip(&payers[1].owner, &payers[1].tab, 0, &alice.pubkey(), 2_000)
        .await
        .unwrap();
    relayer.settle_now();
    eventually("the second tab settled", || async {
        devnet.token_balance(&alice_account).await.unwrap() == net(1_000) + net(2_000)
    })
    .await;
    let tables = tables_of(devnet, &sequencer).await;
    assert!(
        matches!(&tables[..], [(key, _, _, addresses)] if *key != table && addresses.contains(&payers[1].tab)),
        "{tables:?}"
    );
    relayer.shutdown().await;
}
