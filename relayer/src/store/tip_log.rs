//! The tip log (docs/adr/0019): a group commit appends the tips of the states it
//! stored to `tip_log`, a table without an index, instead of inserting each into
//! `tips`, whose key scatters them across the index by epoch. The writer folds the log
//! into `tips` in batches of thousands, sorted, so that each epoch's run of tips lands
//! on one index page; reads take both tables until then.

use std::time::Duration;

use sqlx::{AnyPool, Executor};

use super::{
    sql::{discard, Backend},
    StoreResult,
};

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
