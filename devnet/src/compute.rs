//! Compute units, bytes and accounts of every instruction, measured on the program's
//! bytecode in `solana-program-test` (whose clock can be advanced, so a withdrawal
//! can be measured too): what `micropay bench` prints, and what the bytecode tests
//! assert on.

use micropay_interface::{
    client::{self as builders, SettleItem, SettlePayee},
    MAX_ENTRIES,
};
use serde::Serialize;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

use crate::bytecode::*;

/// A packet's size.
pub const PACKET: usize = 1_232;
/// Accounts one transaction may lock on mainnet.
pub const ACCOUNT_LOCKS: usize = 64;

#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    pub instruction: String,
    /// One-tip streams in a settlement (zero for other instructions).
    pub streams: usize,
    pub compute_units: u64,
    pub bytes: usize,
    pub accounts: usize,
}

impl Cost {
    fn new(instruction: &str, streams: usize, outcome: &Outcome) -> Self {
        Self {
            instruction: instruction.into(),
            streams,
            compute_units: outcome.compute_units,
            bytes: outcome.bytes,
            accounts: outcome.accounts,
        }
    }
}

/// Every instruction once, in a life of a deployment: config, tab, session, a
/// settlement crediting a closed account, a top-up by a receipt holder, the credit
/// claimed, fees collected, a withdrawal after the delay, the tab closed.
pub async fn instruction_costs() -> Vec<Cost> {
    let mut rows = Vec::new();
    let mut env = Env::without_config(TokenKind::Spl).await;
    env.mint = env.create_mint(&[]).await;
    let config = Keypair::new();
    let (mint, params) = (env.mint, env.params());
    let outcome = env
        .init_config(&config, &mint, &params)
        .await
        .expect("init_config");
    rows.push(Cost::new("init_config", 0, &outcome));
    env.config = config.pubkey();
    let config = env.config;

    let owner = Keypair::new();
    env.airdrop(&owner.pubkey(), 1_000_000_000).await;
    let source = env.create_token_account(&owner.pubkey()).await;
    env.mint_to(&source, 1_000_000).await;
    let open = builders::open_tab(&owner.pubkey(), &config);
    rows.push(Cost::new(
        "open_tab",
        0,
        &env.send(&[open], &[&owner]).await.expect("open_tab"),
    ));
    let tab = builders::tab_address(&config, &owner.pubkey());
    let deposit = env.deposit_ix(&owner.pubkey(), &tab, &source, 500_000);
    rows.push(Cost::new(
        "deposit",
        0,
        &env.send(&[deposit], &[&owner]).await.expect("deposit"),
    ));
    let session = Keypair::new();
    let expires = env.now().await + 86_400;
    let add = builders::add_signer(
        &owner.pubkey(),
        &config,
        1,
        &session.pubkey(),
        expires,
        100_000,
    );
    rows.push(Cost::new(
        "add_signer",
        0,
        &env.send(&[add], &[&owner]).await.expect("add_signer"),
    ));

    // A settlement paying one payee and crediting one whose account was closed.
    let closed = env.new_payee().await;
    env.close_token_account(&closed.token_account, &closed.wallet)
        .await;
    let open_payee = env.new_payee().await;
    let entries = sorted(vec![
        (closed.wallet.pubkey(), 1_000),
        (open_payee.wallet.pubkey(), 1_000),
    ]);
    let message = env.open_state(&tab, 1, 1, &entries).await;
    let sequencer = env.sequencer.insecure_clone();
    let credited = SettlePayee {
        pass_wallet: true,
        ..closed.settle_payee()
    };
    let payees = [open_payee.settle_payee(), credited];
    let outcome = env
        .settle(&sequencer, &[item(&message, &session, &entries)], &payees)
        .await
        .expect("settle");
    rows.push(Cost::new(
        "settle: 1 stream, 2 payees, one credited (creating its credit)",
        1,
        &outcome,
    ));

    // A higher receipted state of that epoch, settled by a payee as a receipt holder.
    let incarnation = env.tab(&tab).await.incarnation.get();
    let higher: Vec<(Pubkey, u64)> = entries.iter().map(|(w, a)| (*w, a + 500)).collect();
    let message = stream_message(&tab, incarnation, 1, 0, 2, &higher);
    let mut top_up = item(&message, &session, &higher);
    top_up.previous = Some(entries.clone());
    top_up.receipt = Some(env.receipt(&message));
    let holder = open_payee.wallet.insecure_clone();
    env.airdrop(&holder.pubkey(), 1_000_000_000).await;
    let outcome = env
        .settle(&holder, &[top_up], &payees)
        .await
        .expect("top-up");
    rows.push(Cost::new(
        "settle: a top-up by a receipt holder, 1 stream, 2 payees",
        1,
        &outcome,
    ));

    let remove = builders::remove_signer(&owner.pubkey(), &config, 1);
    rows.push(Cost::new(
        "remove_signer",
        0,
        &env.send(&[remove], &[&owner]).await.expect("remove_signer"),
    ));
    let token_program = TokenKind::Spl.program_id();
    let destination = env.create_token_account(&closed.wallet.pubkey()).await;
    let claim = builders::claim_credit(
        &closed.wallet.pubkey(),
        &env.payout(&destination, &token_program),
        &sequencer.pubkey(),
    );
    rows.push(Cost::new(
        "claim_credit",
        0,
        &env.send(&[claim], &[&closed.wallet])
            .await
            .expect("claim_credit"),
    ));
    let admin = env.admin.pubkey();
    let fees_to = env.create_token_account(&admin).await;
    let collect = builders::collect_fees(&env.payout(&fees_to, &token_program));
    rows.push(Cost::new(
        "collect_fees",
        0,
        &env.send(&[collect], &[]).await.expect("collect_fees"),
    ));
    let request = builders::request_withdraw(&owner.pubkey(), &config, 100_000);
    rows.push(Cost::new(
        "request_withdraw",
        0,
        &env.send(&[request], &[&owner])
            .await
            .expect("request_withdraw"),
    ));
    env.advance_time(WITHDRAWAL_DELAY).await;
    let withdraw = builders::withdraw(&owner.pubkey(), &env.payout(&source, &token_program));
    rows.push(Cost::new(
        "withdraw",
        0,
        &env.send(&[withdraw], &[&owner]).await.expect("withdraw"),
    ));
    let admin_key = env.admin.insecure_clone();
    let update = builders::update_config(&admin_key.pubkey(), &config, &env.params());
    rows.push(Cost::new(
        "update_config",
        0,
        &env.send(&[update], &[&admin_key])
            .await
            .expect("update_config"),
    ));
    let request = builders::request_withdraw(&owner.pubkey(), &config, 1);
    env.send(&[request], &[&owner])
        .await
        .expect("request_withdraw");
    env.advance_time(WITHDRAWAL_DELAY).await;
    let close = builders::close_tab(&owner.pubkey(), &env.payout(&source, &token_program));
    rows.push(Cost::new(
        "close_tab",
        0,
        &env.send(&[close], &[&owner]).await.expect("close_tab"),
    ));
    rows
}

/// Settlements of one-tip streams (the fans shape: each pays its own payee), sent as
/// the relayer sends them: a v0 transaction signed by the sequencer alone, with a
/// compute-budget instruction and every other account in one lookup table.
#[derive(Debug, Serialize)]
pub struct Capacity {
    /// 1, 4, 8, ... streams, up to the most that fit.
    pub fans: Vec<Cost>,
    /// What one more stream than fits would take: (streams, bytes, accounts).
    pub first_misfit: (usize, usize, usize),
    /// The worst case `MAX_ENTRIES` was chosen for: a receipted top-up carrying old and
    /// new entries for `MAX_ENTRIES` payees that all pass their wallet, no table.
    pub worst_top_up: Cost,
}

impl Capacity {
    pub fn most_streams(&self) -> usize {
        self.fans.last().map_or(0, |row| row.streams)
    }
}

pub async fn settlement_capacity() -> Capacity {
    let mut env = Env::new(TokenKind::Spl).await;
    let mut fans = Vec::new();
    let mut first_misfit = (0, 0, 0);
    for streams in [1, 4, 8].into_iter().chain(9..=24) {
        match fans_settlement(&mut env, streams).await {
            Ok(outcome) => fans.push(Cost::new("settle: one-tip streams", streams, &outcome)),
            Err((bytes, accounts)) => {
                first_misfit = (streams, bytes, accounts);
                break;
            }
        }
    }
    let worst_top_up = worst_top_up(&mut env).await;
    Capacity {
        fans,
        first_misfit,
        worst_top_up,
    }
}

/// Settles `streams` one-tip states of distinct payers to distinct payees, if the
/// transaction fits; otherwise its bytes and accounts.
async fn fans_settlement(env: &mut Env, streams: usize) -> Result<Outcome, (usize, usize)> {
    let mut items: Vec<SettleItem> = Vec::new();
    let mut payees: Vec<SettlePayee> = Vec::new();
    for _ in 0..streams {
        let payer = env.new_payer(10_000, 10_000).await;
        let payee = env.new_payee().await;
        let entries = vec![(payee.wallet.pubkey(), 1_000)];
        let message = env.open_state(&payer.tab, 0, 1, &entries).await;
        items.push(item(&message, &payer.owner, &entries));
        payees.push(payee.settle_payee());
    }
    let sequencer = env.sequencer.insecure_clone();
    let settle = env.settle_ix(&sequencer, &items, &payees);
    let ixs = [
        ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
        settle,
    ];
    let (result, bytes, accounts) = env.send_v0(&sequencer, &ixs).await;
    if bytes > PACKET || accounts > ACCOUNT_LOCKS {
        return Err((bytes, accounts));
    }
    // Past 1.4M compute units the transaction fails: that is a limit too.
    result.map_err(|_| (bytes, accounts))
}

async fn worst_top_up(env: &mut Env) -> Cost {
    let payer = env.new_payer(10_000_000, 10_000_000).await;
    let mut payees = Vec::new();
    for _ in 0..MAX_ENTRIES {
        payees.push(env.new_payee().await);
    }
    let low = sorted(payees.iter().map(|p| (p.wallet.pubkey(), 1_000)).collect());
    let high: Vec<(Pubkey, u64)> = low
        .iter()
        .map(|(wallet, amount)| (*wallet, amount + 1))
        .collect();
    let settle_payees: Vec<SettlePayee> = payees
        .iter()
        .map(|payee| SettlePayee {
            pass_wallet: true,
            ..payee.settle_payee()
        })
        .collect();
    let message = env.open_state(&payer.tab, 0, 1, &low).await;
    let sequencer = env.sequencer.insecure_clone();
    env.settle(
        &sequencer,
        &[item(&message, &payer.owner, &low)],
        &settle_payees,
    )
    .await
    .expect("low state");
    let incarnation = env.tab(&payer.tab).await.incarnation.get();
    let message = stream_message(&payer.tab, incarnation, 0, 0, 2, &high);
    let mut top_up = item(&message, &payer.owner, &high);
    top_up.previous = Some(low);
    top_up.receipt = Some(env.receipt(&message));
    let settle = env.settle_ix(&sequencer, &[top_up], &settle_payees);
    // Under the default 200k compute-unit limit: no compute-budget instruction.
    let outcome = env
        .send(&[settle], &[&sequencer])
        .await
        .expect("worst-case top-up");
    Cost::new(
        "settle: worst-case top-up (MAX_ENTRIES payees, wallets passed, receipt, no table)",
        1,
        &outcome,
    )
}

/// Instruction costs as a Markdown table.
pub fn costs_table(costs: &[Cost]) -> String {
    let mut out =
        String::from("| instruction | CU | bytes | accounts |\n| --- | ---: | ---: | ---: |\n");
    for row in costs {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.instruction, row.compute_units, row.bytes, row.accounts
        ));
    }
    out
}

/// Settlement capacity as a Markdown table, with the worst case under it.
pub fn capacity_table(capacity: &Capacity) -> String {
    let mut out = String::from(
        "| one-tip streams per settlement | CU | CU/stream | bytes (v0 + table) | accounts | fee lamports/tip |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in &capacity.fans {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} |\n",
            row.streams,
            row.compute_units,
            row.compute_units / row.streams as u64,
            row.bytes,
            row.accounts,
            5_000.0 / row.streams as f64
        ));
    }
    let (streams, bytes, accounts) = capacity.first_misfit;
    let worst = &capacity.worst_top_up;
    out.push_str(&format!(
        "\n{} streams fit one transaction; {streams} would take {bytes} bytes and {accounts} accounts.\n\
         {}: {} CU, {} bytes, {} accounts.\n",
        capacity.most_streams(),
        worst.instruction,
        worst.compute_units,
        worst.bytes,
        worst.accounts
    ));
    out
}
