// Session keys kept in the browser: non-extractable WebCrypto Ed25519 key pairs in
// IndexedDB, one per (deployment, owner). The page's scripts can sign with them but
// never read the private key.

import { createSignerFromKeyPair } from '@solana/kit';

import { generateSessionKey, type StreamKey, streamKeyFromSigner } from '../signing.js';

const DATABASE = 'micropay';
const STORE = 'session-keys';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const request = work(db.transaction(STORE, mode).objectStore(STORE));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      }),
  );
}

/** The session key of `owner` in deployment `config`, created and stored on first use. */
export async function sessionKeyFor(config: string, owner: string): Promise<StreamKey> {
  const id = `${config}:${owner}`;
  const stored = await run<CryptoKeyPair | undefined>('readonly', (store) => store.get(id));
  if (stored) return streamKeyFromSigner(await createSignerFromKeyPair(stored));
  const { key, keyPair } = await generateSessionKey();
  await run('readwrite', (store) => store.put(keyPair, id));
  return key;
}
