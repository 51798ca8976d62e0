//! The relayer's HTTP API for payers and payees: read a stream, tip (extend the
//! stream's state by one tip, sign it, submit it, check the receipt), fetch the
//! receipts naming a wallet, and read what the relayer reports (its status, its
//! settlements, a payee's totals).

use std::{collections::HashSet, future::Future, hash::Hash, sync::Arc};

use bytes::Bytes;
use micropay_api::{
    routes, ErrorCode, ErrorResponse, Health, PayeeReceipt, PayeeReceipts, PayeeSummary,
    RelayerStatus, SettlementView, Settlements, SignedStreamJson, StateReceipt, StreamView,
    MAX_PAGE,
};
use micropay_protocol::{Receipted, SignedStream, StreamState};
use reqwest::header::CONTENT_TYPE;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

use crate::sequencer_key::SequencerKey;

mod batch;

#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    #[error("relayer unreachable: {0}")]
    Http(#[from] reqwest::Error),
    #[error("relayer refused ({}, {}): {message}", code.http_status(), code.as_str())]
    Refused { code: ErrorCode, message: String },
    #[error("relayer answered with something unusable: {0}")]
    BadResponse(String),
    #[error("slot {slot} of the tab holds key {actual}, not this signer's {expected}")]
    WrongKey {
        slot: u8,
        expected: Pubkey,
        actual: String,
    },
    #[error("still conflicting after {0} attempts")]
    TooManyConflicts(usize),
    #[error("not a relayer URL: {0}")]
    BadUrl(String),
}

impl RelayerError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            RelayerError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A signed state encoded for the relayer.
#[derive(Clone, Debug)]
pub struct Submission {
    /// Parsed once: a load generator sends many prepared submissions.
    url: reqwest::Url,
    body: Bytes,
}

/// Attempts at a tip when another state of the stream keeps winning the race.
const TIP_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct RelayerClient {
    http: reqwest::Client,
    base: String,
    /// Receipts must verify under this key (the config's sequencer); clones share it.
    sequencer: Arc<SequencerKey>,
}

impl RelayerClient {
    pub fn new(base: impl Into<String>, sequencer: Pubkey) -> Self {
        Self {
            http: micropay_api::http_client(),
            base: base.into().trim_end_matches('/').to_string(),
            sequencer: Arc::new(SequencerKey::new(sequencer)),
        }
    }

    pub fn sequencer(&self) -> Pubkey {
        self.sequencer.pubkey()
    }

    /// Whether the sequencer this client trusts receipted this very state.
    pub fn receipt_verifies(&self, receipted: &Receipted) -> bool {
        self.sequencer.receipted(receipted)
    }

    async fn answer<T: serde::de::DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, RelayerError> {
        if response.status().is_success() {
            return Ok(response.json().await?);
        }
        Err(Self::refusal(response).await)
    }

    /// The error a relayer's non-success answer carries.
    async fn refusal(response: reqwest::Response) -> RelayerError {
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return error.into(),
        };
        match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(error) => RelayerError::Refused {
                code: error.error.code,
                message: error.error.message,
            },
            Err(_) => {
                RelayerError::BadResponse(format!("{status}: {}", String::from_utf8_lossy(&body)))
            }
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, RelayerError> {
        Self::answer(self.http.get(format!("{}{path}", self.base)).send().await?).await
    }

    pub async fn health(&self) -> Result<Health, RelayerError> {
        self.get(routes::HEALTH).await
    }

    /// Stream epochs by status, what is still to be paid on chain, and since when.
    pub async fn status(&self) -> Result<RelayerStatus, RelayerError> {
        self.get(routes::STATUS).await
    }

    /// Settlement transactions recorded at or after `since_ms`, oldest first.
    pub async fn settlements(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<SettlementView>, RelayerError> {
        let page: Settlements = self.get(&routes::settlements(since_ms, limit)).await?;
        Ok(page.settlements)
    }

    /// Every settlement transaction recorded, oldest first.
    pub async fn every_settlement(&self) -> Result<Vec<SettlementView>, RelayerError> {
        every_page(
            |since| self.settlements(since, MAX_PAGE),
            |s| s.recorded_at_ms,
            |s| s.signature.clone(),
        )
        .await
    }

    /// The tips naming `wallet`, by the status of their stream epoch.
    pub async fn payee(&self, wallet: &Pubkey) -> Result<PayeeSummary, RelayerError> {
        self.get(&routes::payee(wallet)).await
    }

    pub async fn stream(&self, tab: &Pubkey, slot: u8) -> Result<StreamView, RelayerError> {
        self.get(&routes::stream(tab, slot)).await
    }

    /// Submits a signed state; returns it receipted, the receipt checked.
    pub async fn submit(&self, signed: &SignedStream) -> Result<Receipted, RelayerError> {
        let answer = self.send(&self.submission(signed)?).await?;
        self.check_receipt(signed, &answer)
    }

    /// `signed` encoded for [`send`](Self::send): a load generator encodes its states
    /// ahead of time.
    pub fn submission(&self, signed: &SignedStream) -> Result<Submission, RelayerError> {
        let state = &signed.state;
        Ok(Submission {
            url: self.url(&routes::stream_states(&state.tab, state.slot))?,
            body: serde_json::to_vec(&SignedStreamJson::from(signed))
                .expect("wire types serialize")
                .into(),
        })
    }

    /// The relayer's URL for `route`, parsed once for a submission.
    fn url(&self, route: &str) -> Result<reqwest::Url, RelayerError> {
        let url = format!("{}{route}", self.base);
        url.parse()
            .map_err(|e| RelayerError::BadUrl(format!("{url}: {e}")))
    }

    /// Sends a submission and returns the relayer's answer unchecked:
    /// [`check_receipt`](Self::check_receipt) checks it.
    pub async fn send(&self, submission: &Submission) -> Result<Bytes, RelayerError> {
        let response = self
            .http
            .post(submission.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(submission.body.clone())
            .send()
            .await?;
        if response.status().is_success() {
            return Ok(response.bytes().await?);
        }
        Err(Self::refusal(response).await)
    }

    /// The relayer's `answer` to `signed`, receipted: fails unless the answer is that
    /// state with the sequencer's receipt over it.
    pub fn check_receipt(
        &self,
        signed: &SignedStream,
        answer: &[u8],
    ) -> Result<Receipted, RelayerError> {
        let json: StateReceipt =
            serde_json::from_slice(answer).map_err(|e| RelayerError::BadResponse(e.to_string()))?;
        self.receipted(signed, &json)
    }

    fn receipted(
        &self,
        signed: &SignedStream,
        json: &StateReceipt,
    ) -> Result<Receipted, RelayerError> {
        let (receipted, _) = json
            .receipting(signed.clone())
            .map_err(|e| RelayerError::BadResponse(e.to_string()))?;
        if !self.receipt_verifies(&receipted) {
            return Err(RelayerError::BadResponse(
                "the receipt is not the sequencer's for the submitted state".into(),
            ));
        }
        Ok(receipted)
    }

    /// Tips `amount` to `payee` on the stream `key` signs for: extends the relayer's
    /// current state by one tip, signs and submits it, and starts again from a fresh
    /// state if another tip of the stream was receipted first.
    pub async fn tip<S: Signer + Sync>(
        &self,
        key: &S,
        tab: &Pubkey,
        slot: u8,
        payee: &Pubkey,
        amount: u64,
    ) -> Result<Receipted, RelayerError> {
        self.tip_after(key, tab, slot, None, payee, amount).await
    }

    /// [`tip`](Self::tip), extending `previous` (the last state this key had
    /// receipted) without asking the relayer first; a client that is the stream's only
    /// writer saves a round trip per tip. Falls back to the relayer's state when
    /// `previous` is no longer the stream's latest.
    pub async fn tip_after<S: Signer + Sync>(
        &self,
        key: &S,
        tab: &Pubkey,
        slot: u8,
        mut previous: Option<StreamState>,
        payee: &Pubkey,
        amount: u64,
    ) -> Result<Receipted, RelayerError> {
        for _ in 0..TIP_ATTEMPTS {
            let (base, fetched) = match previous.take() {
                Some(state) => (state, false),
                None => (self.next_state(key, tab, slot).await?, true),
            };
            let next = match base.tip_or_next_epoch(*payee, amount) {
                Ok(next) => next,
                // The state this client kept may be unusable: ask the relayer.
                Err(_) if !fetched => continue,
                Err(e) => {
                    return Err(RelayerError::BadResponse(format!(
                        "cannot extend the state: {e}"
                    )))
                }
            };
            let signed = SignedStream::sign(next, key)
                .map_err(|e| RelayerError::BadResponse(format!("signing: {e}")))?;
            match self.submit(&signed).await {
                Err(error) if error.code() == Some(ErrorCode::StaleState) => continue,
                other => return other,
            }
        }
        Err(RelayerError::TooManyConflicts(TIP_ATTEMPTS))
    }

    /// The state the stream's next tip extends, checking that `key` signs for it.
    pub async fn next_state<S: Signer>(
        &self,
        key: &S,
        tab: &Pubkey,
        slot: u8,
    ) -> Result<StreamState, RelayerError> {
        let view = self.stream(tab, slot).await?;
        if view.key != key.pubkey().to_string() {
            return Err(RelayerError::WrongKey {
                slot,
                expected: key.pubkey(),
                actual: view.key,
            });
        }
        view.next
            .to_state()
            .map_err(|e| RelayerError::BadResponse(e.to_string()))
    }

    /// The newest receipt of each stream epoch naming `wallet`, receipted or changed
    /// at or after `since_ms`, oldest first.
    pub async fn payee_receipts(
        &self,
        wallet: &Pubkey,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<PayeeReceipt>, RelayerError> {
        let page: PayeeReceipts = self
            .get(&routes::payee_receipts(wallet, since_ms, limit))
            .await?;
        Ok(page.receipts)
    }

    /// The newest receipt of every stream epoch naming `wallet`, oldest first.
    pub async fn every_payee_receipt(
        &self,
        wallet: &Pubkey,
    ) -> Result<Vec<PayeeReceipt>, RelayerError> {
        every_page(
            |since| self.payee_receipts(wallet, since, MAX_PAGE),
            |r| r.receipted_at_ms,
            |r| r.receipt.receipt.clone(),
        )
        .await
    }
}

/// Every item of a route paged by time (oldest first, from `since_ms`): asks again
/// from the last item's time while pages come back full. An item at a page's boundary
/// comes back twice, and one that changed between pages comes back later: each is kept
/// once, where it was seen last.
async fn every_page<T, K, P, F>(
    mut page: P,
    at: impl Fn(&T) -> i64,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, RelayerError>
where
    K: Eq + Hash,
    P: FnMut(i64) -> F,
    F: Future<Output = Result<Vec<T>, RelayerError>>,
{
    let (mut all, mut since) = (Vec::new(), 0);
    loop {
        let items = page(since).await?;
        let full = items.len() == MAX_PAGE as usize;
        let last = items.last().map(&at);
        all.extend(items);
        match last {
            Some(last) if full && last > since => since = last,
            _ => break,
        }
    }
    let mut seen = HashSet::new();
    let mut newest_first: Vec<T> = all
        .into_iter()
        .rev()
        .filter(|item| seen.insert(key(item)))
        .collect();
    newest_first.reverse();
    Ok(newest_first)
}

#[cfg(test)]
mod tests;
