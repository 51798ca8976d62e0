//! The pipeline the demo and every benchmark workload share: a local validator with a
//! deployment, funded payers and payee wallets ([`Stage::new`]); then, once a workload
//! has run against a relayer, settlement of everything it receipted, the report read
//! from the relayer's API and the chain, and the checks every run must pass
//! ([`Stage::settle`]).

use std::time::{Duration, Instant};

use anyhow::ensure;
use micropay_client::relayer::RelayerClient;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

use crate::{
    process::RelayerProcess,
    report::{settlement_report, wait_settled, SettlementReport},
    simulate::Outcome,
    Deployment, Devnet, Payer,
};

/// A deployment on a fresh local validator, with its payers and payees.
pub struct Stage {
    pub devnet: Devnet,
    pub deployment: Deployment,
    /// Tabs funded with the deposit asked for, each with a session key.
    pub payers: Vec<Payer>,
    /// Wallets with an associated token account.
    pub payees: Vec<Pubkey>,
}

/// What the relayer was asked to have settled.
pub struct Expected<'a> {
    /// Tips (or paid calls) it receipted.
    pub tips: u64,
    /// What each of the stage's payees was tipped, in order, when the workload knows.
    pub per_payee: Option<&'a [u64]>,
}

impl<'a> Expected<'a> {
    /// Every tip a simulated workload had receipted, and what each payee was tipped.
    pub fn tipped(outcome: &'a Outcome) -> Self {
        Self {
            tips: outcome.accepted,
            per_payee: Some(&outcome.per_payee),
        }
    }
}

/// Everything settled, checked.
pub struct Settled {
    pub report: SettlementReport,
    /// From asking the relayer to settle until nothing was pending.
    pub seconds: f64,
    /// What the sequencer spent meanwhile: settlement fees, lookup tables, their rent.
    pub sequencer_lamports: u64,
}

impl Stage {
    pub async fn new(
        fee_bps: u16,
        payers: usize,
        deposit: u64,
        payees: usize,
    ) -> anyhow::Result<Self> {
        let devnet = Devnet::start().await?;
        let deployment = Deployment::create(&devnet, fee_bps).await?;
        let payers = deployment.payers(&devnet, payers, deposit, true).await?;
        let payees = deployment.payees(&devnet, payees).await?;
        Ok(Self {
            devnet,
            deployment,
            payers,
            payees,
        })
    }

    /// The sequencer's lamports: read before settling to measure what settling costs.
    pub async fn sequencer_balance(&self) -> anyhow::Result<u64> {
        let sequencer = self.deployment.sequencer.pubkey();
        Ok(self.devnet.rpc().get_balance(&sequencer).await?)
    }

    /// Asks the relayer `process` to settle everything, waits until nothing is
    /// pending, and checks the result: every receipted tip settled once, each payee
    /// paid what it was tipped, and its balance what the settled receipts owe it.
    pub async fn settle(
        &self,
        process: &RelayerProcess,
        relayer: &RelayerClient,
        sequencer_before: u64,
        expected: Expected<'_>,
        timeout: Duration,
    ) -> anyhow::Result<Settled> {
        let started = Instant::now();
        process.settle_now()?;
        wait_settled(relayer, timeout).await?;
        let seconds = started.elapsed().as_secs_f64();
        let rpc = self.devnet.rpc();
        let report = settlement_report(relayer, &rpc, &self.deployment, &self.payees).await?;
        let sequencer_lamports = sequencer_before.saturating_sub(self.sequencer_balance().await?);
        ensure!(
            report.tips == expected.tips,
            "{} tips were receipted but {} settled",
            expected.tips,
            report.tips
        );
        for (payout, sent) in report.payees.iter().zip(expected.per_payee.unwrap_or(&[])) {
            ensure!(
                payout.gross == *sent,
                "payee {} was tipped {sent} but settled {}",
                payout.wallet,
                payout.gross
            );
        }
        ensure!(
            report.payouts_match,
            "payees' balances are not what the settled receipts owe them"
        );
        Ok(Settled {
            report,
            seconds,
            sequencer_lamports,
        })
    }
}
