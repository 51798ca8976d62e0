//! Every way a settlement must fail: the specific error, and nothing moved.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::solana_program::system_instruction;
use micropay::errors::MicropayError;
use micropay_tests::{
    protocol::{
        client::{ed25519_instruction, settle_instruction},
        entries_hash,
        precompile::{build_precompile_data, SignatureOffsets, ED25519_PROGRAM_ID},
        EpochState, SettleEntry, SettleItem, TipMessage,
    },
    *,
};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::TransactionError,
};

/// Two funded payers and two creators on one deployment.
struct Fixture {
    env: Env,
    alice: Payer,
    bob: Payer,
    creator_a: Pubkey,
    creator_b: Pubkey,
}

impl Fixture {
    async fn new() -> Self {
        let mut env = Env::new(TokenKind::Spl, 100).await;
        let alice = env.new_payer(50_000, 50_000).await;
        let bob = env.new_payer(50_000, 50_000).await;
        let creator_a = env.create_token_account(&Pubkey::new_unique()).await;
        let creator_b = env.create_token_account(&Pubkey::new_unique()).await;
        Fixture {
            env,
            alice,
            bob,
            creator_a,
            creator_b,
        }
    }

    /// Alice's current-epoch state tipping creator A 1,000 and creator B 2,000.
    async fn alice_state(&mut self) -> EpochState {
        let tab = self.env.tab(&self.alice.tab).await;
        self.alice
            .epoch_state(&tab)
            .tip(self.creator_a, 1_000)
            .unwrap()
            .tip(self.creator_b, 2_000)
            .unwrap()
    }

    /// Every balance and epoch a settlement could touch.
    async fn snapshot(&mut self) -> Vec<u64> {
        let mut out = Vec::new();
        for account in [
            self.env.vault,
            self.env.fee_destination,
            self.creator_a,
            self.creator_b,
        ] {
            out.push(self.env.token_balance(&account).await);
        }
        for tab in [self.alice.tab, self.bob.tab] {
            let tab = self.env.tab(&tab).await;
            out.extend([tab.balance, tab.epoch, tab.settled_total]);
            out.extend(tab.signers.iter().map(|s| s.spent));
        }
        out
    }

    /// Sends `ixs` and asserts the result matches `check` and that nothing moved.
    async fn reject(
        &mut self,
        ixs: &[Instruction],
        check: impl FnOnce(Result<(), BanksClientError>),
    ) {
        let before = self.snapshot().await;
        let result = self.env.send(ixs, &[]).await;
        check(result);
        assert_eq!(
            self.snapshot().await,
            before,
            "a rejected settlement moved something"
        );
    }

    async fn reject_with(&mut self, ixs: &[Instruction], expected: MicropayError) {
        self.reject(ixs, |r| assert_error(r, expected)).await;
    }
}

/// A settle instruction with explicit tabs, payees and items (bypassing the batch
/// builder so tests can put anything in it).
fn raw_settle(
    env: &Env,
    tabs: &[Pubkey],
    payees: &[Pubkey],
    items: Vec<SettleItem>,
) -> Instruction {
    settle_instruction(&env.settle_accounts(), tabs, payees, &items)
}

#[tokio::test]
async fn replayed_state_is_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.env.send(&ixs, &[]).await.unwrap();
    f.reject_with(&ixs, MicropayError::StaleEpoch).await;
}

#[tokio::test]
async fn future_epoch_is_rejected() {
    let mut f = Fixture::new().await;
    let mut state = f.alice_state().await;
    state.epoch += 1;
    let signed = sign(state, &f.alice.owner);
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.reject_with(&ixs, MicropayError::StaleEpoch).await;
}

#[tokio::test]
async fn stranger_signature_is_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &Keypair::new());
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.reject_with(&ixs, MicropayError::UnauthorizedSigner).await;
    // Bob's own key is a stranger to Alice's tab too.
    let signed = sign(f.alice_state().await, &f.bob.owner);
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.reject_with(&ixs, MicropayError::UnauthorizedSigner).await;
}

#[tokio::test]
async fn state_for_another_tab_is_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let [precompile, mut settle] = f.env.settle_ixs(&[&signed]).unwrap();
    // Point the item at Bob's tab: the signed message names Alice's.
    let first_tab = 9;
    settle.accounts[first_tab].pubkey = f.bob.tab;
    f.reject_with(&[precompile, settle], MicropayError::TabMismatch)
        .await;
}

#[tokio::test]
async fn tampered_amount_is_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let payees = [f.creator_a, f.creator_b];
    let mut item = signed.state.settle_item(&payees).unwrap();
    item.entries[1].amount += 1;
    let settle = raw_settle(&f.env, &[f.alice.tab], &payees, vec![item]);
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::TotalMismatch)
        .await;
}

#[tokio::test]
async fn tampered_message_fails_the_precompile() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let mut tampered = signed.clone();
    tampered.state = tampered.state.tip(f.creator_a, 1).unwrap();
    let ixs = f.env.settle_ixs(&[&tampered]).unwrap();
    f.reject(&ixs, |r| match r.unwrap_err().unwrap() {
        TransactionError::InstructionError(0, _) => {}
        other => panic!("expected the precompile (instruction 0) to fail, got {other:?}"),
    })
    .await;
}

#[tokio::test]
async fn entries_not_matching_the_hash_are_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let payees = [f.creator_a, f.creator_b];
    // Same total and signed order, amounts moved between payees.
    let mut item = signed.state.settle_item(&payees).unwrap();
    let (first, second) = (item.entries[0].amount, item.entries[1].amount);
    item.entries[0].amount = second;
    item.entries[1].amount = first;
    let settle = raw_settle(&f.env, &[f.alice.tab], &payees, vec![item]);
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::EntriesHashMismatch)
        .await;

    // Same entries, unsorted: the signed order is the sorted one.
    let mut item = signed.state.settle_item(&payees).unwrap();
    item.entries.reverse();
    let settle = raw_settle(&f.env, &[f.alice.tab], &payees, vec![item]);
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::EntriesNotSorted)
        .await;

    // An entry dropped.
    let mut item = signed.state.settle_item(&payees).unwrap();
    item.entries.pop();
    let settle = raw_settle(&f.env, &[f.alice.tab], &payees, vec![item]);
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::CountMismatch)
        .await;

    // A payee index past the payee accounts.
    let mut item = signed.state.settle_item(&payees).unwrap();
    item.entries[0].payee_index = 7;
    let settle = raw_settle(&f.env, &[f.alice.tab], &payees, vec![item]);
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::BadPayeeIndex)
        .await;
}

#[tokio::test]
async fn total_above_balance_is_rejected() {
    let mut f = Fixture::new().await;
    let tab = f.env.tab(&f.alice.tab).await;
    let state = f.alice.epoch_state(&tab).tip(f.creator_a, 50_001).unwrap();
    let signed = sign(state, &f.alice.owner);
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.reject_with(&ixs, MicropayError::InsufficientBalance)
        .await;
    // Exactly the balance is fine.
    let state = f.alice.epoch_state(&tab).tip(f.creator_a, 50_000).unwrap();
    let signed = sign(state, &f.alice.owner);
    f.env.settle(&[&signed]).await.unwrap();
    assert_eq!(f.env.tab(&f.alice.tab).await.balance, 0);
}

#[tokio::test]
async fn entry_overflow_is_rejected() {
    let mut f = Fixture::new().await;
    let tab = f.env.tab(&f.alice.tab).await;
    let (low, high) = if f.creator_a < f.creator_b {
        (f.creator_a, f.creator_b)
    } else {
        (f.creator_b, f.creator_a)
    };
    // No client would build this; sign the raw message by hand.
    let entries = [(&low, u64::MAX), (&high, 2)];
    let message = TipMessage {
        tab: f.alice.tab,
        incarnation: tab.incarnation,
        epoch: tab.epoch,
        seq: 2,
        total: 1,
        entries_hash: entries_hash(entries),
        count: 2,
    };
    let signature = f.alice.owner.sign_message(&message.to_bytes());
    let data = build_precompile_data(&[(
        f.alice.owner.pubkey().to_bytes(),
        *signature.as_array(),
        message.to_bytes(),
    )])
    .unwrap();
    let precompile = Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    };
    let item = SettleItem {
        entries: vec![
            SettleEntry {
                payee_index: 0,
                amount: u64::MAX,
            },
            SettleEntry {
                payee_index: 1,
                amount: 2,
            },
        ],
    };
    let settle = raw_settle(&f.env, &[f.alice.tab], &[low, high], vec![item]);
    f.reject_with(&[precompile, settle], MicropayError::Overflow)
        .await;
}

#[tokio::test]
async fn wrong_mint_vault_config_or_fee_destination_is_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);

    // A payee token account of another mint.
    let other_mint = f.env.create_mint().await;
    let foreign = f
        .env
        .create_token_account_for(&other_mint, &Pubkey::new_unique())
        .await;
    let payees = [f.creator_a, foreign];
    let state = {
        let tab = f.env.tab(&f.alice.tab).await;
        f.alice
            .epoch_state(&tab)
            .tip(f.creator_a, 10)
            .unwrap()
            .tip(foreign, 10)
            .unwrap()
    };
    let bad_payee = sign(state, &f.alice.owner);
    let settle = raw_settle(
        &f.env,
        &[f.alice.tab],
        &payees,
        vec![bad_payee.state.settle_item(&payees).unwrap()],
    );
    let precompile = ed25519_instruction(&[&bad_payee]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::BadPayeeAccount)
        .await;

    // The vault as a payee.
    let vault = f.env.vault;
    let state = {
        let tab = f.env.tab(&f.alice.tab).await;
        f.alice.epoch_state(&tab).tip(vault, 10).unwrap()
    };
    let to_vault = sign(state, &f.alice.owner);
    let ixs = f.env.settle_ixs(&[&to_vault]).unwrap();
    f.reject_with(&ixs, MicropayError::BadPayeeAccount).await;

    // Fixed accounts swapped for look-alikes: config (0), vault (1), mint (3), fee destination (4).
    let other_fee_destination = f.env.create_token_account(&Pubkey::new_unique()).await;
    let other_vault = f.env.create_token_account(&Pubkey::new_unique()).await;
    for (index, substitute, expected) in [
        (1, other_vault, MicropayError::ConfigMismatch),
        (3, other_mint, MicropayError::ConfigMismatch),
        (4, other_fee_destination, MicropayError::ConfigMismatch),
    ] {
        let [precompile, mut settle] = f.env.settle_ixs(&[&signed]).unwrap();
        settle.accounts[index].pubkey = substitute;
        f.reject_with(&[precompile, settle], expected).await;
    }

    // A tab of another config settled against this one.
    let second_config = Keypair::new();
    let ix = f.env.init_config_ix(
        second_config.pubkey(),
        0,
        WITHDRAWAL_DELAY,
        f.env.mint,
        f.env.fee_destination,
    );
    let admin = f.env.admin.insecure_clone();
    f.env.send(&[ix], &[&admin, &second_config]).await.unwrap();
    let owner = f.alice.owner.insecure_clone();
    let foreign_tab = micropay_tests::protocol::client::tab_address(
        &micropay::ID,
        &second_config.pubkey(),
        &owner.pubkey(),
    )
    .0;
    let mut open = f.env.open_tab_ix(&owner.pubkey());
    open.accounts[1].pubkey = second_config.pubkey();
    open.accounts[2].pubkey = foreign_tab;
    f.env.send(&[open], &[&owner]).await.unwrap();
    let foreign_tab_state = f.env.tab(&foreign_tab).await;
    let state = EpochState::new(foreign_tab, foreign_tab_state.incarnation, 0)
        .tip(f.creator_a, 1)
        .unwrap();
    let signed = sign(state, &owner);
    let ixs = f.env.settle_ixs(&[&signed]).unwrap();
    f.reject_with(&ixs, MicropayError::WrongTab).await;

    // A config account that is not a micropay config at all.
    let [precompile, mut settle] = f.env.settle_ixs(&[&signed]).unwrap();
    settle.accounts[0].pubkey = f.creator_a;
    f.reject(&[precompile, settle], |r| {
        assert_anchor_error(r, AnchorError::AccountOwnedByWrongProgram)
    })
    .await;
}

#[tokio::test]
async fn non_writable_and_duplicated_accounts_are_rejected() {
    let mut f = Fixture::new().await;
    let signed = sign(f.alice_state().await, &f.alice.owner);
    let first_tab = 9;

    let [precompile, mut settle] = f.env.settle_ixs(&[&signed]).unwrap();
    settle.accounts[first_tab] = AccountMeta::new_readonly(f.alice.tab, false);
    f.reject_with(&[precompile, settle], MicropayError::AccountNotWritable)
        .await;

    let [precompile, mut settle] = f.env.settle_ixs(&[&signed]).unwrap();
    let payee = first_tab + 1;
    settle.accounts[payee].is_writable = false;
    f.reject_with(&[precompile, settle], MicropayError::AccountNotWritable)
        .await;

    // The same tab twice in one batch.
    let ixs = f.env.settle_ixs(&[&signed, &signed]).unwrap();
    f.reject_with(&ixs, MicropayError::DuplicateAccount).await;

    // A payee listed twice.
    let payees = [f.creator_a, f.creator_b, f.creator_a];
    let settle = raw_settle(
        &f.env,
        &[f.alice.tab],
        &payees,
        vec![signed.state.settle_item(&payees).unwrap()],
    );
    let precompile = ed25519_instruction(&[&signed]).unwrap();
    f.reject_with(&[precompile, settle], MicropayError::DuplicateAccount)
        .await;
}

#[tokio::test]
async fn malformed_or_missing_precompile_is_rejected() {
    let mut f = Fixture::new().await;
    let alice = sign(f.alice_state().await, &f.alice.owner);
    let bob_state = {
        let tab = f.env.tab(&f.bob.tab).await;
        f.bob.epoch_state(&tab).tip(f.creator_a, 500).unwrap()
    };
    let bob = sign(bob_state, &f.bob.owner);
    let [precompile, settle] = f.env.settle_ixs(&[&alice]).unwrap();

    // No precompile at all.
    f.reject_with(
        std::slice::from_ref(&settle),
        MicropayError::MissingPrecompile,
    )
    .await;

    // Precompile present but not directly before settle.
    let payer = f.env.payer().pubkey();
    let gap = system_instruction::transfer(&payer, &payer, 0);
    f.reject_with(
        &[precompile.clone(), gap, settle.clone()],
        MicropayError::MissingPrecompile,
    )
    .await;

    // Something else in the precompile's place.
    let impostor = Instruction {
        program_id: spl_token_interface::ID,
        accounts: vec![],
        data: precompile.data.clone(),
    };
    f.reject(&[impostor, settle.clone()], |r| assert!(r.is_err()))
        .await;
    let memo_like = Instruction {
        program_id: micropay::ID,
        accounts: vec![],
        data: vec![],
    };
    f.reject(&[memo_like, settle.clone()], |r| assert!(r.is_err()))
        .await;

    // More signatures than items (Bob's valid signature rides along).
    let two = ed25519_instruction(&[&alice, &bob]).unwrap();
    f.reject_with(
        &[two, settle.clone()],
        MicropayError::SignatureCountMismatch,
    )
    .await;

    // A valid precompile instruction in a layout micropay does not produce:
    // message first, then key and signature. The precompile verifies it; settle refuses it.
    let message = alice.state.message().to_bytes();
    let mut data = vec![1u8, 0];
    let offsets = SignatureOffsets {
        message_data_offset: 16,
        message_data_size: message.len() as u16,
        message_instruction_index: u16::MAX,
        public_key_offset: 16 + 98,
        public_key_instruction_index: u16::MAX,
        signature_offset: 16 + 98 + 32,
        signature_instruction_index: u16::MAX,
    };
    data.extend_from_slice(&offsets.to_bytes());
    data.extend_from_slice(&message);
    data.extend_from_slice(alice.signer.as_ref());
    data.extend_from_slice(alice.signature.as_ref());
    let reordered = Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    };
    f.reject_with(
        &[reordered, settle.clone()],
        MicropayError::BadPrecompileLayout,
    )
    .await;

    // A signed message that is not a micropay message (wrong magic), canonical layout.
    let mut foreign = message;
    foreign[..4].copy_from_slice(b"XXXX");
    let signature = f.alice.owner.sign_message(&foreign);
    let data = build_precompile_data(&[(alice.signer.to_bytes(), *signature.as_array(), foreign)])
        .unwrap();
    let not_ours = Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    };
    f.reject_with(&[not_ours, settle.clone()], MicropayError::BadMessage)
        .await;

    // Items without any tab accounts.
    let empty = raw_settle(&f.env, &[], &[], vec![]);
    f.reject_with(&[precompile.clone(), empty], MicropayError::EmptySettlement)
        .await;
}
