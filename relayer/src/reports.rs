//! What the relayer reports: the relayer's status, its settlement transactions, what
//! it holds for a payee, the receipts naming a payee (a page, or pushed as events),
//! and Prometheus metrics. Read from the store and the sequencer, never written.

use std::convert::Infallible;

use axum::{
    extract::{Path, Query, State},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse,
    },
    Json,
};
use micropay_api::{
    ErrorResponse, PayeeReceipt, PayeeReceipts, PayeeSummary, ReceiptJson, RelayerStatus,
    Settlements, MAX_PAGE,
};
use serde::Deserialize;
use tokio_stream::{wrappers::BroadcastStream, Stream, StreamExt};

use crate::{
    http::{address, receipt_json, ApiError, AppState},
    receipts::names,
    serve::stopped,
};

/// What the relayer holds: stream epochs by status, what is still to be paid on chain
/// and since when, and how many settlement transactions it recorded.
#[utoipa::path(get, path = "/v1/status", tag = "meta",
    responses((status = 200, body = RelayerStatus),
        (status = "5XX", description = "`internal`", body = ErrorResponse)))]
pub(crate) async fn status(State(app): State<AppState>) -> Result<Json<RelayerStatus>, ApiError> {
    let totals = app.reports.totals().await?;
    let pending = totals.epochs.iter().filter(|t| t.status.is_pending());
    let (pending_epochs, pending_amount) = pending.fold((0u64, 0u64), |(epochs, amount), t| {
        (epochs + t.epochs, amount.saturating_add(t.amount))
    });
    Ok(Json(RelayerStatus {
        config: app.sequencer.config_address().to_string(),
        sequencer: app.sequencer.sequencer().to_string(),
        epochs: totals.epochs,
        pending_epochs,
        pending_amount,
        oldest_pending_ms: totals.oldest_pending_ms,
        settlement_transactions: totals.settlement_transactions,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Only what was issued or recorded at or after this time (unix milliseconds).
    since_ms: Option<i64>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u32>,
}

impl Page {
    fn since_ms(&self) -> i64 {
        self.since_ms.unwrap_or(0)
    }

    fn limit(&self) -> u32 {
        self.limit.unwrap_or(100).min(MAX_PAGE)
    }
}

/// The settlement transactions the relayer recorded, oldest first: what each carries
/// and whether it landed.
#[utoipa::path(get, path = "/v1/settlements", tag = "meta", params(Page),
    responses((status = 200, body = Settlements),
        (status = "4XX", description = "Refused: the body names the code", body = ErrorResponse),
        (status = "5XX", description = "`internal`", body = ErrorResponse)))]
pub(crate) async fn settlements(
    State(app): State<AppState>,
    Query(page): Query<Page>,
) -> Result<Json<Settlements>, ApiError> {
    let settlements = app
        .reports
        .settlements(page.since_ms(), page.limit())
        .await?;
    Ok(Json(Settlements { settlements }))
}

/// The tips naming a wallet, by the status of their stream epoch.
#[utoipa::path(get, path = "/v1/payees/{wallet}", tag = "payee",
    params(("wallet" = String, Path, description = "The payee's wallet")),
    responses((status = 200, body = PayeeSummary),
        (status = "4XX", description = "Refused: the body names the code", body = ErrorResponse),
        (status = "5XX", description = "`internal`", body = ErrorResponse)))]
pub(crate) async fn payee(
    State(app): State<AppState>,
    Path(wallet): Path<String>,
) -> Result<Json<PayeeSummary>, ApiError> {
    let wallet = address("wallet", &wallet)?;
    let epochs = app.reports.payee_totals(&wallet).await?;
    Ok(Json(PayeeSummary {
        wallet: wallet.to_string(),
        epochs,
    }))
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
    let epochs = app
        .reports
        .payee_receipts(&wallet, page.since_ms(), page.limit())
        .await?;
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
    let stopping = async move { stopped(&mut shutdown).await };
    let events = futures_util::StreamExt::take_until(events, stopping);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format")))]
pub(crate) async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    if let Ok(totals) = app.reports.totals().await {
        app.metrics.epochs.reset();
        for status in totals.epochs {
            app.metrics
                .epochs
                .with_label_values(&[status.status.as_str()])
                .set(status.epochs as i64);
        }
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
