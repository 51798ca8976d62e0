//! `POST /v1/states`: each state of a batch is receipted or refused as if submitted
//! alone, states of one stream extend each other within the batch, and what was
//! receipted settles; a request that is not a batch within limits is refused whole.

use micropay_api::{
    routes, ErrorCode, ErrorResponse, SignedStreamJson, StateOutcome, SubmitStates,
    SubmittedStates, MAX_BATCH_BODY_BYTES, MAX_BATCH_STATES,
};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_receipts_each_state_as_if_alone_and_what_it_receipts_settles() {
    let w = world().await;
    let payer = w.deployment.payer(&w.devnet, 10_000).await.unwrap();
    let other = w.deployment.payer(&w.devnet, 10_000).await.unwrap();
    let session = Keypair::new();
    let expires = w.devnet.unix_time().await.unwrap() + 3 * 86_400;
    w.deployment
        .add_session(&w.devnet, &payer, 1, &session.pubkey(), expires, 5_000)
        .await
        .unwrap();
    let (alice, alice_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let (bob, bob_account) = w.deployment.payee(&w.devnet).await.unwrap();
    let (alice, bob) = (alice.pubkey(), bob.pubkey());

    let start = |tab: Pubkey, slot: u8| {
        let client = w.client.clone();
        async move {
            client
                .stream(&tab, slot)
                .await
                .unwrap()
                .next
                .to_state()
                .unwrap()
        }
    };
    // The owner's stream tips three times in a row, each state extending the last.
    let owner0 = start(payer.tab, 0).await;
    let owner1 = owner0.tip(alice, 100).unwrap();
    let owner2 = owner1.tip(bob, 200).unwrap();
    let owner3 = owner2.tip(alice, 300).unwrap();
    // The session key's stream: one tip, then one over its cap.
    let session0 = start(payer.tab, 1).await;
    let session1 = session0.tip(bob, 1_000).unwrap();
    let over_cap = session1.tip(bob, 4_001).unwrap();
    // Another tab's stream: one tip, and a second state for the same seq.
    let other0 = start(other.tab, 0).await;
    let other1 = other0.tip(bob, 50).unwrap();
    let other1_again = other0.tip(alice, 51).unwrap();
    let sign = |state: &StreamState, key: &Keypair| SignedStream::sign(state.clone(), key).unwrap();
    let states = [
        sign(&owner1, &payer.owner),
        sign(&session1, &session),
        sign(&other1, &other.owner),
        sign(&owner2, &payer.owner),
        sign(&over_cap, &session),
        sign(&other1_again, &other.owner),
        sign(&owner3, &Keypair::new()),
        sign(&owner3, &payer.owner),
    ];
    let results = w.client.submit_all(&states).await.unwrap();
    let codes: Vec<Option<ErrorCode>> = results
        .iter()
        .map(|result| result.as_ref().err().map(|e| e.code().expect("a refusal")))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            None,
            None,
            None,
            Some(ErrorCode::Policy),
            Some(ErrorCode::StaleState),
            Some(ErrorCode::BadSignature),
            None,
        ],
        "{results:?}"
    );
    // Receipted means stored: the streams stand where the batch left them.
    for (tab, slot, seq) in [(payer.tab, 0, 3), (payer.tab, 1, 1), (other.tab, 0, 1)] {
        let view = w.client.stream(&tab, slot).await.unwrap();
        assert_eq!(view.latest.unwrap().signed.state.seq, seq);
    }

    // A state that is not one is refused in its place; the others still count.
    let http = reqwest::Client::new();
    let url = format!("{}{}", w.base, routes::STATES);
    let next = owner3.tip(bob, 7).unwrap();
    let mut broken = SignedStreamJson::from(&sign(&next, &payer.owner));
    broken.signature = "not-base58!".into();
    let batch = SubmitStates {
        states: vec![broken, SignedStreamJson::from(&sign(&next, &payer.owner))],
    };
    let answer: SubmittedStates = http
        .post(&url)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        matches!(&answer.results[..], [StateOutcome::Refused { error }, StateOutcome::Receipted(_)] if error.code == ErrorCode::Malformed),
        "{answer:?}"
    );

    // What is not a batch within limits is refused whole, with a JSON error.
    let refusal = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: ErrorResponse = response.json().await.unwrap();
        (status, body.error.code)
    };
    let empty = http.post(&url).json(&SubmitStates { states: vec![] });
    assert_eq!(
        refusal(empty.send().await.unwrap()).await,
        (400, ErrorCode::Malformed)
    );
    let one = SignedStreamJson::from(&sign(&next, &payer.owner));
    let too_many = http.post(&url).json(&SubmitStates {
        states: vec![one; MAX_BATCH_STATES + 1],
    });
    assert_eq!(
        refusal(too_many.send().await.unwrap()).await,
        (413, ErrorCode::PayloadTooLarge)
    );
    let too_big = http.post(&url).body(vec![b' '; MAX_BATCH_BODY_BYTES + 1]);
    assert_eq!(
        refusal(too_big.send().await.unwrap()).await,
        (413, ErrorCode::PayloadTooLarge)
    );
    let garbage = http.post(&url).body("{\"states\": 3}");
    assert_eq!(
        refusal(garbage.send().await.unwrap()).await,
        (400, ErrorCode::Malformed)
    );

    // Every receipted tip settles, each payee net of the fee.
    w.relayer.settle_now();
    let alice_gross = 100 + 300;
    let bob_gross = 200 + 1_000 + 50 + 7;
    let devnet = &w.devnet;
    eventually("both payees paid", || async {
        devnet.token_balance(&alice_account).await.unwrap() > 0
            && devnet.token_balance(&bob_account).await.unwrap() > 0
    })
    .await;
    let client = &w.client;
    eventually("nothing pending", || async {
        client.status().await.unwrap().pending_epochs == 0
    })
    .await;
    let alice_paid = devnet.token_balance(&alice_account).await.unwrap();
    let bob_paid = devnet.token_balance(&bob_account).await.unwrap();
    // One entry per stream and payee, each fee floored: at most one unit each above.
    assert!((net(alice_gross)..=net(alice_gross) + 1).contains(&alice_paid));
    assert!((net(bob_gross)..=net(bob_gross) + 3).contains(&bob_paid));
    let settled = w.client.status().await.unwrap();
    assert_eq!(
        settled.totals(StreamStatus::Settled).amount,
        alice_gross + bob_gross
    );
}
