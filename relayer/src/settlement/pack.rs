//! Fitting settlements into transactions: each candidate's bytes and accounts are
//! added once to a running size of its batch's transaction ([`MessageSize`]), so that
//! packing compiles nothing; the batch is compiled when it is sent.

use std::collections::HashSet;

use micropay_interface::client::{settle, settle_head_len, SettleAccounts, SettleItem};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    message::{v0, AddressLookupTableAccount, VersionedMessage},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::VersionedTransaction,
};

use super::{
    plan::{Candidate, PayeeDirectory},
    size::{LookupIndex, MessageSize},
    EngineError,
};

pub const MAX_TX_BYTES: usize = 1_232;
/// Accounts a transaction may lock (local runtimes with every feature allow more;
/// mainnet allows 64).
pub const MAX_TX_ACCOUNTS: usize = 64;
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;
/// Items and payees of one settle instruction are counted in a byte.
const MAX_PER_SETTLE: usize = u8::MAX as usize;

/// Settlements that fit one transaction, and the lookup tables it uses in the order
/// it is compiled with.
pub struct Batch {
    pub candidates: Vec<Candidate>,
    pub tables: Vec<AddressLookupTableAccount>,
}

/// Builds and compiles settlement transactions for one config.
pub struct Packer<'a> {
    pub payer: &'a Keypair,
    pub config: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub compute_unit_price: u64,
    pub payees: &'a PayeeDirectory,
}

/// The batch being filled.
struct OpenBatch<'i> {
    size: MessageSize<'i>,
    candidates: Vec<Candidate>,
    payees: HashSet<Pubkey>,
    fee_bps: u16,
}

impl Packer<'_> {
    fn budget(&self, unit_limit: u32) -> Vec<Instruction> {
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(unit_limit)];
        if self.compute_unit_price > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.compute_unit_price,
            ));
        }
        ixs
    }

    fn settle(
        &self,
        items: &[SettleItem],
        batch: &[&Candidate],
    ) -> Result<Instruction, EngineError> {
        let settler = self.payer.pubkey();
        let accounts = SettleAccounts {
            settler: &settler,
            config: &self.config,
            mint: &self.mint,
            token_program: &self.token_program,
        };
        settle(&accounts, items, &self.payees.for_batch(batch))
            .map_err(|e| EngineError::Build(format!("settle instruction: {e:?}")))
    }

    pub fn instructions(
        &self,
        batch: &[Candidate],
        unit_limit: u32,
    ) -> Result<Vec<Instruction>, EngineError> {
        let refs: Vec<&Candidate> = batch.iter().collect();
        let items: Vec<SettleItem> = batch.iter().map(Candidate::item).collect();
        let mut ixs = self.budget(unit_limit);
        ixs.push(self.settle(&items, &refs)?);
        Ok(ixs)
    }

    pub fn compile(
        &self,
        ixs: &[Instruction],
        tables: &[AddressLookupTableAccount],
        blockhash: Hash,
    ) -> Result<VersionedTransaction, EngineError> {
        compile(self.payer, ixs, tables, blockhash)
    }

    /// A transaction of `ixs` without lookup tables, paid and signed by `payer`.
    pub fn compile_plain(
        payer: &Keypair,
        ixs: &[Instruction],
        blockhash: Hash,
    ) -> Result<VersionedTransaction, EngineError> {
        compile(payer, ixs, &[], blockhash)
    }

    /// Splits `candidates` (in order) into batches whose transactions fit, against the
    /// lookup tables of `index` as they are. Each batch looks its keys up first in the table
    /// holding its first tab (callers put a table's tabs side by side), so that it
    /// mostly needs that one table. A candidate that cannot fit even alone is left
    /// out and logged.
    pub fn pack(
        &self,
        candidates: Vec<Candidate>,
        index: &LookupIndex,
    ) -> Result<Vec<Batch>, EngineError> {
        let tables = index.tables();
        let finish = |open: OpenBatch| Batch {
            tables: open
                .size
                .tables_used()
                .into_iter()
                .map(|table| tables[table].clone())
                .collect(),
            candidates: open.candidates,
        };
        let mut batches = Vec::new();
        let mut open: Option<OpenBatch> = None;
        for candidate in candidates {
            let item = candidate.item();
            let candidate = match open.as_mut() {
                Some(batch) => match self.add(batch, candidate, &item)? {
                    None => continue,
                    Some(refused) => {
                        batches.push(finish(open.take().expect("open")));
                        refused
                    }
                },
                None => candidate,
            };
            let mut batch = self.open(index, &candidate)?;
            match self.add(&mut batch, candidate, &item)? {
                None => open = Some(batch),
                Some(alone) => {
                    tracing::error!(epoch = ?alone.key(), "a single state does not fit a transaction")
                }
            }
        }
        batches.extend(open.map(finish));
        Ok(batches)
    }

    /// An empty batch's transaction, preferring the table that holds `first`'s tab.
    fn open<'i>(
        &self,
        index: &'i LookupIndex<'i>,
        first: &Candidate,
    ) -> Result<OpenBatch<'i>, EngineError> {
        let preferred = index.first_holder(&first.epoch.state().tab);
        let mut size = MessageSize::new(self.payer.pubkey(), index, preferred);
        for ix in self.budget(MAX_COMPUTE_UNITS) {
            size.push(&ix);
        }
        size.push(&self.settle(&[], &[])?);
        Ok(OpenBatch {
            size,
            candidates: Vec::new(),
            payees: HashSet::new(),
            fee_bps: first.epoch.state().fee_bps,
        })
    }

    /// Adds `candidate` to `batch` if the transaction still fits; gives it back if not.
    fn add(
        &self,
        batch: &mut OpenBatch,
        candidate: Candidate,
        item: &SettleItem,
    ) -> Result<Option<Candidate>, EngineError> {
        let mut new_payees: Vec<Pubkey> = candidate
            .wallets()
            .filter(|wallet| !batch.payees.contains(wallet))
            .collect();
        new_payees.sort();
        new_payees.dedup();
        let payees = batch.payees.len() + new_payees.len();
        if batch.candidates.len() + 1 > MAX_PER_SETTLE || payees > MAX_PER_SETTLE {
            return Ok(Some(candidate));
        }
        let mut metas = vec![item.meta()];
        for wallet in &new_payees {
            if let Some(payee) = self.payees.get(wallet) {
                metas.extend(payee.metas(&self.config));
            }
        }
        let data = settle_head_len(payees) - settle_head_len(batch.payees.len())
            + item
                .encoded_len(batch.fee_bps)
                .map_err(|e| EngineError::Build(format!("settle item: {e:?}")))?;
        let mut grown = batch.size.clone();
        grown.extend_last(&metas, data);
        if grown.bytes() > MAX_TX_BYTES || grown.accounts() > MAX_TX_ACCOUNTS {
            return Ok(Some(candidate));
        }
        batch.size = grown;
        batch.payees.extend(new_payees);
        batch.candidates.push(candidate);
        Ok(None)
    }

    /// Every account a settlement of `candidates` uses besides the payer and the
    /// program ids: what lookup tables should hold. The first part is shared by many
    /// transactions, the second (tabs) by few.
    pub fn table_accounts<'c>(
        &self,
        candidates: impl Iterator<Item = &'c Candidate>,
    ) -> (Vec<Pubkey>, Vec<Pubkey>) {
        use micropay_interface::client::{vault_address, vault_authority_address};
        let mut shared = vec![
            self.config,
            vault_address(&self.config),
            vault_authority_address(&self.config),
            self.mint,
            self.token_program,
            micropay_interface::MEMO_PROGRAM_ID,
            micropay_interface::SYSTEM_PROGRAM_ID,
        ];
        let mut tabs = Vec::new();
        let mut payees = Vec::new();
        for candidate in candidates {
            tabs.push(candidate.epoch.state().tab);
            for wallet in candidate.wallets() {
                if let Some(payee) = self.payees.get(&wallet) {
                    payees.extend(payee.metas(&self.config).map(|meta| meta.pubkey));
                }
            }
        }
        payees.sort();
        payees.dedup();
        shared.extend(payees);
        tabs.sort();
        tabs.dedup();
        (shared, tabs)
    }
}

fn compile(
    payer: &Keypair,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedTransaction, EngineError> {
    let message = v0::Message::try_compile(&payer.pubkey(), ixs, tables, blockhash)
        .map_err(|e| EngineError::Build(e.to_string()))?;
    VersionedTransaction::try_new(VersionedMessage::V0(message), &[payer])
        .map_err(|e| EngineError::Build(e.to_string()))
}

pub fn transaction_fits(tx: &VersionedTransaction) -> bool {
    let bytes = bincode::serialized_size(tx).map_or(usize::MAX, |n| n as usize);
    let accounts = match &tx.message {
        VersionedMessage::V0(message) => {
            message.account_keys.len()
                + message
                    .address_table_lookups
                    .iter()
                    .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
                    .sum::<usize>()
        }
        VersionedMessage::Legacy(message) => message.account_keys.len(),
    };
    bytes <= MAX_TX_BYTES && accounts <= MAX_TX_ACCOUNTS
}

/// Lamports a settlement costs: one signature (the sequencer's; the streams' are
/// verified in the program) plus the priority fee.
pub fn transaction_fee(units: u32, micro_lamports_per_unit: u64) -> u64 {
    const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
    let priority = (u128::from(units) * u128::from(micro_lamports_per_unit)).div_ceil(1_000_000);
    LAMPORTS_PER_SIGNATURE + priority as u64
}

#[cfg(test)]
mod tests;
