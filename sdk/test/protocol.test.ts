// The stream rules of the SDK: the same as the Rust `StreamState`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addressBytes,
  addressFromBytes,
  emptyState,
  extendsState,
  fee,
  isAcceptableKey,
  MAX_ENTRIES,
  ProtocolError,
  stateMessage,
  stateTotal,
  tip,
  tipOrNextEpoch,
  verifyStrict,
} from '../src/protocol.js';
import { generateSessionKey, signState, verifyState } from '../src/signing.js';
import { formatUnits } from '../src/units.js';

const payee = (byte: number) => addressFromBytes(new Uint8Array(32).fill(byte));
const tab = payee(7);

test('tips accumulate sorted by address bytes, not by their base58 text', () => {
  // [0x80; 32] sorts after [0x02; 32] by bytes; compare the texts to show the order
  // is not the string order when they disagree.
  let state = emptyState(tab, 7n, 1, 3n, 100);
  state = tip(state, payee(0x80), 5n);
  state = tip(state, payee(0x02), 6n);
  state = tip(state, payee(0x80), 1n);
  assert.equal(state.seq, 3);
  assert.equal(stateTotal(state), 12n);
  assert.deepEqual(
    state.entries.map((entry) => [addressBytes(entry.payee)[0], entry.amount]),
    [
      [0x02, 6n],
      [0x80, 6n],
    ],
  );
  const message = stateMessage(state);
  assert.equal(message.length, 101);
  assert.equal(new DataView(message.buffer).getUint16(99, true), 2);
});

test('a tip must be above zero and keep every amount in a u64', () => {
  const state = tip(emptyState(tab, 1n, 0, 0n, 0), payee(1), 5n);
  assert.throws(() => tip(state, payee(2), 0n), (e: unknown) => e instanceof ProtocolError && e.code === 'zero_amount');
  assert.throws(() => tip(state, payee(1), (1n << 64n) - 1n), (e: unknown) => e instanceof ProtocolError && e.code === 'overflow');
  assert.throws(() => tip(state, payee(2), (1n << 64n) - 5n), (e: unknown) => e instanceof ProtocolError && e.code === 'overflow');
});

test('a new payee beyond MAX_ENTRIES starts the next epoch; an existing one still fits', () => {
  let full = emptyState(tab, 1n, 2, 9n, 50);
  for (let i = 1; i <= MAX_ENTRIES; i++) full = tip(full, payee(i), 1n);
  assert.throws(() => tip(full, payee(200), 1n), (e: unknown) => e instanceof ProtocolError && e.code === 'too_many_entries');
  const same = tipOrNextEpoch(full, payee(1), 1n);
  assert.equal(same.epoch, 9n);
  const next = tipOrNextEpoch(full, payee(200), 4n);
  assert.equal(next.epoch, 10n);
  assert.equal(next.seq, 1);
  assert.deepEqual(next.entries, [{ payee: payee(200), amount: 4n }]);
  assert.equal(next.feeBps, 50);
});

test('a later state extends an earlier one only with a higher seq and no amount lower', () => {
  const one = tip(emptyState(tab, 1n, 0, 0n, 0), payee(9), 5n);
  const two = tip(tip(one, payee(2), 6n), payee(9), 1n);
  assert.ok(extendsState(two, one));
  assert.ok(!extendsState(one, two));
  assert.ok(!extendsState(two, two));
  assert.ok(!extendsState({ ...two, epoch: 1n }, one));
});

test('fees charge the lower rate, rounded down', () => {
  assert.equal(fee(10_000n, 100, 250), 100n);
  assert.equal(fee(10_000n, 250, 100), 100n);
  assert.equal(fee(199n, 100, 100), 1n);
  assert.equal(fee(99n, 100, 100), 0n);
  assert.equal(fee((1n << 64n) - 1n, 65_535, 65_535), (1n << 64n) - 1n);
});

test('a session key signs in WebCrypto; tampering with any field breaks the signature', async () => {
  const { key, keyPair } = await generateSessionKey();
  assert.equal(keyPair.privateKey.extractable, false);
  assert.ok(isAcceptableKey(addressBytes(key.address)));
  const state = tip(emptyState(tab, 3n, 1, 0n, 25), payee(4), 1_000n);
  const signed = await signState(state, key);
  assert.ok(verifyState(signed, key.address));
  for (const tampered of [
    { ...state, feeBps: 26 },
    { ...state, seq: 2 },
    { ...state, incarnation: 4n },
    { ...state, entries: [{ payee: payee(4), amount: 1_001n }] },
  ]) {
    assert.ok(!verifyState({ state: tampered, signature: signed.signature }, key.address));
  }
  const flipped = Uint8Array.from(signed.signature);
  flipped[40] ^= 1;
  assert.ok(!verifyStrict(addressBytes(key.address), stateMessage(state), flipped));
});

test('small-order and non-canonical keys are not acceptable stream keys', () => {
  assert.ok(!isAcceptableKey(new Uint8Array(32)));
  assert.ok(!isAcceptableKey(Uint8Array.from([1, ...new Array(31).fill(0)])));
  const p = new Uint8Array(32).fill(0xff);
  p[0] = 0xed;
  p[31] = 0x7f;
  assert.ok(!isAcceptableKey(p));
});

test('amounts show with the mint\'s decimals, exactly', () => {
  assert.equal(formatUnits(20_000n, 6), '0.02');
  assert.equal(formatUnits(19_800n, 6), '0.0198');
  assert.equal(formatUnits(5_000_000n, 6), '5');
  assert.equal(formatUnits((1n << 64n) - 1n, 9), '18446744073.709551615');
  assert.equal(formatUnits(7n, 0), '7');
});
