//! The payee's commands: the receipts naming its wallet, a watcher that settles them
//! when the sequencer does not, and withdrawing a credit.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context as _};
use micropay_api::{PayeeReceipt, ReceiptJson};
use micropay_client::{
    accounts, interface::client as builders, protocol::Receipted, watcher::Watcher,
};
use serde_json::json;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::signer::Signer;

use crate::{
    args::{CreditCommand, ReceiptsArgs, WatchArgs},
    context::Context,
    output::emit,
    payer::relayer_error,
};

/// What the payee is owed in one receipt, gross of the fee.
fn owed_to(receipt: &PayeeReceipt, wallet: &str) -> u64 {
    receipt
        .receipt
        .signed
        .state
        .entries
        .iter()
        .filter(|e| e.payee == wallet)
        .map(|e| e.amount)
        .sum()
}

pub async fn receipts(ctx: &Context, args: ReceiptsArgs) -> anyhow::Result<()> {
    let d = ctx.load().await?;
    let wallet = match args.wallet {
        Some(wallet) => wallet,
        None => ctx.keypair()?.pubkey(),
    };
    let relayer = ctx.relayer(&d);
    // Oldest first; the newest `limit` are shown.
    let all = relayer
        .every_payee_receipt(&wallet)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let text = wallet.to_string();
    let unsettled: u64 = all
        .iter()
        .filter(|r| r.status.is_pending())
        .map(|r| owed_to(r, &text))
        .sum();
    let account = d.associated(&wallet);
    let held = accounts::token_account(&ctx.rpc, &account)
        .await?
        .map(|a| a.amount);
    let credit = accounts::credit(&ctx.rpc, &d.credit(&wallet))
        .await?
        .map_or(0, |c| c.amount.get());
    let mut human = format!(
        "Payee {wallet}\n  token account:  {account} holding {}\n  credit:         {}{}\n  receipted, not yet settled: {} ({} receipts in all)",
        held.map_or("nothing (it does not exist)".into(), |a| d.format(a)),
        d.format(credit),
        if credit > 0 { " (`micropay credit withdraw` pays it out)" } else { "" },
        d.format(unsettled),
        all.len()
    );
    let shown = &all[all.len().saturating_sub(args.limit as usize)..];
    for r in shown.iter().rev() {
        let s = &r.receipt.signed.state;
        human.push_str(&format!(
            "\n    {:>12} from tab {} stream {} epoch {} seq {}: {}{}",
            d.format(owed_to(r, &text)),
            s.tab,
            s.slot,
            s.epoch,
            s.seq,
            r.status.as_str(),
            r.settle_tx
                .as_deref()
                .map(|tx| format!(" in {tx}"))
                .unwrap_or_default()
        ));
    }
    emit(
        ctx,
        human,
        json!({
            "wallet": text, "token_account": account.to_string(), "balance": held,
            "credit": credit, "unsettled": unsettled, "receipts": shown,
        }),
    )
}

pub async fn watch(ctx: &Context, args: WatchArgs) -> anyhow::Result<()> {
    let wallet = ctx.keypair()?;
    let d = ctx.load().await?;
    let relayer = ctx.relayer(&d);
    let address = wallet.pubkey();
    let rpc = RpcClient::new_with_commitment(ctx.rpc_url.clone(), CommitmentConfig::confirmed());
    let mut watcher = Watcher::new(rpc, relayer, wallet, d.address, args.patience);
    if !args.once {
        eprintln!(
            "Watching receipts for {address}: settling them itself after {} s, or at once when a withdrawal is pending or a lower state was settled. Ctrl-C stops.",
            args.patience
        );
    }
    let mut settled = Vec::new();
    loop {
        let now = ctx.cluster_time().await?;
        let mut kept = 0;
        if let Some(path) = &args.receipts {
            for receipted in read_receipt_log(path)? {
                kept += usize::from(watcher.keep(receipted, now));
            }
        }
        kept += match watcher.collect(now).await {
            Ok(kept) => kept,
            Err(error) if args.receipts.is_some() => {
                eprintln!("relayer: {error}; going on with the receipts in the file");
                0
            }
            Err(error) => return Err(error).context("collecting receipts"),
        };
        let sent = watcher.settle_due(now).await.context("settling")?;
        for tx in &sent {
            if !args.once {
                println!("settled with receipts: {tx}");
            }
        }
        settled.extend(sent.iter().map(ToString::to_string));
        if args.once {
            return emit(
                ctx,
                format!(
                    "{kept} new receipt(s) kept, {} held, {} settlement(s) sent{}",
                    watcher.held().len(),
                    sent.len(),
                    sent.iter()
                        .map(|tx| format!("\n  {tx}"))
                        .collect::<String>()
                ),
                json!({ "kept": kept, "held": watcher.held().len(), "settled": settled }),
            );
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(args.interval)) => {}
        }
    }
}

/// The receipts in a JSON-lines file; the watcher keeps those that are the
/// sequencer's and name the wallet.
fn read_receipt_log(path: &Path) -> anyhow::Result<Vec<Receipted>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading receipts from {}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| {
            let json: ReceiptJson = serde_json::from_str(line)
                .with_context(|| format!("{} line {}: not a receipt", path.display(), n + 1))?;
            let (receipted, _) = json
                .to_receipted()
                .with_context(|| format!("{} line {}", path.display(), n + 1))?;
            Ok(receipted)
        })
        .collect()
}

pub async fn credit(ctx: &Context, command: CreditCommand) -> anyhow::Result<()> {
    let CreditCommand::Withdraw(args) = command;
    let wallet = ctx.keypair()?;
    let d = ctx.load().await?;
    let address = d.credit(&wallet.pubkey());
    let Some(credit) = accounts::credit(&ctx.rpc, &address).await? else {
        bail!("nothing is owed to {} in {}", wallet.pubkey(), d.address);
    };
    let (to, create) = d.destination(&wallet.pubkey(), args.to);
    let mut ixs: Vec<_> = create.into_iter().collect();
    ixs.push(builders::claim_credit(
        &wallet.pubkey(),
        &d.payout(&to),
        &credit.rent_payer,
    ));
    let signature = ctx.send(&ixs, &[&wallet]).await?;
    emit(
        ctx,
        format!(
            "Credit of {} paid to {to}; its rent went back to {}.\n  transaction: {signature}",
            d.format(credit.amount.get()),
            credit.rent_payer
        ),
        json!({ "amount": credit.amount.get(), "destination": to.to_string(), "signature": signature.to_string() }),
    )
}
