//! Compute units, bytes and accounts of every instruction on the bytecode, printed as
//! a table: `cargo test -p micropay-tests --test bytecode compute_units -- --nocapture`
//! (`micropay bench` prints the same tables).

use micropay_devnet::compute::{costs_table, instruction_costs, ACCOUNT_LOCKS, PACKET};

#[tokio::test]
async fn compute_units_of_every_instruction() {
    let costs = instruction_costs().await;
    let names: Vec<&str> = costs.iter().map(|c| c.instruction.as_str()).collect();
    for expected in [
        "deposit",
        "withdraw",
        "claim_credit",
        "collect_fees",
        "close_tab",
    ] {
        assert!(names.contains(&expected), "{expected} measured");
    }
    assert!(names.iter().any(|n| n.contains("top-up")));
    for cost in &costs {
        assert!(cost.compute_units > 0, "{}", cost.instruction);
        assert!(cost.bytes <= PACKET && cost.accounts <= ACCOUNT_LOCKS);
    }
    println!("{}", costs_table(&costs));
}
