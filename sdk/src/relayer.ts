// The relayer's HTTP API for payers and payees: read a stream, tip (extend the
// stream's state by one tip, sign, submit, check the receipt), and fetch the receipts
// naming a wallet. Typed by the relayer's OpenAPI document (openapi-fetch).

import type { Address } from '@solana/kit';
import createClient, { type Client } from 'openapi-fetch';

import type { paths } from './generated/relayer-api.js';
import { type StreamState, tipOrNextEpoch } from './protocol.js';
import { type ReceiptedState, signState, type SignedState, type StreamKey, verifyReceipt } from './signing.js';
import {
  type ErrorCode,
  type ErrorResponse,
  type Health,
  receiptFromJson,
  receiptingFromJson,
  signedToJson,
  stateFromJson,
  type StreamStatus,
} from './wire.js';

/** The relayer refused a request: its stable code, HTTP status and message. */
export class RelayerError extends Error {
  constructor(
    readonly code: ErrorCode | 'bad_response' | 'wrong_key' | 'too_many_conflicts',
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RelayerError';
  }
}

/** The newest receipt of one stream epoch naming a payee, and where it is in its life. */
export interface PayeeReceipt {
  readonly receipted: ReceiptedState;
  readonly status: StreamStatus;
  readonly receiptedAtMs: number;
  readonly settleTx?: string;
}

/** Attempts at a tip when another state of the stream keeps winning the race. */
const TIP_ATTEMPTS = 8;

export interface RelayerClientOptions {
  /** The fetch to use (a test's, or one that adds headers). */
  fetch?: typeof globalThis.fetch;
}

export class RelayerClient {
  private readonly http: Client<paths>;

  /**
   * @param baseUrl the relayer, e.g. `http://127.0.0.1:7800`
   * @param sequencer the config's sequencer: every receipt must verify under it
   */
  constructor(
    baseUrl: string,
    readonly sequencer: Address,
    options: RelayerClientOptions = {},
  ) {
    this.http = createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), fetch: options.fetch });
  }

  private static refused(error: ErrorResponse | undefined, response: Response): RelayerError {
    if (error?.error?.code)
      return new RelayerError(error.error.code, response.status, error.error.message);
    return new RelayerError('bad_response', response.status, `${response.status} ${response.statusText}`);
  }

  async health(): Promise<Health> {
    const { data, error, response } = await this.http.GET('/v1/health');
    if (!data) throw RelayerClient.refused(error as ErrorResponse | undefined, response);
    return data;
  }

  /** The state the stream's next tip extends, its key and its last receipt. */
  async stream(tab: Address, slot: number): Promise<{ next: StreamState; key: Address; latest?: ReceiptedState }> {
    const { data, error, response } = await this.http.GET('/v1/streams/{tab}/{slot}', {
      params: { path: { tab, slot } },
    });
    if (!data) throw RelayerClient.refused(error, response);
    return {
      next: stateFromJson(data.next),
      key: data.key as Address,
      latest: data.latest ? receiptFromJson(data.latest) : undefined,
    };
  }

  /** Submits a signed state; returns it receipted, the receipt checked. */
  async submit(signed: SignedState): Promise<ReceiptedState> {
    const { tab, slot } = signed.state;
    const { data, error, response } = await this.http.POST('/v1/streams/{tab}/{slot}/states', {
      params: { path: { tab, slot } },
      body: signedToJson(signed),
    });
    if (!data) throw RelayerClient.refused(error, response);
    const receipted = receiptingFromJson(signed, data);
    if (!verifyReceipt(receipted, this.sequencer))
      throw new RelayerError('bad_response', response.status, "the receipt is not the sequencer's for the submitted state");
    return receipted;
  }

  /**
   * Submits up to 256 signed states of any streams in one request (`POST /v1/states`),
   * a stream's states in the order they extend each other. Each comes back, in the
   * order given, receipted (its receipt checked) or as the `RelayerError` that refused
   * it (status 0: the request itself succeeded).
   */
  async submitAll(signed: readonly SignedState[]): Promise<Array<ReceiptedState | RelayerError>> {
    const { data, error, response } = await this.http.POST('/v1/states', {
      body: { states: signed.map(signedToJson) },
    });
    if (!data) throw RelayerClient.refused(error, response);
    if (data.results.length !== signed.length)
      throw new RelayerError('bad_response', response.status, `${data.results.length} results for ${signed.length} states`);
    return data.results.map((outcome, i) => {
      if ('error' in outcome) return new RelayerError(outcome.error.code, 0, outcome.error.message);
      const receipted = receiptingFromJson(signed[i], outcome);
      if (!verifyReceipt(receipted, this.sequencer))
        return new RelayerError('bad_response', 0, "the receipt is not the sequencer's for the submitted state");
      return receipted;
    });
  }

  /**
   * Tips `amount` to `payee` on the stream `key` signs for: extends `previous` (the
   * last state this key had receipted, when the caller is the stream's only writer)
   * or else the relayer's current state by one tip, signs and submits it, and starts
   * again from the relayer's state if another tip of the stream was receipted first.
   */
  async tip(params: {
    key: StreamKey;
    tab: Address;
    slot: number;
    payee: Address;
    amount: bigint;
    previous?: StreamState;
  }): Promise<ReceiptedState> {
    let previous = params.previous;
    for (let attempt = 0; attempt < TIP_ATTEMPTS; attempt++) {
      let base = previous;
      previous = undefined;
      const fetched = !base;
      if (!base) {
        const view = await this.stream(params.tab, params.slot);
        if (view.key !== params.key.address)
          throw new RelayerError('wrong_key', 0, `slot ${params.slot} holds key ${view.key}, not ${params.key.address}`);
        base = view.next;
      }
      let next: StreamState;
      try {
        next = tipOrNextEpoch(base, params.payee, params.amount);
      } catch (error) {
        // The state this client kept may be unusable: ask the relayer.
        if (!fetched) continue;
        throw error;
      }
      try {
        return await this.submit(await signState(next, params.key));
      } catch (error) {
        if (error instanceof RelayerError && error.code === 'stale_state') continue;
        throw error;
      }
    }
    throw new RelayerError('too_many_conflicts', 409, `still conflicting after ${TIP_ATTEMPTS} attempts`);
  }

  /** The newest receipt of each stream epoch naming `wallet`, at or after `sinceMs`, oldest first. */
  async payeeReceipts(wallet: Address, sinceMs = 0, limit = 100): Promise<PayeeReceipt[]> {
    const { data, error, response } = await this.http.GET('/v1/payees/{wallet}/receipts', {
      params: { path: { wallet }, query: { since_ms: sinceMs, limit } },
    });
    if (!data) throw RelayerClient.refused(error, response);
    return data.receipts.map((receipt) => {
      const receipted = receiptFromJson(receipt.receipt);
      const names = receipted.signed.state.entries.some((entry) => entry.payee === wallet);
      if (!names || !verifyReceipt(receipted, this.sequencer))
        throw new RelayerError('bad_response', response.status, 'a receipt that is not the sequencer\'s for this wallet');
      return {
        receipted,
        status: receipt.status,
        receiptedAtMs: receipt.receipted_at_ms,
        settleTx: receipt.settle_tx ?? undefined,
      };
    });
  }
}
