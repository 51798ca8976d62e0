//! The relayer's own latency histograms, read from its Prometheus `/metrics` as a
//! scraper would: where a benchmark's time goes inside the relayer process.

use serde::Serialize;

/// One histogram series as exposed: cumulative counts at each upper bound (`le`, in
/// seconds, ascending, `+Inf` last) and the sum of the observations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    cumulative: Vec<(f64, u64)>,
    sum: f64,
}

impl Buckets {
    /// The series of histogram `name` whose labels include `labels` (such as
    /// `route="/x402/verify"`; empty for a histogram without labels), from the text
    /// exposition format. Empty if the relayer has not exposed it yet.
    pub fn parse(text: &str, name: &str, labels: &str) -> Self {
        let mut buckets = Self::default();
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if !series_labels.contains(labels) {
                continue;
            }
            match series_name.strip_prefix(name) {
                Some("_bucket") => {
                    let bound = series_labels
                        .split("le=\"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .map(|le| if le == "+Inf" { "inf" } else { le })
                        .and_then(|le| le.parse().ok());
                    if let (Some(bound), Ok(count)) = (bound, value.parse()) {
                        buckets.cumulative.push((bound, count));
                    }
                }
                Some("_sum") => buckets.sum = value.parse().unwrap_or(0.0),
                _ => {}
            }
        }
        buckets
    }

    pub fn count(&self) -> u64 {
        self.cumulative.last().map_or(0, |(_, count)| *count)
    }

    /// The observations made after `before` was read.
    pub fn since(&self, before: &Self) -> Self {
        let earlier = |bound: f64| {
            before
                .cumulative
                .iter()
                .find(|(le, _)| *le == bound)
                .map_or(0, |(_, count)| *count)
        };
        Self {
            cumulative: self
                .cumulative
                .iter()
                .map(|&(le, count)| (le, count.saturating_sub(earlier(le))))
                .collect(),
            sum: self.sum - before.sum,
        }
    }

    /// The `q` quantile in seconds, interpolated linearly within its bucket as
    /// Prometheus's `histogram_quantile` does; `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q * total as f64;
        let (mut lower, mut below) = (0.0, 0);
        for &(upper, count) in &self.cumulative {
            if count as f64 >= rank {
                if upper.is_infinite() {
                    // Beyond the last finite bound: that bound is all that is known.
                    return Some(lower);
                }
                let within = (count - below).max(1) as f64;
                return Some(lower + (upper - lower) * (rank - below as f64) / within);
            }
            (lower, below) = (upper, count);
        }
        Some(lower)
    }

    /// What a benchmark prints: count, mean and quantiles in milliseconds.
    pub fn latency(&self) -> RelayerLatency {
        let ms = |seconds: Option<f64>| seconds.map_or(0.0, |s| s * 1e3);
        let count = self.count();
        RelayerLatency {
            count,
            mean_ms: ms((count > 0).then(|| self.sum / count as f64)),
            p50_ms: ms(self.quantile(0.5)),
            p99_ms: ms(self.quantile(0.99)),
        }
    }
}

/// A relayer histogram summarised, milliseconds (quantiles interpolated within the
/// relayer's buckets).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RelayerLatency {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// A paid call's two requests to the relayer, timed by the relayer itself, and the
/// part of `settle` spent waiting for the commit that makes the state durable.
#[derive(Debug, Default, Serialize)]
pub struct RelayerView {
    pub verify: RelayerLatency,
    pub settle: RelayerLatency,
    pub durable_wait: RelayerLatency,
}

impl RelayerView {
    /// The paid phase's observations: `after` less `before` (two `/metrics` texts).
    pub fn between(before: &str, after: &str) -> Self {
        let window = |name: &str, labels: &str| {
            let earlier = Buckets::parse(before, name, labels);
            Buckets::parse(after, name, labels)
                .since(&earlier)
                .latency()
        };
        let route = |path: &str| format!("route=\"{path}\"");
        const REQUESTS: &str = "micropay_http_request_duration_seconds";
        Self {
            verify: window(REQUESTS, &route(micropay_api::x402::routes::VERIFY)),
            settle: window(REQUESTS, &route(micropay_api::x402::routes::SETTLE)),
            durable_wait: window("micropay_durable_wait_seconds", ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSED: &str = r#"# HELP micropay_http_request_duration_seconds Time from a request's arrival to its answer, by route
# TYPE micropay_http_request_duration_seconds histogram
micropay_http_request_duration_seconds_bucket{route="/x402/settle",le="0.001"} 0
micropay_http_request_duration_seconds_bucket{route="/x402/settle",le="0.002"} 4
micropay_http_request_duration_seconds_bucket{route="/x402/settle",le="0.005"} 10
micropay_http_request_duration_seconds_bucket{route="/x402/settle",le="+Inf"} 10
micropay_http_request_duration_seconds_sum{route="/x402/settle"} 0.03
micropay_http_request_duration_seconds_count{route="/x402/settle"} 10
micropay_http_request_duration_seconds_bucket{route="/x402/verify",le="0.001"} 7
micropay_http_request_duration_seconds_bucket{route="/x402/verify",le="0.002"} 7
micropay_http_request_duration_seconds_bucket{route="/x402/verify",le="0.005"} 7
micropay_http_request_duration_seconds_bucket{route="/x402/verify",le="+Inf"} 7
micropay_http_request_duration_seconds_sum{route="/x402/verify"} 0.0035
micropay_http_request_duration_seconds_count{route="/x402/verify"} 7
micropay_durable_wait_seconds_bucket{le="0.001"} 1
micropay_durable_wait_seconds_bucket{le="+Inf"} 3
micropay_durable_wait_seconds_sum 0.5
micropay_durable_wait_seconds_count 3
"#;

    const REQUESTS: &str = "micropay_http_request_duration_seconds";

    #[test]
    fn reads_one_series_by_its_labels() {
        let settle = Buckets::parse(EXPOSED, REQUESTS, "route=\"/x402/settle\"");
        assert_eq!(settle.count(), 10);
        assert_eq!(settle.cumulative.len(), 4);
        assert!((settle.latency().mean_ms - 3.0).abs() < 1e-9);
        let verify = Buckets::parse(EXPOSED, REQUESTS, "route=\"/x402/verify\"");
        assert_eq!(verify.count(), 7);
        let wait = Buckets::parse(EXPOSED, "micropay_durable_wait_seconds", "");
        assert_eq!(wait.count(), 3);
        assert_eq!(
            Buckets::parse(EXPOSED, REQUESTS, "route=\"/v1/x\"").count(),
            0
        );
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket_as_prometheus_does() {
        let settle = Buckets::parse(EXPOSED, REQUESTS, "route=\"/x402/settle\"");
        // Rank 5 of 10 is the first of the six in (2 ms, 5 ms]: 2 + 3 * 1/6 ms.
        let p50 = settle.quantile(0.5).unwrap();
        assert!((p50 - 0.0025).abs() < 1e-12, "{p50}");
        // Rank 2 of 10 is halfway through the four in (1 ms, 2 ms].
        assert!((settle.quantile(0.2).unwrap() - 0.0015).abs() < 1e-12);
        // Past the last finite bound, the bound is the answer.
        let wait = Buckets::parse(EXPOSED, "micropay_durable_wait_seconds", "");
        assert_eq!(wait.quantile(0.99), Some(0.001));
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn since_keeps_only_the_later_observations() {
        let before = Buckets::parse(EXPOSED, REQUESTS, "route=\"/x402/settle\"");
        let mut after = before.clone();
        for (_, count) in &mut after.cumulative[2..] {
            *count += 5;
        }
        after.sum += 0.02;
        let window = after.since(&before);
        assert_eq!(window.count(), 5);
        assert!((window.quantile(0.5).unwrap() - 0.0035).abs() < 1e-12);
        assert!((window.latency().mean_ms - 4.0).abs() < 1e-9);
    }
}
