//! What reports read from the SQL store: receipts by payee, a stream's newest epoch,
//! sums by status, and the settlement transactions. Sums are taken in SQL over the
//! signed 64-bit columns (amounts above `i64::MAX` are outside what reports add up).

use async_trait::async_trait;
use micropay_api::{SettlementStatus, SettlementView, StatusTotals};
use solana_sdk::pubkey::Pubkey;
use sqlx::{any::AnyRow, Row};

use super::{
    codec::{parse_status, EPOCH_COLUMNS},
    ReportStore, SqlStore, StoreResult,
};
use crate::domain::{StoreTotals, StoredEpoch, StreamKey};

fn totals(row: &AnyRow) -> StoreResult<StatusTotals> {
    Ok(StatusTotals {
        status: parse_status(&row.try_get::<String, _>("status")?)?,
        epochs: row.try_get::<i64, _>("epochs")? as u64,
        tips: row.try_get::<i64, _>("tips")? as u64,
        amount: row.try_get::<i64, _>("amount")? as u64,
    })
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn payee_receipts(
        &self,
        wallet: &Pubkey,
        since_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {EPOCH_COLUMNS} FROM stream_epochs e
             WHERE e.updated_at >= $2 AND EXISTS (
                SELECT 1 FROM payee_epochs p WHERE p.payee = $1 AND p.tab = e.tab
                  AND p.incarnation = e.incarnation AND p.slot = e.slot AND p.epoch = e.epoch)
             ORDER BY e.updated_at, e.tab, e.slot, e.epoch LIMIT $3"
        );
        self.epochs(
            sqlx::query(&sql)
                .bind(wallet.to_string())
                .bind(since_ms)
                .bind(i64::from(limit)),
        )
        .await
    }

    async fn latest(&self, stream: &StreamKey) -> StoreResult<Option<StoredEpoch>> {
        let sql = format!(
            "SELECT {EPOCH_COLUMNS} FROM stream_epochs WHERE tab = $1 AND slot = $2
             ORDER BY incarnation DESC, epoch DESC LIMIT 1"
        );
        let query = sqlx::query(&sql)
            .bind(stream.tab.to_string())
            .bind(i64::from(stream.slot));
        Ok(self.epochs(query).await?.pop())
    }

    async fn totals(&self) -> StoreResult<StoreTotals> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS epochs, CAST(SUM(seq) AS BIGINT) AS tips,
                    CAST(SUM(total) AS BIGINT) AS amount, MIN(opened_at) AS opened
             FROM stream_epochs GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut epochs = Vec::with_capacity(rows.len());
        let mut oldest_pending_ms: Option<i64> = None;
        for row in &rows {
            let status = totals(row)?;
            if status.status.is_pending() {
                let opened: i64 = row.try_get("opened")?;
                oldest_pending_ms = Some(oldest_pending_ms.map_or(opened, |o| o.min(opened)));
            }
            epochs.push(status);
        }
        let settlement_transactions = sqlx::query("SELECT COUNT(*) AS n FROM settlement_txs")
            .fetch_one(&self.reader)
            .await?
            .try_get::<i64, _>("n")? as u64;
        Ok(StoreTotals {
            epochs,
            oldest_pending_ms,
            settlement_transactions,
        })
    }

    async fn settlements(&self, since_ms: i64, limit: u32) -> StoreResult<Vec<SettlementView>> {
        let rows = sqlx::query(
            "SELECT s.signature AS signature, s.created_at AS created_at,
                    COUNT(e.tab) AS streams,
                    CAST(COALESCE(SUM(e.seq), 0) AS BIGINT) AS tips,
                    CAST(COALESCE(SUM(e.total), 0) AS BIGINT) AS amount,
                    CAST(COALESCE(SUM(CASE WHEN e.status IN ('open', 'closed') THEN 1 ELSE 0 END), 0)
                         AS BIGINT) AS pending
             FROM settlement_txs s LEFT JOIN stream_epochs e ON e.settle_tx = s.signature
             WHERE s.created_at >= $1
             GROUP BY s.signature, s.created_at
             ORDER BY s.created_at, s.signature LIMIT $2",
        )
        .bind(since_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let streams = row.try_get::<i64, _>("streams")? as u64;
                let pending = row.try_get::<i64, _>("pending")?;
                Ok(SettlementView {
                    signature: row.try_get("signature")?,
                    status: match (streams, pending) {
                        (0, _) => SettlementStatus::Dropped,
                        (_, 0) => SettlementStatus::Landed,
                        _ => SettlementStatus::Pending,
                    },
                    recorded_at_ms: row.try_get("created_at")?,
                    streams,
                    tips: row.try_get::<i64, _>("tips")? as u64,
                    amount: row.try_get::<i64, _>("amount")? as u64,
                })
            })
            .collect()
    }

    async fn payee_totals(&self, wallet: &Pubkey) -> StoreResult<Vec<StatusTotals>> {
        let rows = sqlx::query(
            // A tip is in `tips` or still in the log (docs/adr/0019); UNION takes each
            // once.
            "SELECT e.status AS status, COUNT(*) AS epochs, CAST(SUM(t.tips) AS BIGINT) AS tips,
                    CAST(SUM(t.amount) AS BIGINT) AS amount
             FROM (SELECT tab, incarnation, slot, epoch, COUNT(*) AS tips, SUM(amount) AS amount
                   FROM (SELECT t.tab, t.incarnation, t.slot, t.epoch, t.seq, t.amount
                         FROM payee_epochs p JOIN tips t
                           ON t.tab = p.tab AND t.incarnation = p.incarnation
                          AND t.slot = p.slot AND t.epoch = p.epoch AND t.payee = p.payee
                         WHERE p.payee = $1
                         UNION
                         SELECT tab, incarnation, slot, epoch, seq, amount FROM tip_log
                         WHERE payee = $1) u
                   GROUP BY tab, incarnation, slot, epoch) t
             JOIN stream_epochs e ON e.tab = t.tab AND e.incarnation = t.incarnation
                  AND e.slot = t.slot AND e.epoch = t.epoch
             GROUP BY e.status ORDER BY e.status",
        )
        .bind(wallet.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(totals).collect()
    }
}
