//! `micropay-relayer`: runs the sequencer until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    micropay_relayer::app::main().await
}
