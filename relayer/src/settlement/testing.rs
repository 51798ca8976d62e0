//! A chain in memory for the engine's unit tests: it keeps accounts, applies the
//! address lookup table program's instructions (a close only once the deactivation is 512
//! slots old), lands what is sent (or drops it, or refuses it in simulation, as a test
//! asks), and advances its slot and block height as they are read, so that time passes
//! and blockhashes expire.

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use async_trait::async_trait;
use solana_address_lookup_table_interface::{
    instruction::ProgramInstruction,
    state::{AddressLookupTable, LookupTableMeta},
};
use solana_sdk::{
    account::Account,
    hash::Hash,
    instruction::InstructionError,
    message::VersionedMessage,
    pubkey::Pubkey,
    signature::Signature,
    transaction::{TransactionError, VersionedTransaction},
};

use crate::chain::{Chain, ChainResult, Simulation, TxStatus};

/// Block heights a blockhash stays valid for.
pub const VALID_FOR: u64 = 3;
/// What every lookup table here holds.
pub const TABLE_RENT: u64 = 1_000_000;

#[derive(Default)]
pub struct MemoryChain {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<Pubkey, Account>,
    statuses: HashMap<Signature, TxStatus>,
    sent: Vec<VersionedTransaction>,
    height: u64,
    slot: u64,
    /// Transactions naming one of these fail simulation (and on chain) with a program error.
    refused: HashSet<Pubkey>,
    /// Sends to drop before landing again.
    drop_sends: usize,
    /// Landed transactions report this error.
    land_with: Option<TransactionError>,
}

impl MemoryChain {
    /// Every transaction sent, rebroadcasts included.
    pub fn sent(&self) -> Vec<VersionedTransaction> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn refuse(&self, account: Pubkey) {
        self.inner.lock().unwrap().refused.insert(account);
    }

    pub fn drop_sends(&self, count: usize) {
        self.inner.lock().unwrap().drop_sends = count;
    }

    pub fn land_with(&self, error: Option<TransactionError>) {
        self.inner.lock().unwrap().land_with = error;
    }

    pub fn advance(&self, blocks: u64) {
        self.inner.lock().unwrap().height += blocks;
    }

    pub fn pass_slots(&self, slots: u64) {
        self.inner.lock().unwrap().slot += slots;
    }

    /// A lookup table as this chain holds it.
    pub fn table(&self, key: &Pubkey) -> Option<(Option<Pubkey>, Vec<Pubkey>)> {
        let inner = self.inner.lock().unwrap();
        let account = inner.accounts.get(key)?;
        let table = AddressLookupTable::deserialize(&account.data).ok()?;
        Some((table.meta.authority, table.addresses.to_vec()))
    }

    /// The slot a lookup table was deactivated at, if it was.
    pub fn deactivated_at(&self, key: &Pubkey) -> Option<u64> {
        let inner = self.inner.lock().unwrap();
        let table = AddressLookupTable::deserialize(&inner.accounts.get(key)?.data).ok()?;
        (table.meta.deactivation_slot != u64::MAX).then_some(table.meta.deactivation_slot)
    }
}

impl Inner {
    /// Every account `tx` names, its lookups resolved.
    fn keys(&self, tx: &VersionedTransaction) -> Vec<Pubkey> {
        let mut keys = tx.message.static_account_keys().to_vec();
        let VersionedMessage::V0(message) = &tx.message else {
            return keys;
        };
        // Loaded addresses follow the static keys: every table's writable ones, then
        // every table's read-only ones.
        for writable in [true, false] {
            for lookup in &message.address_table_lookups {
                let account = &self.accounts[&lookup.account_key];
                let table = AddressLookupTable::deserialize(&account.data).unwrap();
                let indexes = if writable {
                    &lookup.writable_indexes
                } else {
                    &lookup.readonly_indexes
                };
                keys.extend(indexes.iter().map(|i| table.addresses[*i as usize]));
            }
        }
        keys
    }

    fn refusal(&self, tx: &VersionedTransaction) -> Option<TransactionError> {
        let keys = self.keys(tx);
        let refused =
            keys.iter().any(|key| self.refused.contains(key)) || self.early_close(tx, &keys);
        refused.then_some(TransactionError::InstructionError(
            0,
            InstructionError::Custom(6_000),
        ))
    }

    /// Whether `tx` closes a lookup table that is not deactivated, or whose
    /// deactivation slot would still be in SlotHashes (taken here as the last slots).
    fn early_close(&self, tx: &VersionedTransaction, keys: &[Pubkey]) -> bool {
        tx.message.instructions().iter().any(|ix| {
            keys[ix.program_id_index as usize] == solana_address_lookup_table_interface::program::ID
                && matches!(
                    bincode::deserialize(&ix.data),
                    Ok(ProgramInstruction::CloseLookupTable)
                )
                && self
                    .accounts
                    .get(&keys[ix.accounts[0] as usize])
                    .and_then(|account| AddressLookupTable::deserialize(&account.data).ok())
                    .is_none_or(|table| {
                        table.meta.deactivation_slot == u64::MAX
                            || self.slot
                                <= table.meta.deactivation_slot
                                    + solana_sdk::slot_hashes::MAX_ENTRIES as u64
                    })
        })
    }

    /// Applies the lookup table instructions of a landed transaction.
    fn apply(&mut self, tx: &VersionedTransaction) {
        let keys = self.keys(tx);
        for ix in tx.message.instructions() {
            if keys[ix.program_id_index as usize]
                != solana_address_lookup_table_interface::program::ID
            {
                continue;
            }
            let account = |i: usize| keys[ix.accounts[i] as usize];
            match bincode::deserialize(&ix.data).unwrap() {
                ProgramInstruction::CreateLookupTable { .. } => {
                    let table = AddressLookupTable {
                        meta: LookupTableMeta::new(account(1)),
                        addresses: Cow::Owned(Vec::new()),
                    };
                    self.store_table(account(0), table);
                }
                ProgramInstruction::ExtendLookupTable { new_addresses } => {
                    let key = account(0);
                    let data = &self.accounts[&key].data;
                    let table = AddressLookupTable::deserialize(data).unwrap();
                    let mut addresses = table.addresses.to_vec();
                    addresses.extend(new_addresses);
                    let table = AddressLookupTable {
                        meta: table.meta,
                        addresses: Cow::Owned(addresses),
                    };
                    self.store_table(key, table);
                }
                ProgramInstruction::DeactivateLookupTable => {
                    let key = account(0);
                    let table = AddressLookupTable::deserialize(&self.accounts[&key].data).unwrap();
                    let mut meta = table.meta;
                    meta.deactivation_slot = self.slot;
                    let addresses = Cow::Owned(table.addresses.to_vec());
                    self.store_table(key, AddressLookupTable { meta, addresses });
                }
                ProgramInstruction::CloseLookupTable => {
                    let closed = self.accounts.remove(&account(0)).unwrap();
                    self.accounts.entry(account(2)).or_default().lamports += closed.lamports;
                }
                other => panic!("unexpected lookup table instruction {other:?}"),
            }
        }
    }

    fn store_table(&mut self, key: Pubkey, table: AddressLookupTable) {
        let account = Account {
            lamports: TABLE_RENT,
            data: table.serialize_for_tests().unwrap(),
            owner: solana_address_lookup_table_interface::program::ID,
            executable: false,
            rent_epoch: 0,
        };
        self.accounts.insert(key, account);
    }
}

#[async_trait]
impl Chain for MemoryChain {
    async fn accounts(&self, keys: &[Pubkey]) -> ChainResult<Vec<Option<Account>>> {
        let inner = self.inner.lock().unwrap();
        Ok(keys
            .iter()
            .map(|k| inner.accounts.get(k).cloned())
            .collect())
    }

    async fn latest_blockhash(&self) -> ChainResult<(Hash, u64)> {
        let inner = self.inner.lock().unwrap();
        let hash = Hash::new_from_array([inner.height as u8; 32]);
        Ok((hash, inner.height + VALID_FOR))
    }

    /// Each read is a block later.
    async fn block_height(&self) -> ChainResult<u64> {
        let mut inner = self.inner.lock().unwrap();
        inner.height += 1;
        Ok(inner.height)
    }

    /// Time passes: each read is a slot later.
    async fn slot(&self) -> ChainResult<u64> {
        let mut inner = self.inner.lock().unwrap();
        inner.slot += 1;
        Ok(inner.slot)
    }

    /// A slot passes with each read; the root is two slots behind.
    async fn rooted_slot(&self) -> ChainResult<u64> {
        let mut inner = self.inner.lock().unwrap();
        inner.slot += 1;
        Ok(inner.slot.saturating_sub(2))
    }

    async fn unix_time(&self) -> ChainResult<i64> {
        Ok(1_700_000_000)
    }

    async fn simulate(&self, tx: &VersionedTransaction) -> ChainResult<Simulation> {
        let inner = self.inner.lock().unwrap();
        Ok(Simulation {
            error: inner.refusal(tx),
            units_consumed: Some(50_000),
            logs: Vec::new(),
        })
    }

    /// Lands `tx` in a slot of its own, unless told to drop it.
    async fn send(&self, tx: &VersionedTransaction) -> ChainResult<Signature> {
        let mut inner = self.inner.lock().unwrap();
        inner.sent.push(tx.clone());
        let signature = tx.signatures[0];
        if inner.drop_sends > 0 {
            inner.drop_sends -= 1;
            return Ok(signature);
        }
        if inner.statuses.contains_key(&signature) {
            return Ok(signature);
        }
        let error = inner.refusal(tx).or(inner.land_with.clone());
        if error.is_none() {
            inner.apply(tx);
        }
        inner.slot += 1;
        inner.statuses.insert(signature, TxStatus::Landed(error));
        Ok(signature)
    }

    async fn statuses(&self, signatures: &[Signature]) -> ChainResult<Vec<TxStatus>> {
        let inner = self.inner.lock().unwrap();
        Ok(signatures
            .iter()
            .map(|s| inner.statuses.get(s).cloned().unwrap_or(TxStatus::Unknown))
            .collect())
    }

    async fn genesis_hash(&self) -> ChainResult<Hash> {
        Ok(Hash::default())
    }
}

/// A memory chain, a store in a temporary directory and what the engine's parts need
/// around them.
pub struct Fixture {
    pub chain: MemoryChain,
    pub store: crate::store::SqlStore,
    pub metrics: crate::metrics::Metrics,
    pub payer: solana_sdk::signature::Keypair,
    pub config: Pubkey,
    pub payees: Vec<Pubkey>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("relayer.db").display());
        Self {
            chain: MemoryChain::default(),
            store: crate::store::SqlStore::connect(&url).await.unwrap(),
            metrics: crate::metrics::Metrics::new(),
            payer: solana_sdk::signature::Keypair::new(),
            config: Pubkey::new_unique(),
            payees: (0..3).map(|_| Pubkey::new_unique()).collect(),
            _dir: dir,
        }
    }

    /// `n` closed one-tip epochs of distinct tabs, stored, as candidates.
    pub async fn candidates(&self, n: usize) -> Vec<super::plan::Candidate> {
        use crate::store::{IntakeStore, SettlementStore};
        use micropay_protocol::{SignedStream, StreamState};
        let (key, sequencer) = (
            solana_sdk::signature::Keypair::new(),
            solana_sdk::signature::Keypair::new(),
        );
        for i in 0..n {
            let payee = self.payees[i % self.payees.len()];
            let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
                .tip(payee, 10)
                .unwrap();
            let receipted = SignedStream::sign(state, &key)
                .unwrap()
                .receipt(&sequencer)
                .unwrap();
            let accepted = crate::domain::Accepted {
                receipted,
                previous_seq: None,
                tip: (payee, 10),
                at_ms: 1_000,
            };
            assert!(self.store.accept(accepted).await.unwrap());
        }
        let pending = self.store.pending().await.unwrap();
        let keys: Vec<_> = pending.iter().map(|e| e.key()).collect();
        self.store.close(&keys).await.unwrap();
        self.store
            .pending()
            .await
            .unwrap()
            .into_iter()
            .map(|epoch| super::plan::Candidate {
                epoch,
                previous: None,
            })
            .collect()
    }

    /// The payees, none with a token account yet.
    pub fn directory(&self) -> super::plan::PayeeDirectory {
        let (mint, token_program) = (Pubkey::new_unique(), Pubkey::new_unique());
        let accounts = vec![None; self.payees.len()];
        super::plan::PayeeDirectory::new(&self.payees, &accounts, &mint, &token_program)
    }

    pub fn packer<'a>(
        &'a self,
        directory: &'a super::plan::PayeeDirectory,
    ) -> super::pack::Packer<'a> {
        super::pack::Packer {
            payer: &self.payer,
            config: self.config,
            mint: Pubkey::new_unique(),
            token_program: Pubkey::new_unique(),
            compute_unit_price: 0,
            payees: directory,
        }
    }

    pub fn outbox(&self) -> super::sender::Outbox<'_> {
        super::sender::Outbox {
            chain: &self.chain,
            store: &self.store,
            metrics: &self.metrics,
        }
    }

    pub fn count(&self, outcome: &str) -> u64 {
        self.metrics.settlements.with_label_values(&[outcome]).get()
    }
}
