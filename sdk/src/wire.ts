// The relayer's JSON shapes (generated from its OpenAPI document) and their exact
// conversions to the SDK's types: u64 quantities as decimal strings, addresses and
// signatures base58.

import { type Address, address, getBase58Decoder, getBase58Encoder } from '@solana/kit';

import type { components } from './generated/relayer-api.js';
import type { StreamState } from './protocol.js';
import type { ReceiptedState, SignedState } from './signing.js';

export type StreamStateJson = components['schemas']['StreamStateJson'];
export type SignedStreamJson = components['schemas']['SignedStreamJson'];
export type ReceiptJson = components['schemas']['ReceiptJson'];
export type StateReceipt = components['schemas']['StateReceipt'];
export type StreamView = components['schemas']['StreamView'];
export type PayeeReceiptJson = components['schemas']['PayeeReceipt'];
export type StreamStatus = components['schemas']['StreamStatus'];
export type Health = components['schemas']['Health'];
export type ErrorCode = components['schemas']['ErrorCode'];
export type ErrorResponse = components['schemas']['ErrorResponse'];

const base58 = getBase58Decoder();
const fromBase58 = getBase58Encoder();

const U64_MAX = (1n << 64n) - 1n;

/** A u64 from its decimal string, refusing anything else. */
export function u64(text: string): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new Error(`not a decimal u64: ${text}`);
  const value = BigInt(text);
  if (value > U64_MAX) throw new Error(`out of range for u64: ${text}`);
  return value;
}

export function signatureBytes(text: string): Uint8Array {
  const bytes = fromBase58.encode(text) as Uint8Array;
  if (bytes.length !== 64) throw new Error('not a base58 64-byte signature');
  return bytes;
}

export const signatureText = (bytes: Uint8Array): string => base58.decode(bytes);

export function stateToJson(state: StreamState): StreamStateJson {
  return {
    tab: state.tab,
    incarnation: state.incarnation.toString(),
    slot: state.slot,
    epoch: state.epoch.toString(),
    seq: state.seq,
    fee_bps: state.feeBps,
    total: state.entries.reduce((sum, entry) => sum + entry.amount, 0n).toString(),
    entries: state.entries.map((entry) => ({ payee: entry.payee, amount: entry.amount.toString() })),
  };
}

export function stateFromJson(json: StreamStateJson): StreamState {
  const entries = json.entries.map((entry) => ({
    payee: address(entry.payee),
    amount: u64(entry.amount),
  }));
  const total = entries.reduce((sum, entry) => sum + entry.amount, 0n);
  if (total !== u64(json.total)) throw new Error('the total is not the sum of the entries');
  return {
    tab: address(json.tab),
    incarnation: u64(json.incarnation),
    slot: json.slot,
    epoch: u64(json.epoch),
    seq: json.seq,
    feeBps: json.fee_bps,
    entries,
  };
}

export const signedToJson = (signed: SignedState): SignedStreamJson => ({
  ...stateToJson(signed.state),
  signature: signatureText(signed.signature),
});

export function receiptFromJson(json: ReceiptJson): ReceiptedState {
  return {
    signed: { state: stateFromJson(json), signature: signatureBytes(json.signature) },
    receipt: signatureBytes(json.receipt),
    sequencer: address(json.sequencer) as Address,
  };
}

/** `signed` with the receipt the relayer answered it with (not yet checked). */
export function receiptingFromJson(signed: SignedState, json: StateReceipt): ReceiptedState {
  return { signed, receipt: signatureBytes(json.receipt), sequencer: address(json.sequencer) as Address };
}
