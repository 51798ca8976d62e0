//! The exact size of a v0 transaction, kept as its instructions grow, so that the
//! packer can add a settlement at a time without compiling the transaction again.
//!
//! It follows `v0::Message::try_compile`: the payer and other signers, and invoked
//! programs, are static keys; any other key is looked up in the first of the given
//! tables that holds it, or is static if none does.

use std::collections::HashMap;

use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    message::AddressLookupTableAccount,
    pubkey::Pubkey,
};

/// Lookup tables, and which of them hold each address, by position in the list.
pub struct LookupIndex<'t> {
    tables: &'t [AddressLookupTableAccount],
    holders: HashMap<Pubkey, Vec<usize>>,
}

impl<'t> LookupIndex<'t> {
    pub fn new(tables: &'t [AddressLookupTableAccount]) -> Self {
        let mut holders: HashMap<Pubkey, Vec<usize>> = HashMap::new();
        for (i, table) in tables.iter().enumerate() {
            for address in &table.addresses {
                let held_by = holders.entry(*address).or_default();
                if held_by.last() != Some(&i) {
                    held_by.push(i);
                }
            }
        }
        Self { tables, holders }
    }

    pub fn tables(&self) -> &'t [AddressLookupTableAccount] {
        self.tables
    }

    /// The first table holding `address`.
    pub fn first_holder(&self, address: &Pubkey) -> Option<usize> {
        self.holders.get(address).map(|held_by| held_by[0])
    }

    /// Where `address` is looked up when `preferred` comes first and the other tables
    /// follow in order.
    fn holder(&self, address: &Pubkey, preferred: Option<usize>) -> Option<usize> {
        let held_by = self.holders.get(address)?;
        match preferred {
            Some(table) if held_by.contains(&table) => Some(table),
            _ => Some(held_by[0]),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Static,
    Table(usize),
}

#[derive(Clone, Copy)]
struct KeyUse {
    signer: bool,
    writable: bool,
    invoked: bool,
    place: Place,
}

/// A transaction's size and account count as instructions are added or grown.
#[derive(Clone)]
pub struct MessageSize<'i> {
    index: &'i LookupIndex<'i>,
    preferred: Option<usize>,
    keys: HashMap<Pubkey, KeyUse>,
    signers: usize,
    statics: usize,
    /// Per table: writable and read-only lookups.
    lookups: HashMap<usize, (usize, usize)>,
    /// Per instruction: its account indexes and data bytes.
    instructions: Vec<(usize, usize)>,
}

impl<'i> MessageSize<'i> {
    /// A transaction paid by `payer`, looking keys up in `preferred` first.
    pub fn new(payer: Pubkey, index: &'i LookupIndex<'i>, preferred: Option<usize>) -> Self {
        let mut size = Self {
            index,
            preferred,
            keys: HashMap::new(),
            signers: 0,
            statics: 0,
            lookups: HashMap::new(),
            instructions: Vec::new(),
        };
        size.add_key(&AccountMeta::new(payer, true), false);
        size
    }

    pub fn push(&mut self, ix: &Instruction) {
        self.add_key(&AccountMeta::new_readonly(ix.program_id, false), true);
        self.instructions.push((0, 0));
        self.extend_last(&ix.accounts, ix.data.len());
    }

    /// Adds accounts and data bytes to the last instruction.
    pub fn extend_last(&mut self, metas: &[AccountMeta], data_len: usize) {
        for meta in metas {
            self.add_key(meta, false);
        }
        let last = self.instructions.last_mut().expect("an instruction");
        last.0 += metas.len();
        last.1 += data_len;
    }

    /// The tables the transaction looks keys up in, in the order compiling needs.
    pub fn tables_used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.lookups.keys().copied().collect();
        used.sort_by_key(|table| (Some(*table) != self.preferred, *table));
        used
    }

    /// Accounts the transaction locks.
    pub fn accounts(&self) -> usize {
        self.keys.len()
    }

    /// Its serialized bytes, signatures included.
    pub fn bytes(&self) -> usize {
        let instructions: usize = self
            .instructions
            .iter()
            .map(|&(accounts, data)| 1 + vec_len(accounts) + vec_len(data))
            .sum();
        let lookups: usize = self
            .lookups
            .values()
            .map(|&(writable, readonly)| 32 + vec_len(writable) + vec_len(readonly))
            .sum();
        short_vec_prefix(self.signers)
            + self.signers * 64
            // version prefix, header, keys, blockhash
            + 1
            + 3
            + short_vec_prefix(self.statics)
            + self.statics * 32
            + 32
            + short_vec_prefix(self.instructions.len())
            + instructions
            + short_vec_prefix(self.lookups.len())
            + lookups
    }

    fn add_key(&mut self, meta: &AccountMeta, invoked: bool) {
        let before = self.keys.get(&meta.pubkey).copied();
        if let Some(old) = before {
            self.uncount(old);
        }
        let mut key = before.unwrap_or(KeyUse {
            signer: false,
            writable: false,
            invoked: false,
            place: Place::Static,
        });
        key.signer |= meta.is_signer;
        key.writable |= meta.is_writable;
        key.invoked |= invoked;
        key.place = match self.index.holder(&meta.pubkey, self.preferred) {
            Some(table) if !key.signer && !key.invoked => Place::Table(table),
            _ => Place::Static,
        };
        self.count(key);
        self.keys.insert(meta.pubkey, key);
    }

    fn count(&mut self, key: KeyUse) {
        self.signers += usize::from(key.signer);
        match key.place {
            Place::Static => self.statics += 1,
            Place::Table(table) => {
                let entry = self.lookups.entry(table).or_default();
                if key.writable {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }

    fn uncount(&mut self, key: KeyUse) {
        self.signers -= usize::from(key.signer);
        match key.place {
            Place::Static => self.statics -= 1,
            Place::Table(table) => {
                let entry = self.lookups.get_mut(&table).expect("counted");
                if key.writable {
                    entry.0 -= 1;
                } else {
                    entry.1 -= 1;
                }
                if *entry == (0, 0) {
                    self.lookups.remove(&table);
                }
            }
        }
    }
}

/// Bytes of a short-vec length prefix (compact-u16).
fn short_vec_prefix(len: usize) -> usize {
    match len {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        _ => 3,
    }
}

/// Bytes of a short-vec of `len` one-byte elements.
fn vec_len(len: usize) -> usize {
    short_vec_prefix(len) + len
}

#[cfg(test)]
mod tests {
    use solana_sdk::{
        hash::Hash,
        message::{v0, VersionedMessage},
        signature::Keypair,
        signer::Signer,
        transaction::VersionedTransaction,
    };

    use super::*;

    fn compiled(
        payer: &Keypair,
        ixs: &[Instruction],
        tables: &[AddressLookupTableAccount],
    ) -> (usize, usize) {
        let message =
            v0::Message::try_compile(&payer.pubkey(), ixs, tables, Hash::default()).unwrap();
        let accounts = message.account_keys.len()
            + message
                .address_table_lookups
                .iter()
                .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
                .sum::<usize>();
        let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[payer]).unwrap();
        (bincode::serialized_size(&tx).unwrap() as usize, accounts)
    }

    /// Grows an instruction an account at a time (keys repeated, read-only then
    /// writable, some in one table, some in two, some in none, a program used both as
    /// an account and invoked) and checks every step against the compiled transaction.
    #[test]
    fn the_size_is_the_compiled_transactions_at_every_step() {
        let payer = Keypair::new();
        let keys: Vec<Pubkey> = (0..40).map(|_| Pubkey::new_unique()).collect();
        let program = Pubkey::new_unique();
        let tables = vec![
            AddressLookupTableAccount {
                key: Pubkey::new_unique(),
                addresses: keys[..20].to_vec(),
            },
            AddressLookupTableAccount {
                key: Pubkey::new_unique(),
                addresses: keys[10..30].iter().copied().chain([program]).collect(),
            },
        ];
        let index = LookupIndex::new(&tables);
        for preferred in [None, Some(0), Some(1)] {
            let order: Vec<AddressLookupTableAccount> = match preferred {
                Some(1) => vec![tables[1].clone(), tables[0].clone()],
                _ => tables.clone(),
            };
            let budget = Instruction::new_with_bytes(Pubkey::new_unique(), &[1; 5], vec![]);
            let mut ixs = vec![budget, Instruction::new_with_bytes(program, &[], vec![])];
            let mut size = MessageSize::new(payer.pubkey(), &index, preferred);
            ixs.iter().for_each(|ix| size.push(ix));
            for step in 0..150 {
                let key = keys[(step * 7) % keys.len()];
                let meta = if step % 3 == 0 {
                    AccountMeta::new(key, false)
                } else {
                    AccountMeta::new_readonly(key, false)
                };
                let data = step % 5;
                ixs[1].accounts.push(meta.clone());
                ixs[1].data.extend(std::iter::repeat_n(9, data));
                size.extend_last(&[meta], data);
                let used: Vec<_> = size
                    .tables_used()
                    .into_iter()
                    .map(|t| tables[t].clone())
                    .collect();
                let expected = compiled(&payer, &ixs, &order);
                assert_eq!((size.bytes(), size.accounts()), expected, "step {step}");
                assert_eq!(compiled(&payer, &ixs, &used), expected, "step {step}");
            }
            // The program, also an account, stays static when invoked by a new instruction.
            let call = Instruction::new_with_bytes(keys[12], &[], vec![]);
            ixs.push(call.clone());
            size.push(&call);
            assert_eq!(
                (size.bytes(), size.accounts()),
                compiled(&payer, &ixs, &order)
            );
        }
    }

    #[test]
    fn short_vec_prefixes_grow_at_their_boundaries() {
        assert_eq!(short_vec_prefix(127), 1);
        assert_eq!(short_vec_prefix(128), 2);
        assert_eq!(short_vec_prefix(16_383), 2);
        assert_eq!(short_vec_prefix(16_384), 3);
    }
}
