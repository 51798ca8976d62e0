//! `init_config`: a deployment for one mint and one sequencer, with its vault.
//!
//! Accounts: admin (signer, writable), config (signer, writable, fresh), mint, vault
//! (writable, PDA `["vault", config]`), vault_authority (PDA), token_program,
//! system_program. Args: `Params`.

use micropay_interface::{
    event::ConfigInitialized,
    instruction::{fixed_args, ConfigArgs},
    seeds,
    state::{AccountLayout, Config, I64, U64},
    MicropayError, ACCOUNT_VERSION, ID,
};
use pinocchio::{
    cpi::Seed,
    sysvars::{get_sysvar, slot_hashes::SLOTHASHES_ID},
    AccountView, Address, ProgramResult,
};
use pinocchio_token::instructions::InitializeAccount3;

use super::{
    shared::{
        accounts::{require_signer, require_writable},
        create::{create_or_adopt, require_system_program, NewAccount},
        event::emit,
        mint::check_mint,
    },
    update_config::validate_params,
};

#[inline(never)]
pub fn process(accounts: &mut [AccountView], args: &[u8]) -> ProgramResult {
    let [admin, config, mint, vault, vault_authority, token_program, system_program, ..] = accounts
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    let params: ConfigArgs = *fixed_args(args)?;
    require_signer(admin)?;
    require_writable(admin)?;
    require_signer(config)?;
    require_writable(config)?;
    require_writable(vault)?;
    require_system_program(system_program)?;
    validate_params(&params)?;
    let (decimals, vault_len) = check_mint(mint, token_program.address())?;

    let config_key = *config.address();
    let (vault_key, vault_bump) =
        Address::find_program_address(&[seeds::VAULT, config_key.as_ref()], &ID);
    let (authority_key, authority_bump) =
        Address::find_program_address(&[seeds::VAULT_AUTHORITY, config_key.as_ref()], &ID);
    if vault.address() != &vault_key || vault_authority.address() != &authority_key {
        return Err(MicropayError::WrongPda.into());
    }

    create_or_adopt(&NewAccount {
        payer: admin,
        account: config,
        space: Config::LEN,
        owner: &ID,
        seeds: &[],
    })?;
    let bump = [vault_bump];
    create_or_adopt(&NewAccount {
        payer: admin,
        account: vault,
        space: vault_len,
        owner: token_program.address(),
        seeds: &[
            Seed::from(seeds::VAULT),
            Seed::from(config_key.as_ref()),
            Seed::from(&bump),
        ],
    })?;
    InitializeAccount3::new(vault, mint, &authority_key)
        .invoke_with_program(token_program.address())?;

    // The newest slot hash: the first entry after the SlotHashes length prefix.
    let mut newest = [0u8; 40];
    get_sysvar(&mut newest, &SLOTHASHES_ID, 8)?;
    let deployment_id: [u8; 32] = newest[8..].try_into().expect("32 bytes");

    let mut data = config.try_borrow_mut()?;
    data.copy_from_slice(bytemuck::bytes_of(&Config {
        discriminator: Config::DISCRIMINATOR,
        version: ACCOUNT_VERSION,
        vault_bump,
        vault_authority_bump: authority_bump,
        decimals,
        _padding: [0; 4],
        admin: *admin.address(),
        mint: *mint.address(),
        token_program: *token_program.address(),
        deployment_id,
        tab_count: U64::new(0),
        fees_owed: U64::new(0),
        params,
        pending: params,
        pending_effective_at: I64::new(0),
        outgoing_sequencer: params.sequencer,
        outgoing_sequencer_until: I64::new(0),
    }));
    emit(&ConfigInitialized {
        config: config_key,
        mint: *mint.address(),
        sequencer: params.sequencer,
        deployment_id,
    });
    Ok(())
}
