use micropay_protocol::{Receipted, SignedStream, StreamState};
use solana_sdk::pubkey::Pubkey;
use sqlx::Row;
use tokio::sync::oneshot;

use super::*;
use crate::store::SqlStore;

#[test]
fn rows_pad_to_few_counts_and_at_most_half_again() {
    let mut counts = std::collections::BTreeSet::new();
    for rows in 1..=MAX_ROWS {
        let padded = padded_rows(rows);
        assert!(padded >= rows && padded <= MAX_ROWS, "{rows} -> {padded}");
        assert!(2 * padded <= 3 * rows, "{rows} -> {padded}");
        counts.insert(padded);
    }
    assert_eq!(counts.len(), 18, "{counts:?}");
}

/// Each wave row must find its epoch by primary key. A plan that walks the open
/// epochs instead costs every commit the open epochs times the wave's rows.
#[tokio::test]
async fn sqlite_looks_each_row_of_a_wave_up_by_primary_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plan.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let by_key = "SEARCH stream_epochs USING INDEX sqlite_autoindex_stream_epochs_1 \
                  (tab=? AND incarnation=? AND slot=? AND epoch=?)";
    for rows in [1, 8, 128, MAX_ROWS] {
        let positions: Vec<usize> = (0..rows).collect();
        for statement in [
            Statement::Advance(Rows::of(&positions)),
            Statement::Tips(Rows::of(&positions)),
            Statement::PayeeEpochs(Rows::of(&positions)),
        ] {
            let sql = format!("EXPLAIN QUERY PLAN {}", statement.sql(Backend::Sqlite));
            let plan: Vec<String> = sqlx::query(&sql)
                .fetch_all(&store.reader)
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String, _>(3).unwrap())
                .collect();
            assert!(
                plan.iter().any(|step| step == by_key),
                "{rows} rows: {plan:#?}"
            );
        }
    }
}

/// Only a tip that is its epoch's first to the payee lists the payee's epoch: later
/// tips to the same payee plan no row there.
#[test]
fn only_an_epochs_first_tip_to_a_payee_lists_it() {
    let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    let first = StreamState::new(Pubkey::new_unique(), 1, 0, 0, 0)
        .tip(alice, 5)
        .unwrap();
    let again = first.tip(alice, 7).unwrap();
    let other = again.tip(bob, 1).unwrap();
    let requests: Vec<AcceptRequest> = [
        (first, None, (alice, 5)),
        (again, Some(1), (alice, 7)),
        (other, Some(2), (bob, 1)),
    ]
    .into_iter()
    .map(|(state, previous_seq, tip)| AcceptRequest {
        accepted: Accepted {
            receipted: Receipted {
                signed: SignedStream {
                    state,
                    signature: [1; 64],
                },
                receipt: [2; 64],
            },
            previous_seq,
            tip,
            at_ms: 0,
        },
        reply: oneshot::channel().0,
    })
    .collect();
    let listed: Vec<usize> = plan(&requests)
        .iter()
        .filter_map(|statement| match statement {
            Statement::PayeeEpochs(rows) => Some(rows.states.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(listed, [0, 2]);
}
