use super::*;
use bytemuck::Zeroable;
use micropay_api::StreamStatus;
use micropay_interface::state::{I64, KEY_KIND_ED25519, U32, U64};
use micropay_protocol::Receipted;
use solana_sdk::signature::{Keypair, Signer};

struct World {
    owner: Keypair,
    session: Keypair,
    tab: Tab,
    tab_key: Pubkey,
    payee: Pubkey,
    signatures: VerifiedSignatures,
}

fn slot(key: &Keypair, epoch: u64, cap: u64, spent: u64) -> Slot {
    let mut slot = Slot::zeroed();
    slot.key = key.pubkey();
    slot.key_kind = KEY_KIND_ED25519;
    slot.expires_at = I64::new(10_000);
    slot.valid_until = I64::new(20_000);
    slot.cap = U64::new(cap);
    slot.spent = U64::new(spent);
    slot.epoch = U64::new(epoch);
    slot
}

fn world() -> World {
    let owner = Keypair::new();
    let session = Keypair::new();
    let mut tab = Tab::zeroed();
    tab.owner = owner.pubkey();
    tab.incarnation = U64::new(3);
    tab.balance = U64::new(10_000);
    tab.withdraw_amount = U64::new(2_000);
    tab.slots[0] = slot(&owner, 5, 0, 0);
    tab.slots[0].expires_at = I64::new(i64::MAX);
    tab.slots[0].valid_until = I64::new(i64::MAX);
    tab.slots[1] = slot(&session, 2, 1_000, 100);
    World {
        owner,
        session,
        tab,
        tab_key: Pubkey::new_unique(),
        payee: Pubkey::new_unique(),
        signatures: VerifiedSignatures::default(),
    }
}

fn ctx<'a>(w: &'a World, stored: &'a [StoredEpoch]) -> TabContext<'a> {
    TabContext {
        tab: &w.tab,
        stored,
        required_fee_bps: 30,
        now: 1_000,
        min_key_validity: 600,
        signatures: &w.signatures,
    }
}

fn state(w: &World, slot: u8, epoch: u64) -> StreamState {
    StreamState::new(w.tab_key, 3, slot, epoch, 30)
}

fn signed(state: StreamState, key: &Keypair) -> SignedStream {
    SignedStream::sign(state, key).unwrap()
}

fn stored(signed: SignedStream, status: StreamStatus) -> StoredEpoch {
    StoredEpoch {
        receipted: Receipted {
            signed,
            receipt: [0; 64],
        },
        status,
        opened_at_ms: 0,
        updated_at_ms: 0,
        settle_tx: None,
    }
}

#[test]
fn the_first_tip_opens_the_chain_epoch_of_its_stream() {
    let w = world();
    let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
    let checked = ctx(&w, &[]).check(w.tab_key, &signed(s, &w.owner)).unwrap();
    assert_eq!(
        checked,
        Checked {
            previous_seq: None,
            tip: (w.payee, 10)
        }
    );
    let s = state(&w, 1, 2).tip(w.payee, 10).unwrap();
    assert!(ctx(&w, &[])
        .check(w.tab_key, &signed(s, &w.session))
        .is_ok());
}

#[test]
fn a_full_stream_goes_on_in_its_next_epoch() {
    let w = world();
    let mut full = state(&w, 0, 5);
    for _ in 0..micropay_protocol::MAX_ENTRIES {
        full = full.tip(Pubkey::new_unique(), 1).unwrap();
    }
    let latest = [stored(signed(full.clone(), &w.owner), StreamStatus::Open)];
    let c = ctx(&w, &latest);
    // Tips to the payees it names still extend it.
    let payee = *full.entries.keys().next().unwrap();
    let more = full.tip_or_next_epoch(payee, 1).unwrap();
    assert_eq!(more.epoch, 5);
    assert!(c.check(w.tab_key, &signed(more, &w.owner)).is_ok());
    // A tip to another payee starts the next epoch.
    let next = full.tip_or_next_epoch(w.payee, 1).unwrap();
    assert_eq!((next.epoch, next.seq), (6, 1));
    assert!(c.check(w.tab_key, &signed(next, &w.owner)).is_ok());
    // Not an epoch further, nor a new epoch while the state has room.
    let skipped = full.next_epoch().next_epoch().tip(w.payee, 1).unwrap();
    assert!(matches!(
        c.check(w.tab_key, &signed(skipped, &w.owner)),
        Err(Rejection::Stale(_))
    ));
    let roomy = state(&w, 0, 5).tip(w.payee, 1).unwrap();
    let latest = [stored(signed(roomy.clone(), &w.owner), StreamStatus::Open)];
    let early = roomy.next_epoch().tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &latest).check(w.tab_key, &signed(early, &w.owner)),
        Err(Rejection::Stale(_))
    ));
}

#[test]
fn only_the_next_state_by_one_tip_passes() {
    let w = world();
    let s1 = state(&w, 0, 5).tip(w.payee, 10).unwrap();
    let latest = [stored(signed(s1.clone(), &w.owner), StreamStatus::Open)];
    let c = ctx(&w, &latest);
    let s2 = s1.tip(w.payee, 5).unwrap();
    assert_eq!(
        c.check(w.tab_key, &signed(s2.clone(), &w.owner)).unwrap(),
        Checked {
            previous_seq: Some(1),
            tip: (w.payee, 5)
        }
    );
    // The stored state again, or a skipped seq: stale.
    let replay = c.check(w.tab_key, &latest[0].receipted.signed);
    assert!(matches!(replay, Err(Rejection::Stale(_))));
    let s3 = s2.tip(w.payee, 1).unwrap();
    assert!(matches!(
        c.check(w.tab_key, &signed(s3, &w.owner)),
        Err(Rejection::Stale(_))
    ));
    // Two tips in one step.
    let mut two = s1
        .tip(w.payee, 5)
        .unwrap()
        .tip(Pubkey::new_unique(), 5)
        .unwrap();
    two.seq = 2;
    assert!(matches!(
        c.check(w.tab_key, &signed(two, &w.owner)),
        Err(Rejection::Policy(_))
    ));
    // A payee dropped.
    let mut dropped = state(&w, 0, 5).tip(Pubkey::new_unique(), 11).unwrap();
    dropped.seq = 2;
    assert!(matches!(
        c.check(w.tab_key, &signed(dropped, &w.owner)),
        Err(Rejection::Policy(_))
    ));
}

#[test]
fn signatures_must_be_the_slot_keys() {
    let w = world();
    let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
    let by_session = signed(s.clone(), &w.session);
    assert_eq!(
        ctx(&w, &[]).check(w.tab_key, &by_session),
        Err(Rejection::BadSignature)
    );
    let mut forged = signed(s, &w.owner);
    forged.state = forged.state.tip(w.payee, 1).unwrap();
    forged.state.seq = 1;
    assert_eq!(
        ctx(&w, &[]).check(w.tab_key, &forged),
        Err(Rejection::BadSignature)
    );
    let empty_slot = state(&w, 2, 0).tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(empty_slot, &w.owner)),
        Err(Rejection::UnknownStream(_))
    ));
    let beyond = state(&w, MAX_SLOTS as u8, 0).tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(beyond, &w.owner)),
        Err(Rejection::UnknownStream(_))
    ));
}

/// `S + L`: the same point equation holds, but the encoding is not canonical; the
/// strict predicate (and so the program) refuses it.
fn non_canonical(signature: [u8; 64]) -> [u8; 64] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = signature;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(out[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

#[test]
fn signatures_the_program_would_refuse_are_refused() {
    let mut w = world();
    let s = state(&w, 0, 5).tip(w.payee, 10).unwrap();
    let good = signed(s.clone(), &w.owner);
    assert!(ctx(&w, &[]).check(w.tab_key, &good).is_ok());
    let malleated = SignedStream {
        state: s.clone(),
        signature: non_canonical(good.signature),
    };
    assert_eq!(
        ctx(&w, &[]).check(w.tab_key, &malleated),
        Err(Rejection::BadSignature)
    );
    // A small-order key (the identity point) in the slot: nothing verifies.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    w.tab.slots[0].key = Pubkey::new_from_array(identity);
    let forged = SignedStream {
        state: s,
        signature: [0u8; 64],
    };
    assert_eq!(
        ctx(&w, &[]).check(w.tab_key, &forged),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn funds_cover_every_streams_unsettled_states() {
    let mut w = world();
    // 10,000 balance - 2,000 pending withdrawal = 8,000.
    let session_open = stored(
        signed(state(&w, 1, 2).tip(w.payee, 900).unwrap(), &w.session),
        StreamStatus::Open,
    );
    let owner_closed = stored(
        signed(state(&w, 0, 5).tip(w.payee, 3_000).unwrap(), &w.owner),
        StreamStatus::Closed,
    );
    let stored_all = [owner_closed, session_open];
    let c = ctx(&w, &stored_all);
    let ok = state(&w, 0, 6).tip(w.payee, 4_100).unwrap();
    assert!(c.check(w.tab_key, &signed(ok, &w.owner)).is_ok());
    let over = state(&w, 0, 6).tip(w.payee, 4_101).unwrap();
    assert_eq!(
        c.check(w.tab_key, &signed(over, &w.owner)),
        Err(Rejection::InsufficientFunds {
            available: 4_100,
            needed: 4_101
        })
    );
    // Once the chain settled the closed epoch at a lower seq, only the difference
    // still counts (a top-up is pending).
    w.tab.slots[0].epoch = U64::new(6);
    w.tab.slots[0].last_seq = U32::new(0);
    w.tab.slots[0].last_total = U64::new(1_000);
    w.tab.balance = U64::new(9_000);
    let c = ctx(&w, &stored_all);
    let ok = state(&w, 0, 6).tip(w.payee, 4_100).unwrap();
    assert!(c.check(w.tab_key, &signed(ok, &w.owner)).is_ok());
    let over = state(&w, 0, 6).tip(w.payee, 4_101).unwrap();
    assert!(matches!(
        c.check(w.tab_key, &signed(over, &w.owner)),
        Err(Rejection::InsufficientFunds { .. })
    ));
}

#[test]
fn session_keys_keep_to_cap_expiry_and_removal() {
    let mut w = world();
    // cap 1,000, spent 100.
    let ok = state(&w, 1, 2).tip(w.payee, 900).unwrap();
    assert!(ctx(&w, &[])
        .check(w.tab_key, &signed(ok, &w.session))
        .is_ok());
    let over = state(&w, 1, 2).tip(w.payee, 901).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(over.clone(), &w.session)),
        Err(Rejection::Policy(_))
    ));
    w.tab.slots[1].cap = U64::new(2_000);
    w.tab.slots[1].expires_at = I64::new(1_500);
    let soon = state(&w, 1, 2).tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(soon.clone(), &w.session)),
        Err(Rejection::Policy(_))
    ));
    // Removed: `remove_signer` ends expiry now and validity after the delay.
    w.tab.slots[1].expires_at = I64::new(900);
    w.tab.slots[1].valid_until = I64::new(4_600);
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(soon, &w.session)),
        Err(Rejection::Policy(_))
    ));
}

#[test]
fn other_lives_settled_epochs_and_low_fees_are_refused() {
    let w = world();
    let mut old_life = state(&w, 0, 5).tip(w.payee, 1).unwrap();
    old_life.incarnation = 2;
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(old_life, &w.owner)),
        Err(Rejection::Stale(_))
    ));
    let settled = state(&w, 0, 4).tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(settled, &w.owner)),
        Err(Rejection::Stale(_))
    ));
    let mut cheap = state(&w, 0, 5);
    cheap.fee_bps = 29;
    let cheap = cheap.tip(w.payee, 1).unwrap();
    assert!(matches!(
        ctx(&w, &[]).check(w.tab_key, &signed(cheap, &w.owner)),
        Err(Rejection::Policy(_))
    ));
}

#[test]
fn a_closed_epoch_moves_tips_to_the_next() {
    let w = world();
    let closed = [stored(
        signed(state(&w, 0, 5).tip(w.payee, 1).unwrap(), &w.owner),
        StreamStatus::Closed,
    )];
    let (base, previous) = ctx(&w, &closed).base(w.tab_key, 0).unwrap();
    assert_eq!((base.epoch, base.seq, previous), (6, 0, None));
}
