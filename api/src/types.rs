//! Request and response bodies, and their exact conversions to the protocol's types.

use std::collections::BTreeMap;

use micropay_protocol::{Receipted, SignedStream, StreamState, MAX_ENTRIES};
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::decimal;

/// Why a body does not describe a valid state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{field}: not a base58 address: {value}")]
    Address { field: &'static str, value: String },
    #[error("{field}: not a base58 64-byte signature")]
    Signature { field: &'static str },
    #[error("entry amounts must be above zero")]
    ZeroAmount,
    #[error("payee {0} is listed twice")]
    DuplicatePayee(String),
    #[error("a state holds at most {MAX_ENTRIES} payees")]
    TooManyEntries,
    #[error("total {stated} is not the sum of the entries ({sum})")]
    Total { stated: u64, sum: String },
}

fn address(field: &'static str, value: &str) -> Result<Address, WireError> {
    value.parse().map_err(|_| WireError::Address {
        field,
        value: value.chars().take(64).collect(),
    })
}

fn signature(field: &'static str, value: &str) -> Result<[u8; 64], WireError> {
    signature_from_base58(value).ok_or(WireError::Signature { field })
}

/// A 64-byte signature from its base58 text; `None` unless the text is exactly the
/// canonical encoding of 64 bytes (as many leading `1`s as leading zero bytes).
pub fn signature_from_base58(text: &str) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    five8::decode_64(text, &mut out).ok().map(|()| out)
}

/// A 64-byte signature's base58 text. `five8` encodes a fixed-size value in a few
/// hundred nanoseconds, where a general base58 encoder takes microseconds: every
/// receipt the relayer answers is one of these.
pub fn signature_to_base58(bytes: &[u8; 64]) -> String {
    let mut out = [0u8; five8::BASE58_ENCODED_64_MAX_LEN];
    let len = usize::from(five8::encode_64(bytes, &mut out));
    out[..len].iter().map(|&byte| char::from(byte)).collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryJson {
    /// The payee's wallet.
    pub payee: String,
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub amount: u64,
}

/// One epoch of one stream: what its key signs (the `MPT2` message's fields, with the
/// entries in full).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamStateJson {
    pub tab: String,
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub incarnation: u64,
    pub slot: u8,
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub epoch: u64,
    pub seq: u32,
    /// The highest fee, in basis points, the payees may be charged.
    pub fee_bps: u16,
    /// Sum of the amounts; checked against the entries.
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub total: u64,
    /// Sorted by the payee's 32 address bytes.
    pub entries: Vec<EntryJson>,
}

impl From<&StreamState> for StreamStateJson {
    fn from(state: &StreamState) -> Self {
        Self {
            tab: state.tab.to_string(),
            incarnation: state.incarnation,
            slot: state.slot,
            epoch: state.epoch,
            seq: state.seq,
            fee_bps: state.fee_bps,
            total: state.total(),
            entries: state
                .entries
                .iter()
                .map(|(payee, amount)| EntryJson {
                    payee: payee.to_string(),
                    amount: *amount,
                })
                .collect(),
        }
    }
}

impl StreamStateJson {
    /// The state, with its entries checked: distinct payees, amounts above zero, at
    /// most `MAX_ENTRIES`, a total that is their sum.
    pub fn to_state(&self) -> Result<StreamState, WireError> {
        if self.entries.len() > MAX_ENTRIES {
            return Err(WireError::TooManyEntries);
        }
        let mut entries = BTreeMap::new();
        let mut sum: u128 = 0;
        for entry in &self.entries {
            if entry.amount == 0 {
                return Err(WireError::ZeroAmount);
            }
            let payee = address("payee", &entry.payee)?;
            if entries.insert(payee, entry.amount).is_some() {
                return Err(WireError::DuplicatePayee(entry.payee.clone()));
            }
            sum += u128::from(entry.amount);
        }
        if sum != u128::from(self.total) {
            return Err(WireError::Total {
                stated: self.total,
                sum: sum.to_string(),
            });
        }
        Ok(StreamState {
            tab: address("tab", &self.tab)?,
            incarnation: self.incarnation,
            slot: self.slot,
            epoch: self.epoch,
            seq: self.seq,
            fee_bps: self.fee_bps,
            entries,
        })
    }
}

/// A state and its stream key's signature: what a payer submits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedStreamJson {
    #[serde(flatten)]
    pub state: StreamStateJson,
    pub signature: String,
}

impl From<&SignedStream> for SignedStreamJson {
    fn from(signed: &SignedStream) -> Self {
        Self {
            state: (&signed.state).into(),
            signature: signature_to_base58(&signed.signature),
        }
    }
}

impl SignedStreamJson {
    pub fn to_signed(&self) -> Result<SignedStream, WireError> {
        Ok(SignedStream {
            state: self.state.to_state()?,
            signature: signature("signature", &self.signature)?,
        })
    }
}

/// A receipted state: the signed state and the sequencer's `MPR2` signature over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptJson {
    #[serde(flatten)]
    pub signed: SignedStreamJson,
    pub receipt: String,
    /// The sequencer whose key signed `receipt`.
    pub sequencer: String,
}

impl ReceiptJson {
    pub fn new(receipted: &Receipted, sequencer: &Address) -> Self {
        Self {
            signed: (&receipted.signed).into(),
            receipt: signature_to_base58(&receipted.receipt),
            sequencer: sequencer.to_string(),
        }
    }

    /// The receipted state and the sequencer named in it. Callers check the receipt
    /// against the sequencer they trust, not only the one named here.
    pub fn to_receipted(&self) -> Result<(Receipted, Address), WireError> {
        Ok((
            Receipted {
                signed: self.signed.to_signed()?,
                receipt: signature("receipt", &self.receipt)?,
            },
            address("sequencer", &self.sequencer)?,
        ))
    }
}

/// The answer to a submitted state: the sequencer's `MPR2` signature over it. The
/// submitter holds the state, so the answer does not echo it; everyone else gets the
/// state with its receipt ([`ReceiptJson`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateReceipt {
    pub receipt: String,
    /// The sequencer whose key signed `receipt`.
    pub sequencer: String,
}

impl StateReceipt {
    pub fn new(receipt: &[u8; 64], sequencer: &Address) -> Self {
        Self {
            receipt: signature_to_base58(receipt),
            sequencer: sequencer.to_string(),
        }
    }

    /// `signed` with this receipt, and the sequencer named here. Callers check the
    /// receipt against the sequencer they trust, not only the one named here.
    pub fn receipting(&self, signed: SignedStream) -> Result<(Receipted, Address), WireError> {
        Ok((
            Receipted {
                signed,
                receipt: signature("receipt", &self.receipt)?,
            },
            address("sequencer", &self.sequencer)?,
        ))
    }
}

/// A stream as the relayer holds it: the state the next tip must extend, and the last
/// receipted one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamView {
    /// Extend this by one tip, sign, and submit. Its `fee_bps` is the fee the relayer
    /// requires a new state to sign.
    pub next: StreamStateJson,
    /// The stream key (the owner for slot 0, else the session key in the slot).
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<ReceiptJson>,
}

/// Where a receipted epoch is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StreamStatus {
    /// Still taking tips.
    Open,
    /// No more tips; its settlement is being sent.
    Closed,
    /// Settled on chain at this receipt's seq (or topped up to it).
    Settled,
    /// Settled on chain at a lower seq and the top-up window has passed: the payee
    /// holding this receipt was owed more than it got.
    Short,
    /// Can never settle: the tab was closed, or the slot's key became invalid, before.
    Void,
}

impl StreamStatus {
    pub const ALL: [StreamStatus; 5] = [
        StreamStatus::Open,
        StreamStatus::Closed,
        StreamStatus::Settled,
        StreamStatus::Short,
        StreamStatus::Void,
    ];

    /// Receipted, not yet paid on chain.
    pub const fn is_pending(self) -> bool {
        matches!(self, StreamStatus::Open | StreamStatus::Closed)
    }

    /// The status as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Open => "open",
            StreamStatus::Closed => "closed",
            StreamStatus::Settled => "settled",
            StreamStatus::Short => "short",
            StreamStatus::Void => "void",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// The newest receipt of one stream epoch that names a payee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayeeReceipt {
    pub receipt: ReceiptJson,
    pub status: StreamStatus,
    /// When this receipt was issued (unix milliseconds); pages are ordered by it.
    pub receipted_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_tx: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayeeReceipts {
    pub receipts: Vec<PayeeReceipt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub config: String,
    pub sequencer: String,
    pub chain_reachable: bool,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn state() -> StreamState {
        StreamState::new(
            Address::new_from_array([7; 32]),
            u64::MAX - 1,
            2,
            1 << 60,
            25,
        )
        .tip(Address::new_from_array([1; 32]), 5)
        .unwrap()
        .tip(Address::new_from_array([3; 32]), u64::MAX - 10)
        .unwrap()
    }

    #[test]
    fn u64_fields_travel_as_exact_decimal_strings() {
        let signed = SignedStream {
            state: state(),
            signature: [9; 64],
        };
        let json = serde_json::to_value(SignedStreamJson::from(&signed)).unwrap();
        assert_eq!(json["incarnation"], "18446744073709551614");
        assert_eq!(json["epoch"], (1u64 << 60).to_string());
        assert_eq!(json["total"], (u64::MAX - 5).to_string());
        assert_eq!(json["entries"][1]["amount"], (u64::MAX - 10).to_string());
        let back: SignedStreamJson = serde_json::from_value(json).unwrap();
        assert_eq!(back.to_signed().unwrap(), signed);
    }

    #[test]
    fn status_names_match_serde() {
        for status in StreamStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(StreamStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn malformed_states_are_refused_with_a_reason() {
        let good = StreamStateJson::from(&state());
        let mut zero = good.clone();
        zero.entries[0].amount = 0;
        assert_eq!(zero.to_state(), Err(WireError::ZeroAmount));
        let mut twice = good.clone();
        twice.entries[1].payee = twice.entries[0].payee.clone();
        assert!(matches!(
            twice.to_state(),
            Err(WireError::DuplicatePayee(_))
        ));
        let mut total = good.clone();
        total.total -= 1;
        assert!(matches!(total.to_state(), Err(WireError::Total { .. })));
        let mut many = good.clone();
        many.entries = (0..=MAX_ENTRIES as u8)
            .map(|i| EntryJson {
                payee: Address::new_from_array([i + 10; 32]).to_string(),
                amount: 1,
            })
            .collect();
        assert_eq!(many.to_state(), Err(WireError::TooManyEntries));
        let mut tab = good;
        tab.tab = "not-an-address".into();
        assert!(matches!(tab.to_state(), Err(WireError::Address { .. })));
        for bad in ["-1", "+1", "1.0", "", "18446744073709551616"] {
            let json = format!(r#"{{"payee":"{}","amount":"{bad}"}}"#, Address::default());
            assert!(serde_json::from_str::<EntryJson>(&json).is_err(), "{bad}");
        }
        let short = SignedStreamJson {
            state: StreamStateJson::from(&state()),
            signature: {
                let mut text = signature_to_base58(&[1u8; 64]);
                text.pop();
                text
            },
        };
        assert!(matches!(
            short.to_signed(),
            Err(WireError::Signature { .. })
        ));
    }

    #[test]
    fn signatures_round_trip_in_canonical_base58_only() {
        for bytes in [[0u8; 64], [1; 64], [0xff; 64], {
            let mut leading_zeros = [7u8; 64];
            leading_zeros[..3].fill(0);
            leading_zeros
        }] {
            let text = signature_to_base58(&bytes);
            assert_eq!(signature_from_base58(&text), Some(bytes), "{text}");
            assert_eq!(text.chars().take_while(|&c| c == '1').count(), {
                bytes.iter().take_while(|&&b| b == 0).count()
            });
            // One leading `1` too many names a 65-byte value; one too few, 63.
            assert_eq!(signature_from_base58(&format!("1{text}")), None);
            if let Some(shorter) = text.strip_prefix('1') {
                assert_eq!(signature_from_base58(shorter), None);
            }
        }
        assert_eq!(signature_from_base58("0OIl"), None);
        assert_eq!(signature_from_base58(""), None);
    }

    proptest! {
        #[test]
        fn every_signature_round_trips(
            bytes in prop::collection::vec(any::<u8>(), 64),
            zeros in 0usize..64,
        ) {
            let mut bytes: [u8; 64] = bytes.try_into().unwrap();
            bytes[..zeros].fill(0);
            prop_assert_eq!(signature_from_base58(&signature_to_base58(&bytes)), Some(bytes));
        }

        /// Whatever the text, decoding answers (no panic), and a text it accepts is
        /// exactly the encoding of what it decoded to.
        #[test]
        fn only_canonical_texts_decode(text in prop_oneof![
            "[1-9A-HJ-NP-Za-km-z]{0,100}",
            "1{0,4}[1-9A-HJ-NP-Za-km-z]{84,90}",
            ".{0,100}",
        ]) {
            if let Some(bytes) = signature_from_base58(&text) {
                prop_assert_eq!(signature_to_base58(&bytes), text);
            }
        }
    }
}
