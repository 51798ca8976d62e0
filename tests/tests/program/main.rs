//! The micropay program inside a real Solana runtime (`solana-program-test`): the
//! program runs natively, the bank, the ed25519 precompile and the SPL Token and
//! Token-2022 programs are the real ones.

mod admin_and_tabs;
mod capacity;
mod invariants;
mod lifecycle;
mod rejections;
mod session_signers;
