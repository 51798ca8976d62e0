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
   * Makes the tab ready for a tip of `amount`: opens or tops it up and registers the
   * session key, in one approval, when it is not ready; does nothing when it is.
   */
  async prepare(amount: bigint): Promise<void> {
    const { rpc, config: configAddress, owner, key } = this.options;
    const now = this.now();
    this.config ??= await fetchConfig(rpc, configAddress, now);
    this.client ??= new RelayerClient(this.options.relayer, this.config.sequencer);
    const tab = await fetchTab(rpc, await this.tab());
    const slot = sessionSlot(tab, key.address, now);
    if (slot === undefined)
      throw new Error('every session slot of this tab holds a valid key: remove one first');
    const current = tab?.slots[slot];
    const live = current?.key === key.address && current.keyKind !== 0 && now < current.expiresAt;
    const headroom = current && live ? current.cap - current.spent : 0n;
    const unsettled = this.state ? this.state.entries.reduce((n, e) => n + e.amount, 0n) : 0n;
    const funded = !!tab && tab.balance - tab.withdrawAmount - unsettled >= amount;
    if (live && funded && headroom - unsettled >= amount) {
      this.slot = slot;
      return;
    }
    const deposit = funded ? 0n : this.options.deposit > amount ? this.options.deposit : amount;
    // The cap covers what the key has spent plus this approval's deposit.
    const cap = (live ? current!.spent : 0n) + (deposit > 0n ? deposit : (tab?.balance ?? 0n));
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
      expiresAt: live ? current!.expiresAt : now + this.options.lifetimeSeconds,
      cap: live && current!.cap > cap ? current!.cap : cap,
    });
    this.approvals += 1;
    await this.options.approve(instructions);
    this.slot = slot;
  }

  /** Tips `amount` to `payee`: one signature here, one round trip to the relayer. */
  async tip(payee: Address, amount: bigint): Promise<ReceiptedState> {
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
      receipted = await attempt();
    } catch (error) {
      // The tab or the key's cap ran short: one more approval tops it up.
      if (!(error instanceof RelayerError) || !['insufficient_funds', 'policy'].includes(error.code)) throw error;
      await this.prepare(amount);
      receipted = await attempt();
    }
    this.state = receipted.signed.state;
    return receipted;
  }
}
