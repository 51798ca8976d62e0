//! DESIGN v2's trust model, point by point, and the v1 failures it fixes. Every
//! refusal checks its error code and that no balance moved.

use micropay_devnet::bytecode::*;
use micropay_interface::{
    client::{self as builders, SettleItem},
    state::{Params, U16},
    MicropayError,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// Balances a refusal must leave untouched.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    vault: u64,
    tab: u64,
    payees: Vec<u64>,
    fees: u64,
}

async fn snapshot(env: &mut Env, tab: &Pubkey, payees: &[&Payee]) -> Snapshot {
    let mut balances = Vec::new();
    for payee in payees {
        balances.push(env.token_balance(&payee.token_account).await);
    }
    Snapshot {
        vault: env.vault_balance().await,
        tab: env.tab(tab).await.balance.get(),
        payees: balances,
        fees: env.config_state().await.fees_owed.get(),
    }
}

/// A funded payer, two payees, and the owner stream's signed state paying them.
struct Scene {
    env: Env,
    payer: Payer,
    alice: Payee,
    bob: Payee,
}

impl Scene {
    async fn new() -> Self {
        let mut env = Env::new(TokenKind::Spl).await;
        let payer = env.new_payer(1_000_000, 1_000_000).await;
        let alice = env.new_payee().await;
        let bob = env.new_payee().await;
        Scene {
            env,
            payer,
            alice,
            bob,
        }
    }

    fn entries(&self, alice: u64, bob: u64) -> Vec<(Pubkey, u64)> {
        let mut entries = vec![];
        if alice > 0 {
            entries.push((self.alice.wallet.pubkey(), alice));
        }
        if bob > 0 {
            entries.push((self.bob.wallet.pubkey(), bob));
        }
        sorted(entries)
    }

    /// The owner-signed open state of `seq` paying `alice` and `bob`.
    async fn state(&mut self, seq: u32, alice: u64, bob: u64) -> SettleItem {
        let entries = self.entries(alice, bob);
        let message = self.env.open_state(&self.payer.tab, 0, seq, &entries).await;
        item(&message, &self.payer.owner, &entries)
    }

    fn payees(&self) -> Vec<builders::SettlePayee> {
        vec![self.alice.settle_payee(), self.bob.settle_payee()]
    }

    async fn snapshot(&mut self) -> Snapshot {
        let (alice, bob) = (
            Payee {
                wallet: self.alice.wallet.insecure_clone(),
                token_account: self.alice.token_account,
            },
            Payee {
                wallet: self.bob.wallet.insecure_clone(),
                token_account: self.bob.token_account,
            },
        );
        snapshot(&mut self.env, &self.payer.tab, &[&alice, &bob]).await
    }

    async fn settle_by(
        &mut self,
        settler: &Keypair,
        items: &[SettleItem],
    ) -> Result<Outcome, solana_program_test::BanksClientError> {
        let payees = self.payees();
        self.env.settle(settler, items, &payees).await
    }

    async fn settle(
        &mut self,
        items: &[SettleItem],
    ) -> Result<Outcome, solana_program_test::BanksClientError> {
        let sequencer = self.env.sequencer.insecure_clone();
        self.settle_by(&sequencer, items).await
    }

    async fn refused(&mut self, settler: &Keypair, items: &[SettleItem], error: MicropayError) {
        let before = self.snapshot().await;
        assert_error(self.settle_by(settler, items).await, error);
        assert_eq!(
            self.snapshot().await,
            before,
            "a refused settlement moves nothing"
        );
    }

    /// Adds the sequencer's receipt to `item`.
    fn receipted(&self, mut item: SettleItem, epoch: u64, incarnation: u64) -> SettleItem {
        let message = stream_message(
            &item.tab,
            incarnation,
            item.slot,
            epoch,
            item.seq,
            &item.entries,
        );
        item.receipt = Some(self.env.receipt(&message));
        item
    }
}

/// Failure 1 of v1: a payer settled its own state paying itself, escaping the delay
/// and voiding its tips to others. In v2 only the sequencer, or a holder of its
/// receipt, settles.
#[tokio::test]
async fn a_payer_cannot_settle_its_own_state() {
    let mut scene = Scene::new().await;
    let owner = scene.payer.owner.insecure_clone();
    let own = scene.env.new_payee().await;
    let entries = vec![(own.wallet.pubkey(), 1_000)];
    let message = scene.env.open_state(&scene.payer.tab, 0, 1, &entries).await;
    let own_item = item(&message, &owner, &entries);
    let before = scene.env.token_balance(&own.token_account).await;
    let result = scene
        .env
        .settle(&owner, &[own_item], &[own.settle_payee()])
        .await;
    assert_error(result, MicropayError::NotSequencer);
    assert_eq!(scene.env.token_balance(&own.token_account).await, before);
}

/// Point 1: the sequencer cannot move more than the payer signed.
#[tokio::test]
async fn the_sequencer_cannot_change_what_was_signed() {
    let mut scene = Scene::new().await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let mut tampered = scene.state(1, 1_000, 2_000).await;
    tampered.entries[0].1 += 1;
    scene
        .refused(&sequencer, &[tampered], MicropayError::BadSignature)
        .await;

    let mut unsigned = scene.state(1, 1_000, 2_000).await;
    unsigned.signature = sequencer.sign_message(b"not the state").into();
    scene
        .refused(&sequencer, &[unsigned], MicropayError::BadSignature)
        .await;

    // Non-canonical S (S + L) of a valid signature: refused as the precompile would.
    let mut malleated = scene.state(1, 1_000, 2_000).await;
    let mut carry = 0u16;
    for (byte, l) in malleated.signature[32..]
        .iter_mut()
        .zip(micropay_protocol::scalar::L)
    {
        let sum = *byte as u16 + l as u16 + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    scene
        .refused(&sequencer, &[malleated], MicropayError::BadSignature)
        .await;

    let over = scene.state(1, 600_000, 500_000).await;
    scene
        .refused(&sequencer, &[over], MicropayError::InsufficientBalance)
        .await;
}

/// Point 2: a state settles once; not again, not for another tab or incarnation.
#[tokio::test]
async fn a_state_settles_at_most_once() {
    let mut scene = Scene::new().await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let state = scene.state(3, 1_000, 2_000).await;
    scene
        .settle(std::slice::from_ref(&state))
        .await
        .expect("first settlement");
    // Within the window the open epoch cannot be settled again.
    scene
        .refused(
            &sequencer,
            std::slice::from_ref(&state),
            MicropayError::WindowNotPassed,
        )
        .await;
    // After it, the epoch has moved on: the old signature no longer matches.
    scene.env.advance_time(TOP_UP_WINDOW + 1).await;
    scene
        .refused(
            &sequencer,
            std::slice::from_ref(&state),
            MicropayError::BadSignature,
        )
        .await;
    // The same state presented for another payer's tab.
    let other = scene.env.new_payer(10_000, 10_000).await;
    let mut elsewhere = state;
    elsewhere.tab = other.tab;
    assert_error(
        scene.settle(&[elsewhere]).await,
        MicropayError::BadSignature,
    );
}

/// Failure 2 of v1 and point 4: a lower state settled first (here by the sequencer
/// itself, as a stale instance would) costs the payee holding a higher receipt
/// nothing: the higher one tops it up within the window.
#[tokio::test]
async fn a_lower_settlement_is_topped_up_by_a_higher_receipt() {
    let mut scene = Scene::new().await;
    let tab = scene.env.tab(&scene.payer.tab).await;
    let incarnation = tab.incarnation.get();
    let low = scene.state(2, 1_000, 0).await;
    let high = scene.state(5, 3_000, 2_000).await;
    scene
        .settle(std::slice::from_ref(&low))
        .await
        .expect("lower state settled first");
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        990
    );

    // Alice holds the receipt for seq 5 and settles it herself, as a top-up.
    let alice = scene.alice.wallet.insecure_clone();
    scene.env.airdrop(&alice.pubkey(), 1_000_000_000).await;
    let mut top_up = scene.receipted(high.clone(), 0, incarnation);
    top_up.previous = Some(low.entries.clone());
    let outcome = scene
        .settle_by(&alice, std::slice::from_ref(&top_up))
        .await
        .expect("top-up");
    println!(
        "top-up, 1 stream, 2 payees, by a receipt holder: {} CU",
        outcome.compute_units
    );
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        2_970
    );
    assert_eq!(
        scene.env.token_balance(&scene.bob.token_account).await,
        1_980
    );
    assert_eq!(
        scene.env.tab(&scene.payer.tab).await.balance.get(),
        1_000_000 - 5_000
    );
    scene
        .env
        .assert_vault_invariant(&[scene.payer.tab], &[])
        .await;

    // The same top-up again: its seq is no longer higher.
    scene
        .refused(&alice, &[top_up], MicropayError::SeqNotHigher)
        .await;
}

#[tokio::test]
async fn a_top_up_may_not_lower_or_drop_a_payee() {
    let mut scene = Scene::new().await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let low = scene.state(2, 1_000, 1_000).await;
    scene.settle(std::slice::from_ref(&low)).await.unwrap();
    for (alice, bob) in [(5_000, 999), (5_000, 0)] {
        let mut lower = scene.state(9, alice, bob).await;
        lower.previous = Some(low.entries.clone());
        // The state is for the settled epoch, not the open one.
        let tab = scene.env.tab(&scene.payer.tab).await;
        let message = stream_message(&lower.tab, tab.incarnation.get(), 0, 0, 9, &lower.entries);
        lower.signature = scene
            .payer
            .owner
            .sign_message(&message.state_bytes())
            .into();
        scene
            .refused(&sequencer, &[lower], MicropayError::AmountDecreased)
            .await;
    }
    // The previous entries must be the settled ones.
    let mut wrong_previous = scene.state(9, 5_000, 5_000).await;
    wrong_previous.previous = Some(scene.entries(1_000, 999));
    scene
        .refused(
            &sequencer,
            &[wrong_previous],
            MicropayError::PreviousEntriesMismatch,
        )
        .await;
}

#[tokio::test]
async fn a_top_up_after_its_window_is_refused() {
    let mut scene = Scene::new().await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let low = scene.state(2, 1_000, 0).await;
    scene.settle(std::slice::from_ref(&low)).await.unwrap();
    let tab = scene.env.tab(&scene.payer.tab).await;
    let entries = scene.entries(3_000, 0);
    let message = stream_message(&scene.payer.tab, tab.incarnation.get(), 0, 0, 5, &entries);
    let mut top_up = item(&message, &scene.payer.owner, &entries);
    top_up.previous = Some(low.entries.clone());
    scene.env.advance_time(TOP_UP_WINDOW + 1).await;
    scene
        .refused(&sequencer, &[top_up], MicropayError::WindowClosed)
        .await;
}

/// Point 4: without the sequencer's signature on the transaction, each item needs a
/// valid receipt.
#[tokio::test]
async fn a_stranger_settles_only_with_receipts() {
    let mut scene = Scene::new().await;
    let stranger = Keypair::new();
    scene.env.airdrop(&stranger.pubkey(), 1_000_000_000).await;
    let incarnation = scene.env.tab(&scene.payer.tab).await.incarnation.get();
    let state = scene.state(1, 1_000, 2_000).await;
    scene
        .refused(
            &stranger,
            std::slice::from_ref(&state),
            MicropayError::NotSequencer,
        )
        .await;

    let mut forged = state.clone();
    forged.receipt = Some(stranger.sign_message(b"a receipt").into());
    scene
        .refused(&stranger, &[forged], MicropayError::BadReceipt)
        .await;

    // A receipt over other bytes (the state magic instead of the receipt magic).
    let mut wrong_magic = state.clone();
    let message = stream_message(&state.tab, incarnation, 0, 0, 1, &state.entries);
    wrong_magic.receipt = Some(
        scene
            .env
            .sequencer
            .sign_message(&message.state_bytes())
            .into(),
    );
    scene
        .refused(&stranger, &[wrong_magic], MicropayError::BadReceipt)
        .await;

    let receipted = scene.receipted(state, 0, incarnation);
    scene
        .settle_by(&stranger, &[receipted])
        .await
        .expect("receipt holder settles");
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        990
    );
}

/// Failure 3 of v1 and point 5: a frozen payee is credited and the others are paid.
#[tokio::test]
async fn a_frozen_payee_is_credited_and_the_others_paid() {
    let mut scene = Scene::new().await;
    let bob_account = scene.bob.token_account;
    scene.env.freeze(&bob_account).await;
    let state = scene.state(1, 1_000, 2_000).await;
    scene
        .settle(&[state])
        .await
        .expect("settles despite the frozen payee");
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        990
    );
    assert_eq!(scene.env.token_balance(&bob_account).await, 0);
    let credit = scene
        .env
        .credit(&scene.bob.wallet.pubkey())
        .await
        .expect("credited");
    assert_eq!(credit.amount.get(), 1_980);
    let bob = scene.bob.wallet.pubkey();
    scene
        .env
        .assert_vault_invariant(&[scene.payer.tab], &[bob])
        .await;
}

/// Point 7: a payee is never charged more than the payer signed, and a fee raise
/// waits out its notice.
#[tokio::test]
async fn the_fee_charged_is_at_most_the_signed_fee() {
    let mut scene = Scene::new().await;
    let mut state = scene.state(1, 10_000, 0).await;
    // Signed for 0.5% while the config charges 1%.
    let incarnation = scene.env.tab(&scene.payer.tab).await.incarnation.get();
    let mut message = stream_message(&state.tab, incarnation, 0, 0, 1, &state.entries);
    message.fee_bps = 50;
    state.fee_bps = 50;
    state.signature = scene
        .payer
        .owner
        .sign_message(&message.state_bytes())
        .into();
    scene.settle(&[state]).await.unwrap();
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        9_950
    );

    // The admin raises the fee: nothing changes before the notice period ends.
    let admin = scene.env.admin.insecure_clone();
    let raised = Params {
        fee_bps: U16::new(500),
        ..scene.env.params()
    };
    let config = scene.env.config;
    scene
        .env
        .send(
            &[builders::update_config(&admin.pubkey(), &config, &raised)],
            &[&admin],
        )
        .await
        .expect("update_config");
    let state = scene.state(2, 0, 10_000).await;
    scene.env.advance_time(TOP_UP_WINDOW + 1).await;
    scene.settle(&[state]).await.unwrap();
    assert_eq!(
        scene.env.token_balance(&scene.bob.token_account).await,
        9_900,
        "old fee"
    );

    let stranger = Keypair::new();
    let result = scene
        .env
        .send(
            &[builders::update_config(
                &stranger.pubkey(),
                &config,
                &raised,
            )],
            &[&stranger],
        )
        .await;
    assert_error(result, MicropayError::NotAdmin);
}

/// Point 3: the payer's exit waits for the delay and for every top-up window.
#[tokio::test]
async fn a_withdrawal_waits_for_top_up_windows() {
    let mut scene = Scene::new().await;
    let owner = scene.payer.owner.insecure_clone();
    let config = scene.env.config;
    scene
        .env
        .send(
            &[builders::request_withdraw(
                &owner.pubkey(),
                &config,
                500_000,
            )],
            &[&owner],
        )
        .await
        .unwrap();
    scene.env.advance_time(WITHDRAWAL_DELAY - 10).await;
    let state = scene.state(1, 1_000, 0).await;
    scene.settle(&[state]).await.unwrap();
    scene.env.advance_time(10).await;
    let token_program = TokenKind::Spl.program_id();
    let destination = scene.payer.token_account;
    let withdraw = builders::withdraw(
        &owner.pubkey(),
        &scene.env.payout(&destination, &token_program),
    );
    let before = scene.env.token_balance(&destination).await;
    assert_error(
        scene
            .env
            .send(std::slice::from_ref(&withdraw), &[&owner])
            .await,
        MicropayError::TopUpWindowOpen,
    );
    assert_eq!(scene.env.token_balance(&destination).await, before);
    scene.env.advance_time(TOP_UP_WINDOW).await;
    scene
        .env
        .send(&[withdraw], &[&owner])
        .await
        .expect("withdraw");
    assert_eq!(
        scene.env.token_balance(&destination).await,
        before + 500_000
    );
}

/// The v1 matrix's malformed settlements: empty states, refused payees, duplicates,
/// accounts of another config.
#[tokio::test]
async fn malformed_settlements_are_refused() {
    let mut scene = Scene::new().await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let incarnation = scene.env.tab(&scene.payer.tab).await.incarnation.get();

    let message = stream_message(&scene.payer.tab, incarnation, 0, 0, 1, &[]);
    let empty = item(&message, &scene.payer.owner, &[]);
    scene
        .refused(&sequencer, &[empty], MicropayError::EmptyState)
        .await;
    scene
        .refused(&sequencer, &[], MicropayError::EmptySettlement)
        .await;

    // The vault authority as a payee wallet.
    let authority = builders::vault_authority_address(&scene.env.config);
    let vault = scene.env.vault();
    let entries = vec![(authority, 1_000)];
    let message = stream_message(&scene.payer.tab, incarnation, 0, 0, 1, &entries);
    let to_vault = item(&message, &scene.payer.owner, &entries);
    let payee = builders::SettlePayee {
        wallet: authority,
        token_account: vault,
        pass_wallet: false,
    };
    assert_error(
        scene.env.settle(&sequencer, &[to_vault], &[payee]).await,
        MicropayError::RefusedPayee,
    );

    // The same wallet listed twice.
    let state = scene.state(1, 1_000, 0).await;
    let payees = vec![scene.alice.settle_payee(), scene.alice.settle_payee()];
    assert_error(
        scene
            .env
            .settle(&sequencer, std::slice::from_ref(&state), &payees)
            .await,
        MicropayError::DuplicateAccount,
    );

    // Unsorted entries.
    let mut unsorted = scene.state(1, 1_000, 2_000).await;
    unsorted.entries.reverse();
    scene
        .refused(&sequencer, &[unsorted], MicropayError::EntriesNotSorted)
        .await;
}

/// Point 5: the program decides at execution. A payee frozen after the settlement
/// was simulated (as a relayer does before sending) is credited, not a failure.
#[tokio::test]
async fn a_payee_frozen_between_simulation_and_landing_is_credited() {
    let mut scene = Scene::new().await;
    let state = scene.state(1, 1_000, 2_000).await;
    let sequencer = scene.env.sequencer.insecure_clone();
    let token_program = TokenKind::Spl.program_id();
    let config = scene.env.config;
    let mint = scene.env.mint;
    let settle = builders::settle(
        &builders::SettleAccounts {
            settler: &sequencer.pubkey(),
            config: &config,
            mint: &mint,
            token_program: &token_program,
        },
        &[state],
        &scene.payees(),
    )
    .unwrap();
    let tx = scene
        .env
        .transaction(std::slice::from_ref(&settle), &[&sequencer])
        .await;
    let simulated = scene
        .env
        .ctx
        .banks_client
        .simulate_transaction(tx)
        .await
        .unwrap();
    assert!(simulated.result.unwrap().is_ok(), "simulation pays both");
    let bob_account = scene.bob.token_account;
    scene.env.freeze(&bob_account).await;
    scene
        .env
        .send(&[settle], &[&sequencer])
        .await
        .expect("lands");
    assert_eq!(
        scene.env.token_balance(&scene.alice.token_account).await,
        990
    );
    assert_eq!(scene.env.token_balance(&bob_account).await, 0);
    let credit = scene
        .env
        .credit(&scene.bob.wallet.pubkey())
        .await
        .expect("credited");
    assert_eq!(credit.amount.get(), 1_980);
}
