//! The sequencer's intake: checks a submitted state against the chain and the store
//! ([`rules`]), receipts it, persists it, and only then answers and pushes the
//! receipt to its payees.

mod batch;
mod cache;
pub mod ledger;
pub mod rules;
mod signatures;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use micropay_api::ErrorCode;
use micropay_interface::state::{Config, Tab};
use micropay_protocol::{Receipted, SignedStream, StreamState};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

use cache::PayeeError;
pub use cache::{ConfigCache, PayeeCache, TabCache};
use ledger::{Ledger, Reservation};
use rules::{Checked, Rejection, TabContext};
use signatures::VerifiedSignatures;

use crate::{
    chain::{Chain, ChainError},
    domain::{now_ms, Accepted, StoredEpoch, StreamKey},
    metrics::Metrics,
    receipts::ReceiptHub,
    store::{IntakeStore, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("chain unavailable and the tab was never seen: {0}")]
    Chain(#[from] ChainError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("could not sign the receipt: {0}")]
    Signing(String),
}

impl IntakeError {
    /// Refusals a key, a deposit or a cap added on chain since the tab was cached
    /// would lift.
    fn tab_may_be_stale(&self) -> bool {
        matches!(
            self,
            IntakeError::Rejected(
                Rejection::UnknownStream(_)
                    | Rejection::BadSignature
                    | Rejection::InsufficientFunds { .. }
                    | Rejection::Policy(_)
            )
        )
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            IntakeError::Rejected(rejection) => rejection.code(),
            IntakeError::Chain(_) => ErrorCode::ChainUnavailable,
            IntakeError::Store(StoreError::Full(_)) => ErrorCode::StoreFull,
            IntakeError::Store(_) | IntakeError::Signing(_) => ErrorCode::Internal,
        }
    }
}

impl From<PayeeError> for IntakeError {
    fn from(error: PayeeError) -> Self {
        match error {
            PayeeError::Refused(rejection) => rejection.into(),
            PayeeError::Chain(chain) => chain.into(),
        }
    }
}

pub struct IntakeLimits {
    /// A key must stay usable this long past a tip (seconds).
    pub min_key_validity: i64,
    pub tab_max_age: Duration,
    pub config_max_age: Duration,
    pub payee_max_age: Duration,
}

struct Loaded {
    config: Config,
    tab: Tab,
    stored: Vec<StoredEpoch>,
}

/// The one tip a state adds over the stream's previous one, and the tab's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    pub payer: Pubkey,
    /// (payee wallet, amount)
    pub tip: (Pubkey, u64),
}

/// A stream as the API shows it.
pub struct StreamSnapshot {
    pub next: StreamState,
    pub key: Pubkey,
    pub latest: Option<StoredEpoch>,
}

pub struct Sequencer {
    key: Keypair,
    ledger: Arc<Ledger>,
    chain: Arc<dyn Chain>,
    config: ConfigCache,
    tabs: Arc<TabCache>,
    payees: PayeeCache,
    receipts: ReceiptHub,
    metrics: Arc<Metrics>,
    min_key_validity: i64,
    signatures: VerifiedSignatures,
}

impl Sequencer {
    /// `sole_writer`: whether this process alone writes `store`, so that the ledger
    /// may keep what it holds in memory.
    pub async fn new(
        key: Keypair,
        config: Pubkey,
        store: Arc<dyn IntakeStore>,
        sole_writer: bool,
        chain: Arc<dyn Chain>,
        metrics: Arc<Metrics>,
        limits: IntakeLimits,
    ) -> Result<Self, ChainError> {
        Ok(Self {
            config: ConfigCache::load(chain.as_ref(), config, limits.config_max_age).await?,
            key,
            ledger: Arc::new(Ledger::new(store, sole_writer)),
            chain,
            tabs: Arc::new(TabCache::new(limits.tab_max_age)),
            payees: PayeeCache::new(limits.payee_max_age),
            receipts: ReceiptHub::default(),
            metrics,
            min_key_validity: limits.min_key_validity,
            signatures: VerifiedSignatures::default(),
        })
    }

    pub fn sequencer(&self) -> Pubkey {
        self.key.pubkey()
    }

    pub fn config_address(&self) -> Pubkey {
        self.config.address()
    }

    pub fn receipts(&self) -> &ReceiptHub {
        &self.receipts
    }

    /// The tab cache, shared with the settlement engine, whose passes keep it fresh.
    pub fn tabs_handle(&self) -> Arc<TabCache> {
        self.tabs.clone()
    }

    /// The ledger, which the settlement store tells of epochs it moves on.
    pub fn ledger_handle(&self) -> Arc<Ledger> {
        self.ledger.clone()
    }

    pub fn chain(&self) -> &dyn Chain {
        self.chain.as_ref()
    }

    /// The lowest fee a new state may sign: the config's, or a pending one if higher
    /// (it may take effect before the state settles).
    pub fn required_fee_bps(config: &Config) -> u16 {
        let pending = if config.pending_effective_at.get() != 0 {
            config.pending.fee_bps.get()
        } else {
            0
        };
        config.params.fee_bps.get().max(pending)
    }

    /// What intake checks a state of `tab` against: the config, the tab as on chain
    /// (read after `read_since` when given), and the tab's stored epochs, with the
    /// states being written when `with_writing`.
    async fn load(
        &self,
        tab: &Pubkey,
        read_since: Option<Instant>,
        with_writing: bool,
    ) -> Result<Loaded, IntakeError> {
        let config = self.config.get(self.chain.as_ref()).await;
        let unknown = || Rejection::UnknownStream(format!("{tab} is not a tab of this config"));
        let chain_tab = match read_since {
            Some(since) => {
                self.tabs
                    .get_read_since(self.chain.as_ref(), tab, since)
                    .await
            }
            None => self.tabs.get(self.chain.as_ref(), tab).await,
        }?
        .ok_or_else(unknown)?;
        if chain_tab.config != self.config.address() {
            return Err(unknown().into());
        }
        let stored = if with_writing {
            self.ledger.epochs(tab).await?
        } else {
            self.ledger.stored(tab).await?
        };
        Ok(Loaded {
            config,
            tab: chain_tab,
            stored,
        })
    }

    fn context<'a>(&'a self, loaded: &'a Loaded, stored: &'a [StoredEpoch]) -> TabContext<'a> {
        TabContext {
            tab: &loaded.tab,
            stored,
            required_fee_bps: Self::required_fee_bps(&loaded.config),
            now: now_ms() / 1_000,
            min_key_validity: self.min_key_validity,
            signatures: &self.signatures,
        }
    }

    /// The state the stream's next tip must extend.
    pub async fn stream(&self, stream: StreamKey) -> Result<StreamSnapshot, IntakeError> {
        let started = Instant::now();
        match self.snapshot(stream, None).await {
            Err(error) if error.tab_may_be_stale() => self.snapshot(stream, Some(started)).await,
            other => other,
        }
    }

    async fn snapshot(
        &self,
        stream: StreamKey,
        read_since: Option<Instant>,
    ) -> Result<StreamSnapshot, IntakeError> {
        let loaded = self.load(&stream.tab, read_since, false).await?;
        let context = self.context(&loaded, &loaded.stored);
        let (next, _) = context.base(stream.tab, stream.slot)?;
        Ok(StreamSnapshot {
            next,
            key: loaded.tab.slots[stream.slot as usize].key,
            latest: context.latest(stream.slot).cloned(),
        })
    }

    /// The config as last read (its mint; [`Self::required_fee_bps`] of it).
    pub async fn config(&self) -> Config {
        self.config.get(self.chain.as_ref()).await
    }

    /// The rules against the chain and the store, then the payee: what `verify` and
    /// `submit` both check. A refusal a newer tab could lift is checked again against
    /// the tab read from the chain after the request arrived.
    async fn admit(
        &self,
        submitted: &SignedStream,
    ) -> Result<(Loaded, Checked, Payment), IntakeError> {
        let started = Instant::now();
        match self.admit_with(submitted, None).await {
            Err(error) if error.tab_may_be_stale() => {
                self.admit_with(submitted, Some(started)).await
            }
            other => other,
        }
    }

    async fn admit_with(
        &self,
        submitted: &SignedStream,
        read_since: Option<Instant>,
    ) -> Result<(Loaded, Checked, Payment), IntakeError> {
        let tab = submitted.state.tab;
        let loaded = self.load(&tab, read_since, true).await?;
        let checked = self
            .context(&loaded, &loaded.stored)
            .check(tab, submitted)?;
        self.payees
            .check(
                self.chain.as_ref(),
                &self.config.address(),
                &loaded.config,
                &checked.tip.0,
            )
            .await?;
        let payment = Payment {
            payer: loaded.tab.owner,
            tip: checked.tip,
        };
        Ok((loaded, checked, payment))
    }

    /// Whether `submitted` would be receipted now, and if so the payment it adds (one
    /// tip) and who pays it (the tab's owner). Receipts and stores nothing.
    pub async fn verify(&self, submitted: &SignedStream) -> Result<Payment, IntakeError> {
        self.admit(submitted).await.map(|(_, _, payment)| payment)
    }

    /// Checks, receipts and durably stores `submitted`; returns once it is on disk.
    pub async fn submit(&self, submitted: SignedStream) -> Result<Receipted, IntakeError> {
        self.submit_paying(submitted, None)
            .await
            .map(|(receipted, _)| receipted)
    }

    /// [`Self::submit`], refusing the state unless the tip it adds is `expected`
    /// (payee, amount): how a paid call's payment is made final.
    pub async fn submit_paying(
        &self,
        submitted: SignedStream,
        expected: Option<(Pubkey, u64)>,
    ) -> Result<(Receipted, Payment), IntakeError> {
        let result = match self.reserve(submitted, expected).await {
            Ok((reserved, payment)) => self.receipted(reserved).await.map(|r| (r, payment)),
            Err(error) => Err(error),
        };
        self.count(result.as_ref().map(|_| ()));
        result
    }

    fn count(&self, result: Result<(), &IntakeError>) {
        match result {
            Ok(()) => self.metrics.tips_accepted.inc(),
            Err(error) => self
                .metrics
                .tips_rejected
                .with_label_values(&[error.code().as_str()])
                .inc(),
        }
    }

    /// Checks and receipts `submitted` and starts its write: from now on every other
    /// state of its tab is checked with it counted, and [`Self::receipted`] waits for
    /// it to be durable.
    async fn reserve(
        &self,
        submitted: SignedStream,
        expected: Option<(Pubkey, u64)>,
    ) -> Result<(Reservation, Payment), IntakeError> {
        let (loaded, checked, payment) = self.admit(&submitted).await?;
        if let Some((payee, amount)) = expected.filter(|tip| *tip != checked.tip) {
            return Err(Rejection::Policy(format!(
                "the state pays {} to {}, not {amount} to {payee}",
                checked.tip.1, checked.tip.0
            ))
            .into());
        }
        let tab = submitted.state.tab;
        // Checked again against the tab's epochs as they stand once its turn comes,
        // states other streams are writing included; the signature, the tab and the
        // payee were checked above.
        let reserved = self
            .ledger
            .reserve_checked(&tab, |epochs| {
                let now = self
                    .context(&loaded, epochs)
                    .check_state(tab, &submitted.state)?;
                if now != checked {
                    return Err(IntakeError::from(Rejection::Stale(
                        "another state of this stream was receipted first".into(),
                    )));
                }
                let receipted = submitted
                    .receipt(&self.key)
                    .map_err(|e| IntakeError::Signing(e.to_string()))?;
                Ok(Accepted {
                    receipted,
                    previous_seq: checked.previous_seq,
                    tip: checked.tip,
                    at_ms: now_ms(),
                })
            })
            .await?;
        Ok((reserved, payment))
    }

    /// The reserved state once it is durable, its receipt pushed to its payees.
    async fn receipted(&self, reserved: Reservation) -> Result<Receipted, IntakeError> {
        let queued = reserved.queued();
        let (accepted, written) = reserved.written().await?;
        self.metrics.waited_for_commit(queued);
        if !written {
            return Err(Rejection::Stale(
                "another state of this stream was receipted first".into(),
            )
            .into());
        }
        self.receipts.publish(accepted.receipted.clone());
        Ok(accepted.receipted)
    }
}
