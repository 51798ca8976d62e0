//! `micropay pay <URL>`: an HTTP call that may cost money. On a 402 offering the
//! `micropay` scheme in this deployment, within `--max`, the call is paid from the
//! payer's stream and sent again; the body goes to standard output, what was paid to
//! standard error (or everything as one JSON document).

use anyhow::{anyhow, bail, Context as _};
use micropay_api::ReceiptJson;
use micropay_client::pay::{PayError, Payer};
use serde_json::json;

use crate::{
    args::{Output, PayArgs},
    context::Context,
    payer::{relayer_error, signing_stream},
};

pub async fn pay(ctx: &Context, args: PayArgs) -> anyhow::Result<()> {
    let d = ctx.load().await?;
    let (key, tab, slot) = signing_stream(ctx, &d, args.session_key.as_deref(), args.owner).await?;
    let limit = d.parse(&args.max)?;
    let relayer = ctx.relayer(&d);
    let sequencer = relayer.sequencer();
    let payer = Payer::new(relayer, key, d.address, tab, slot, limit);
    let method: reqwest::Method = args
        .method
        .parse()
        .map_err(|_| anyhow!("not an HTTP method: {}", args.method))?;
    let mut request = payer.http().request(method, &args.target);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| anyhow!("a header is `Name: value`, not {header:?}"))?;
        request = request.header(name.trim(), value.trim());
    }
    if let Some(data) = args.data {
        request = request.body(data);
    }
    let answer = payer.send(request).await.map_err(|error| match error {
        PayError::Relayer(error) => relayer_error(ctx, error),
        PayError::TooExpensive { price, .. } => anyhow!(
            "{} asks {} per call, more than --max {}",
            args.target,
            d.format(price),
            args.max
        ),
        error => anyhow!(error),
    })?;
    let status = answer.response.status();
    let body = answer
        .response
        .text()
        .await
        .with_context(|| format!("reading the answer of {}", args.target))?;
    match ctx.output {
        Output::Json => {
            let paid = answer.paid.as_ref().map(|paid| {
                json!({
                    "amount": paid.amount,
                    "pay_to": paid.pay_to.to_string(),
                    "receipt": ReceiptJson::new(&paid.receipted, &sequencer),
                })
            });
            let document = json!({ "status": status.as_u16(), "paid": paid, "body": body });
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Output::Human => {
            if let Some(paid) = &answer.paid {
                let state = paid.receipted.state();
                eprintln!(
                    "Paid {} to {} (stream {slot}, epoch {}, seq {}), receipted by the sequencer.",
                    d.format(paid.amount),
                    paid.pay_to,
                    state.epoch,
                    state.seq
                );
            }
            println!("{body}");
        }
    }
    if !status.is_success() {
        bail!("{} answered {status}", args.target);
    }
    Ok(())
}
