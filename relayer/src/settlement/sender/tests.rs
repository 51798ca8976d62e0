use std::collections::HashSet;

use solana_sdk::{
    instruction::{AccountMeta, InstructionError},
    pubkey::Pubkey,
    transaction::TransactionError,
};

use super::*;
use crate::{
    domain::StreamStatus,
    settlement::{pack::Batch, testing::Fixture},
};

async fn send(
    fixture: &Fixture,
    settlements: &mut Settlements,
    candidates: Vec<Candidate>,
) -> usize {
    let directory = fixture.directory();
    let packer = fixture.packer(&directory);
    let batch = Batch {
        candidates,
        tables: Vec::new(),
    };
    settlements
        .send_batch(&fixture.outbox(), &packer, batch)
        .await
        .unwrap()
}

async fn statuses(fixture: &Fixture) -> Vec<StreamStatus> {
    fixture
        .store
        .pending()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.status)
        .collect()
}

/// An instruction naming `account`, for the engine's own transactions.
fn touching(account: Pubkey) -> Instruction {
    Instruction::new_with_bytes(
        Pubkey::new_unique(),
        &[1],
        vec![AccountMeta::new(account, false)],
    )
}

#[tokio::test]
async fn a_batch_is_recorded_sent_once_and_finished_when_it_lands() {
    let fixture = Fixture::new().await;
    let candidates = fixture.candidates(3).await;
    let mut settlements = Settlements::default();
    assert_eq!(send(&fixture, &mut settlements, candidates).await, 1);

    let sent = fixture.chain.sent();
    assert_eq!(sent.len(), 1);
    let recorded = fixture.store.unconfirmed_settlements().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].tx.signatures, sent[0].signatures);
    assert_eq!(settlements.epochs().len(), 3);

    let confirmed = settlements
        .confirm(&fixture.chain, &fixture.store, &fixture.metrics)
        .await
        .unwrap();
    assert_eq!(confirmed, 1);
    assert!(fixture.store.pending().await.unwrap().is_empty());
    assert!(settlements.epochs().is_empty());
    assert_eq!(fixture.count("confirmed"), 1);
    assert_eq!(fixture.chain.sent().len(), 1, "nothing sent twice");
}

#[tokio::test]
async fn a_state_the_program_refuses_is_isolated_and_the_rest_is_sent() {
    let fixture = Fixture::new().await;
    let candidates = fixture.candidates(5).await;
    let refused = candidates[3].epoch.state().tab;
    fixture.chain.refuse(refused);
    let mut settlements = Settlements::default();
    let sent = send(&fixture, &mut settlements, candidates).await;

    let carried: HashSet<_> = settlements.epochs().iter().map(|k| k.stream.tab).collect();
    assert_eq!(carried.len(), 4);
    assert!(!carried.contains(&refused));
    // Halving isolates it: its half is split again, the others go as they are.
    assert_eq!(sent, 3);
    assert_eq!(fixture.count("refused"), 1);
    settlements
        .confirm(&fixture.chain, &fixture.store, &fixture.metrics)
        .await
        .unwrap();
    // The refused one stays closed for reconciliation to decide.
    assert_eq!(statuses(&fixture).await, vec![StreamStatus::Closed]);
}

#[tokio::test]
async fn an_unseen_settlement_is_rebroadcast_until_its_blockhash_expires() {
    let fixture = Fixture::new().await;
    let candidates = fixture.candidates(2).await;
    fixture.chain.drop_sends(usize::MAX);
    let mut settlements = Settlements::default();
    send(&fixture, &mut settlements, candidates).await;
    let first = fixture.chain.sent()[0].clone();

    // After a restart it is followed from the store and sent again at once.
    let mut restarted = Settlements::default();
    for recorded in fixture.store.unconfirmed_settlements().await.unwrap() {
        restarted.adopt(recorded);
    }
    assert_eq!(restarted.epochs(), settlements.epochs());
    restarted
        .confirm(&fixture.chain, &fixture.store, &fixture.metrics)
        .await
        .unwrap();
    let sent = fixture.chain.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].signatures, first.signatures, "the same transaction");

    // Once past its last valid block height it is given up; its epochs stay closed.
    fixture.chain.advance(10);
    assert_eq!(
        restarted
            .confirm(&fixture.chain, &fixture.store, &fixture.metrics)
            .await
            .unwrap(),
        0
    );
    assert!(restarted.epochs().is_empty());
    assert_eq!(fixture.count("expired"), 1);
    assert_eq!(
        statuses(&fixture).await,
        vec![StreamStatus::Closed, StreamStatus::Closed]
    );
}

#[tokio::test]
async fn a_settlement_that_lands_with_an_error_is_forgotten_and_its_epochs_stay_closed() {
    let fixture = Fixture::new().await;
    let candidates = fixture.candidates(2).await;
    fixture
        .chain
        .land_with(Some(TransactionError::InstructionError(
            2,
            InstructionError::Custom(1),
        )));
    let mut settlements = Settlements::default();
    send(&fixture, &mut settlements, candidates).await;
    settlements
        .confirm(&fixture.chain, &fixture.store, &fixture.metrics)
        .await
        .unwrap();
    assert!(settlements.epochs().is_empty());
    assert!(fixture
        .store
        .unconfirmed_settlements()
        .await
        .unwrap()
        .is_empty());
    assert_eq!(fixture.count("failed"), 1);
    assert_eq!(
        statuses(&fixture).await,
        vec![StreamStatus::Closed, StreamStatus::Closed]
    );
}

#[tokio::test]
async fn housekeeping_transactions_that_expire_are_rebuilt_until_they_land() {
    let fixture = Fixture::new().await;
    let payer = &fixture.payer;
    let ixs: Vec<_> = (0..3).map(|_| touching(Pubkey::new_unique())).collect();
    // The first round is lost; its blockhash expires before a rebroadcast would help.
    fixture.chain.drop_sends(3);
    confirm_all(&fixture.chain, payer, ixs).await.unwrap();
    let sent = fixture.chain.sent();
    assert_eq!(sent.len(), 6);
    let blockhashes: HashSet<_> = sent
        .iter()
        .map(|tx| *tx.message.recent_blockhash())
        .collect();
    assert_eq!(blockhashes.len(), 2, "rebuilt with a new blockhash");
}

#[tokio::test]
async fn housekeeping_that_fails_on_chain_is_an_error() {
    let fixture = Fixture::new().await;
    let target = Pubkey::new_unique();
    fixture.chain.refuse(target);
    let ix = touching(target);
    let error = confirm_all(&fixture.chain, &fixture.payer, vec![ix])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("failed"), "{error}");
}
