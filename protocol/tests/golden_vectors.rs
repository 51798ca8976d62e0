//! Golden vectors for other languages (the TypeScript SDK checks itself against
//! them): v2 stream states with their `MPT2` message, entries hash, the stream key's
//! signature and the sequencer's `MPR2` receipt; and the "Taming the many EdDSAs"
//! cases with the strict predicate's verdict. `vectors/v2.json` is this output:
//! `MICROPAY_WRITE_VECTORS=1 cargo test -p micropay-protocol --test golden_vectors`
//! rewrites it, and the test fails when it drifts.

use ed25519_dalek::{Signer, SigningKey};
use micropay_protocol::{ed25519::verify_strict, vectors::TAMING, StreamState};
use serde_json::{json, Value};
use solana_address::Address;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn stream_case(name: &str, state: &StreamState, key: &SigningKey, sequencer: &SigningKey) -> Value {
    let message = state.message();
    let state_bytes = message.state_bytes();
    let receipt_bytes = message.receipt_bytes();
    json!({
        "name": name,
        "tab": hex(state.tab.as_ref()),
        "incarnation": state.incarnation.to_string(),
        "slot": state.slot,
        "epoch": state.epoch.to_string(),
        "seq": state.seq,
        "fee_bps": state.fee_bps,
        "entries": state.entry_list().iter().map(|(payee, amount)| json!({
            "payee": hex(payee.as_ref()),
            "amount": amount.to_string(),
        })).collect::<Vec<_>>(),
        "total": state.total().to_string(),
        "entries_hash": hex(&message.entries_hash),
        "state_message": hex(&state_bytes),
        "receipt_message": hex(&receipt_bytes),
        "signer_seed": hex(key.as_bytes()),
        "signer": hex(key.verifying_key().as_bytes()),
        "signature": hex(&key.sign(&state_bytes).to_bytes()),
        "sequencer_seed": hex(sequencer.as_bytes()),
        "sequencer": hex(sequencer.verifying_key().as_bytes()),
        "receipt": hex(&sequencer.sign(&receipt_bytes).to_bytes()),
    })
}

fn vectors() -> Value {
    let key = SigningKey::from_bytes(&[7; 32]);
    let sequencer = SigningKey::from_bytes(&[9; 32]);
    let tab = Address::new_from_array([0x11; 32]);
    let payee = |byte: u8| Address::new_from_array([byte; 32]);
    let opened = StreamState::new(tab, 0x0102_0304_0506_0708, 0, 0, 100)
        .tip(payee(0xaa), 1_000)
        .unwrap();
    let grown = opened
        .tip(payee(0x22), 250)
        .unwrap()
        .tip(payee(0xaa), 4)
        .unwrap();
    let mut session = StreamState::new(tab, 42, 3, u64::MAX - 1, 0);
    for byte in [5u8, 4, 3, 2, 1] {
        session = session.tip(payee(byte), u64::MAX / 8).unwrap();
    }
    let taming: Vec<Value> = TAMING
        .iter()
        .map(|(message, key, signature)| {
            let key: [u8; 32] = unhex(key).try_into().unwrap();
            let signature: [u8; 64] = unhex(signature).try_into().unwrap();
            json!({
                "message": message,
                "key": hex(&key),
                "signature": hex(&signature),
                "valid": verify_strict(&key, &unhex(message), &signature),
            })
        })
        .collect();
    json!({
        "streams": [
            stream_case("owner stream, one tip", &opened, &key, &sequencer),
            stream_case("owner stream, three tips to two payees", &grown, &key, &sequencer),
            stream_case("session slot 3, five payees, large amounts", &session, &key, &sequencer),
        ],
        "strict_ed25519": taming,
    })
}

#[test]
fn the_checked_in_vectors_are_current() {
    let mut generated = serde_json::to_string_pretty(&vectors()).unwrap();
    generated.push('\n');
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/v2.json");
    if std::env::var_os("MICROPAY_WRITE_VECTORS").is_some() {
        std::fs::write(path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "protocol/vectors/v2.json is stale: regenerate it with MICROPAY_WRITE_VECTORS=1"
    );
}

#[test]
fn every_vector_verifies_as_it_says() {
    let vectors = vectors();
    for case in vectors["streams"].as_array().unwrap() {
        let key: [u8; 32] = unhex(case["signer"].as_str().unwrap()).try_into().unwrap();
        let signature: [u8; 64] = unhex(case["signature"].as_str().unwrap())
            .try_into()
            .unwrap();
        assert!(verify_strict(
            &key,
            &unhex(case["state_message"].as_str().unwrap()),
            &signature
        ));
        let sequencer: [u8; 32] = unhex(case["sequencer"].as_str().unwrap())
            .try_into()
            .unwrap();
        let receipt: [u8; 64] = unhex(case["receipt"].as_str().unwrap()).try_into().unwrap();
        assert!(verify_strict(
            &sequencer,
            &unhex(case["receipt_message"].as_str().unwrap()),
            &receipt
        ));
        assert!(!verify_strict(
            &sequencer,
            &unhex(case["state_message"].as_str().unwrap()),
            &receipt
        ));
    }
    let verdicts: Vec<bool> = vectors["strict_ed25519"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["valid"].as_bool().unwrap())
        .collect();
    assert!(
        verdicts.contains(&true) && verdicts.contains(&false),
        "{verdicts:?}"
    );
}
