//! The HTTP JSON API, `/v1` (shapes and codes in `micropay-api`), and `/metrics`.

use std::{convert::Infallible, str::FromStr, sync::Arc, time::Duration};

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::{Path, Query, State},
    http::{header, HeaderValue, Method, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::{get, post},
    Json, Router,
};
use micropay_api::{
    routes, x402, ErrorCode, ErrorResponse, Health, PayeeReceipt, PayeeReceipts, ReceiptJson,
    SignedStreamJson, StreamStateJson, StreamView, MAX_BODY_BYTES, MAX_PAGE,
};
use serde::Deserialize;
use solana_sdk::pubkey::Pubkey;
use tokio_stream::{wrappers::BroadcastStream, Stream, StreamExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    domain::{StoredEpoch, StreamKey},
    intake::{IntakeError, Sequencer},
    metrics::Metrics,
    receipts::names,
    store::ReportStore,
};

#[derive(Clone)]
pub struct AppState {
    pub sequencer: Arc<Sequencer>,
    pub reports: Arc<dyn ReportStore>,
    pub metrics: Arc<Metrics>,
    /// The cluster's CAIP-2 id, as x402 messages name it.
    pub network: Arc<str>,
    /// Turns true at shutdown: long-lived responses (event streams) end then, so that
    /// a graceful shutdown does not wait on them forever.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The API's routes; with `cors_origins`, browsers on those origins (or any, with `*`)
/// may call it.
pub fn router(state: AppState, cors_origins: &[String]) -> anyhow::Result<Router> {
    let router = Router::new()
        .route(routes::OPENAPI, get(openapi))
        .route(routes::HEALTH, get(health))
        .route(routes::STREAM, get(stream))
        .route(routes::STREAM_STATES, post(submit))
        .route(routes::PAYEE_RECEIPTS, get(payee_receipts))
        .route(routes::PAYEE_RECEIPT_EVENTS, get(payee_receipt_events))
        .route(routes::METRICS, get(metrics))
        .route(x402::routes::SUPPORTED, get(crate::x402::supported))
        .route(x402::routes::VERIFY, post(crate::x402::verify))
        .route(x402::routes::SETTLE, post(crate::x402::settle))
        .with_state(state);
    Ok(match cors(cors_origins)? {
        Some(cors) => router.layer(cors),
        None => router,
    })
}

fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    let allow = match origins {
        [] => return Ok(None),
        [any] if any == "*" => AllowOrigin::any(),
        origins => AllowOrigin::list(
            origins
                .iter()
                .map(|origin| {
                    HeaderValue::from_str(origin.trim_end_matches('/'))
                        .map_err(|_| anyhow::anyhow!("not an origin: {origin}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(Duration::from_secs(3_600)),
    ))
}

/// An error answer: the code's status and a JSON body.
pub struct ApiError(ErrorResponse);

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorResponse::new(code, message))
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Malformed, message)
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        if matches!(error, IntakeError::Store(_) | IntakeError::Signing(_)) {
            tracing::error!(%error, "intake failure");
        }
        Self::new(error.code(), error.to_string())
    }
}

/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a body of at most [`MAX_BODY_BYTES`] within [`BODY_TIMEOUT`], so that slow
/// or oversized uploads get a JSON error and never hold a connection open.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => Err(ApiError::new(
            ErrorCode::Timeout,
            format!(
                "the body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ),
        )),
        Ok(Err(error)) => {
            let error = error.into_inner();
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
                ))
            } else {
                Err(ApiError::malformed(format!("body: {error}")))
            }
        }
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}

fn address(what: &str, text: &str) -> Result<Pubkey, ApiError> {
    Pubkey::from_str(text).map_err(|_| ApiError::malformed(format!("{what}: not an address")))
}

/// A stream from the path's `{tab}/{slot}`, parsed here so that a bad path gets the
/// same JSON error as a bad body.
fn stream_key(tab: &str, slot: &str) -> Result<StreamKey, ApiError> {
    let slot = slot
        .parse()
        .map_err(|_| ApiError::malformed("slot: not a number from 0 to 255"))?;
    Ok(StreamKey {
        tab: address("tab", tab)?,
        slot,
    })
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Whether the relayer is up, the deployment it sequences, and whether it reaches the chain.
#[utoipa::path(get, path = "/v1/health", tag = "meta", responses((status = 200, body = Health)))]
pub(crate) async fn health(State(app): State<AppState>) -> Json<Health> {
    let chain_reachable = app.sequencer.chain().slot().await.is_ok();
    Json(Health {
        status: "ok".into(),
        config: app.sequencer.config_address().to_string(),
        sequencer: app.sequencer.sequencer().to_string(),
        chain_reachable,
    })
}

fn receipt_json(app: &AppState, epoch: &StoredEpoch) -> ReceiptJson {
    ReceiptJson::new(&epoch.receipted, &app.sequencer.sequencer())
}

/// The state the next tip of a stream must extend, and its last receipt.
#[utoipa::path(get, path = "/v1/streams/{tab}/{slot}", tag = "payer",
    params(("tab" = String, Path, description = "The tab's address"),
           ("slot" = u8, Path, description = "0 for the owner's stream, 1.. for session keys")),
    responses((status = 200, body = StreamView),
        (status = "4XX", description = "Refused: the body names the code", body = ErrorResponse),
        (status = "5XX", description = "`internal` or `chain_unavailable`", body = ErrorResponse)))]
pub(crate) async fn stream(
    State(app): State<AppState>,
    Path((tab, slot)): Path<(String, String)>,
) -> Result<Json<StreamView>, ApiError> {
    let snapshot = app.sequencer.stream(stream_key(&tab, &slot)?).await?;
    Ok(Json(StreamView {
        next: StreamStateJson::from(&snapshot.next),
        key: snapshot.key.to_string(),
        latest: snapshot.latest.as_ref().map(|e| receipt_json(&app, e)),
    }))
}

/// Submits the next state of a stream, signed by the stream's key; answers with the
/// sequencer's receipt once the state is durable.
#[utoipa::path(post, path = "/v1/streams/{tab}/{slot}/states", tag = "payer",
    params(("tab" = String, Path, description = "The tab's address"),
           ("slot" = u8, Path, description = "The stream's slot")),
    request_body = SignedStreamJson,
    responses(
        (status = 200, description = "Receipted", body = ReceiptJson),
        (status = 400, description = "`malformed`", body = ErrorResponse),
        (status = 401, description = "`bad_signature`", body = ErrorResponse),
        (status = 402, description = "`insufficient_funds`", body = ErrorResponse),
        (status = 408, description = "`timeout`: the body did not arrive in time", body = ErrorResponse),
        (status = 409, description = "`stale_state`: not the stream's next state", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 422, description = "`policy`: refused by rule", body = ErrorResponse),
        (status = "5XX", description = "`internal` or `chain_unavailable`", body = ErrorResponse)))]
pub(crate) async fn submit(
    State(app): State<AppState>,
    Path((tab, slot)): Path<(String, String)>,
    body: Body,
) -> Result<Json<ReceiptJson>, ApiError> {
    let refused = |error: ApiError| {
        app.metrics
            .tips_rejected
            .with_label_values(&[error.0.error.code.as_str()])
            .inc();
        error
    };
    let body = read_body(body).await.map_err(refused)?;
    let stream = stream_key(&tab, &slot).map_err(refused)?;
    let json: SignedStreamJson = serde_json::from_slice(&body)
        .map_err(|e| refused(ApiError::malformed(format!("body: {e}"))))?;
    let signed = json
        .to_signed()
        .map_err(|e| refused(ApiError::malformed(e.to_string())))?;
    if signed.state.tab != stream.tab || signed.state.slot != stream.slot {
        return Err(refused(ApiError::malformed(
            "the state is for another stream than the URL's",
        )));
    }
    let receipted = app.sequencer.submit(signed).await?;
    Ok(Json(ReceiptJson::new(
        &receipted,
        &app.sequencer.sequencer(),
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Only receipts issued at or after this time (unix milliseconds).
    since_ms: Option<i64>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u32>,
}

/// The newest receipt of every stream epoch that names a wallet, oldest first.
#[utoipa::path(get, path = "/v1/payees/{wallet}/receipts", tag = "payee",
    params(("wallet" = String, Path, description = "The payee's wallet"), Page),
    responses((status = 200, body = PayeeReceipts),
        (status = "4XX", description = "Refused: the body names the code", body = ErrorResponse),
        (status = "5XX", description = "`internal` or `chain_unavailable`", body = ErrorResponse)))]
pub(crate) async fn payee_receipts(
    State(app): State<AppState>,
    Path(wallet): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<PayeeReceipts>, ApiError> {
    let wallet = address("wallet", &wallet)?;
    let limit = page.limit.unwrap_or(100).min(MAX_PAGE);
    let epochs = app
        .reports
        .payee_receipts(&wallet, page.since_ms.unwrap_or(0), limit)
        .await
        .map_err(IntakeError::from)?;
    Ok(Json(PayeeReceipts {
        receipts: epochs
            .iter()
            .map(|epoch| PayeeReceipt {
                receipt: receipt_json(&app, epoch),
                status: epoch.status,
                receipted_at_ms: epoch.updated_at_ms,
                settle_tx: epoch.settle_tx.map(|s| s.to_string()),
            })
            .collect(),
    }))
}

/// Server-sent events: `receipt` for each new receipt naming the wallet, `lagged` when
/// some were dropped (fetch them with the receipts route).
#[utoipa::path(get, path = "/v1/payees/{wallet}/receipts/events", tag = "payee",
    params(("wallet" = String, Path, description = "The payee's wallet")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`event: receipt` with a `ReceiptJson` as data; `event: lagged` when some were dropped"),

        (status = "4XX", description = "Refused: the body names the code", body = ErrorResponse),
        (status = "5XX", description = "`internal` or `chain_unavailable`", body = ErrorResponse)))]
pub(crate) async fn payee_receipt_events(
    State(app): State<AppState>,
    Path(wallet): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let wallet = address("wallet", &wallet)?;
    let sequencer = app.sequencer.sequencer();
    let events = BroadcastStream::new(app.sequencer.receipts().subscribe()).filter_map(
        move |item| match item {
            Ok(receipted) if names(&receipted, &wallet) => {
                let json = ReceiptJson::new(&receipted, &sequencer);
                Some(Ok(Event::default()
                    .event("receipt")
                    .json_data(json)
                    .ok()?))
            }
            Ok(_) => None,
            Err(_lagged) => Some(Ok(Event::default().event("lagged").data("refetch"))),
        },
    );
    let mut shutdown = app.shutdown.clone();
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let events = futures_util::StreamExt::take_until(events, stopping);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format")))]
pub(crate) async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    if let Ok(counts) = app.reports.counts().await {
        app.metrics.epochs.reset();
        for (status, n) in counts {
            app.metrics
                .epochs
                .with_label_values(&[status.as_str()])
                .set(n as i64);
        }
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
