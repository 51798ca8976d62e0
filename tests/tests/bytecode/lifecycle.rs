//! A config, a funded tab, a settlement paying one payee and crediting another,
//! the credit claimed, fees collected, and the unspent balance withdrawn.

use micropay_devnet::bytecode::*;
use micropay_interface::{client as builders, event::AnyEvent, MicropayError};
use solana_sdk::signer::Signer;

async fn lifecycle(token: TokenKind) {
    let mut env = Env::new(token).await;
    let config = env.config_state().await;
    assert_eq!(config.mint, env.mint);
    assert_eq!(config.params.sequencer, env.sequencer.pubkey());
    assert_ne!(
        config.deployment_id, [0; 32],
        "deployment id from SlotHashes"
    );

    let payer = env.new_payer(1_000_000, 600_000).await;
    let tab = env.tab(&payer.tab).await;
    assert_eq!(tab.balance.get(), 600_000);
    assert_eq!(tab.owner, payer.owner.pubkey());
    assert_eq!(
        tab.slots[0].key,
        payer.owner.pubkey(),
        "slot 0 is the owner's stream"
    );
    // Point 2: incarnations come from this cluster's deployment id and the tab counter,
    // so the same config keypair on another cluster signs for other incarnations.
    let digest =
        solana_sha256_hasher::hashv(&[&config.deployment_id, &0u64.to_le_bytes()]).to_bytes();
    assert_eq!(
        tab.incarnation.get(),
        u64::from_le_bytes(digest[..8].try_into().unwrap())
    );
    assert_eq!(env.vault_balance().await, 600_000);

    // One payee can receive; the other closed its token account and is credited.
    let alice = env.new_payee().await;
    let bob = env.new_payee().await;
    env.close_token_account(&bob.token_account, &bob.wallet)
        .await;
    let entries = sorted(vec![
        (alice.wallet.pubkey(), 100_000),
        (bob.wallet.pubkey(), 50_000),
    ]);
    let message = env.open_state(&payer.tab, 0, 7, &entries).await;
    let mut bob_payee = bob.settle_payee();
    bob_payee.pass_wallet = true;
    let sequencer = env.sequencer.insecure_clone();
    let outcome = env
        .settle(
            &sequencer,
            &[item(&message, &payer.owner, &entries)],
            &[alice.settle_payee(), bob_payee],
        )
        .await
        .expect("settle");
    println!(
        "settle, 1 stream, 2 payees (one credited): {} CU",
        outcome.compute_units
    );

    // 1% fee on each payee's amount.
    assert_eq!(env.token_balance(&alice.token_account).await, 99_000);
    let credit = env.credit(&bob.wallet.pubkey()).await.expect("credit");
    assert_eq!(credit.amount.get(), 49_500);
    assert_eq!(credit.rent_payer, sequencer.pubkey());
    let tab = env.tab(&payer.tab).await;
    assert_eq!(tab.balance.get(), 450_000);
    assert_eq!(tab.slots[0].epoch.get(), 1, "the stream's epoch advanced");
    assert_eq!(tab.slots[0].last_seq.get(), 7);
    assert_eq!(env.config_state().await.fees_owed.get(), 1_500);
    env.assert_vault_invariant(&[payer.tab], &[bob.wallet.pubkey()])
        .await;
    let settled: Vec<_> = outcome
        .events
        .iter()
        .filter_map(|event| match event {
            AnyEvent::StreamSettled(settled) => Some(*settled),
            _ => None,
        })
        .collect();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].paid.get(), 150_000);
    assert_eq!(settled[0].tab, payer.tab);
    let paid = outcome
        .events
        .iter()
        .filter(|event| matches!(event, AnyEvent::PayeePaid(paid) if paid.credited == 1 && paid.net.get() == 49_500))
        .count();
    assert_eq!(paid, 1, "the credited payee's event");

    // Bob claims his credit into a new account; the settler gets the rent back.
    let bob_new = env.create_token_account(&bob.wallet.pubkey()).await;
    let sequencer_lamports = env.lamports(&sequencer.pubkey()).await;
    let credit_address = builders::credit_address(&env.config, &bob.wallet.pubkey());
    let credit_rent = env.lamports(&credit_address).await;
    let token_program = token.program_id();
    let claim = builders::claim_credit(
        &bob.wallet.pubkey(),
        &env.payout(&bob_new, &token_program),
        &sequencer.pubkey(),
    );
    env.send(&[claim], &[&bob.wallet])
        .await
        .expect("claim_credit");
    assert_eq!(env.token_balance(&bob_new).await, 49_500);
    assert!(
        env.credit(&bob.wallet.pubkey()).await.is_none(),
        "credit closed"
    );
    assert_eq!(
        env.lamports(&sequencer.pubkey()).await,
        sequencer_lamports + credit_rent
    );

    // Fees go to a token account of the fee destination.
    let admin = env.admin.pubkey();
    let fee_account = env.create_token_account(&admin).await;
    let collect = builders::collect_fees(&env.payout(&fee_account, &token_program));
    env.send(&[collect], &[]).await.expect("collect_fees");
    assert_eq!(env.token_balance(&fee_account).await, 1_500);
    assert_eq!(env.config_state().await.fees_owed.get(), 0);
    let collect = builders::collect_fees(&env.payout(&fee_account, &token_program));
    assert_error(env.send(&[collect], &[]).await, MicropayError::NoFees);

    // Withdraw: requested, then only after the delay.
    let owner = payer.owner.insecure_clone();
    let request = builders::request_withdraw(&owner.pubkey(), &env.config, 1_000_000);
    env.send(&[request], &[&owner])
        .await
        .expect("request_withdraw");
    let withdraw = builders::withdraw(
        &owner.pubkey(),
        &env.payout(&payer.token_account, &token_program),
    );
    assert_error(
        env.send(std::slice::from_ref(&withdraw), &[&owner]).await,
        MicropayError::WithdrawalLocked,
    );
    assert_eq!(
        env.tab(&payer.tab).await.balance.get(),
        450_000,
        "nothing moved"
    );
    env.advance_time(WITHDRAWAL_DELAY).await;
    env.send(std::slice::from_ref(&withdraw), &[&owner])
        .await
        .expect("withdraw");
    assert_eq!(
        env.token_balance(&payer.token_account).await,
        400_000 + 450_000
    );
    assert_eq!(env.tab(&payer.tab).await.balance.get(), 0);
    assert_error(
        env.send(&[withdraw], &[&owner]).await,
        MicropayError::NoPendingWithdrawal,
    );
    env.assert_vault_invariant(&[payer.tab], &[]).await;
}

#[tokio::test]
async fn lifecycle_with_spl_token() {
    lifecycle(TokenKind::Spl).await;
}

#[tokio::test]
async fn lifecycle_with_token_2022() {
    lifecycle(TokenKind::Token2022).await;
}

/// A stranger's dust deposit cannot block closing: close_tab withdraws everything.
#[tokio::test]
async fn close_tab_takes_a_strangers_dust_too() {
    let mut env = Env::new(TokenKind::Spl).await;
    let payer = env.new_payer(100_000, 100_000).await;
    let stranger = env.new_payer(10, 0).await;
    let dust = env.deposit_ix(
        &stranger.owner.pubkey(),
        &payer.tab,
        &stranger.token_account,
        10,
    );
    env.send(&[dust], &[&stranger.owner])
        .await
        .expect("anyone may deposit");
    let owner = payer.owner.insecure_clone();
    let request = builders::request_withdraw(&owner.pubkey(), &env.config, 100_000);
    env.send(&[request], &[&owner]).await.unwrap();
    env.advance_time(WITHDRAWAL_DELAY).await;
    let token_program = TokenKind::Spl.program_id();
    let destination = payer.token_account;
    let close = builders::close_tab(&owner.pubkey(), &env.payout(&destination, &token_program));
    let lamports_before = env.lamports(&owner.pubkey()).await;
    let tab_rent = env.lamports(&payer.tab).await;
    env.send(&[close], &[&owner]).await.expect("close_tab");
    assert_eq!(env.token_balance(&destination).await, 100_010);
    assert!(env.account(&payer.tab).await.is_none(), "tab closed");
    assert_eq!(
        env.lamports(&owner.pubkey()).await,
        lamports_before + tab_rent
    );
    assert_eq!(env.vault_balance().await, 0);
}

/// Someone pre-funds the tab's address: opening still works (create or adopt).
#[tokio::test]
async fn open_tab_adopts_a_prefunded_address() {
    let mut env = Env::new(TokenKind::Spl).await;
    let owner = solana_sdk::signature::Keypair::new();
    env.airdrop(&owner.pubkey(), 1_000_000_000).await;
    let tab = builders::tab_address(&env.config, &owner.pubkey());
    // Enough to be rent-exempt as an empty account, not enough for a tab.
    env.airdrop(&tab, 1_000_000).await;
    let config = env.config;
    env.send(&[builders::open_tab(&owner.pubkey(), &config)], &[&owner])
        .await
        .expect("open_tab adopts the pre-funded address");
    assert_eq!(env.tab(&tab).await.owner, owner.pubkey());
}

/// Every PDA is created or adopted: a config address, a vault address and a credit
/// address that someone funded first do not block anything.
#[tokio::test]
async fn prefunded_config_vault_and_credit_addresses_are_adopted() {
    let mut env = Env::without_config(TokenKind::Spl).await;
    let mint = env.create_mint(&[]).await;
    env.mint = mint;
    let config = solana_sdk::signature::Keypair::new();
    env.airdrop(&config.pubkey(), 1_000_000).await;
    env.airdrop(&builders::vault_address(&config.pubkey()), 1_000_000)
        .await;
    let params = env.params();
    env.init_config(&config, &mint, &params)
        .await
        .expect("init_config adopts");
    env.config = config.pubkey();
    assert_eq!(env.vault_balance().await, 0, "the vault is a token account");

    let payer = env.new_payer(10_000, 10_000).await;
    let payee = env.new_payee().await;
    env.close_token_account(&payee.token_account, &payee.wallet)
        .await;
    let credit = builders::credit_address(&env.config, &payee.wallet.pubkey());
    env.airdrop(&credit, 1_000_000).await;
    let entries = vec![(payee.wallet.pubkey(), 1_000)];
    let message = env.open_state(&payer.tab, 0, 1, &entries).await;
    let sequencer = env.sequencer.insecure_clone();
    let settle_payee = builders::SettlePayee {
        pass_wallet: true,
        ..payee.settle_payee()
    };
    env.settle(
        &sequencer,
        &[item(&message, &payer.owner, &entries)],
        &[settle_payee],
    )
    .await
    .expect("credit adopted");
    assert_eq!(
        env.credit(&payee.wallet.pubkey())
            .await
            .unwrap()
            .amount
            .get(),
        990
    );
}
