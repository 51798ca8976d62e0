// An agent that pays from Node: it opens (or tops up) its own tab and registers a
// fresh session key in one transaction it signs itself, then tips through that key
// with one signature and one relayer round trip per tip. Prints a JSON line about
// the session, then one per receipt. `--batch-tip`s follow the `--tip`s (at least
// one), signed ahead and sent in one request, as a client holding many states does.
//
//   node dist/examples/agent.js --rpc http://127.0.0.1:8899 --ws ws://127.0.0.1:8900 \
//     --relayer http://127.0.0.1:7800 --config <address> --owner-seed-hex <32 bytes hex> \
//     --deposit 100000 --tip <payee>:<amount> [--tip <payee>:<amount> ...] \
//     [--batch-tip <payee>:<amount> ...]

import { parseArgs } from 'node:util';

import {
  address,
  appendTransactionMessageInstructions,
  assertIsTransactionWithBlockhashLifetime,
  createKeyPairSignerFromPrivateKeyBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  getSignatureFromTransaction,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';

import { tipOrNextEpoch } from '../src/protocol.js';
import { RelayerClient, RelayerError } from '../src/relayer.js';
import { TipSession } from '../src/session.js';
import { generateSessionKey, type ReceiptedState, signState } from '../src/signing.js';
import { signatureText, signedToJson } from '../src/wire.js';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string' },
    ws: { type: 'string' },
    relayer: { type: 'string' },
    config: { type: 'string' },
    'owner-seed-hex': { type: 'string' },
    deposit: { type: 'string', default: '100000' },
    tip: { type: 'string', multiple: true, default: [] },
    'batch-tip': { type: 'string', multiple: true, default: [] },
  },
});
for (const required of ['rpc', 'ws', 'relayer', 'config', 'owner-seed-hex'] as const)
  if (!values[required]) throw new Error(`--${required} is required`);

const rpc = createSolanaRpc(values.rpc!);
const sendAndConfirm = sendAndConfirmTransactionFactory({
  rpc,
  rpcSubscriptions: createSolanaRpcSubscriptions(values.ws!),
});
const owner = await createKeyPairSignerFromPrivateKeyBytes(
  Uint8Array.from(Buffer.from(values['owner-seed-hex']!, 'hex')),
);
const { key } = await generateSessionKey();
const session = new TipSession({
  rpc,
  relayer: values.relayer!,
  config: address(values.config!),
  owner: owner.address,
  key,
  deposit: BigInt(values.deposit!),
  lifetimeSeconds: 86_400n,
  approve: async (instructions) => {
    const { value: blockhash } = await rpc.getLatestBlockhash().send();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(owner, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const transaction = await signTransactionMessageWithSigners(message);
    assertIsTransactionWithBlockhashLifetime(transaction);
    await sendAndConfirm(transaction, { commitment: 'confirmed' });
    console.error(`approved ${getSignatureFromTransaction(transaction)}`);
  },
});

const receipted: ReceiptedState[] = [];
const parse = (tip: string) => {
  const [payee, amount] = tip.split(':');
  return { payee: address(payee), amount: BigInt(amount) };
};
for (const { payee, amount } of values.tip.map(parse)) receipted.push(await session.tip(payee, amount));
if (values['batch-tip'].length) {
  const last = receipted.at(-1);
  if (!last) throw new Error('--batch-tip follows at least one --tip');
  // The last receipt was checked against the config's sequencer.
  const relayer = new RelayerClient(values.relayer!, last.sequencer);
  let state = last.signed.state;
  const signed = [];
  for (const { payee, amount } of values['batch-tip'].map(parse)) {
    state = tipOrNextEpoch(state, payee, amount);
    signed.push(await signState(state, key));
  }
  for (const outcome of await relayer.submitAll(signed)) {
    if (outcome instanceof RelayerError) throw outcome;
    receipted.push(outcome);
  }
}
const receipts = receipted.map((r) => ({
  ...signedToJson(r.signed),
  receipt: signatureText(r.receipt),
  sequencer: r.sequencer,
}));
console.log(JSON.stringify({ tab: await session.tab(), session: key.address, approvals: session.approvals }));
for (const receipt of receipts) console.log(JSON.stringify(receipt));
