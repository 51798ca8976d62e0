// Stream keys, signed states and receipts: the one place the SDK signs a state and
// checks a state's signature or the sequencer's receipt for it.

import {
  type Address,
  createKeyPairSignerFromPrivateKeyBytes,
  generateKeyPairSigner,
  type KeyPairSigner,
  signBytes,
} from '@solana/kit';

import {
  addressBytes,
  receiptMessage,
  type StreamState,
  stateMessage,
  verifyStrict,
} from './protocol.js';

/** A key that signs one stream: the tab owner's (slot 0) or a session key. */
export interface StreamKey {
  readonly address: Address;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A stream key over a WebCrypto Ed25519 key pair (kit's `KeyPairSigner`). */
export function streamKeyFromSigner(signer: KeyPairSigner): StreamKey {
  return {
    address: signer.address,
    sign: async (message) => new Uint8Array(await signBytes(signer.keyPair.privateKey, message)),
  };
}

/**
 * A new session key whose private half cannot be read back, not even by this page's
 * scripts (a non-extractable WebCrypto key). Store the returned `CryptoKeyPair` in
 * IndexedDB to keep it across visits.
 */
export async function generateSessionKey(): Promise<{ key: StreamKey; keyPair: CryptoKeyPair }> {
  const signer = await generateKeyPairSigner();
  return { key: streamKeyFromSigner(signer), keyPair: signer.keyPair };
}

/** A stream key from a 32-byte ed25519 seed (tests, agents and servers). */
export async function streamKeyFromSeed(seed: Uint8Array): Promise<StreamKey> {
  return streamKeyFromSigner(await createKeyPairSignerFromPrivateKeyBytes(seed));
}

/** A state and its stream key's signature over the `MPT2` message. */
export interface SignedState {
  readonly state: StreamState;
  readonly signature: Uint8Array;
}

/** A signed state and the sequencer's `MPR2` signature over it. */
export interface ReceiptedState {
  readonly signed: SignedState;
  readonly receipt: Uint8Array;
  /** The sequencer the receipt names; check it against the config's. */
  readonly sequencer: Address;
}

export async function signState(state: StreamState, key: StreamKey): Promise<SignedState> {
  return { state, signature: await key.sign(stateMessage(state)) };
}

/** Whether `key` signed this state, under the predicate the program applies. */
export const verifyState = (signed: SignedState, key: Address): boolean =>
  verifyStrict(addressBytes(key), stateMessage(signed.state), signed.signature);

/** Whether `sequencer` receipted this state. */
export const verifyReceipt = (receipted: ReceiptedState, sequencer: Address): boolean =>
  verifyStrict(addressBytes(sequencer), receiptMessage(receipted.signed.state), receipted.receipt);
