//! Random bytes and mutated settlements thrown at `settle`: the program must refuse
//! each with an error (never panic, never exhaust its budget) and move nothing.

use micropay_devnet::bytecode::*;
use micropay_interface::{client as builders, instruction as ix};
use rand::{rngs::StdRng, Rng, SeedableRng};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    signer::Signer,
    transaction::TransactionError,
};

const CASES: usize = 400;

#[tokio::test]
async fn settle_refuses_random_and_mutated_input_without_moving_anything() {
    let mut env = Env::new(TokenKind::Spl).await;
    let payer = env.new_payer(1_000_000, 1_000_000).await;
    let alice = env.new_payee().await;
    let bob = env.new_payee().await;
    let entries = sorted(vec![
        (alice.wallet.pubkey(), 1_000),
        (bob.wallet.pubkey(), 2_000),
    ]);
    let message = env.open_state(&payer.tab, 0, 1, &entries).await;
    let valid = builders::settle(
        &builders::SettleAccounts {
            settler: &env.sequencer.pubkey(),
            config: &env.config,
            mint: &env.mint,
            token_program: &TokenKind::Spl.program_id(),
        },
        &[item(&message, &payer.owner, &entries)],
        &[alice.settle_payee(), bob.settle_payee()],
    )
    .unwrap();
    let vault = env.vault_balance().await;
    let sequencer = env.sequencer.insecure_clone();
    let mut rng = StdRng::seed_from_u64(0x6d70_6179);
    for case in 0..CASES {
        let mut instruction: Instruction = valid.clone();
        if case % 4 == 0 {
            // Random bytes after the settle discriminator.
            let len = rng.gen_range(0..600);
            let mut data = ix::SETTLE.to_vec();
            data.extend((0..len).map(|_| rng.gen::<u8>()));
            instruction.data = data;
        } else {
            // A valid settlement with one to three bytes changed.
            for _ in 0..rng.gen_range(1..=3) {
                let at = rng.gen_range(8..instruction.data.len());
                instruction.data[at] ^= rng.gen_range(1..=255u8);
            }
        }
        let result = env.send(&[instruction], &[&sequencer]).await;
        match result {
            Err(BanksClientError::TransactionError(TransactionError::InstructionError(
                _,
                error,
            ))) => assert!(
                matches!(
                    error,
                    InstructionError::Custom(_) | InstructionError::InvalidInstructionData
                ),
                "case {case}: {error:?} is not a clean refusal"
            ),
            other => panic!(
                "case {case}: expected a refusal, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    assert_eq!(env.vault_balance().await, vault, "nothing moved");
    assert_eq!(env.tab(&payer.tab).await.balance.get(), 1_000_000);
    // The untouched instruction still settles: the refusals were about the input.
    env.send(&[valid], &[&sequencer])
        .await
        .expect("valid settle");
}
