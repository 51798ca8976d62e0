//! `micropay-relayer`: runs the relayer until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    micropay_relayer_v1::run::main().await
}
