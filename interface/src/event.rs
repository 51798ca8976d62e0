//! Events, logged with `sol_log_data` as Anchor's `emit!` does: one data field that is
//! the event's 8-byte discriminator followed by its fixed layout. Clients read them
//! from the `Program data: <base64>` log lines; [`decode`] parses one.

use bytemuck::{Pod, Zeroable};
use solana_address::Address;

use crate::{
    discriminator,
    state::{I64, U32, U64},
};

pub trait Event: Pod {
    const DISCRIMINATOR: [u8; 8];
}

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty,)* })*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
            #[repr(C)]
            pub struct $name { $(pub $field: $ty,)* }

            impl Event for $name {
                const DISCRIMINATOR: [u8; 8] = discriminator::event(stringify!($name));
            }

            impl crate::state::Described for $name {
                const NAME: &'static str = stringify!($name);
                const FIELDS: &'static [(&'static str, &'static str)] =
                    &[$((stringify!($field), stringify!($ty)),)*];
            }
        )*

        /// Any micropay event.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum AnyEvent {
            $($name($name),)*
        }

        /// Parses one logged event (discriminator and body).
        pub fn decode(data: &[u8]) -> Option<AnyEvent> {
            if data.len() < 8 {
                return None;
            }
            let (discriminator, body) = data.split_at(8);
            $(
                if discriminator == $name::DISCRIMINATOR {
                    return bytemuck::try_pod_read_unaligned::<$name>(body)
                        .ok()
                        .map(AnyEvent::$name);
                }
            )*
            None
        }
    };
}

events! {
    ConfigInitialized { config: Address, mint: Address, sequencer: Address, deployment_id: [u8; 32], }
    /// A parameter change was scheduled; it takes effect at `effective_at`.
    ConfigUpdateScheduled { config: Address, effective_at: I64, }
    TabOpened { tab: Address, owner: Address, incarnation: U64, }
    /// `amount` is what the vault received (after any transfer fee).
    Deposited { tab: Address, amount: U64, balance: U64, }
    SignerAdded { tab: Address, slot: u8, key: Address, expires_at: I64, cap: U64, valid_until: I64, }
    SignerRemoved { tab: Address, slot: u8, valid_until: I64, }
    WithdrawRequested { tab: Address, amount: U64, available_at: I64, }
    Withdrawn { tab: Address, amount: U64, balance: U64, }
    TabClosed { tab: Address, amount: U64, }
    /// One stream's state settled: an open epoch, or a top-up paying `paid` more.
    StreamSettled { tab: Address, slot: u8, top_up: u8, epoch: U64, seq: U32, paid: U64, }
    /// One payee's netted amount: transferred to the token account the settlement
    /// named for it, or `credited` to its credit account.
    PayeePaid { wallet: Address, net: U64, fee: U64, credited: u8, }
    CreditClaimed { wallet: Address, amount: U64, }
    FeesCollected { amount: U64, }
}
