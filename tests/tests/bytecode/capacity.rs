//! Compute units, bytes and accounts of settlements on the bytecode: the fans shape
//! (one tip per payer, a payee each) at 1, 4 and the most streams that fit one
//! transaction with a lookup table, and the worst case for `MAX_ENTRIES`.
//! `cargo test -p micropay-tests --test bytecode capacity -- --nocapture` prints them.

use micropay_devnet::compute::{settlement_capacity, ACCOUNT_LOCKS, PACKET};

#[tokio::test]
async fn capacity_of_a_settlement_on_the_bytecode() {
    let capacity = settlement_capacity().await;
    for row in &capacity.fans {
        println!(
            "{} streams: {} CU ({} per stream), {} bytes, {} accounts",
            row.streams,
            row.compute_units,
            row.compute_units / row.streams as u64,
            row.bytes,
            row.accounts
        );
        assert!(row.bytes <= PACKET && row.accounts <= ACCOUNT_LOCKS);
    }
    let (streams, bytes, accounts) = capacity.first_misfit;
    println!("{streams} streams do not fit: {bytes} bytes, {accounts} accounts");
    assert!(bytes > PACKET || accounts > ACCOUNT_LOCKS);
    // The fans target: at least 12 one-tip streams per settlement (at most 417
    // lamports of fee per tip).
    assert!(
        capacity.most_streams() >= 12,
        "{} streams fit",
        capacity.most_streams()
    );
    let worst = &capacity.worst_top_up;
    println!(
        "worst-case top-up: {} bytes, {} accounts, {} CU",
        worst.bytes, worst.accounts, worst.compute_units
    );
    assert!(worst.bytes <= PACKET, "{} bytes", worst.bytes);
    assert!(worst.accounts <= ACCOUNT_LOCKS);
}
