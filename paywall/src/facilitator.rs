//! The facilitator's HTTP client: `supported`, `verify` and `settle` under the
//! relayer's `/x402` routes.

use micropay_api::x402::{
    routes, FacilitatorRequest, SettleResponse, SupportedResponse, VerifyResponse,
};
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum FacilitatorError {
    #[error("facilitator unreachable: {0}")]
    Http(#[from] reqwest::Error),
    #[error("facilitator answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the facilitator cannot serve this paywall: {0}")]
    Unsupported(String),
}

#[derive(Clone)]
pub struct FacilitatorClient {
    http: reqwest::Client,
    /// The relayer's base URL (the facilitator routes are under `/x402`).
    base: String,
}

impl FacilitatorClient {
    pub fn new(relayer: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: relayer.trim_end_matches('/').to_string(),
        }
    }

    pub fn relayer(&self) -> &str {
        &self.base
    }

    async fn answer<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, FacilitatorError> {
        if !response.status().is_success() {
            return Err(FacilitatorError::Status {
                status: response.status().as_u16(),
                body: response.text().await.unwrap_or_default(),
            });
        }
        Ok(response.json().await?)
    }

    pub async fn supported(&self) -> Result<SupportedResponse, FacilitatorError> {
        let url = format!("{}{}", self.base, routes::SUPPORTED);
        Self::answer(self.http.get(url).send().await?).await
    }

    pub async fn verify(
        &self,
        request: &FacilitatorRequest,
    ) -> Result<VerifyResponse, FacilitatorError> {
        let url = format!("{}{}", self.base, routes::VERIFY);
        Self::answer(self.http.post(url).json(request).send().await?).await
    }

    pub async fn settle(
        &self,
        request: &FacilitatorRequest,
    ) -> Result<SettleResponse, FacilitatorError> {
        let url = format!("{}{}", self.base, routes::SETTLE);
        Self::answer(self.http.post(url).json(request).send().await?).await
    }
}
