//! The HTTP JSON API, `/v1` (shapes and codes in `micropay-api`), and `/metrics`.
//! Every error answer is an `ErrorResponse` with a stable code, counted by code.

use std::{
    str::FromStr,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::{MatchedPath, Path, Request, State},
    http::{header, HeaderValue, Method, StatusCode, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use micropay_api::{
    routes, x402, ErrorBody, ErrorCode, ErrorResponse, Health, ReceiptJson, SignedStreamJson,
    StateReceipt, StreamStateJson, StreamView, MAX_BODY_BYTES,
};
use solana_sdk::pubkey::Pubkey;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    app::StartError,
    domain::{now_ms, StoredEpoch, StreamKey},
    intake::{IntakeError, Sequencer},
    metrics::Metrics,
    reports,
    store::{ReportStore, StoreError},
};

#[derive(Clone)]
pub struct AppState {
    pub(crate) sequencer: Arc<Sequencer>,
    pub(crate) reports: Arc<dyn ReportStore>,
    pub(crate) metrics: Arc<Metrics>,
    /// The deployment as x402 messages name it.
    pub(crate) x402: Arc<crate::x402::Deployment>,
    /// Turns true at shutdown: long-lived responses (event streams) end then, so that
    /// a graceful shutdown does not wait on them forever.
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The API's routes; with `cors_origins`, browsers on those origins (or any, with `*`)
/// may call it.
pub fn router(state: AppState, cors_origins: &[String]) -> Result<Router, StartError> {
    let metrics = state.metrics.clone();
    let router = Router::new()
        .route(routes::OPENAPI, get(openapi))
        .route(routes::HEALTH, get(health))
        .route(routes::STREAM, get(stream))
        .route(routes::STREAM_STATES, post(submit))
        .route(routes::STATES, post(crate::batch::submit_states))
        .route(routes::STATUS, get(reports::status))
        .route(routes::SETTLEMENTS, get(reports::settlements))
        .route(routes::PAYEE, get(reports::payee))
        .route(routes::PAYEE_RECEIPTS, get(reports::payee_receipts))
        .route(
            routes::PAYEE_RECEIPT_EVENTS,
            get(reports::payee_receipt_events),
        )
        .route(routes::METRICS, get(reports::metrics))
        .route(x402::routes::SUPPORTED, get(crate::x402::supported))
        .route(x402::routes::VERIFY, post(crate::x402::verify))
        .route(x402::routes::SETTLE, post(crate::x402::settle))
        .route_layer(middleware::from_fn_with_state(metrics.clone(), timed))
        .fallback(no_route)
        .with_state(state)
        .layer(middleware::from_fn_with_state(metrics, refusals));
    Ok(match cors(cors_origins)? {
        Some(cors) => router.layer(cors),
        None => router,
    })
}

fn cors(origins: &[String]) -> Result<Option<CorsLayer>, StartError> {
    let allow = match origins {
        [] => return Ok(None),
        [any] if any == "*" => AllowOrigin::any(),
        origins => AllowOrigin::list(
            origins
                .iter()
                .map(|origin| {
                    HeaderValue::from_str(origin.trim_end_matches('/'))
                        .map_err(|_| StartError::Origin(origin.clone()))
                })
                .collect::<Result<Vec<_>, _>>()?,
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

/// What answers the connections over the limit (`serve`): every request gets
/// `too_many_connections`.
pub fn busy_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .fallback(|| async {
            ApiError::new(
                ErrorCode::TooManyConnections,
                "the relayer is serving as many connections as it allows: retry shortly",
            )
        })
        .layer(middleware::from_fn_with_state(metrics, refusals))
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no route {method} {}", uri.path()),
    )
}

/// Times every request to a route, by the route's pattern (not the path, whose
/// addresses would make a series per stream).
async fn timed(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned())
        .unwrap_or_default();
    let arrived = Instant::now();
    let response = next.run(request).await;
    metrics
        .request_seconds
        .with_label_values(&[route.as_str()])
        .observe(arrived.elapsed().as_secs_f64());
    response
}

/// Counts every error answer by its code, and turns the framework's own (a wrong
/// method, an unreadable path or query) into `ErrorResponse`s like the handlers'.
async fn refusals(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (response, code) = match response.extensions().get::<ErrorCode>().copied() {
        Some(code) => (response, code),
        None => {
            let code = ErrorCode::for_status(status.as_u16());
            let (parts, body) = response.into_parts();
            // The framework's refusals are one short line of text.
            let text = to_bytes(body, 1_024).await.unwrap_or_default();
            let message = String::from_utf8_lossy(&text).trim().to_owned();
            let message = if message.is_empty() {
                status.to_string()
            } else {
                message
            };
            let mut answer = ApiError::new(code, message).into_response();
            // Keep what the refusal said besides its body (`allow` on a 405).
            if let Some(allow) = parts.headers.get(header::ALLOW) {
                answer.headers_mut().insert(header::ALLOW, allow.clone());
            }
            (answer, code)
        }
    };
    metrics.refusals.with_label_values(&[code.as_str()]).inc();
    response
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

    /// The code and message, for an answer that carries several.
    pub(crate) fn into_body(self) -> ErrorBody {
        self.0.error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        IntakeError::from(error).into()
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        match &error {
            IntakeError::Store(StoreError::Full(_)) => disk_full_warning(&error),
            IntakeError::Store(_) | IntakeError::Signing(_) => {
                tracing::error!(%error, "intake failure")
            }
            _ => {}
        }
        Self::new(error.code(), error.to_string())
    }
}

/// Warns of a full disk at most once every ten seconds: a line per refused tip would
/// flood the log, which is often on that same disk.
fn disk_full_warning(error: &IntakeError) {
    static LAST_MS: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let last = LAST_MS.load(Ordering::Relaxed);
    if now - last >= 10_000
        && LAST_MS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::error!(%error, "intake refuses tips until the store has room");
    }
}

/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a body of at most `limit` bytes ([`MAX_BODY_BYTES`] but for batches) within
/// [`BODY_TIMEOUT`], so that slow or oversized uploads get a JSON error and never hold
/// a connection open.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, limit)).await {
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
                    format!("this route's bodies are limited to {limit} bytes"),
                ))
            } else {
                Err(ApiError::malformed(format!("body: {error}")))
            }
        }
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// A JSON body of at most `limit` bytes ([`read_body`]), parsed as `T`.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let body = read_body(body, limit).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::malformed(format!("body: {e}")))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.error.code;
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.0)).into_response();
        response.extensions_mut().insert(code);
        response
    }
}

pub(crate) fn address(what: &str, text: &str) -> Result<Pubkey, ApiError> {
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

pub(crate) fn receipt_json(app: &AppState, epoch: &StoredEpoch) -> ReceiptJson {
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
        (status = 200, description = "Receipted: the sequencer's receipt over the submitted state", body = StateReceipt),
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
) -> Result<Json<StateReceipt>, ApiError> {
    let json: SignedStreamJson = read_json(body, MAX_BODY_BYTES).await?;
    let stream = stream_key(&tab, &slot)?;
    let signed = json
        .to_signed()
        .map_err(|e| ApiError::malformed(e.to_string()))?;
    if signed.state.tab != stream.tab || signed.state.slot != stream.slot {
        return Err(ApiError::malformed(
            "the state is for another stream than the URL's",
        ));
    }
    let receipted = app.sequencer.submit(signed).await?;
    Ok(Json(StateReceipt::new(
        &receipted.receipt,
        &app.sequencer.sequencer(),
    )))
}
