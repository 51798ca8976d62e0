//! The engine's address lookup tables: created and extended so that every account a
//! settlement uses is one byte, remembered in the store so that restarts reuse them,
//! read back from the chain before they are relied on, and retired ([`retire`]) once
//! idle, their rent returned.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use solana_address_lookup_table_interface::{
    instruction::{create_lookup_table, extend_lookup_table},
    state::AddressLookupTable,
};
use solana_sdk::{
    message::AddressLookupTableAccount, pubkey::Pubkey, signature::Keypair, signer::Signer,
};

use super::{sender::confirm_all, EngineError};
use crate::{chain::Chain, domain::now_ms, store::SettlementStore};

mod retire;

const LOOKUP_TABLE_CAPACITY: usize = 256;
/// Addresses per extend transaction (32 bytes each; well under the size limit).
const EXTEND_CHUNK: usize = 20;
/// How often the live tables are read back from the chain even when this instance
/// changed none of them: another instance sharing the store may have retired one.
/// This plus a blockhash's lifetime stays well under the span a deactivated table
/// must wait before it can be closed (512 slots), so nothing this instance signs
/// names a closed table.
const REFRESH: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct Tables {
    loaded: bool,
    tables: Vec<AddressLookupTableAccount>,
    /// When each live table last held a tab being settled (or was loaded).
    last_used: HashMap<Pubkey, Instant>,
    /// Deactivated tables of this authority, to close once the chain allows.
    retiring: Vec<Pubkey>,
    /// When the live tables were last read back from the chain.
    refreshed: Option<Instant>,
    /// The slot of the latest extension not yet known to be rooted.
    unrooted_extension: Option<u64>,
    /// Extensions were sent since the tables were last read back from the chain.
    unverified: bool,
}

impl Tables {
    pub fn all(&self) -> &[AddressLookupTableAccount] {
        &self.tables
    }

    /// Makes sure every address is in a table and usable: validators resolve a
    /// transaction's tables against their root bank, so until an extension is rooted
    /// a transaction using it is dropped (seen: 12-13 s on a local validator).
    pub async fn ensure(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        authority: &Keypair,
        shared: &[Pubkey],
        tabs: &[Pubkey],
    ) -> Result<(), EngineError> {
        self.extend(chain, store, authority, shared, tabs).await?;
        if let Some(slot) = self.unrooted_extension {
            while chain.rooted_slot().await? <= slot {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            self.unrooted_extension = None;
        }
        if self.unverified {
            self.verify(chain).await?;
        }
        let settling: HashSet<&Pubkey> = tabs.iter().collect();
        let now = Instant::now();
        for table in &self.tables {
            if table.addresses.iter().any(|a| settling.contains(a)) {
                self.last_used.insert(table.key, now);
            }
        }
        Ok(())
    }

    /// Adds the addresses no table holds yet, creating tables as needed; every table
    /// that receives tabs gets the shared addresses too, so that a transaction of
    /// neighbouring tabs needs one table. Extensions are confirmed, not waited for
    /// until rooted.
    pub async fn extend(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        authority: &Keypair,
        shared: &[Pubkey],
        tabs: &[Pubkey],
    ) -> Result<(), EngineError> {
        if !self.loaded {
            self.load(chain, store, &authority.pubkey()).await?;
            self.loaded = true;
        }
        if self.unverified || self.refreshed.is_none_or(|at| at.elapsed() >= REFRESH) {
            self.verify(chain).await?;
        }
        // Copying more than half a table into each one would leave little room.
        let replicate = shared.len() <= LOOKUP_TABLE_CAPACITY / 2;
        let in_any: HashSet<Pubkey> = self
            .tables
            .iter()
            .flat_map(|t| t.addresses.iter().copied())
            .collect();
        let in_last: HashSet<Pubkey> = self
            .tables
            .last()
            .map(|t| t.addresses.iter().copied().collect())
            .unwrap_or_default();
        let mut seen = HashSet::new();
        let mut missing_tabs: Vec<Pubkey> = tabs
            .iter()
            .filter(|key| !in_any.contains(key) && seen.insert(**key))
            .copied()
            .collect();
        let mut missing_shared: Vec<Pubkey> = shared
            .iter()
            .filter(|key| {
                let held = if replicate { &in_last } else { &in_any };
                !held.contains(key) && seen.insert(**key)
            })
            .copied()
            .collect();
        if missing_tabs.is_empty() && missing_shared.is_empty() {
            return Ok(());
        }
        let payer = authority.pubkey();
        let mut extensions = Vec::new();
        while !missing_tabs.is_empty() || !missing_shared.is_empty() {
            let room = self
                .tables
                .last()
                .map_or(0, |t| LOOKUP_TABLE_CAPACITY - t.addresses.len());
            if room == 0 || (replicate && room < missing_shared.len()) {
                let slot = chain.slot().await?;
                let (ix, table) = create_lookup_table(payer, payer, slot.saturating_sub(1));
                // Remembered before it exists, so that a crash cannot leak it.
                store.add_lookup_table(&payer, &table, now_ms()).await?;
                confirm_all(chain, authority, vec![ix]).await?;
                self.tables.push(AddressLookupTableAccount {
                    key: table,
                    addresses: Vec::new(),
                });
                if replicate {
                    missing_shared = shared.to_vec();
                }
                continue;
            }
            let mut added: Vec<Pubkey> = missing_shared
                .drain(..missing_shared.len().min(room))
                .collect();
            let take = missing_tabs.len().min(room - added.len());
            added.extend(missing_tabs.drain(..take));
            let table = self.tables.last_mut().expect("a table exists");
            for chunk in added.chunks(EXTEND_CHUNK) {
                extensions.push(extend_lookup_table(
                    table.key,
                    payer,
                    Some(payer),
                    chunk.to_vec(),
                ));
            }
            table.addresses.extend(added);
        }
        // Until read back from the chain, the local tables are only a plan.
        self.unverified = true;
        tracing::debug!(transactions = extensions.len(), "extending lookup tables");
        let result = confirm_all(chain, authority, extensions).await;
        // Whatever landed did so by now.
        self.unrooted_extension = Some(chain.slot().await?);
        result
    }

    /// The tables an earlier run created that are still live and ours.
    async fn load(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        authority: &Pubkey,
    ) -> Result<(), EngineError> {
        let keys = store.lookup_tables(authority).await?;
        let accounts = chain.accounts(&keys).await?;
        let now = Instant::now();
        for (key, account) in keys.into_iter().zip(accounts) {
            let Some(account) = account else { continue };
            let Ok(table) = AddressLookupTable::deserialize(&account.data) else {
                continue;
            };
            if table.meta.authority != Some(*authority) {
                continue;
            }
            if table.meta.deactivation_slot == u64::MAX {
                self.tables.push(AddressLookupTableAccount {
                    key,
                    addresses: table.addresses.to_vec(),
                });
                // Idle from now on, whenever it was used before the restart.
                self.last_used.insert(key, now);
            } else {
                self.retiring.push(key);
            }
        }
        self.refreshed = Some(now);
        // New addresses go into the last table: the one with room, whichever order
        // the store gives tables created in the same millisecond.
        self.tables
            .sort_by_key(|table| std::cmp::Reverse(table.addresses.len()));
        Ok(())
    }

    /// Reloads the tables so that their contents are the chain's, not the plan's. A
    /// table another instance deactivated or closed goes out of use here: its
    /// addresses go into live tables as settlements need them.
    async fn verify(&mut self, chain: &dyn Chain) -> Result<(), EngineError> {
        let keys: Vec<Pubkey> = self.tables.iter().map(|t| t.key).collect();
        let accounts = chain.accounts(&keys).await?;
        // (table, whether to close it): set aside after the loop, so that an error
        // in it leaves the tables as they were.
        let mut gone = Vec::new();
        for (table, account) in self.tables.iter_mut().zip(accounts) {
            let Some(account) = account else {
                tracing::warn!(table = %table.key, "lookup table closed elsewhere; no longer used");
                gone.push((table.key, false));
                continue;
            };
            let parsed = AddressLookupTable::deserialize(&account.data)
                .map_err(|e| EngineError::Build(format!("lookup table {}: {e}", table.key)))?;
            if parsed.meta.deactivation_slot != u64::MAX {
                tracing::info!(table = %table.key, "lookup table deactivated elsewhere; closing it when due");
                gone.push((table.key, true));
                continue;
            }
            table.addresses = parsed.addresses.to_vec();
        }
        for (key, close) in gone {
            self.tables.retain(|table| table.key != key);
            self.last_used.remove(&key);
            if close {
                self.retiring.push(key);
            }
        }
        self.unverified = false;
        self.refreshed = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
