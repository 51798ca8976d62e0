// The payee's side: collect the receipts naming a wallet, each checked against the
// sequencer, newest per stream epoch, and what is still owed. A payee (or a watcher
// acting for it) needs these receipts to settle without the relayer.

import type { Address } from '@solana/kit';

import { type PayeeReceipt, RelayerClient } from './relayer.js';

const PAGE = 500;

/** The receipts naming one wallet, kept current by `poll()`. */
export class PayeeWatcher {
  private readonly newest = new Map<string, PayeeReceipt>();
  private sinceMs = 0;

  constructor(
    private readonly client: RelayerClient,
    readonly wallet: Address,
  ) {}

  /** Fetches receipts issued since the last poll; returns those new or changed. */
  async poll(): Promise<PayeeReceipt[]> {
    const changed: PayeeReceipt[] = [];
    for (;;) {
      const page = await this.client.payeeReceipts(this.wallet, this.sinceMs, PAGE);
      for (const receipt of page) {
        const { tab, slot, epoch } = receipt.receipted.signed.state;
        const id = `${tab}:${slot}:${epoch}`;
        const known = this.newest.get(id);
        const newer =
          !known ||
          receipt.receipted.signed.state.seq > known.receipted.signed.state.seq ||
          receipt.status !== known.status;
        if (newer) {
          this.newest.set(id, receipt);
          changed.push(receipt);
        }
        if (receipt.receiptedAtMs > this.sinceMs) this.sinceMs = receipt.receiptedAtMs;
      }
      if (page.length < PAGE) return changed;
    }
  }

  /** The newest receipt of every stream epoch naming the wallet. */
  get receipts(): PayeeReceipt[] {
    return [...this.newest.values()];
  }

  /** What the receipts name for this wallet, in total and not yet settled. */
  totals(): { receipted: bigint; unsettled: bigint } {
    let receipted = 0n;
    let unsettled = 0n;
    for (const receipt of this.newest.values()) {
      const entry = receipt.receipted.signed.state.entries.find((e) => e.payee === this.wallet);
      if (!entry) continue;
      receipted += entry.amount;
      if (receipt.status === 'open' || receipt.status === 'closed') unsettled += entry.amount;
    }
    return { receipted, unsettled };
  }
}
