// A creator's view from Node: the receipts naming its wallet, checked against the
// sequencer, and what they add up to. Prints one JSON line.
//
//   node dist/examples/payee.js --relayer http://127.0.0.1:7800 --sequencer <address> --wallet <address>

import { parseArgs } from 'node:util';

import { address } from '@solana/kit';

import { PayeeWatcher } from '../src/payee.js';
import { RelayerClient } from '../src/relayer.js';

const { values } = parseArgs({
  options: { relayer: { type: 'string' }, sequencer: { type: 'string' }, wallet: { type: 'string' } },
});
for (const required of ['relayer', 'sequencer', 'wallet'] as const)
  if (!values[required]) throw new Error(`--${required} is required`);

const watcher = new PayeeWatcher(new RelayerClient(values.relayer!, address(values.sequencer!)), address(values.wallet!));
await watcher.poll();
const { receipted, unsettled } = watcher.totals();
console.log(
  JSON.stringify({
    receipts: watcher.receipts.length,
    statuses: watcher.receipts.map((r) => r.status),
    receipted: receipted.toString(),
    unsettled: unsettled.toString(),
  }),
);
