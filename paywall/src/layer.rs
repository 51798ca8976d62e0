//! The paywall and its per-route layer: 402 with the offer, verify, handle, settle,
//! keep the receipt, answer with `PAYMENT-RESPONSE`.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Request, StatusCode},
    response::{IntoResponse, Response},
};
use micropay_api::{
    x402::{
        decode_header, encode_header, headers, reasons, Amount, DeploymentExtra,
        FacilitatorRequest, MicropayExtra, PaymentPayload, PaymentRequired, PaymentRequirements,
        Refusal, ResourceInfo, SettleResponse, SCHEME, X402_VERSION,
    },
    ReceiptJson,
};
use micropay_protocol::{
    ed25519::{DecodedKey, PrecomputedKey},
    Receipted,
};
use solana_address::Address;
use tower::{Layer, Service, ServiceExt};

use crate::{EncodedRequest, FacilitatorClient, FacilitatorError, ReceiptSink};

/// How long a payer may take between the 402 and its paid retry.
const MAX_TIMEOUT_SECONDS: u64 = 60;

struct Shared {
    facilitator: FacilitatorClient,
    network: String,
    deployment: DeploymentExtra,
    sequencer: Address,
    /// The sequencer's key with a table of its multiples, built once: every paid call
    /// checks a receipt under it.
    sequencer_key: PrecomputedKey,
    pay_to: Address,
    receipts: Arc<dyn ReceiptSink>,
}

/// Charges for routes in one deployment, paying one wallet (the resource's owner).
#[derive(Clone)]
pub struct Paywall {
    shared: Arc<Shared>,
}

impl Paywall {
    /// Asks the relayer at `relayer` which deployment it sequences; prices set with
    /// [`Paywall::price`] are paid to `pay_to` in that deployment's mint.
    pub async fn connect(
        relayer: &str,
        pay_to: Address,
        receipts: impl ReceiptSink,
    ) -> Result<Self, FacilitatorError> {
        let facilitator = FacilitatorClient::new(relayer);
        let supported = facilitator.supported().await?;
        let kind = supported
            .kinds
            .into_iter()
            .find(|kind| kind.scheme == SCHEME && kind.x402_version == X402_VERSION)
            .ok_or_else(|| {
                FacilitatorError::Unsupported(format!("no `{SCHEME}` scheme in x402 v2"))
            })?;
        let sequencer: Address = kind.extra.sequencer.parse().map_err(|_| {
            FacilitatorError::Unsupported(format!(
                "sequencer {} is not an address",
                kind.extra.sequencer
            ))
        })?;
        let sequencer_key = DecodedKey::decode(sequencer.as_array()).ok_or_else(|| {
            FacilitatorError::Unsupported(format!(
                "sequencer {sequencer} is not a key: no receipt could verify"
            ))
        })?;
        // About 5 ms of arithmetic, once, before the paywall serves.
        let sequencer_key = PrecomputedKey::new(&sequencer_key);
        Ok(Self {
            shared: Arc::new(Shared {
                facilitator,
                network: kind.network,
                deployment: kind.extra,
                sequencer,
                sequencer_key,
                pay_to,
                receipts: Arc::new(receipts),
            }),
        })
    }

    /// What a call priced `amount` base units asks a payer for.
    pub fn requirements(&self, amount: u64) -> PaymentRequirements {
        let shared = &self.shared;
        PaymentRequirements {
            scheme: SCHEME.into(),
            network: shared.network.clone(),
            amount: Amount(amount),
            pay_to: shared.pay_to.to_string(),
            max_timeout_seconds: MAX_TIMEOUT_SECONDS,
            asset: shared.deployment.asset.clone(),
            extra: MicropayExtra {
                config: shared.deployment.config.clone(),
                sequencer: shared.deployment.sequencer.clone(),
                fee_bps: shared.deployment.fee_bps,
                relayer: shared.facilitator.relayer().to_string(),
            },
        }
    }

    /// A layer that charges `amount` base units for each successful call of a route.
    pub fn price(&self, amount: u64, description: &str) -> PriceLayer {
        PriceLayer {
            paywall: self.clone(),
            requirements: Arc::new(self.requirements(amount)),
            description: description.into(),
        }
    }
}

#[derive(Clone)]
pub struct PriceLayer {
    paywall: Paywall,
    requirements: Arc<PaymentRequirements>,
    description: Arc<str>,
}

impl<S> Layer<S> for PriceLayer {
    type Service = PaidService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PaidService {
            inner,
            price: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct PaidService<S> {
    inner: S,
    price: PriceLayer,
}

impl<S> Service<Request<Body>> for PaidService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let price = self.price.clone();
        Box::pin(async move { Ok(price.handle(request, inner).await) })
    }
}

impl PriceLayer {
    async fn handle<S>(&self, request: Request<Body>, inner: S) -> Response
    where
        S: Service<Request<Body>, Response = Response, Error = Infallible> + Send,
        S::Future: Send,
    {
        let resource = self.resource(&request);
        let Some(header) = request.headers().get(headers::PAYMENT_SIGNATURE) else {
            return self.payment_required(resource, None);
        };
        let payload: PaymentPayload = match header
            .to_str()
            .ok()
            .and_then(|text| decode_header(text).ok())
        {
            Some(payload) => payload,
            None => {
                let refusal = Refusal::new(
                    reasons::INVALID_FORMAT,
                    "PAYMENT-SIGNATURE is not a base64 JSON x402 v2 micropay payload",
                );
                return self.payment_required(resource, Some(refusal));
            }
        };
        if payload.accepted != *self.requirements {
            let refusal = Refusal::new(
                reasons::ACCEPTED_REQUIREMENTS_MISMATCH,
                "the payment accepted other requirements than this resource's",
            );
            return self.payment_required(resource, Some(refusal));
        }
        let facilitated = FacilitatorRequest {
            x402_version: X402_VERSION,
            payment_payload: payload,
            payment_requirements: (*self.requirements).clone(),
        };
        let Ok(encoded) = EncodedRequest::new(&facilitated) else {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not encode the payment",
            )
                .into_response();
        };
        let shared = &self.paywall.shared;
        match shared.facilitator.verify(&encoded).await {
            Ok(verified) if verified.is_valid => {}
            Ok(verified) => {
                let refusal = Refusal {
                    reason: verified.invalid_reason.unwrap_or_default(),
                    message: verified.invalid_message.unwrap_or_default(),
                };
                return self.payment_required(resource, Some(refusal));
            }
            Err(error) => return facilitator_down(error),
        }
        let response = match inner.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if !response.status().is_success() {
            // The call failed: it is not charged.
            return response;
        }
        match shared.facilitator.settle(&encoded).await {
            Ok(settled) if settled.success => self.paid(response, &facilitated, settled).await,
            Ok(settled) => {
                let refusal = Refusal {
                    reason: settled.error_reason.unwrap_or_default(),
                    message: settled.error_message.unwrap_or_default(),
                };
                self.payment_required(resource, Some(refusal))
            }
            Err(error) => facilitator_down(error),
        }
    }

    /// The handler's answer, once the receipt checks out and is kept.
    async fn paid(
        &self,
        mut response: Response,
        facilitated: &FacilitatorRequest,
        settled: SettleResponse,
    ) -> Response {
        let shared = &self.paywall.shared;
        let receipted = facilitated
            .payment_payload
            .payload
            .to_signed()
            .ok()
            .zip(micropay_api::signature_from_base58(&settled.transaction))
            .map(|(signed, receipt)| Receipted { signed, receipt })
            .filter(|receipted| receipted.receipt_verifies_under(&shared.sequencer_key));
        let Some(receipted) = receipted else {
            tracing::error!("the facilitator's receipt is not the sequencer's");
            return (
                StatusCode::BAD_GATEWAY,
                "the facilitator's receipt does not verify",
            )
                .into_response();
        };
        let receipt = ReceiptJson::new(&receipted, &shared.sequencer);
        if let Err(error) = shared.receipts.keep(&receipt).await {
            // The payment is final and the relayer holds the receipt: serve the call.
            tracing::error!(%error, "could not keep a receipt");
        }
        if let Ok(value) = HeaderValue::from_str(&encode_header(&settled)) {
            response
                .headers_mut()
                .insert(headers::PAYMENT_RESPONSE, value);
        }
        response
    }

    fn resource(&self, request: &Request<Body>) -> ResourceInfo {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("localhost");
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str());
        ResourceInfo {
            url: format!("http://{host}{path}"),
            description: Some(self.description.to_string()),
            mime_type: None,
        }
    }

    /// 402 with the offer in `PAYMENT-REQUIRED` (and in the body, for people).
    fn payment_required(&self, resource: ResourceInfo, refusal: Option<Refusal>) -> Response {
        let required = PaymentRequired {
            x402_version: X402_VERSION,
            error: refusal.map(|refusal| refusal.to_string()),
            resource,
            accepts: vec![(*self.requirements).clone()],
        };
        let mut response = (StatusCode::PAYMENT_REQUIRED, axum::Json(&required)).into_response();
        if let Ok(value) = HeaderValue::from_str(&encode_header(&required)) {
            response
                .headers_mut()
                .insert(headers::PAYMENT_REQUIRED, value);
        }
        response
    }
}

fn facilitator_down(error: FacilitatorError) -> Response {
    tracing::warn!(%error, "facilitator unavailable");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "payments are unavailable: the facilitator did not answer",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::{routing::get, Json, Router};

    use super::*;

    struct Nowhere;

    #[async_trait::async_trait]
    impl ReceiptSink for Nowhere {
        async fn keep(&self, _: &ReceiptJson) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_relayer_that_is_not_a_micropay_facilitator_is_refused() {
        let supported = serde_json::json!({ "kinds": [], "extensions": [], "signers": {} });
        let app = Router::new().route(
            "/x402/supported",
            get(move || async move { Json(supported) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let refused = Paywall::connect(&url, Address::default(), Nowhere).await;
        assert!(matches!(refused, Err(FacilitatorError::Unsupported(_))));
        let nobody = Paywall::connect("http://127.0.0.1:9", Address::default(), Nowhere).await;
        assert!(matches!(nobody, Err(FacilitatorError::Http(_))));
    }
}
