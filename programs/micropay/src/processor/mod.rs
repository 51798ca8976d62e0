//! One module per instruction (accounts, arguments, checks, handler), and the rules
//! they share in `shared`.

pub mod add_signer;
pub mod claim_credit;
pub mod collect_fees;
pub mod deposit;
pub mod init_config;
pub mod open_tab;
pub mod remove_signer;
pub mod request_withdraw;
pub mod settle;
pub mod update_config;
pub mod withdraw;

mod shared;
