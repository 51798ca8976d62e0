use micropay_api::StateReceipt;
use micropay_protocol::{SignedStream, StreamState};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

use super::{RelayerClient, RelayerError};

fn answer(receipt: &[u8; 64], sequencer: &Pubkey) -> Vec<u8> {
    serde_json::to_vec(&StateReceipt::new(receipt, sequencer)).unwrap()
}

/// A submitted state counts as receipted only with the trusted sequencer's receipt
/// over that very state, whatever sequencer the answer names.
#[test]
fn a_receipt_is_checked_against_the_state_sent_and_the_trusted_sequencer() {
    let (payer, sequencer, impostor) = (Keypair::new(), Keypair::new(), Keypair::new());
    let client = RelayerClient::new("http://relayer.invalid", sequencer.pubkey());
    let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
        .tip(Pubkey::new_unique(), 7)
        .unwrap();
    let signed = SignedStream::sign(state.clone(), &payer).unwrap();
    let receipted = signed.clone().receipt(&sequencer).unwrap();

    let good = answer(&receipted.receipt, &sequencer.pubkey());
    assert_eq!(client.check_receipt(&signed, &good).unwrap(), receipted);

    let bad = |answer: Vec<u8>, signed: &SignedStream| {
        matches!(
            client.check_receipt(signed, &answer),
            Err(RelayerError::BadResponse(_))
        )
    };
    let by_impostor = signed.clone().receipt(&impostor).unwrap().receipt;
    assert!(bad(answer(&by_impostor, &impostor.pubkey()), &signed));
    let other = SignedStream::sign(state.tip(Pubkey::new_unique(), 1).unwrap(), &payer).unwrap();
    assert!(bad(good.clone(), &other), "a receipt over another state");
    assert!(bad(b"{\"receipt\":\"x\"}".to_vec(), &signed));
}

/// A submission names its URL parsed once; a base that is no URL fails there,
/// before anything is sent.
#[test]
fn a_submission_to_a_base_that_is_no_url_is_refused() {
    let payer = Keypair::new();
    let state = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
        .tip(Pubkey::new_unique(), 7)
        .unwrap();
    let signed = SignedStream::sign(state, &payer).unwrap();
    let good = RelayerClient::new("http://127.0.0.1:7800/", Pubkey::new_unique());
    assert!(good.submission(&signed).is_ok());
    assert!(good.batch_submission(std::slice::from_ref(&signed)).is_ok());
    let bad = RelayerClient::new("relayer without a scheme", Pubkey::new_unique());
    assert!(matches!(
        bad.submission(&signed),
        Err(RelayerError::BadUrl(_))
    ));
    assert!(matches!(
        bad.batch_submission(&[signed]),
        Err(RelayerError::BadUrl(_))
    ));
}
