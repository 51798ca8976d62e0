//! What intake reads from chain, cached: tabs, the config, and which payees can
//! receive. When the RPC is unreachable the last known tab keeps intake working.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use micropay_interface::{
    client::{associated_token_address, vault_address, vault_authority_address},
    state::{Config, Tab},
};
use solana_sdk::{account::Account, pubkey::Pubkey};
use tokio::sync::{Mutex, RwLock};

use super::rules::Rejection;
use crate::chain::{decode_config, decode_tab, Chain, ChainError};

/// Tabs as last read from chain, refetched when older than `max_age`. Each is kept
/// with the moment the read that returned it was sent.
pub struct TabCache {
    tabs: RwLock<HashMap<Pubkey, (Tab, Instant)>>,
    /// One read at a time per stripe of tabs: requests that find a tab too old wait for
    /// a read in progress instead of each sending their own, so that a burst of
    /// requests (refusals rechecked against the chain among them) costs a few reads,
    /// and never more than [`READ_STRIPES`] at once.
    reads: [Mutex<()>; READ_STRIPES],
    max_age: Duration,
}

/// Tab reads that may be in flight at once.
pub const READ_STRIPES: usize = 16;

impl TabCache {
    pub fn new(max_age: Duration) -> Self {
        Self {
            tabs: RwLock::new(HashMap::new()),
            reads: std::array::from_fn(|_| Mutex::new(())),
            max_age,
        }
    }

    pub async fn get(&self, chain: &dyn Chain, tab: &Pubkey) -> Result<Option<Tab>, ChainError> {
        let max_age = self.max_age;
        self.get_if(chain, tab, |read| read.elapsed() < max_age)
            .await
    }

    /// The tab as read at or after `since`: a request that a newer tab could allow (a
    /// key, a deposit or a cap added on chain before it arrived) asks for one read
    /// sent after it started.
    pub async fn get_read_since(
        &self,
        chain: &dyn Chain,
        tab: &Pubkey,
        since: Instant,
    ) -> Result<Option<Tab>, ChainError> {
        self.get_if(chain, tab, |read| read >= since).await
    }

    /// The cached tab if `fresh` holds of when it was read, else a new read.
    async fn get_if(
        &self,
        chain: &dyn Chain,
        tab: &Pubkey,
        fresh: impl Fn(Instant) -> bool,
    ) -> Result<Option<Tab>, ChainError> {
        let cached = || async {
            let tabs = self.tabs.read().await;
            tabs.get(tab)
                .filter(|(_, read)| fresh(*read))
                .map(|(t, _)| *t)
        };
        if let Some(found) = cached().await {
            return Ok(Some(found));
        }
        let _turn = self.reads[usize::from(tab.to_bytes()[0]) % READ_STRIPES]
            .lock()
            .await;
        if let Some(found) = cached().await {
            return Ok(Some(found));
        }
        self.fetch(chain, tab).await
    }

    async fn fetch(&self, chain: &dyn Chain, tab: &Pubkey) -> Result<Option<Tab>, ChainError> {
        let sent = Instant::now();
        match chain.accounts(&[*tab]).await {
            Ok(accounts) => {
                let decoded = decode_tab(accounts.first().and_then(Option::as_ref));
                self.put(tab, decoded, sent).await;
                Ok(decoded)
            }
            Err(error) => match self.tabs.read().await.get(tab) {
                Some((cached, _)) => Ok(Some(*cached)),
                None => Err(error),
            },
        }
    }

    async fn put(&self, tab: &Pubkey, decoded: Option<Tab>, sent: Instant) {
        let mut tabs = self.tabs.write().await;
        match decoded {
            // A read sent earlier than the one cached must not replace it.
            Some(decoded) => {
                if tabs.get(tab).is_none_or(|(_, read)| *read <= sent) {
                    tabs.insert(*tab, (decoded, sent));
                }
            }
            None => {
                tabs.remove(tab);
            }
        }
    }

    /// Refetches `tabs` in batches; returns what the chain holds for each.
    pub async fn refresh(
        &self,
        chain: &dyn Chain,
        tabs: &[Pubkey],
    ) -> Result<HashMap<Pubkey, Tab>, ChainError> {
        let sent = Instant::now();
        let accounts = chain.accounts(tabs).await?;
        let mut out = HashMap::new();
        for (key, account) in tabs.iter().zip(&accounts) {
            let decoded = decode_tab(account.as_ref());
            self.put(key, decoded, sent).await;
            if let Some(tab) = decoded {
                out.insert(*key, tab);
            }
        }
        Ok(out)
    }
}

/// The deployment's config, refetched when older than `max_age`.
pub struct ConfigCache {
    address: Pubkey,
    config: RwLock<(Config, Instant)>,
    max_age: Duration,
}

impl ConfigCache {
    pub async fn load(
        chain: &dyn Chain,
        address: Pubkey,
        max_age: Duration,
    ) -> Result<Self, ChainError> {
        let config = Self::fetch(chain, &address).await?;
        Ok(Self {
            address,
            config: RwLock::new((config, Instant::now())),
            max_age,
        })
    }

    async fn fetch(chain: &dyn Chain, address: &Pubkey) -> Result<Config, ChainError> {
        let accounts = chain.accounts(&[*address]).await?;
        decode_config(accounts.first().and_then(Option::as_ref))
            .ok_or_else(|| ChainError::Rpc(format!("{address} is not a micropay config")))
    }

    pub fn address(&self) -> Pubkey {
        self.address
    }

    /// The config; a failed refresh keeps the last one.
    pub async fn get(&self, chain: &dyn Chain) -> Config {
        let (config, at) = *self.config.read().await;
        if at.elapsed() < self.max_age {
            return config;
        }
        match Self::fetch(chain, &self.address).await {
            Ok(fresh) => {
                *self.config.write().await = (fresh, Instant::now());
                fresh
            }
            Err(error) => {
                tracing::warn!(%error, "config refresh failed; using the last one read");
                config
            }
        }
    }
}

/// Payees that passed the intake check recently. A refusal is not cached, so that a
/// payee who creates its token account can be tipped at once.
pub struct PayeeCache {
    accepted: RwLock<HashMap<Pubkey, Instant>>,
    max_age: Duration,
}

impl PayeeCache {
    pub fn new(max_age: Duration) -> Self {
        Self {
            accepted: RwLock::new(HashMap::new()),
            max_age,
        }
    }

    /// Refuses wallets the program refuses (the config, the vault and its authority,
    /// program accounts such as tabs) and wallets without a token account of the mint
    /// that can receive.
    pub async fn check(
        &self,
        chain: &dyn Chain,
        config_key: &Pubkey,
        config: &Config,
        wallet: &Pubkey,
    ) -> Result<(), PayeeError> {
        if let Some(at) = self.accepted.read().await.get(wallet) {
            if at.elapsed() < self.max_age {
                return Ok(());
            }
        }
        let refused = wallet == config_key
            || *wallet == vault_authority_address(config_key)
            || *wallet == vault_address(config_key);
        if refused {
            return Err(Rejection::Policy(format!("{wallet} cannot be a payee")).into());
        }
        let token_account = associated_token_address(wallet, &config.mint, &config.token_program);
        let accounts = chain.accounts(&[*wallet, token_account]).await?;
        if accounts[0]
            .as_ref()
            .is_some_and(|account| account.owner == micropay_interface::ID)
        {
            return Err(
                Rejection::Policy(format!("{wallet} is a micropay account, not a wallet")).into(),
            );
        }
        if !can_receive(accounts[1].as_ref(), &config.mint, &config.token_program) {
            return Err(Rejection::Policy(format!(
                "{wallet} has no token account of the mint that can receive (expected {token_account})"
            ))
            .into());
        }
        self.accepted.write().await.insert(*wallet, Instant::now());
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PayeeError {
    #[error(transparent)]
    Refused(#[from] Rejection),
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// An initialized, unfrozen token account of `mint` under `token_program` (the SPL
/// Token account layout, shared by Token-2022: mint, owner, amount, delegate, state).
fn can_receive(account: Option<&Account>, mint: &Pubkey, token_program: &Pubkey) -> bool {
    const STATE: usize = 108;
    const INITIALIZED: u8 = 1;
    account.is_some_and(|account| {
        account.owner == *token_program
            && account.data.len() > STATE
            && account.data[..32] == mint.to_bytes()
            && account.data[STATE] == INITIALIZED
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use async_trait::async_trait;
    use micropay_interface::state::AccountLayout;
    use solana_sdk::{hash::Hash, signature::Signature, transaction::VersionedTransaction};

    use super::*;
    use crate::chain::{ChainResult, Simulation, TxStatus};

    /// Every address holds an (empty) tab; reads are counted and take 20 ms.
    #[derive(Default)]
    struct Tabs {
        reads: AtomicUsize,
    }

    #[async_trait]
    impl Chain for Tabs {
        async fn accounts(&self, keys: &[Pubkey]) -> ChainResult<Vec<Option<Account>>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut data = vec![0; Tab::LEN];
            data[..8].copy_from_slice(&Tab::DISCRIMINATOR);
            let tab = Account {
                lamports: 1,
                data,
                owner: micropay_interface::ID,
                executable: false,
                rent_epoch: 0,
            };
            Ok(keys.iter().map(|_| Some(tab.clone())).collect())
        }
        async fn latest_blockhash(&self) -> ChainResult<(Hash, u64)> {
            unreachable!("intake reads accounts only")
        }
        async fn block_height(&self) -> ChainResult<u64> {
            unreachable!("intake reads accounts only")
        }
        async fn slot(&self) -> ChainResult<u64> {
            unreachable!("intake reads accounts only")
        }
        async fn rooted_slot(&self) -> ChainResult<u64> {
            unreachable!("intake reads accounts only")
        }
        async fn unix_time(&self) -> ChainResult<i64> {
            unreachable!("intake reads accounts only")
        }
        async fn simulate(&self, _: &VersionedTransaction) -> ChainResult<Simulation> {
            unreachable!("intake reads accounts only")
        }
        async fn send(&self, _: &VersionedTransaction) -> ChainResult<Signature> {
            unreachable!("intake reads accounts only")
        }
        async fn statuses(&self, _: &[Signature]) -> ChainResult<Vec<TxStatus>> {
            unreachable!("intake reads accounts only")
        }
        async fn genesis_hash(&self) -> ChainResult<Hash> {
            unreachable!("intake reads accounts only")
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_requests_for_one_tab_shares_its_reads() {
        let chain = Arc::new(Tabs::default());
        let cache = Arc::new(TabCache::new(Duration::from_secs(60)));
        let tab = Pubkey::new_unique();
        cache.get(chain.as_ref(), &tab).await.unwrap().unwrap();
        assert_eq!(chain.reads.load(Ordering::SeqCst), 1);

        // Fifty refusals rechecked at once, each wanting a read sent after it arrived:
        // the first read serves them all, not fifty.
        let since = Instant::now();
        let rechecks: Vec<_> = (0..50)
            .map(|_| {
                let (chain, cache) = (chain.clone(), cache.clone());
                tokio::spawn(async move {
                    cache
                        .get_read_since(chain.as_ref(), &tab, since)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for recheck in rechecks {
            assert!(recheck.await.unwrap().is_some());
        }
        assert_eq!(chain.reads.load(Ordering::SeqCst), 2);

        // A fresh enough tab is not read again; a request after that read needs one more.
        cache.get(chain.as_ref(), &tab).await.unwrap();
        cache
            .get_read_since(chain.as_ref(), &tab, since)
            .await
            .unwrap();
        assert_eq!(chain.reads.load(Ordering::SeqCst), 2);
        cache
            .get_read_since(chain.as_ref(), &tab, Instant::now())
            .await
            .unwrap();
        assert_eq!(chain.reads.load(Ordering::SeqCst), 3);
    }

    /// A tab holding `balance`.
    fn tab_with(balance: u64) -> Tab {
        let mut tab = <Tab as bytemuck::Zeroable>::zeroed();
        tab.balance = micropay_interface::state::U64::new(balance);
        tab
    }

    #[tokio::test]
    async fn a_read_sent_before_the_cached_one_never_replaces_it() {
        let cache = TabCache::new(Duration::from_secs(60));
        let key = Pubkey::new_unique();
        let cached = |cache: &TabCache| {
            let tabs = cache.tabs.try_read().expect("no writer");
            tabs.get(&key).map(|(tab, _)| tab.balance.get())
        };
        let first = Instant::now();
        let second = first + Duration::from_millis(1);
        let third = second + Duration::from_millis(1);

        // The second read answers first; the first read, answered late, is older news.
        cache.put(&key, Some(tab_with(2)), second).await;
        cache.put(&key, Some(tab_with(1)), first).await;
        assert_eq!(cached(&cache), Some(2));
        cache.put(&key, Some(tab_with(3)), third).await;
        assert_eq!(cached(&cache), Some(3));
        // A tab read as gone is dropped, so the next request reads it again.
        cache.put(&key, None, first).await;
        assert_eq!(cached(&cache), None);
    }
}
