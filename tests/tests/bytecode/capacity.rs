//! Compute units, bytes and accounts of settlements on the bytecode: the fans shape
//! (one tip per payer, a payee each) at 1, 4 and the most streams that fit one
//! transaction with a lookup table, and the worst case for `MAX_ENTRIES`.
//! `cargo test -p micropay-tests --test bytecode capacity -- --nocapture` prints them.

use micropay_interface::{
    client::{self as builders, SettleItem, SettlePayee},
    MAX_ENTRIES,
};
use micropay_tests::bytecode::*;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

const PACKET: usize = 1_232;
const ACCOUNT_LOCKS: usize = 64;

struct Measured {
    streams: usize,
    compute_units: u64,
    bytes: usize,
    accounts: usize,
}

/// Settles `streams` one-tip states of distinct payers to distinct payees, if the
/// transaction fits; otherwise its bytes and accounts.
async fn fans(env: &mut Env, streams: usize) -> Result<Measured, (usize, usize)> {
    let mut items: Vec<SettleItem> = Vec::new();
    let mut payees: Vec<SettlePayee> = Vec::new();
    for _ in 0..streams {
        let payer = env.new_payer(10_000, 10_000).await;
        let payee = env.new_payee().await;
        let entries = vec![(payee.wallet.pubkey(), 1_000)];
        let message = env.open_state(&payer.tab, 0, 1, &entries).await;
        items.push(item(&message, &payer.owner, &entries));
        payees.push(payee.settle_payee());
    }
    measure(env, &items, &payees).await
}

async fn measure(
    env: &mut Env,
    items: &[SettleItem],
    payees: &[SettlePayee],
) -> Result<Measured, (usize, usize)> {
    let sequencer = env.sequencer.insecure_clone();
    let settle = builders::settle(
        &builders::SettleAccounts {
            settler: &sequencer.pubkey(),
            config: &env.config,
            mint: &env.mint,
            token_program: &env.token.program_id(),
        },
        items,
        payees,
    )
    .unwrap();
    let ixs = [
        ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
        settle,
    ];
    let (result, bytes, accounts) = env.send_v0(&sequencer, &ixs).await;
    if bytes > PACKET || accounts > ACCOUNT_LOCKS {
        return Err((bytes, accounts));
    }
    // Past 1.4M compute units the transaction fails: that is a limit too.
    let outcome = result.map_err(|_| (bytes, accounts))?;
    Ok(Measured {
        streams: items.len(),
        compute_units: outcome.compute_units,
        bytes,
        accounts,
    })
}

#[tokio::test]
async fn capacity_of_a_settlement_on_the_bytecode() {
    let mut env = Env::new(TokenKind::Spl).await;
    println!(
        "| streams | payees | CU | CU/stream | bytes (v0 + table) | accounts | fee lamports/tip |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut most = 0;
    for streams in [1, 4, 8].into_iter().chain(9..=24) {
        let measured = match fans(&mut env, streams).await {
            Ok(measured) => measured,
            Err((bytes, accounts)) => {
                println!("{streams} streams do not fit: {bytes} bytes, {accounts} accounts");
                break;
            }
        };
        most = streams;
        {
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.0} |",
                measured.streams,
                measured.streams,
                measured.compute_units,
                measured.compute_units / measured.streams as u64,
                measured.bytes,
                measured.accounts,
                5_000.0 / measured.streams as f64
            );
        }
    }
    println!("most one-tip streams per settlement: {most}");
    assert!(most >= 4, "a settlement fits at least 4 streams");
}

/// The worst case `MAX_ENTRIES` was chosen for: a top-up carrying old and new entries
/// for `MAX_ENTRIES` payees, every payee passing its wallet, no lookup table.
#[tokio::test]
async fn the_worst_case_top_up_fits_one_transaction_without_a_table() {
    let mut env = Env::new(TokenKind::Spl).await;
    let payer = env.new_payer(10_000_000, 10_000_000).await;
    let mut payees = Vec::new();
    for _ in 0..MAX_ENTRIES {
        payees.push(env.new_payee().await);
    }
    let low: Vec<(Pubkey, u64)> = sorted(
        payees
            .iter()
            .map(|payee| (payee.wallet.pubkey(), 1_000))
            .collect(),
    );
    let high: Vec<(Pubkey, u64)> = low
        .iter()
        .map(|(wallet, amount)| (*wallet, amount + 1))
        .collect();
    let settle_payees: Vec<SettlePayee> = payees
        .iter()
        .map(|payee| SettlePayee {
            pass_wallet: true,
            ..payee.settle_payee()
        })
        .collect();
    let message = env.open_state(&payer.tab, 0, 1, &low).await;
    let sequencer = env.sequencer.insecure_clone();
    env.settle(
        &sequencer,
        &[item(&message, &payer.owner, &low)],
        &settle_payees,
    )
    .await
    .expect("low state");
    let incarnation = env.tab(&payer.tab).await.incarnation.get();
    let message = stream_message(&payer.tab, incarnation, 0, 0, 2, &high);
    let mut top_up = item(&message, &payer.owner, &high);
    top_up.previous = Some(low);
    top_up.receipt = Some(env.receipt(&message));
    let settle = builders::settle(
        &builders::SettleAccounts {
            settler: &sequencer.pubkey(),
            config: &env.config,
            mint: &env.mint,
            token_program: &env.token.program_id(),
        },
        &[top_up],
        &settle_payees,
    )
    .unwrap();
    // Under the default 200k compute-unit limit: no compute-budget instruction.
    let ixs = [settle];
    let message = solana_sdk::message::Message::new(&ixs, Some(&sequencer.pubkey()));
    let tx = solana_sdk::transaction::Transaction::new_unsigned(message);
    let bytes = bincode::serialize(&tx).unwrap().len();
    let accounts = tx.message.account_keys.len();
    let outcome = env
        .send(&ixs, &[&sequencer])
        .await
        .expect("worst-case top-up");
    println!(
        "worst-case top-up ({MAX_ENTRIES} payees, wallets passed, receipt, no table): {bytes} bytes, {accounts} accounts, {} CU",
        outcome.compute_units
    );
    assert!(bytes <= PACKET, "{bytes} bytes");
    assert!(accounts <= ACCOUNT_LOCKS);
}
