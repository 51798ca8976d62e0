//! Named points where a test build kills its own process with SIGKILL, as `kill -9`
//! or the OOM killer would, so that crash tests hit the moments that matter instead of
//! hoping a timer does: `MICROPAY_CRASH_AT=<point>` kills the process the first time
//! it reaches that point. Built only with the `crash-points` feature (the test suite
//! enables it); otherwise every point compiles to nothing.

/// The points, in the order a tip meets them.
pub const POINTS: &[&str] = &[
    // Intake: the state passed every check and is reserved; it is not yet written.
    "state-reserved",
    // Intake: the state is durable; its receipt is not yet answered.
    "state-written",
    // Settlement: epochs closed to new tips; nothing is sent.
    "epochs-closed",
    // Settlement: the signed transaction is recorded; it is not yet sent.
    "settlement-recorded",
    // Settlement: the transaction is sent; its landing is not yet seen.
    "settlement-sent",
    // The same, for a transaction carrying a top-up of a stream settled lower.
    "top-up-sent",
    // Settlement: the transaction landed; its epochs are not yet marked settled.
    "settlement-landed",
];

#[cfg(feature = "crash-points")]
pub fn point(name: &'static str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    debug_assert!(POINTS.contains(&name), "unknown crash point {name}");
    let at = AT.get_or_init(|| std::env::var("MICROPAY_CRASH_AT").ok());
    if at.as_deref() == Some(name) {
        // SAFETY: signalling this process; SIGKILL cannot be caught, nothing runs after.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}

#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn point(_name: &'static str) {}
