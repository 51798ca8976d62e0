//! The statements that write a group: planned in waves so that the group is written
//! as if state by state in arrival order, each a multi-row statement in either
//! backend's SQL, padded to a few row counts.

use std::{collections::HashMap, fmt::Write};

use sqlx::{any::AnyArguments, query::Query, Any};

use super::{AcceptRequest, GROUP_COMMIT_MAX};
use crate::{
    domain::{Accepted, EpochKey},
    store::{
        codec::{encode_entries, Addresses},
        sql::Backend,
    },
};

/// Most rows in one statement: within SQLite's limit on one statement's parameters
/// (32,766).
const MAX_ROWS: usize = GROUP_COMMIT_MAX;

/// One multi-row statement over the states of a wave.
pub(super) enum Statement {
    /// The first state of each epoch, unless one is already stored.
    Open(Rows),
    /// A later state of each epoch, if the stored one is still the state it follows
    /// and the epoch is open.
    Advance(Rows),
    /// The tips of those states that are now stored, appended to the tip log.
    Tips(Rows),
    /// The payee and epoch of each of those tips that is the epoch's first to its
    /// payee, unless already listed.
    PayeeEpochs(Rows),
}

/// The statements that write the group as if state by state in arrival order. The
/// group is split into waves in which no epoch appears twice, so that one statement
/// writes a whole wave and a state that follows another of its epoch sees that one
/// written (or refused) first.
pub(super) fn plan(requests: &[AcceptRequest]) -> Vec<Statement> {
    let mut seen: HashMap<EpochKey, usize> = HashMap::with_capacity(requests.len());
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (at, request) in requests.iter().enumerate() {
        let earlier = seen
            .entry(EpochKey::of(request.accepted.state()))
            .or_default();
        if *earlier == waves.len() {
            waves.push(Vec::new());
        }
        waves[*earlier].push(at);
        *earlier += 1;
    }
    let mut statements = Vec::new();
    for wave in waves {
        let (opening, advancing): (Vec<usize>, Vec<usize>) = wave
            .iter()
            .partition(|&&at| requests[at].accepted.previous_seq.is_none());
        for chunk in opening.chunks(MAX_ROWS) {
            statements.push(Statement::Open(Rows::of(chunk)));
        }
        for chunk in advancing.chunks(MAX_ROWS) {
            statements.push(Statement::Advance(Rows::of(chunk)));
        }
        for chunk in wave.chunks(MAX_ROWS) {
            statements.push(Statement::Tips(Rows::of(chunk)));
        }
        // A later tip's payee was listed with the epoch's first tip to it, which is
        // stored if the later one is: each state of an epoch is stored only after the
        // one it extends.
        let first_tips: Vec<usize> = wave
            .iter()
            .copied()
            .filter(|&at| requests[at].accepted.first_tip_to_payee())
            .collect();
        for chunk in first_tips.chunks(MAX_ROWS) {
            statements.push(Statement::PayeeEpochs(Rows::of(chunk)));
        }
    }
    statements
}

/// The states at these positions of the group, as a statement's rows: their count
/// rounded up to the next of 1, 2, 3, 4, 6, 8, 12, …, 384, 512 (at most half again),
/// the rest rows of nulls that match nothing. A statement's text depends on its rows'
/// count alone, so the connection prepares the scripts of these few counts once and
/// keeps them (sqlx's statement cache, 100 per connection), where a text for every
/// count was parsed and planned again on most commits once groups of up to 512 states
/// came in several waves.
pub(super) struct Rows {
    states: Vec<usize>,
    padded: usize,
}

impl Rows {
    fn of(states: &[usize]) -> Self {
        Self {
            states: states.to_vec(),
            padded: padded_rows(states.len()),
        }
    }
}

fn padded_rows(rows: usize) -> usize {
    let power = rows.next_power_of_two();
    if rows > 2 && rows <= power / 4 * 3 {
        power / 4 * 3
    } else {
        power
    }
}

/// The columns of `v`, one row per state, in [`Statement::bind`]'s order.
const STATE_ROWS: &str = "v (v_tab, v_incarnation, v_slot, v_epoch, v_previous_seq, v_seq,
    v_fee_bps, v_total, v_entries, v_signature, v_receipt, v_at)";
const STATE_COLUMNS: usize = 12;

/// The columns of `t`, one row per tip, in [`Statement::bind`]'s order.
const TIP_ROWS: &str =
    "t (t_tab, t_incarnation, t_slot, t_epoch, t_seq, t_signature, t_payee, t_amount, t_at)";
const TIP_COLUMNS: usize = 9;

/// The rows of `t` whose state is stored now: a state is stored if and only if this
/// wave wrote it, or an identical one before it did (whose tip is this one's, logged
/// twice then: reads and the fold take each tip once). CROSS JOIN
/// keeps SQLite's loops in this order: the wave outside, each epoch found by primary
/// key; left to choose, it scans every stored epoch once the wave is long.
const STORED_TIPS: &str = "FROM t CROSS JOIN stream_epochs
    WHERE tab = t_tab AND incarnation = t_incarnation AND slot = t_slot
      AND epoch = t_epoch AND seq = t_seq AND signature = t_signature";

impl Statement {
    fn rows(&self) -> &Rows {
        match self {
            Self::Open(rows) | Self::Advance(rows) | Self::Tips(rows) | Self::PayeeEpochs(rows) => {
                rows
            }
        }
    }

    /// The statement in `backend`'s SQL. The state statements return the signature of
    /// each state they wrote.
    pub(super) fn sql(&self, backend: Backend) -> String {
        let rows = self.rows().padded;
        match self {
            Self::Open(_) => format!(
                "WITH {STATE_ROWS} AS (VALUES {})
                 INSERT {} INTO stream_epochs
                     (tab, incarnation, slot, epoch, seq, fee_bps, total, entries, signature,
                      receipt, status, opened_at, updated_at)
                 SELECT v_tab, v_incarnation, v_slot, v_epoch, v_seq, v_fee_bps, v_total,
                        v_entries, v_signature, v_receipt, 'open', v_at, v_at
                 FROM v WHERE v_tab IS NOT NULL
                 {}
                 RETURNING signature",
                values_sql(backend, rows, STATE_COLUMNS),
                or_ignore(backend),
                on_conflict_do_nothing(backend, "(tab, incarnation, slot, epoch)"),
            ),
            Self::Advance(_) => format!(
                "WITH {STATE_ROWS} AS (VALUES {})
                 UPDATE {} stream_epochs
                 SET seq = v_seq, fee_bps = v_fee_bps, total = v_total, entries = v_entries,
                     signature = v_signature, receipt = v_receipt, updated_at = v_at
                 FROM v
                 WHERE tab = v_tab AND incarnation = v_incarnation AND slot = v_slot
                   AND epoch = v_epoch AND seq = v_previous_seq AND {} = 'open'
                 RETURNING signature",
                values_sql(backend, rows, STATE_COLUMNS),
                or_ignore(backend),
                status_not_indexed(backend)
            ),
            // The log has no key to conflict on (docs/adr/0019).
            Self::Tips(_) => format!(
                "WITH {TIP_ROWS} AS (VALUES {})
                 INSERT {} INTO tip_log
                     (tab, incarnation, slot, epoch, seq, payee, amount, accepted_at)
                 SELECT t_tab, t_incarnation, t_slot, t_epoch, t_seq, t_payee, t_amount, t_at
                 {STORED_TIPS}",
                values_sql(backend, rows, TIP_COLUMNS),
                or_ignore(backend),
            ),
            // A wave names each epoch once, so no pair twice.
            Self::PayeeEpochs(_) => format!(
                "WITH {TIP_ROWS} AS (VALUES {})
                 INSERT {} INTO payee_epochs (payee, tab, incarnation, slot, epoch)
                 SELECT t_payee, t_tab, t_incarnation, t_slot, t_epoch
                 {STORED_TIPS}
                 {}",
                values_sql(backend, rows, TIP_COLUMNS),
                or_ignore(backend),
                on_conflict_do_nothing(backend, ""),
            ),
        }
    }

    pub(super) fn bind<'q>(
        &self,
        mut query: Query<'q, Any, AnyArguments<'q>>,
        requests: &[AcceptRequest],
        addresses: &'q [Addresses],
    ) -> Query<'q, Any, AnyArguments<'q>> {
        let rows = self.rows();
        // The padding rows bind each column's null of its type (PostgreSQL types the
        // list from the values bound), through the same column list as the states.
        let padding = std::iter::repeat_n(None, rows.padded - rows.states.len());
        for at in rows.states.iter().copied().map(Some).chain(padding) {
            let accepted = at.map(|at| &requests[at].accepted);
            let state = accepted.map(Accepted::state);
            let addresses = at.map(|at| &addresses[at]);
            let signature = accepted.map(|a| a.receipted.signed.signature.to_vec());
            query = query
                .bind(addresses.map(|a| a.tab.as_str()))
                .bind(state.map(|s| s.incarnation as i64))
                .bind(state.map(|s| i64::from(s.slot)))
                .bind(state.map(|s| s.epoch as i64));
            query = match self {
                Self::Open(_) | Self::Advance(_) => query
                    .bind(accepted.and_then(|a| a.previous_seq.map(i64::from)))
                    .bind(state.map(|s| i64::from(s.seq)))
                    .bind(state.map(|s| i64::from(s.fee_bps)))
                    .bind(state.map(|s| s.total() as i64))
                    .bind(state.map(encode_entries))
                    .bind(signature)
                    .bind(accepted.map(|a| a.receipted.receipt.to_vec()))
                    .bind(accepted.map(|a| a.at_ms)),
                Self::Tips(_) | Self::PayeeEpochs(_) => query
                    .bind(state.map(|s| i64::from(s.seq)))
                    .bind(signature)
                    .bind(addresses.map(|a| a.payee.as_str()))
                    .bind(accepted.map(|a| a.tip.1 as i64))
                    .bind(accepted.map(|a| a.at_ms)),
            };
        }
        query
    }
}

/// The status column in a condition that must not pick an index. Given a wave of more
/// than a few rows, SQLite otherwise walks every open epoch by the status index and
/// scans the wave for each (measured: CPU per tip growing with the open epochs); with
/// the unary `+` it looks each row of the wave up by primary key.
/// PostgreSQL's planner joins the wave by hash without being told.
fn status_not_indexed(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "+status",
        Backend::Postgres => "status",
    }
}

/// How a statement skips a row it must not write: a state whose epoch is already
/// stored, a payee's epoch already listed. On SQLite, `OR IGNORE` (on the tip log too,
/// which has nothing to conflict on, for the NOT NULL columns): under
/// `ON CONFLICT DO NOTHING` a NOT NULL column could still abort a multi-row statement
/// halfway, so SQLite copied every page the statement touched into a statement journal
/// to undo it by, about 12% of the store's CPU (docs/adr/0018). No row this writer
/// binds is null but the padding, which no statement writes. PostgreSQL has only
/// `ON CONFLICT`.
fn or_ignore(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "OR IGNORE",
        Backend::Postgres => "",
    }
}

/// PostgreSQL's form of [`or_ignore`].
fn on_conflict_do_nothing(backend: Backend, target: &'static str) -> String {
    match backend {
        Backend::Sqlite => String::new(),
        Backend::Postgres => format!("ON CONFLICT {target} DO NOTHING"),
    }
}

/// `(…), (…), …`: `rows` rows of `columns` parameters each. SQLite's are anonymous (`?`,
/// bound in order across a script): it looks a named one up by a linear search on
/// every bind, quadratic in a statement's parameters. PostgreSQL's are `$1`, `$2`, ….
fn values_sql(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 1..=columns {
            if column > 1 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let number = row * columns + column;
                    write!(sql, "${number}").expect("writing to a String");
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests;
