// The program's accounts from TypeScript: a deployment's config, a payer's tab and
// its stream slots; and the instructions that open or top up a tab and register a
// session key, so that a wallet approves all of it in one transaction.

import {
  type Address,
  fetchEncodedAccount,
  type GetAccountInfoApi,
  type Instruction,
  type Rpc,
} from '@solana/kit';

import { decodeAccount, instruction, pda } from './program.js';

/** Stream slots per tab: slot 0 is the owner's, 1.. hold session keys. */
export const MAX_SLOTS = 5;

export interface SlotView {
  readonly key: Address;
  /** 0: empty, 1: ed25519. */
  readonly keyKind: number;
  readonly expiresAt: bigint;
  readonly validUntil: bigint;
  readonly cap: bigint;
  readonly spent: bigint;
  readonly epoch: bigint;
}

/** What a deployment charges and who sequences it, as in force at a time. */
export interface ConfigView {
  readonly address: Address;
  readonly mint: Address;
  readonly tokenProgram: Address;
  readonly decimals: number;
  readonly sequencer: Address;
  readonly feeBps: number;
  readonly withdrawalDelay: bigint;
  readonly topUpWindow: bigint;
}

/** The config at `address` with the parameters in force at `now` (unix seconds). */
export async function fetchConfig(
  rpc: Rpc<GetAccountInfoApi>,
  address: Address,
  now: bigint,
): Promise<ConfigView> {
  const account = await fetchEncodedAccount(rpc, address, { commitment: 'confirmed' });
  if (!account.exists) throw new Error(`no config at ${address}`);
  const config = decodeAccount('Config', account.data);
  const due: bigint = config.pending_effective_at;
  const params = due !== 0n && now >= due ? config.pending : config.params;
  return {
    address,
    mint: config.mint,
    tokenProgram: config.token_program,
    decimals: config.decimals,
    sequencer: params.sequencer,
    feeBps: params.fee_bps,
    withdrawalDelay: params.withdrawal_delay,
    topUpWindow: params.top_up_window,
  };
}

export interface TabView {
  readonly address: Address;
  readonly config: Address;
  readonly owner: Address;
  readonly incarnation: bigint;
  readonly balance: bigint;
  readonly withdrawAmount: bigint;
  readonly slots: readonly SlotView[];
}

/** The tab of `owner` in deployment `config`. */
export const tabAddress = (config: Address, owner: Address): Promise<Address> =>
  pda('open_tab', 'tab', { config, owner });

/** The tab at `address`, or undefined when it does not exist. */
export async function fetchTab(rpc: Rpc<GetAccountInfoApi>, address: Address): Promise<TabView | undefined> {
  const account = await fetchEncodedAccount(rpc, address, { commitment: 'confirmed' });
  if (!account.exists) return undefined;
  const tab = decodeAccount('Tab', account.data);
  return {
    address,
    config: tab.config,
    owner: tab.owner,
    incarnation: tab.incarnation,
    balance: tab.balance,
    withdrawAmount: tab.withdraw_amount,
    slots: tab.slots.map((slot: Record<string, never>) => ({
      key: slot.key,
      keyKind: slot.key_kind,
      expiresAt: slot.expires_at,
      validUntil: slot.valid_until,
      cap: slot.cap,
      spent: slot.spent,
      epoch: slot.epoch,
    })),
  };
}

const isValid = (slot: SlotView, now: bigint) => slot.keyKind !== 0 && now <= slot.validUntil;

/**
 * The session slot holding `key` while it is valid, else a slot free for it (no key,
 * or one whose validity has ended), else undefined.
 */
export function sessionSlot(tab: TabView | undefined, key: Address, now: bigint): number | undefined {
  if (!tab) return 1;
  for (let i = 1; i < MAX_SLOTS; i++) if (isValid(tab.slots[i], now) && tab.slots[i].key === key) return i;
  for (let i = 1; i < MAX_SLOTS; i++) if (!isValid(tab.slots[i], now)) return i;
  return undefined;
}

/**
 * The instructions that make a tab ready to tip through a session key, for one
 * approval: open the tab if it does not exist, deposit `deposit` from the owner's
 * token account (if above zero), and register `sessionKey` in `slot` until
 * `expiresAt` with a spending cap of `cap`.
 */
export async function prepareTabInstructions(params: {
  owner: Address;
  config: Address;
  mint: Address;
  tokenProgram: Address;
  /** The owner's token account of the mint. */
  source: Address;
  tabExists: boolean;
  deposit: bigint;
  sessionKey: Address;
  slot: number;
  expiresAt: bigint;
  cap: bigint;
}): Promise<Instruction[]> {
  const { owner, config } = params;
  const tab = await tabAddress(config, owner);
  const instructions: Instruction[] = [];
  if (!params.tabExists) instructions.push(await instruction('open_tab', { owner, config }));
  if (params.deposit > 0n) {
    instructions.push(
      await instruction(
        'deposit',
        {
          depositor: owner,
          config,
          tab,
          mint: params.mint,
          source: params.source,
          token_program: params.tokenProgram,
        },
        { args: { amount: params.deposit } },
      ),
    );
  }
  instructions.push(
    await instruction(
      'add_signer',
      { owner, config },
      { args: { slot: params.slot, key: params.sessionKey, expires_at: params.expiresAt, cap: params.cap } },
    ),
  );
  return instructions;
}
