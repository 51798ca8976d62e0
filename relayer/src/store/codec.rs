//! Rows to domain values and back. u64 quantities are stored bit for bit in signed
//! 64-bit columns; entries as `wallet(32) || amount(8)` in signed order.

use std::{collections::BTreeMap, str::FromStr};

use micropay_protocol::{Receipted, SignedStream, StreamState};
use solana_sdk::pubkey::Pubkey;
use sqlx::{any::AnyRow, Row};

use super::{StoreError, StoreResult};
use crate::domain::{Accepted, StoredEpoch, StreamStatus};

pub const EPOCH_COLUMNS: &str = "tab, slot, epoch, incarnation, seq, fee_bps, entries, \
     signature, receipt, status, opened_at, updated_at, settle_tx";

pub fn parse_status(text: &str) -> StoreResult<StreamStatus> {
    StreamStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("status {text}")))
}

pub fn encode_entries(state: &StreamState) -> Vec<u8> {
    let mut out = Vec::with_capacity(state.entries.len() * 40);
    for (payee, amount) in &state.entries {
        out.extend_from_slice(payee.as_ref());
        out.extend_from_slice(&amount.to_le_bytes());
    }
    out
}

/// A state's tab and its tip's payee as the store keeps them (base58 text), encoded
/// once per commit: the tab is bound in three statements, the payee in two.
pub struct Addresses {
    pub tab: String,
    pub payee: String,
}

impl Addresses {
    pub fn of(accepted: &Accepted) -> Self {
        Self {
            tab: accepted.state().tab.to_string(),
            payee: accepted.tip.0.to_string(),
        }
    }
}

fn decode_entries(bytes: &[u8]) -> StoreResult<BTreeMap<Pubkey, u64>> {
    if !bytes.len().is_multiple_of(40) {
        return Err(StoreError::Corrupt("entries length".into()));
    }
    Ok(bytes
        .chunks_exact(40)
        .map(|chunk| {
            let payee = Pubkey::new_from_array(chunk[..32].try_into().expect("32 bytes"));
            let amount = u64::from_le_bytes(chunk[32..].try_into().expect("8 bytes"));
            (payee, amount)
        })
        .collect())
}

pub fn parse<T: FromStr>(what: &str, s: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {s}")))
}

fn bytes64(what: &str, bytes: Vec<u8>) -> StoreResult<[u8; 64]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} length")))
}

pub fn row_to_epoch(row: &AnyRow) -> StoreResult<StoredEpoch> {
    let tab: String = row.try_get("tab")?;
    let status: String = row.try_get("status")?;
    let settle_tx: Option<String> = row.try_get("settle_tx")?;
    let entries: Vec<u8> = row.try_get("entries")?;
    let state = StreamState {
        tab: parse("tab", &tab)?,
        incarnation: row.try_get::<i64, _>("incarnation")? as u64,
        slot: u8::try_from(row.try_get::<i64, _>("slot")?)
            .map_err(|_| StoreError::Corrupt("slot".into()))?,
        epoch: row.try_get::<i64, _>("epoch")? as u64,
        seq: row.try_get::<i64, _>("seq")? as u32,
        fee_bps: u16::try_from(row.try_get::<i64, _>("fee_bps")?)
            .map_err(|_| StoreError::Corrupt("fee_bps".into()))?,
        entries: decode_entries(&entries)?,
    };
    Ok(StoredEpoch {
        receipted: Receipted {
            signed: SignedStream {
                state,
                signature: bytes64("signature", row.try_get("signature")?)?,
            },
            receipt: bytes64("receipt", row.try_get("receipt")?)?,
        },
        status: parse_status(&status)?,
        opened_at_ms: row.try_get("opened_at")?,
        updated_at_ms: row.try_get("updated_at")?,
        settle_tx: settle_tx.map(|s| parse("settle_tx", &s)).transpose()?,
    })
}
