//! `micropay demo` end to end with small numbers, its report checked against the chain
//! independently of how the report was computed.

use micropay_cli::demo::{self, DemoArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_report_matches_the_chain() {
    let args = DemoArgs {
        payers: 5,
        payees: 3,
        tips: 400,
        clients: 4,
        max_tip: "0.01".into(),
        fee_bps: 250,
    };
    let demo = demo::run(&args, true).await.expect("the demo runs");
    let report = &demo.report;
    let local = &demo.local;

    assert_eq!(report.intake.accepted, 400);
    assert_eq!(report.intake.failed, 0);
    let settlement = &report.settlement;
    assert_eq!(settlement.tips, 400, "every accepted tip settled");
    assert!(settlement.transactions >= 1);
    assert_eq!(
        settlement.tips_per_transaction,
        400.0 / settlement.transactions as f64
    );
    assert!(settlement.fee_lamports >= 5_000 * settlement.transactions as u64);

    // Payees: the chain holds exactly what the report says, net of the fee.
    assert_eq!(settlement.payees.len(), demo.payees.len());
    let mut paid = 0;
    for (payee, payout) in demo.payees.iter().zip(&settlement.payees) {
        assert_eq!(payout.payee, payee.to_string());
        let balance = local.token_balance(payee).await.unwrap();
        assert_eq!(balance, payout.on_chain);
        assert_eq!(balance, payout.expected);
        assert!(payout.expected <= payout.gross);
        assert!(payout.gross - payout.expected <= payout.gross * 250 / 10_000);
        paid += balance;
    }
    assert!(settlement.payouts_match);

    // Tabs: what they were debited is what was tipped; the fee account got the rest;
    // the vault holds exactly the remaining balances.
    let mut debited = 0;
    let mut remaining = 0;
    for payer in &demo.payers {
        let tab = local.tab(&payer.tab).await.unwrap();
        assert_eq!(tab.balance + tab.settled_total, payer.deposit);
        debited += tab.settled_total;
        remaining += tab.balance;
    }
    assert_eq!(debited, settlement.tipped);
    let fees = local
        .token_balance(&local.deployment.fee_destination)
        .await
        .unwrap();
    assert_eq!(paid + fees, settlement.tipped);
    assert_eq!(
        local.token_balance(&local.deployment.vault).await.unwrap(),
        remaining
    );

    let human = demo::human(report);
    assert!(human.contains("400 tips accepted"), "{human}");
    assert!(
        human.contains("Every payee's on-chain balance equals"),
        "{human}"
    );
}
