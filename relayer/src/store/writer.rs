//! Group commit: one task writes every accepted state that has queued up in one
//! transaction, so one fsync acknowledges many tips; each caller is answered only
//! after the commit. If a group fails, its states are retried one by one so that one
//! bad state cannot fail the others.

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::{codec::encode_entries, sql::discard, StoreResult};
use crate::domain::Accepted;

/// Most states committed in one transaction.
pub const GROUP_COMMIT_MAX: usize = 512;

pub struct AcceptRequest {
    pub accepted: Accepted,
    pub reply: oneshot::Sender<StoreResult<bool>>,
}

pub fn spawn(pool: AnyPool) -> mpsc::Sender<AcceptRequest> {
    let (sender, requests) = mpsc::channel(4 * GROUP_COMMIT_MAX);
    tokio::spawn(group_commit(pool, requests));
    sender
}

async fn group_commit(pool: AnyPool, mut requests: mpsc::Receiver<AcceptRequest>) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    while requests.recv_many(&mut group, GROUP_COMMIT_MAX).await > 0 {
        match write_all(&pool, &group).await {
            Ok(written) => {
                for (request, written) in group.drain(..).zip(written) {
                    let _ = request.reply.send(Ok(written));
                }
            }
            Err(_) => {
                for request in group.drain(..) {
                    let result = write_all(&pool, std::slice::from_ref(&request))
                        .await
                        .map(|written| written[0]);
                    let _ = request.reply.send(result);
                }
            }
        }
    }
}

async fn write_all(pool: &AnyPool, requests: &[AcceptRequest]) -> StoreResult<Vec<bool>> {
    let mut conn = pool.acquire().await?;
    let written = write_in_transaction(&mut conn, requests).await;
    if written.is_err() {
        discard(&mut conn);
    }
    written
}

async fn write_in_transaction(
    conn: &mut AnyConnection,
    requests: &[AcceptRequest],
) -> StoreResult<Vec<bool>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut written = Vec::with_capacity(requests.len());
    for request in requests {
        written.push(write_one(&mut tx, &request.accepted).await?);
    }
    tx.commit().await?;
    Ok(written)
}

/// Writes one state and its tip if the stored seq is still `previous_seq`; false (and
/// nothing written) if another state won.
async fn write_one(tx: &mut AnyConnection, accepted: &Accepted) -> StoreResult<bool> {
    let state = &accepted.receipted.signed.state;
    let tab = state.tab.to_string();
    let slot = i64::from(state.slot);
    let written = match accepted.previous_seq {
        None => sqlx::query(
            "INSERT INTO stream_epochs
                (tab, incarnation, slot, epoch, seq, fee_bps, total, entries, signature,
                 receipt, status, opened_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $11)
             ON CONFLICT (tab, incarnation, slot, epoch) DO NOTHING",
        )
        .bind(&tab)
        .bind(state.incarnation as i64)
        .bind(slot)
        .bind(state.epoch as i64)
        .bind(i64::from(state.seq))
        .bind(i64::from(state.fee_bps))
        .bind(state.total() as i64)
        .bind(encode_entries(state))
        .bind(accepted.receipted.signed.signature.to_vec())
        .bind(accepted.receipted.receipt.to_vec())
        .bind(accepted.at_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        Some(previous) => sqlx::query(
            "UPDATE stream_epochs
             SET seq = $1, fee_bps = $2, total = $3, entries = $4, signature = $5,
                 receipt = $6, updated_at = $7
             WHERE tab = $8 AND incarnation = $9 AND slot = $10 AND epoch = $11 AND seq = $12
               AND status = 'open'",
        )
        .bind(i64::from(state.seq))
        .bind(i64::from(state.fee_bps))
        .bind(state.total() as i64)
        .bind(encode_entries(state))
        .bind(accepted.receipted.signed.signature.to_vec())
        .bind(accepted.receipted.receipt.to_vec())
        .bind(accepted.at_ms)
        .bind(&tab)
        .bind(state.incarnation as i64)
        .bind(slot)
        .bind(state.epoch as i64)
        .bind(i64::from(previous))
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if written != 1 {
        return Ok(false);
    }
    let (payee, amount) = accepted.tip;
    sqlx::query(
        "INSERT INTO tips (tab, incarnation, slot, epoch, seq, payee, amount, accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&tab)
    .bind(state.incarnation as i64)
    .bind(slot)
    .bind(state.epoch as i64)
    .bind(i64::from(state.seq))
    .bind(payee.to_string())
    .bind(amount as i64)
    .bind(accepted.at_ms)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}
