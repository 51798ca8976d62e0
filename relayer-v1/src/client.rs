//! An HTTP client of the relayer's API for payers: fetch the current state, extend it
//! by one tip, sign, submit, and retry from a fresh state on 409.

use micropay_protocol::client::SignedState;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

use crate::{
    api::{ErrorJson, StateJson},
    store::{PayeeSettlement, TipRecord},
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("relayer unreachable: {0}")]
    Http(#[from] reqwest::Error),
    #[error("relayer refused ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("relayer returned an unusable state: {0}")]
    BadState(String),
    #[error("the relayer's latest state is not signed by a key of this payer")]
    ForeignSignature,
    #[error("still conflicting after {0} attempts")]
    TooManyConflicts(usize),
}

impl ClientError {
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct RelayerClient {
    http: reqwest::Client,
    base: String,
}

impl RelayerClient {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.into().trim_end_matches('/').to_string(),
        }
    }

    pub async fn state(&self, tab: &Pubkey) -> Result<StateJson, ClientError> {
        self.get(&format!("/v1/tabs/{tab}/state")).await
    }

    /// Tips to `payee` (a token account), newest first.
    pub async fn payee_tips(
        &self,
        payee: &Pubkey,
        limit: u32,
    ) -> Result<Vec<TipRecord>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Tips {
            tips: Vec<TipRecord>,
        }
        let path = format!("/v1/payees/{payee}/tips?limit={limit}");
        Ok(self.get::<Tips>(&path).await?.tips)
    }

    /// Settled epochs that paid `payee`, newest first.
    pub async fn payee_settlements(
        &self,
        payee: &Pubkey,
        limit: u32,
    ) -> Result<Vec<PayeeSettlement>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Settlements {
            settlements: Vec<PayeeSettlement>,
        }
        let path = format!("/v1/payees/{payee}/settlements?limit={limit}");
        Ok(self.get::<Settlements>(&path).await?.settlements)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        decode(response).await
    }

    pub async fn submit(&self, signed: &SignedState) -> Result<StateJson, ClientError> {
        self.submit_raw(&signed.state.tab, &StateJson::from_signed(signed))
            .await
    }

    /// Posts any JSON body as a state (tests send malformed ones on purpose).
    pub async fn submit_raw<T: serde::Serialize>(
        &self,
        tab: &Pubkey,
        body: &T,
    ) -> Result<StateJson, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/tabs/{tab}/states", self.base))
            .json(body)
            .send()
            .await?;
        decode(response).await
    }

    /// Tips `amount` to `payee` from `tab`: extends `known` (the last state this payer
    /// had accepted, if it still has it) or the relayer's current state, after checking
    /// the latter is signed by one of `own_keys`. Returns the accepted state, to pass as
    /// `known` next time.
    pub async fn tip(
        &self,
        tab: &Pubkey,
        signer: &(dyn Signer + Sync),
        own_keys: &[Pubkey],
        known: Option<SignedState>,
        payee: Pubkey,
        amount: u64,
    ) -> Result<SignedState, ClientError> {
        const ATTEMPTS: usize = 16;
        let mut base = known.map(|k| k.state);
        for _ in 0..ATTEMPTS {
            let current = match base.take() {
                Some(state) => state,
                None => {
                    let fetched = self.state(tab).await?;
                    if fetched.signer.is_some() {
                        let signed = fetched.to_signed().map_err(ClientError::BadState)?;
                        if !signed.verify() || !own_keys.contains(&signed.signer) {
                            return Err(ClientError::ForeignSignature);
                        }
                    }
                    fetched.to_state().map_err(ClientError::BadState)?
                }
            };
            let next = current
                .tip(payee, amount)
                .map_err(|e| ClientError::BadState(e.to_string()))?;
            let signed = SignedState::sign(next, signer)
                .map_err(|e| ClientError::BadState(e.to_string()))?;
            match self.submit(&signed).await {
                Ok(_) => return Ok(signed),
                Err(ClientError::Refused { status: 409, .. }) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(ClientError::TooManyConflicts(ATTEMPTS))
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(ClientError::Http);
    }
    let body = response.text().await?;
    let (code, message) = match serde_json::from_str::<ErrorJson>(&body) {
        Ok(error) => (error.error.code, error.error.message),
        Err(_) => ("unknown".to_string(), body),
    };
    Err(ClientError::Refused {
        status: status.as_u16(),
        code,
        message,
    })
}
