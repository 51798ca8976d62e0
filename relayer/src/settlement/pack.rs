//! Fitting settlements into transactions: the instructions for a batch, compiled
//! against the lookup tables, within the size and account limits.

use micropay_interface::client::{credit_address, settle, SettleAccounts};
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
    EngineError,
};

pub const MAX_TX_BYTES: usize = 1_232;
/// Accounts a transaction may lock (local runtimes with every feature allow more;
/// mainnet allows 64).
pub const MAX_TX_ACCOUNTS: usize = 64;
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;

/// Builds and compiles settlement transactions for one config.
pub struct Packer<'a> {
    pub payer: &'a Keypair,
    pub config: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub compute_unit_price: u64,
    pub payees: &'a PayeeDirectory,
}

impl Packer<'_> {
    pub fn instructions(
        &self,
        batch: &[&Candidate],
        unit_limit: u32,
    ) -> Result<Vec<Instruction>, EngineError> {
        let settler = self.payer.pubkey();
        let accounts = SettleAccounts {
            settler: &settler,
            config: &self.config,
            mint: &self.mint,
            token_program: &self.token_program,
        };
        let items: Vec<_> = batch.iter().map(|c| c.item()).collect();
        let payees = self.payees.for_batch(batch);
        let settle = settle(&accounts, &items, &payees)
            .map_err(|e| EngineError::Build(format!("settle instruction: {e:?}")))?;
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(unit_limit)];
        if self.compute_unit_price > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.compute_unit_price,
            ));
        }
        ixs.push(settle);
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

    fn fits(
        &self,
        batch: &[&Candidate],
        tables: &[AddressLookupTableAccount],
    ) -> Result<bool, EngineError> {
        let ixs = self.instructions(batch, MAX_COMPUTE_UNITS)?;
        let tx = self.compile(&ixs, &ordered_tables(tables, &ixs), Hash::default())?;
        Ok(transaction_fits(&tx))
    }

    /// Splits `candidates` (in order) into batches whose transactions fit, each
    /// compiled against the lookup tables as they are. A candidate that cannot fit
    /// even alone is left out and logged.
    pub fn pack<'c>(
        &self,
        candidates: &'c [Candidate],
        tables: &[AddressLookupTableAccount],
    ) -> Result<Vec<Vec<&'c Candidate>>, EngineError> {
        let mut batches = Vec::new();
        let mut current: Vec<&Candidate> = Vec::new();
        for candidate in candidates {
            current.push(candidate);
            if self.fits(&current, tables)? {
                continue;
            }
            let last = current.pop().expect("just pushed");
            if !current.is_empty() {
                batches.push(std::mem::take(&mut current));
            }
            if self.fits(&[last], tables)? {
                current.push(last);
            } else {
                tracing::error!(epoch = ?last.key(), "a single state does not fit a transaction");
            }
        }
        if !current.is_empty() {
            batches.push(current);
        }
        Ok(batches)
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
                    payees.push(payee.token_account);
                    payees.push(credit_address(&self.config, &wallet));
                    if payee.pass_wallet {
                        payees.push(wallet);
                    }
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

/// The lookup tables ordered for `ixs`: the one holding most of their accounts first,
/// so that compiling takes as many as possible from one table (each extra table costs
/// a transaction about 35 bytes).
pub fn ordered_tables(
    tables: &[AddressLookupTableAccount],
    ixs: &[Instruction],
) -> Vec<AddressLookupTableAccount> {
    let used: std::collections::HashSet<&Pubkey> = ixs
        .iter()
        .flat_map(|ix| ix.accounts.iter().map(|meta| &meta.pubkey))
        .collect();
    let mut ordered = tables.to_vec();
    ordered.sort_by_key(|table| {
        std::cmp::Reverse(table.addresses.iter().filter(|a| used.contains(a)).count())
    });
    ordered
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
mod tests {
    use micropay_protocol::{SignedStream, StreamState};

    use super::*;
    use crate::domain::{EpochKey, StoredEpoch, StreamStatus};

    /// Closed one-tip epochs of distinct tabs, paying `payees` in turn.
    fn candidates(n: usize, payees: &[Pubkey]) -> Vec<Candidate> {
        let (key, sequencer) = (Keypair::new(), Keypair::new());
        (0..n)
            .map(|i| {
                let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
                    .tip(payees[i % payees.len()], 10)
                    .unwrap();
                let receipted = SignedStream::sign(state, &key)
                    .unwrap()
                    .receipt(&sequencer)
                    .unwrap();
                Candidate {
                    epoch: StoredEpoch {
                        receipted,
                        status: StreamStatus::Closed,
                        opened_at_ms: 0,
                        updated_at_ms: 0,
                        settle_tx: None,
                    },
                    previous: None,
                }
            })
            .collect()
    }

    /// Every candidate is in one batch, in order; each batch's transaction fits, and
    /// no batch could have taken the next batch's first candidate too.
    fn check(
        packer: &Packer,
        all: &[Candidate],
        batches: &[Vec<&Candidate>],
        tables: &[AddressLookupTableAccount],
    ) {
        let packed: Vec<EpochKey> = batches.iter().flatten().map(|c| c.key()).collect();
        let expected: Vec<EpochKey> = all.iter().map(Candidate::key).collect();
        assert_eq!(packed, expected);
        for (i, batch) in batches.iter().enumerate() {
            assert!(packer.fits(batch, tables).unwrap(), "batch {i} fits");
            if let Some(next) = batches.get(i + 1) {
                let mut more = batch.clone();
                more.push(next[0]);
                assert!(
                    !packer.fits(&more, tables).unwrap(),
                    "batch {i} could have taken one more"
                );
            }
        }
    }

    #[test]
    fn batches_fit_keep_their_order_and_are_full() {
        let payees: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let (mint, token_program) = (Pubkey::new_unique(), Pubkey::new_unique());
        let directory = PayeeDirectory::new(&payees, &[None, None, None], &mint, &token_program);
        let payer = Keypair::new();
        let packer = Packer {
            payer: &payer,
            config: Pubkey::new_unique(),
            mint,
            token_program,
            compute_unit_price: 0,
            payees: &directory,
        };
        let all = candidates(40, &payees);

        let plain = packer.pack(&all, &[]).unwrap();
        check(&packer, &all, &plain, &[]);

        // A lookup table holding every account the settlements use: more per batch.
        let (shared, tabs) = packer.table_accounts(all.iter());
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: shared.into_iter().chain(tabs).collect(),
        };
        let tables = [table];
        let with_table = packer.pack(&all, &tables).unwrap();
        check(&packer, &all, &with_table, &tables);
        assert!(
            with_table.len() < plain.len(),
            "{} batches with the table, {} without",
            with_table.len(),
            plain.len()
        );
    }

    #[test]
    fn the_fee_is_one_signature_plus_the_priority_fee_rounded_up() {
        assert_eq!(transaction_fee(1_400_000, 0), 5_000);
        assert_eq!(transaction_fee(1_000_000, 1), 5_001);
        assert_eq!(transaction_fee(1, 1), 5_001);
        assert_eq!(transaction_fee(200_000, 10), 5_002);
    }
}
