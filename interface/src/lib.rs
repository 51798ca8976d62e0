//! The micropay program's interface: what clients need to talk to the program without
//! linking it. Ids and seeds, account layouts (zero-copy, every field unaligned
//! little-endian so that a view of account data is always sound), instruction data,
//! error codes and event layouts. Discriminators follow Anchor's conventions.
#![no_std]

#[cfg(feature = "client")]
extern crate std;

/// Declares an account or argument layout and records its field names and types,
/// from which the IDL is generated.
macro_rules! layout {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $crate::state::Described for $name {
            const NAME: &'static str = stringify!($name);
            const FIELDS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), stringify!($ty)),)*];
        }
    };
}

pub mod discriminator;
pub mod error;
pub mod event;
pub mod instruction;
pub mod state;

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "idl")]
pub mod idl;

pub use error::MicropayError;
pub use solana_address::Address;

solana_address::declare_id!("6YuTSm4uRcePFLaQywfqZEC1C9qMK52AkSmcmnhsXu6G");

/// PDA seeds. Every PDA is `[seed, config, ...]` under the program id.
pub mod seeds {
    /// `["tab", config, owner]`: a payer's tab.
    pub const TAB: &[u8] = b"tab";
    /// `["credit", config, wallet]`: what is owed to a payee that could not be paid.
    pub const CREDIT: &[u8] = b"credit";
    /// `["vault", config]`: the config's token account holding every tab's escrow.
    pub const VAULT: &[u8] = b"vault";
    /// `["vault_authority", config]`: the vault's token-account owner.
    pub const VAULT_AUTHORITY: &[u8] = b"vault_authority";
}

/// Stream slots per tab: slot 0 is the owner's, the rest hold session signers.
pub const MAX_SLOTS: usize = 5;
/// Payees per signed state, a protocol constant.
pub use micropay_protocol::MAX_ENTRIES;
/// The highest fee a config may charge: 10%.
pub const MAX_FEE_BPS: u16 = 1_000;
/// The shortest withdrawal delay: one hour (and at least twice the top-up window).
pub const MIN_WITHDRAWAL_DELAY: i64 = 3_600;
/// The longest withdrawal delay: 30 days.
pub const MAX_WITHDRAWAL_DELAY: i64 = 30 * 86_400;
/// The shortest top-up window.
pub const MIN_TOP_UP_WINDOW: i64 = 60;
/// Layout version written into every account.
pub const ACCOUNT_VERSION: u8 = 1;

/// The memo program, invoked before paying a token account that requires memos.
pub const MEMO_PROGRAM_ID: Address =
    Address::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
pub const TOKEN_PROGRAM_ID: Address =
    Address::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM_ID: Address =
    Address::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
pub const SYSTEM_PROGRAM_ID: Address = Address::new_from_array([0; 32]);
