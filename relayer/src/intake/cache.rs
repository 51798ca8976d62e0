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
use tokio::sync::RwLock;

use super::rules::Rejection;
use crate::chain::{decode_config, decode_tab, Chain, ChainError};

/// Tabs as last read from chain, refetched when older than `max_age`.
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

    pub async fn get(&self, chain: &dyn Chain, tab: &Pubkey) -> Result<Option<Tab>, ChainError> {
        if let Some((cached, at)) = self.tabs.read().await.get(tab) {
            if at.elapsed() < self.max_age {
                return Ok(Some(*cached));
            }
        }
        self.fetch(chain, tab).await
    }

    /// The tab as read at or after `since`: a request that a newer tab could allow (a
    /// key, a deposit or a cap added on chain before it arrived) asks for one read
    /// after it started.
    pub async fn get_read_since(
        &self,
        chain: &dyn Chain,
        tab: &Pubkey,
        since: Instant,
    ) -> Result<Option<Tab>, ChainError> {
        if let Some((cached, at)) = self.tabs.read().await.get(tab) {
            if *at >= since {
                return Ok(Some(*cached));
            }
        }
        self.fetch(chain, tab).await
    }

    async fn fetch(&self, chain: &dyn Chain, tab: &Pubkey) -> Result<Option<Tab>, ChainError> {
        match chain.accounts(&[*tab]).await {
            Ok(accounts) => {
                let decoded = decode_tab(accounts.first().and_then(Option::as_ref));
                self.put(tab, decoded).await;
                Ok(decoded)
            }
            Err(error) => match self.tabs.read().await.get(tab) {
                Some((cached, _)) => Ok(Some(*cached)),
                None => Err(error),
            },
        }
    }

    async fn put(&self, tab: &Pubkey, decoded: Option<Tab>) {
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

    /// Refetches `tabs` in batches; returns what the chain holds for each.
    pub async fn refresh(
        &self,
        chain: &dyn Chain,
        tabs: &[Pubkey],
    ) -> Result<HashMap<Pubkey, Tab>, ChainError> {
        let accounts = chain.accounts(tabs).await?;
        let mut out = HashMap::new();
        for (key, account) in tabs.iter().zip(&accounts) {
            let decoded = decode_tab(account.as_ref());
            self.put(key, decoded).await;
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
