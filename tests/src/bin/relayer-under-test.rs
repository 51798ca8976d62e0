//! The relayer command exactly as `micropay-relayer` ships it, built inside this
//! package so that its tests can start it as a process and signal or kill it
//! (`CARGO_BIN_EXE_*` only names binaries of the package under test).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    micropay_relayer::app::main().await
}
