//! The admin's commands (create a deployment, show it, propose changes) and the fee
//! sweep anyone may run.

use anyhow::{bail, Context as _};
use micropay_client::{
    accounts,
    amount::format_ui,
    interface::{
        client as builders,
        state::{Params, I64, U16},
    },
    Deployment,
};
use serde_json::json;
use solana_sdk::{signature::Keypair, signer::Signer};

use crate::{
    args::{ConfigCommand, FeesCommand, InitConfigArgs, UpdateArgs},
    context::{read_keypair, Context},
    output::emit,
};

pub async fn init_config(ctx: &Context, args: InitConfigArgs) -> anyhow::Result<()> {
    let admin = ctx.keypair()?;
    let (mint, token_program) = accounts::mint(&ctx.rpc, &args.mint)
        .await
        .with_context(|| format!("reading mint {} on {}", args.mint, ctx.rpc_url))?;
    let config = match &args.config_keypair {
        Some(path) => read_keypair(path)?,
        None => Keypair::new(),
    };
    let params = Params {
        sequencer: args.sequencer,
        fee_destination: args.fee_destination.unwrap_or(admin.pubkey()),
        withdrawal_delay: I64::new(args.withdrawal_delay),
        top_up_window: I64::new(args.top_up_window),
        fee_bps: U16::new(args.fee_bps),
        _padding: [0; 6],
    };
    let ix = builders::init_config(
        &admin.pubkey(),
        &config.pubkey(),
        &args.mint,
        &token_program,
        &params,
    );
    let signature = ctx.send(&[ix], &[&admin, &config]).await?;
    let vault = builders::vault_address(&config.pubkey());
    emit(
        ctx,
        format!(
            "Deployment created.\n  config:           {}\n  mint:             {} ({} decimals)\n  vault:            {vault}\n  sequencer:        {}\n  fee:              {} bps, collected to {}\n  withdrawal delay: {} s\n  top-up window:    {} s\n  transaction:      {signature}\n\nUse it with: export MICROPAY_CONFIG={}",
            config.pubkey(),
            args.mint,
            mint.decimals,
            args.sequencer,
            args.fee_bps,
            params.fee_destination,
            args.withdrawal_delay,
            args.top_up_window,
            config.pubkey()
        ),
        json!({
            "config": config.pubkey().to_string(),
            "mint": args.mint.to_string(),
            "vault": vault.to_string(),
            "sequencer": args.sequencer.to_string(),
            "fee_bps": args.fee_bps,
            "fee_destination": params.fee_destination.to_string(),
            "withdrawal_delay": args.withdrawal_delay,
            "top_up_window": args.top_up_window,
            "signature": signature.to_string(),
        }),
    )
}

fn params_json(params: &Params) -> serde_json::Value {
    json!({
        "sequencer": params.sequencer.to_string(),
        "fee_bps": params.fee_bps.get(),
        "fee_destination": params.fee_destination.to_string(),
        "withdrawal_delay": params.withdrawal_delay.get(),
        "top_up_window": params.top_up_window.get(),
    })
}

fn params_human(params: &Params) -> String {
    format!(
        "sequencer {}, fee {} bps to {}, withdrawal delay {} s, top-up window {} s",
        params.sequencer,
        params.fee_bps.get(),
        params.fee_destination,
        params.withdrawal_delay.get(),
        params.top_up_window.get()
    )
}

pub async fn config(ctx: &Context, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show => show(ctx).await,
        ConfigCommand::Update(args) => update(ctx, args).await,
    }
}

async fn show(ctx: &Context) -> anyhow::Result<()> {
    let d = ctx.load().await?;
    let now = ctx.cluster_time().await?;
    let c = &d.config;
    let pending_at = c.pending_effective_at.get();
    let mut human = format!(
        "Deployment {}\n  admin:      {}\n  mint:       {} ({} decimals, {})\n  vault:      {}\n  in force:   {}\n  fees owed:  {}\n  tabs:       {}",
        d.address,
        c.admin,
        c.mint,
        c.decimals,
        c.token_program,
        d.vault(),
        params_human(&d.params(now)),
        d.format(c.fees_owed.get()),
        c.tab_count.get(),
    );
    if pending_at > now {
        human.push_str(&format!(
            "\n  pending:    {} (from unix time {pending_at}, in {} s)",
            params_human(&c.pending),
            pending_at - now
        ));
    }
    emit(
        ctx,
        human,
        json!({
            "config": d.address.to_string(),
            "admin": c.admin.to_string(),
            "mint": c.mint.to_string(),
            "decimals": c.decimals,
            "token_program": c.token_program.to_string(),
            "vault": d.vault().to_string(),
            "params": params_json(&d.params(now)),
            "pending": (pending_at > now).then(|| params_json(&c.pending)),
            "pending_effective_at": (pending_at > now).then_some(pending_at),
            "fees_owed": c.fees_owed.get(),
            "tab_count": c.tab_count.get(),
        }),
    )
}

async fn update(ctx: &Context, args: UpdateArgs) -> anyhow::Result<()> {
    let admin = ctx.keypair()?;
    let d = ctx.load().await?;
    if d.config.admin != admin.pubkey() {
        bail!(
            "{} is not the admin of {} (its admin is {})",
            admin.pubkey(),
            d.address,
            d.config.admin
        );
    }
    // Starts from the latest proposal, so that two updates in a row add up.
    let now = ctx.cluster_time().await?;
    let mut params = if d.config.pending_effective_at.get() != 0 {
        d.config.pending
    } else {
        d.params(now)
    };
    if let Some(sequencer) = args.sequencer {
        params.sequencer = sequencer;
    }
    if let Some(fee_bps) = args.fee_bps {
        params.fee_bps = U16::new(fee_bps);
    }
    if let Some(destination) = args.fee_destination {
        params.fee_destination = destination;
    }
    if let Some(delay) = args.withdrawal_delay {
        params.withdrawal_delay = I64::new(delay);
    }
    if let Some(window) = args.top_up_window {
        params.top_up_window = I64::new(window);
    }
    let ix = builders::update_config(&admin.pubkey(), &d.address, &params);
    let signature = ctx.send(&[ix], &[&admin]).await?;
    let after = Deployment::load(&ctx.rpc, &d.address).await?;
    let effective_at = after.config.pending_effective_at.get();
    emit(
        ctx,
        format!(
            "Proposed: {}\n  takes effect at unix time {effective_at}\n  transaction: {signature}",
            params_human(&params)
        ),
        json!({ "pending": params_json(&params), "effective_at": effective_at, "signature": signature.to_string() }),
    )
}

pub async fn fees(ctx: &Context, command: FeesCommand) -> anyhow::Result<()> {
    let FeesCommand::Collect = command;
    let payer = ctx.keypair()?;
    let d = ctx.load().await?;
    let owed = d.config.fees_owed.get();
    if owed == 0 {
        bail!("no fees are owed in {}", d.address);
    }
    let now = ctx.cluster_time().await?;
    let wallet = d.params(now).fee_destination;
    let destination = d.associated(&wallet);
    let ixs = [
        d.create_associated_ix(&payer.pubkey(), &wallet),
        builders::collect_fees(&d.payout(&destination)),
    ];
    let signature = ctx.send(&ixs, &[&payer]).await?;
    emit(
        ctx,
        format!(
            "Collected {} of fees to {destination} (wallet {wallet}).\n  transaction: {signature}",
            format_ui(owed, d.decimals())
        ),
        json!({ "collected": owed, "destination": destination.to_string(), "wallet": wallet.to_string(), "signature": signature.to_string() }),
    )
}
