//! `micropay-relayer`: runs the sequencer until SIGTERM or Ctrl-C.

// jemalloc, as Agave's validator uses: see ADR 0013 for what glibc's malloc cost.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    micropay_relayer::app::main().await
}
