//! Builders for every instruction of one deployment (config) of the program.

use anchor_lang::{InstructionData, ToAccountMetas};
use micropay_protocol::client::{
    event_authority_address, settle_batch, tab_address, vault_address, vault_authority_address,
    SettleAccounts, SignedState,
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The addresses of one deployment (config), and builders for its instructions.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub admin: Pubkey,
    pub config: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    pub fee_destination: Pubkey,
}

impl Deployment {
    pub fn new(
        admin: Pubkey,
        config: Pubkey,
        mint: Pubkey,
        token_program: Pubkey,
        fee_destination: Pubkey,
    ) -> Self {
        Self {
            admin,
            config,
            mint,
            token_program,
            vault: vault_address(&micropay::ID, &config).0,
            fee_destination,
        }
    }

    pub fn init_config_ix(
        &self,
        config: Pubkey,
        fee_bps: u16,
        withdrawal_delay: i64,
        mint: Pubkey,
        fee_destination: Pubkey,
    ) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::InitConfig {
                admin: self.admin,
                config,
                mint,
                vault: vault_address(&micropay::ID, &config).0,
                vault_authority: vault_authority_address(&micropay::ID, &config).0,
                fee_destination,
                token_program: self.token_program,
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::InitConfig {
                args: micropay::InitConfigArgs {
                    fee_bps,
                    withdrawal_delay,
                },
            }
            .data(),
        }
    }

    pub fn tab_address(&self, owner: &Pubkey) -> Pubkey {
        tab_address(&micropay::ID, &self.config, owner).0
    }

    pub fn open_tab_ix(&self, owner: &Pubkey) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::OpenTab {
                owner: *owner,
                config: self.config,
                tab: self.tab_address(owner),
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::OpenTab {}.data(),
        }
    }

    pub fn deposit_ix(
        &self,
        depositor: &Pubkey,
        tab: &Pubkey,
        source: &Pubkey,
        amount: u64,
    ) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::Deposit {
                depositor: *depositor,
                config: self.config,
                tab: *tab,
                vault: self.vault,
                mint: self.mint,
                source: *source,
                token_program: self.token_program,
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::Deposit { amount }.data(),
        }
    }

    pub fn add_signer_ix(
        &self,
        owner: &Pubkey,
        signer: Pubkey,
        expires_at: i64,
        cap: u64,
    ) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::AddSigner {
                owner: *owner,
                tab: self.tab_address(owner),
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::AddSigner {
                args: micropay::AddSignerArgs {
                    signer,
                    expires_at,
                    cap,
                },
            }
            .data(),
        }
    }

    pub fn remove_signer_ix(&self, owner: &Pubkey, signer: Pubkey) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::RemoveSigner {
                owner: *owner,
                tab: self.tab_address(owner),
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::RemoveSigner { signer }.data(),
        }
    }

    pub fn request_withdraw_ix(&self, owner: &Pubkey, amount: u64) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::RequestWithdraw {
                owner: *owner,
                config: self.config,
                tab: self.tab_address(owner),
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::RequestWithdraw { amount }.data(),
        }
    }

    pub fn withdraw_ix(&self, owner: &Pubkey, destination: &Pubkey) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::Withdraw {
                owner: *owner,
                config: self.config,
                tab: self.tab_address(owner),
                vault: self.vault,
                vault_authority: vault_authority_address(&micropay::ID, &self.config).0,
                mint: self.mint,
                destination: *destination,
                token_program: self.token_program,
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::Withdraw {}.data(),
        }
    }

    pub fn close_tab_ix(&self, owner: &Pubkey) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::CloseTab {
                owner: *owner,
                tab: self.tab_address(owner),
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::CloseTab {}.data(),
        }
    }

    pub fn update_config_ix(
        &self,
        args: micropay::UpdateConfigArgs,
        fee_destination: Pubkey,
    ) -> Instruction {
        Instruction {
            program_id: micropay::ID,
            accounts: micropay::accounts::UpdateConfig {
                admin: self.admin,
                config: self.config,
                fee_destination,
                event_authority: event_authority_address(&micropay::ID).0,
                program: micropay::ID,
            }
            .to_account_metas(None),
            data: micropay::instruction::UpdateConfig { args }.data(),
        }
    }

    pub fn settle_accounts(&self) -> SettleAccounts {
        SettleAccounts {
            program_id: micropay::ID,
            config: self.config,
            mint: self.mint,
            fee_destination: self.fee_destination,
            token_program: self.token_program,
        }
    }

    pub fn settle_ixs(
        &self,
        states: &[&SignedState],
    ) -> Result<[Instruction; 2], micropay_protocol::ProtocolError> {
        settle_batch(&self.settle_accounts(), states)
    }
}

impl Deployment {
    /// The deployment an on-chain config describes.
    pub fn from_config(config: Pubkey, account: &micropay::state::Config) -> Self {
        Self::new(
            account.admin,
            config,
            account.mint,
            account.token_program,
            account.fee_destination,
        )
    }
}
