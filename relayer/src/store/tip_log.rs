//! The tip log (docs/adr/0019): a group commit appends the tips of the states it
//! stored to `tip_log`, a table without an index, instead of inserting each into
//! `tips`, whose key scatters them across the index by epoch. The writer folds the log
//! into `tips` in batches of thousands, sorted, so that each epoch's run of tips lands
//! on one index page; reads take both tables until then, each tip once.

use std::{collections::BTreeMap, time::Duration};

use solana_sdk::pubkey::Pubkey;
use sqlx::{AnyPool, Executor, Row};

use super::{
    codec::parse,
    sql::{discard, Backend},
    StoreError, StoreResult,
};
use crate::domain::EpochKey;

/// When the writer folds the log into `tips`.
#[derive(Clone, Copy, Debug)]
pub struct Folding {
    /// Tips logged since the last fold that make the writer fold after its commit.
    pub after_tips: usize,
    /// How long the writer waits for states before it folds what is logged (`None`:
    /// never for that reason).
    pub when_idle_for: Option<Duration>,
}

impl Default for Folding {
    /// About one and a half seconds of `bench ingest` at a time. States queued during a
    /// fold wait for it, tens of milliseconds at this size; a fold's cost per tip falls
    /// with its size (each epoch's run of tips shares its pages), and with it the share
    /// of states that wait (docs/adr/0019). A quiet store keeps an empty log.
    fn default() -> Self {
        Self {
            after_tips: 16_384,
            when_idle_for: Some(Duration::from_millis(50)),
        }
    }
}

const COLUMNS: &str = "tab, incarnation, slot, epoch, seq, payee, amount, accepted_at";

/// Moves every logged tip into `tips` in one transaction. A tip logged twice (its state
/// stored, then the identical state again) is moved once.
pub(super) async fn fold(pool: &AnyPool, backend: Backend) -> StoreResult<()> {
    let sql = match backend {
        // One script (one hop to SQLite's worker thread, docs/adr/0008). SQLite has one
        // writer: nothing is logged between the two statements. `OR IGNORE` keeps a
        // statement journal away (docs/adr/0018).
        Backend::Sqlite => format!(
            "BEGIN IMMEDIATE;
             INSERT OR IGNORE INTO tips ({COLUMNS})
                 SELECT {COLUMNS} FROM tip_log ORDER BY tab, incarnation, slot, epoch, seq;
             DELETE FROM tip_log;
             COMMIT;"
        ),
        // Another instance may log, or fold, meanwhile: one statement moves exactly
        // the rows it deletes.
        Backend::Postgres => format!(
            "WITH moved AS (DELETE FROM tip_log RETURNING {COLUMNS})
             INSERT INTO tips ({COLUMNS})
                 SELECT {COLUMNS} FROM moved ORDER BY tab, incarnation, slot, epoch, seq
             ON CONFLICT DO NOTHING"
        ),
    };
    let mut conn = pool.acquire().await?;
    let folded = conn.execute(sql.as_str()).await;
    if folded.is_err() {
        discard(&mut conn);
    }
    folded.map(drop).map_err(Into::into)
}

/// The entries of `epoch` as they stood at `seq`: the sum of its tips up to it, each
/// tip once from `tips` or the log.
pub(super) async fn entries_at(
    reader: &AnyPool,
    epoch: &EpochKey,
    seq: u32,
) -> StoreResult<Vec<(Pubkey, u64)>> {
    let rows = sqlx::query(
        "SELECT seq, payee, amount FROM tips
         WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND seq <= $5
         UNION
         SELECT seq, payee, amount FROM tip_log
         WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND seq <= $5",
    )
    .bind(epoch.stream.tab.to_string())
    .bind(epoch.incarnation as i64)
    .bind(i64::from(epoch.stream.slot))
    .bind(epoch.epoch as i64)
    .bind(i64::from(seq))
    .fetch_all(reader)
    .await?;
    let mut entries: BTreeMap<Pubkey, u64> = BTreeMap::new();
    for row in rows {
        let payee: Pubkey = parse("payee", &row.try_get::<String, _>("payee")?)?;
        let amount = row.try_get::<i64, _>("amount")? as u64;
        let entry = entries.entry(payee).or_default();
        *entry = entry
            .checked_add(amount)
            .ok_or_else(|| StoreError::Corrupt("tips overflow".into()))?;
    }
    Ok(entries.into_iter().collect())
}
