//! Off-chain conveniences: signing epoch states, PDA derivation, and building the
//! precompile and `settle` instructions exactly as the program expects them.

use std::{collections::BTreeSet, vec::Vec};

use borsh::BorshSerialize;
use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_signature::Signature;
use solana_signer::{Signer, SignerError};

use crate::{
    precompile::{build_precompile_data, ED25519_PROGRAM_ID},
    seeds,
    settle::SETTLE_DISCRIMINATOR,
    EpochState, ProtocolError, SettleItem,
};

pub const INSTRUCTIONS_SYSVAR_ID: Address =
    Address::from_str_const("Sysvar1nstructions1111111111111111111111111");

/// An epoch state with the signature that authorizes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedState {
    pub state: EpochState,
    pub signer: Address,
    pub signature: Signature,
}

impl SignedState {
    /// Signs `state` with the tab owner's or a session key.
    pub fn sign(state: EpochState, signer: &dyn Signer) -> Result<Self, SignerError> {
        let signature = signer.try_sign_message(&state.message().to_bytes())?;
        Ok(Self {
            state,
            signer: signer.try_pubkey()?,
            signature,
        })
    }

    /// Checks the signature over this state's message, strictly (as the precompile does).
    pub fn verify(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(self.signer.as_array()) else {
            return false;
        };
        let signature = DalekSignature::from_bytes(self.signature.as_array());
        key.verify_strict(&self.state.message().to_bytes(), &signature)
            .is_ok()
    }
}

pub fn tab_address(program_id: &Address, config: &Address, owner: &Address) -> (Address, u8) {
    Address::find_program_address(&[seeds::TAB, config.as_ref(), owner.as_ref()], program_id)
}

pub fn vault_address(program_id: &Address, config: &Address) -> (Address, u8) {
    Address::find_program_address(&[seeds::VAULT, config.as_ref()], program_id)
}

pub fn vault_authority_address(program_id: &Address, config: &Address) -> (Address, u8) {
    Address::find_program_address(&[seeds::VAULT_AUTHORITY, config.as_ref()], program_id)
}

pub fn event_authority_address(program_id: &Address) -> (Address, u8) {
    Address::find_program_address(&[seeds::EVENT_AUTHORITY], program_id)
}

/// The precompile instruction verifying every state's signature, in canonical layout.
pub fn ed25519_instruction(states: &[&SignedState]) -> Result<Instruction, ProtocolError> {
    let signed: Vec<_> = states
        .iter()
        .map(|s| {
            (
                s.signer.to_bytes(),
                *s.signature.as_array(),
                s.state.message().to_bytes(),
            )
        })
        .collect();
    Ok(Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: Vec::new(),
        data: build_precompile_data(&signed)?,
    })
}

/// The fixed accounts of `settle`, as the deployment (config) defines them.
#[derive(Clone, Copy, Debug)]
pub struct SettleAccounts {
    pub program_id: Address,
    pub config: Address,
    pub mint: Address,
    pub fee_destination: Address,
    pub token_program: Address,
}

/// The `settle` instruction for `items`, item `i` settling `tabs[i]`.
pub fn settle_instruction(
    accounts: &SettleAccounts,
    tabs: &[Address],
    payees: &[Address],
    items: &[SettleItem],
) -> Instruction {
    let program_id = accounts.program_id;
    let mut metas = std::vec![
        AccountMeta::new_readonly(accounts.config, false),
        AccountMeta::new(vault_address(&program_id, &accounts.config).0, false),
        AccountMeta::new_readonly(
            vault_authority_address(&program_id, &accounts.config).0,
            false
        ),
        AccountMeta::new_readonly(accounts.mint, false),
        AccountMeta::new(accounts.fee_destination, false),
        AccountMeta::new_readonly(accounts.token_program, false),
        AccountMeta::new_readonly(INSTRUCTIONS_SYSVAR_ID, false),
        AccountMeta::new_readonly(event_authority_address(&program_id).0, false),
        AccountMeta::new_readonly(program_id, false),
    ];
    metas.extend(tabs.iter().map(|tab| AccountMeta::new(*tab, false)));
    metas.extend(payees.iter().map(|payee| AccountMeta::new(*payee, false)));
    let mut data = SETTLE_DISCRIMINATOR.to_vec();
    items
        .to_vec()
        .serialize(&mut data)
        .expect("serializing into a Vec cannot fail");
    Instruction {
        program_id,
        accounts: metas,
        data,
    }
}

/// The two instructions that settle `states` (one per tab) in one transaction:
/// the precompile verifying their signatures, then `settle`.
/// Payees are listed once each, in first-seen order.
pub fn settle_batch(
    accounts: &SettleAccounts,
    states: &[&SignedState],
) -> Result<[Instruction; 2], ProtocolError> {
    let mut seen = BTreeSet::new();
    let payees: Vec<Address> = states
        .iter()
        .flat_map(|s| s.state.entries.keys())
        .filter(|payee| seen.insert(**payee))
        .copied()
        .collect();
    let items = states
        .iter()
        .map(|s| s.state.settle_item(&payees))
        .collect::<Option<Vec<_>>>()
        .ok_or(ProtocolError::TooManyEntries)?;
    let tabs: Vec<Address> = states.iter().map(|s| s.state.tab).collect();
    Ok([
        ed25519_instruction(states)?,
        settle_instruction(accounts, &tabs, &payees, &items),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precompile::parse_precompile_data;

    struct TestSigner(ed25519_dalek::SigningKey);

    impl Signer for TestSigner {
        fn try_pubkey(&self) -> Result<Address, SignerError> {
            Ok(Address::new_from_array(self.0.verifying_key().to_bytes()))
        }
        fn try_sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
            use ed25519_dalek::Signer as _;
            Ok(Signature::from(self.0.sign(message).to_bytes()))
        }
        fn is_interactive(&self) -> bool {
            false
        }
    }

    #[test]
    fn signed_state_verifies_and_detects_tampering() {
        let signer = TestSigner(ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
        let state = EpochState::new(Address::new_from_array([1; 32]), 1, 0)
            .tip(Address::new_from_array([2; 32]), 10)
            .unwrap();
        let signed = SignedState::sign(state, &signer).unwrap();
        assert!(signed.verify());
        let mut tampered = signed.clone();
        tampered.state.total += 1;
        assert!(!tampered.verify());

        let ix = ed25519_instruction(&[&signed]).unwrap();
        let parsed = parse_precompile_data(&ix.data, 1).unwrap();
        assert_eq!(parsed[0].signer, signed.signer);
        assert_eq!(parsed[0].message, signed.state.message());
    }
}
