// The micropay tip protocol in TypeScript: the 101-byte `MPT2` state and `MPR2`
// receipt, the stream state clients extend tip by tip, and the one strict ed25519
// predicate. Byte for byte the Rust `micropay-protocol` crate; `test/vectors.test.ts`
// checks it against the vectors that crate emits.

import { Point } from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { type Address, getAddressDecoder, getAddressEncoder } from '@solana/kit';

/** Payees per signed state (the Rust `MAX_ENTRIES`). */
export const MAX_ENTRIES = 5;
export const STATE_MAGIC = new TextEncoder().encode('MPT2');
export const RECEIPT_MAGIC = new TextEncoder().encode('MPR2');
export const STATE_MESSAGE_LEN = 101;
export const BPS_DENOMINATOR = 10_000n;

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffff_ffff;

export class ProtocolError extends Error {
  constructor(
    readonly code: 'zero_amount' | 'overflow' | 'too_many_entries' | 'not_sorted' | 'bad_message',
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface Entry {
  /** The payee's wallet. */
  readonly payee: Address;
  readonly amount: bigint;
}

/** One epoch of one stream: `payee wallet -> amount`, sorted by the wallet's bytes. */
export interface StreamState {
  readonly tab: Address;
  readonly incarnation: bigint;
  /** 0 = the owner's stream, 1.. = session signer slots. */
  readonly slot: number;
  readonly epoch: bigint;
  readonly seq: number;
  /** The highest fee, in basis points, the payees may be charged. */
  readonly feeBps: number;
  readonly entries: readonly Entry[];
}

const addressEncoder = getAddressEncoder();
const addressDecoder = getAddressDecoder();

export const addressBytes = (address: Address): Uint8Array =>
  addressEncoder.encode(address) as Uint8Array;
export const addressFromBytes = (bytes: Uint8Array): Address => addressDecoder.decode(bytes);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => compareBytes(a, b) === 0;

/** Orders payees as the entries hash requires: by their 32 address bytes. */
export const comparePayees = (a: Address, b: Address): number =>
  compareBytes(addressBytes(a), addressBytes(b));

/** The empty state that opens `epoch` of a stream. */
export function emptyState(
  tab: Address,
  incarnation: bigint,
  slot: number,
  epoch: bigint,
  feeBps: number,
): StreamState {
  return { tab, incarnation, slot, epoch, seq: 0, feeBps, entries: [] };
}

/** The state after one more tip of `amount` to `payee`. */
export function tip(state: StreamState, payee: Address, amount: bigint): StreamState {
  if (amount <= 0n) throw new ProtocolError('zero_amount', 'a tip must be above zero');
  const entries = state.entries.map((entry) => ({ ...entry }));
  const existing = entries.find((entry) => entry.payee === payee);
  if (existing) existing.amount += amount;
  else entries.push({ payee, amount });
  // Every amount is at most the total, so this bounds each entry too.
  if (stateTotalOf(entries) > U64_MAX)
    throw new ProtocolError('overflow', 'the amounts no longer fit in a u64');
  if (entries.length > MAX_ENTRIES)
    throw new ProtocolError('too_many_entries', `a state names at most ${MAX_ENTRIES} payees`);
  if (state.seq >= U32_MAX) throw new ProtocolError('overflow', 'seq overflows');
  entries.sort((a, b) => comparePayees(a.payee, b.payee));
  return { ...state, seq: state.seq + 1, entries };
}

/** The empty state of the stream's next epoch. */
export const nextEpoch = (state: StreamState): StreamState =>
  emptyState(state.tab, state.incarnation, state.slot, state.epoch + 1n, state.feeBps);

/**
 * The state after one more tip: in this epoch, or, when this state already names
 * `MAX_ENTRIES` payees and `payee` is not one of them, as the first tip of the stream's
 * next epoch. The relayer applies the same rule.
 */
export function tipOrNextEpoch(state: StreamState, payee: Address, amount: bigint): StreamState {
  try {
    return tip(state, payee, amount);
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'too_many_entries')
      return tip(nextEpoch(state), payee, amount);
    throw error;
  }
}

const stateTotalOf = (entries: readonly Entry[]): bigint =>
  entries.reduce((total, entry) => total + entry.amount, 0n);

/** The sum of the entries. */
export const stateTotal = (state: StreamState): bigint => stateTotalOf(state.entries);

/** sha256 over the sorted entries, each `payee(32) || amount_le(8)`. */
export function entriesHash(entries: readonly Entry[]): Uint8Array {
  const buffer = new Uint8Array(entries.length * 40);
  const view = new DataView(buffer.buffer);
  entries.forEach((entry, i) => {
    buffer.set(addressBytes(entry.payee), i * 40);
    view.setBigUint64(i * 40 + 32, entry.amount, true);
  });
  return sha256(buffer);
}

function encodeMessage(state: StreamState, magic: Uint8Array): Uint8Array {
  const out = new Uint8Array(STATE_MESSAGE_LEN);
  const view = new DataView(out.buffer);
  out.set(magic, 0);
  out.set(addressBytes(state.tab), 4);
  view.setBigUint64(36, state.incarnation, true);
  view.setUint8(44, state.slot);
  view.setBigUint64(45, state.epoch, true);
  view.setUint32(53, state.seq, true);
  view.setUint16(57, state.feeBps, true);
  view.setBigUint64(59, stateTotal(state), true);
  out.set(entriesHash(state.entries), 67);
  view.setUint16(99, state.entries.length, true);
  return out;
}

/** The bytes a stream key signs for `state`. */
export const stateMessage = (state: StreamState): Uint8Array => encodeMessage(state, STATE_MAGIC);
/** The bytes the sequencer signs to receipt `state`. */
export const receiptMessage = (state: StreamState): Uint8Array =>
  encodeMessage(state, RECEIPT_MAGIC);

/**
 * Whether `later` may replace `earlier` of the same stream and epoch: a higher seq and
 * no payee's amount lower (what a top-up requires on chain).
 */
export function extendsState(later: StreamState, earlier: StreamState): boolean {
  return (
    later.tab === earlier.tab &&
    later.incarnation === earlier.incarnation &&
    later.slot === earlier.slot &&
    later.epoch === earlier.epoch &&
    later.seq > earlier.seq &&
    earlier.entries.every((old) =>
      later.entries.some((now) => now.payee === old.payee && now.amount >= old.amount),
    )
  );
}

/** The fee on `amount` when the payer signed `signedBps` and the config charges `configBps`. */
export function fee(amount: bigint, signedBps: number, configBps: number): bigint {
  let bps = BigInt(Math.min(signedBps, configBps));
  if (bps > BPS_DENOMINATOR) bps = BPS_DENOMINATOR;
  return (amount * bps) / BPS_DENOMINATOR;
}

// ---- strict ed25519 ------------------------------------------------------------

const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/**
 * Every encoding (sign bit cleared) of a point of small order: the eight torsion
 * points' canonical `y`, plus `p` and `p + 1` (non-canonical 0 and 1). The Rust
 * predicate refuses exactly these.
 */
const SMALL_ORDER_ENCODINGS: readonly bigint[] = (() => {
  const p = (1n << 255n) - 19n;
  const le = (hex: string) => BigInt('0x' + (hex.match(/../g) ?? []).reverse().join(''));
  return [
    0n,
    1n,
    le('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
    le('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
    p - 1n,
    p,
    p + 1n,
  ];
})();

const littleEndian = (bytes: Uint8Array): bigint => {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
};

function hasSmallOrder(encoding: Uint8Array): boolean {
  const y = littleEndian(encoding) & ((1n << 255n) - 1n);
  return SMALL_ORDER_ENCODINGS.includes(y);
}

function isCanonicalPointEncoding(encoding: Uint8Array): boolean {
  const y = littleEndian(encoding) & ((1n << 255n) - 1n);
  const p = (1n << 255n) - 19n;
  const sign = (encoding[31] & 0x80) !== 0;
  const xIsZero = y === 1n || y === p - 1n;
  return y < p && !(xIsZero && sign);
}

/**
 * Whether a key may be registered as a stream key: a canonical encoding of a point on
 * the curve that is not of small order (what `add_signer` requires on chain).
 */
export function isAcceptableKey(key: Uint8Array): boolean {
  if (key.length !== 32 || !isCanonicalPointEncoding(key) || hasSmallOrder(key)) return false;
  try {
    Point.fromBytes(key, true);
    return true;
  } catch {
    return false;
  }
}

/**
 * Strict ed25519, as the program and the relayer apply it (ed25519-dalek's
 * `verify_strict`): `S < L`, neither `R` nor the key of small order, and the
 * cofactorless equation `[S]B - [k]A == R` checked by comparing encodings.
 */
export function verifyStrict(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (key.length !== 32 || signature.length !== 64) return false;
  const r = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32));
  if (s >= L || hasSmallOrder(r) || hasSmallOrder(key)) return false;
  let minusKey: Point;
  try {
    // Like curve25519-dalek's decompression, which the Rust predicate uses: `y` is
    // taken modulo p.
    minusKey = Point.fromBytes(key, true).negate();
  } catch {
    return false;
  }
  const digest = sha512(new Uint8Array([...r, ...key, ...message]));
  const k = littleEndian(digest) % L;
  const expected = Point.BASE.multiplyUnsafe(s).add(minusKey.multiplyUnsafe(k)).toBytes();
  return compareBytes(expected, r) === 0;
}
