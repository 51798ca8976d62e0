//! Compute units of every instruction on the bytecode, printed as a table:
//! `cargo test -p micropay-tests --test bytecode compute_units -- --nocapture`.

use micropay_interface::client as builders;
use micropay_tests::bytecode::*;
use solana_sdk::{signature::Keypair, signer::Signer};

#[tokio::test]
async fn compute_units_of_every_instruction() {
    let mut rows: Vec<(&str, u64)> = Vec::new();
    let mut env = Env::without_config(TokenKind::Spl).await;
    let mint = env.create_mint(&[]).await;
    env.mint = mint;
    let config = Keypair::new();
    let params = env.params();
    rows.push((
        "init_config",
        env.init_config(&config, &mint, &params)
            .await
            .unwrap()
            .compute_units,
    ));
    env.config = config.pubkey();

    let owner = Keypair::new();
    env.airdrop(&owner.pubkey(), 1_000_000_000).await;
    let source = env.create_token_account(&owner.pubkey()).await;
    env.mint_to(&source, 1_000_000).await;
    let config = env.config;
    let open = builders::open_tab(&owner.pubkey(), &config);
    rows.push((
        "open_tab",
        env.send(&[open], &[&owner]).await.unwrap().compute_units,
    ));
    let tab = builders::tab_address(&config, &owner.pubkey());
    let deposit = env.deposit_ix(&owner.pubkey(), &tab, &source, 500_000);
    rows.push((
        "deposit",
        env.send(&[deposit], &[&owner]).await.unwrap().compute_units,
    ));
    let session = Keypair::new();
    let expires = env.now().await + 86_400;
    let add = builders::add_signer(
        &owner.pubkey(),
        &config,
        1,
        &session.pubkey(),
        expires,
        100_000,
    );
    rows.push((
        "add_signer",
        env.send(&[add], &[&owner]).await.unwrap().compute_units,
    ));

    let closed = env.new_payee().await;
    env.close_token_account(&closed.token_account, &closed.wallet)
        .await;
    let open_payee = env.new_payee().await;
    let entries = sorted(vec![
        (closed.wallet.pubkey(), 1_000),
        (open_payee.wallet.pubkey(), 1_000),
    ]);
    let message = env.open_state(&tab, 1, 1, &entries).await;
    let sequencer = env.sequencer.insecure_clone();
    let credited = builders::SettlePayee {
        pass_wallet: true,
        ..closed.settle_payee()
    };
    let outcome = env
        .settle(
            &sequencer,
            &[item(&message, &session, &entries)],
            &[open_payee.settle_payee(), credited],
        )
        .await
        .unwrap();
    rows.push((
        "settle: 1 stream, 2 payees, one credited (creates the credit)",
        outcome.compute_units,
    ));

    let remove = builders::remove_signer(&owner.pubkey(), &config, 1);
    rows.push((
        "remove_signer",
        env.send(&[remove], &[&owner]).await.unwrap().compute_units,
    ));
    let token_program = TokenKind::Spl.program_id();
    let destination = env.create_token_account(&closed.wallet.pubkey()).await;
    let claim = builders::claim_credit(
        &closed.wallet.pubkey(),
        &env.payout(&destination, &token_program),
        &sequencer.pubkey(),
    );
    rows.push((
        "claim_credit",
        env.send(&[claim], &[&closed.wallet])
            .await
            .unwrap()
            .compute_units,
    ));
    let admin = env.admin.pubkey();
    let fees_to = env.create_token_account(&admin).await;
    let collect = builders::collect_fees(&env.payout(&fees_to, &token_program));
    rows.push((
        "collect_fees",
        env.send(&[collect], &[]).await.unwrap().compute_units,
    ));
    let request = builders::request_withdraw(&owner.pubkey(), &config, 100_000);
    rows.push((
        "request_withdraw",
        env.send(&[request], &[&owner]).await.unwrap().compute_units,
    ));
    env.advance_time(WITHDRAWAL_DELAY).await;
    let withdraw = builders::withdraw(&owner.pubkey(), &env.payout(&source, &token_program));
    rows.push((
        "withdraw",
        env.send(&[withdraw], &[&owner])
            .await
            .unwrap()
            .compute_units,
    ));
    let admin_key = env.admin.insecure_clone();
    let update = builders::update_config(&admin_key.pubkey(), &config, &env.params());
    rows.push((
        "update_config",
        env.send(&[update], &[&admin_key])
            .await
            .unwrap()
            .compute_units,
    ));
    let request = builders::request_withdraw(&owner.pubkey(), &config, 1);
    env.send(&[request], &[&owner]).await.unwrap();
    env.advance_time(WITHDRAWAL_DELAY).await;
    let close = builders::close_tab(&owner.pubkey(), &env.payout(&source, &token_program));
    rows.push((
        "close_tab",
        env.send(&[close], &[&owner]).await.unwrap().compute_units,
    ));

    println!("| instruction (SPL Token, p-token) | compute units |");
    println!("|---|---|");
    for (name, units) in &rows {
        println!("| {name} | {units} |");
        assert!(*units > 0);
    }
}
