//! Support for the integration tests: the program's bytecode in `solana-program-test`
//! (`bytecode`). End-to-end tests run on `micropay-devnet`.

pub mod bytecode;
