//! Prometheus metrics.

use std::time::Instant;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub tips_accepted: IntCounter,
    pub tips_rejected: IntCounterVec,
    pub refusals: IntCounterVec,
    pub http_connections: IntGauge,
    pub epochs: IntGaugeVec,
    pub settlements: IntCounterVec,
    pub tips_per_tx: Histogram,
    pub streams_per_tx: Histogram,
    pub fee_lamports: IntCounter,
    pub lookup_tables: IntGaugeVec,
    pub table_rent_returned: IntCounter,
    pub request_seconds: HistogramVec,
    pub durable_wait_seconds: Histogram,
}

/// From 100 µs to 2.5 s, finest in the milliseconds a paid call's budget is counted
/// in (so that a p99 read from the buckets is close); a stalled store or RPC shows in
/// the top buckets.
const LATENCY_BUCKETS: [f64; 18] = [
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let tips_accepted =
            IntCounter::new("micropay_tips_accepted_total", "Signed states receipted").unwrap();
        let tips_rejected = IntCounterVec::new(
            Opts::new(
                "micropay_tips_rejected_total",
                "States the sequencer refused, by reason",
            ),
            &["reason"],
        )
        .unwrap();
        let refusals = IntCounterVec::new(
            Opts::new(
                "micropay_http_refusals_total",
                "Requests answered with an error, by code",
            ),
            &["code"],
        )
        .unwrap();
        let http_connections = IntGauge::new(
            "micropay_http_connections",
            "Connections being served (those over the limit are not counted)",
        )
        .unwrap();
        let epochs = IntGaugeVec::new(
            Opts::new(
                "micropay_stream_epochs",
                "Stored stream epochs by status (open and closed are pending)",
            ),
            &["status"],
        )
        .unwrap();
        let settlements = IntCounterVec::new(
            Opts::new(
                "micropay_settlements_total",
                "Settlement transactions, by outcome",
            ),
            &["outcome"],
        )
        .unwrap();
        let tips_per_tx = Histogram::with_opts(
            HistogramOpts::new(
                "micropay_tips_per_transaction",
                "Tips settled per confirmed transaction",
            )
            .buckets(prometheus::exponential_buckets(1.0, 4.0, 10).unwrap()),
        )
        .unwrap();
        let streams_per_tx = Histogram::with_opts(
            HistogramOpts::new(
                "micropay_streams_per_transaction",
                "Streams settled per confirmed transaction",
            )
            .buckets(prometheus::linear_buckets(1.0, 1.0, 16).unwrap()),
        )
        .unwrap();
        let fee_lamports = IntCounter::new(
            "micropay_fee_lamports_total",
            "Transaction fees paid by the relayer",
        )
        .unwrap();
        let lookup_tables = IntGaugeVec::new(
            Opts::new(
                "micropay_lookup_tables",
                "The sequencer's lookup tables: live, or deactivated and waiting to be closed",
            ),
            &["state"],
        )
        .unwrap();
        let table_rent_returned = IntCounter::new(
            "micropay_lookup_table_rent_returned_lamports_total",
            "Rent of closed lookup tables returned to the sequencer",
        )
        .unwrap();
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "micropay_http_request_duration_seconds",
                "Time from a request's arrival to its answer, by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .unwrap();
        let durable_wait_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "micropay_durable_wait_seconds",
                "Time from a receipted state's queueing to the end of the commit that writes it",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .unwrap();
        for collector in [
            Box::new(tips_accepted.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(tips_rejected.clone()),
            Box::new(refusals.clone()),
            Box::new(http_connections.clone()),
            Box::new(epochs.clone()),
            Box::new(settlements.clone()),
            Box::new(tips_per_tx.clone()),
            Box::new(streams_per_tx.clone()),
            Box::new(fee_lamports.clone()),
            Box::new(lookup_tables.clone()),
            Box::new(table_rent_returned.clone()),
            Box::new(request_seconds.clone()),
            Box::new(durable_wait_seconds.clone()),
        ] {
            registry.register(collector).unwrap();
        }
        Self {
            registry,
            tips_accepted,
            tips_rejected,
            refusals,
            http_connections,
            epochs,
            settlements,
            tips_per_tx,
            streams_per_tx,
            fee_lamports,
            lookup_tables,
            table_rent_returned,
            request_seconds,
            durable_wait_seconds,
        }
    }

    /// A receipted state queued to the store at `queued` is now durable.
    pub fn waited_for_commit(&self, queued: Instant) {
        self.durable_wait_seconds
            .observe(queued.elapsed().as_secs_f64());
    }

    /// The lookup tables as a settlement pass left them: `(live, retiring)`, and the
    /// rent its closes returned.
    pub fn tables(&self, (live, retiring): (usize, usize), returned: u64) {
        self.lookup_tables
            .with_label_values(&["live"])
            .set(live as i64);
        self.lookup_tables
            .with_label_values(&["retiring"])
            .set(retiring as i64);
        self.table_rent_returned.inc_by(returned);
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("prometheus text is utf-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
