//! Many states at once: each checked and receipted as if submitted alone, in order
//! within each stream, and all written in as few group commits as the writer makes of
//! them.

use std::collections::HashMap;

use futures_util::future::join_all;
use micropay_protocol::{Receipted, SignedStream};

use super::{IntakeError, Sequencer};
use crate::domain::StreamKey;

impl Sequencer {
    /// What became of each of `states`, in their order. The states of one stream are
    /// taken in order, each reserved before the next is checked, so that a state may
    /// extend the one before it in the batch; streams are taken concurrently. Answers
    /// once every receipted state is durable.
    pub async fn submit_all(
        &self,
        states: Vec<SignedStream>,
    ) -> Vec<Result<Receipted, IntakeError>> {
        let count = states.len();
        let mut streams: HashMap<StreamKey, Vec<(usize, SignedStream)>> = HashMap::new();
        for (at, signed) in states.into_iter().enumerate() {
            let stream = StreamKey {
                tab: signed.state.tab,
                slot: signed.state.slot,
            };
            streams.entry(stream).or_default().push((at, signed));
        }
        let reserved = join_all(streams.into_values().map(|states| async move {
            let mut reserved = Vec::with_capacity(states.len());
            for (at, signed) in states {
                reserved.push((at, self.reserve(signed, None).await));
            }
            reserved
        }))
        .await;
        let mut finished = join_all(reserved.into_iter().flatten().map(
            |(at, reserved)| async move {
                let result = match reserved {
                    Ok((reservation, _)) => self.receipted(reservation).await,
                    Err(error) => Err(error),
                };
                self.count(result.as_ref().map(|_| ()));
                (at, result)
            },
        ))
        .await;
        finished.sort_unstable_by_key(|(at, _)| *at);
        debug_assert_eq!(finished.len(), count);
        finished.into_iter().map(|(_, result)| result).collect()
    }
}
