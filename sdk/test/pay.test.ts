// The `micropay` x402 scheme's own refusals: offers it must not take are refused
// before anything is signed or sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { address } from '@solana/kit';
import type { PaymentRequirements } from '@x402/core/types';

import { MicropayScheme } from '../src/pay.js';
import { streamKeyFromSeed } from '../src/signing.js';

const config = address('11111111111111111111111111111112');
const sequencer = address('11111111111111111111111111111113');

async function scheme(maxAmount: bigint) {
  return new MicropayScheme({
    key: await streamKeyFromSeed(new Uint8Array(32).fill(7)),
    tab: address('11111111111111111111111111111114'),
    slot: 1,
    config,
    sequencer,
    maxAmount,
  });
}

const offer = (overrides: Partial<PaymentRequirements> = {}, extra: Record<string, unknown> = {}) =>
  ({
    scheme: 'micropay',
    network: 'solana:test',
    asset: '11111111111111111111111111111115',
    amount: '1000',
    payTo: '11111111111111111111111111111116',
    maxTimeoutSeconds: 60,
    // No relayer listens there: a refusal must come before any request.
    extra: { config, sequencer, feeBps: 100, relayer: 'http://127.0.0.1:9', ...extra },
    ...overrides,
  }) as PaymentRequirements;

test('offers above the limit, in another deployment or for another sequencer are refused', async () => {
  const payer = await scheme(999n);
  await assert.rejects(payer.createPaymentPayload(2, offer()), /above this payer's limit/);
  const generous = await scheme(10_000n);
  await assert.rejects(generous.createPaymentPayload(2, offer({}, { config: sequencer })), /not an offer/);
  await assert.rejects(generous.createPaymentPayload(2, offer({}, { sequencer: config })), /not an offer/);
  await assert.rejects(generous.createPaymentPayload(2, offer({ scheme: 'exact' })), /not an offer/);
  assert.equal(payer.receipts.length, 0);
});
