//! A property test over random sequences of deposits, tips on several streams, open
//! settlements, top-ups, time passing and withdrawals, checked against a model after
//! every step: the vault holds exactly the tab balances plus credits plus fees owed,
//! every tab and stream matches the model, and no stream pays more than its signed
//! states (a top-up pays only the rise).

use std::collections::BTreeMap;

use micropay_devnet::bytecode::*;
use micropay_interface::{client as builders, MicropayError};
use rand::{rngs::StdRng, Rng, SeedableRng};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const STEPS: usize = 80;
const SEEDS: [u64; 3] = [1, 2, 3];

/// A settled state as the model keeps it: epoch, seq, entries, when.
type Settled = (u64, u32, Vec<(Pubkey, u64)>, i64);

struct Stream {
    payer: usize,
    slot: u8,
    key: Keypair,
    /// The state the client is extending: its epoch, seq and entries.
    epoch: u64,
    seq: u32,
    entries: BTreeMap<Pubkey, u64>,
    /// The last settled state.
    settled: Option<Settled>,
    /// What the model says this stream has paid in all.
    paid: u64,
}

struct Model {
    balances: Vec<u64>,
    withdraw_requests: Vec<Option<(u64, i64)>>,
}

fn entries_of(map: &BTreeMap<Pubkey, u64>) -> Vec<(Pubkey, u64)> {
    sorted(
        map.iter()
            .map(|(wallet, amount)| (*wallet, *amount))
            .collect(),
    )
}

/// How often each kind of step succeeded or was refused, so the test shows it
/// exercised them.
#[derive(Debug, Default)]
struct Counts {
    opened: usize,
    topped_up: usize,
    refused: usize,
    withdrawn: usize,
}

async fn run(seed: u64, counts: &mut Counts) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut env = Env::new(TokenKind::Spl).await;
    let mut payers = Vec::new();
    for _ in 0..2 {
        payers.push(env.new_payer(1_000_000, 20_000).await);
    }
    let mut payees = Vec::new();
    for _ in 0..3 {
        payees.push(env.new_payee().await);
    }
    // The last payee closed its account: everything it is owed is credited.
    env.close_token_account(&payees[2].token_account, &payees[2].wallet)
        .await;
    let settle_payees: Vec<_> = payees
        .iter()
        .enumerate()
        .map(|(index, payee)| builders::SettlePayee {
            pass_wallet: index == 2,
            ..payee.settle_payee()
        })
        .collect();

    let mut streams = Vec::new();
    for (index, payer) in payers.iter().enumerate() {
        streams.push(Stream {
            payer: index,
            slot: 0,
            key: payer.owner.insecure_clone(),
            epoch: 0,
            seq: 0,
            entries: BTreeMap::new(),
            settled: None,
            paid: 0,
        });
        let session = Keypair::new();
        let expires = env.now().await + 10 * 86_400;
        let config = env.config;
        let add = builders::add_signer(
            &payer.owner.pubkey(),
            &config,
            1,
            &session.pubkey(),
            expires,
            u64::MAX,
        );
        env.send(&[add], &[&payer.owner]).await.unwrap();
        streams.push(Stream {
            payer: index,
            slot: 1,
            key: session,
            epoch: 0,
            seq: 0,
            entries: BTreeMap::new(),
            settled: None,
            paid: 0,
        });
    }
    let mut model = Model {
        balances: vec![20_000; payers.len()],
        withdraw_requests: vec![None; payers.len()],
    };
    let sequencer = env.sequencer.insecure_clone();

    for step in 0..STEPS {
        let now = env.now().await;
        match rng.gen_range(0..12) {
            0..=4 => {
                let stream = &mut streams[rng.gen_range(0..4)];
                let payee = payees[rng.gen_range(0..3)].wallet.pubkey();
                *stream.entries.entry(payee).or_insert(0) += rng.gen_range(1..=3_000);
                stream.seq += 1;
            }
            5..=7 => {
                // An open settlement of a stream's state, or a top-up of its last one.
                let index = rng.gen_range(0..4);
                let stream = &mut streams[index];
                if stream.entries.is_empty() {
                    continue;
                }
                let tab = payers[stream.payer].tab;
                let chain = env.tab(&tab).await;
                let slot = chain.slots[stream.slot as usize];
                let entries = entries_of(&stream.entries);
                let total: u64 = entries.iter().map(|(_, amount)| amount).sum();
                let message = stream_message(
                    &tab,
                    chain.incarnation.get(),
                    stream.slot,
                    stream.epoch,
                    stream.seq,
                    &entries,
                );
                let mut settle_item = item(&message, &stream.key, &entries);
                let (due, expected) = match &stream.settled {
                    Some((epoch, seq, previous, at)) if *epoch == stream.epoch => {
                        settle_item.previous = Some(previous.clone());
                        let before: u64 = previous.iter().map(|(_, amount)| amount).sum();
                        let expected = if now > at + TOP_UP_WINDOW {
                            Err(MicropayError::WindowClosed)
                        } else if stream.seq <= *seq {
                            Err(MicropayError::SeqNotHigher)
                        } else if total - before > model.balances[stream.payer] {
                            Err(MicropayError::InsufficientBalance)
                        } else {
                            Ok(())
                        };
                        (total - before, expected)
                    }
                    _ => {
                        let expected = if slot.in_top_up_window(now, TOP_UP_WINDOW) {
                            Err(MicropayError::WindowNotPassed)
                        } else if total > model.balances[stream.payer] {
                            Err(MicropayError::InsufficientBalance)
                        } else {
                            Ok(())
                        };
                        (total, expected)
                    }
                };
                let result = env.settle(&sequencer, &[settle_item], &settle_payees).await;
                match expected {
                    Ok(()) => {
                        result.unwrap_or_else(|error| panic!("seed {seed} step {step}: {error:?}"));
                        if settle_is_top_up(&stream.settled, stream.epoch) {
                            counts.topped_up += 1;
                        } else {
                            counts.opened += 1;
                        }
                        model.balances[stream.payer] -= due;
                        stream.paid += due;
                        let at = match &stream.settled {
                            Some((epoch, _, _, at)) if *epoch == stream.epoch => *at,
                            _ => now,
                        };
                        stream.settled = Some((stream.epoch, stream.seq, entries, at));
                        if rng.gen_bool(0.5) {
                            // The client moves on to the stream's next epoch; otherwise it
                            // keeps tipping in this one, for a top-up.
                            stream.epoch += 1;
                            stream.seq = 0;
                            stream.entries.clear();
                        }
                    }
                    Err(error) => {
                        assert_error(result, error);
                        counts.refused += 1;
                        if error == MicropayError::WindowClosed {
                            stream.epoch =
                                env.tab(&tab).await.slots[stream.slot as usize].epoch.get();
                            stream.seq = 0;
                            stream.entries.clear();
                        }
                    }
                }
            }
            8 => env.advance_time(rng.gen_range(1..=TOP_UP_WINDOW)).await,
            9 => {
                let payer = rng.gen_range(0..payers.len());
                let amount = rng.gen_range(1..=10_000);
                let ix = env.deposit_ix(
                    &payers[payer].owner.pubkey(),
                    &payers[payer].tab,
                    &payers[payer].token_account,
                    amount,
                );
                env.send(&[ix], &[&payers[payer].owner]).await.unwrap();
                model.balances[payer] += amount;
            }
            10 => {
                let payer = rng.gen_range(0..payers.len());
                let amount = rng.gen_range(1..=5_000);
                let config = env.config;
                let ix = builders::request_withdraw(&payers[payer].owner.pubkey(), &config, amount);
                env.send(&[ix], &[&payers[payer].owner]).await.unwrap();
                model.withdraw_requests[payer] = Some((amount, now));
            }
            _ => {
                let payer = rng.gen_range(0..payers.len());
                let Some((amount, at)) = model.withdraw_requests[payer] else {
                    continue;
                };
                env.advance_time(WITHDRAWAL_DELAY).await;
                let now = env.now().await;
                let chain = env.tab(&payers[payer].tab).await;
                let token_program = TokenKind::Spl.program_id();
                let destination = payers[payer].token_account;
                let ix = builders::withdraw(
                    &payers[payer].owner.pubkey(),
                    &env.payout(&destination, &token_program),
                );
                let result = env.send(&[ix], &[&payers[payer].owner]).await;
                if chain.any_top_up_window_open(now, TOP_UP_WINDOW) {
                    assert_error(result, MicropayError::TopUpWindowOpen);
                } else {
                    assert!(now >= at + WITHDRAWAL_DELAY);
                    result.unwrap();
                    counts.withdrawn += 1;
                    model.balances[payer] -= amount.min(model.balances[payer]);
                    model.withdraw_requests[payer] = None;
                }
            }
        }

        // The invariants, after every step.
        let tabs: Vec<Pubkey> = payers.iter().map(|payer| payer.tab).collect();
        env.assert_vault_invariant(&tabs, &[payees[2].wallet.pubkey()])
            .await;
        for (index, payer) in payers.iter().enumerate() {
            let chain = env.tab(&payer.tab).await;
            assert_eq!(
                chain.balance.get(),
                model.balances[index],
                "seed {seed} step {step}: balance"
            );
        }
        let mut paid = 0;
        for stream in &streams {
            let chain = env.tab(&payers[stream.payer].tab).await;
            assert_eq!(
                chain.slots[stream.slot as usize].spent.get(),
                stream.paid,
                "seed {seed} step {step}: stream paid exactly its settled states"
            );
            paid += stream.paid;
        }
        let mut received = env.config_state().await.fees_owed.get();
        for payee in &payees[..2] {
            received += env.token_balance(&payee.token_account).await;
        }
        received += env
            .credit(&payees[2].wallet.pubkey())
            .await
            .map_or(0, |credit| credit.amount.get());
        assert_eq!(
            received, paid,
            "seed {seed} step {step}: payees and fees received what was paid"
        );
    }
}

fn settle_is_top_up(settled: &Option<Settled>, epoch: u64) -> bool {
    matches!(settled, Some((settled_epoch, ..)) if *settled_epoch == epoch)
}

#[tokio::test]
async fn random_sequences_keep_the_vault_and_every_stream_exact() {
    let mut counts = Counts::default();
    for seed in SEEDS {
        run(seed, &mut counts).await;
    }
    println!("{counts:?}");
    assert!(
        counts.opened > 0 && counts.topped_up > 0 && counts.refused > 0 && counts.withdrawn > 0,
        "{counts:?}"
    );
}
