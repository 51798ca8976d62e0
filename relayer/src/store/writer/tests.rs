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
