//! An RPC outage and its recovery: the relayer reaches the chain through a proxy
//! that is cut (open connections dropped, new ones refused) and restored. While the
//! chain is out, tabs it knows keep tipping known payees on what it last read, a tab
//! or payee it never saw is refused `chain_unavailable`, and nothing settles; once the chain is back,
//! everything receipted settles once and every payee holds exactly what it is owed.

use std::net::SocketAddr;

use micropay_devnet::report::{settlement_report, wait_settled};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

use super::*;

/// A TCP proxy to an upstream address that can be cut and restored.
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, state) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*state.borrow() {
                    continue; // refused: dropped at once
                }
                let mut state = state.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_rpc_outage_delays_settlement_and_loses_nothing() {
    let devnet = Devnet::start().await.expect("validator");
    let deployment = Deployment::create(&devnet, FEE_BPS)
        .await
        .expect("deployment");
    let known = deployment.payer(&devnet, 100_000).await.unwrap();
    let unseen = deployment.payer(&devnet, 100_000).await.unwrap();
    let (alice, _) = deployment.payee(&devnet).await.unwrap();
    let (bob, _) = deployment.payee(&devnet).await.unwrap();
    let rpc: SocketAddr = devnet
        .rpc_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = Proxy::start(rpc).await;
    let dir = tempfile::tempdir().unwrap();
    let args = RelayerArgs {
        url: format!("http://{}", proxy.addr),
        ..RelayerArgs::from_flags(
            deployment
                .relayer_flags(&devnet, dir.path())
                .unwrap()
                .args(),
        )
        .unwrap()
    };
    let relayer = start(&args).await.expect("relayer");
    let client = RelayerClient::new(
        format!("http://{}", relayer.addr),
        deployment.sequencer.pubkey(),
    );

    for amount in 1..=3 {
        client
            .tip(&known.owner, &known.tab, 0, &alice.pubkey(), amount)
            .await
            .unwrap();
    }

    // The chain goes away. What the relayer read of the known tab and payee carries on
    // (past the cache's age, on the last copy); an unseen tab or payee cannot be
    // checked, and its refusal changes nothing.
    proxy.cut();
    for amount in 4..=6 {
        client
            .tip(&known.owner, &known.tab, 0, &alice.pubkey(), amount)
            .await
            .expect("a known tab tips while the chain is out");
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    }
    assert_eq!(
        refused(
            client
                .tip(&known.owner, &known.tab, 0, &bob.pubkey(), 1)
                .await
        ),
        ErrorCode::ChainUnavailable
    );
    assert_eq!(
        refused(
            client
                .tip(&unseen.owner, &unseen.tab, 0, &alice.pubkey(), 1)
                .await
        ),
        ErrorCode::ChainUnavailable
    );
    assert!(!client.health().await.unwrap().chain_reachable);
    relayer.settle_now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = client.status().await.unwrap();
    assert_eq!(
        status.pending_epochs, 1,
        "nothing settles without the chain"
    );
    assert_eq!(status.pending_amount, (1..=6).sum::<u64>());

    // The chain comes back: the unseen tab and payee are accepted, and everything
    // settles once.
    proxy.restore();
    client
        .tip(&unseen.owner, &unseen.tab, 0, &bob.pubkey(), 7)
        .await
        .expect("the unseen tab and payee, once the chain answers");
    assert!(client.health().await.unwrap().chain_reachable);
    relayer.settle_now();
    wait_settled(&client, Duration::from_secs(120))
        .await
        .expect("settled after the outage");
    let payees = [alice.pubkey(), bob.pubkey()];
    let report = settlement_report(&client, &devnet.rpc(), &deployment, &payees)
        .await
        .unwrap();
    assert_eq!(report.tips, 7);
    assert_eq!(report.tipped, (1..=7).sum::<u64>());
    assert!(report.payouts_match, "{:?}", report.payees);
    let settled = client.status().await.unwrap().totals(StreamStatus::Settled);
    assert_eq!(settled.epochs, 2);
    relayer.shutdown().await;
}
