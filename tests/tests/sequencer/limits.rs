//! Bad input and slow clients: every refusal is a JSON `ErrorResponse` with a stable
//! code, answered in bounded time and counted in the metrics; connections over the
//! limit are told so; clients that stall are cut off; and generated requests (a fuzz
//! of the HTTP intake, valid states among them) never get a 5xx nor stop the service.

use std::path::Path;

use futures::StreamExt;
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// A second relayer of `w`'s deployment, with its own store, at most four connections
/// and one second for a request's headers.
async fn limited(w: &World, dir: &Path) -> Running {
    start(&RelayerArgs {
        store_url: format!("sqlite://{}", dir.join("limited.db").display()),
        listen: "127.0.0.1:0".parse().unwrap(),
        max_connections: 4,
        header_timeout_secs: 1,
        ..w.args.clone()
    })
    .await
    .expect("relayer")
}

/// The answer's code, after checking that it is an `ErrorResponse` of its status.
async fn error_code(response: reqwest::Response) -> ErrorCode {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body: micropay_api::ErrorResponse = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {status} that is not an ErrorResponse ({e}): {text}"));
    assert_eq!(body.error.code.http_status(), status.as_u16(), "{text}");
    body.error.code
}

/// Whether the relayer closes `socket` within `within`, answering nothing: the next
/// read is the end of the stream or a reset.
async fn closed_within(mut socket: tokio::net::TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    matches!(
        tokio::time::timeout(within, socket.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

fn counted(metrics: &str, code: ErrorCode) -> u64 {
    let series = format!(
        "micropay_http_refusals_total{{code=\"{}\"}} ",
        code.as_str()
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_and_slow_clients_are_refused_in_bounded_time() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let relayer = limited(&w, dir.path()).await;
    let base = format!("http://{}", relayer.addr);
    let http = reqwest::Client::new();

    // The framework's own refusals answer like the handlers'.
    let wallet = Pubkey::new_unique();
    for (method, path, code) in [
        (
            Method::GET,
            "/v1/nothing-here".to_owned(),
            ErrorCode::NotFound,
        ),
        (
            Method::DELETE,
            "/v1/health".to_owned(),
            ErrorCode::MethodNotAllowed,
        ),
        (
            Method::GET,
            format!("/v1/payees/{wallet}/receipts?limit=lots"),
            ErrorCode::Malformed,
        ),
        (
            Method::GET,
            format!("/v1/payees/{wallet}/receipts?since_ms=-"),
            ErrorCode::Malformed,
        ),
    ] {
        let response = http
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response).await, code, "{method} {path}");
    }

    // A 10 MB upload announced by its Content-Length gets its 413, not a reset
    // connection: the relayer drains what it will not read before closing.
    let url = format!("{base}/v1/streams/{}/0/states", Pubkey::new_unique());
    let huge = http
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b' '; 10 << 20])
        .send()
        .await
        .expect("an answer, not a broken pipe");
    assert_eq!(error_code(huge).await, ErrorCode::PayloadTooLarge);

    // Headers that stop half way, and a connection that never sends anything, are
    // closed once the header timeout passes.
    let mut slow = tokio::net::TcpStream::connect(relayer.addr).await.unwrap();
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let idle = tokio::net::TcpStream::connect(relayer.addr).await.unwrap();
    let started = std::time::Instant::now();
    assert!(closed_within(slow, Duration::from_secs(5)).await);
    assert!(closed_within(idle, Duration::from_secs(5)).await);
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Four event streams hold the four connections; a fifth is told to retry. The
    // connections closed above may still hold their slots for a moment after the
    // client sees them closed (the server ends their tasks on its own time), so each
    // stream may have to wait for one.
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut held = None;
        for _ in 0..50 {
            let events = http
                .get(format!("{base}/v1/payees/{wallet}/receipts/events"))
                .send()
                .await
                .unwrap();
            if events.status() == StatusCode::OK {
                held = Some(events);
                break;
            }
            assert_eq!(events.status(), StatusCode::TOO_MANY_REQUESTS);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        streams.push(held.expect("a connection slot frees up"));
    }
    let busy = http.get(format!("{base}/v1/health")).send().await.unwrap();
    assert_eq!(error_code(busy).await, ErrorCode::TooManyConnections);
    streams.pop();
    let mut served = false;
    for _ in 0..50 {
        let health = http.get(format!("{base}/v1/health")).send().await.unwrap();
        if health.status() == StatusCode::OK {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "a freed connection slot is served again");
    drop(streams);

    // Every refusal was counted by its code.
    let mut metrics = String::new();
    for _ in 0..50 {
        match http.get(format!("{base}/metrics")).send().await.unwrap() {
            answer if answer.status() == StatusCode::OK => {
                metrics = answer.text().await.unwrap();
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    for code in [
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::TooManyConnections,
    ] {
        assert!(counted(&metrics, code) >= 1, "{code:?} in\n{metrics}");
    }
    assert!(counted(&metrics, ErrorCode::Malformed) >= 2);
    relayer.shutdown().await;
}

/// Requests the fuzz sends in one run; `MICROPAY_FUZZ_REQUESTS` sets another count.
const FUZZ_REQUESTS: usize = 20_000;

/// A request the fuzz sends.
#[derive(Debug, Clone)]
struct Generated {
    method: Method,
    path: String,
    body: Vec<u8>,
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e30f64..1e30).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "[1-9A-HJ-NP-Za-km-z]{30,90}".prop_map(Value::String),
        "-?[0-9]{1,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,10}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// What the fuzz knows of the deployment: a tab with a stream whose key it holds, and
/// wallets to pay (payees, and addresses the program refuses as payees).
struct Target {
    tab: Pubkey,
    key: Keypair,
    wallets: Vec<Pubkey>,
}

impl Target {
    /// A state of the stream, signed by its key, with generated fields: most are
    /// refused by rule, some are the stream's next state and are receipted.
    fn signed_state(&self) -> impl Strategy<Value = Value> + '_ {
        let wallets = self.wallets.clone();
        (
            0u64..3,
            0u64..3,
            0u32..40,
            prop_oneof![Just(100u16), any::<u16>()],
            prop::collection::vec((prop::sample::select(wallets), 0u64..2_000), 0..4),
            prop::option::weighted(0.1, any::<u64>()),
        )
            .prop_map(move |(incarnation, epoch, seq, fee_bps, entries, total)| {
                let state = StreamState {
                    tab: self.tab,
                    incarnation,
                    slot: 0,
                    epoch,
                    seq,
                    fee_bps,
                    entries: entries.into_iter().collect(),
                };
                let signed = SignedStream::sign(state, &self.key).unwrap();
                let mut body = serde_json::to_value(SignedStreamJson::from(&signed)).unwrap();
                if let Some(total) = total {
                    body["total"] = Value::String(total.to_string());
                }
                body
            })
    }

    /// A valid-looking state with one field replaced, removed, or added.
    fn mutated_state(&self) -> impl Strategy<Value = Value> + '_ {
        let fields = [
            "tab",
            "incarnation",
            "slot",
            "epoch",
            "seq",
            "fee_bps",
            "total",
            "entries",
            "signature",
            "extra",
        ];
        (
            self.signed_state(),
            prop::sample::select(fields.to_vec()),
            prop::option::weighted(0.9, json_value()),
        )
            .prop_map(|(mut body, field, value)| {
                match value {
                    Some(value) => body[field] = value,
                    None => {
                        body.as_object_mut().unwrap().remove(field);
                    }
                }
                body
            })
    }

    fn request(&self) -> impl Strategy<Value = Generated> + '_ {
        let states = format!("/v1/streams/{}/0/states", self.tab);
        let tab = self.tab.to_string();
        let paths = prop_oneof![
            4 => Just(states.clone()),
            1 => Just(micropay_api::routes::STATES.to_owned()),
            1 => Just(micropay_api::x402::routes::VERIFY.to_owned()),
            1 => Just(micropay_api::x402::routes::SETTLE.to_owned()),
            1 => (prop::sample::select(vec![
                "/v1/streams/{}/{}",
                "/v1/streams/{}/{}/states",
                "/v1/payees/{}/receipts",
                "/v1/payees/{}/receipts?limit={}",
                "/v1/{}",
                "/{}/{}",
            ]), prop_oneof![Just(tab), "[A-Za-z0-9%._~-]{0,60}"], "[A-Za-z0-9%._~-]{0,12}")
                .prop_map(|(template, a, b)| template.replacen("{}", &a, 1).replacen("{}", &b, 1)),
        ];
        let bodies = prop_oneof![
            3 => self.signed_state().prop_map(|v| v.to_string().into_bytes()),
            3 => self.mutated_state().prop_map(|v| v.to_string().into_bytes()),
            1 => self.mutated_state().prop_map(|v| json!({
                "x402Version": 2,
                "paymentPayload": {"x402Version": 2, "payload": v},
                "paymentRequirements": {"scheme": "micropay", "amount": "1"},
            }).to_string().into_bytes()),
            1 => prop::collection::vec(prop_oneof![self.signed_state(), self.mutated_state()], 0..8)
                .prop_map(|states| json!({ "states": states }).to_string().into_bytes()),
            1 => json_value().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..2_048),
            1 => (1usize..20_000).prop_map(|depth| "[".repeat(depth).into_bytes()),
        ];
        let methods = prop_oneof![
            8 => Just(Method::POST),
            2 => Just(Method::GET),
            1 => prop::sample::select(vec![Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD, Method::OPTIONS]),
        ];
        (methods, paths, bodies).prop_map(|(method, path, body)| Generated { method, path, body })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generated_requests_never_get_a_5xx_nor_stop_the_service() {
    let w = world().await;
    let payer = w.deployment.payer(&w.devnet, 100_000).await.unwrap();
    let (alice, _) = w.deployment.payee(&w.devnet).await.unwrap();
    let target = Target {
        tab: payer.tab,
        key: payer.owner.insecure_clone(),
        wallets: vec![
            alice.pubkey(),
            Pubkey::new_unique(),
            payer.tab,
            w.deployment.config,
            w.deployment.sequencer.pubkey(),
        ],
    };
    let count = std::env::var("MICROPAY_FUZZ_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(FUZZ_REQUESTS);
    // A new seed each run, printed so that a failing run can be replayed.
    let seed: [u8; 32] = std::env::var("MICROPAY_FUZZ_SEED")
        .ok()
        .and_then(|hex| {
            (0..32)
                .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Option<Vec<_>>>()
        })
        .map_or_else(rand::random, |bytes| bytes.try_into().unwrap());
    let seed_hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    eprintln!("fuzzing {count} requests, MICROPAY_FUZZ_SEED={seed_hex}");
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = target.request();
    // Generated as they are sent: a million requests would not fit in memory at once.
    let requests = (0..count).map(move |_| strategy.new_tree(&mut runner).unwrap().current());

    let http = reqwest::Client::new();
    let base = w.base.clone();
    let answered = futures::stream::iter(requests)
        .map(|request| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let response = tokio::time::timeout(
                    Duration::from_secs(15),
                    http.request(request.method.clone(), format!("{base}{}", request.path))
                        .header("content-type", "application/json")
                        .body(request.body.clone())
                        .send(),
                )
                .await
                .unwrap_or_else(|_| panic!("no answer within 15 s to {request:?}"))
                .unwrap_or_else(|e| panic!("{e} for {request:?}"));
                let status = response.status();
                assert!(!status.is_server_error(), "{status} for {request:?}");
                if status.is_client_error() && request.method != Method::HEAD {
                    error_code(response).await;
                }
                status
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let receipted = answered.iter().filter(|s| s.is_success()).count();
    eprintln!("{} answered, {receipted} with 2xx", answered.len());
    assert_eq!(answered.len(), count);
    // The service still serves, and the stream's next state is still its own to tip.
    w.client.health().await.expect("still up");
    w.client
        .tip(&payer.owner, &payer.tab, 0, &alice.pubkey(), 1)
        .await
        .expect("a genuine tip after the fuzz");
}
