use micropay_protocol::{SignedStream, StreamState};

use super::*;
use crate::domain::{EpochKey, StoredEpoch, StreamStatus};

/// Closed epochs of distinct tabs, paying one to three of `payees` each; every
/// fifth a top-up, every seventh with a fee of its own.
fn candidates(n: usize, payees: &[Pubkey]) -> Vec<Candidate> {
    let (key, sequencer) = (Keypair::new(), Keypair::new());
    (0..n)
        .map(|i| {
            let fee_bps = if i % 7 == 3 { 250 } else { 100 };
            let mut state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, fee_bps);
            for j in 0..1 + i % 3 {
                let amount = 10u64.pow((i % 6) as u32 + 1);
                state = state
                    .tip(payees[(i + j * 5) % payees.len()], amount)
                    .unwrap();
            }
            let previous = (i % 5 == 4).then(|| vec![(payees[i % payees.len()], 3)]);
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
                previous,
            }
        })
        .collect()
}

/// A packer for a new config.
fn packer<'a>(
    payer: &'a Keypair,
    payees: &'a PayeeDirectory,
    mint: Pubkey,
    token_program: Pubkey,
    compute_unit_price: u64,
) -> Packer<'a> {
    Packer {
        payer,
        config: Pubkey::new_unique(),
        mint,
        token_program,
        compute_unit_price,
        payees,
    }
}

/// The compiled transaction of `batch` with `tables` in that order.
fn compiled(
    packer: &Packer,
    batch: &[Candidate],
    tables: &[AddressLookupTableAccount],
) -> VersionedTransaction {
    let ixs = packer.instructions(batch, MAX_COMPUTE_UNITS).unwrap();
    packer.compile(&ixs, tables, Hash::default()).unwrap()
}

/// Every candidate is in one batch, in order; each batch's transaction, compiled
/// with its tables, fits; and none could have taken the next batch's first
/// candidate too (compiled with every table, its preferred one first).
fn check(
    packer: &Packer,
    all: &[Candidate],
    batches: &[Batch],
    tables: &[AddressLookupTableAccount],
) {
    let packed: Vec<EpochKey> = batches
        .iter()
        .flat_map(|b| b.candidates.iter().map(Candidate::key))
        .collect();
    let expected: Vec<EpochKey> = all.iter().map(Candidate::key).collect();
    assert_eq!(packed, expected);
    let index = LookupIndex::new(tables);
    for (i, batch) in batches.iter().enumerate() {
        assert!(
            transaction_fits(&compiled(packer, &batch.candidates, &batch.tables)),
            "batch {i} fits"
        );
        let Some(next) = batches.get(i + 1) else {
            continue;
        };
        let mut more = batch.candidates.clone();
        more.push(next.candidates[0].clone());
        let mut order = tables.to_vec();
        if let Some(preferred) = index.first_holder(&more[0].epoch.state().tab) {
            let first = order.remove(preferred);
            order.insert(0, first);
        }
        assert!(
            !transaction_fits(&compiled(packer, &more, &order)),
            "batch {i} could have taken one more"
        );
    }
}

#[test]
fn batches_fit_keep_their_order_and_are_full() {
    let payees: Vec<Pubkey> = (0..12).map(|_| Pubkey::new_unique()).collect();
    let (mint, token_program) = (Pubkey::new_unique(), Pubkey::new_unique());
    // A third of the payees have no readable token account: their wallets are passed.
    let accounts: Vec<Option<solana_sdk::account::Account>> = payees
        .iter()
        .enumerate()
        .map(|(i, wallet)| {
            (i % 3 != 0).then(|| {
                let mut data = vec![0; 165];
                data[..32].copy_from_slice(mint.as_ref());
                data[32..64].copy_from_slice(wallet.as_ref());
                solana_sdk::account::Account {
                    owner: token_program,
                    data,
                    ..Default::default()
                }
            })
        })
        .collect();
    let directory = PayeeDirectory::new(&payees, &accounts, &mint, &token_program);
    let payer = Keypair::new();
    let packer = packer(&payer, &directory, mint, token_program, 7);
    let all = candidates(90, &payees);

    let plain = packer.pack(all.clone(), &LookupIndex::new(&[])).unwrap();
    check(&packer, &all, &plain, &[]);

    // One table holding every account the settlements use: more per batch.
    let (shared, tabs) = packer.table_accounts(all.iter());
    let one = [AddressLookupTableAccount {
        key: Pubkey::new_unique(),
        addresses: shared.iter().chain(&tabs).copied().collect(),
    }];
    let with_table = packer.pack(all.clone(), &LookupIndex::new(&one)).unwrap();
    check(&packer, &all, &with_table, &one);
    assert!(
        with_table.len() < plain.len(),
        "{} batches with the table, {} without",
        with_table.len(),
        plain.len()
    );

    // Two tables as the engine lays them out (each with the shared accounts and
    // half the tabs): most batches need only one.
    let half = tabs.len() / 2;
    let two: Vec<AddressLookupTableAccount> = [&tabs[..half], &tabs[half..]]
        .iter()
        .map(|part| AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: shared.iter().chain(part.iter()).copied().collect(),
        })
        .collect();
    let index = LookupIndex::new(&two);
    let mut sorted = all.clone();
    sorted.sort_by_key(|c| index.first_holder(&c.epoch.state().tab));
    let with_two = packer.pack(sorted.clone(), &index).unwrap();
    check(&packer, &sorted, &with_two, &two);
    let single = with_two.iter().filter(|b| b.tables.len() == 1).count();
    assert!(
        single + 1 >= with_two.len(),
        "{single} of {}",
        with_two.len()
    );
}

#[test]
fn a_candidate_too_big_for_any_transaction_is_left_out() {
    let payees: Vec<Pubkey> = (0..10).map(|_| Pubkey::new_unique()).collect();
    let (mint, token_program) = (Pubkey::new_unique(), Pubkey::new_unique());
    let directory = PayeeDirectory::new(&payees, &vec![None; payees.len()], &mint, &token_program);
    let payer = Keypair::new();
    let packer = packer(&payer, &directory, mint, token_program, 0);
    let mut all = candidates(3, &payees);
    // A top-up naming ten payees, each with its wallet passed: over 1,232 bytes
    // without tables.
    let mut state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100);
    for payee in &payees[..5] {
        state = state.tip(*payee, 1).unwrap();
    }
    let mut big = all[0].clone();
    big.previous = Some(payees[5..].iter().map(|p| (*p, 1)).collect());
    big.epoch.receipted = SignedStream::sign(state, &Keypair::new())
        .unwrap()
        .receipt(&Keypair::new())
        .unwrap();
    all.insert(1, big);
    let batches = packer.pack(all.clone(), &LookupIndex::new(&[])).unwrap();
    let packed: Vec<EpochKey> = batches
        .iter()
        .flat_map(|b| b.candidates.iter().map(Candidate::key))
        .collect();
    assert_eq!(packed, vec![all[0].key(), all[2].key(), all[3].key()]);
}

#[test]
fn the_fee_is_one_signature_plus_the_priority_fee_rounded_up() {
    assert_eq!(transaction_fee(1_400_000, 0), 5_000);
    assert_eq!(transaction_fee(1_000_000, 1), 5_001);
    assert_eq!(transaction_fee(1, 1), 5_001);
    assert_eq!(transaction_fee(200_000, 10), 5_002);
}
