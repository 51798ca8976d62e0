// Paying for HTTP calls: the x402 v2 `micropay` scheme as an `@x402/core` client
// scheme, and a `fetch` that pays (`@x402/fetch`'s wrapper with the scheme
// registered). A payment is the stream's next signed state, paying the offer's `payTo`
// its `amount`; the resource server's facilitator (the relayer) receipts it, and the
// receipt comes back in `PAYMENT-RESPONSE`, checked here against the sequencer.
//
// One scheme instance drives one stream (an owner's, or a session key's slot) and
// keeps the last state it had receipted, so a call costs one signature and no extra
// round trip. Give each concurrent worker its own stream.

import type { Address } from '@solana/kit';
import { x402Client } from '@x402/core/client';
import type { PaymentRequirements, SchemeNetworkClient } from '@x402/core/types';
import type { PaymentResponseContext } from '@x402/core/client';
import { wrapFetchWithPayment } from '@x402/fetch';

import { type StreamState, tipOrNextEpoch } from './protocol.js';
import { RelayerClient } from './relayer.js';
import { type ReceiptedState, signState, type SignedState, type StreamKey, verifyReceipt } from './signing.js';
import { signatureBytes, signedToJson, type SignedStreamJson } from './wire.js';

export const MICROPAY_SCHEME = 'micropay';

/** The scheme's `extra` in a resource server's payment requirements. */
export interface MicropayExtra {
  config: string;
  sequencer: string;
  feeBps: number;
  relayer: string;
}

export interface MicropayPayerOptions {
  /** Signs the stream: the tab owner's key (slot 0) or a session key. */
  key: StreamKey;
  tab: Address;
  slot: number;
  /** The deployment the tab is in; offers in other deployments are not taken. */
  config: Address;
  /** The config's sequencer: every receipt must verify under it. */
  sequencer: Address;
  /** The most one call may cost, in base units. */
  maxAmount: bigint;
  /** The relayer to read the stream from when needed (default: the offer's). */
  relayer?: RelayerClient;
}

/** Refusals that the relayer's copy of the stream can cure. */
const RETRIABLE = ['stale_state', 'policy', 'invalid_payment_amount', 'recipient_mismatch'];

export class MicropayScheme implements SchemeNetworkClient {
  readonly scheme = MICROPAY_SCHEME;
  readonly schemeHooks = {
    onPaymentResponse: (context: PaymentResponseContext) => this.onPaymentResponse(context),
  };
  /** Every payment receipted through this scheme, oldest first. */
  readonly receipts: ReceiptedState[] = [];
  private last?: StreamState;
  private readonly pending = new Map<string, SignedState>();

  constructor(private readonly options: MicropayPayerOptions) {}

  async createPaymentPayload(x402Version: number, requirements: PaymentRequirements) {
    const extra = requirements.extra as unknown as MicropayExtra;
    const { options } = this;
    if (requirements.scheme !== MICROPAY_SCHEME || extra.config !== options.config || extra.sequencer !== options.sequencer)
      throw new Error(`not an offer in deployment ${options.config}`);
    const amount = BigInt(requirements.amount);
    if (amount > options.maxAmount)
      throw new Error(`the price, ${amount} base units, is above this payer's limit of ${options.maxAmount}`);
    const base = this.last ?? (await this.relayerState(extra.relayer));
    const signed = await signState(tipOrNextEpoch(base, requirements.payTo as Address, amount), options.key);
    const payload = signedToJson(signed);
    this.pending.set(payload.signature, signed);
    return { x402Version, payload: payload as unknown as Record<string, unknown> };
  }

  private async relayerState(offered: string): Promise<StreamState> {
    const relayer = this.options.relayer ?? new RelayerClient(offered, this.options.sequencer);
    const view = await relayer.stream(this.options.tab, this.options.slot);
    if (view.key !== this.options.key.address)
      throw new Error(`slot ${this.options.slot} of the tab holds key ${view.key}, not ${this.options.key.address}`);
    return view.next;
  }

  private async onPaymentResponse(context: PaymentResponseContext): Promise<void | { recovered: true }> {
    const sent = context.paymentPayload.payload as unknown as SignedStreamJson;
    const signed = this.pending.get(sent.signature);
    this.pending.delete(sent.signature);
    if (!signed) return;
    const settled = context.settleResponse;
    if (settled?.success) {
      const receipted = { signed, receipt: signatureBytes(settled.transaction), sequencer: this.options.sequencer };
      if (!verifyReceipt(receipted, this.options.sequencer))
        throw new Error("the payment's receipt is not the sequencer's");
      this.last = signed.state;
      this.receipts.push(receipted);
      return;
    }
    // Refused: the kept state may be behind the stream; the relayer's is not.
    const error = context.paymentRequired?.error ?? settled?.errorReason ?? '';
    if (this.last && RETRIABLE.some((reason) => error.startsWith(reason))) {
      this.last = undefined;
      return { recovered: true };
    }
  }
}

/**
 * A `fetch` that pays for calls answered 402 with a `micropay` offer in the payer's
 * deployment, within `maxAmount`, from one stream; other calls go through unchanged.
 * The scheme's `receipts` hold what was paid.
 */
export function micropayFetch(
  options: MicropayPayerOptions & { fetch?: typeof globalThis.fetch },
): { fetch: typeof globalThis.fetch; scheme: MicropayScheme } {
  const scheme = new MicropayScheme(options);
  // The scheme enforces the per-call limit (`maxAmount`); the session key's cap is the
  // spending limit, enforced on chain. x402's USD spend controls know only USD assets.
  const client = new x402Client().register('solana:*', scheme).setSpendControls(false);
  const paying = wrapFetchWithPayment(options.fetch ?? globalThis.fetch, client);
  return { fetch: paying as typeof globalThis.fetch, scheme };
}
