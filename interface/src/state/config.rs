//! `Config`: one deployment of micropay for one mint and one sequencer.

use bytemuck::{Pod, Zeroable};
use solana_address::Address;

use super::{AccountLayout, I64, U16, U64};
use crate::discriminator;

layout! {
    /// What the admin may change, only after a notice period.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
    #[repr(C)]
    pub struct Params {
        /// Signs receipts and settles in normal operation.
        pub sequencer: Address,
        /// The wallet whose token account receives collected fees.
        pub fee_destination: Address,
        /// Seconds between a withdrawal request and the withdrawal.
        pub withdrawal_delay: I64,
        /// Seconds after a stream's settlement during which a higher state tops it up.
        pub top_up_window: I64,
        /// The fee charged to payees, never above the fee a payer signed.
        pub fee_bps: U16,
        pub _padding: [u8; 6],
    }
}

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct Config {
        pub discriminator: [u8; 8],
        pub version: u8,
        pub vault_bump: u8,
        pub vault_authority_bump: u8,
        pub decimals: u8,
        pub _padding: [u8; 4],
        pub admin: Address,
        pub mint: Address,
        pub token_program: Address,
        /// The most recent slot hash when the config was created: incarnations derive
        /// from it, so a config keypair reused on another cluster cannot replay states.
        pub deployment_id: [u8; 32],
        pub tab_count: U64,
        /// Fees accrued by settlements and not yet collected.
        pub fees_owed: U64,
        pub params: Params,
        /// Parameters that take effect at `pending_effective_at` (0: nothing pending).
        pub pending: Params,
        pub pending_effective_at: I64,
        /// A sequencer replaced by a change: its receipts still settle until
        /// `outgoing_sequencer_until`.
        pub outgoing_sequencer: Address,
        pub outgoing_sequencer_until: I64,
    }
}

impl AccountLayout for Config {
    const DISCRIMINATOR: [u8; 8] = discriminator::account("Config");
}

impl Config {
    /// The parameters in force at `now`, a pending change included once it is due.
    pub fn params_at(&self, now: i64) -> Params {
        let due = self.pending_effective_at.get();
        if due != 0 && now >= due {
            self.pending
        } else {
            self.params
        }
    }

    /// Whether `key` may sign receipts at `now`: the sequencer in force, or an
    /// outgoing one whose notice has not run out.
    pub fn is_receipt_signer(&self, key: &Address, now: i64) -> bool {
        let due = self.pending_effective_at.get();
        if due != 0 && now >= due {
            // The change is due but not yet folded in: the replaced sequencer is
            // outgoing until the new delay has passed.
            let until = due.saturating_add(self.pending.withdrawal_delay.get());
            return self.pending.sequencer == *key
                || (self.params.sequencer == *key && now < until);
        }
        self.params.sequencer == *key
            || (self.outgoing_sequencer == *key && now < self.outgoing_sequencer_until.get())
    }
}
