//! `Tab`, PDA `["tab", config, owner]`: a payer's escrowed balance and its streams.

use bytemuck::{Pod, Zeroable};
use solana_address::Address;

use super::{AccountLayout, I64, U16, U32, U64};
use crate::{discriminator, MAX_SLOTS};

pub const KEY_KIND_NONE: u8 = 0;
pub const KEY_KIND_ED25519: u8 = 1;

layout! {
    /// One stream: a key that signs states, its limits, its epoch and its last
    /// settlement (what a top-up is checked against).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Slot {
        pub key: Address,
        /// `KEY_KIND_*`; room for another signature scheme without migrating tabs.
        pub key_kind: u8,
        pub _padding: [u8; 7],
        /// The sequencer receipts this key's states only before this time.
        pub expires_at: I64,
        /// States signed by this key settle until this time.
        pub valid_until: I64,
        /// The most this key may spend in its life in the slot, and what it has spent.
        pub cap: U64,
        pub spent: U64,
        /// The stream's open epoch; it never resets, even when the slot is reused.
        pub epoch: U64,
        pub last_seq: U32,
        pub last_count: U16,
        pub _padding2: [u8; 2],
        pub last_total: U64,
        pub last_entries_hash: [u8; 32],
        /// When epoch `epoch - 1` was settled (0: never). A top-up's window starts here.
        pub last_settled_at: I64,
    }
}

impl Slot {
    pub fn has_key(&self) -> bool {
        self.key_kind != KEY_KIND_NONE
    }

    /// The sequencer may receipt this key's states.
    pub fn is_live(&self, now: i64) -> bool {
        self.has_key() && now < self.expires_at.get()
    }

    /// This key's states may still settle.
    pub fn is_valid(&self, now: i64) -> bool {
        self.has_key() && now <= self.valid_until.get()
    }

    /// Whether the last settlement can still be topped up at `now`.
    pub fn in_top_up_window(&self, now: i64, window: i64) -> bool {
        let settled_at = self.last_settled_at.get();
        settled_at != 0 && now <= settled_at.saturating_add(window)
    }
}

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct Tab {
        pub discriminator: [u8; 8],
        pub version: u8,
        pub bump: u8,
        pub _padding: [u8; 6],
        pub config: Address,
        pub owner: Address,
        /// Binds signed states to this life of the tab; never reused.
        pub incarnation: U64,
        pub balance: U64,
        pub withdraw_amount: U64,
        /// When the pending withdrawal was requested (0: none).
        pub withdraw_requested_at: I64,
        pub slots: [Slot; MAX_SLOTS],
    }
}

impl AccountLayout for Tab {
    const DISCRIMINATOR: [u8; 8] = discriminator::account("Tab");
}

/// Where a signed state stands with the chain, as its tab now holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not settled yet: its epoch is the slot's open one, or a later one.
    Pending,
    /// Its epoch was settled at a lower seq, and the top-up window is still open.
    TopUp,
    /// Settled at its seq or higher (or an older epoch the chain has moved past).
    Settled,
    /// Settled at a lower seq, and the window has closed.
    Short,
    /// Can never settle: another life of the tab, no such slot, or the slot's key is no
    /// longer valid.
    Void,
}

impl Tab {
    /// Where a state of this tab's stream `slot`, for `incarnation`, `epoch` and `seq`,
    /// stands at `now` under the config's top-up `window`.
    pub fn standing(
        &self,
        incarnation: u64,
        slot: u8,
        (epoch, seq): (u64, u32),
        now: i64,
        window: i64,
    ) -> Standing {
        let Some(slot) = self.slots.get(slot as usize) else {
            return Standing::Void;
        };
        if incarnation != self.incarnation.get() {
            return Standing::Void;
        }
        let chain_epoch = slot.epoch.get();
        if epoch >= chain_epoch {
            return if slot.is_valid(now) {
                Standing::Pending
            } else {
                Standing::Void
            };
        }
        if epoch + 1 < chain_epoch || slot.last_seq.get() >= seq {
            return Standing::Settled;
        }
        if slot.in_top_up_window(now, window) && slot.is_valid(now) {
            Standing::TopUp
        } else {
            Standing::Short
        }
    }

    /// Whether any stream's last settlement can still be topped up.
    pub fn any_top_up_window_open(&self, now: i64, window: i64) -> bool {
        self.slots
            .iter()
            .any(|slot| slot.in_top_up_window(now, window))
    }
}
