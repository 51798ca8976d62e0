//! Random sequences of deposits, settlements and withdrawals across several tabs,
//! checked against a model after every step.

use micropay::errors::MicropayError;
use micropay_tests::*;
use proptest::prelude::*;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

const TABS: usize = 3;
const PAYEES: usize = 3;
const FUNDS: u64 = 1_000_000;
const FEE_BPS: u64 = 300;

#[derive(Clone, Debug)]
enum Op {
    Deposit {
        tab: usize,
        amount: u64,
    },
    /// One settlement transaction; each `(tab, payee, amount)` is a tip, grouped per tab.
    Settle {
        tips: Vec<(usize, usize, u64)>,
    },
    RequestWithdraw {
        tab: usize,
        amount: u64,
    },
    /// Waits out the delay, then withdraws.
    Withdraw {
        tab: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..TABS, 1..200_000u64).prop_map(|(tab, amount)| Op::Deposit { tab, amount }),
        3 => prop::collection::vec((0..TABS, 0..PAYEES, 1..60_000u64), 1..8)
            .prop_map(|tips| Op::Settle { tips }),
        1 => (0..TABS, 0..150_000u64).prop_map(|(tab, amount)| Op::RequestWithdraw { tab, amount }),
        1 => (0..TABS).prop_map(|tab| Op::Withdraw { tab }),
    ]
}

#[derive(Clone, Copy, Default, Debug)]
struct TabModel {
    balance: u64,
    pending: u64,
    deposited_by_owner: u64,
    /// Sum of every state total the owner signed, whether or not it settled.
    signed: u64,
    settled: u64,
    withdrawn: u64,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn vault_always_equals_the_tabs_and_nothing_pays_more_than_signed(
        ops in prop::collection::vec(op(), 1..12)
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}

async fn run(ops: Vec<Op>) {
    let mut env = Env::new(TokenKind::Spl, FEE_BPS as u16).await;
    let mut payers = Vec::new();
    for _ in 0..TABS {
        payers.push(env.new_payer(FUNDS, 0).await);
    }
    let mut payees = Vec::new();
    for _ in 0..PAYEES {
        payees.push(env.create_token_account(&Pubkey::new_unique()).await);
    }
    let mut model = [TabModel::default(); TABS];
    let mut paid_out = 0u64;
    let mut fees_paid = 0u64;

    for op in ops {
        match op {
            Op::Deposit { tab, amount } => {
                let payer = &payers[tab];
                let owner = payer.owner.pubkey();
                let ix = env.deposit_ix(&owner, &payer.tab, &payer.token_account, amount);
                let result = env.send(&[ix], &[&payer.owner]).await;
                if model[tab].deposited_by_owner + amount <= FUNDS {
                    result.unwrap();
                    model[tab].balance += amount;
                    model[tab].deposited_by_owner += amount;
                } else {
                    assert!(
                        result.is_err(),
                        "deposit beyond the owner's funds succeeded"
                    );
                }
            }
            Op::Settle { tips } => {
                let mut signed = Vec::new();
                let mut totals = [0u64; TABS];
                for tab in 0..TABS {
                    let chain = env.tab(&payers[tab].tab).await;
                    let mut state = payers[tab].epoch_state(&chain);
                    for (_, payee, amount) in tips.iter().filter(|(t, _, _)| *t == tab) {
                        state = state.tip(payees[*payee], *amount).unwrap();
                    }
                    if state.seq > 0 {
                        totals[tab] = state.total;
                        model[tab].signed += state.total;
                        signed.push(sign(state, &payers[tab].owner));
                    }
                }
                let refs: Vec<_> = signed.iter().collect();
                let result = env.settle(&refs).await;
                if (0..TABS).all(|t| totals[t] <= model[t].balance) {
                    result.unwrap();
                    let mut gross = [0u64; PAYEES];
                    for (_, payee, amount) in &tips {
                        gross[*payee] += amount;
                    }
                    fees_paid += gross.iter().map(|g| g * FEE_BPS / 10_000).sum::<u64>();
                    for t in 0..TABS {
                        model[t].balance -= totals[t];
                        model[t].settled += totals[t];
                        paid_out += totals[t];
                    }
                } else {
                    assert_error(result, MicropayError::InsufficientBalance);
                }
            }
            Op::RequestWithdraw { tab, amount } => {
                let payer = &payers[tab];
                let owner = payer.owner.pubkey();
                let result = env
                    .send(&[env.request_withdraw_ix(&owner, amount)], &[&payer.owner])
                    .await;
                if amount == 0 {
                    assert_error(result, MicropayError::ZeroAmount);
                } else if amount > model[tab].balance {
                    assert_error(result, MicropayError::InsufficientBalance);
                } else {
                    result.unwrap();
                    model[tab].pending = amount;
                }
            }
            Op::Withdraw { tab } => {
                let payer = &payers[tab];
                let owner = payer.owner.pubkey();
                let now = env.now().await;
                env.set_time(now + WITHDRAWAL_DELAY).await;
                let ix = env.withdraw_ix(&owner, &payer.token_account);
                let result = env.send(&[ix], &[&payer.owner]).await;
                if model[tab].pending == 0 {
                    assert_error(result, MicropayError::NoPendingWithdrawal);
                } else {
                    result.unwrap();
                    let amount = model[tab].pending.min(model[tab].balance);
                    model[tab].balance -= amount;
                    model[tab].withdrawn += amount;
                    model[tab].pending = 0;
                }
            }
        }
        check(&mut env, &payers, &payees, &model, paid_out, fees_paid).await;
    }
}

async fn check(
    env: &mut Env,
    payers: &[Payer],
    payees: &[Pubkey],
    model: &[TabModel; TABS],
    paid_out: u64,
    fees_paid: u64,
) {
    let mut sum = 0;
    for (payer, model) in payers.iter().zip(model) {
        let tab = env.tab(&payer.tab).await;
        assert_eq!(
            tab.balance, model.balance,
            "tab balance differs from the model"
        );
        assert_eq!(tab.pending_withdrawal, model.pending);
        assert_eq!(tab.settled_total, model.settled);
        assert!(
            tab.settled_total <= model.signed,
            "a tab paid more than its owner signed"
        );
        let wallet = env.token_balance(&payer.token_account).await;
        assert_eq!(wallet, FUNDS - model.deposited_by_owner + model.withdrawn);
        sum += tab.balance;
    }
    let vault = env.vault;
    assert_eq!(
        env.token_balance(&vault).await,
        sum,
        "vault != sum of tab balances"
    );
    let fees = env.token_balance(&env.fee_destination.clone()).await;
    assert_eq!(fees, fees_paid, "fees differ from the per-payee rounding");
    let mut received = fees;
    for payee in payees {
        received += env.token_balance(payee).await;
    }
    assert_eq!(received, paid_out, "payees and fees != everything settled");
}
