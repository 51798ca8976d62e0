//! Failure paths of the instructions around settlement: config, deposit, withdrawal
//! and closing. Each asserts the error and that nothing changed.

use anchor_lang::error::ErrorCode as AnchorError;
use micropay::{
    errors::MicropayError,
    events::ConfigUpdated,
    state::{MAX_FEE_BPS, MAX_WITHDRAWAL_DELAY, MIN_WITHDRAWAL_DELAY},
    UpdateConfigArgs,
};
use micropay_tests::*;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

#[tokio::test]
async fn init_config_validates_fee_and_delay() {
    let mut env = Env::new(TokenKind::Spl, 0).await;
    let admin = env.admin.insecure_clone();
    let (mint, fee_destination) = (env.mint, env.fee_destination);
    for (fee, delay, expected) in [
        (MAX_FEE_BPS + 1, WITHDRAWAL_DELAY, MicropayError::FeeTooHigh),
        (
            0,
            MIN_WITHDRAWAL_DELAY - 1,
            MicropayError::BadWithdrawalDelay,
        ),
        (
            0,
            MAX_WITHDRAWAL_DELAY + 1,
            MicropayError::BadWithdrawalDelay,
        ),
    ] {
        let config = Keypair::new();
        let ix = env.init_config_ix(config.pubkey(), fee, delay, mint, fee_destination);
        assert_error(env.send(&[ix], &[&admin, &config]).await, expected);
        assert!(env.account(&config.pubkey()).await.is_none());
    }
    // A fee destination of another mint.
    let other_mint = env.create_mint().await;
    let foreign = env
        .create_token_account_for(&other_mint, &admin.pubkey())
        .await;
    let config = Keypair::new();
    let ix = env.init_config_ix(config.pubkey(), 0, WITHDRAWAL_DELAY, mint, foreign);
    assert_anchor_error(
        env.send(&[ix], &[&admin, &config]).await,
        AnchorError::ConstraintTokenMint,
    );
    // The bounds themselves are accepted.
    let config = Keypair::new();
    let ix = env.init_config_ix(
        config.pubkey(),
        MAX_FEE_BPS,
        MAX_WITHDRAWAL_DELAY,
        mint,
        fee_destination,
    );
    env.send(&[ix], &[&admin, &config]).await.unwrap();
}

#[tokio::test]
async fn only_the_admin_updates_the_config() {
    let mut env = Env::new(TokenKind::Spl, 100).await;
    let before = env.config_account().await;
    let new_destination = env.create_token_account(&Pubkey::new_unique()).await;
    let args = UpdateConfigArgs {
        new_admin: None,
        fee_bps: Some(50),
        withdrawal_delay: Some(7_200),
    };

    let stranger = Keypair::new();
    let mut ix = env.update_config_ix(args, new_destination);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert_error(
        env.send(&[ix], &[&stranger]).await,
        MicropayError::ConfigMismatch,
    );

    let vault = env.vault;
    let ix = env.update_config_ix(args, vault);
    let admin = env.admin.insecure_clone();
    assert_error(
        env.send(&[ix], &[&admin]).await,
        MicropayError::ConfigMismatch,
    );

    let too_high = UpdateConfigArgs {
        fee_bps: Some(MAX_FEE_BPS + 1),
        ..args
    };
    let ix = env.update_config_ix(too_high, new_destination);
    assert_error(env.send(&[ix], &[&admin]).await, MicropayError::FeeTooHigh);
    let bad_delay = UpdateConfigArgs {
        withdrawal_delay: Some(0),
        ..args
    };
    let ix = env.update_config_ix(bad_delay, new_destination);
    assert_error(
        env.send(&[ix], &[&admin]).await,
        MicropayError::BadWithdrawalDelay,
    );
    let after = env.config_account().await;
    assert_eq!(
        (after.fee_bps, after.withdrawal_delay, after.fee_destination),
        (
            before.fee_bps,
            before.withdrawal_delay,
            before.fee_destination
        )
    );

    let new_admin = Keypair::new();
    let handover = UpdateConfigArgs {
        new_admin: Some(new_admin.pubkey()),
        ..args
    };
    let tx = env
        .transaction(
            &[env.update_config_ix(handover, new_destination)],
            &[&admin],
        )
        .await;
    let events: Vec<ConfigUpdated> = events_of(&env.simulate_events(tx.clone()).await);
    assert_eq!(
        (events[0].fee_bps, events[0].admin),
        (50, new_admin.pubkey())
    );
    env.ctx.banks_client.process_transaction(tx).await.unwrap();
    let after = env.config_account().await;
    assert_eq!(
        (
            after.admin,
            after.fee_bps,
            after.withdrawal_delay,
            after.fee_destination
        ),
        (new_admin.pubkey(), 50, 7_200, new_destination)
    );
    // The old admin is out.
    let ix = env.update_config_ix(args, new_destination);
    assert_error(
        env.send(&[ix], &[&admin]).await,
        MicropayError::ConfigMismatch,
    );
}

#[tokio::test]
async fn deposit_rejects_zero_wrong_mint_and_wrong_vault() {
    let mut env = Env::new(TokenKind::Spl, 0).await;
    let payer = env.new_payer(10_000, 5_000).await;
    let owner = payer.owner.pubkey();

    let ix = env.deposit_ix(&owner, &payer.tab, &payer.token_account, 0);
    assert_error(
        env.send(&[ix], &[&payer.owner]).await,
        MicropayError::ZeroAmount,
    );

    let other_mint = env.create_mint().await;
    let foreign = env.create_token_account_for(&other_mint, &owner).await;
    let ix = env.deposit_ix(&owner, &payer.tab, &foreign, 1);
    assert_anchor_error(
        env.send(&[ix], &[&payer.owner]).await,
        AnchorError::ConstraintTokenMint,
    );

    let elsewhere = env.create_token_account(&owner).await;
    let mut ix = env.deposit_ix(&owner, &payer.tab, &payer.token_account, 1);
    ix.accounts[3].pubkey = elsewhere;
    assert_error(
        env.send(&[ix], &[&payer.owner]).await,
        MicropayError::ConfigMismatch,
    );

    // Spending someone else's tokens: the token program refuses.
    let thief = Keypair::new();
    env.airdrop(&thief.pubkey(), 10_000_000).await;
    let ix = env.deposit_ix(&thief.pubkey(), &payer.tab, &payer.token_account, 1);
    assert!(env.send(&[ix], &[&thief]).await.is_err());

    assert_eq!(env.tab(&payer.tab).await.balance, 5_000);
    assert_eq!(env.token_balance(&payer.token_account).await, 5_000);
    let vault = env.vault;
    assert_eq!(env.token_balance(&vault).await, 5_000);
}

#[tokio::test]
async fn withdrawal_and_close_rules() {
    let mut env = Env::new(TokenKind::Spl, 0).await;
    let payer = env.new_payer(10_000, 5_000).await;
    let owner = payer.owner.pubkey();
    let stranger = Keypair::new();
    env.airdrop(&stranger.pubkey(), 10_000_000).await;

    let ix = env.request_withdraw_ix(&owner, 5_001);
    assert_error(
        env.send(&[ix], &[&payer.owner]).await,
        MicropayError::InsufficientBalance,
    );
    let ix = env.request_withdraw_ix(&owner, 0);
    assert_error(
        env.send(&[ix], &[&payer.owner]).await,
        MicropayError::ZeroAmount,
    );
    let mut ix = env.request_withdraw_ix(&owner, 1);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        env.send(&[ix], &[&stranger]).await,
        AnchorError::ConstraintSeeds,
    );

    env.send(&[env.request_withdraw_ix(&owner, 2_000)], &[&payer.owner])
        .await
        .unwrap();
    let tab = env.tab(&payer.tab).await;
    env.set_time(tab.withdraw_unlock_at).await;

    // Not into the vault, not by a stranger.
    let vault = env.vault;
    let ix = env.withdraw_ix(&owner, &vault);
    assert_anchor_error(
        env.send(&[ix], &[&payer.owner]).await,
        AnchorError::ConstraintDuplicateMutableAccount,
    );
    let mut ix = env.withdraw_ix(&owner, &payer.token_account);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        env.send(&[ix], &[&stranger]).await,
        AnchorError::ConstraintSeeds,
    );

    // Closing with funds is refused; so is closing by a stranger.
    assert_error(
        env.send(&[env.close_tab_ix(&owner)], &[&payer.owner]).await,
        MicropayError::TabNotEmpty,
    );
    let mut ix = env.close_tab_ix(&owner);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        env.send(&[ix], &[&stranger]).await,
        AnchorError::ConstraintSeeds,
    );

    let tab = env.tab(&payer.tab).await;
    assert_eq!((tab.balance, tab.pending_withdrawal), (5_000, 2_000));

    // The owner withdraws to any account of the mint it chooses.
    let savings = env.create_token_account(&Pubkey::new_unique()).await;
    env.send(&[env.withdraw_ix(&owner, &savings)], &[&payer.owner])
        .await
        .unwrap();
    assert_eq!(env.token_balance(&savings).await, 2_000);
    assert_eq!(env.tab(&payer.tab).await.balance, 3_000);
    assert_eq!(env.token_balance(&vault).await, 3_000);
}
