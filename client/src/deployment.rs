//! A deployment read from the chain: its config, and the addresses and instructions
//! that follow from it.

use micropay_interface::{
    client::{self as builders, Payout},
    state::{Config, Params},
};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use crate::{
    accounts::{self, AccountError},
    amount,
};

#[derive(Clone, Copy, Debug)]
pub struct Deployment {
    pub address: Pubkey,
    pub config: Config,
}

impl Deployment {
    pub async fn load(rpc: &RpcClient, address: &Pubkey) -> Result<Self, AccountError> {
        Ok(Self {
            address: *address,
            config: accounts::config(rpc, address).await?,
        })
    }

    pub fn mint(&self) -> Pubkey {
        self.config.mint
    }

    pub fn token_program(&self) -> Pubkey {
        self.config.token_program
    }

    pub fn decimals(&self) -> u8 {
        self.config.decimals
    }

    /// The parameters in force at `now`.
    pub fn params(&self, now: i64) -> Params {
        self.config.params_at(now)
    }

    pub fn tab(&self, owner: &Pubkey) -> Pubkey {
        builders::tab_address(&self.address, owner)
    }

    pub fn credit(&self, wallet: &Pubkey) -> Pubkey {
        builders::credit_address(&self.address, wallet)
    }

    pub fn vault(&self) -> Pubkey {
        builders::vault_address(&self.address)
    }

    /// `wallet`'s associated token account of the deployment's mint.
    pub fn associated(&self, wallet: &Pubkey) -> Pubkey {
        builders::associated_token_address(wallet, &self.config.mint, &self.config.token_program)
    }

    /// Creates `wallet`'s associated token account if it is missing, paid by `payer`.
    pub fn create_associated_ix(&self, payer: &Pubkey, wallet: &Pubkey) -> Instruction {
        spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            payer,
            wallet,
            &self.config.mint,
            &self.config.token_program,
        )
    }

    /// Where a payout to `wallet` goes: `to`, or else the wallet's associated token
    /// account with the instruction creating it if missing (paid by the wallet).
    pub fn destination(
        &self,
        wallet: &Pubkey,
        to: Option<Pubkey>,
    ) -> (Pubkey, Option<Instruction>) {
        match to {
            Some(to) => (to, None),
            None => (
                self.associated(wallet),
                Some(self.create_associated_ix(wallet, wallet)),
            ),
        }
    }

    /// A payout out of the vault into `destination`.
    pub fn payout<'a>(&'a self, destination: &'a Pubkey) -> Payout<'a> {
        Payout {
            config: &self.address,
            mint: &self.config.mint,
            destination,
            token_program: &self.config.token_program,
        }
    }

    pub fn deposit_ix(
        &self,
        depositor: &Pubkey,
        owner: &Pubkey,
        source: &Pubkey,
        value: u64,
    ) -> Instruction {
        builders::deposit(
            &builders::Deposit {
                depositor,
                config: &self.address,
                tab: &self.tab(owner),
                mint: &self.config.mint,
                source,
                token_program: &self.config.token_program,
            },
            value,
        )
    }

    pub fn parse(&self, ui: &str) -> Result<u64, amount::AmountError> {
        amount::parse_ui(ui, self.decimals())
    }

    pub fn format(&self, base: u64) -> String {
        amount::format_ui(base, self.decimals())
    }
}
