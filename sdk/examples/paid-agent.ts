// An agent calling a paid API (HTTP 402, x402 v2, scheme `micropay`) from parallel
// workers, each paying from its own session key's stream through `micropayFetch`.
// Prints one JSON line: the calls made and the receipts of what was paid.
//
//   node dist/examples/paid-agent.js --url http://127.0.0.1:7400/fortune \
//     --config <address> --sequencer <address> --tab <address> --max 1000 \
//     --worker <slot>:<session seed hex> [--worker ...] --calls 10

import { parseArgs } from 'node:util';

import { address } from '@solana/kit';
import { decodePaymentResponseHeader } from '@x402/fetch';

import { micropayFetch } from '../src/pay.js';
import { streamKeyFromSeed } from '../src/signing.js';
import { signatureText } from '../src/wire.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    config: { type: 'string' },
    sequencer: { type: 'string' },
    tab: { type: 'string' },
    max: { type: 'string' },
    worker: { type: 'string', multiple: true, default: [] },
    calls: { type: 'string', default: '10' },
  },
});
const required = (name: string, value: string | undefined): string => {
  if (!value) throw new Error(`--${name} is required`);
  return value;
};
const url = required('url', values.url);
const calls = Number(values.calls);

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

async function worker(spec: string) {
  const [slot, seed] = spec.split(':');
  const { fetch, scheme } = micropayFetch({
    key: await streamKeyFromSeed(hexBytes(seed)),
    tab: address(required('tab', values.tab)),
    slot: Number(slot),
    config: address(required('config', values.config)),
    sequencer: address(required('sequencer', values.sequencer)),
    maxAmount: BigInt(required('max', values.max)),
  });
  for (let call = 0; call < calls; call++) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`call ${call} of slot ${slot}: ${response.status} ${await response.text()}`);
    const settled = decodePaymentResponseHeader(response.headers.get('PAYMENT-RESPONSE') ?? '');
    if (!settled.success) throw new Error(`call ${call} of slot ${slot} was not paid`);
    await response.text();
  }
  return scheme.receipts.map((receipted) => ({
    slot: receipted.signed.state.slot,
    seq: receipted.signed.state.seq,
    total: receipted.signed.state.entries.reduce((sum, entry) => sum + entry.amount, 0n).toString(),
    receipt: signatureText(receipted.receipt),
  }));
}

const receipts = (await Promise.all(values.worker.map(worker))).flat();
console.log(JSON.stringify({ calls: receipts.length, receipts }));
