use clap::Parser;
use micropay_cli::{
    admin,
    args::{Cli, Command, RelayerCommand},
    context::Context,
    operator, paid, payee, payer,
};

// `demo` and `bench` host a validator and many simulated clients in this process:
// jemalloc, as Agave's validator and the relayer use (docs/adr/0013).
#[cfg(feature = "dev")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    // `micropay relayer run ...` takes the relayer's own flags (its `--url` and
    // `--keypair` are the relayer's), so it is handed over before the CLI parses.
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("relayer")
        && argv.get(2).map(String::as_str) == Some("run")
    {
        exit_on_error(Err(operator::run(&argv[3..])));
    }
    #[cfg(feature = "dev")]
    if std::env::var_os("RUST_LOG").is_none() {
        // The in-process validator of `demo` and `bench` logs every transaction at
        // debug level unless told otherwise; set before any thread exists.
        std::env::set_var("RUST_LOG", micropay_devnet::QUIET_LOG);
    }
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    exit_on_error(runtime.block_on(run(cli)));
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(&cli.global);
    match cli.command {
        Command::InitConfig(args) => admin::init_config(&ctx, args).await,
        Command::Config(command) => admin::config(&ctx, command).await,
        Command::Fees(command) => admin::fees(&ctx, command).await,
        Command::Open(args) => payer::open(&ctx, args).await,
        Command::Deposit(args) => payer::deposit(&ctx, args).await,
        Command::Signer(command) => payer::signer(&ctx, command).await,
        Command::Tip(args) => payer::tip(&ctx, args).await,
        Command::Pay(args) => paid::pay(&ctx, args).await,
        Command::Balance(args) => payer::balance(&ctx, args).await,
        Command::Withdraw(command) => payer::withdraw(&ctx, command).await,
        Command::Close(args) => payer::close(&ctx, args).await,
        Command::Receipts(args) => payee::receipts(&ctx, args).await,
        Command::Watch(args) => payee::watch(&ctx, args).await,
        Command::Credit(command) => payee::credit(&ctx, command).await,
        Command::Relayer(RelayerCommand::Status) => operator::status(&ctx).await,
        Command::Relayer(RelayerCommand::Run { .. }) => unreachable!("handed over before parsing"),
        #[cfg(feature = "dev")]
        Command::Demo(args) => {
            micropay_devnet::demo::main(args, ctx.output == micropay_cli::args::Output::Json).await
        }
        #[cfg(feature = "dev")]
        Command::Bench(args) => {
            micropay_devnet::bench::main(args, ctx.output == micropay_cli::args::Output::Json).await
        }
    }
}

fn exit_on_error(result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
