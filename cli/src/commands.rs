//! The admin, payer and payee commands.

use std::io::Read;

use anyhow::{anyhow, bail, Context as _};
use micropay::state::Tab;
use micropay_client::{accounts, protocol::client::SignedState};
use micropay_relayer_v1::{
    api::StateJson,
    client::{ClientError, RelayerClient},
};
use serde_json::json;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent;

use crate::{
    args::*,
    context::{read_keypair, Context, Loaded},
    output::emit,
};

async fn tab_of(ctx: &Context, loaded: &Loaded, owner: &Pubkey) -> anyhow::Result<(Pubkey, Tab)> {
    let address = loaded.deployment.tab_address(owner);
    let tab = accounts::tab(&ctx.rpc, &address).await?.ok_or_else(|| {
        anyhow!(
            "{owner} has no tab in deployment {}: open one with `micropay open`",
            loaded.deployment.config
        )
    })?;
    Ok((address, tab))
}

pub async fn init_config(ctx: &Context, args: InitConfigArgs) -> anyhow::Result<()> {
    let admin = ctx.keypair()?;
    let mint = ctx
        .rpc
        .get_account(&args.mint)
        .await
        .with_context(|| format!("no mint {} on {}", args.mint, ctx.rpc_url))?;
    if !accounts::is_token_program(&mint.owner) {
        bail!("{} is not an SPL Token or Token-2022 mint", args.mint);
    }
    let decimals = accounts::mint_decimals(&ctx.rpc, &args.mint).await?;
    let config = match &args.config_keypair {
        Some(path) => read_keypair(path)?,
        None => Keypair::new(),
    };
    let mut ixs = Vec::new();
    let fee_destination = match args.fee_destination {
        Some(account) => account,
        None => {
            ixs.push(create_associated_token_account_idempotent(
                &admin.pubkey(),
                &admin.pubkey(),
                &args.mint,
                &mint.owner,
            ));
            spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
                &admin.pubkey(),
                &args.mint,
                &mint.owner,
            )
        }
    };
    let deployment = micropay_client::Deployment::new(
        admin.pubkey(),
        config.pubkey(),
        args.mint,
        mint.owner,
        fee_destination,
    );
    ixs.push(deployment.init_config_ix(
        config.pubkey(),
        args.fee_bps,
        args.withdrawal_delay,
        args.mint,
        fee_destination,
    ));
    let signature = ctx.send(&ixs, &[&admin, &config]).await?;
    emit(
        ctx,
        format!(
            "Deployment created.\n  config:          {}\n  mint:            {} ({decimals} decimals)\n  vault:           {}\n  fee:             {} bps to {fee_destination}\n  withdrawal delay: {} s\n  transaction:     {signature}\n\nUse it with: export MICROPAY_CONFIG={}",
            config.pubkey(),
            args.mint,
            deployment.vault,
            args.fee_bps,
            args.withdrawal_delay,
            config.pubkey()
        ),
        json!({
            "config": config.pubkey().to_string(),
            "mint": args.mint.to_string(),
            "vault": deployment.vault.to_string(),
            "fee_bps": args.fee_bps,
            "fee_destination": fee_destination.to_string(),
            "withdrawal_delay": args.withdrawal_delay,
            "signature": signature.to_string(),
        }),
    )
}

/// The depositing wallet's token account, with a clear error if it cannot cover `amount`.
async fn deposit_source(
    ctx: &Context,
    loaded: &Loaded,
    wallet: &Pubkey,
    from: Option<Pubkey>,
    amount: u64,
) -> anyhow::Result<Pubkey> {
    let source = from.unwrap_or_else(|| ctx.associated_account(loaded, wallet));
    let account = accounts::token_account(&ctx.rpc, &source)
        .await?
        .ok_or_else(|| {
            anyhow!("no token account {source} to deposit from: pass --from <TOKEN_ACCOUNT>")
        })?;
    if account.amount < amount {
        bail!(
            "{source} holds {}, less than the {} to deposit",
            loaded.format(account.amount),
            loaded.format(amount)
        );
    }
    Ok(source)
}

pub async fn open(ctx: &Context, args: OpenArgs) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let loaded = ctx.load().await?;
    let tab = loaded.deployment.tab_address(&owner.pubkey());
    if accounts::tab(&ctx.rpc, &tab).await?.is_some() {
        bail!("your tab {tab} is already open: `micropay deposit <AMOUNT>` adds funds");
    }
    let mut ixs = vec![loaded.deployment.open_tab_ix(&owner.pubkey())];
    let deposit = match &args.deposit {
        Some(ui) => {
            let amount = loaded.parse(ui)?;
            let source = deposit_source(ctx, &loaded, &owner.pubkey(), args.from, amount).await?;
            ixs.push(
                loaded
                    .deployment
                    .deposit_ix(&owner.pubkey(), &tab, &source, amount),
            );
            amount
        }
        None => 0,
    };
    let signature = ctx.send(&ixs, &[&owner]).await?;
    emit(
        ctx,
        format!(
            "Tab {tab} open, holding {}.\n  transaction: {signature}",
            loaded.format(deposit)
        ),
        json!({ "tab": tab.to_string(), "deposited": deposit, "signature": signature.to_string() }),
    )
}

pub async fn deposit(ctx: &Context, args: DepositArgs) -> anyhow::Result<()> {
    let depositor = ctx.keypair()?;
    let loaded = ctx.load().await?;
    let owner = args.owner.unwrap_or(depositor.pubkey());
    let (tab, before) = tab_of(ctx, &loaded, &owner).await?;
    let amount = loaded.parse(&args.amount)?;
    let source = deposit_source(ctx, &loaded, &depositor.pubkey(), args.from, amount).await?;
    let ix = loaded
        .deployment
        .deposit_ix(&depositor.pubkey(), &tab, &source, amount);
    let signature = ctx.send(&[ix], &[&depositor]).await?;
    let after = tab_of(ctx, &loaded, &owner).await?.1;
    emit(
        ctx,
        format!(
            "Deposited {} into {tab}; balance {} -> {}.\n  transaction: {signature}",
            loaded.format(amount),
            loaded.format(before.balance),
            loaded.format(after.balance)
        ),
        json!({ "tab": tab.to_string(), "deposited": amount, "balance": after.balance, "signature": signature.to_string() }),
    )
}

pub async fn signer(ctx: &Context, command: SignerCommand) -> anyhow::Result<()> {
    let loaded = ctx.load().await?;
    match command {
        SignerCommand::Add(args) => {
            let owner = ctx.keypair()?;
            tab_of(ctx, &loaded, &owner.pubkey()).await?;
            let cap = loaded.parse(&args.cap)?;
            let expires_at = ctx.cluster_time().await? + args.expires_in;
            let ix = loaded
                .deployment
                .add_signer_ix(&owner.pubkey(), args.signer, expires_at, cap);
            let signature = ctx.send(&[ix], &[&owner]).await?;
            emit(
                ctx,
                format!(
                    "Session key {} may sign up to {} until unix time {expires_at}.\n  transaction: {signature}",
                    args.signer,
                    loaded.format(cap)
                ),
                json!({ "signer": args.signer.to_string(), "cap": cap, "expires_at": expires_at, "signature": signature.to_string() }),
            )
        }
        SignerCommand::Remove { signer } => {
            let owner = ctx.keypair()?;
            let (_, tab) = tab_of(ctx, &loaded, &owner.pubkey()).await?;
            if !tab.signers.iter().any(|s| !s.is_empty() && s.key == signer) {
                bail!(
                    "{signer} is not a session key of your tab: `micropay signer list` shows them"
                );
            }
            let ix = loaded.deployment.remove_signer_ix(&owner.pubkey(), signer);
            let signature = ctx.send(&[ix], &[&owner]).await?;
            emit(
                ctx,
                format!("Session key {signer} removed.\n  transaction: {signature}"),
                json!({ "signer": signer.to_string(), "signature": signature.to_string() }),
            )
        }
        SignerCommand::List => {
            let owner = ctx.keypair()?.pubkey();
            let (_, tab) = tab_of(ctx, &loaded, &owner).await?;
            let now = ctx.cluster_time().await?;
            let signers: Vec<_> = tab.signers.iter().filter(|s| !s.is_empty()).collect();
            let mut human = format!("{} session key(s) on the tab of {owner}:", signers.len());
            for s in &signers {
                human.push_str(&format!(
                    "\n  {}  spent {} of {}  {}",
                    s.key,
                    loaded.format(s.spent),
                    loaded.format(s.cap),
                    if s.expires_at > now {
                        format!("expires in {} s", s.expires_at - now)
                    } else {
                        "expired".to_string()
                    }
                ));
            }
            emit(
                ctx,
                human,
                json!({ "signers": signers.iter().map(|s| json!({
                    "key": s.key.to_string(), "expires_at": s.expires_at, "cap": s.cap, "spent": s.spent,
                    "expired": s.expires_at <= now,
                })).collect::<Vec<_>>() }),
            )
        }
    }
}

fn relayer_error(ctx: &Context, error: ClientError) -> anyhow::Error {
    match &error {
        ClientError::Http(_) => anyhow!(
            "{error}\nIs a relayer running at {}? Start one with `micropay relayer run`, or pass --relayer <URL>.",
            ctx.relayer
        ),
        ClientError::Refused { code, .. } if code == "insufficient_funds" => {
            anyhow!("{error}\nDeposit more with `micropay deposit <AMOUNT>`.")
        }
        ClientError::Refused { code, .. } if code == "unknown_tab" => {
            anyhow!("{error}\nThe relayer serves another deployment, or the tab is not open.")
        }
        ClientError::ForeignSignature => anyhow!(
            "{error}\nRefusing to extend a state you did not sign. The relayer may be faulty; \
             check your session keys with `micropay signer list`."
        ),
        _ => anyhow!(error),
    }
}

pub async fn tip(ctx: &Context, args: TipArgs) -> anyhow::Result<()> {
    let loaded = ctx.load().await?;
    let signer = match &args.session_key {
        Some(path) => read_keypair(path)?,
        None => ctx.keypair()?,
    };
    let owner = match (args.owner, &args.session_key) {
        (Some(owner), _) => owner,
        (None, None) => signer.pubkey(),
        (None, Some(_)) => ctx
            .keypair()
            .context("signing with a session key: pass --owner <TAB_OWNER>")?
            .pubkey(),
    };
    let (tab_address, tab) = tab_of(ctx, &loaded, &owner).await?;
    let mut own_keys = vec![owner];
    own_keys.extend(tab.signers.iter().filter(|s| !s.is_empty()).map(|s| s.key));
    if !own_keys.contains(&signer.pubkey()) {
        bail!(
            "{} is neither the owner of tab {tab_address} nor one of its session keys: register it with `micropay signer add`",
            signer.pubkey()
        );
    }
    let payee = ctx.payee_account(&loaded, &args.payee).await?;
    let amount = loaded.parse(&args.amount)?;
    if amount == 0 {
        bail!("a tip must be more than zero");
    }
    let client = RelayerClient::new(&ctx.relayer);
    let accepted = client
        .tip(&tab_address, &signer, &own_keys, None, payee, amount)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let state = &accepted.state;
    emit(
        ctx,
        format!(
            "Tipped {} to {payee}. Epoch {} of your tab now holds {} tip(s), {} in all, signed by {}.",
            loaded.format(amount),
            state.epoch,
            state.seq,
            loaded.format(state.total),
            accepted.signer
        ),
        json!({ "tab": tab_address.to_string(), "payee": payee.to_string(), "amount": amount, "state": StateJson::from_signed(&accepted) }),
    )
}

pub async fn balance(ctx: &Context, args: BalanceArgs) -> anyhow::Result<()> {
    let loaded = ctx.load().await?;
    let owner = match args.owner {
        Some(owner) => owner,
        None => ctx.keypair()?.pubkey(),
    };
    let (tab_address, tab) = tab_of(ctx, &loaded, &owner).await?;
    let relayer = RelayerClient::new(&ctx.relayer).state(&tab_address).await;
    let open_total = relayer.as_ref().ok().map(|state| state.total);
    let mut human = format!(
        "Tab {tab_address}\n  balance:        {}\n  epoch:          {}\n  settled so far: {}",
        loaded.format(tab.balance),
        tab.epoch,
        loaded.format(tab.settled_total)
    );
    if tab.pending_withdrawal > 0 {
        human.push_str(&format!(
            "\n  withdrawal:     {} requested, unlocks at unix time {}",
            loaded.format(tab.pending_withdrawal),
            tab.withdraw_unlock_at
        ));
    }
    match (&relayer, open_total) {
        (_, Some(total)) => human.push_str(&format!(
            "\n  unsettled (relayer's open epoch): {}",
            loaded.format(total)
        )),
        (Err(error), _) => human.push_str(&format!(
            "\n  relayer at {} not reachable: {error}",
            ctx.relayer
        )),
        _ => {}
    }
    emit(
        ctx,
        human,
        json!({
            "tab": tab_address.to_string(), "owner": owner.to_string(), "balance": tab.balance,
            "epoch": tab.epoch, "incarnation": tab.incarnation, "settled_total": tab.settled_total,
            "pending_withdrawal": tab.pending_withdrawal, "withdraw_unlock_at": tab.withdraw_unlock_at,
            "unsettled_open_epoch": open_total,
        }),
    )
}

pub async fn withdraw(ctx: &Context, command: WithdrawCommand) -> anyhow::Result<()> {
    let owner = ctx.keypair()?;
    let loaded = ctx.load().await?;
    let (tab_address, tab) = tab_of(ctx, &loaded, &owner.pubkey()).await?;
    match command {
        WithdrawCommand::Request { amount } => {
            let amount = if amount == "all" {
                tab.balance
            } else {
                loaded.parse(&amount)?
            };
            if amount == 0 {
                bail!(
                    "nothing to withdraw: the tab holds {}",
                    loaded.format(tab.balance)
                );
            }
            let ix = loaded
                .deployment
                .request_withdraw_ix(&owner.pubkey(), amount);
            let signature = ctx.send(&[ix], &[&owner]).await?;
            let tab = tab_of(ctx, &loaded, &owner.pubkey()).await?.1;
            emit(
                ctx,
                format!(
                    "Withdrawal of {} requested; it unlocks at unix time {}. Then run `micropay withdraw complete`.\n  transaction: {signature}",
                    loaded.format(amount),
                    tab.withdraw_unlock_at
                ),
                json!({ "tab": tab_address.to_string(), "amount": amount, "unlock_at": tab.withdraw_unlock_at, "signature": signature.to_string() }),
            )
        }
        WithdrawCommand::Complete { to } => {
            if tab.pending_withdrawal == 0 {
                bail!("no withdrawal is pending: request one with `micropay withdraw request <AMOUNT>`");
            }
            let now = ctx.cluster_time().await?;
            if now < tab.withdraw_unlock_at {
                bail!(
                    "the withdrawal unlocks in {} s (at unix time {})",
                    tab.withdraw_unlock_at - now,
                    tab.withdraw_unlock_at
                );
            }
            let mut ixs = Vec::new();
            let destination = match to {
                Some(account) => account,
                None => {
                    ixs.push(create_associated_token_account_idempotent(
                        &owner.pubkey(),
                        &owner.pubkey(),
                        &loaded.deployment.mint,
                        &loaded.deployment.token_program,
                    ));
                    ctx.associated_account(&loaded, &owner.pubkey())
                }
            };
            ixs.push(loaded.deployment.withdraw_ix(&owner.pubkey(), &destination));
            let signature = ctx.send(&ixs, &[&owner]).await?;
            let after = tab_of(ctx, &loaded, &owner.pubkey()).await?.1;
            let paid = tab.balance - after.balance;
            emit(
                ctx,
                format!(
                    "Withdrew {} to {destination}; the tab holds {}.\n  transaction: {signature}",
                    loaded.format(paid),
                    loaded.format(after.balance)
                ),
                json!({ "tab": tab_address.to_string(), "withdrawn": paid, "destination": destination.to_string(), "balance": after.balance, "signature": signature.to_string() }),
            )
        }
    }
}

pub async fn earnings(ctx: &Context, args: EarningsArgs) -> anyhow::Result<()> {
    let loaded = ctx.load().await?;
    let payee = ctx.payee_account(&loaded, &args.payee).await?;
    let held = accounts::token_account(&ctx.rpc, &payee)
        .await?
        .map_or(0, |a| a.amount);
    let client = RelayerClient::new(&ctx.relayer);
    let tips = client
        .payee_tips(&payee, args.limit)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let settlements = client
        .payee_settlements(&payee, args.limit)
        .await
        .map_err(|e| relayer_error(ctx, e))?;
    let pending: u64 = tips
        .iter()
        .filter(|t| t.status != "settled" && t.status != "void")
        .map(|t| t.amount)
        .sum();
    let mut human = format!(
        "Payee {payee}\n  on-chain balance: {}\n  recent tips not yet settled: {} ({} listed)",
        loaded.format(held),
        loaded.format(pending),
        tips.len()
    );
    for tip in tips.iter().take(10) {
        human.push_str(&format!(
            "\n    {} from tab {} (epoch {}, {})",
            loaded.format(tip.amount),
            tip.tab,
            tip.epoch,
            tip.status
        ));
    }
    human.push_str(&format!("\n  recent settlements: {}", settlements.len()));
    for s in settlements.iter().take(10) {
        human.push_str(&format!(
            "\n    {} gross from tab {} epoch {} in {}",
            loaded.format(s.amount),
            s.tab,
            s.epoch,
            s.settle_tx.as_deref().unwrap_or("?")
        ));
    }
    emit(
        ctx,
        human,
        json!({ "payee": payee.to_string(), "balance": held, "unsettled_recent": pending, "tips": tips, "settlements": settlements }),
    )
}

pub async fn settle(ctx: &Context, args: SettleArgs) -> anyhow::Result<()> {
    let submitter = ctx.keypair()?;
    let loaded = ctx.load().await?;
    let json: StateJson = match (&args.tab, &args.state) {
        (Some(tab), _) => RelayerClient::new(&ctx.relayer)
            .state(tab)
            .await
            .map_err(|e| relayer_error(ctx, e))?,
        (None, Some(path)) => {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
            }
            serde_json::from_str(&text)
                .context("the state file is not a signed state in the relayer's JSON format")?
        }
        (None, None) => bail!("pass --tab <TAB> or --state <FILE>"),
    };
    if json.signature.is_none() {
        bail!(
            "tab {} has no signed state in its open epoch: nothing to settle",
            json.tab
        );
    }
    let signed: SignedState = json
        .to_signed()
        .map_err(|e| anyhow!("unusable state: {e}"))?;
    if !signed.verify() {
        bail!("the state's signature does not verify");
    }
    let tab = accounts::tab(&ctx.rpc, &signed.state.tab)
        .await?
        .ok_or_else(|| anyhow!("tab {} is not open", signed.state.tab))?;
    if tab.config != loaded.deployment.config {
        bail!(
            "tab {} belongs to deployment {}, not {}",
            signed.state.tab,
            tab.config,
            loaded.deployment.config
        );
    }
    if signed.state.epoch != tab.epoch || signed.state.incarnation != tab.incarnation {
        bail!(
            "the state is for epoch {} (incarnation {}), the tab is at epoch {} (incarnation {}): it was settled already or is void",
            signed.state.epoch, signed.state.incarnation, tab.epoch, tab.incarnation
        );
    }
    let ixs = loaded.deployment.settle_ixs(&[&signed])?;
    let signature = ctx.send(&ixs, &[&submitter]).await?;
    emit(
        ctx,
        format!(
            "Settled epoch {} of tab {}: {} tip(s), {} to {} payee(s).\n  transaction: {signature}",
            signed.state.epoch,
            signed.state.tab,
            signed.state.seq,
            loaded.format(signed.state.total),
            signed.state.entries.len()
        ),
        json!({ "tab": signed.state.tab.to_string(), "epoch": signed.state.epoch, "tips": signed.state.seq, "total": signed.state.total, "signature": signature.to_string() }),
    )
}
