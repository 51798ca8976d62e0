//! Paying for HTTP calls: a client of the x402 v2 `micropay` scheme. On a 402 it picks
//! the offer of its own deployment, signs its stream's next state paying the offer's
//! `payTo` its `amount`, retries with `PAYMENT-SIGNATURE`, and checks the sequencer's
//! receipt in `PAYMENT-RESPONSE`. A [`Payer`] is its stream's only writer, so it keeps
//! the last receipted state and asks the relayer only when that state is refused; and
//! it pays a route it paid before upfront, without the 402 round trip.

use std::{collections::HashMap, str::FromStr};

use micropay_api::x402::{
    decode_header, encode_header, headers, reasons, PaymentPayload, PaymentRequired,
    PaymentRequirements, ResourceInfo, SettleResponse, SCHEME, X402_VERSION,
};
use micropay_api::SignedStreamJson;
use micropay_protocol::{Receipted, SignedStream, StreamState};
use reqwest::{RequestBuilder, Response, StatusCode};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use tokio::sync::Mutex;

use crate::relayer::{RelayerClient, RelayerError};

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Relayer(#[from] RelayerError),
    #[error("the request cannot be sent twice (its body is a stream)")]
    NotRepeatable,
    #[error("the server asks for payment but offers no `micropay` payment in deployment {0}")]
    NoOffer(Pubkey),
    #[error("the price, {price} base units, is above this payer's limit of {limit}")]
    TooExpensive { price: u64, limit: u64 },
    #[error("payment refused ({reason}): {message}")]
    Refused { reason: String, message: String },
    #[error("the server's answer is unusable: {0}")]
    BadAnswer(String),
}

/// A paid call's receipt: the state that paid, receipted by the sequencer.
#[derive(Clone, Debug)]
pub struct Paid {
    pub receipted: Receipted,
    pub pay_to: Pubkey,
    pub amount: u64,
}

/// The server's answer, and the payment it took (none when it asked for none, or
/// answered the paid retry without settling it, for instance with an error).
pub struct PaidResponse {
    pub response: Response,
    pub paid: Option<Paid>,
}

/// Pays for calls from one stream (the tab's owner, or one session key's slot).
/// Calls through one payer take turns; give each parallel worker its own stream.
pub struct Payer<S> {
    http: reqwest::Client,
    relayer: RelayerClient,
    key: S,
    config: Pubkey,
    tab: Pubkey,
    slot: u8,
    limit: u64,
    /// The state the next payment extends: the last this payer had receipted.
    last: Mutex<Option<StreamState>>,
    /// The offer each route (method and URL) was last paid at.
    offers: Mutex<HashMap<String, (ResourceInfo, PaymentRequirements)>>,
}

impl<S: Signer + Send + Sync> Payer<S> {
    /// `limit` is the most one call may cost (base units); offers above it are refused.
    pub fn new(
        relayer: RelayerClient,
        key: S,
        config: Pubkey,
        tab: Pubkey,
        slot: u8,
        limit: u64,
    ) -> Self {
        Self {
            http: micropay_api::http_client(),
            relayer,
            key,
            config,
            tab,
            slot,
            limit,
            last: Mutex::new(None),
            offers: Mutex::new(HashMap::new()),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn get(&self, url: &str) -> Result<PaidResponse, PayError> {
        self.send(self.http.get(url)).await
    }

    /// Sends `request`; pays and sends it again if the answer is a 402 this payer can
    /// pay. A route paid before is paid upfront at its last price; a 402 saying that
    /// price is no longer the offer sends it the long way again.
    pub async fn send(&self, request: RequestBuilder) -> Result<PaidResponse, PayError> {
        let route = request
            .try_clone()
            .and_then(|r| r.build().ok())
            .map(|r| format!("{} {}", r.method(), r.url()))
            .ok_or(PayError::NotRepeatable)?;
        let known = self.offers.lock().await.get(&route).cloned();
        if let Some((resource, offer)) = known {
            match self
                .pay(
                    request.try_clone().ok_or(PayError::NotRepeatable)?,
                    &resource,
                    &offer,
                )
                .await
            {
                Err(PayError::Refused { reason, .. })
                    if reason == reasons::ACCEPTED_REQUIREMENTS_MISMATCH =>
                {
                    self.offers.lock().await.remove(&route);
                }
                paid => return paid,
            }
        }
        let first = request
            .try_clone()
            .ok_or(PayError::NotRepeatable)?
            .send()
            .await?;
        if first.status() != StatusCode::PAYMENT_REQUIRED {
            return Ok(PaidResponse {
                response: first,
                paid: None,
            });
        }
        let required: PaymentRequired = header(&first, headers::PAYMENT_REQUIRED)?
            .ok_or_else(|| PayError::BadAnswer("a 402 without PAYMENT-REQUIRED".into()))?;
        let offer = self.offer(&required)?.clone();
        let paid = self.pay(request, &required.resource, &offer).await?;
        if paid.paid.is_some() {
            self.offers
                .lock()
                .await
                .insert(route, (required.resource, offer));
        }
        Ok(paid)
    }

    /// The offer this payer can take: its scheme, deployment and sequencer, within
    /// the limit.
    fn offer<'a>(
        &self,
        required: &'a PaymentRequired,
    ) -> Result<&'a PaymentRequirements, PayError> {
        let offer = required
            .accepts
            .iter()
            .find(|offer| {
                offer.scheme == SCHEME
                    && offer.extra.config == self.config.to_string()
                    && offer.extra.sequencer == self.relayer.sequencer().to_string()
            })
            .ok_or(PayError::NoOffer(self.config))?;
        if offer.amount.0 > self.limit {
            return Err(PayError::TooExpensive {
                price: offer.amount.0,
                limit: self.limit,
            });
        }
        Ok(offer)
    }

    async fn pay(
        &self,
        request: RequestBuilder,
        resource: &ResourceInfo,
        offer: &PaymentRequirements,
    ) -> Result<PaidResponse, PayError> {
        let pay_to = Pubkey::from_str(&offer.pay_to).map_err(|_| {
            PayError::BadAnswer(format!("payTo {} is not an address", offer.pay_to))
        })?;
        let amount = offer.amount.0;
        let mut last = self.last.lock().await;
        // A kept state can be refused (the relayer moved the stream to a new epoch, or
        // raised its fee): then once more from the relayer's state.
        for kept in [true, false] {
            let base = match last.take() {
                Some(state) if kept => state,
                _ => self.relayer_state().await?,
            };
            let next = base
                .tip_or_next_epoch(pay_to, amount)
                .map_err(|e| PayError::BadAnswer(format!("cannot extend the stream: {e}")))?;
            let signed = SignedStream::sign(next, &self.key)
                .map_err(|e| PayError::BadAnswer(format!("signing: {e}")))?;
            let payload = PaymentPayload {
                x402_version: X402_VERSION,
                resource: Some(resource.clone()),
                accepted: offer.clone(),
                payload: SignedStreamJson::from(&signed),
            };
            let response = request
                .try_clone()
                .ok_or(PayError::NotRepeatable)?
                .header(headers::PAYMENT_SIGNATURE, encode_header(&payload))
                .send()
                .await?;
            if let Some(settled) = header::<SettleResponse>(&response, headers::PAYMENT_RESPONSE)? {
                if settled.success {
                    let receipted = self.receipted(signed, &settled)?;
                    *last = Some(receipted.state().clone());
                    return Ok(PaidResponse {
                        response,
                        paid: Some(Paid {
                            receipted,
                            pay_to,
                            amount,
                        }),
                    });
                }
            }
            if response.status() != StatusCode::PAYMENT_REQUIRED {
                // Answered without taking this payment: the stream is where it was.
                *last = Some(base);
                return Ok(PaidResponse {
                    response,
                    paid: None,
                });
            }
            let refused: Option<PaymentRequired> = header(&response, headers::PAYMENT_REQUIRED)?;
            let error = refused.and_then(|r| r.error).unwrap_or_default();
            if !kept || !retriable(&error) {
                let (reason, message) = error.split_once(": ").unwrap_or((&error, ""));
                return Err(PayError::Refused {
                    reason: reason.to_string(),
                    message: message.to_string(),
                });
            }
        }
        unreachable!("the second attempt returns")
    }

    /// The state the stream's next payment extends, as the relayer holds it.
    async fn relayer_state(&self) -> Result<StreamState, PayError> {
        let view = self.relayer.stream(&self.tab, self.slot).await?;
        if view.key != self.key.pubkey().to_string() {
            return Err(RelayerError::WrongKey {
                slot: self.slot,
                expected: self.key.pubkey(),
                actual: view.key,
            }
            .into());
        }
        view.next
            .to_state()
            .map_err(|e| PayError::BadAnswer(e.to_string()))
    }

    fn receipted(
        &self,
        signed: SignedStream,
        settled: &SettleResponse,
    ) -> Result<Receipted, PayError> {
        let receipt = micropay_api::signature_from_base58(&settled.transaction)
            .ok_or_else(|| PayError::BadAnswer("the receipt is not a signature".into()))?;
        let receipted = Receipted { signed, receipt };
        if !self.relayer.receipt_verifies(&receipted) {
            return Err(PayError::BadAnswer(
                "the receipt is not the sequencer's for the state sent".into(),
            ));
        }
        Ok(receipted)
    }
}

/// Refusals that a fresh copy of the stream's state can cure.
fn retriable(error: &str) -> bool {
    [
        "stale_state",
        "policy",
        "invalid_payment_amount",
        "recipient_mismatch",
    ]
    .iter()
    .any(|reason| error.starts_with(reason))
}

/// A base64 JSON header, if present.
fn header<T: serde::de::DeserializeOwned>(
    response: &Response,
    name: &str,
) -> Result<Option<T>, PayError> {
    response
        .headers()
        .get(name)
        .map(|value| {
            let text = value
                .to_str()
                .map_err(|_| PayError::BadAnswer(format!("{name} is not text")))?;
            decode_header(text).map_err(|e| PayError::BadAnswer(format!("{name}: {e}")))
        })
        .transpose()
}
