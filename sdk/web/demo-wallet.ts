// A Wallet Standard wallet with a real keypair, registered in the demo page so that
// the widget can be tried (and tested in a browser) without installing a wallet. It
// signs with the key it is given and sends through the local validator's RPC; every
// transaction it signs counts as one approval. Only for a local demo: the page holds
// the key.

import {
  createKeyPairFromPrivateKeyBytes,
  createSolanaRpc,
  getAddressFromPublicKey,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getTransactionDecoder,
  signTransaction,
} from '@solana/kit';
import { SolanaSignAndSendTransaction, type SolanaSignAndSendTransactionFeature } from '@solana/wallet-standard-features';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import {
  StandardConnect,
  type StandardConnectFeature,
  StandardEvents,
  type StandardEventsFeature,
} from '@wallet-standard/features';
import { registerWallet } from '@wallet-standard/wallet';

const CHAIN = 'solana:localnet';
const ICON = `data:image/svg+xml;base64,${btoa(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#5b3df5"/></svg>',
)}` as const;

export interface DemoWallet {
  /** Transactions signed so far: each would have been a prompt in a real wallet. */
  approvals: number;
  address: string;
}

/** Registers the demo wallet for the keypair with this 32-byte seed. */
export async function registerDemoWallet(seed: Uint8Array, rpcUrl: string): Promise<DemoWallet> {
  const keyPair = await createKeyPairFromPrivateKeyBytes(seed);
  const address = await getAddressFromPublicKey(keyPair.publicKey);
  const rpc = createSolanaRpc(rpcUrl);
  const state: DemoWallet = { approvals: 0, address };
  const account: WalletAccount = {
    address,
    publicKey: getBase58Encoder().encode(address) as Uint8Array,
    chains: [CHAIN],
    features: [SolanaSignAndSendTransaction],
  };
  const features: StandardConnectFeature & StandardEventsFeature & SolanaSignAndSendTransactionFeature = {
    [StandardConnect]: { version: '1.0.0', connect: async () => ({ accounts: [account] }) },
    [StandardEvents]: { version: '1.0.0', on: () => () => {} },
    [SolanaSignAndSendTransaction]: {
      version: '1.0.0',
      supportedTransactionVersions: ['legacy', 0],
      signAndSendTransaction: async (...inputs) => {
        const outputs = [];
        for (const input of inputs) {
          state.approvals += 1;
          const signed = await signTransaction([keyPair], getTransactionDecoder().decode(input.transaction));
          await rpc
            .sendTransaction(getBase64EncodedWireTransaction(signed), {
              encoding: 'base64',
              preflightCommitment: 'confirmed',
            })
            .send();
          outputs.push({ signature: signed.signatures[address] as Uint8Array });
        }
        return outputs;
      },
    },
  };
  const wallet: Wallet = {
    version: '1.0.0',
    name: 'micropay demo wallet',
    icon: ICON,
    chains: [CHAIN],
    features,
    accounts: [account],
  };
  registerWallet(wallet);
  return state;
}
