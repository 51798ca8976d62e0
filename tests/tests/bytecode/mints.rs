//! Failure 4 of v1: any mint was accepted. Only Token-2022 extensions that cannot
//! move, hook, pause, re-create or tax away the vault's tokens pass; memo-required
//! payee accounts get their memo.

use micropay_devnet::bytecode::*;
use micropay_interface::{client as builders, MicropayError};
use solana_sdk::{signature::Keypair, signer::Signer};
use spl_token_2022_interface::{
    extension::{self, ExtensionType},
    instruction as token_instruction,
};

fn t22() -> solana_sdk::pubkey::Pubkey {
    spl_token_2022_interface::ID
}

fn refused_extensions() -> Vec<(&'static str, MintExtension)> {
    let someone = Keypair::new().pubkey();
    vec![
        (
            "permanent delegate",
            MintExtension {
                kind: ExtensionType::PermanentDelegate,
                init: Box::new(move |mint| {
                    token_instruction::initialize_permanent_delegate(&t22(), mint, &someone)
                        .unwrap()
                }),
            },
        ),
        (
            "transfer hook",
            MintExtension {
                kind: ExtensionType::TransferHook,
                init: Box::new(move |mint| {
                    extension::transfer_hook::instruction::initialize(
                        &t22(),
                        mint,
                        Some(someone),
                        Some(someone),
                    )
                    .unwrap()
                }),
            },
        ),
        (
            "mint close authority",
            MintExtension {
                kind: ExtensionType::MintCloseAuthority,
                init: Box::new(move |mint| {
                    token_instruction::initialize_mint_close_authority(&t22(), mint, Some(&someone))
                        .unwrap()
                }),
            },
        ),
        (
            "non-transferable",
            MintExtension {
                kind: ExtensionType::NonTransferable,
                init: Box::new(|mint| {
                    token_instruction::initialize_non_transferable_mint(&t22(), mint).unwrap()
                }),
            },
        ),
        (
            "default account state",
            MintExtension {
                kind: ExtensionType::DefaultAccountState,
                init: Box::new(|mint| {
                    extension::default_account_state::instruction::initialize_default_account_state(
                        &t22(),
                        mint,
                        &spl_token_2022_interface::state::AccountState::Initialized,
                    )
                    .unwrap()
                }),
            },
        ),
        (
            "pausable",
            MintExtension {
                kind: ExtensionType::Pausable,
                init: Box::new(move |mint| {
                    extension::pausable::instruction::initialize(&t22(), mint, &someone).unwrap()
                }),
            },
        ),
        (
            "transfer fee with an authority",
            MintExtension {
                kind: ExtensionType::TransferFeeConfig,
                init: Box::new(move |mint| {
                    extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &t22(),
                        mint,
                        Some(&someone),
                        None,
                        100,
                        1_000_000,
                    )
                    .unwrap()
                }),
            },
        ),
    ]
}

#[tokio::test]
async fn mints_with_dangerous_extensions_are_refused() {
    let mut env = Env::without_config(TokenKind::Token2022).await;
    for (name, extension) in refused_extensions() {
        let mint = env.create_mint(&[extension]).await;
        let config = Keypair::new();
        let params = env.params();
        let result = env.init_config(&config, &mint, &params).await;
        assert_error(result, MicropayError::UnsupportedMint);
        assert!(
            env.account(&config.pubkey()).await.is_none(),
            "{name}: nothing created"
        );
    }
}

#[tokio::test]
async fn a_fixed_transfer_fee_and_metadata_are_accepted_and_deposits_count_what_arrived() {
    let mut env = Env::without_config(TokenKind::Token2022).await;
    let mint = env
        .create_mint(&[
            MintExtension {
                kind: ExtensionType::TransferFeeConfig,
                init: Box::new(|mint| {
                    extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &t22(),
                        mint,
                        None,
                        None,
                        100,
                        1_000_000,
                    )
                    .unwrap()
                }),
            },
            MintExtension {
                kind: ExtensionType::MetadataPointer,
                init: Box::new(|mint| {
                    extension::metadata_pointer::instruction::initialize(
                        &t22(),
                        mint,
                        None,
                        Some(*mint),
                    )
                    .unwrap()
                }),
            },
        ])
        .await;
    env.mint = mint;
    let config = Keypair::new();
    let params = env.params();
    env.init_config(&config, &mint, &params)
        .await
        .expect("accepted");
    env.config = config.pubkey();
    let payer = env.new_payer(100_000, 10_000).await;
    assert_eq!(
        env.tab(&payer.tab).await.balance.get(),
        9_900,
        "1% transfer fee withheld"
    );
    assert_eq!(env.vault_balance().await, 9_900);
}

/// Point 5: a payee whose Token-2022 account requires memos is paid (with a memo).
#[tokio::test]
async fn a_memo_required_payee_is_paid_with_a_memo() {
    let mut env = Env::new(TokenKind::Token2022).await;
    let payer = env.new_payer(100_000, 100_000).await;
    let wallet = Keypair::new();
    let account = env
        .create_token_account_with(&wallet.pubkey(), &[ExtensionType::MemoTransfer])
        .await;
    let enable = extension::memo_transfer::instruction::enable_required_transfer_memos(
        &t22(),
        &account,
        &wallet.pubkey(),
        &[],
    )
    .unwrap();
    env.send(&[enable], &[&wallet])
        .await
        .expect("require memos");
    let entries = vec![(wallet.pubkey(), 5_000)];
    let message = env.open_state(&payer.tab, 0, 1, &entries).await;
    let sequencer = env.sequencer.insecure_clone();
    let payee = builders::SettlePayee {
        wallet: wallet.pubkey(),
        token_account: account,
        pass_wallet: false,
    };
    env.settle(
        &sequencer,
        &[item(&message, &payer.owner, &entries)],
        &[payee],
    )
    .await
    .expect("settled with a memo");
    assert_eq!(env.token_balance(&account).await, 4_950);
    assert!(
        env.credit(&wallet.pubkey()).await.is_none(),
        "paid, not credited"
    );
}
