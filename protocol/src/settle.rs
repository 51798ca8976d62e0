//! The `settle` instruction's wire types and discriminator.
//!
//! Item `i` settles the tab at remaining account `i`, whose signed state is signature `i`
//! of the ed25519 precompile instruction placed right before `settle`. Payee token
//! accounts follow the tabs; each entry names its payee by index among them, so an
//! entry costs 9 bytes instead of 40.

use alloc::vec::Vec;

use borsh::{BorshDeserialize, BorshSerialize};

/// Anchor's discriminator for `settle`: `sha256("global:settle")[..8]`.
/// A test in the integration suite checks it against the program's own.
pub const SETTLE_DISCRIMINATOR: [u8; 8] = [175, 42, 185, 87, 144, 131, 102, 212];

#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SettleEntry {
    /// Index of the payee's token account among the payee accounts of the instruction.
    pub payee_index: u8,
    pub amount: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SettleItem {
    /// The signed state's entries in the signed (sorted) order.
    pub entries: Vec<SettleEntry>,
}

/// Bytes of instruction data one item adds: the vector length plus 9 per entry.
pub const fn item_data_len(entries: usize) -> usize {
    4 + entries * 9
}

/// IDL type definitions, so that clients generated from the program's IDL can encode
/// `settle` arguments.
#[cfg(feature = "idl-build")]
mod idl {
    extern crate std;

    use std::{boxed::Box, collections::BTreeMap, string::String, vec, vec::Vec};

    use anchor_lang::idl::{
        build::IdlBuild,
        types::{IdlDefinedFields, IdlField, IdlType, IdlTypeDef, IdlTypeDefTy},
    };

    use super::{SettleEntry, SettleItem};

    fn struct_def(name: String, fields: Vec<(&str, IdlType)>) -> IdlTypeDef {
        IdlTypeDef {
            name,
            docs: vec![],
            serialization: Default::default(),
            repr: None,
            generics: vec![],
            ty: IdlTypeDefTy::Struct {
                fields: Some(IdlDefinedFields::Named(
                    fields
                        .into_iter()
                        .map(|(name, ty)| IdlField {
                            name: name.into(),
                            docs: vec![],
                            ty,
                        })
                        .collect(),
                )),
            },
        }
    }

    impl IdlBuild for SettleEntry {
        fn create_type() -> Option<IdlTypeDef> {
            Some(struct_def(
                Self::get_full_path(),
                vec![("payee_index", IdlType::U8), ("amount", IdlType::U64)],
            ))
        }
    }

    impl IdlBuild for SettleItem {
        fn create_type() -> Option<IdlTypeDef> {
            let entry = IdlType::Defined {
                name: SettleEntry::get_full_path(),
                generics: vec![],
            };
            Some(struct_def(
                Self::get_full_path(),
                vec![("entries", IdlType::Vec(Box::new(entry)))],
            ))
        }

        fn insert_types(types: &mut BTreeMap<String, IdlTypeDef>) {
            if let Some(entry) = SettleEntry::create_type() {
                types.insert(SettleEntry::get_full_path(), entry);
            }
        }
    }
}
