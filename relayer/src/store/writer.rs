//! Group commit: one task writes every accepted state that has queued up in one
//! transaction, so one fsync acknowledges many tips; each caller is answered only
//! after the commit. If a group fails, its states are retried one by one so that one
//! bad state cannot fail the others.
//!
//! Each statement is a round trip to the database's worker, so a group's tips are
//! inserted by a few multi-row statements rather than one statement per tip.

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
        written.push(write_state(&mut tx, &request.accepted).await?);
    }
    let tips: Vec<&Accepted> = requests
        .iter()
        .zip(&written)
        .filter(|(_, written)| **written)
        .map(|(request, _)| &request.accepted)
        .collect();
    insert_tips(&mut tx, &tips).await?;
    tx.commit().await?;
    Ok(written)
}

/// Writes one state if the stored seq is still `previous_seq`; false (and nothing
/// written) if another state won.
async fn write_state(tx: &mut AnyConnection, accepted: &Accepted) -> StoreResult<bool> {
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
    Ok(written == 1)
}

/// Rows per multi-row tips insert, largest first: a group is inserted in at most one
/// statement per size, and each size is prepared once.
const TIP_ROWS: [usize; 10] = [512, 256, 128, 64, 32, 16, 8, 4, 2, 1];

/// Inserts the tips of the states written in this transaction.
async fn insert_tips(tx: &mut AnyConnection, tips: &[&Accepted]) -> StoreResult<()> {
    let mut rest = tips;
    for rows in TIP_ROWS {
        while rest.len() >= rows {
            let (chunk, remaining) = rest.split_at(rows);
            rest = remaining;
            let sql = insert_tips_sql(rows);
            let mut query = sqlx::query(&sql);
            for accepted in chunk {
                let state = &accepted.receipted.signed.state;
                let (payee, amount) = accepted.tip;
                query = query
                    .bind(state.tab.to_string())
                    .bind(state.incarnation as i64)
                    .bind(i64::from(state.slot))
                    .bind(state.epoch as i64)
                    .bind(i64::from(state.seq))
                    .bind(payee.to_string())
                    .bind(amount as i64)
                    .bind(accepted.at_ms);
            }
            query.execute(&mut *tx).await?;
        }
    }
    Ok(())
}

fn insert_tips_sql(rows: usize) -> String {
    const COLUMNS: usize = 8;
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=COLUMNS)
                .map(|column| format!("${}", row * COLUMNS + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO tips (tab, incarnation, slot, epoch, seq, payee, amount, accepted_at)
         VALUES {}",
        values.join(", ")
    )
}
