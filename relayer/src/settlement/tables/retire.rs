//! Retiring lookup tables. A table no settlement has used for a while is deactivated
//! and, once the chain lets it be closed (its deactivation slot has left the
//! SlotHashes sysvar, at least 512 slots on), closed: its rent goes back to the
//! sequencer. Tabs of a retired table that settle again go into a live table.

use std::time::Duration;

use solana_address_lookup_table_interface::{
    instruction::{close_lookup_table, deactivate_lookup_table},
    state::AddressLookupTable,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer, slot_hashes};

use super::Tables;
use crate::{
    chain::Chain,
    settlement::{pack::Packer, sender::confirm_all, EngineError},
    store::SettlementStore,
};

impl Tables {
    /// Closes the retired tables the chain allows to close, then deactivates every
    /// live table that has held no tab being settled for `idle`. Returns the rent the
    /// closes returned (lamports).
    pub async fn retire(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        authority: &Keypair,
        idle: Duration,
    ) -> Result<u64, EngineError> {
        if !self.loaded {
            self.load(chain, store, &authority.pubkey()).await?;
            self.loaded = true;
        }
        let returned = self.close_retired(chain, store, authority).await?;
        let idle: Vec<Pubkey> = self
            .tables
            .iter()
            .map(|table| table.key)
            .filter(|key| {
                self.last_used
                    .get(key)
                    .is_none_or(|at| at.elapsed() >= idle)
            })
            .collect();
        if idle.is_empty() {
            return Ok(returned);
        }
        // Out of use before the deactivation is sent: nothing packed from now on names
        // them, and what was signed before expires long before they can be closed.
        self.tables.retain(|table| !idle.contains(&table.key));
        for key in &idle {
            self.last_used.remove(key);
            tracing::info!(table = %key, "deactivating an idle lookup table");
        }
        // Closing them checks that each deactivation landed, and sends it again if not.
        self.retiring.extend(idle.iter().copied());
        let payer = authority.pubkey();
        let deactivations = idle
            .iter()
            .map(|key| deactivate_lookup_table(*key, payer))
            .collect();
        confirm_all(chain, authority, deactivations).await?;
        Ok(returned)
    }

    /// How many tables are live, and how many retired but not yet closed.
    pub fn counts(&self) -> (usize, usize) {
        (self.tables.len(), self.retiring.len())
    }

    /// Closes each retired table whose deactivation is old enough, deactivates again
    /// one whose deactivation did not land, and forgets one already closed (by this
    /// instance before a restart, or by another). Returns the rent returned.
    async fn close_retired(
        &mut self,
        chain: &dyn Chain,
        store: &dyn SettlementStore,
        authority: &Keypair,
    ) -> Result<u64, EngineError> {
        if self.retiring.is_empty() {
            return Ok(0);
        }
        let keys = self.retiring.clone();
        let accounts = chain.accounts(&keys).await?;
        let slot = chain.slot().await?;
        let payer = authority.pubkey();
        let mut deactivations = Vec::new();
        // (table, its rent) for each table old enough to close.
        let mut due = Vec::new();
        for (key, account) in keys.into_iter().zip(accounts) {
            let Some((deactivated_at, rent)) = account.and_then(|account| {
                let table = AddressLookupTable::deserialize(&account.data).ok()?;
                Some((table.meta.deactivation_slot, account.lamports))
            }) else {
                store.remove_lookup_table(&key).await?;
                self.retiring.retain(|retiring| *retiring != key);
                continue;
            };
            if deactivated_at == u64::MAX {
                deactivations.push(deactivate_lookup_table(key, payer));
            } else if slot > deactivated_at.saturating_add(slot_hashes::MAX_ENTRIES as u64) {
                // Closable once the deactivation slot has left SlotHashes: never
                // before this many slots, later where slots were skipped (simulation
                // tells).
                due.push((key, rent));
            }
        }
        if !deactivations.is_empty() {
            confirm_all(chain, authority, deactivations).await?;
        }
        if due.is_empty() {
            return Ok(0);
        }
        let (blockhash, _) = chain.latest_blockhash().await?;
        let mut closing = Vec::new();
        for (key, rent) in due {
            let close = close_lookup_table(key, payer, payer);
            let tx = Packer::compile_plain(authority, std::slice::from_ref(&close), blockhash)?;
            if chain.simulate(&tx).await?.error.is_none() {
                closing.push((key, rent, close));
            }
        }
        if closing.is_empty() {
            return Ok(0);
        }
        let closes = closing.iter().map(|(_, _, close)| close.clone()).collect();
        confirm_all(chain, authority, closes).await?;
        let mut returned = 0u64;
        for (key, rent, _) in closing {
            store.remove_lookup_table(&key).await?;
            self.retiring.retain(|retiring| *retiring != key);
            returned = returned.saturating_add(rent);
            tracing::info!(table = %key, lamports = rent, "closed a retired lookup table; its rent is back");
        }
        Ok(returned)
    }
}
