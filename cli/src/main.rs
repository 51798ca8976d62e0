use clap::Parser;
use micropay_cli::{
    args::{Cli, Command, RelayerCommand},
    bench, commands,
    context::Context,
    demo,
};

fn main() {
    // The in-process validator of `demo` and `bench` logs every transaction at debug
    // level unless told otherwise; set before any thread exists.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var(
            "RUST_LOG",
            "warn,solana=error,agave=error,tarpc=error,solana_core=off,solana_metrics=off",
        );
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async_main());
}

async fn async_main() {
    let argv: Vec<String> = std::env::args().collect();
    // `micropay relayer run ...` takes the relayer's own flags (its `--url` and
    // `--keypair` are the relayer's), so it is handed over before the CLI parses.
    if argv.get(1).map(String::as_str) == Some("relayer")
        && argv.get(2).map(String::as_str) == Some("run")
    {
        let mut relayer_argv = vec!["micropay relayer run".to_string()];
        relayer_argv.extend(argv[3..].iter().cloned());
        exit_on_error(micropay_relayer_v1::run::main_from(relayer_argv).await);
        return;
    }
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    exit_on_error(run(cli).await);
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => return demo::main(args, cli.global.output).await,
        Command::Bench(args) => return bench::main(args, cli.global.output).await,
        Command::Relayer(RelayerCommand::Run { .. }) => unreachable!("handled before parsing"),
        _ => {}
    }
    let ctx = Context::new(&cli.global)?;
    match cli.command {
        Command::InitConfig(args) => commands::init_config(&ctx, args).await,
        Command::Open(args) => commands::open(&ctx, args).await,
        Command::Deposit(args) => commands::deposit(&ctx, args).await,
        Command::Signer(command) => commands::signer(&ctx, command).await,
        Command::Tip(args) => commands::tip(&ctx, args).await,
        Command::Balance(args) => commands::balance(&ctx, args).await,
        Command::Withdraw(command) => commands::withdraw(&ctx, command).await,
        Command::Earnings(args) => commands::earnings(&ctx, args).await,
        Command::Settle(args) => commands::settle(&ctx, args).await,
        Command::Demo(_) | Command::Bench(_) | Command::Relayer(_) => {
            unreachable!("dispatched above")
        }
    }
}

fn exit_on_error(result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
