//! The SQL store, on SQLite or PostgreSQL depending on the URL. Accepted states go
//! through the group-commit writer; reads use their own connections (SQLite's WAL
//! lets them run beside the writer).

use std::time::Duration;

use async_trait::async_trait;
use solana_sdk::{pubkey::Pubkey, signature::Signature, transaction::VersionedTransaction};
use sqlx::{
    any::AnyPoolOptions, migrate::Migrator, pool::PoolConnection, Any, AnyConnection, AnyPool,
    Executor, Row,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    codec::{parse, row_to_epoch, EPOCH_COLUMNS},
    tip_log::{self, Folding},
    writer::{self, AcceptRequest},
    IntakeStore, PendingWrite, SettlementStore, StoreError, StoreResult,
};
use crate::domain::{Accepted, EpochKey, RecordedSettlement, StoredEpoch, StreamKey, StreamStatus};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    backend: Backend,
    /// Writes. For SQLite a single connection: SQLite has one writer.
    pool: AnyPool,
    pub(super) reader: AnyPool,
    /// Unbounded: what is queued is bounded by the connections served, each waiting
    /// on its states.
    accepts: mpsc::UnboundedSender<AcceptRequest>,
}

impl SqlStore {
    /// Opens the store at `url` (`sqlite://path`, created if missing, or
    /// `postgres://...`) and brings its schema to the current version.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, Folding::default()).await
    }

    /// [`Self::connect`], folding the tip log as `folding` says.
    pub async fn connect_with(url: &str, folding: Folding) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = |connections: u32| {
            AnyPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(30))
                // A connection to a local file cannot go stale, and the test is one more
                // hop to the connection's worker thread per use.
                .test_before_acquire(backend == Backend::Postgres)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // A group's multi-row statements keep statement journals;
                            // in memory they cost no file writes.
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            // Checkpoint 32 MiB of WAL at a time, not SQLite's 4 MiB: the
                            // rows every tip rewrites reach the file once per checkpoint,
                            // and the checkpoint runs inside a commit (docs/adr/0009).
                            conn.execute("PRAGMA wal_autocheckpoint = 8192").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 8,
        })
        .connect(&url)
        .await?;
        match backend {
            Backend::Sqlite => SQLITE.run(&pool).await?,
            Backend::Postgres => POSTGRES.run(&pool).await?,
        }
        let reader = match backend {
            Backend::Sqlite => options(4).connect(&url).await?,
            Backend::Postgres => pool.clone(),
        };
        let accepts = writer::spawn(pool.clone(), backend, folding);
        Ok(Self {
            backend,
            pool,
            reader,
            accepts,
        })
    }

    /// Moves every tip in the tip log into `tips` now (the writer does so by itself as
    /// its [`Folding`] says).
    pub async fn fold_tip_log(&self) -> StoreResult<()> {
        tip_log::fold(&self.pool, self.backend).await
    }

    /// Whether several relayer instances may write this store at once (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    pub(super) async fn epochs<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> StoreResult<Vec<StoredEpoch>> {
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(row_to_epoch)
            .collect()
    }

    /// Runs `statement` once per epoch key (binding tab, incarnation, slot, epoch as
    /// `$1..$4`, then `binds`) in one transaction; whether each changed a row.
    async fn per_epoch(
        &self,
        statement: &str,
        epochs: &[EpochKey],
        binds: &[Bind<'_>],
    ) -> StoreResult<Vec<bool>> {
        let mut conn = self.pool.acquire().await?;
        let changed = Self::per_epoch_in(&mut conn, statement, epochs, binds).await;
        if changed.is_err() {
            discard(&mut conn);
        }
        changed
    }

    async fn per_epoch_in(
        conn: &mut AnyConnection,
        statement: &str,
        epochs: &[EpochKey],
        binds: &[Bind<'_>],
    ) -> StoreResult<Vec<bool>> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let mut changed = Vec::with_capacity(epochs.len());
        for key in epochs {
            let mut query = sqlx::query(statement)
                .bind(key.stream.tab.to_string())
                .bind(key.incarnation as i64)
                .bind(i64::from(key.stream.slot))
                .bind(key.epoch as i64);
            for bind in binds {
                query = match bind {
                    Bind::Text(text) => query.bind(text.to_string()),
                    Bind::Int(value) => query.bind(*value),
                };
            }
            changed.push(query.execute(&mut *tx).await?.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(changed)
    }
}

/// Extra parameters of [`SqlStore::per_epoch`], from `$5` on.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

#[async_trait]
impl IntakeStore for SqlStore {
    async fn tab_epochs(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {EPOCH_COLUMNS} FROM stream_epochs e WHERE tab = $1 AND (
                status IN ('open', 'closed')
                OR epoch = (SELECT MAX(epoch) FROM stream_epochs l WHERE l.tab = e.tab
                            AND l.incarnation = e.incarnation AND l.slot = e.slot))
             ORDER BY incarnation, slot, epoch"
        );
        self.epochs(sqlx::query(&sql).bind(tab.to_string())).await
    }

    fn queue(&self, accepted: Accepted) -> PendingWrite {
        let (reply, outcome) = oneshot::channel();
        // A writer gone drops the request, and with it `reply`: the outcome is then
        // `WriterStopped`.
        let _ = self.accepts.send(AcceptRequest { accepted, reply });
        PendingWrite::new(outcome)
    }
}

#[async_trait]
impl SettlementStore for SqlStore {
    async fn pending(&self) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {EPOCH_COLUMNS} FROM stream_epochs WHERE status IN ('open', 'closed')
             ORDER BY tab, slot, epoch"
        );
        self.epochs(sqlx::query(&sql)).await
    }

    async fn close(&self, epochs: &[EpochKey]) -> StoreResult<Vec<bool>> {
        self.per_epoch(
            "UPDATE stream_epochs SET status = 'closed'
             WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND status = 'open'",
            epochs,
            &[],
        )
        .await
    }

    async fn lease(
        &self,
        epochs: &[EpochKey],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<Vec<bool>> {
        self.per_epoch(
            "UPDATE stream_epochs SET lease_owner = $5, lease_until = $6
             WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND status = 'closed'
               AND (lease_until <= $7 OR lease_owner = $5)",
            epochs,
            &[Bind::Text(owner), Bind::Int(until_ms), Bind::Int(now_ms)],
        )
        .await
    }

    async fn record_settle_tx(
        &self,
        epochs: &[EpochKey],
        tx: &VersionedTransaction,
        last_valid_block_height: u64,
        now_ms: i64,
    ) -> StoreResult<()> {
        let signature = tx.signatures[0].to_string();
        let bytes = bincode::serialize(tx)
            .map_err(|e| StoreError::Corrupt(format!("settlement transaction: {e}")))?;
        sqlx::query(
            "INSERT INTO settlement_txs (signature, tx, last_valid_block_height, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature.clone())
        .bind(bytes)
        .bind(last_valid_block_height as i64)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        self.per_epoch(
            "UPDATE stream_epochs SET settle_tx = $5
             WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4",
            epochs,
            &[Bind::Text(&signature)],
        )
        .await
        .map(drop)
    }

    async fn unconfirmed_settlements(&self) -> StoreResult<Vec<RecordedSettlement>> {
        let rows = sqlx::query(
            "SELECT s.signature, s.tx, s.last_valid_block_height,
                    e.tab, e.incarnation, e.slot, e.epoch
             FROM settlement_txs s JOIN stream_epochs e ON e.settle_tx = s.signature
             WHERE e.status = 'closed' ORDER BY s.signature",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut recorded: Vec<RecordedSettlement> = Vec::new();
        for row in rows {
            let signature: String = row.try_get("signature")?;
            let epoch = EpochKey {
                stream: StreamKey {
                    tab: parse("tab", &row.try_get::<String, _>("tab")?)?,
                    slot: row.try_get::<i64, _>("slot")? as u8,
                },
                incarnation: row.try_get::<i64, _>("incarnation")? as u64,
                epoch: row.try_get::<i64, _>("epoch")? as u64,
            };
            match recorded.last_mut() {
                Some(last) if last.tx.signatures[0].to_string() == signature => {
                    last.epochs.push(epoch)
                }
                _ => {
                    let bytes: Vec<u8> = row.try_get("tx")?;
                    let tx = bincode::deserialize(&bytes).map_err(|e| {
                        StoreError::Corrupt(format!("settlement transaction {signature}: {e}"))
                    })?;
                    recorded.push(RecordedSettlement {
                        tx,
                        last_valid_block_height: row.try_get::<i64, _>("last_valid_block_height")?
                            as u64,
                        epochs: vec![epoch],
                    });
                }
            }
        }
        Ok(recorded)
    }

    async fn forget_settle_tx(&self, epochs: &[EpochKey], tx: &Signature) -> StoreResult<()> {
        let tx = tx.to_string();
        self.per_epoch(
            "UPDATE stream_epochs SET settle_tx = NULL
             WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND settle_tx = $5",
            epochs,
            &[Bind::Text(&tx)],
        )
        .await
        .map(drop)
    }

    async fn finish(&self, epoch: &EpochKey, status: StreamStatus, now_ms: i64) -> StoreResult<()> {
        self.per_epoch(
            "UPDATE stream_epochs SET status = $5, updated_at = $6
             WHERE tab = $1 AND incarnation = $2 AND slot = $3 AND epoch = $4 AND status IN ('open', 'closed')",
            std::slice::from_ref(epoch),
            &[Bind::Text(status.as_str()), Bind::Int(now_ms)],
        )
        .await
        .map(drop)
    }

    async fn entries_at(&self, epoch: &EpochKey, seq: u32) -> StoreResult<Vec<(Pubkey, u64)>> {
        tip_log::entries_at(&self.reader, epoch, seq).await
    }

    async fn lookup_tables(&self, authority: &Pubkey) -> StoreResult<Vec<Pubkey>> {
        let rows = sqlx::query(
            "SELECT address FROM lookup_tables WHERE authority = $1 ORDER BY created_at, address",
        )
        .bind(authority.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| parse("lookup table", &row.try_get::<String, _>("address")?))
            .collect()
    }

    async fn add_lookup_table(
        &self,
        authority: &Pubkey,
        table: &Pubkey,
        now_ms: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO lookup_tables (address, authority, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(table.to_string())
        .bind(authority.to_string())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn remove_lookup_table(&self, table: &Pubkey) -> StoreResult<()> {
        sqlx::query("DELETE FROM lookup_tables WHERE address = $1")
            .bind(table.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Closes a connection whose transaction failed instead of returning it to the pool.
/// After a failed statement or COMMIT (SQLITE_FULL on a full disk), SQLite may have
/// rolled the transaction back or kept it open, and sqlx's SQLite driver can lose track
/// of which: a connection it thinks is still in a transaction runs every later
/// "transaction" as a savepoint inside one that never commits, answering success for
/// writes that never reach the disk. A fresh connection starts from a known state.
pub(super) fn discard(conn: &mut PoolConnection<Any>) {
    conn.close_on_drop();
}
