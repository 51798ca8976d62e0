// Tipping through a session key: the owner's wallet approves one transaction (open or
// top up the tab, register the key), then every tip is signed here and receipted by
// the relayer with no further approval. The tip widget and Node agents share this.

import {
  type Address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  getAddressCodec,
  getProgramDerivedAddress,
  getTransactionEncoder,
  type GetAccountInfoApi,
  type GetLatestBlockhashApi,
  type Instruction,
  pipe,
  type Rpc,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from '@solana/kit';

import {
  type ConfigView,
  fetchConfig,
  fetchTab,
  prepareTabInstructions,
  sessionSlot,
  tabAddress,
} from './accounts.js';
import type { StreamState } from './protocol.js';
import { RelayerClient, RelayerError } from './relayer.js';
import type { ReceiptedState, StreamKey } from './signing.js';

/** How long a session key must stay live for the relayer to receipt its states (its default). */
const MIN_KEY_VALIDITY_SECONDS = 600n;

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL' as Address;

/** The owner's associated token account of `mint`. */
export async function associatedTokenAddress(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const codec = getAddressCodec();
  const [address] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM,
    seeds: [codec.encode(owner), codec.encode(tokenProgram), codec.encode(mint)],
  });
  return address;
}

/**
 * A compiled, unsigned transaction paid by `feePayer`, as wire bytes: what a Wallet
 * Standard wallet's `signAndSendTransaction` takes.
 */
export async function transactionBytes(
  rpc: Rpc<GetLatestBlockhashApi>,
  feePayer: Address,
  instructions: readonly Instruction[],
): Promise<Uint8Array> {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(feePayer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return getTransactionEncoder().encode(compileTransaction(message)) as Uint8Array;
}

export interface TipSessionOptions {
  rpc: Rpc<GetAccountInfoApi & GetLatestBlockhashApi>;
  relayer: string;
  config: Address;
  /** The tab owner: the wallet that approves. */
  owner: Address;
  /** The session key (kept by the caller, e.g. in IndexedDB). */
  key: StreamKey;
  /** Has the owner approve and send a transaction; resolves once it is confirmed. */
  approve: (instructions: Instruction[]) => Promise<void>;
  /** What one approval deposits when the tab is short, in base units. */
  deposit: bigint;
  /** How long the session key stays live, in seconds. */
  lifetimeSeconds: bigint;
  /** The current unix time (the cluster's, ideally). */
  now?: () => bigint;
}

/** A payer tipping through one session key. */
export class TipSession {
  private state?: StreamState;
  private slot?: number;
  private config?: ConfigView;
  private tabAddress?: Address;
  private client?: RelayerClient;
  private readonly now: () => bigint;
  /** Approvals this session has asked the wallet for. */
  approvals = 0;

  constructor(private readonly options: TipSessionOptions) {
    this.now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  /** The owner's tab in the deployment. */
  async tab(): Promise<Address> {
    this.tabAddress ??= await tabAddress(this.options.config, this.options.owner);
    return this.tabAddress;
  }

  /**
   * Makes the tab ready for a tip of `amount`: when it is not, one approval opens or
   * tops up the tab and registers (or extends) the session key; when it is, nothing.
   * After the relayer refused a tip for want of funds (`refused`), it deposits even
   * if the tab looks funded (other streams may hold the rest).
   */
  async prepare(amount: bigint, refused?: 'insufficient_funds'): Promise<void> {
    const { rpc, config: configAddress, owner, key } = this.options;
    const now = this.now();
    this.config ??= await fetchConfig(rpc, configAddress, now);
    this.client ??= new RelayerClient(this.options.relayer, this.config.sequencer);
    const tab = await fetchTab(rpc, await this.tab());
    const slot = sessionSlot(tab, key.address, now);
    if (slot === undefined)
      throw new Error('every session slot of this tab holds a valid key: remove one first');
    const current = tab?.slots[slot];
    const live = !!current && current.key === key.address && current.keyKind !== 0 && now < current.expiresAt;
    // What this key must still be able to spend: its unsettled tips and this one.
    const needed = (this.state ? this.state.entries.reduce((n, e) => n + e.amount, 0n) : 0n) + amount;
    const funded = !!tab && tab.balance - tab.withdrawAmount >= needed && refused !== 'insufficient_funds';
    const capped = live && current!.cap - current!.spent >= needed;
    const lasting = live && current!.expiresAt - now >= MIN_KEY_VALIDITY_SECONDS;
    if (funded && capped && lasting) {
      this.slot = slot;
      return;
    }
    const deposit = funded ? 0n : max(this.options.deposit, needed);
    // The key may spend what it has spent plus all the tab will hold, for another
    // lifetime.
    const spent = live ? current!.spent : 0n;
    const holds = (tab ? tab.balance - tab.withdrawAmount : 0n) + deposit;
    const cap = max(live ? current!.cap : 0n, spent + holds);
    const expiresAt = max(live ? current!.expiresAt : 0n, now + this.options.lifetimeSeconds);
    const instructions = await prepareTabInstructions({
      owner,
      config: configAddress,
      mint: this.config.mint,
      tokenProgram: this.config.tokenProgram,
      source: await associatedTokenAddress(owner, this.config.mint, this.config.tokenProgram),
      tabExists: !!tab,
      deposit,
      sessionKey: key.address,
      slot,
      expiresAt,
      cap,
    });
    this.approvals += 1;
    await this.options.approve(instructions);
    this.slot = slot;
  }

  /** Tips `amount` to `payee`: one signature here, one round trip to the relayer. */
  async tip(payee: Address, amount: bigint): Promise<ReceiptedState> {
    const before = this.approvals;
    if (this.slot === undefined) await this.prepare(amount);
    const attempt = () =>
      this.client!.tip({
        key: this.options.key,
        tab: this.tabAddress!,
        slot: this.slot!,
        payee,
        amount,
        previous: this.state,
      });
    let receipted: ReceiptedState;
    try {
      receipted = this.approvals > before ? await retryWhileRelayerCatchesUp(attempt) : await attempt();
    } catch (error) {
      // The tab, or the key's cap or validity, ran short: one more approval renews
      // them. A refusal for any other reason is the caller's to see.
      if (!(error instanceof RelayerError) || (error.code !== 'insufficient_funds' && error.code !== 'policy'))
        throw error;
      const approvals = this.approvals;
      await this.prepare(amount, error.code === 'insufficient_funds' ? error.code : undefined);
      if (this.approvals === approvals) throw error;
      receipted = await retryWhileRelayerCatchesUp(attempt);
    }
    this.state = receipted.signed.state;
    return receipted;
  }
}

/**
 * `attempt`, again while the relayer still refuses for funds or the key's limits: it
 * reads a tab again only once its copy is a few seconds old, so a tip right after an
 * approval may be judged against the tab as it was.
 */
async function retryWhileRelayerCatchesUp<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const waiting =
        error instanceof RelayerError && (error.code === 'insufficient_funds' || error.code === 'policy');
      if (!waiting || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
