//! `Credit`, PDA `["credit", config, wallet]`: what a payee is owed because its token
//! account could not receive when it was paid.

use bytemuck::{Pod, Zeroable};
use solana_address::Address;

use super::{AccountLayout, U64};
use crate::discriminator;

layout! {
    #[derive(Clone, Copy, Debug, Pod, Zeroable)]
    #[repr(C)]
    pub struct Credit {
        pub discriminator: [u8; 8],
        pub version: u8,
        pub bump: u8,
        pub _padding: [u8; 6],
        pub config: Address,
        pub wallet: Address,
        pub amount: U64,
        /// Paid the account's rent; gets it back when the credit is claimed.
        pub rent_payer: Address,
    }
}

impl AccountLayout for Credit {
    const DISCRIMINATOR: [u8; 8] = discriminator::account("Credit");
}
