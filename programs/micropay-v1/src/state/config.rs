use anchor_lang::prelude::*;

/// Highest relayer fee a config may set: 10%.
pub const MAX_FEE_BPS: u16 = 1_000;
pub const BPS_DENOMINATOR: u64 = 10_000;
/// A payer's funds are never locked for longer than this after asking for them.
pub const MAX_WITHDRAWAL_DELAY: i64 = 30 * 24 * 60 * 60;
/// Payees need time to settle the states they hold before a payer can leave.
pub const MIN_WITHDRAWAL_DELAY: i64 = 60;

/// One deployment for one mint. Lives at a fresh keypair address, never a PDA, so that
/// states bound to its tabs cannot be replayed on another cluster.
#[account]
#[derive(InitSpace)]
pub struct Config {
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    /// Pool token account holding every tab's escrow (PDA `["vault", config]`).
    pub vault: Pubkey,
    pub fee_destination: Pubkey,
    pub fee_bps: u16,
    /// Seconds between `request_withdraw` and `withdraw`.
    pub withdrawal_delay: i64,
    /// Tabs ever opened; the next tab's incarnation. Never decreases.
    pub tabs_opened: u64,
    pub vault_bump: u8,
    pub vault_authority_bump: u8,
}

impl Config {
    pub fn check_fee(fee_bps: u16) -> Result<()> {
        require!(
            fee_bps <= MAX_FEE_BPS,
            crate::errors::MicropayError::FeeTooHigh
        );
        Ok(())
    }

    pub fn check_withdrawal_delay(delay: i64) -> Result<()> {
        require!(
            (MIN_WITHDRAWAL_DELAY..=MAX_WITHDRAWAL_DELAY).contains(&delay),
            crate::errors::MicropayError::BadWithdrawalDelay
        );
        Ok(())
    }

    /// The relayer's cut of a netted payee credit, rounded down in the payee's favour.
    pub fn fee_on(&self, gross: u64) -> Result<u64> {
        let fee = u128::from(gross) * u128::from(self.fee_bps) / u128::from(BPS_DENOMINATOR);
        u64::try_from(fee).map_err(|_| error!(crate::errors::MicropayError::Overflow))
    }
}
