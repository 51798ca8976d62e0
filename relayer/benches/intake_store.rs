//! The intake store alone: what SQLite's group-commit writer costs per tip, without
//! HTTP, signatures or a validator (`cargo bench -p micropay-relayer --bench
//! intake_store`). Each round queues the next state of every stream (of a random
//! number of them, for a varied shape) and waits for all of them, as that many
//! concurrent payers would; the writer groups what has queued.
//! The states carry random bytes where signatures go: the store does not verify them.
//!
//! Prints, per shape: tips per second, the process's CPU per tip (the writer's tokio
//! task and SQLite's worker thread; nothing else runs), and bytes written per tip.

use std::time::Instant;

use micropay_protocol::{Receipted, SignedStream, StreamState, MAX_ENTRIES};
use micropay_relayer::{
    domain::Accepted,
    store::{IntakeStore, SqlStore},
};
use solana_sdk::pubkey::Pubkey;

struct Shape {
    name: &'static str,
    streams: usize,
    rounds: usize,
    /// Whether a round takes a random number of the streams (at least one) instead
    /// of all of them.
    varied: bool,
}

const SHAPES: [Shape; 3] = [
    // `bench ingest`'s payers, each tipping its own favourite payees.
    Shape {
        name: "ingest-payers",
        streams: 256,
        rounds: 200,
        varied: false,
    },
    // The same payers arriving as over HTTP: each group a different size.
    Shape {
        name: "ingest-arrivals",
        streams: 256,
        rounds: 400,
        varied: true,
    },
    // Many payers at once: every group holds 512 states, one per stream.
    Shape {
        name: "many-payers",
        streams: 5_000,
        rounds: 10,
        varied: false,
    },
];

const PAYEES: usize = 16;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("| shape | streams | tips | tips/s | CPU µs/tip | bytes written/tip |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for shape in &SHAPES {
        runtime.block_on(measure(shape))?;
    }
    Ok(())
}

async fn measure(shape: &Shape) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqlStore::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    let rounds = prepare(shape);
    let tips: usize = rounds.iter().map(Vec::len).sum();

    let (cpu, written, started) = (cpu_seconds(), bytes_written()?, Instant::now());
    for round in rounds {
        let pending: Vec<_> = round.into_iter().map(|state| store.queue(state)).collect();
        for write in pending {
            anyhow::ensure!(write.written().await?, "a state was refused");
        }
    }
    let (elapsed, cpu, written) = (
        started.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        bytes_written()? - written,
    );
    println!(
        "| {} | {} | {tips} | {:.0} | {:.1} | {:.0} |",
        shape.name,
        shape.streams,
        tips as f64 / elapsed,
        cpu * 1e6 / tips as f64,
        written as f64 / tips as f64,
    );
    Ok(())
}

/// Every stream's states, round by round: each tips one of its own `MAX_ENTRIES`
/// payees, so its epoch never fills.
fn prepare(shape: &Shape) -> Vec<Vec<Accepted>> {
    let payees: Vec<Pubkey> = (0..PAYEES).map(|_| Pubkey::new_unique()).collect();
    let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut streams: Vec<(StreamState, Option<u32>)> = (0..shape.streams)
        .map(|_| (StreamState::new(Pubkey::new_unique(), 1, 0, 0, 100), None))
        .collect();
    (0..shape.rounds)
        .map(|_| {
            let taken = if shape.varied {
                1 + random.next() as usize % shape.streams
            } else {
                shape.streams
            };
            let first = random.next() as usize % (shape.streams - taken + 1);
            streams
                .iter_mut()
                .enumerate()
                .skip(first)
                .take(taken)
                .map(|(at, (state, stored_seq))| {
                    let payee = payees[(at + random.next() as usize % MAX_ENTRIES) % PAYEES];
                    let amount = 1 + random.next() % 10_000;
                    *state = state.tip(payee, amount).expect("a favourite payee");
                    let accepted = Accepted {
                        receipted: Receipted {
                            signed: SignedStream {
                                state: state.clone(),
                                signature: random.bytes(),
                            },
                            receipt: random.bytes(),
                        },
                        previous_seq: *stored_seq,
                        tip: (payee, amount),
                        at_ms: 0,
                    };
                    *stored_seq = Some(state.seq);
                    accepted
                })
                .collect()
        })
        .collect()
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self) -> [u8; 64] {
        std::array::from_fn(|_| self.next() as u8)
    }
}

/// User and system CPU of the whole process, seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Bytes this process has passed to write calls (`wchar` in `/proc/self/io`).
fn bytes_written() -> anyhow::Result<u64> {
    let io = std::fs::read_to_string("/proc/self/io")?;
    io.lines()
        .find_map(|line| line.strip_prefix("wchar: "))
        .ok_or_else(|| anyhow::anyhow!("no wchar in /proc/self/io"))?
        .parse()
        .map_err(Into::into)
}
