//! The HTTP JSON API, versioned under `/v1`.

use std::{collections::BTreeMap, str::FromStr, sync::Arc};

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use micropay_protocol::{client::SignedState, EpochState};
use serde::{Deserialize, Serialize};
use solana_sdk::{pubkey::Pubkey, signature::Signature};

use crate::{
    intake::Rejection,
    service::{reason, IntakeError, Relayer},
};

/// Largest accepted request body. A state with a few thousand payees fits easily.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(relayer: Arc<Relayer>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/tabs/{tab}/state", get(current_state))
        .route("/v1/tabs/{tab}/states", post(submit_state))
        .route("/v1/payees/{payee}/tips", get(payee_tips))
        .route("/v1/payees/{payee}/settlements", get(payee_settlements))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(relayer)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryJson {
    pub payee: String,
    pub amount: u64,
}

/// An epoch state on the wire. `signer` and `signature` are absent only for the empty
/// state of a new epoch.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StateJson {
    pub tab: String,
    pub incarnation: u64,
    pub epoch: u64,
    pub seq: u32,
    pub total: u64,
    pub entries: Vec<EntryJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl StateJson {
    pub fn from_state(state: &EpochState, signed: Option<&SignedState>) -> Self {
        Self {
            tab: state.tab.to_string(),
            incarnation: state.incarnation,
            epoch: state.epoch,
            seq: state.seq,
            total: state.total,
            entries: state
                .entries
                .iter()
                .map(|(payee, amount)| EntryJson {
                    payee: payee.to_string(),
                    amount: *amount,
                })
                .collect(),
            signer: signed.map(|s| s.signer.to_string()),
            signature: signed.map(|s| s.signature.to_string()),
        }
    }

    pub fn from_signed(signed: &SignedState) -> Self {
        Self::from_state(&signed.state, Some(signed))
    }

    /// The epoch state itself (entries checked: distinct payees, amounts above zero).
    pub fn to_state(&self) -> Result<EpochState, String> {
        let mut entries = BTreeMap::new();
        for entry in &self.entries {
            if entry.amount == 0 {
                return Err("entry amounts must be above zero".into());
            }
            if entries
                .insert(parse_key(&entry.payee)?, entry.amount)
                .is_some()
            {
                return Err(format!("payee {} listed twice", entry.payee));
            }
        }
        if u16::try_from(entries.len()).is_err() {
            return Err("too many entries".into());
        }
        Ok(EpochState {
            tab: parse_key(&self.tab)?,
            incarnation: self.incarnation,
            epoch: self.epoch,
            seq: self.seq,
            total: self.total,
            entries,
        })
    }

    pub fn to_signed(&self) -> Result<SignedState, String> {
        let signer = self.signer.as_deref().ok_or("signer is required")?;
        let signature = self.signature.as_deref().ok_or("signature is required")?;
        Ok(SignedState {
            state: self.to_state()?,
            signer: parse_key(signer)?,
            signature: Signature::from_str(signature).map_err(|e| format!("signature: {e}"))?,
        })
    }
}

fn parse_key(s: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(s).map_err(|e| format!("address {s}: {e}"))
}

/// Errors as JSON with a stable `code`.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize, Deserialize)]
pub struct ErrorJson {
    pub error: ErrorBody,
}

#[derive(Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn malformed(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "malformed",
            message: message.into(),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        let status = match &error {
            IntakeError::Rejected(Rejection::BadSignature(_)) => StatusCode::UNAUTHORIZED,
            IntakeError::Rejected(Rejection::InsufficientFunds { .. }) => {
                StatusCode::PAYMENT_REQUIRED
            }
            IntakeError::Rejected(Rejection::Stale(_)) => StatusCode::CONFLICT,
            IntakeError::Rejected(Rejection::Policy(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            IntakeError::UnknownTab => StatusCode::NOT_FOUND,
            IntakeError::Chain(_) => StatusCode::SERVICE_UNAVAILABLE,
            IntakeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let IntakeError::Store(store) = &error {
            tracing::error!(%store, "store failure");
        }
        Self {
            status,
            code: reason(&error),
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorJson {
            error: ErrorBody {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

async fn health(State(relayer): State<Arc<Relayer>>) -> impl IntoResponse {
    let chain = relayer.chain.slot().await.is_ok();
    Json(serde_json::json!({
        "status": "ok",
        "config": relayer.config.to_string(),
        "chain_reachable": chain,
    }))
}

async fn current_state(
    State(relayer): State<Arc<Relayer>>,
    Path(tab): Path<String>,
) -> Result<Json<StateJson>, ApiError> {
    let tab = parse_key(&tab).map_err(ApiError::malformed)?;
    let current = relayer.current(&tab).await?;
    Ok(Json(StateJson::from_state(
        &current.state,
        current.signed.as_ref(),
    )))
}

async fn submit_state(
    State(relayer): State<Arc<Relayer>>,
    Path(tab): Path<String>,
    body: Bytes,
) -> Result<Json<StateJson>, ApiError> {
    let tab = parse_key(&tab).map_err(ApiError::malformed)?;
    let submitted: StateJson = serde_json::from_slice(&body).map_err(|e| {
        relayer
            .metrics
            .tips_rejected
            .with_label_values(&["malformed"])
            .inc();
        ApiError::malformed(format!("body: {e}"))
    })?;
    let signed = submitted.to_signed().map_err(|e| {
        relayer
            .metrics
            .tips_rejected
            .with_label_values(&["malformed"])
            .inc();
        ApiError::malformed(e)
    })?;
    if signed.state.tab != tab {
        return Err(ApiError::malformed(
            "state is for another tab than the URL's",
        ));
    }
    let stored = relayer.submit(signed).await?;
    Ok(Json(StateJson::from_signed(&stored.signed)))
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<u32>,
}

impl Limit {
    /// The requested page size: 100 by default, at most 1,000.
    fn get(&self) -> u32 {
        self.limit.unwrap_or(100).min(1_000)
    }
}

async fn payee_tips(
    State(relayer): State<Arc<Relayer>>,
    Path(payee): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<impl IntoResponse, ApiError> {
    let payee = parse_key(&payee).map_err(ApiError::malformed)?;
    let tips = relayer
        .store
        .payee_tips(&payee, limit.get())
        .await
        .map_err(IntakeError::from)?;
    Ok(Json(serde_json::json!({ "tips": tips })))
}

async fn payee_settlements(
    State(relayer): State<Arc<Relayer>>,
    Path(payee): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<impl IntoResponse, ApiError> {
    let payee = parse_key(&payee).map_err(ApiError::malformed)?;
    let settlements = relayer
        .store
        .payee_settlements(&payee, limit.get())
        .await
        .map_err(IntakeError::from)?;
    Ok(Json(serde_json::json!({ "settlements": settlements })))
}

async fn metrics(State(relayer): State<Arc<Relayer>>) -> impl IntoResponse {
    if let Ok(counts) = relayer.store.counts().await {
        for status in ["open", "closed", "settled", "void"] {
            let n = counts.get(status).copied().unwrap_or(0);
            relayer
                .metrics
                .epochs
                .with_label_values(&[status])
                .set(n as i64);
        }
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        relayer.metrics.render(),
    )
}
