//! Many states in one request (`POST /v1/states`): for a client that holds many
//! streams, one round trip for up to [`micropay_api::MAX_BATCH_STATES`] states.

use micropay_api::{routes, SignedStreamJson, StateOutcome, SubmitStates, SubmittedStates};
use micropay_protocol::{Receipted, SignedStream};

use super::{RelayerClient, RelayerError, Submission};

impl RelayerClient {
    /// Submits up to [`micropay_api::MAX_BATCH_STATES`] signed states of any streams in one request
    /// (states of one stream in the order they extend each other); returns what became
    /// of each, every receipt checked.
    pub async fn submit_all(
        &self,
        signed: &[SignedStream],
    ) -> Result<Vec<Result<Receipted, RelayerError>>, RelayerError> {
        let answer = self.send(&self.batch_submission(signed)?).await?;
        self.check_receipts(signed, &answer)
    }

    /// `signed` encoded as one batch for [`send`](Self::send).
    pub fn batch_submission(&self, signed: &[SignedStream]) -> Result<Submission, RelayerError> {
        let batch = SubmitStates {
            states: signed.iter().map(SignedStreamJson::from).collect(),
        };
        Ok(Submission {
            url: self.url(routes::STATES)?,
            body: serde_json::to_vec(&batch)
                .expect("wire types serialize")
                .into(),
        })
    }

    /// The relayer's `answer` to the batch `signed`: each state receipted (its receipt
    /// checked as [`check_receipt`](Self::check_receipt) does) or refused.
    pub fn check_receipts(
        &self,
        signed: &[SignedStream],
        answer: &[u8],
    ) -> Result<Vec<Result<Receipted, RelayerError>>, RelayerError> {
        let json: SubmittedStates =
            serde_json::from_slice(answer).map_err(|e| RelayerError::BadResponse(e.to_string()))?;
        if json.results.len() != signed.len() {
            return Err(RelayerError::BadResponse(format!(
                "{} results for {} states",
                json.results.len(),
                signed.len()
            )));
        }
        Ok(signed
            .iter()
            .zip(json.results)
            .map(|(signed, outcome)| match outcome {
                StateOutcome::Receipted(receipt) => self.receipted(signed, &receipt),
                StateOutcome::Refused { error } => Err(RelayerError::Refused {
                    code: error.code,
                    message: error.message,
                }),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use micropay_api::{ErrorCode, StateReceipt};
    use micropay_protocol::StreamState;
    use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

    use super::*;

    /// Each state's outcome is its own: a receipt that verifies, a refusal with its
    /// code, or a receipt by another key refused in its place; an answer with another
    /// number of results is refused whole.
    #[test]
    fn each_outcome_is_checked_against_its_own_state() {
        let (payer, sequencer, impostor) = (Keypair::new(), Keypair::new(), Keypair::new());
        let client = RelayerClient::new("http://relayer.invalid", sequencer.pubkey());
        let first = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
            .tip(Pubkey::new_unique(), 7)
            .unwrap();
        let second = first.tip(Pubkey::new_unique(), 3).unwrap();
        let signed: Vec<SignedStream> = [first.clone(), second, first]
            .into_iter()
            .map(|state| SignedStream::sign(state, &payer).unwrap())
            .collect();
        let good = signed[0].clone().receipt(&sequencer).unwrap();
        let forged = signed[2].clone().receipt(&impostor).unwrap();
        let answer = SubmittedStates {
            results: vec![
                StateOutcome::Receipted(StateReceipt::new(&good.receipt, &sequencer.pubkey())),
                StateOutcome::refused(ErrorCode::StaleState, "behind"),
                StateOutcome::Receipted(StateReceipt::new(&forged.receipt, &impostor.pubkey())),
            ],
        };
        let bytes = serde_json::to_vec(&answer).unwrap();
        let results = client.check_receipts(&signed, &bytes).unwrap();
        assert_eq!(results[0].as_ref().unwrap(), &good);
        assert_eq!(
            results[1].as_ref().unwrap_err().code(),
            Some(ErrorCode::StaleState)
        );
        assert!(matches!(results[2], Err(RelayerError::BadResponse(_))));
        assert!(matches!(
            client.check_receipts(&signed[..2], &bytes),
            Err(RelayerError::BadResponse(_))
        ));
    }
}
