mod config;
mod tab;

pub use config::*;
pub use tab::*;
