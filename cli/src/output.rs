//! Human output by default; one JSON document with `--output json`.

use crate::{args::Output, context::Context};

pub fn emit(ctx: &Context, human: String, json: serde_json::Value) -> anyhow::Result<()> {
    print(ctx.output, &human, &json)
}

pub fn print(output: Output, human: &str, json: &serde_json::Value) -> anyhow::Result<()> {
    match output {
        Output::Human => println!("{human}"),
        Output::Json => println!("{}", serde_json::to_string_pretty(json)?),
    }
    Ok(())
}
