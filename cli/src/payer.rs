//! The payer's commands: open and fund a tab, manage session keys, tip, look at the
//! tab, and take money back without the relayer.

use anyhow::{anyhow, bail, Context as _};
use micropay_api::ReceiptJson;
use micropay_client::{
    accounts,
    interface::{
        client as builders,
        state::{Slot, Tab},
        MAX_SLOTS,
    },
    relayer::RelayerError,
    Deployment,
};
use serde_json::json;
use solana_sdk::{pubkey::Pubkey, signer::Signer};

use crate::{
    args::*,
    context::{read_keypair, Context},
    output::emit,
};

async fn tab_of(ctx: &Context, d: &Deployment, owner: &Pubkey) -> anyhow::Result<(Pubkey, Tab)> {
    let address = d.tab(owner);
    let tab = accounts::tab(&ctx.rpc, &address).await?.ok_or_else(|| {
        anyhow!(
            "{owner} has no tab in deployment {}: open one with `micropay open`",
            d.address
        )
    })?;
    Ok((address, tab))
}

/// The depositing wallet's token account, with a clear error if it cannot cover `amount`.
async fn deposit_source(
    ctx: &Context,
    d: &Deployment,
    wallet: &Pubkey,
    from: Option<Pubkey>,
    amount: u64,
) -> anyhow::Result<Pubkey> {
    let source = from.unwrap_or_else(|| d.associated(wallet));
    let account = accounts::token_account(&ctx.rpc, &source)
        .await?
        .ok_or_else(|| {
            anyhow!("no token account {source} to deposit from: pass --from <TOKEN_ACCOUNT>")
        })?;
    if account.amount < amount {
        bail!(
            "{source} holds {}, less than the {} to deposit",
            d.format(account.amount),
            d.format(amount)
        );
    }
    Ok(source)
}

pub async fn open(ctx: &Context, args: OpenArgs) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let d = ctx.load().await?;
    let tab = d.tab(&owner.pubkey());
    if accounts::tab(&ctx.rpc, &tab).await?.is_some() {
        bail!("your tab {tab} is already open: `micropay deposit <AMOUNT>` adds funds");
    }
    let mut ixs = vec![builders::open_tab(&owner.pubkey(), &d.address)];
    if let Some(ui) = &args.deposit {
        let amount = d.parse(ui)?;
        let source = deposit_source(ctx, &d, &owner.pubkey(), args.from, amount).await?;
        ixs.push(d.deposit_ix(&owner.pubkey(), &owner.pubkey(), &source, amount));
    }
    let signature = ctx.send(&ixs, &[&owner]).await?;
    let (_, opened) = tab_of(ctx, &d, &owner.pubkey()).await?;
    emit(
        ctx,
        format!(
            "Tab {tab} open, holding {}.\n  transaction: {signature}",
            d.format(opened.balance.get())
        ),
        json!({ "tab": tab.to_string(), "balance": opened.balance.get(), "incarnation": opened.incarnation.get().to_string(), "signature": signature.to_string() }),
    )
}

pub async fn deposit(ctx: &Context, args: DepositArgs) -> anyhow::Result<()> {
    let depositor = ctx.keypair()?;
    let d = ctx.load().await?;
    let owner = args.owner.unwrap_or(depositor.pubkey());
    let (tab, before) = tab_of(ctx, &d, &owner).await?;
    let amount = d.parse(&args.amount)?;
    let source = deposit_source(ctx, &d, &depositor.pubkey(), args.from, amount).await?;
    let ix = d.deposit_ix(&depositor.pubkey(), &owner, &source, amount);
    let signature = ctx.send(&[ix], &[&depositor]).await?;
    let after = tab_of(ctx, &d, &owner).await?.1;
    emit(
        ctx,
        format!(
            "Deposited {} into {tab}; balance {} -> {}.\n  transaction: {signature}",
            d.format(amount),
            d.format(before.balance.get()),
            d.format(after.balance.get())
        ),
        json!({ "tab": tab.to_string(), "deposited": amount, "balance": after.balance.get(), "signature": signature.to_string() }),
    )
}

/// The slot holding `key` as a valid key, if any.
fn slot_of(tab: &Tab, key: &Pubkey, now: i64) -> Option<u8> {
    (1..MAX_SLOTS)
        .find(|&i| tab.slots[i].is_valid(now) && tab.slots[i].key == *key)
        .map(|i| i as u8)
}

fn slot_json(index: usize, slot: &Slot, now: i64) -> serde_json::Value {
    json!({
        "slot": index,
        "key": slot.key.to_string(),
        "live": slot.is_live(now),
        "expires_at": slot.expires_at.get(),
        "valid_until": slot.valid_until.get(),
        "cap": slot.cap.get(),
        "spent": slot.spent.get(),
        "epoch": slot.epoch.get().to_string(),
        "last_settled_at": slot.last_settled_at.get(),
    })
}

pub async fn signer(ctx: &Context, command: SignerCommand) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let d = ctx.load().await?;
    let (_, tab) = tab_of(ctx, &d, &owner.pubkey()).await?;
    let now = ctx.cluster_time().await?;
    match command {
        SignerCommand::Add(args) => {
            let slot = slot_of(&tab, &args.signer, now)
                .or_else(|| (1..MAX_SLOTS).find(|&i| !tab.slots[i].is_valid(now)).map(|i| i as u8))
                .ok_or_else(|| {
                    anyhow!(
                        "every session slot holds a valid key: remove one with `micropay signer remove <KEY>` and wait until its validity ends"
                    )
                })?;
            let cap = d.parse(&args.cap)?;
            let expires_at = now + args.expires_in;
            let ix = builders::add_signer(
                &owner.pubkey(),
                &d.address,
                slot,
                &args.signer,
                expires_at,
                cap,
            );
            let signature = ctx.send(&[ix], &[&owner]).await?;
            emit(
                ctx,
                format!(
                    "Session key {} in slot {slot} may sign up to {} until unix time {expires_at}.\n  transaction: {signature}",
                    args.signer,
                    d.format(cap)
                ),
                json!({ "signer": args.signer.to_string(), "slot": slot, "cap": cap, "expires_at": expires_at, "signature": signature.to_string() }),
            )
        }
        SignerCommand::Remove { signer } => {
            let slot = slot_of(&tab, &signer, now).ok_or_else(|| {
                anyhow!(
                    "{signer} is not a session key of your tab: `micropay signer list` shows them"
                )
            })?;
            let held = &tab.slots[slot as usize];
            if !held.is_live(now) {
                bail!(
                    "{signer} is no longer live (removed or expired); states it signed settle until unix time {}",
                    held.valid_until.get()
                );
            }
            let ix = builders::remove_signer(&owner.pubkey(), &d.address, slot);
            let signature = ctx.send(&[ix], &[&owner]).await?;
            let (_, after) = tab_of(ctx, &d, &owner.pubkey()).await?;
            let until = after.slots[slot as usize].valid_until.get();
            emit(
                ctx,
                format!(
                    "Session key {signer} removed from slot {slot}; states it signed settle until unix time {until}.\n  transaction: {signature}"
                ),
                json!({ "signer": signer.to_string(), "slot": slot, "valid_until": until, "signature": signature.to_string() }),
            )
        }
        SignerCommand::List => {
            let slots: Vec<(usize, &Slot)> = (1..MAX_SLOTS)
                .map(|i| (i, &tab.slots[i]))
                .filter(|(_, s)| s.has_key())
                .collect();
            let mut human = format!("Session keys on the tab of {}:", owner.pubkey());
            for (i, s) in &slots {
                let state = if s.is_live(now) {
                    format!("live, {} s left", s.expires_at.get() - now)
                } else if s.is_valid(now) {
                    format!(
                        "no longer used; its states settle for {} s",
                        s.valid_until.get() - now
                    )
                } else {
                    "ended".into()
                };
                human.push_str(&format!(
                    "\n  slot {i}  {}  spent {} of {}  {state}",
                    s.key,
                    d.format(s.spent.get()),
                    d.format(s.cap.get()),
                ));
            }
            if slots.is_empty() {
                human.push_str("\n  none: add one with `micropay signer add <KEY> --cap <AMOUNT>`");
            }
            emit(
                ctx,
                human,
                json!({ "signers": slots.iter().map(|(i, s)| slot_json(*i, s, now)).collect::<Vec<_>>() }),
            )
        }
    }
}

/// Explains a relayer error and what to do about it.
pub fn relayer_error(ctx: &Context, error: RelayerError) -> anyhow::Error {
    use micropay_api::ErrorCode::*;
    let hint = match &error {
        RelayerError::Http(_) => format!(
            "Is a relayer running at {}? Start one with `micropay relayer run`, or pass --relayer <URL>.",
            ctx.relayer_url
        ),
        RelayerError::Refused { code: InsufficientFunds, .. } => {
            "Deposit more with `micropay deposit <AMOUNT>`.".into()
        }
        RelayerError::Refused { code: UnknownStream, .. } => {
            "The relayer serves another deployment, or the tab is not open.".into()
        }
        RelayerError::WrongKey { .. } => "`micropay signer list` shows your session keys.".into(),
        _ => return anyhow!(error),
    };
    anyhow!("{error}\n{hint}")
}

/// The key that signs (a session key file, or the owner's keypair), the tab and the
/// stream slot it signs for.
pub(crate) async fn signing_stream(
    ctx: &Context,
    d: &Deployment,
    session_key: Option<&std::path::Path>,
    owner: Option<Pubkey>,
) -> anyhow::Result<(solana_sdk::signature::Keypair, Pubkey, u8)> {
    let key = match session_key {
        Some(path) => read_keypair(path)?,
        None => ctx.keypair()?,
    };
    let owner = match (owner, session_key) {
        (Some(owner), _) => owner,
        (None, None) => key.pubkey(),
        (None, Some(_)) => ctx
            .keypair()
            .context("signing with a session key: pass --owner <TAB_OWNER>")?
            .pubkey(),
    };
    let (tab_address, tab) = tab_of(ctx, d, &owner).await?;
    let now = ctx.cluster_time().await?;
    let slot = if key.pubkey() == owner {
        0
    } else {
        slot_of(&tab, &key.pubkey(), now).ok_or_else(|| {
            anyhow!(
                "{} is neither the owner of tab {tab_address} nor one of its session keys: register it with `micropay signer add`",
                key.pubkey()
            )
        })?
    };
    Ok((key, tab_address, slot))
}

pub async fn tip(ctx: &Context, args: TipArgs) -> anyhow::Result<()> {
    let d = ctx.load().await?;
    let (key, tab_address, slot) =
        signing_stream(ctx, &d, args.session_key.as_deref(), args.owner).await?;
    let amount = d.parse(&args.amount)?;
    if amount == 0 {
        bail!("a tip must be more than zero");
    }
    let receipted = ctx
        .relayer(&d)
        .tip(&key, &tab_address, slot, &args.payee, amount)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let state = receipted.state();
    emit(
        ctx,
        format!(
            "Tipped {} to {}. Stream {slot} of your tab, epoch {}: {} tip(s), {} in all, receipted by the sequencer.",
            d.format(amount),
            args.payee,
            state.epoch,
            state.seq,
            d.format(state.total()),
        ),
        json!({ "tab": tab_address.to_string(), "slot": slot, "payee": args.payee.to_string(), "amount": amount, "receipt": ReceiptJson::new(&receipted, &ctx.relayer(&d).sequencer()) }),
    )
}

pub async fn balance(ctx: &Context, args: OwnerArgs) -> anyhow::Result<()> {
    let d = ctx.load().await?;
    let owner = match args.owner {
        Some(owner) => owner,
        None => ctx.keypair()?.pubkey(),
    };
    let (tab_address, tab) = tab_of(ctx, &d, &owner).await?;
    let now = ctx.cluster_time().await?;
    let params = d.params(now);
    let relayer = ctx.relayer(&d);
    let mut human = format!(
        "Tab {tab_address}\n  balance:    {}",
        d.format(tab.balance.get())
    );
    let requested_at = tab.withdraw_requested_at.get();
    let unlock_at = (requested_at != 0).then(|| requested_at + params.withdrawal_delay.get());
    if let Some(unlock_at) = unlock_at {
        human.push_str(&format!(
            "\n  withdrawal: {} requested, unlocks at unix time {unlock_at}{}",
            d.format(tab.withdraw_amount.get()),
            if now >= unlock_at { " (unlocked)" } else { "" }
        ));
    }
    let mut streams = Vec::new();
    for (index, slot) in tab.slots.iter().enumerate() {
        if index > 0 && !slot.has_key() {
            continue;
        }
        let unsettled = match relayer.stream(&tab_address, index as u8).await {
            Ok(view) => view.latest.map(|r| r.signed.state.total),
            Err(error) => {
                human.push_str(&format!("\n  relayer at {}: {error}", ctx.relayer_url));
                None
            }
        };
        let window_ends = slot
            .in_top_up_window(now, params.top_up_window.get())
            .then(|| slot.last_settled_at.get() + params.top_up_window.get());
        human.push_str(&format!(
            "\n  stream {index}: epoch {}, unsettled {}{}",
            slot.epoch.get(),
            d.format(unsettled.unwrap_or(0)),
            window_ends
                .map(|t| format!(", last settlement can be topped up until unix time {t}"))
                .unwrap_or_default()
        ));
        let mut json = slot_json(index, slot, now);
        json["unsettled"] = json!(unsettled.unwrap_or(0));
        json["top_up_window_ends"] = json!(window_ends);
        streams.push(json);
    }
    emit(
        ctx,
        human,
        json!({
            "tab": tab_address.to_string(), "owner": owner.to_string(), "balance": tab.balance.get(),
            "incarnation": tab.incarnation.get().to_string(),
            "withdraw_amount": tab.withdraw_amount.get(), "withdraw_unlocks_at": unlock_at,
            "streams": streams,
        }),
    )
}

/// Why the withdrawal cannot happen yet, if it cannot.
fn withdrawal_blocked(d: &Deployment, tab: &Tab, now: i64) -> Option<String> {
    let params = d.params(now);
    let requested_at = tab.withdraw_requested_at.get();
    if requested_at == 0 {
        return Some(
            "no withdrawal is pending: request one with `micropay withdraw request <AMOUNT|all>`"
                .into(),
        );
    }
    let unlock_at = requested_at + params.withdrawal_delay.get();
    if now < unlock_at {
        return Some(format!(
            "the withdrawal unlocks in {} s (at unix time {unlock_at})",
            unlock_at - now
        ));
    }
    let window = params.top_up_window.get();
    tab.any_top_up_window_open(now, window).then(|| {
        let ends = tab
            .slots
            .iter()
            .filter(|s| s.in_top_up_window(now, window))
            .map(|s| s.last_settled_at.get() + window)
            .max()
            .unwrap_or(now);
        format!("a recent settlement can be topped up until unix time {ends}; try again then")
    })
}

pub async fn withdraw(ctx: &Context, command: WithdrawCommand) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let d = ctx.load().await?;
    let (tab_address, tab) = tab_of(ctx, &d, &owner.pubkey()).await?;
    match command {
        WithdrawCommand::Request { amount } => {
            let amount = if amount == "all" {
                tab.balance.get()
            } else {
                d.parse(&amount)?
            };
            if amount == 0 {
                bail!(
                    "nothing to withdraw: the tab holds {}",
                    d.format(tab.balance.get())
                );
            }
            let ix = builders::request_withdraw(&owner.pubkey(), &d.address, amount);
            let signature = ctx.send(&[ix], &[&owner]).await?;
            let (_, after) = tab_of(ctx, &d, &owner.pubkey()).await?;
            let now = ctx.cluster_time().await?;
            let unlock_at =
                after.withdraw_requested_at.get() + d.params(now).withdrawal_delay.get();
            emit(
                ctx,
                format!(
                    "Withdrawal of {} requested; it unlocks at unix time {unlock_at}. Then run `micropay withdraw complete`.\n  transaction: {signature}",
                    d.format(amount)
                ),
                json!({ "tab": tab_address.to_string(), "amount": amount, "unlocks_at": unlock_at, "signature": signature.to_string() }),
            )
        }
        WithdrawCommand::Complete(args) => {
            let now = ctx.cluster_time().await?;
            if let Some(reason) = withdrawal_blocked(&d, &tab, now) {
                bail!(reason);
            }
            let (to, create) = d.destination(&owner.pubkey(), args.to);
            let mut ixs: Vec<_> = create.into_iter().collect();
            ixs.push(builders::withdraw(&owner.pubkey(), &d.payout(&to)));
            let signature = ctx.send(&ixs, &[&owner]).await?;
            let (_, after) = tab_of(ctx, &d, &owner.pubkey()).await?;
            let paid = tab.balance.get() - after.balance.get();
            emit(
                ctx,
                format!(
                    "Withdrew {} to {to}; the tab holds {}.\n  transaction: {signature}",
                    d.format(paid),
                    d.format(after.balance.get())
                ),
                json!({ "tab": tab_address.to_string(), "withdrawn": paid, "destination": to.to_string(), "balance": after.balance.get(), "signature": signature.to_string() }),
            )
        }
    }
}

pub async fn close(ctx: &Context, args: ToArgs) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let d = ctx.load().await?;
    let (tab_address, tab) = tab_of(ctx, &d, &owner.pubkey()).await?;
    let now = ctx.cluster_time().await?;
    if let Some(reason) = withdrawal_blocked(&d, &tab, now) {
        bail!("{reason} (closing withdraws everything: request it with `micropay withdraw request all`)");
    }
    let (to, create) = d.destination(&owner.pubkey(), args.to);
    let mut ixs: Vec<_> = create.into_iter().collect();
    ixs.push(builders::close_tab(&owner.pubkey(), &d.payout(&to)));
    let signature = ctx.send(&ixs, &[&owner]).await?;
    emit(
        ctx,
        format!(
            "Tab {tab_address} closed; {} paid to {to} and its rent returned.\n  transaction: {signature}",
            d.format(tab.balance.get())
        ),
        json!({ "tab": tab_address.to_string(), "withdrawn": tab.balance.get(), "destination": to.to_string(), "signature": signature.to_string() }),
    )
}
