// The SDK against the vectors the Rust protocol crate emits
// (`protocol/vectors/v2.json`, kept current by `protocol/tests/golden_vectors.rs`).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { hashes, sign } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

import {
  addressFromBytes,
  emptyState,
  entriesHash,
  receiptMessage,
  stateMessage,
  stateTotal,
  tip,
  verifyStrict,
} from '../src/protocol.js';
import { signState, streamKeyFromSeed, verifyReceipt, verifyState } from '../src/signing.js';

interface StreamVector {
  name: string;
  tab: string;
  incarnation: string;
  slot: number;
  epoch: string;
  seq: number;
  fee_bps: number;
  total: string;
  entries: { payee: string; amount: string }[];
  entries_hash: string;
  signer_seed: string;
  signer: string;
  sequencer_seed: string;
  sequencer: string;
  state_message: string;
  receipt_message: string;
  signature: string;
  receipt: string;
}

const vectors: {
  streams: StreamVector[];
  strict_ed25519: { key: string; message: string; signature: string; valid: boolean }[];
} = JSON.parse(
  readFileSync(new URL('../../../protocol/vectors/v2.json', import.meta.url), 'utf8'),
);

hashes.sha512 = sha512;

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex');
const address = (hexBytes: string) => addressFromBytes(bytes(hexBytes));

function stateOf(vector: StreamVector) {
  return {
    tab: address(vector.tab),
    incarnation: BigInt(vector.incarnation),
    slot: vector.slot,
    epoch: BigInt(vector.epoch),
    seq: vector.seq,
    feeBps: vector.fee_bps,
    entries: vector.entries.map((entry) => ({
      payee: address(entry.payee),
      amount: BigInt(entry.amount),
    })),
  };
}

test('the vectors are there to check', () => {
  assert.ok(vectors.streams.length >= 3);
  assert.equal(vectors.strict_ed25519.length, 15);
});

for (const vector of vectors.streams) {
  test(`stream vector "${vector.name}": the same bytes, hash, signature and receipt`, async () => {
    const state = stateOf(vector);
    assert.equal(hex(entriesHash(state.entries)), vector.entries_hash);
    assert.equal(stateTotal(state).toString(), vector.total);
    assert.equal(hex(stateMessage(state)), vector.state_message);
    assert.equal(hex(receiptMessage(state)), vector.receipt_message);

    // WebCrypto (kit) and noble sign the same deterministic signature as Rust.
    const key = await streamKeyFromSeed(bytes(vector.signer_seed));
    assert.equal(key.address, address(vector.signer));
    const signed = await signState(state, key);
    assert.equal(hex(signed.signature), vector.signature);
    assert.equal(hex(sign(stateMessage(state), bytes(vector.signer_seed))), vector.signature);

    assert.ok(verifyState(signed, key.address));
    assert.ok(!verifyState(signed, address(vector.sequencer)));
    const receipted = { signed, receipt: bytes(vector.receipt), sequencer: address(vector.sequencer) };
    assert.ok(verifyReceipt(receipted, address(vector.sequencer)));
    assert.ok(!verifyReceipt(receipted, key.address));
    // A receipt is not a state signature: the magics differ.
    assert.ok(!verifyState({ state, signature: bytes(vector.receipt) }, address(vector.sequencer)));
  });
}

test('a state rebuilt tip by tip signs the vector bytes', () => {
  const vector = vectors.streams.find((v) => v.entries.length > 1);
  assert.ok(vector, 'a vector with several payees');
  const target = stateOf(vector);
  let state = emptyState(target.tab, target.incarnation, target.slot, target.epoch, target.feeBps);
  // One tip per entry, in reverse order, then fill up to the vector's seq with 1-unit
  // tips taken from the first entry: the sorted result must be the same bytes.
  const reversed = [...target.entries].reverse();
  const extraTips = target.seq - reversed.length;
  assert.ok(extraTips >= 0);
  for (const [i, entry] of reversed.entries()) {
    const first = i === reversed.length - 1;
    state = tip(state, entry.payee, first ? entry.amount - BigInt(extraTips) : entry.amount);
  }
  for (let i = 0; i < extraTips; i++) state = tip(state, target.entries[0].payee, 1n);
  assert.equal(hex(stateMessage(state)), vector.state_message);
});

for (const [i, vector] of vectors.strict_ed25519.entries()) {
  test(`strict ed25519, "Taming the many EdDSAs" case ${i}: ${vector.valid ? 'accepted' : 'refused'} as in Rust`, () => {
    assert.equal(
      verifyStrict(bytes(vector.key), bytes(vector.message), bytes(vector.signature)),
      vector.valid,
    );
  });
}
