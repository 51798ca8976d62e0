//! The v2 bytecode on a local validator, end to end over RPC: a config, a funded tab,
//! a state signed by the owner, settled by the sequencer, the payee paid and the
//! program's events read back from the transaction's logs.

use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey};
use micropay_devnet::{Deployment, Devnet};
use micropay_interface::{
    client::{self as builders, Deposit, SettleAccounts, SettleItem, SettlePayee},
    event::{self, AnyEvent},
    state::{AccountLayout, Tab},
};
use micropay_protocol::StreamState;
use solana_client::rpc_config::RpcTransactionConfig;
use solana_sdk::{signature::Keypair, signer::Signer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_settles_on_a_local_validator() {
    let devnet = Devnet::start().await.expect("validator");
    let deployment = Deployment::create(&devnet, 100).await.expect("deployment");

    // The payer's key is an ed25519 seed, so its states are signed as a wallet would.
    let seed = [42u8; 32];
    let owner = Keypair::new_from_array(seed);
    devnet.fund(&owner.pubkey(), 1_000_000_000).await.unwrap();
    let source = devnet
        .token_account(&deployment.mint, &owner.pubkey())
        .await
        .unwrap();
    deployment.mint_to(&devnet, &source, 100_000).await.unwrap();
    let tab = builders::tab_address(&deployment.config, &owner.pubkey());
    let spl = spl_token_interface::ID;
    devnet
        .send(
            &[
                builders::open_tab(&owner.pubkey(), &deployment.config),
                builders::deposit(
                    &Deposit {
                        depositor: &owner.pubkey(),
                        config: &deployment.config,
                        tab: &tab,
                        mint: &deployment.mint,
                        source: &source,
                        token_program: &spl,
                    },
                    50_000,
                ),
            ],
            &[&owner],
        )
        .await
        .expect("open and deposit");

    let payee = Keypair::new();
    let payee_account = devnet
        .token_account(&deployment.mint, &payee.pubkey())
        .await
        .unwrap();
    let rpc = devnet.rpc();
    let tab_state = *Tab::view(&rpc.get_account_data(&tab).await.unwrap()).expect("a tab");
    let state = StreamState::new(tab, tab_state.incarnation.get(), 0, 0, 100)
        .tip(payee.pubkey(), 700)
        .unwrap()
        .tip(payee.pubkey(), 300)
        .unwrap();
    let signature = SigningKey::from_bytes(&seed).sign(&state.message().state_bytes());
    let settle = builders::settle(
        &SettleAccounts {
            settler: &deployment.sequencer.pubkey(),
            config: &deployment.config,
            mint: &deployment.mint,
            token_program: &spl,
        },
        &[SettleItem {
            tab,
            slot: 0,
            seq: state.seq,
            fee_bps: state.fee_bps,
            entries: state.entry_list(),
            previous: None,
            signature: signature.to_bytes(),
            receipt: None,
        }],
        &[SettlePayee {
            wallet: payee.pubkey(),
            token_account: payee_account,
            pass_wallet: false,
        }],
    )
    .unwrap();
    let tx = devnet
        .send(&[settle], &[&deployment.sequencer])
        .await
        .expect("settled on the validator");

    assert_eq!(devnet.token_balance(&payee_account).await.unwrap(), 990);
    let tab_state = *Tab::view(&rpc.get_account_data(&tab).await.unwrap()).unwrap();
    assert_eq!(tab_state.balance.get(), 49_000);
    assert_eq!(tab_state.slots[0].epoch.get(), 1);

    let fetched = rpc
        .get_transaction_with_config(
            &tx,
            RpcTransactionConfig {
                commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
                ..RpcTransactionConfig::default()
            },
        )
        .await
        .unwrap();
    let logs: Vec<String> = fetched
        .transaction
        .meta
        .and_then(|meta| Option::<Vec<String>>::from(meta.log_messages))
        .unwrap_or_default();
    let events: Vec<AnyEvent> = logs
        .iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|data| {
            let bytes: Vec<u8> = data
                .split(' ')
                .filter_map(|field| base64::engine::general_purpose::STANDARD.decode(field).ok())
                .flatten()
                .collect();
            event::decode(&bytes)
        })
        .collect();
    assert!(
        events.iter().any(
            |event| matches!(event, AnyEvent::StreamSettled(settled) if settled.paid.get() == 1_000)
        ),
        "{events:?} from {logs:?}"
    );
}
