//! Session signers: streams of their own, caps, validity windows that survive
//! removal (v1's `remove_signer` voided receipted states at once), slot reuse.

use micropay_devnet::bytecode::*;
use micropay_interface::{client as builders, MicropayError};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

struct Sessions {
    env: Env,
    payer: Payer,
    payee: Payee,
    session: Keypair,
}

impl Sessions {
    async fn new(cap: u64) -> Self {
        let mut env = Env::new(TokenKind::Spl).await;
        let payer = env.new_payer(1_000_000, 1_000_000).await;
        let payee = env.new_payee().await;
        let session = Keypair::new();
        let mut sessions = Sessions {
            env,
            payer,
            payee,
            session,
        };
        let key = sessions.session.pubkey();
        sessions
            .add(1, &key, 86_400, cap)
            .await
            .expect("add_signer");
        sessions
    }

    async fn add(
        &mut self,
        slot: u8,
        key: &Pubkey,
        lifetime: i64,
        cap: u64,
    ) -> Result<Outcome, solana_program_test::BanksClientError> {
        let expires_at = self.env.now().await + lifetime;
        let owner = self.payer.owner.insecure_clone();
        let config = self.env.config;
        let ix = builders::add_signer(&owner.pubkey(), &config, slot, key, expires_at, cap);
        self.env.send(&[ix], &[&owner]).await
    }

    async fn settle_session(
        &mut self,
        slot: u8,
        key: &Keypair,
        seq: u32,
        amount: u64,
    ) -> Result<Outcome, solana_program_test::BanksClientError> {
        let entries = vec![(self.payee.wallet.pubkey(), amount)];
        let message = self
            .env
            .open_state(&self.payer.tab, slot, seq, &entries)
            .await;
        let sequencer = self.env.sequencer.insecure_clone();
        let payees = [self.payee.settle_payee()];
        self.env
            .settle(&sequencer, &[item(&message, key, &entries)], &payees)
            .await
    }
}

#[tokio::test]
async fn a_session_key_pays_from_its_own_stream_within_its_cap() {
    let mut s = Sessions::new(5_000).await;
    let session = s.session.insecure_clone();
    s.settle_session(1, &session, 1, 3_000)
        .await
        .expect("session stream settles");
    let tab = s.env.tab(&s.payer.tab).await;
    assert_eq!(tab.slots[1].spent.get(), 3_000);
    assert_eq!(tab.slots[1].epoch.get(), 1);
    assert_eq!(
        tab.slots[0].epoch.get(),
        0,
        "the owner's stream is untouched"
    );
    s.env.advance_time(TOP_UP_WINDOW + 1).await;
    let before = s.env.tab(&s.payer.tab).await.balance.get();
    assert_error(
        s.settle_session(1, &session, 1, 2_001).await,
        MicropayError::SessionCapExceeded,
    );
    assert_eq!(s.env.tab(&s.payer.tab).await.balance.get(), before);
    // The session key cannot sign for the owner's stream.
    assert_error(
        s.settle_session(0, &session, 1, 10).await,
        MicropayError::BadSignature,
    );
}

#[tokio::test]
async fn two_streams_of_one_tab_settle_together() {
    let mut s = Sessions::new(50_000).await;
    let entries = vec![(s.payee.wallet.pubkey(), 1_000)];
    let owner_state = s.env.open_state(&s.payer.tab, 0, 4, &entries).await;
    let session_state = s.env.open_state(&s.payer.tab, 1, 9, &entries).await;
    let items = [
        item(&owner_state, &s.payer.owner, &entries),
        item(&session_state, &s.session, &entries),
    ];
    let sequencer = s.env.sequencer.insecure_clone();
    let payees = [s.payee.settle_payee()];
    s.env
        .settle(&sequencer, &items, &payees)
        .await
        .expect("both streams");
    assert_eq!(
        s.env.token_balance(&s.payee.token_account).await,
        1_980,
        "one netted transfer"
    );
}

#[tokio::test]
async fn a_removed_key_still_settles_what_it_signed_until_its_validity_ends() {
    let mut s = Sessions::new(50_000).await;
    let owner = s.payer.owner.insecure_clone();
    let config = s.env.config;
    s.env
        .send(
            &[builders::remove_signer(&owner.pubkey(), &config, 1)],
            &[&owner],
        )
        .await
        .expect("remove_signer");
    let slot = s.env.tab(&s.payer.tab).await.slots[1];
    let now = s.env.now().await;
    assert!(!slot.is_live(now), "the sequencer stops receipting it");
    assert_eq!(slot.valid_until.get(), now + WITHDRAWAL_DELAY);
    let session = s.session.insecure_clone();
    s.env.advance_time(WITHDRAWAL_DELAY - 5).await;
    s.settle_session(1, &session, 1, 1_000)
        .await
        .expect("still valid");
    s.env.advance_time(TOP_UP_WINDOW + 10).await;
    assert_error(
        s.settle_session(1, &session, 2, 1_000).await,
        MicropayError::SlotNoLongerValid,
    );

    // The slot is free again; its epoch keeps counting for the new key.
    let fresh = Keypair::new();
    s.add(1, &fresh.pubkey(), 86_400, 10_000)
        .await
        .expect("slot reused");
    let slot = s.env.tab(&s.payer.tab).await.slots[1];
    assert_eq!(slot.epoch.get(), 1);
    assert_eq!(slot.spent.get(), 0);
    s.settle_session(1, &fresh, 1, 500)
        .await
        .expect("new key settles");
}

#[tokio::test]
async fn bad_session_keys_and_changes_are_refused() {
    let mut s = Sessions::new(5_000).await;
    let session = s.session.pubkey();
    assert_error(
        s.add(1, &session, 3_600, 4_000).await,
        MicropayError::CannotLower,
    );
    assert_error(
        s.add(2, &session, 3_600, 4_000).await,
        MicropayError::DuplicateKey,
    );
    assert_error(
        s.add(2, &Keypair::new().pubkey(), -1, 1).await,
        MicropayError::SignerExpired,
    );
    assert_error(
        s.add(0, &Keypair::new().pubkey(), 3_600, 1).await,
        MicropayError::BadSlot,
    );
    assert_error(
        s.add(5, &Keypair::new().pubkey(), 3_600, 1).await,
        MicropayError::BadSlot,
    );
    assert_error(
        s.add(1, &Keypair::new().pubkey(), 3_600, 9_000).await,
        MicropayError::SlotInUse,
    );
    // Small-order points (with either sign) and non-canonical encodings.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut p_minus_one = [0xff; 32];
    p_minus_one[0] = 0xec;
    p_minus_one[31] = 0x7f;
    let mut non_canonical_two = [0xff; 32];
    non_canonical_two[0] = 0xef;
    non_canonical_two[31] = 0x7f;
    for key in [identity, p_minus_one, [0u8; 32], non_canonical_two] {
        for sign in [0u8, 0x80] {
            let mut key = key;
            key[31] |= sign;
            assert_error(
                s.add(2, &Pubkey::new_from_array(key), 3_600, 1).await,
                MicropayError::BadKey,
            );
        }
    }
    // Raising is allowed while live.
    s.add(1, &session, 2 * 86_400, 9_000)
        .await
        .expect("raise cap and expiry");
    assert_eq!(s.env.tab(&s.payer.tab).await.slots[1].cap.get(), 9_000);
}
