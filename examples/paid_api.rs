//! An API that charges per call through micropay: `GET /fortune` costs `--price` base
//! units of the relayer's deployment mint, paid to `--pay-to`; `GET /fortune/free` is
//! the same answer unpaid. Receipts of the payments taken are appended to `--receipts`.
//!
//!     cargo run -p micropay-paywall --example paid-api -- \
//!         --relayer http://127.0.0.1:7000 --pay-to <YOUR_WALLET>
//!     micropay pay http://127.0.0.1:7400/fortune --max 0.01

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use axum::{extract::State, routing::get, Json, Router};
use clap::Parser;
use micropay_paywall::{Paywall, ReceiptLog};
use serde_json::{json, Value};
use solana_address::Address;

#[derive(Parser)]
#[command(about = "An API that charges per call through micropay (HTTP 402)")]
struct Args {
    /// The micropay relayer, which is the facilitator.
    #[arg(
        long,
        env = "MICROPAY_RELAYER",
        default_value = "http://127.0.0.1:7000"
    )]
    relayer: String,
    /// The wallet paid for each call.
    #[arg(long, env = "PAID_API_PAY_TO")]
    pay_to: Address,
    /// The price of one call, in base units of the deployment's mint.
    #[arg(long, default_value_t = 1_000)]
    price: u64,
    #[arg(long, default_value = "127.0.0.1:7400")]
    listen: SocketAddr,
    /// Where the receipts of the payments taken are appended (JSON lines).
    #[arg(long, default_value = "paid-api-receipts.jsonl")]
    receipts: PathBuf,
}

const FORTUNES: [&str; 4] = [
    "A tenth of a cent, well spent.",
    "Your next call is already paid for.",
    "Fees fall where batches grow.",
    "The receipt is the payment.",
];

async fn fortune(
    State(served): State<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
) -> Json<Value> {
    let n = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Json(json!({ "fortune": FORTUNES[n % FORTUNES.len()], "call": n + 1 }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let receipts = ReceiptLog::open(&args.receipts)
        .with_context(|| format!("opening {}", args.receipts.display()))?;
    let paywall = Paywall::connect(&args.relayer, args.pay_to, receipts)
        .await
        .with_context(|| format!("asking the relayer at {} what it settles", args.relayer))?;
    let app = Router::new()
        .route(
            "/fortune",
            get(fortune).layer(paywall.price(args.price, "A fortune")),
        )
        .route("/fortune/free", get(fortune))
        .with_state(Default::default());
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!(
        "paid API on http://{} : GET /fortune costs {} base units, paid to {}",
        listener.local_addr()?,
        args.price,
        args.pay_to
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
