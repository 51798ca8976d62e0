// An agent that pays from Node: it opens (or tops up) its own tab and registers a
// fresh session key in one transaction it signs itself, then tips through that key
// with one signature and one relayer round trip per tip. Prints a JSON line about
// the session, then one per receipt.
//
//   node dist/examples/agent.js --rpc http://127.0.0.1:8899 --ws ws://127.0.0.1:8900 \
//     --relayer http://127.0.0.1:7800 --config <address> --owner-seed-hex <32 bytes hex> \
//     --deposit 100000 --tip <payee>:<amount> [--tip <payee>:<amount> ...]

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

import { TipSession } from '../src/session.js';
import { generateSessionKey } from '../src/signing.js';
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

const receipts = [];
for (const tip of values.tip) {
  const [payee, amount] = tip.split(':');
  const receipted = await session.tip(address(payee), BigInt(amount));
  receipts.push({
    ...signedToJson(receipted.signed),
    receipt: signatureText(receipted.receipt),
    sequencer: receipted.sequencer,
  });
}
console.log(JSON.stringify({ tab: await session.tab(), session: key.address, approvals: session.approvals }));
for (const receipt of receipts) console.log(JSON.stringify(receipt));
