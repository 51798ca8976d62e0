//! The v2 program as SBF bytecode in a real runtime: the lifecycle, every trust-model
//! point of DESIGN v2, the v1 failures it fixes, and the v1 attack matrix. Each
//! refusal asserts its error code and that nothing moved.

mod capacity;
mod compute_units;
mod fuzz;
mod invariants;
mod lifecycle;
mod mints;
mod sessions;
mod trust;
