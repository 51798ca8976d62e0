//! Session keys: a wallet signs once to register one, then tips are signed with it.

use anchor_lang::error::ErrorCode as AnchorError;
use micropay::{errors::MicropayError, state::MAX_SESSION_SIGNERS};
use micropay_tests::*;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

struct Fixture {
    env: Env,
    payer: Payer,
    session: Keypair,
    creator: Pubkey,
    expires_at: i64,
}

const CAP: u64 = 5_000;

async fn fixture() -> Fixture {
    let mut env = Env::new(TokenKind::Spl, 0).await;
    let payer = env.new_payer(100_000, 100_000).await;
    let creator = env.create_token_account(&Pubkey::new_unique()).await;
    let session = Keypair::new();
    let expires_at = env.now().await + 600;
    let owner = payer.owner.pubkey();
    env.send(
        &[env.add_signer_ix(&owner, session.pubkey(), expires_at, CAP)],
        &[&payer.owner],
    )
    .await
    .unwrap();
    Fixture {
        env,
        payer,
        session,
        creator,
        expires_at,
    }
}

impl Fixture {
    async fn tip(
        &mut self,
        amount: u64,
        signer: &Keypair,
    ) -> Result<(), solana_program_test::BanksClientError> {
        let tab = self.env.tab(&self.payer.tab).await;
        let state = self
            .payer
            .epoch_state(&tab)
            .tip(self.creator, amount)
            .unwrap();
        let signed = sign(state, signer);
        self.env.settle(&[&signed]).await
    }
}

#[tokio::test]
async fn session_key_settles_within_its_cap() {
    let mut f = fixture().await;
    let session = f.session.insecure_clone();
    f.tip(3_000, &session).await.unwrap();
    f.tip(2_000, &session).await.unwrap();
    let tab = f.env.tab(&f.payer.tab).await;
    let slot = tab
        .signers
        .iter()
        .find(|s| s.key == session.pubkey())
        .unwrap();
    assert_eq!(
        (slot.spent, slot.cap, slot.expires_at),
        (CAP, CAP, f.expires_at)
    );
    assert_eq!(f.env.token_balance(&f.creator.clone()).await, 5_000);
    // The cap is spent: one more unit is refused; the owner key is not capped.
    assert_error(f.tip(1, &session).await, MicropayError::SessionCapExceeded);
    let owner = f.payer.owner.insecure_clone();
    f.tip(10_000, &owner).await.unwrap();
    assert_eq!(f.env.tab(&f.payer.tab).await.balance, 100_000 - 15_000);
}

#[tokio::test]
async fn over_cap_in_one_state_is_refused() {
    let mut f = fixture().await;
    let session = f.session.insecure_clone();
    assert_error(
        f.tip(CAP + 1, &session).await,
        MicropayError::SessionCapExceeded,
    );
    let tab = f.env.tab(&f.payer.tab).await;
    assert_eq!((tab.balance, tab.epoch), (100_000, 0));
    assert!(tab.signers.iter().all(|s| s.spent == 0));
}

#[tokio::test]
async fn expired_session_key_is_refused() {
    let mut f = fixture().await;
    let session = f.session.insecure_clone();
    f.env.set_time(f.expires_at - 1).await;
    f.tip(10, &session).await.unwrap();
    f.env.set_time(f.expires_at).await;
    assert_error(f.tip(10, &session).await, MicropayError::UnauthorizedSigner);
    assert_eq!(f.env.tab(&f.payer.tab).await.balance, 100_000 - 10);
}

#[tokio::test]
async fn removed_session_key_is_refused() {
    let mut f = fixture().await;
    let session = f.session.insecure_clone();
    let owner = f.payer.owner.pubkey();
    f.env
        .send(
            &[f.env.remove_signer_ix(&owner, session.pubkey())],
            &[&f.payer.owner],
        )
        .await
        .unwrap();
    assert_error(f.tip(10, &session).await, MicropayError::UnauthorizedSigner);
    assert_error(
        f.env
            .send(
                &[f.env.remove_signer_ix(&owner, session.pubkey())],
                &[&f.payer.owner],
            )
            .await,
        MicropayError::SignerNotFound,
    );
}

#[tokio::test]
async fn session_key_of_another_tab_is_refused() {
    let mut f = fixture().await;
    let other = f.env.new_payer(1_000, 1_000).await;
    let other_session = Keypair::new();
    let expires_at = f.expires_at;
    let other_owner = other.owner.pubkey();
    f.env
        .send(
            &[f.env
                .add_signer_ix(&other_owner, other_session.pubkey(), expires_at, CAP)],
            &[&other.owner],
        )
        .await
        .unwrap();
    assert_error(
        f.tip(10, &other_session).await,
        MicropayError::UnauthorizedSigner,
    );
}

#[tokio::test]
async fn only_the_owner_manages_session_keys() {
    let mut f = fixture().await;
    let stranger = Keypair::new();
    f.env.airdrop(&stranger.pubkey(), 10_000_000).await;
    let expires_at = f.expires_at;
    let owner = f.payer.owner.pubkey();
    // The stranger signs as "owner" of the payer's tab: the tab's seeds do not match.
    let mut add = f
        .env
        .add_signer_ix(&owner, stranger.pubkey(), expires_at, u64::MAX);
    add.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        f.env.send(&[add], &[&stranger]).await,
        AnchorError::ConstraintSeeds,
    );
    let mut remove = f.env.remove_signer_ix(&owner, f.session.pubkey());
    remove.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        f.env.send(&[remove], &[&stranger]).await,
        AnchorError::ConstraintSeeds,
    );
    // Nor can the session key add keys: it is not the owner.
    let session = f.session.insecure_clone();
    f.env.airdrop(&session.pubkey(), 10_000_000).await;
    let mut add = f
        .env
        .add_signer_ix(&owner, Pubkey::new_unique(), expires_at, 1);
    add.accounts[0].pubkey = session.pubkey();
    assert_anchor_error(
        f.env.send(&[add], &[&session]).await,
        AnchorError::ConstraintSeeds,
    );
}

#[tokio::test]
async fn signer_slots_fill_and_bad_registrations_are_refused() {
    let mut f = fixture().await;
    let owner = f.payer.owner.pubkey();
    let now = f.env.now().await;
    for _ in 1..MAX_SESSION_SIGNERS {
        let ix = f
            .env
            .add_signer_ix(&owner, Pubkey::new_unique(), now + 60, 1);
        f.env.send(&[ix], &[&f.payer.owner]).await.unwrap();
    }
    let ix = f
        .env
        .add_signer_ix(&owner, Pubkey::new_unique(), now + 60, 1);
    assert_error(
        f.env.send(&[ix], &[&f.payer.owner]).await,
        MicropayError::SignerSlotsFull,
    );
    let ix = f.env.add_signer_ix(&owner, Pubkey::new_unique(), now, 1);
    assert_error(
        f.env.send(&[ix], &[&f.payer.owner]).await,
        MicropayError::SignerExpired,
    );
    let ix = f.env.add_signer_ix(&owner, Pubkey::default(), now + 60, 1);
    assert_error(
        f.env.send(&[ix], &[&f.payer.owner]).await,
        MicropayError::InvalidSigner,
    );
    // Once the others expire, their slots are reused.
    f.env.set_time(now + 61).await;
    let ix = f
        .env
        .add_signer_ix(&owner, Pubkey::new_unique(), now + 600, 1);
    f.env.send(&[ix], &[&f.payer.owner]).await.unwrap();
}
