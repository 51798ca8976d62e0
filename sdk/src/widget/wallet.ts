// Wallet Standard wallets in the page: find those that can sign and send Solana
// transactions on a chain, connect one, and have it approve a transaction.

import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import {
  StandardConnect,
  type StandardConnectFeature,
} from '@wallet-standard/features';
import {
  SolanaSignAndSendTransaction,
  type SolanaSignAndSendTransactionFeature,
} from '@solana/wallet-standard-features';
import type { IdentifierString } from '@wallet-standard/base';

export type SolanaChain = IdentifierString;

/** Wallets registered in the page that can connect and sign-and-send on `chain`. */
export function usableWallets(chain: SolanaChain): Wallet[] {
  return getWallets()
    .get()
    .filter(
      (wallet) =>
        StandardConnect in wallet.features &&
        SolanaSignAndSendTransaction in wallet.features &&
        wallet.chains.includes(chain),
    );
}

/** Calls `listener` when wallets register (they may load after the page). */
export const onWalletsChange = (listener: () => void): (() => void) =>
  getWallets().on('register', listener);

export async function connect(wallet: Wallet): Promise<WalletAccount> {
  const { accounts } = await (wallet.features as StandardConnectFeature)[StandardConnect].connect();
  if (!accounts.length) throw new Error(`${wallet.name} gave no account`);
  return accounts[0];
}

/** Has the wallet sign and send `transaction` (wire bytes); returns its signature. */
export async function signAndSend(
  wallet: Wallet,
  account: WalletAccount,
  chain: SolanaChain,
  transaction: Uint8Array,
): Promise<Uint8Array> {
  const feature = (wallet.features as SolanaSignAndSendTransactionFeature)[SolanaSignAndSendTransaction];
  const [output] = await feature.signAndSendTransaction({
    account,
    chain,
    transaction,
    options: { commitment: 'confirmed' },
  });
  return output.signature;
}
