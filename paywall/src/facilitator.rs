//! The facilitator's HTTP client: `supported`, `verify` and `settle` under the
//! relayer's `/x402` routes.

use axum::body::Bytes;
use micropay_api::x402::{
    routes, FacilitatorRequest, SettleResponse, SupportedResponse, VerifyResponse,
};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
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

/// A facilitator request as JSON, encoded once: a paid call sends the same body to
/// `verify` and then to `settle`.
#[derive(Clone, Debug)]
pub struct EncodedRequest(Bytes);

impl EncodedRequest {
    pub fn new(request: &FacilitatorRequest) -> Result<Self, serde_json::Error> {
        serde_json::to_vec(request).map(|body| Self(body.into()))
    }
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
            http: micropay_api::http_client(),
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
        request: &EncodedRequest,
    ) -> Result<VerifyResponse, FacilitatorError> {
        self.post(routes::VERIFY, request).await
    }

    pub async fn settle(
        &self,
        request: &EncodedRequest,
    ) -> Result<SettleResponse, FacilitatorError> {
        self.post(routes::SETTLE, request).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        route: &str,
        request: &EncodedRequest,
    ) -> Result<T, FacilitatorError> {
        let sent = self
            .http
            .post(format!("{}{route}", self.base))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(request.0.clone())
            .send()
            .await?;
        Self::answer(sent).await
    }
}
