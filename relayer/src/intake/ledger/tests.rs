use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use micropay_protocol::{Receipted, SignedStream, StreamState};
use solana_sdk::signature::Keypair;

use super::*;
use crate::store::PendingWrite;

/// A store of accepted states whose writes take 20 ms; reads are counted.
#[derive(Default)]
struct SlowStore {
    epochs: Arc<std::sync::Mutex<Vec<StoredEpoch>>>,
    reads: AtomicUsize,
    /// Refuse every write, as if another instance had won.
    lose: std::sync::atomic::AtomicBool,
    /// The seq of each state queued, in the order queued.
    queued: std::sync::Mutex<Vec<u32>>,
}

#[async_trait]
impl IntakeStore for SlowStore {
    async fn tab_epochs(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let epochs = self.epochs.lock().unwrap();
        Ok(epochs
            .iter()
            .filter(|e| e.state().tab == *tab)
            .cloned()
            .collect())
    }

    fn queue(&self, accepted: Accepted) -> PendingWrite {
        self.queued.lock().unwrap().push(accepted.state().seq);
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let (lose, epochs) = (self.lose.load(Ordering::SeqCst), self.epochs.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if !lose {
                upsert(&mut epochs.lock().unwrap(), &accepted);
            }
            let _ = reply.send(Ok(!lose));
        });
        PendingWrite::new(outcome)
    }
}

fn accepted(tab: Pubkey, slot: u8, total: u64) -> Accepted {
    let key = Keypair::new();
    let state = StreamState::new(tab, 1, slot, 0, 0)
        .tip(Pubkey::new_unique(), total)
        .unwrap();
    Accepted {
        receipted: Receipted {
            signed: SignedStream::sign(state, &key).unwrap(),
            receipt: [0; 64],
        },
        previous_seq: None,
        tip: (Pubkey::new_unique(), total),
        at_ms: 1,
    }
}

/// What a tab of `balance` may still receipt beside `epochs`.
fn within(balance: u64, epochs: &[StoredEpoch], next: Accepted) -> Result<Accepted, StoreError> {
    let owed: u64 = epochs.iter().map(|e| e.state().total()).sum();
    if owed + next.receipted.signed.state.total() > balance {
        return Err(StoreError::Corrupt("insufficient funds".into()));
    }
    Ok(next)
}

/// Reserves what `check` accepts and waits for its write.
async fn write_checked(
    ledger: &Arc<Ledger>,
    tab: &Pubkey,
    check: impl FnOnce(&[StoredEpoch]) -> Result<Accepted, StoreError>,
) -> StoreResult<(Accepted, bool)> {
    ledger.reserve_checked(tab, check).await?.written().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_streams_of_a_tab_cannot_spend_the_same_funds_at_once() {
    for sole_writer in [true, false] {
        let store = Arc::new(SlowStore::default());
        let ledger = Arc::new(Ledger::new(store.clone(), sole_writer));
        let tab = Pubkey::new_unique();
        // Ten streams each ask for 60 of a balance of 100, all at once: one fits.
        let writes: Vec<_> = (1..=10u8)
            .map(|slot| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    write_checked(&ledger, &tab, |epochs| {
                        within(100, epochs, accepted(tab, slot, 60))
                    })
                    .await
                })
            })
            .collect();
        let mut written = 0;
        for write in writes {
            if let Ok((_, true)) = write.await.unwrap() {
                written += 1;
            }
        }
        assert_eq!(written, 1, "sole writer: {sole_writer}");
        assert_eq!(store.tab_epochs(&tab).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_sole_writer_reads_a_tab_once_until_settlement_moves_it_on() {
    let store = Arc::new(SlowStore::default());
    let ledger = Arc::new(Ledger::new(store.clone(), true));
    let tab = Pubkey::new_unique();
    for slot in 0..3 {
        let (_, written) = write_checked(&ledger, &tab, |epochs| {
            within(100, epochs, accepted(tab, slot, 10))
        })
        .await
        .unwrap();
        assert!(written);
    }
    assert_eq!(ledger.stored(&tab).await.unwrap().len(), 3);
    assert_eq!(store.reads.load(Ordering::SeqCst), 1);

    ledger.forget([tab]).await;
    assert_eq!(ledger.stored(&tab).await.unwrap().len(), 3);
    assert_eq!(store.reads.load(Ordering::SeqCst), 2);

    // A write another writer won leaves nothing kept that the store may not hold.
    store.lose.store(true, Ordering::SeqCst);
    let (_, written) = write_checked(&ledger, &tab, |epochs| {
        within(100, epochs, accepted(tab, 3, 10))
    })
    .await
    .unwrap();
    assert!(!written);
    assert_eq!(ledger.stored(&tab).await.unwrap().len(), 3);
    assert_eq!(store.reads.load(Ordering::SeqCst), 3);

    // A shared store is read every time.
    let shared = Ledger::new(store.clone(), false);
    shared.stored(&tab).await.unwrap();
    shared.stored(&tab).await.unwrap();
    assert_eq!(store.reads.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_caller_gone_away_neither_loses_its_write_nor_keeps_it_reserved() {
    let store = Arc::new(SlowStore::default());
    let ledger = Arc::new(Ledger::new(store.clone(), true));
    let tab = Pubkey::new_unique();
    let write = write_checked(&ledger, &tab, |epochs| {
        within(100, epochs, accepted(tab, 0, 60))
    });
    // Dropped once its state is reserved, mid-write.
    assert!(tokio::time::timeout(Duration::from_millis(5), write)
        .await
        .is_err());
    assert_eq!(ledger.epochs(&tab).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.tab_epochs(&tab).await.unwrap().len(), 1);
    let stripe = ledger.stripe(&tab).lock().await;
    assert!(stripe[&tab].writing.is_empty());
    assert_eq!(stripe[&tab].stored.as_ref().map(Vec::len), Some(1));
}

/// Two states of one stream reserved back to back (a batch) are written in one group
/// and their writes end in either order: what is kept is the later state.
#[test]
fn an_earlier_state_never_replaces_a_later_one_kept() {
    let key = Keypair::new();
    let first = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
        .tip(Pubkey::new_unique(), 10)
        .unwrap();
    let second = first.tip(Pubkey::new_unique(), 5).unwrap();
    let accept = |state: &StreamState, previous_seq| Accepted {
        receipted: Receipted {
            signed: SignedStream::sign(state.clone(), &key).unwrap(),
            receipt: [0; 64],
        },
        previous_seq,
        tip: (Pubkey::new_unique(), 5),
        at_ms: 1,
    };
    let (first, second) = (accept(&first, None), accept(&second, Some(1)));
    for order in [[&first, &second], [&second, &first]] {
        let mut stored = Vec::new();
        for accepted in order {
            upsert(&mut stored, accepted);
        }
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].state().seq, 2);
    }
}

/// A batch reserves a stream's states one after another without waiting for their
/// writes: the store must get them in that order, or a state would reach the writer
/// before the one it follows and be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn states_reserved_in_turn_are_queued_in_turn() {
    let store = Arc::new(SlowStore::default());
    let ledger = Arc::new(Ledger::new(store.clone(), true));
    let key = Keypair::new();
    let mut state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0);
    let payee = Pubkey::new_unique();
    let mut reserved = Vec::new();
    for seq in 1..=64u32 {
        let previous_seq = (seq > 1).then_some(seq - 1);
        state = state.tip(payee, 1).unwrap();
        let accepted = Accepted {
            receipted: Receipted {
                signed: SignedStream::sign(state.clone(), &key).unwrap(),
                receipt: [0; 64],
            },
            previous_seq,
            tip: (payee, 1),
            at_ms: 1,
        };
        let tab = state.tab;
        reserved.push(
            ledger
                .reserve_checked(&tab, |epochs| {
                    let stored = epochs.iter().map(|e| e.state().seq).max();
                    assert_eq!(stored, previous_seq, "each checked against the one before");
                    Ok::<_, StoreError>(accepted)
                })
                .await
                .unwrap(),
        );
    }
    for reservation in reserved {
        assert!(reservation.written().await.unwrap().1);
    }
    assert_eq!(*store.queued.lock().unwrap(), (1..=64).collect::<Vec<_>>());
}
