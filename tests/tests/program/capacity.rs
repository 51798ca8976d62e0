//! The largest settlement that fits one transaction (1,232 bytes, 64 accounts), as a v0
//! message whose non-program accounts come from an address lookup table.

use std::borrow::Cow;

use micropay_tests::{
    protocol::{
        client::{settle_batch, SignedState},
        EpochState,
    },
    *,
};
use solana_address_lookup_table_interface::state::{AddressLookupTable, LookupTableMeta};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{
    account::{Account, AccountSharedData},
    hash::Hash,
    instruction::Instruction,
    message::{v0, AddressLookupTableAccount, VersionedMessage},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::VersionedTransaction,
};

const MAX_TX_BYTES: usize = 1_232;
const MAX_ACCOUNTS: usize = 64;

/// How tips spread over tabs and payees in one settlement.
#[derive(Clone, Copy, Debug)]
struct Shape {
    name: &'static str,
    entries_per_tab: usize,
    /// Payees are shared by all tabs (fan-in) or distinct per entry.
    shared_payees: bool,
}

impl Shape {
    fn payees(&self, tabs: usize) -> usize {
        if self.shared_payees {
            self.entries_per_tab
        } else {
            tabs * self.entries_per_tab
        }
    }
}

struct Built {
    tx: VersionedTransaction,
    bytes: usize,
    accounts: usize,
}

/// Builds the settlement transaction for `tabs` signed states.
fn build(
    env: &Env,
    payer: &Keypair,
    lookup_table: Pubkey,
    states: &[SignedState],
    blockhash: Hash,
) -> (Built, Vec<Pubkey>) {
    let refs: Vec<_> = states.iter().collect();
    let [precompile, settle] = settle_batch(&env.settle_accounts(), &refs).unwrap();
    let table: Vec<Pubkey> = settle
        .accounts
        .iter()
        .map(|meta| meta.pubkey)
        .filter(|key| *key != micropay::ID)
        .collect();
    let ixs: Vec<Instruction> = vec![
        ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
        precompile,
        settle,
    ];
    let message = v0::Message::try_compile(
        &payer.pubkey(),
        &ixs,
        &[AddressLookupTableAccount {
            key: lookup_table,
            addresses: table.clone(),
        }],
        blockhash,
    )
    .unwrap();
    let accounts = message.account_keys.len()
        + message
            .address_table_lookups
            .iter()
            .map(|l| l.writable_indexes.len() + l.readonly_indexes.len())
            .sum::<usize>();
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[payer]).unwrap();
    let bytes = bincode::serialize(&tx).unwrap().len();
    (
        Built {
            tx,
            bytes,
            accounts,
        },
        table,
    )
}

/// A tab to settle: its address, incarnation and owner.
type TabKey = (Pubkey, u64, Keypair);

/// Signed states of the given shape for `tabs`, paying `payees`.
fn states(shape: Shape, tabs: &[TabKey], payees: &[Pubkey]) -> Vec<SignedState> {
    tabs.iter()
        .enumerate()
        .map(|(t, (tab, incarnation, owner))| {
            let mut state = EpochState::new(*tab, *incarnation, 0);
            for e in 0..shape.entries_per_tab {
                let payee = if shape.shared_payees {
                    payees[e]
                } else {
                    payees[t * shape.entries_per_tab + e]
                };
                state = state.tip(payee, 1 + e as u64).unwrap();
            }
            sign(state, owner)
        })
        .collect()
}

fn fits(built: &Built) -> bool {
    built.bytes <= MAX_TX_BYTES && built.accounts <= MAX_ACCOUNTS
}

/// Most tabs of `shape` whose settlement fits, found with throwaway keys: the size
/// depends only on the counts.
fn max_tabs(env: &Env, shape: Shape) -> usize {
    let payer = Keypair::new();
    let mut best = 0;
    for tabs in 1..=16 {
        let tab_keys: Vec<TabKey> = (0..tabs)
            .map(|_| (Pubkey::new_unique(), 0, Keypair::new()))
            .collect();
        let payees: Vec<_> = (0..shape.payees(tabs))
            .map(|_| Pubkey::new_unique())
            .collect();
        let (built, _) = build(
            env,
            &payer,
            Pubkey::new_unique(),
            &states(shape, &tab_keys, &payees),
            Hash::default(),
        );
        if !fits(&built) {
            break;
        }
        best = tabs;
    }
    best
}

fn install_lookup_table(env: &mut Env, addresses: Vec<Pubkey>) -> Pubkey {
    let key = Pubkey::new_unique();
    let data = AddressLookupTable {
        meta: LookupTableMeta {
            deactivation_slot: u64::MAX,
            last_extended_slot: 0,
            last_extended_slot_start_index: 0,
            authority: None,
            _padding: 0,
        },
        addresses: Cow::Owned(addresses),
    }
    .serialize_for_tests()
    .unwrap();
    let account = Account {
        lamports: 1_000_000_000,
        data,
        owner: solana_address_lookup_table_interface::program::ID,
        executable: false,
        rent_epoch: 0,
    };
    env.ctx.set_account(&key, &AccountSharedData::from(account));
    key
}

#[tokio::test]
async fn largest_settlement_that_fits_one_transaction() {
    let shapes = [
        Shape {
            name: "1 tip/tab, one shared payee",
            entries_per_tab: 1,
            shared_payees: true,
        },
        Shape {
            name: "1 tip/tab, distinct payees",
            entries_per_tab: 1,
            shared_payees: false,
        },
        Shape {
            name: "4 payees/tab, shared",
            entries_per_tab: 4,
            shared_payees: true,
        },
        Shape {
            name: "4 payees/tab, distinct",
            entries_per_tab: 4,
            shared_payees: false,
        },
    ];
    let mut env = Env::new(TokenKind::Spl, 100).await;
    env.ctx.warp_to_slot(10).unwrap();
    // The natively run program prints its logs to stdout; the table comes last.
    let mut report = format!(
        "{:<30} {:>5} {:>8} {:>7} {:>6} {:>9}\n",
        "shape", "tabs", "entries", "payees", "bytes", "accounts"
    );
    let mut one_entry_tabs = 0;
    for shape in shapes {
        let tabs = max_tabs(&env, shape);
        assert!(tabs >= 1, "{}: not even one tab fits", shape.name);
        // Real tabs and payees on chain, then the real settlement.
        let mut tab_keys = Vec::new();
        for _ in 0..tabs {
            let payer = env.new_payer(1_000, 1_000).await;
            let incarnation = env.tab(&payer.tab).await.incarnation;
            tab_keys.push((payer.tab, incarnation, payer.owner));
        }
        let mut payees = Vec::new();
        for _ in 0..shape.payees(tabs) {
            payees.push(env.create_token_account(&Pubkey::new_unique()).await);
        }
        let signed_states = states(shape, &tab_keys, &payees);
        let payer = env.payer();
        let blockhash = env.ctx.get_new_latest_blockhash().await.unwrap();
        let (_, addresses) = build(&env, &payer, Pubkey::default(), &signed_states, blockhash);
        let lookup_table = install_lookup_table(&mut env, addresses);
        let (built, _) = build(&env, &payer, lookup_table, &signed_states, blockhash);
        assert!(
            fits(&built),
            "{}: {} bytes, {} accounts",
            shape.name,
            built.bytes,
            built.accounts
        );
        env.ctx
            .banks_client
            .process_transaction(built.tx)
            .await
            .unwrap();
        for (tab, _, _) in &tab_keys {
            assert_eq!(
                env.tab(tab).await.epoch,
                1,
                "{}: a tab did not settle",
                shape.name
            );
        }
        let entries = tabs * shape.entries_per_tab;
        report.push_str(&format!(
            "{:<30} {:>5} {:>8} {:>7} {:>6} {:>9}\n",
            shape.name,
            tabs,
            entries,
            shape.payees(tabs),
            built.bytes,
            built.accounts
        ));
        if shape.entries_per_tab == 1 && shape.shared_payees {
            one_entry_tabs = tabs;
        }
    }
    println!("\nlargest settlements in one transaction:\n{report}");
    // The fixed accounts and a lookup table leave room for several ~220-byte tab items.
    assert!(
        one_entry_tabs >= 4,
        "only {one_entry_tabs} one-entry tabs fit"
    );
}
