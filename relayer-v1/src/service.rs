//! The relayer's shared state and its intake operations, independent of HTTP.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use micropay::state::Tab;
use micropay_protocol::{client::SignedState, EpochState};
use solana_sdk::pubkey::Pubkey;
use tokio::sync::RwLock;

use crate::{
    chain::{decode_tab, Chain, ChainError},
    intake::{Rejection, TabContext},
    metrics::Metrics,
    store::{EpochStatus, Store, StoreError, StoredEpoch},
};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("unknown tab: not a tab of this relayer's config")]
    UnknownTab,
    #[error("chain unavailable and the tab was never seen: {0}")]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// On-chain tab states, refreshed in the background and on demand. When the RPC is
/// unreachable the last known state keeps intake working.
pub struct TabCache {
    tabs: RwLock<HashMap<Pubkey, (Tab, Instant)>>,
    max_age: Duration,
}

impl TabCache {
    pub fn new(max_age: Duration) -> Self {
        Self {
            tabs: RwLock::new(HashMap::new()),
            max_age,
        }
    }

    /// The tab, fetched if unknown or older than the refresh interval.
    pub async fn get(&self, chain: &dyn Chain, tab: &Pubkey) -> Result<Option<Tab>, ChainError> {
        if let Some((cached, at)) = self.tabs.read().await.get(tab) {
            if at.elapsed() < self.max_age {
                return Ok(Some(cached.clone()));
            }
        }
        match chain.accounts(&[*tab]).await {
            Ok(accounts) => {
                let decoded = decode_tab(accounts.first().and_then(Option::as_ref));
                self.store(tab, decoded.clone()).await;
                Ok(decoded)
            }
            Err(error) => match self.tabs.read().await.get(tab) {
                Some((cached, _)) => Ok(Some(cached.clone())),
                None => Err(error),
            },
        }
    }

    async fn store(&self, tab: &Pubkey, decoded: Option<Tab>) {
        let mut tabs = self.tabs.write().await;
        match decoded {
            Some(decoded) => {
                tabs.insert(*tab, (decoded, Instant::now()));
            }
            None => {
                tabs.remove(tab);
            }
        }
    }

    /// Refetches every known tab plus `extra`, in batches.
    pub async fn refresh(&self, chain: &dyn Chain, extra: &[Pubkey]) -> Result<(), ChainError> {
        let mut keys: Vec<Pubkey> = self.tabs.read().await.keys().copied().collect();
        keys.extend_from_slice(extra);
        keys.sort();
        keys.dedup();
        let accounts = chain.accounts(&keys).await?;
        for (key, account) in keys.iter().zip(&accounts) {
            self.store(key, decode_tab(account.as_ref())).await;
        }
        Ok(())
    }

    pub async fn cached(&self, tab: &Pubkey) -> Option<Tab> {
        self.tabs.read().await.get(tab).map(|(t, _)| t.clone())
    }
}

pub struct Relayer {
    pub config: Pubkey,
    pub store: Arc<dyn Store>,
    pub chain: Arc<dyn Chain>,
    pub tabs: TabCache,
    pub metrics: Metrics,
    /// Session keys must stay valid at least this long past a tip (seconds).
    pub min_session_validity: i64,
    /// Set by the operator (SIGUSR1) to settle every open epoch on the next pass,
    /// whatever the policy says; the engine clears it.
    pub settle_now: std::sync::atomic::AtomicBool,
}

/// A tab's current epoch state as the API reports it.
pub struct CurrentState {
    pub state: EpochState,
    /// Absent for the empty state of a new epoch.
    pub signed: Option<SignedState>,
}

impl Relayer {
    async fn chain_tab(&self, tab: &Pubkey) -> Result<Tab, IntakeError> {
        let chain_tab = self
            .tabs
            .get(self.chain.as_ref(), tab)
            .await?
            .ok_or(IntakeError::UnknownTab)?;
        if chain_tab.config != self.config {
            return Err(IntakeError::UnknownTab);
        }
        Ok(chain_tab)
    }

    /// The state the tab's next tip must extend.
    pub async fn current(&self, tab: &Pubkey) -> Result<CurrentState, IntakeError> {
        let chain_tab = self.chain_tab(tab).await?;
        let latest = self.store.latest(tab).await?;
        let context = TabContext {
            chain: &chain_tab,
            latest: latest.as_ref(),
            closed: &[],
            now: now_ms() / 1000,
            min_session_validity: self.min_session_validity,
        };
        let (state, previous) = context.base(*tab);
        let signed = match (previous, latest) {
            (Some(_), Some(latest)) => Some(latest.signed),
            _ => None,
        };
        Ok(CurrentState { state, signed })
    }

    /// Checks and durably stores a submitted state; returns once it is on disk.
    pub async fn submit(&self, submitted: SignedState) -> Result<StoredEpoch, IntakeError> {
        let result = self.try_submit(submitted).await;
        match &result {
            Ok(_) => self.metrics.tips_accepted.inc(),
            Err(error) => self
                .metrics
                .tips_rejected
                .with_label_values(&[reason(error)])
                .inc(),
        }
        result
    }

    async fn try_submit(&self, submitted: SignedState) -> Result<StoredEpoch, IntakeError> {
        let tab = submitted.state.tab;
        let chain_tab = self.chain_tab(&tab).await?;
        let (latest, closed) = self.store.intake_view(&tab).await?;
        let now = now_ms();
        let accepted = TabContext {
            chain: &chain_tab,
            latest: latest.as_ref(),
            closed: &closed,
            now: now / 1000,
            min_session_validity: self.min_session_validity,
        }
        .check(&submitted)?;
        if !self
            .store
            .accept(&submitted, accepted.previous_seq, accepted.tip, now)
            .await?
        {
            return Err(
                Rejection::Stale("another state for this epoch was accepted first".into()).into(),
            );
        }
        Ok(StoredEpoch {
            signed: submitted,
            status: EpochStatus::Open,
            opened_at_ms: latest
                .filter(|l| accepted.previous_seq.is_some() && l.status == EpochStatus::Open)
                .map_or(now, |l| l.opened_at_ms),
            settle_tx: None,
        })
    }
}

pub fn reason(error: &IntakeError) -> &'static str {
    match error {
        IntakeError::Rejected(Rejection::BadSignature(_)) => "bad_signature",
        IntakeError::Rejected(Rejection::InsufficientFunds { .. }) => "insufficient_funds",
        IntakeError::Rejected(Rejection::Stale(_)) => "stale_state",
        IntakeError::Rejected(Rejection::Policy(_)) => "policy",
        IntakeError::UnknownTab => "unknown_tab",
        IntakeError::Chain(_) => "chain_unavailable",
        IntakeError::Store(_) => "internal",
    }
}
