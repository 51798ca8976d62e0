//! `micropay demo` end to end with small numbers, on the program's bytecode, its report
//! checked against the chain independently of how the report was computed.

use std::path::Path;

use micropay_client::{accounts, Deployment as Loaded};
use micropay_devnet::demo::{self, DemoArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_report_matches_the_chain() {
    let args = DemoArgs {
        payers: 5,
        payees: 3,
        tips: 400,
        clients: 4,
        max_tip: "0.01".into(),
        fee_bps: 250,
        web: false,
        listen: "127.0.0.1:0".parse().unwrap(),
    };
    let relayer_program = Path::new(env!("CARGO_BIN_EXE_relayer-under-test"));
    let demo = demo::run(&args, relayer_program, true)
        .await
        .expect("the demo runs");
    let report = &demo.report;
    let rpc = demo.devnet.rpc();

    assert_eq!(report.intake.accepted, 400);
    assert_eq!(report.intake.failed, 0);
    let settlement = &report.settlement;
    assert_eq!(settlement.tips, 400, "every receipted tip settled");
    assert_eq!(settlement.unsettled, 0);
    assert_eq!(settlement.streams, 5, "one stream epoch per payer");
    assert!(settlement.transactions >= 1);
    assert_eq!(
        settlement.tips_per_transaction,
        400.0 / settlement.transactions as f64
    );
    assert!(settlement.fee_lamports >= 5_000 * settlement.transactions as u64);
    assert!(settlement.compute_units_per_stream > 10_000.0);
    assert!(report.sequencer_lamports >= settlement.fee_lamports);
    // The settlement used a lookup table of at least its 5 tabs and the 7 accounts every
    // settlement shares; the sequencer paid its rent and holds it.
    let table_rent = (128 + 56 + 32 * 12) * 6_960;
    assert!(
        settlement.table_rent_lamports >= table_rent
            && settlement.table_rent_lamports + settlement.fee_lamports
                <= report.sequencer_lamports,
        "{} lamports of table rent, {} spent",
        settlement.table_rent_lamports,
        report.sequencer_lamports
    );

    // Payees: each associated token account holds exactly what the report says, net
    // of the fee every state signed.
    let deployment = Loaded::load(&rpc, &demo.deployment.config).await.unwrap();
    assert_eq!(settlement.payees.len(), demo.payees.len());
    let mut paid = 0;
    for (wallet, payout) in demo.payees.iter().zip(&settlement.payees) {
        assert_eq!(payout.wallet, wallet.to_string());
        let balance = accounts::token_account(&rpc, &deployment.associated(wallet))
            .await
            .unwrap()
            .unwrap()
            .amount;
        assert_eq!(balance, payout.on_chain);
        assert_eq!(balance, payout.expected);
        assert!(payout.expected <= payout.gross);
        assert!(payout.gross - payout.expected <= payout.gross * 250 / 10_000);
        paid += balance;
    }
    assert!(settlement.payouts_match);

    // Tabs were debited exactly what was tipped; the fees owed are the rest; the vault
    // holds the remaining balances and the fees.
    let mut remaining = 0;
    for payer in &demo.payers {
        let tab = accounts::tab(&rpc, &payer.tab).await.unwrap().unwrap();
        remaining += tab.balance.get();
    }
    let deposited: u64 = demo.payers.iter().map(|p| p.deposit).sum();
    assert_eq!(deposited - remaining, settlement.tipped);
    let fees_owed = deployment.config.fees_owed.get();
    assert_eq!(paid + fees_owed, settlement.tipped);
    let vault = accounts::token_account(&rpc, &deployment.vault())
        .await
        .unwrap()
        .unwrap()
        .amount;
    assert_eq!(vault, remaining + fees_owed);

    let human = demo::human(report);
    assert!(human.contains("400 tips receipted"), "{human}");
    assert!(
        human.contains("Every payee holds on chain exactly"),
        "{human}"
    );
}
