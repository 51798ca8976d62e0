use anchor_lang::prelude::*;

use crate::errors::MicropayError;

pub const MAX_SESSION_SIGNERS: usize = 4;

/// A key the owner authorized to sign states on its behalf, until `expires_at`,
/// for at most `cap` in total.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct SessionSigner {
    pub key: Pubkey,
    pub expires_at: i64,
    pub cap: u64,
    pub spent: u64,
}

impl SessionSigner {
    pub fn is_empty(&self) -> bool {
        self.key == Pubkey::default()
    }
}

/// A payer's escrow within one config, at PDA `["tab", config, owner]`.
#[account]
#[derive(InitSpace)]
pub struct Tab {
    pub config: Pubkey,
    pub owner: Pubkey,
    /// Unique within the config for every opening of this tab.
    pub incarnation: u64,
    /// The only epoch `settle` accepts; incremented by every settlement.
    pub epoch: u64,
    pub balance: u64,
    pub pending_withdrawal: u64,
    pub withdraw_unlock_at: i64,
    /// Everything this incarnation has paid out through settlements.
    pub settled_total: u64,
    pub signers: [SessionSigner; MAX_SESSION_SIGNERS],
    pub bump: u8,
}

impl Tab {
    /// Checks that `signer` may authorize a settlement of `total` now, and records the
    /// spending of a session signer.
    pub fn authorize(&mut self, signer: &Pubkey, total: u64, now: i64) -> Result<()> {
        if *signer == self.owner {
            return Ok(());
        }
        let session = self
            .signers
            .iter_mut()
            .find(|s| !s.is_empty() && s.key == *signer)
            .ok_or(MicropayError::UnauthorizedSigner)?;
        require!(now < session.expires_at, MicropayError::UnauthorizedSigner);
        let spent = session
            .spent
            .checked_add(total)
            .ok_or(MicropayError::Overflow)?;
        require!(spent <= session.cap, MicropayError::SessionCapExceeded);
        session.spent = spent;
        Ok(())
    }

    /// Debits a settled epoch and moves to the next one.
    pub fn settle_epoch(&mut self, total: u64) -> Result<()> {
        require!(total <= self.balance, MicropayError::InsufficientBalance);
        self.balance -= total;
        self.settled_total = self
            .settled_total
            .checked_add(total)
            .ok_or(MicropayError::Overflow)?;
        self.epoch = self.epoch.checked_add(1).ok_or(MicropayError::Overflow)?;
        Ok(())
    }
}
