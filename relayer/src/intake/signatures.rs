//! Signatures verified lately, and stream keys prepared once. A paid call's state is
//! checked at `/x402/verify` and again, moments later, at `/x402/settle`; the second
//! check finds the same key, message and signature here and skips the curve
//! arithmetic, which is most of what a check costs. Every other check runs the
//! predicate under the stream key as decoded the first time it was used, and a key
//! checked often enough (an agent's session key making thousands of calls) gets a
//! table of its multiples where this CPU checks faster with one: measured at start,
//! since a table takes a third off a check on a Zen 1 EPYC and nothing on a Zen 4
//! (ADR 0012).

use std::{
    collections::HashMap,
    hint::black_box,
    sync::{mpsc, Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use micropay_protocol::{
    ed25519::{DecodedKey, PrecomputedKey, StrictKey},
    SignedStream, STATE_MESSAGE_LEN,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// How many verified signatures, and how many prepared keys, are kept; when full, a
/// memo starts over.
const REMEMBERED: usize = 16_384;

/// Tables kept at once (61 KiB each, so 15 MiB); past it the least recently used
/// key's table goes, and that key is checked as decoded again.
const TABLES: usize = 256;

/// Each verified signature, with the key and the state message it was verified for.
type Memo = HashMap<[u8; 64], ([u8; 32], [u8; STATE_MESSAGE_LEN])>;

pub struct VerifiedSignatures {
    recent: Mutex<Memo>,
    keys: Arc<Mutex<Keys>>,
    /// Keys whose table is to be built, in turn, by a thread of their own: about 5 ms
    /// each that would otherwise hold up an async worker, and one at a time, so that
    /// many keys reaching the count together take one core, not every one.
    to_build: mpsc::Sender<([u8; 32], DecodedKey)>,
}

impl Default for VerifiedSignatures {
    /// Tables once the builder has measured whether they pay on this CPU.
    fn default() -> Self {
        Self::with_tables(TABLES, None)
    }
}

/// Stream keys as prepared so far.
struct Keys {
    prepared: HashMap<[u8; 32], Prepared>,
    /// The check at which a key's table is queued; `None` while unmeasured, or when a
    /// table does not make checks cheaper here.
    checks_before_table: Option<u32>,
    tables: usize,
    most_tables: usize,
    /// Counts lookups: a key's last use, for choosing which table goes.
    clock: u64,
}

struct Prepared {
    decoded: DecodedKey,
    checks: u32,
    last_used: u64,
    table: Option<Arc<PrecomputedKey>>,
}

/// What one check runs under.
enum CheckKey {
    Decoded(DecodedKey),
    Table(Arc<PrecomputedKey>),
}

impl VerifiedSignatures {
    /// `checks_before_table`: the count at which a key's table is queued, or `None`
    /// for the builder to measure it first.
    fn with_tables(most_tables: usize, checks_before_table: Option<u32>) -> Self {
        let keys = Arc::new(Mutex::new(Keys {
            prepared: HashMap::new(),
            checks_before_table,
            tables: 0,
            most_tables,
            clock: 0,
        }));
        let (to_build, requests) = mpsc::channel::<([u8; 32], DecodedKey)>();
        let builder_keys = Arc::clone(&keys);
        // Ends when the memo, and so the sender, is dropped.
        std::thread::Builder::new()
            .name("key-tables".into())
            .spawn(move || {
                if checks_before_table.is_none() {
                    lock(&builder_keys).checks_before_table = measure_checks_before_table();
                }
                for (key, decoded) in requests {
                    let table = Arc::new(PrecomputedKey::new(&decoded));
                    lock(&builder_keys).keep_table(&key, table);
                }
            })
            .expect("a thread for building key tables");
        Self {
            recent: Mutex::default(),
            keys,
            to_build,
        }
    }

    /// Whether `key` signed `submitted` under the strict predicate: the same answer as
    /// [`SignedStream::verify`], from memory when this exact triple passed before.
    pub fn verify(&self, submitted: &SignedStream, key: &Pubkey) -> bool {
        let message = submitted.state.message().state_bytes();
        let seen = (key.to_bytes(), message);
        if lock(&self.recent).get(&submitted.signature) == Some(&seen) {
            return true;
        }
        let verified = match self.check_key(&seen.0) {
            None => false,
            Some(CheckKey::Decoded(key)) => key.verify_strict(&message, &submitted.signature),
            Some(CheckKey::Table(key)) => key.verify_strict(&message, &submitted.signature),
        };
        if !verified {
            return false;
        }
        let mut recent = lock(&self.recent);
        if recent.len() >= REMEMBERED {
            recent.clear();
        }
        recent.insert(submitted.signature, seen);
        true
    }

    /// `key` as prepared so far, counting this check; `None` if it is not a point.
    fn check_key(&self, key: &[u8; 32]) -> Option<CheckKey> {
        {
            let mut keys = lock(&self.keys);
            keys.clock += 1;
            let now = keys.clock;
            let checks_before_table = keys.checks_before_table;
            if let Some(prepared) = keys.prepared.get_mut(key) {
                prepared.last_used = now;
                if let Some(table) = &prepared.table {
                    return Some(CheckKey::Table(table.clone()));
                }
                prepared.checks = prepared.checks.saturating_add(1);
                // A key reaches the count once per life in the memo, so an evicted
                // key is not rebuilt and tables cannot churn.
                if Some(prepared.checks) == checks_before_table {
                    // Only fails once the builder is gone: the key stays decoded.
                    let _ = self.to_build.send((*key, prepared.decoded));
                }
                return Some(CheckKey::Decoded(prepared.decoded));
            }
        }
        let decoded = DecodedKey::decode(key)?;
        let mut keys = lock(&self.keys);
        if keys.prepared.len() >= REMEMBERED {
            keys.prepared.clear();
            keys.tables = 0;
        }
        let last_used = keys.clock;
        keys.prepared.insert(
            *key,
            Prepared {
                decoded,
                checks: 1,
                last_used,
                table: None,
            },
        );
        Some(CheckKey::Decoded(decoded))
    }
}

impl Keys {
    fn keep_table(&mut self, key: &[u8; 32], table: Arc<PrecomputedKey>) {
        // Not kept if the memo started over meanwhile and forgot the key, or (having
        // started over) already built it again.
        match self.prepared.get(key) {
            Some(prepared) if prepared.table.is_none() && self.most_tables > 0 => {}
            _ => return,
        }
        if self.tables >= self.most_tables {
            let least_recent = self
                .prepared
                .iter_mut()
                .filter(|(_, prepared)| prepared.table.is_some())
                .min_by_key(|(_, prepared)| prepared.last_used);
            if let Some((_, prepared)) = least_recent {
                prepared.table = None;
                self.tables -= 1;
            }
        }
        if let Some(prepared) = self.prepared.get_mut(key) {
            prepared.table = Some(table);
            self.tables += 1;
        }
    }

    #[cfg(test)]
    fn has_table(&self, key: &Pubkey) -> bool {
        self.prepared
            .get(&key.to_bytes())
            .is_some_and(|prepared| prepared.table.is_some())
    }
}

/// After how many checks under a key its table has saved what building it cost, on
/// this CPU: `None` if checks under a table are not at least a tenth cheaper (below
/// that, timing noise could be all of the difference). About 15 ms, once, on the
/// builder's thread; each figure is the fastest of several rounds, so that a round
/// the thread spent preempted does not count.
fn measure_checks_before_table() -> Option<u32> {
    const ROUNDS: usize = 7;
    const CHECKS: u32 = 32;
    let signer = Keypair::new();
    let message = [7u8; STATE_MESSAGE_LEN];
    let signature: [u8; 64] = signer.sign_message(&message).into();
    let decoded = DecodedKey::decode(&signer.pubkey().to_bytes())?;
    let started = Instant::now();
    let table = PrecomputedKey::new(&decoded);
    let building = started.elapsed();
    let per_check = |key: &dyn StrictKey| {
        let started = Instant::now();
        for _ in 0..CHECKS {
            assert!(black_box(key).verify_strict(&message, &signature));
        }
        started.elapsed() / CHECKS
    };
    let (mut decoded_check, mut table_check) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        decoded_check = decoded_check.min(per_check(&decoded));
        table_check = table_check.min(per_check(&table));
    }
    let saving = decoded_check.saturating_sub(table_check);
    let pays = !saving.is_zero() && saving * 10 >= decoded_check;
    // At least 2: the count is compared from a key's second check on.
    let checks = pays.then(|| {
        u32::try_from(building.as_nanos() / saving.as_nanos())
            .unwrap_or(u32::MAX)
            .max(2)
    });
    tracing::info!(
        decoded_check_us = decoded_check.as_secs_f64() * 1e6,
        table_check_us = table_check.as_secs_f64() * 1e6,
        building_us = building.as_secs_f64() * 1e6,
        checks_before_table = ?checks,
        "stream key tables measured"
    );
    checks
}

fn lock<T>(memo: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves a valid map: only whole entries go in.
    memo.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use micropay_protocol::StreamState;
    use solana_sdk::{signature::Keypair, signer::Signer};

    use super::*;

    /// Tests fix the count instead of measuring it.
    const CHECKS_BEFORE_TABLE: u32 = 150;

    fn with_tables(most_tables: usize) -> VerifiedSignatures {
        VerifiedSignatures::with_tables(most_tables, Some(CHECKS_BEFORE_TABLE))
    }

    #[test]
    fn a_remembered_signature_passes_only_for_its_own_key_and_state() {
        let (key, other) = (Keypair::new(), Keypair::new());
        let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100)
            .tip(Pubkey::new_unique(), 10)
            .unwrap();
        let signed = SignedStream::sign(state.clone(), &key).unwrap();
        let memo = VerifiedSignatures::default();
        assert!(memo.verify(&signed, &key.pubkey()));
        assert!(memo.verify(&signed, &key.pubkey()), "remembered");
        assert!(!memo.verify(&signed, &other.pubkey()), "another key");
        // The remembered signature over another state.
        let mut altered = signed.clone();
        altered.state = state.tip(Pubkey::new_unique(), 1).unwrap();
        assert!(!memo.verify(&altered, &key.pubkey()), "another state");
        let mut forged = signed;
        forged.signature[0] ^= 1;
        assert!(!memo.verify(&forged, &key.pubkey()));
    }

    /// A stream's states, each signed by `key` and each a new signature to check.
    fn states(key: &Keypair, count: usize) -> Vec<SignedStream> {
        let mut state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100);
        let payee = Pubkey::new_unique();
        (0..count)
            .map(|_| {
                state = state.tip(payee, 1).unwrap();
                SignedStream::sign(state.clone(), key).unwrap()
            })
            .collect()
    }

    fn wait_for_table(memo: &VerifiedSignatures, key: &Pubkey) {
        let started = Instant::now();
        while !lock(&memo.keys).has_table(key) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no table built"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Answers stay the predicate's before and after the key's table, for genuine
    /// and forged signatures alike.
    #[test]
    fn a_key_checked_often_gets_a_table_and_the_same_answers() {
        let key = Keypair::new();
        let memo = with_tables(TABLES);
        let signed = states(&key, CHECKS_BEFORE_TABLE as usize + 4);
        let (before, after) = signed.split_at(CHECKS_BEFORE_TABLE as usize);
        for state in before {
            let mut forged = state.clone();
            forged.signature[40] ^= 1;
            assert!(!memo.verify(&forged, &key.pubkey()));
            assert!(memo.verify(state, &key.pubkey()));
        }
        wait_for_table(&memo, &key.pubkey());
        for state in after {
            let mut forged = state.clone();
            forged.signature[40] ^= 1;
            assert!(!memo.verify(&forged, &key.pubkey()));
            assert!(memo.verify(state, &key.pubkey()));
            assert!(!memo.verify(state, &Keypair::new().pubkey()));
        }
    }

    /// Where tables do not make checks cheaper, no key gets one however often it is
    /// checked.
    #[test]
    fn no_tables_where_they_do_not_pay() {
        let key = Keypair::new();
        let memo = with_tables(TABLES);
        lock(&memo.keys).checks_before_table = None;
        for state in states(&key, CHECKS_BEFORE_TABLE as usize + 4) {
            assert!(memo.verify(&state, &key.pubkey()));
        }
        std::thread::sleep(Duration::from_millis(50));
        assert!(!lock(&memo.keys).has_table(&key.pubkey()));
    }

    /// The measurement runs its checks (each must pass) and, where a table pays,
    /// answers a count of at least one.
    #[test]
    fn the_table_count_is_measured() {
        let measured = measure_checks_before_table();
        assert!(measured.is_none_or(|checks| checks >= 1));
    }

    /// At the bound, the least recently used key's table goes, and that key still
    /// verifies (as decoded).
    #[test]
    fn tables_stay_within_their_bound() {
        let memo = with_tables(1);
        let (first, second) = (Keypair::new(), Keypair::new());
        let checks = CHECKS_BEFORE_TABLE as usize / 2;
        for state in states(&first, checks) {
            assert!(memo.verify(&state, &first.pubkey()));
            assert!(
                memo.verify(&state, &first.pubkey()),
                "remembered, not counted"
            );
        }
        let (first_states, second_states) = (states(&first, checks), states(&second, 2 * checks));
        for state in &first_states {
            assert!(memo.verify(state, &first.pubkey()));
        }
        wait_for_table(&memo, &first.pubkey());
        for state in &second_states {
            assert!(memo.verify(state, &second.pubkey()));
        }
        wait_for_table(&memo, &second.pubkey());
        let keys = lock(&memo.keys);
        assert!(!keys.has_table(&first.pubkey()));
        assert_eq!(keys.tables, 1);
        drop(keys);
        for state in states(&first, 2) {
            assert!(
                memo.verify(&state, &first.pubkey()),
                "evicted, still verified"
            );
        }
    }
}
