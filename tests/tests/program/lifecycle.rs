use micropay::{
    errors::MicropayError,
    events::{Deposited, PayeePaid, TabSettled, Withdrawn},
};
use micropay_tests::*;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

#[tokio::test]
async fn settle_discriminator_matches_the_program() {
    use anchor_lang::Discriminator;
    assert_eq!(
        protocol::settle::SETTLE_DISCRIMINATOR,
        micropay::instruction::Settle::DISCRIMINATOR
    );
}

#[tokio::test]
async fn tab_lifecycle_spl_token() {
    tab_lifecycle(TokenKind::Spl).await;
}

#[tokio::test]
async fn tab_lifecycle_token_2022() {
    tab_lifecycle(TokenKind::Token2022).await;
}

/// Open, deposit, tips signed off-chain, settle, fees, withdraw after the delay
/// (refused before it), close, and reopen as a new incarnation.
async fn tab_lifecycle(token: TokenKind) {
    let mut env = Env::new(token, 250).await;
    let payer = env.new_payer(1_000_000, 600_000).await;
    assert_eq!(env.token_balance(&payer.token_account).await, 400_000);
    assert_eq!(env.token_balance(&env.vault.clone()).await, 600_000);
    let tab = env.tab(&payer.tab).await;
    assert_eq!((tab.balance, tab.epoch, tab.incarnation), (600_000, 0, 0));
    assert_eq!(tab.owner, payer.owner.pubkey());

    // A top-up by someone else emits a deposit event.
    let friend = env.new_payer(50_000, 0).await;
    let top_up = env.deposit_ix(
        &friend.owner.pubkey(),
        &payer.tab,
        &friend.token_account,
        50_000,
    );
    let tx = env.transaction(&[top_up], &[&friend.owner]).await;
    let deposits: Vec<Deposited> = events_of(&env.simulate_events(tx.clone()).await);
    assert_eq!(deposits.len(), 1);
    assert_eq!((deposits[0].amount, deposits[0].balance), (50_000, 650_000));
    env.ctx.banks_client.process_transaction(tx).await.unwrap();

    let creator_a = env.create_token_account(&Pubkey::new_unique()).await;
    let creator_b = env.create_token_account(&Pubkey::new_unique()).await;

    // Three tips, each re-signing the whole epoch state; only the last is submitted.
    let state = payer
        .epoch_state(&tab)
        .tip(creator_a, 1_000)
        .unwrap()
        .tip(creator_b, 2_500)
        .unwrap()
        .tip(creator_a, 333)
        .unwrap();
    assert_eq!((state.seq, state.total), (3, 3_833));
    let signed = sign(state, &payer.owner);
    let ixs = env.settle_ixs(&[&signed]).unwrap();
    let tx = env.transaction(&ixs, &[]).await;
    let events = env.simulate_events(tx.clone()).await;
    let settled: Vec<TabSettled> = events_of(&events);
    assert_eq!(settled.len(), 1);
    assert_eq!(
        (
            settled[0].tab,
            settled[0].epoch,
            settled[0].seq,
            settled[0].total
        ),
        (payer.tab, 0, 3, 3_833)
    );
    assert_eq!(settled[0].signer, payer.owner.pubkey());
    let paid: Vec<PayeePaid> = events_of(&events);
    assert_eq!(paid.len(), 2);
    env.ctx.banks_client.process_transaction(tx).await.unwrap();

    // 2.5% fee, rounded down per netted payee credit.
    let fee_a = 1_333 * 250 / 10_000;
    let fee_b = 2_500 * 250 / 10_000;
    assert_eq!(env.token_balance(&creator_a).await, 1_333 - fee_a);
    assert_eq!(env.token_balance(&creator_b).await, 2_500 - fee_b);
    assert_eq!(
        env.token_balance(&env.fee_destination.clone()).await,
        fee_a + fee_b
    );
    let tab = env.tab(&payer.tab).await;
    assert_eq!(
        (tab.balance, tab.epoch, tab.settled_total),
        (650_000 - 3_833, 1, 3_833)
    );
    assert_eq!(env.token_balance(&env.vault.clone()).await, tab.balance);

    // Ask for everything back; a payee can still settle during the delay.
    let owner = payer.owner.pubkey();
    env.send(
        &[env.request_withdraw_ix(&owner, tab.balance)],
        &[&payer.owner],
    )
    .await
    .unwrap();
    let late_tip = sign(
        payer.epoch_state(&tab).tip(creator_b, 10_000).unwrap(),
        &payer.owner,
    );
    env.settle(&[&late_tip]).await.unwrap();
    let withdraw = env.withdraw_ix(&owner, &payer.token_account);
    assert_error(
        env.send(std::slice::from_ref(&withdraw), &[&payer.owner])
            .await,
        MicropayError::WithdrawalLocked,
    );
    let tab = env.tab(&payer.tab).await;
    env.set_time(tab.withdraw_unlock_at - 1).await;
    assert_error(
        env.send(std::slice::from_ref(&withdraw), &[&payer.owner])
            .await,
        MicropayError::WithdrawalLocked,
    );
    env.set_time(tab.withdraw_unlock_at).await;
    let remaining = tab.balance;
    assert_eq!(remaining, 650_000 - 3_833 - 10_000);
    let tx = env
        .transaction(std::slice::from_ref(&withdraw), &[&payer.owner])
        .await;
    let withdrawn: Vec<Withdrawn> = events_of(&env.simulate_events(tx.clone()).await);
    assert_eq!((withdrawn[0].amount, withdrawn[0].balance), (remaining, 0));
    env.ctx.banks_client.process_transaction(tx).await.unwrap();
    assert_eq!(
        env.token_balance(&payer.token_account).await,
        400_000 + remaining
    );
    assert_eq!(env.token_balance(&env.vault.clone()).await, 0);
    assert_error(
        env.send(&[withdraw], &[&payer.owner]).await,
        MicropayError::NoPendingWithdrawal,
    );

    // Close returns the rent; reopening starts a new incarnation at the same address.
    let lamports_before = env.account(&owner).await.unwrap().lamports;
    env.send(&[env.close_tab_ix(&owner)], &[&payer.owner])
        .await
        .unwrap();
    assert!(env.account(&payer.tab).await.is_none());
    assert!(env.account(&owner).await.unwrap().lamports > lamports_before);
    env.send(&[env.open_tab_ix(&owner)], &[&payer.owner])
        .await
        .unwrap();
    let reopened = env.tab(&payer.tab).await;
    // The friend's tab took incarnation 1.
    assert_eq!(
        (reopened.incarnation, reopened.epoch, reopened.balance),
        (2, 0, 0)
    );
    let deposit = env.deposit_ix(&owner, &payer.tab, &payer.token_account, 100_000);
    env.send(&[deposit], &[&payer.owner]).await.unwrap();

    // A state signed for the old incarnation at the same epoch number cannot settle.
    let old_life = sign(
        protocol::EpochState::new(payer.tab, 0, 0)
            .tip(creator_a, 5)
            .unwrap(),
        &payer.owner,
    );
    assert_error(
        env.settle(&[&old_life]).await,
        MicropayError::IncarnationMismatch,
    );
    assert_eq!(env.tab(&payer.tab).await.balance, 100_000);
}

/// Several tabs paying overlapping payees in one transaction: one token transfer per
/// distinct payee (plus one for the fees), every balance exact to the unit.
#[tokio::test]
async fn one_settlement_nets_overlapping_payees() {
    let mut env = Env::new(TokenKind::Spl, 100).await;
    let payers = [
        env.new_payer(100_000, 100_000).await,
        env.new_payer(100_000, 100_000).await,
        env.new_payer(100_000, 100_000).await,
    ];
    let mut creators = Vec::new();
    for _ in 0..3 {
        creators.push(env.create_token_account(&Pubkey::new_unique()).await);
    }
    let (a, b, c) = (creators[0], creators[1], creators[2]);
    let plan: [&[(Pubkey, u64)]; 3] = [
        &[(a, 1_001), (b, 2_002), (a, 7)],
        &[(b, 3_003), (c, 4_004)],
        &[(a, 5_005), (c, 6_006), (b, 1)],
    ];
    let mut signed = Vec::new();
    for (payer, tips) in payers.iter().zip(plan) {
        let tab = env.tab(&payer.tab).await;
        let mut state = payer.epoch_state(&tab);
        for (payee, amount) in tips {
            state = state.tip(*payee, *amount).unwrap();
        }
        signed.push(sign(state, &payer.owner));
    }
    let refs: Vec<_> = signed.iter().collect();
    let ixs = env.settle_ixs(&refs).unwrap();
    let tx = env.transaction(&ixs, &[]).await;
    let inner = env.simulate_inner(tx.clone()).await;
    let transfers = inner
        .iter()
        .filter(|(program, data)| *program == spl_token_interface::ID && data.first() == Some(&12))
        .count();
    assert_eq!(
        transfers,
        3 + 1,
        "one transfer_checked per payee plus the fees"
    );
    let paid: Vec<PayeePaid> = events_of(&env.simulate_events(tx.clone()).await);
    assert_eq!(paid.len(), 3);
    env.ctx.banks_client.process_transaction(tx).await.unwrap();

    let gross = [1_001 + 7 + 5_005, 2_002 + 3_003 + 1, 4_004 + 6_006];
    let mut fees = 0;
    for (creator, gross) in creators.iter().zip(gross) {
        let fee = gross * 100 / 10_000;
        fees += fee;
        assert_eq!(env.token_balance(creator).await, gross - fee);
    }
    assert_eq!(env.token_balance(&env.fee_destination.clone()).await, fees);
    let totals = [1_001 + 2_002 + 7, 3_003 + 4_004, 5_005 + 6_006 + 1];
    let mut sum = 0;
    for (payer, total) in payers.iter().zip(totals) {
        let tab = env.tab(&payer.tab).await;
        assert_eq!((tab.balance, tab.epoch), (100_000 - total, 1));
        sum += tab.balance;
    }
    assert_eq!(env.token_balance(&env.vault.clone()).await, sum);
}
