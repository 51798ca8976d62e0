//! Group commit: one task writes every accepted state that has queued up in one
//! transaction, so one fsync acknowledges many tips; each caller is answered only
//! after the commit. If a group fails, its states are retried one by one so that one
//! bad state cannot fail the others.
//!
//! A group is written by a few multi-row statements (its states, their tips, the
//! payees' epochs), not one per state or tip. On SQLite they go as one script, `BEGIN`
//! to `COMMIT`: sqlx runs each SQLite command on a worker thread of its own, and each
//! command is a hop there and back that cost about a millisecond when the cores were
//! busy, more than the writing itself (docs/adr/0008). Every row finds its epoch by
//! primary key, whatever the group's size (docs/adr/0011). Statements are padded to a
//! few row counts so that the connection prepares each script once (docs/adr/0015).
//! Tips go to the tip log, which the writer folds into `tips` between groups
//! (docs/adr/0019).

use std::collections::HashMap;

use sqlx::{any::AnyRow, AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::{
    codec::Addresses,
    sql::{discard, Backend},
    tip_log::{self, Folding},
    StoreError, StoreResult,
};
use crate::domain::Accepted;

mod statements;

use statements::{plan, Statement};

/// Most states committed in one transaction.
pub const GROUP_COMMIT_MAX: usize = 512;

pub struct AcceptRequest {
    pub accepted: Accepted,
    pub reply: oneshot::Sender<StoreResult<bool>>,
}

pub fn spawn(
    pool: AnyPool,
    backend: Backend,
    folding: Folding,
) -> mpsc::UnboundedSender<AcceptRequest> {
    let (sender, requests) = mpsc::unbounded_channel();
    tokio::spawn(group_commit(pool, backend, folding, requests));
    sender
}

async fn group_commit(
    pool: AnyPool,
    backend: Backend,
    folding: Folding,
    mut requests: mpsc::UnboundedReceiver<AcceptRequest>,
) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    // What an earlier run left logged is folded first.
    fold(&pool, backend).await;
    // Tips logged since the last fold.
    let mut logged = 0;
    loop {
        let next = requests.recv_many(&mut group, GROUP_COMMIT_MAX);
        let received = match folding.when_idle_for.filter(|_| logged > 0) {
            None => next.await,
            Some(idle) => match tokio::time::timeout(idle, next).await {
                Ok(received) => received,
                Err(_idle) => {
                    fold(&pool, backend).await;
                    logged = 0;
                    continue;
                }
            },
        };
        if received == 0 {
            break;
        }
        logged += commit(&pool, backend, &mut group).await;
        if logged >= folding.after_tips {
            fold(&pool, backend).await;
            logged = 0;
        }
    }
}

/// Writes and answers the group, emptying it; how many states it stored.
async fn commit(pool: &AnyPool, backend: Backend, group: &mut Vec<AcceptRequest>) -> usize {
    let mut stored = 0;
    match write_all(pool, backend, group).await {
        Ok(written) => {
            for (request, written) in group.drain(..).zip(written) {
                stored += usize::from(written);
                let _ = request.reply.send(Ok(written));
            }
        }
        Err(_) => {
            for request in group.drain(..) {
                let result = write_all(pool, backend, std::slice::from_ref(&request))
                    .await
                    .map(|written| written[0]);
                stored += usize::from(matches!(result, Ok(true)));
                let _ = request.reply.send(result);
            }
        }
    }
    stored
}

/// Folds the tip log. A fold that fails (a full disk) leaves its tips readable in the
/// log; the writer tries again after the next tips, not over and over while none come.
async fn fold(pool: &AnyPool, backend: Backend) {
    if let Err(error) = tip_log::fold(pool, backend).await {
        tracing::warn!(%error, "could not fold the tip log; its tips stay readable there");
    }
}

/// Writes `requests` in one transaction; which of them were written (false: another
/// state of the epoch won, or the epoch is no longer open).
async fn write_all(
    pool: &AnyPool,
    backend: Backend,
    requests: &[AcceptRequest],
) -> StoreResult<Vec<bool>> {
    let mut conn = pool.acquire().await?;
    let statements = plan(requests);
    let addresses: Vec<Addresses> = requests
        .iter()
        .map(|request| Addresses::of(&request.accepted))
        .collect();
    // SQLite takes the group as one script, BEGIN to COMMIT; PostgreSQL takes one
    // statement with parameters per command.
    let rows = match backend {
        Backend::Sqlite => run_script(&mut conn, &statements, requests, &addresses).await,
        Backend::Postgres => run_in_transaction(&mut conn, &statements, requests, &addresses).await,
    };
    let written = rows.and_then(|rows| written_states(requests, &rows));
    if written.is_err() {
        discard(&mut conn);
    }
    written
}

async fn run_script(
    conn: &mut AnyConnection,
    statements: &[Statement],
    requests: &[AcceptRequest],
    addresses: &[Addresses],
) -> StoreResult<Vec<AnyRow>> {
    let mut script = String::from("BEGIN IMMEDIATE;\n");
    for statement in statements {
        script.push_str(&statement.sql(Backend::Sqlite));
        script.push_str(";\n");
    }
    script.push_str("COMMIT;");
    let mut query = sqlx::query(&script);
    for statement in statements {
        query = statement.bind(query, requests, addresses);
    }
    Ok(query.fetch_all(conn).await?)
}

async fn run_in_transaction(
    conn: &mut AnyConnection,
    statements: &[Statement],
    requests: &[AcceptRequest],
    addresses: &[Addresses],
) -> StoreResult<Vec<AnyRow>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut rows = Vec::new();
    for statement in statements {
        let sql = statement.sql(Backend::Postgres);
        rows.extend(
            statement
                .bind(sqlx::query(&sql), requests, addresses)
                .fetch_all(&mut *tx)
                .await?,
        );
    }
    tx.commit().await?;
    Ok(rows)
}

/// Marks the states whose signatures the statements returned, each signature once
/// and in arrival order: of two identical states only the first can have been
/// written.
fn written_states(requests: &[AcceptRequest], rows: &[AnyRow]) -> StoreResult<Vec<bool>> {
    let mut by_signature: HashMap<[u8; 64], Vec<usize>> = HashMap::new();
    for (at, request) in requests.iter().enumerate().rev() {
        by_signature
            .entry(request.accepted.receipted.signed.signature)
            .or_default()
            .push(at);
    }
    let mut written = vec![false; requests.len()];
    for row in rows {
        let signature: Vec<u8> = row.try_get(0)?;
        let at = <[u8; 64]>::try_from(signature.as_slice())
            .ok()
            .and_then(|signature| by_signature.get_mut(&signature)?.pop())
            .ok_or_else(|| StoreError::Corrupt("wrote a state not asked for".into()))?;
        written[at] = true;
    }
    Ok(written)
}
