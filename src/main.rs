//! The `payments` binary: parse the command line, load the configuration, run.

use std::process::ExitCode;

use clap::Parser;
use payments::cli::{Cli, Command};
use payments::cli::{demo, doctor, health, products, replay, sync, trigger};
use payments::config::Settings;
use payments::error::one_line;
use payments::startup::{self, Application};
use payments::telemetry;

/// mimalloc rather than the system allocator: every delivery allocates on several threads
/// (HTTP, JSON, SQL), and glibc's malloc showed as a fifth of the server's CPU under load,
/// and keeps freed memory resident after many stores' actors retire.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Trigger(args) => trigger::run(&args).await.map(exit_code),
        Command::Demo(args) => demo::run(&args).await.map(exit_code),
        Command::Replay(args) => replay::run(&args).await.map(exit_code),
        Command::Doctor => doctor::run().await.map(exit_code),
        Command::Health(args) => health::run(&args).await.map(exit_code),
        Command::Sync(args) => sync::run(&args).await.map(exit_code),
        Command::Products(args) => products::run(&args).await.map(exit_code),
    };
    result.unwrap_or_else(|err| {
        if err.is::<startup::Refused>() {
            // Already logged, as one ERROR line.
            return ExitCode::FAILURE;
        }
        eprintln!("payments: {}", one_line(err.as_ref()));
        ExitCode::FAILURE
    })
}

fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn serve() -> anyhow::Result<ExitCode> {
    let settings = Settings::load()?;
    telemetry::init(settings.json_logs());
    startup::report_settings(&settings);
    let app = Application::build(&settings).await?;
    startup::announce(&settings, app.local_addr()?);
    app.run_until(startup::shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

async fn migrate() -> anyhow::Result<ExitCode> {
    let settings = Settings::load()?;
    telemetry::init(settings.json_logs());
    let db = startup::connect_and_migrate(&settings, &Default::default()).await?;
    db.close().await?;
    println!("migrations applied");
    Ok(ExitCode::SUCCESS)
}
