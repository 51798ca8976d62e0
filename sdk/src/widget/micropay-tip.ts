// `<micropay-tip>`: a tip button for any page. The reader connects a Wallet Standard
// wallet, approves once (open or top up a tab, register a session key), and then
// each click is a tip signed in the browser and receipted by the relayer, with no
// further prompt. Shows the running total and the receipts.
//
//   <micropay-tip payee="<wallet>" amount="1000" config="<config>"
//                 relayer="https://relayer.example" rpc="https://rpc.example"
//                 chain="solana:mainnet" deposit="100000" decimals="6" label="Tip 0.001 USDC">
//
// `amount` and `deposit` are in base units; `decimals` only changes what is shown.
//
// Events: `micropay-receipt` (detail: the receipted state) after each tip,
// `micropay-error` (detail: the error) when something fails.

import { type Address, address, createSolanaRpc, getBase58Decoder } from '@solana/kit';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

import { stateTotal } from '../protocol.js';
import { formatUnits } from '../units.js';
import { TipSession, transactionBytes } from '../session.js';
import type { ReceiptedState } from '../signing.js';
import { sessionKeyFor } from './session-store.js';
import { connect, onWalletsChange, signAndSend, usableWallets } from './wallet.js';

const STYLE = `
  :host { display: inline-block; font: 14px system-ui, sans-serif; color: #1d2433; }
  .card { border: 1px solid #d5dae3; border-radius: 10px; padding: 12px 14px; min-width: 260px; background: #fff; }
  button { font: inherit; border: 0; border-radius: 8px; padding: 8px 14px; cursor: pointer;
           background: #5b3df5; color: #fff; }
  button:disabled { opacity: .55; cursor: default; }
  .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .muted { color: #6b7385; font-size: 12px; }
  .total { font-weight: 600; }
  ol { margin: 8px 0 0; padding-left: 28px; max-height: 140px; overflow: auto; font-size: 12px; }
  code { font-size: 11px; }
  .error { color: #b3261e; font-size: 12px; }
`;

const base58 = getBase58Decoder();

const short = (text: string) => `${text.slice(0, 6)}…${text.slice(-4)}`;

export class MicropayTip extends HTMLElement {
  private readonly root = this.attachShadow({ mode: 'open' });
  private account?: WalletAccount;
  private session?: TipSession;
  private tipped = 0n;
  private readonly receipts: ReceiptedState[] = [];
  private busy = false;
  private error = '';
  private unsubscribe?: () => void;

  connectedCallback(): void {
    this.unsubscribe = onWalletsChange(() => this.render());
    this.render();
  }

  disconnectedCallback(): void {
    this.unsubscribe?.();
  }

  private attribute(name: string, fallback?: string): string {
    const value = this.getAttribute(name) ?? fallback;
    if (value === undefined || value === '') throw new Error(`<micropay-tip> needs ${name}="…"`);
    return value;
  }

  private get chain() {
    return this.attribute('chain', 'solana:localnet') as `solana:${string}`;
  }

  private async run(work: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = '';
    this.render();
    try {
      await work();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.dispatchEvent(new CustomEvent('micropay-error', { detail: error, bubbles: true, composed: true }));
    } finally {
      this.busy = false;
      this.render();
    }
  }

  private connectWallet(wallet: Wallet) {
    return this.run(async () => {
      this.account = await connect(wallet);
      const rpc = createSolanaRpc(this.attribute('rpc'));
      const config = address(this.attribute('config'));
      const owner = address(this.account.address);
      this.session = new TipSession({
        rpc,
        relayer: this.attribute('relayer'),
        config,
        owner,
        key: await sessionKeyFor(config, owner),
        deposit: BigInt(this.attribute('deposit', (BigInt(this.attribute('amount')) * 100n).toString())),
        lifetimeSeconds: BigInt(this.attribute('session-hours', '24')) * 3600n,
        approve: async (instructions) => {
          const bytes = await transactionBytes(rpc, owner, instructions);
          const signature = base58.decode(await signAndSend(wallet, this.account!, this.chain, bytes));
          await confirmed(rpc, signature);
        },
      });
    });
  }

  /** One tip of `amount` to `payee`. */
  tip(): Promise<void> {
    return this.run(async () => {
      if (!this.session) throw new Error('connect a wallet first');
      const payee: Address = address(this.attribute('payee'));
      const amount = BigInt(this.attribute('amount'));
      const receipted = await this.session.tip(payee, amount);
      this.tipped += amount;
      this.receipts.unshift(receipted);
      this.dispatchEvent(new CustomEvent('micropay-receipt', { detail: receipted, bubbles: true, composed: true }));
    });
  }

  /** Wallet approvals asked for so far (one to start, then only to top up). */
  get approvals(): number {
    return this.session?.approvals ?? 0;
  }

  private render(): void {
    const decimals = Number(this.getAttribute('decimals') ?? '0');
    const units = (amount: bigint) => formatUnits(amount, decimals);
    const label = this.getAttribute('label') ?? `Tip ${units(BigInt(this.getAttribute('amount') ?? '0'))}`;
    const wallets = usableWallets(this.chain);
    let body: string;
    if (!this.account) {
      body = wallets.length
        ? `<div class="row">${wallets
            .map((w, i) => `<button data-wallet="${i}" ${this.busy ? 'disabled' : ''}>Connect ${escape(w.name)}</button>`)
            .join('')}</div>`
        : `<div class="muted">No Solana wallet found in this browser.</div>`;
    } else {
      const latest = this.receipts[0];
      body = `
        <div class="row">
          <button data-tip ${this.busy ? 'disabled' : ''}>${escape(label)}</button>
          <span class="total" data-total>${units(this.tipped)}</span><span class="muted">tipped</span>
        </div>
        <div class="muted">from ${short(this.account.address)} · ${this.receipts.length} receipts${
          latest ? ` · stream total ${units(stateTotal(latest.signed.state))}` : ''
        }</div>
        <ol data-receipts>${this.receipts
          .slice(0, 50)
          .map(
            (r) =>
              `<li>seq ${r.signed.state.seq}, total ${units(stateTotal(r.signed.state))} · receipt <code>${short(
                base58.decode(r.receipt),
              )}</code></li>`,
          )
          .join('')}</ol>`;
    }
    this.root.innerHTML = `<style>${STYLE}</style><div class="card">${body}${
      this.error ? `<div class="error" role="alert">${escape(this.error)}</div>` : ''
    }</div>`;
    this.root.querySelectorAll<HTMLButtonElement>('[data-wallet]').forEach((button) => {
      button.onclick = () => this.connectWallet(wallets[Number(button.dataset.wallet)]);
    });
    const tip = this.root.querySelector<HTMLButtonElement>('[data-tip]');
    if (tip) tip.onclick = () => this.tip();
  }
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function confirmed(rpc: ReturnType<typeof createSolanaRpc>, signature: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const { value } = await rpc.getSignatureStatuses([signature as never]).send();
    const status = value[0];
    if (status?.err) throw new Error(`the transaction failed: ${JSON.stringify(status.err)}`);
    if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`transaction ${signature} not confirmed in 30 s`);
}
