//! The relayer as the x402 facilitator of the `micropay` scheme (shapes in
//! `micropay_api::x402`). `verify` says whether a payload's state is its stream's next
//! and adds exactly the payment the requirements ask; `settle` receipts it, durably:
//! the payment is then final for the payee, and reaches the chain with the stream's
//! epoch in a later batch. Well-formed requests are answered 200, with the refusal in
//! the body, as x402 facilitators do.

use axum::{body::Body, extract::State, Json};
use micropay_api::x402::{
    reasons, DeploymentExtra, FacilitatorRequest, Refusal, SettleResponse, SupportedKind,
    SupportedResponse, VerifyResponse, SCHEME, X402_VERSION,
};
use micropay_api::MAX_BODY_BYTES;
use micropay_protocol::SignedStream;
use solana_sdk::pubkey::Pubkey;

use crate::{
    http::{read_json, ApiError, AppState},
    intake::Sequencer,
};

/// The names of this facilitator's deployment in x402 messages, encoded once: every
/// `verify` and `settle` compares the requirements with them.
pub(crate) struct Deployment {
    /// The cluster's CAIP-2 id.
    network: String,
    config: String,
    sequencer: String,
    asset: String,
}

impl Deployment {
    pub(crate) fn new(network: String, config: &Pubkey, sequencer: &Pubkey, mint: &Pubkey) -> Self {
        Self {
            network,
            config: config.to_string(),
            sequencer: sequencer.to_string(),
            asset: mint.to_string(),
        }
    }
}

/// What `/x402/supported` says of this relayer's deployment.
async fn kind(app: &AppState) -> SupportedKind {
    let ours = &app.x402;
    SupportedKind {
        x402_version: X402_VERSION,
        scheme: SCHEME.into(),
        network: ours.network.clone(),
        extra: DeploymentExtra {
            config: ours.config.clone(),
            sequencer: ours.sequencer.clone(),
            fee_bps: Sequencer::required_fee_bps(&app.sequencer.config().await),
            asset: ours.asset.clone(),
        },
    }
}

/// The scheme, network and deployment this facilitator settles.
#[utoipa::path(get, path = "/x402/supported", tag = "x402",
    responses((status = 200, body = SupportedResponse)))]
pub(crate) async fn supported(State(app): State<AppState>) -> Json<SupportedResponse> {
    let kind = kind(&app).await;
    let signers = [(kind.network.clone(), vec![kind.extra.sequencer.clone()])].into();
    Json(SupportedResponse {
        kinds: vec![kind],
        extensions: Vec::new(),
        signers,
    })
}

/// A request this facilitator can act on: its state, and the payment it must add.
struct Payable {
    signed: SignedStream,
    pay_to: Pubkey,
    amount: u64,
}

/// The checks on the requirements themselves: this scheme, network and deployment,
/// and a payload that accepted exactly them.
async fn payable(app: &AppState, request: &FacilitatorRequest) -> Result<Payable, Refusal> {
    let required = &request.payment_requirements;
    let payload = &request.payment_payload;
    if request.x402_version != X402_VERSION || payload.x402_version != X402_VERSION {
        return Err(Refusal::new(
            reasons::INVALID_FORMAT,
            "x402Version must be 2",
        ));
    }
    if required.scheme != SCHEME {
        return Err(Refusal::new(
            reasons::UNSUPPORTED_SCHEME,
            format!(
                "this facilitator settles `{SCHEME}`, not `{}`",
                required.scheme
            ),
        ));
    }
    let ours = &app.x402;
    if required.network != ours.network {
        return Err(Refusal::new(
            reasons::CHAIN_ID_MISMATCH,
            format!("this facilitator is on {}", ours.network),
        ));
    }
    if required.extra.config != ours.config || required.extra.sequencer != ours.sequencer {
        return Err(Refusal::new(
            reasons::ACCEPTED_REQUIREMENTS_MISMATCH,
            format!(
                "this facilitator sequences config {} with key {}",
                ours.config, ours.sequencer
            ),
        ));
    }
    if required.asset != ours.asset {
        return Err(Refusal::new(
            reasons::ASSET_MISMATCH,
            format!("the deployment's mint is {}", ours.asset),
        ));
    }
    if payload.accepted != *required {
        return Err(Refusal::new(
            reasons::ACCEPTED_REQUIREMENTS_MISMATCH,
            "the payload accepted other requirements than these",
        ));
    }
    let pay_to = required
        .pay_to
        .parse()
        .map_err(|_| Refusal::new(reasons::RECIPIENT_MISMATCH, "payTo is not an address"))?;
    let signed = payload
        .payload
        .to_signed()
        .map_err(|e| Refusal::new(reasons::INVALID_FORMAT, e.to_string()))?;
    Ok(Payable {
        signed,
        pay_to,
        amount: required.amount.0,
    })
}

/// Whether the payload's state would be receipted now and pays `payTo` exactly
/// `amount`. Nothing is stored.
#[utoipa::path(post, path = "/x402/verify", tag = "x402", request_body = FacilitatorRequest,
    responses((status = 200, body = VerifyResponse),
        (status = "4XX", description = "Not a facilitator request", body = micropay_api::ErrorResponse)))]
pub(crate) async fn verify(
    State(app): State<AppState>,
    body: Body,
) -> Result<Json<VerifyResponse>, ApiError> {
    let request = read_json::<FacilitatorRequest>(body, MAX_BODY_BYTES).await?;
    let payable = match payable(&app, &request).await {
        Ok(payable) => payable,
        Err(refusal) => return Ok(Json(VerifyResponse::invalid(refusal))),
    };
    Ok(Json(match app.sequencer.verify(&payable.signed).await {
        Err(error) => VerifyResponse::invalid(Refusal::intake(error.code(), error.to_string())),
        Ok(payment) if payment.tip.0 != payable.pay_to => VerifyResponse::invalid(Refusal::new(
            reasons::RECIPIENT_MISMATCH,
            format!("the state pays {}, not {}", payment.tip.0, payable.pay_to),
        )),
        Ok(payment) if payment.tip.1 != payable.amount => VerifyResponse::invalid(Refusal::new(
            reasons::INVALID_PAYMENT_AMOUNT,
            format!("the state adds {}, not {}", payment.tip.1, payable.amount),
        )),
        Ok(payment) => VerifyResponse::valid(payment.payer.to_string()),
    }))
}

/// Receipts the payload's state if it pays `payTo` exactly `amount`; answers once it
/// is durable. `transaction` is the receipt (base58 `MPR2` signature).
#[utoipa::path(post, path = "/x402/settle", tag = "x402", request_body = FacilitatorRequest,
    responses((status = 200, body = SettleResponse),
        (status = "4XX", description = "Not a facilitator request", body = micropay_api::ErrorResponse)))]
pub(crate) async fn settle(
    State(app): State<AppState>,
    body: Body,
) -> Result<Json<SettleResponse>, ApiError> {
    let request = read_json::<FacilitatorRequest>(body, MAX_BODY_BYTES).await?;
    let network = app.x402.network.clone();
    let payable = match payable(&app, &request).await {
        Ok(payable) => payable,
        Err(refusal) => return Ok(Json(SettleResponse::failed(refusal, network))),
    };
    let expected = (payable.pay_to, payable.amount);
    Ok(Json(
        match app
            .sequencer
            .submit_paying(payable.signed, Some(expected))
            .await
        {
            Err(error) => {
                SettleResponse::failed(Refusal::intake(error.code(), error.to_string()), network)
            }
            Ok((receipted, payment)) => SettleResponse::settled(
                payment.payer.to_string(),
                micropay_api::signature_to_base58(&receipted.receipt),
                network,
            ),
        },
    ))
}
