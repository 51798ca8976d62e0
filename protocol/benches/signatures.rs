//! What a tip's two signatures cost on this machine (`cargo bench -p micropay-protocol
//! --bench signatures`): the strict check of a state's signature, the same under a key
//! decoded once (what the relayer does) and under a key with a table of its multiples
//! (what a paywall and its clients do with the sequencer's), and the receipt signature
//! (ed25519-dalek 2, which the relayer's keypair signs with). Each over a 101-byte
//! message, timed over many iterations; prints µs per operation.

use std::{hint::black_box, time::Instant};

use ed25519_dalek::{Signer, SigningKey};
use micropay_protocol::{
    ed25519::{verify_strict, DecodedKey, PrecomputedKey, StrictKey},
    STATE_MESSAGE_LEN,
};

const ITERATIONS: u32 = 20_000;

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key().to_bytes();
    let message = [5u8; STATE_MESSAGE_LEN];
    let signature = key.sign(&message).to_bytes();
    let decoded = DecodedKey::decode(&public).expect("a valid key");
    let precomputed = PrecomputedKey::new(&decoded);

    println!("| operation | µs |");
    println!("| --- | ---: |");
    report(ITERATIONS, "verify_strict", || {
        assert!(verify_strict(black_box(&public), &message, &signature))
    });
    report(ITERATIONS, "DecodedKey::verify_strict", || {
        assert!(black_box(&decoded).verify_strict(&message, &signature))
    });
    report(ITERATIONS, "PrecomputedKey::verify_strict", || {
        assert!(black_box(&precomputed).verify_strict(&message, &signature))
    });
    report(ITERATIONS, "receipt signature", || {
        black_box(key.sign(black_box(&message)));
    });
    report(ITERATIONS, "key decoding", || {
        black_box(DecodedKey::decode(black_box(&public)));
    });
    report(ITERATIONS / 100, "building a PrecomputedKey", || {
        black_box(PrecomputedKey::new(black_box(&decoded)));
    });
}

fn report(iterations: u32, name: &str, mut operation: impl FnMut()) {
    // One pass to warm caches and the CPU's clock.
    for _ in 0..iterations / 10 {
        operation();
    }
    let started = Instant::now();
    for _ in 0..iterations {
        operation();
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    println!("| {name} | {micros:.1} |");
}
