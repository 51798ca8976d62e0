//! `POST /v1/states`: many signed states in one request, each receipted or refused on
//! its own ([`micropay_api::SubmitStates`]).

use axum::{body::Body, extract::State, Json};
use micropay_api::{
    ErrorCode, ErrorResponse, SignedStreamJson, StateOutcome, StateReceipt, SubmitStates,
    SubmittedStates, MAX_BATCH_BODY_BYTES, MAX_BATCH_STATES,
};

use crate::http::{read_json, ApiError, AppState};

/// Submits signed states of any streams at once; answers with each one's receipt or
/// refusal once every receipted state is durable.
#[utoipa::path(post, path = "/v1/states", tag = "payer",
    request_body = SubmitStates,
    responses(
        (status = 200, description = "Each state's receipt or refusal, in the order submitted", body = SubmittedStates),
        (status = 400, description = "`malformed`: not a batch, or no state in it", body = ErrorResponse),
        (status = 408, description = "`timeout`: the body did not arrive in time", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`: over the bytes or states a batch may hold", body = ErrorResponse),
        (status = "5XX", description = "`internal`", body = ErrorResponse)))]
pub(crate) async fn submit_states(
    State(app): State<AppState>,
    body: Body,
) -> Result<Json<SubmittedStates>, ApiError> {
    let batch: SubmitStates = read_json(body, MAX_BATCH_BODY_BYTES).await?;
    match batch.states.len() {
        0 => return Err(ApiError::malformed("the batch holds no state")),
        n if n > MAX_BATCH_STATES => {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("a batch holds at most {MAX_BATCH_STATES} states, not {n}"),
            ))
        }
        _ => {}
    }
    let mut results: Vec<Option<StateOutcome>> = Vec::with_capacity(batch.states.len());
    let mut valid = Vec::with_capacity(batch.states.len());
    for json in &batch.states {
        match SignedStreamJson::to_signed(json) {
            Ok(signed) => {
                results.push(None);
                valid.push(signed);
            }
            Err(error) => results.push(Some(StateOutcome::refused(
                ErrorCode::Malformed,
                error.to_string(),
            ))),
        }
    }
    let sequencer = app.sequencer.sequencer();
    let mut submitted = app.sequencer.submit_all(valid).await.into_iter();
    let results = results
        .into_iter()
        .map(|outcome| match outcome {
            Some(refused) => refused,
            None => match submitted.next().expect("one result per valid state") {
                Ok(receipted) => {
                    StateOutcome::Receipted(StateReceipt::new(&receipted.receipt, &sequencer))
                }
                Err(error) => StateOutcome::Refused {
                    error: ApiError::from(error).into_body(),
                },
            },
        })
        .collect();
    Ok(Json(SubmittedStates { results }))
}
