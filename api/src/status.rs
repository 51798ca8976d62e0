//! What the relayer reports of its own work: receipted stream epochs by status, its
//! settlement transactions, and what it holds for one payee. Operators, the demo and
//! the benchmark read these instead of the relayer's database.

use serde::{Deserialize, Serialize};

use crate::{decimal, StreamStatus};

/// Stream epochs in one status: how many, the tips they hold and their total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusTotals {
    pub status: StreamStatus,
    pub epochs: u64,
    pub tips: u64,
    /// Token base units, before fees.
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub amount: u64,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayerStatus {
    pub config: String,
    pub sequencer: String,
    /// Every status that has epochs.
    pub epochs: Vec<StatusTotals>,
    /// Receipted and not yet paid on chain: the open and closed epochs.
    pub pending_epochs: u64,
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub pending_amount: u64,
    /// When the oldest pending epoch took its first tip (unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_pending_ms: Option<i64>,
    /// Settlement transactions recorded (sent, or about to be).
    pub settlement_transactions: u64,
}

/// Where a settlement transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SettlementStatus {
    /// Sent (or about to be); its epochs wait for its confirmation.
    Pending,
    /// Landed: its epochs are settled.
    Landed,
    /// No epoch names it any more: it failed or expired and its epochs went into
    /// another transaction.
    Dropped,
}

/// One settlement transaction the relayer recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementView {
    pub signature: String,
    pub status: SettlementStatus,
    /// When it was recorded, before it was sent (unix milliseconds); pages are ordered
    /// by it.
    pub recorded_at_ms: i64,
    /// Stream epochs it settles.
    pub streams: u64,
    /// Tips in those epochs' receipted states.
    pub tips: u64,
    /// Their total, token base units before fees.
    #[serde(with = "decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{1,20}$"))]
    pub amount: u64,
}

/// `GET /v1/settlements`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlements {
    pub settlements: Vec<SettlementView>,
}

/// `GET /v1/payees/{wallet}`: the tips naming a wallet, by the status of their epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayeeSummary {
    pub wallet: String,
    /// `epochs`: stream epochs with a tip to the wallet; `tips` and `amount`: those
    /// tips, gross of the fee.
    pub epochs: Vec<StatusTotals>,
}

impl RelayerStatus {
    /// The totals of one status (zero if it has no epochs).
    pub fn totals(&self, status: StreamStatus) -> StatusTotals {
        totals(&self.epochs, status)
    }
}

impl PayeeSummary {
    /// The totals of one status (zero if it has no epochs).
    pub fn totals(&self, status: StreamStatus) -> StatusTotals {
        totals(&self.epochs, status)
    }
}

fn totals(all: &[StatusTotals], status: StreamStatus) -> StatusTotals {
    all.iter()
        .find(|t| t.status == status)
        .cloned()
        .unwrap_or(StatusTotals {
            status,
            epochs: 0,
            tips: 0,
            amount: 0,
        })
}
