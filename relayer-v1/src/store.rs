//! Durable storage of signed epoch states, tips and settlements.
//!
//! One [`Store`] trait; one SQL implementation that runs on SQLite (embedded default,
//! WAL with `synchronous=FULL`, so a commit is on disk before it returns) and on
//! PostgreSQL (shared by several relayer instances). Both pass the same test suite.
//!
//! Accepted states are written by one task that commits whatever has queued up in one
//! transaction (group commit): one fsync acknowledges many tips, and each request is
//! answered only after its commit. Reads go through their own connections (SQLite's
//! WAL lets them run beside the writer).
//!
//! u64 quantities are stored bit-for-bit in signed 64-bit columns.

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use async_trait::async_trait;
use micropay_protocol::{client::SignedState, EpochState};
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use sqlx::{
    any::{AnyPoolOptions, AnyRow},
    AnyConnection, AnyPool, Executor, Row,
};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where an epoch of a tab is in its life at the relayer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochStatus {
    /// Accepting tips.
    Open,
    /// Rotated: no more tips; waiting for its settlement to land.
    Closed,
    /// Settled on chain (by us or anyone else).
    Settled,
    /// Can never settle: the tab was closed and reopened before it did.
    Void,
}

impl EpochStatus {
    fn as_str(self) -> &'static str {
        match self {
            EpochStatus::Open => "open",
            EpochStatus::Closed => "closed",
            EpochStatus::Settled => "settled",
            EpochStatus::Void => "void",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "open" => EpochStatus::Open,
            "closed" => EpochStatus::Closed,
            "settled" => EpochStatus::Settled,
            "void" => EpochStatus::Void,
            other => return Err(StoreError::Corrupt(format!("status {other}"))),
        })
    }
}

/// The newest signed state of one epoch of one tab, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEpoch {
    pub signed: SignedState,
    pub status: EpochStatus,
    /// When the epoch's first tip was accepted (unix milliseconds).
    pub opened_at_ms: i64,
    /// The last settlement transaction sent for this epoch, if any.
    pub settle_tx: Option<Signature>,
}

impl StoredEpoch {
    pub fn tab(&self) -> Pubkey {
        self.signed.state.tab
    }

    pub fn epoch(&self) -> u64 {
        self.signed.state.epoch
    }
}

/// One accepted tip, as listed to its payee.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TipRecord {
    pub tab: String,
    pub epoch: u64,
    pub seq: u32,
    pub payee: String,
    pub amount: u64,
    pub accepted_at_ms: i64,
    pub status: String,
    pub settle_tx: Option<String>,
}

/// A payee's share of one settled epoch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayeeSettlement {
    pub tab: String,
    pub epoch: u64,
    pub amount: u64,
    pub settle_tx: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The newest stored epoch of `tab`, if any.
    async fn latest(&self, tab: &Pubkey) -> StoreResult<Option<StoredEpoch>>;

    /// Epochs of `tab` that are closed but not yet settled, oldest first.
    async fn closed(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>>;

    /// [`Store::latest`] and [`Store::closed`] in one read: what intake checks a tip
    /// against.
    async fn intake_view(
        &self,
        tab: &Pubkey,
    ) -> StoreResult<(Option<StoredEpoch>, Vec<StoredEpoch>)>;

    /// Durably stores `next` as the state of its epoch if the stored state is still
    /// `previous_seq` (`None`: no state yet for that epoch) and the epoch is open,
    /// together with the tip it adds. Returns false if another state won the race.
    async fn accept(
        &self,
        next: &SignedState,
        previous_seq: Option<u32>,
        tip: (Pubkey, u64),
        now_ms: i64,
    ) -> StoreResult<bool>;

    /// Every open epoch (for the settlement policy).
    async fn open_epochs(&self) -> StoreResult<Vec<StoredEpoch>>;

    /// Every closed epoch, oldest first per tab.
    async fn all_closed(&self) -> StoreResult<Vec<StoredEpoch>>;

    /// Every settled epoch, with the transaction that settled it (for reports).
    async fn all_settled(&self) -> StoreResult<Vec<StoredEpoch>>;

    /// Open -> closed: stops intake for the epochs.
    /// One transaction for all `epochs` (`(tab, epoch)`): whether each was open.
    async fn close_epochs(&self, epochs: &[(Pubkey, u64)]) -> StoreResult<Vec<bool>>;

    /// Takes the right to settle closed epochs until `until_ms`, except those another
    /// instance holds an unexpired lease on. One transaction; whether each was taken.
    async fn lease(
        &self,
        epochs: &[(Pubkey, u64)],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<Vec<bool>>;

    /// Records the transaction carrying these epochs' settlement, before it is sent.
    async fn record_settle_tx(&self, epochs: &[(Pubkey, u64)], tx: &Signature) -> StoreResult<()>;

    /// Moves an epoch that is open or closed to settled or void.
    async fn finish(&self, tab: &Pubkey, epoch: u64, status: EpochStatus) -> StoreResult<()>;

    async fn payee_tips(&self, payee: &Pubkey, limit: u32) -> StoreResult<Vec<TipRecord>>;

    async fn payee_settlements(
        &self,
        payee: &Pubkey,
        limit: u32,
    ) -> StoreResult<Vec<PayeeSettlement>>;

    /// Epoch counts by status, for metrics.
    async fn counts(&self) -> StoreResult<BTreeMap<&'static str, u64>>;

    /// Address lookup tables `authority` created, oldest first.
    async fn lookup_tables(&self, authority: &Pubkey) -> StoreResult<Vec<Pubkey>>;

    /// Remembers a lookup table `authority` created, so restarts reuse it.
    async fn add_lookup_table(
        &self,
        authority: &Pubkey,
        table: &Pubkey,
        now_ms: i64,
    ) -> StoreResult<()>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The SQL store, on SQLite or PostgreSQL depending on the URL.
pub struct SqlStore {
    /// Writes. For SQLite a single connection: SQLite has one writer.
    pool: AnyPool,
    /// Reads.
    reader: AnyPool,
    accepts: mpsc::Sender<AcceptRequest>,
}

/// Most states committed in one transaction.
const GROUP_COMMIT_MAX: usize = 512;

struct AcceptRequest {
    next: SignedState,
    previous_seq: Option<u32>,
    tip: (Pubkey, u64),
    now_ms: i64,
    reply: oneshot::Sender<StoreResult<bool>>,
}

const COLUMNS: &str =
    "tab, epoch, incarnation, seq, total, entries, signer, signature, status, opened_at, settle_tx";

impl SqlStore {
    /// Opens (creating if needed) the store at `url`: `sqlite://path` or `postgres://...`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = |connections: u32| {
            AnyPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(match backend {
            // SQLite has one writer; more connections only add lock contention.
            Backend::Sqlite => 1,
            Backend::Postgres => 8,
        })
        .connect(&url)
        .await?;
        let blob = match backend {
            Backend::Sqlite => "BLOB",
            Backend::Postgres => "BYTEA",
        };
        let schema = [
            format!(
                "CREATE TABLE IF NOT EXISTS epoch_states (
                    tab TEXT NOT NULL,
                    epoch BIGINT NOT NULL,
                    incarnation BIGINT NOT NULL,
                    seq BIGINT NOT NULL,
                    total BIGINT NOT NULL,
                    entries {blob} NOT NULL,
                    signer TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    status TEXT NOT NULL,
                    opened_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    lease_owner TEXT,
                    lease_until BIGINT NOT NULL DEFAULT 0,
                    settle_tx TEXT,
                    PRIMARY KEY (tab, epoch)
                )"
            ),
            "CREATE INDEX IF NOT EXISTS epoch_states_by_status ON epoch_states (status, tab, epoch)"
                .to_string(),
            "CREATE TABLE IF NOT EXISTS tips (
                tab TEXT NOT NULL,
                epoch BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                payee TEXT NOT NULL,
                amount BIGINT NOT NULL,
                accepted_at BIGINT NOT NULL,
                PRIMARY KEY (tab, epoch, seq)
            )"
            .to_string(),
            "CREATE INDEX IF NOT EXISTS tips_by_payee ON tips (payee, accepted_at)".to_string(),
            "CREATE TABLE IF NOT EXISTS lookup_tables (
                address TEXT PRIMARY KEY,
                authority TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )"
            .to_string(),
        ];
        for statement in schema {
            pool.execute(statement.as_str()).await?;
        }
        let reader = match backend {
            Backend::Sqlite => options(4).connect(&url).await?,
            Backend::Postgres => pool.clone(),
        };
        let (accepts, requests) = mpsc::channel(4 * GROUP_COMMIT_MAX);
        tokio::spawn(group_commit(pool.clone(), requests));
        Ok(Self {
            pool,
            reader,
            accepts,
        })
    }

    async fn epochs(&self, sql: &str, tab: Option<&Pubkey>) -> StoreResult<Vec<StoredEpoch>> {
        let mut query = sqlx::query(sql);
        if let Some(tab) = tab {
            query = query.bind(tab.to_string());
        }
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(row_to_epoch)
            .collect()
    }
}

fn encode_entries(state: &EpochState) -> Vec<u8> {
    let mut out = Vec::with_capacity(state.entries.len() * 40);
    for (payee, amount) in &state.entries {
        out.extend_from_slice(payee.as_ref());
        out.extend_from_slice(&amount.to_le_bytes());
    }
    out
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

fn parse<T: FromStr>(what: &str, s: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {s}")))
}

fn row_to_epoch(row: &AnyRow) -> StoreResult<StoredEpoch> {
    let tab: String = row.try_get("tab")?;
    let signer: String = row.try_get("signer")?;
    let signature: String = row.try_get("signature")?;
    let status: String = row.try_get("status")?;
    let settle_tx: Option<String> = row.try_get("settle_tx")?;
    let entries: Vec<u8> = row.try_get("entries")?;
    let state = EpochState {
        tab: parse("tab", &tab)?,
        incarnation: row.try_get::<i64, _>("incarnation")? as u64,
        epoch: row.try_get::<i64, _>("epoch")? as u64,
        seq: row.try_get::<i64, _>("seq")? as u32,
        total: row.try_get::<i64, _>("total")? as u64,
        entries: decode_entries(&entries)?,
    };
    Ok(StoredEpoch {
        signed: SignedState {
            state,
            signer: parse("signer", &signer)?,
            signature: parse("signature", &signature)?,
        },
        status: EpochStatus::parse(&status)?,
        opened_at_ms: row.try_get("opened_at")?,
        settle_tx: settle_tx.map(|s| parse("settle_tx", &s)).transpose()?,
    })
}

#[async_trait]
impl Store for SqlStore {
    async fn latest(&self, tab: &Pubkey) -> StoreResult<Option<StoredEpoch>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states WHERE tab = $1 ORDER BY epoch DESC LIMIT 1"
        );
        Ok(self.epochs(&sql, Some(tab)).await?.pop())
    }

    async fn closed(&self, tab: &Pubkey) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states WHERE tab = $1 AND status = 'closed' ORDER BY epoch"
        );
        self.epochs(&sql, Some(tab)).await
    }

    async fn intake_view(
        &self,
        tab: &Pubkey,
    ) -> StoreResult<(Option<StoredEpoch>, Vec<StoredEpoch>)> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states WHERE tab = $1 AND (status = 'closed' OR
                epoch = (SELECT MAX(epoch) FROM epoch_states WHERE tab = $1))
             ORDER BY epoch"
        );
        let epochs = self.epochs(&sql, Some(tab)).await?;
        let latest = epochs.last().cloned();
        let closed = epochs
            .into_iter()
            .filter(|e| e.status == EpochStatus::Closed)
            .collect();
        Ok((latest, closed))
    }

    async fn accept(
        &self,
        next: &SignedState,
        previous_seq: Option<u32>,
        tip: (Pubkey, u64),
        now_ms: i64,
    ) -> StoreResult<bool> {
        let (reply, answer) = oneshot::channel();
        let request = AcceptRequest {
            next: next.clone(),
            previous_seq,
            tip,
            now_ms,
            reply,
        };
        let stopped = || StoreError::Corrupt("the store's writer has stopped".into());
        self.accepts.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn open_epochs(&self) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!("SELECT {COLUMNS} FROM epoch_states WHERE status = 'open'");
        self.epochs(&sql, None).await
    }

    async fn all_closed(&self) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states WHERE status = 'closed' ORDER BY tab, epoch"
        );
        self.epochs(&sql, None).await
    }

    async fn all_settled(&self) -> StoreResult<Vec<StoredEpoch>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states WHERE status = 'settled' ORDER BY tab, epoch"
        );
        self.epochs(&sql, None).await
    }

    async fn close_epochs(&self, epochs: &[(Pubkey, u64)]) -> StoreResult<Vec<bool>> {
        let mut tx = self.pool.begin().await?;
        let mut closed = Vec::with_capacity(epochs.len());
        for (tab, epoch) in epochs {
            let result = sqlx::query(
                "UPDATE epoch_states SET status = 'closed'
                 WHERE tab = $1 AND epoch = $2 AND status = 'open'",
            )
            .bind(tab.to_string())
            .bind(*epoch as i64)
            .execute(&mut *tx)
            .await?;
            closed.push(result.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(closed)
    }

    async fn lease(
        &self,
        epochs: &[(Pubkey, u64)],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<Vec<bool>> {
        let mut tx = self.pool.begin().await?;
        let mut taken = Vec::with_capacity(epochs.len());
        for (tab, epoch) in epochs {
            let result = sqlx::query(
                "UPDATE epoch_states SET lease_owner = $1, lease_until = $2
                 WHERE tab = $3 AND epoch = $4 AND status = 'closed'
                   AND (lease_until <= $5 OR lease_owner = $1)",
            )
            .bind(owner)
            .bind(until_ms)
            .bind(tab.to_string())
            .bind(*epoch as i64)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            taken.push(result.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(taken)
    }

    async fn record_settle_tx(
        &self,
        epochs: &[(Pubkey, u64)],
        settle_tx: &Signature,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (tab, epoch) in epochs {
            sqlx::query("UPDATE epoch_states SET settle_tx = $1 WHERE tab = $2 AND epoch = $3")
                .bind(settle_tx.to_string())
                .bind(tab.to_string())
                .bind(*epoch as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn finish(&self, tab: &Pubkey, epoch: u64, status: EpochStatus) -> StoreResult<()> {
        sqlx::query(
            "UPDATE epoch_states SET status = $1
             WHERE tab = $2 AND epoch = $3 AND status IN ('open', 'closed')",
        )
        .bind(status.as_str())
        .bind(tab.to_string())
        .bind(epoch as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn payee_tips(&self, payee: &Pubkey, limit: u32) -> StoreResult<Vec<TipRecord>> {
        let rows = sqlx::query(
            "SELECT t.tab, t.epoch, t.seq, t.payee, t.amount, t.accepted_at, e.status, e.settle_tx
             FROM tips t JOIN epoch_states e ON e.tab = t.tab AND e.epoch = t.epoch
             WHERE t.payee = $1 ORDER BY t.accepted_at DESC, t.seq DESC LIMIT $2",
        )
        .bind(payee.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(TipRecord {
                    tab: row.try_get("tab")?,
                    epoch: row.try_get::<i64, _>("epoch")? as u64,
                    seq: row.try_get::<i64, _>("seq")? as u32,
                    payee: row.try_get("payee")?,
                    amount: row.try_get::<i64, _>("amount")? as u64,
                    accepted_at_ms: row.try_get("accepted_at")?,
                    status: EpochStatus::parse(&status)?.as_str().to_string(),
                    settle_tx: row.try_get("settle_tx")?,
                })
            })
            .collect()
    }

    async fn payee_settlements(
        &self,
        payee: &Pubkey,
        limit: u32,
    ) -> StoreResult<Vec<PayeeSettlement>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM epoch_states
             WHERE status = 'settled' AND tab IN (SELECT DISTINCT tab FROM tips WHERE payee = $1)
             ORDER BY updated_at DESC"
        );
        let mut out = Vec::new();
        for epoch in self.epochs(&sql, Some(payee)).await? {
            if let Some(amount) = epoch.signed.state.entries.get(payee) {
                out.push(PayeeSettlement {
                    tab: epoch.tab().to_string(),
                    epoch: epoch.epoch(),
                    amount: *amount,
                    settle_tx: epoch.settle_tx.map(|s| s.to_string()),
                });
            }
            if out.len() >= limit as usize {
                break;
            }
        }
        Ok(out)
    }

    async fn counts(&self) -> StoreResult<BTreeMap<&'static str, u64>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM epoch_states GROUP BY status")
            .fetch_all(&self.reader)
            .await?;
        let mut out = BTreeMap::new();
        for row in rows {
            let status: String = row.try_get("status")?;
            out.insert(
                EpochStatus::parse(&status)?.as_str(),
                row.try_get::<i64, _>("n")? as u64,
            );
        }
        Ok(out)
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
}

/// Writes one state and its tip inside the caller's transaction, if the stored state
/// is still `previous_seq`. False (and nothing written) if another state won.
async fn write_accept(tx: &mut AnyConnection, request: &AcceptRequest) -> StoreResult<bool> {
    let AcceptRequest {
        next,
        previous_seq,
        tip: (payee, amount),
        now_ms,
        ..
    } = request;
    let state = &next.state;
    let tab = state.tab.to_string();
    let written = match *previous_seq {
        None => sqlx::query(
            "INSERT INTO epoch_states
                (tab, epoch, incarnation, seq, total, entries, signer, signature, status,
                 opened_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $9)
             ON CONFLICT (tab, epoch) DO NOTHING",
        )
        .bind(&tab)
        .bind(state.epoch as i64)
        .bind(state.incarnation as i64)
        .bind(i64::from(state.seq))
        .bind(state.total as i64)
        .bind(encode_entries(state))
        .bind(next.signer.to_string())
        .bind(next.signature.to_string())
        .bind(*now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        Some(previous) => sqlx::query(
            "UPDATE epoch_states
             SET seq = $1, total = $2, entries = $3, signer = $4, signature = $5, updated_at = $6
             WHERE tab = $7 AND epoch = $8 AND seq = $9 AND status = 'open'",
        )
        .bind(i64::from(state.seq))
        .bind(state.total as i64)
        .bind(encode_entries(state))
        .bind(next.signer.to_string())
        .bind(next.signature.to_string())
        .bind(*now_ms)
        .bind(&tab)
        .bind(state.epoch as i64)
        .bind(i64::from(previous))
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if written != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO tips (tab, epoch, seq, payee, amount, accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&tab)
    .bind(state.epoch as i64)
    .bind(i64::from(state.seq))
    .bind(payee.to_string())
    .bind(*amount as i64)
    .bind(*now_ms)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// Commits `requests` in one transaction, answering each after the commit.
async fn write_accepts(pool: &AnyPool, requests: &[AcceptRequest]) -> StoreResult<Vec<bool>> {
    let mut tx = pool.begin().await?;
    let mut written = Vec::with_capacity(requests.len());
    for request in requests {
        written.push(write_accept(&mut tx, request).await?);
    }
    tx.commit().await?;
    Ok(written)
}

/// The writer: takes every request that has queued up (up to [`GROUP_COMMIT_MAX`]),
/// commits them together, and answers. If the group fails, each request is retried on
/// its own, so one bad request cannot fail the others.
async fn group_commit(pool: AnyPool, mut requests: mpsc::Receiver<AcceptRequest>) {
    let mut group = Vec::with_capacity(GROUP_COMMIT_MAX);
    while requests.recv_many(&mut group, GROUP_COMMIT_MAX).await > 0 {
        match write_accepts(&pool, &group).await {
            Ok(written) => {
                for (request, written) in group.drain(..).zip(written) {
                    let _ = request.reply.send(Ok(written));
                }
            }
            Err(_) => {
                for request in group.drain(..) {
                    let result = write_accepts(&pool, std::slice::from_ref(&request))
                        .await
                        .map(|written| written[0]);
                    let _ = request.reply.send(result);
                }
            }
        }
    }
}
