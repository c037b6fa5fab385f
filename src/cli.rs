//! The command line. Each command parses its flags, loads the configuration and calls into
//! `app`; this is the only place that uses `anyhow` and prints to stdout.

use crate::app::{self, demo, offline};
use crate::config::Config;
use crate::domain::ChatId;
use crate::telemetry::{self, IngestMetrics};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "tgbox",
    version,
    about = "A Telegram community bot appliance: bot, archive, search and dashboard in one binary"
)]
pub struct Cli {
    /// Config file (default: ./tgbox.toml, then /etc/tgbox/tgbox.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log level or tracing filter (overrides log.level and RUST_LOG).
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot with a real token (Ctrl-C or SIGTERM stops it cleanly).
    Run(RunArgs),
    /// Run the appliance against the built-in simulator with generated community traffic.
    Demo(DemoArgs),
    /// Run the simulated Telegram Bot API server alone.
    Sim(SimArgs),
    /// Print counts of a data directory (the appliance must be stopped).
    Stats(StatsArgs),
    /// Export archived messages.
    Export(ExportArgs),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Dashboard administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Rebuild the search index from the store (the appliance must be stopped).
    Reindex(ReindexArgs),
    /// Compact the store file and the search index (the appliance must be stopped; while it
    /// runs, use the dashboard's Storage page).
    Compact(JsonDataArgs),
    /// Write a consistent backup file (also while the appliance runs).
    Backup(BackupArgs),
    /// Restore a backup into a data directory and rebuild its search index.
    Restore(RestoreArgs),
    /// Check the store's integrity, its indexes and the search index (the appliance must be
    /// stopped). Exits 1 on a mismatch.
    Check(CheckArgs),
}

#[derive(Args)]
struct JsonDataArgs {
    #[command(flatten)]
    data: DataArg,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BackupArgs {
    /// The backup file to write (written under a temporary name, then renamed).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    data: DataArg,
}

#[derive(Args)]
struct RestoreArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    data: DataArg,
    /// Replace the store of a non-empty data directory.
    #[arg(long)]
    force: bool,
    /// Only read the whole file and check it; restore nothing.
    #[arg(long)]
    verify_only: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    data: DataArg,
    /// Rebuild what can be derived (store indexes, search index) and check again.
    #[arg(long)]
    repair: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the dashboard password of user "admin" (asked on the terminal without echo, or read
    /// as the first line of standard input when it is not a terminal).
    SetPassword(SetPasswordArgs),
}

#[derive(Args)]
struct SetPasswordArgs {
    #[command(flatten)]
    data: DataArg,
    /// Read the password from standard input even on a terminal.
    #[arg(long)]
    stdin: bool,
}

#[derive(Args)]
struct ReindexArgs {
    #[command(flatten)]
    data: DataArg,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DataArg {
    /// Data directory (overrides storage.dir).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    data: DataArg,
    /// File holding the bot token (overrides telegram.token_file).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Bot API server base URL (overrides telegram.api_url).
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Take over a data directory that was recorded for a different bot.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Where the demo keeps its data (a previous demo's data there is replaced).
    #[arg(long, value_name = "DIR", default_value = "tgbox-demo")]
    data: PathBuf,
    /// Simulated messages per second.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Stop by itself after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds between status lines (0: none).
    #[arg(long, default_value_t = 5)]
    status_every: u64,
    /// Write the run's measurements as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct SimArgs {
    /// Address to listen on; keep it on loopback.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// Bot token the simulator accepts.
    #[arg(long, default_value = "7000000001:SIMULATED-token-for-tests")]
    token: String,
    /// Also generate community traffic at this many messages per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct StatsArgs {
    #[command(flatten)]
    data: DataArg,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum ExportFormat {
    Jsonl,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    data: DataArg,
    /// Only this chat.
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    chat: Option<i64>,
    #[arg(long, value_enum, default_value = "jsonl")]
    format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    Check(DataArg),
}

fn load_config(cli: &Cli, extra: &[(&'static str, Option<String>)]) -> Result<Config> {
    Ok(load_config_logged(cli, extra)?.0)
}

/// [`load_config`], also returning the ring of recent log lines (for the dashboard).
fn load_config_logged(
    cli: &Cli,
    extra: &[(&'static str, Option<String>)],
) -> Result<(Config, telemetry::LogRing)> {
    let mut flags: Vec<(&'static str, Option<String>)> = vec![("log.level", cli.log_level.clone())];
    flags.extend_from_slice(extra);
    let config = Config::load(cli.config.as_deref(), &flags)?;
    let logs = telemetry::init_logging(&config.log.level, cli.log_level.is_some());
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    Ok((config, logs))
}

fn metrics_with(logs: telemetry::LogRing) -> Arc<IngestMetrics> {
    Arc::new(IngestMetrics::with_registry(Some(Arc::new(
        telemetry::Registry::with_logs(logs),
    ))))
}

fn read_password(from_stdin: bool) -> Result<String> {
    use std::io::IsTerminal;
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("New dashboard password for admin: ")
            .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("Again: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    };
    Ok(password)
}

fn data_flag(data: &DataArg) -> (&'static str, Option<String>) {
    (
        "storage.dir",
        data.data.as_ref().map(|p| p.display().to_string()),
    )
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tgbox")
        .build()
        .context("cannot start the async runtime")
}

pub fn main_with(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Run(args) => {
            let (config, logs) = load_config_logged(
                &cli,
                &[
                    data_flag(&args.data),
                    (
                        "telegram.token_file",
                        args.token_file.as_ref().map(|p| p.display().to_string()),
                    ),
                    ("telegram.api_url", args.api_url.clone()),
                ],
            )?;
            let token = config.resolve_token()?;
            let rt = runtime()?;
            let result = rt.block_on(async {
                let shutdown = CancellationToken::new();
                app::cancel_on_signals(shutdown.clone());
                let metrics = metrics_with(logs);
                let options = app::RunOptions {
                    force: args.force,
                    notifier: app::Notifier::from_env(),
                };
                let summary =
                    app::run_appliance(&config, token, options, metrics.clone(), shutdown).await?;
                let snap = metrics.snapshot();
                tracing::info!(
                    updates = summary.updates_committed,
                    p50_ms = snap.update_to_commit.p50_ms,
                    p99_ms = snap.update_to_commit.p99_ms,
                    "stopped cleanly"
                );
                Ok(())
            });
            // Do not wait for tasks a timed-out shutdown left behind.
            rt.shutdown_timeout(Duration::from_millis(200));
            result
        }
        Command::Demo(args) => {
            let (config, logs) = load_config_logged(&cli, &[])?;
            if !(args.rate > 0.0 && args.rate <= 1_000_000.0) {
                bail!("--rate must be between 0 and 1000000 messages per second");
            }
            let options = demo::DemoOptions {
                data: args.data.clone(),
                rate: args.rate,
                duration: args.duration.map(Duration::from_secs),
                seed: args.seed,
                status_every: (args.status_every > 0)
                    .then(|| Duration::from_secs(args.status_every)),
            };
            let report = runtime()?.block_on(async {
                let shutdown = CancellationToken::new();
                app::cancel_on_signals(shutdown.clone());
                demo::run_demo(config, options, metrics_with(logs), shutdown).await
            })?;
            if let Some(path) = &args.report {
                let json = serde_json::to_string_pretty(&report)?;
                std::fs::write(path, json)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(())
        }
        Command::Sim(args) => {
            let _config = load_config(&cli, &[])?;
            runtime()?.block_on(run_sim(args))
        }
        Command::Stats(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let store = app::open_store(&config.storage)?;
            let report = offline::stats(&store)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        Command::Export(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let store = app::open_store(&config.storage)?;
            let ExportFormat::Jsonl = args.format;
            let chat = args.chat.map(ChatId);
            let count = match &args.out {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    offline::export_jsonl(&store, chat, &mut out, |_| {})?
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    offline::export_jsonl(&store, chat, &mut out, |_| {})?
                }
            };
            tracing::info!(messages = count, "export finished");
            Ok(())
        }
        Command::Admin(AdminCommand::SetPassword(args)) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let password = read_password(args.stdin)?;
            let path = app::admin::set_password(&config, &password)?;
            println!(
                "dashboard password for admin saved in {} (argon2id)",
                path.display()
            );
            Ok(())
        }
        Command::Config(ConfigCommand::Check(data)) => {
            let config = load_config(&cli, &[data_flag(data)])?;
            print!("{}", config.render_redacted());
            match config.resolve_token() {
                Ok(_) => println!("# token: present"),
                Err(e) => println!("# token: {e}"),
            }
            println!("# configuration is valid");
            Ok(())
        }
        Command::Reindex(args) => reindex(&cli, args),
        Command::Compact(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let out = app::maintenance::compact_offline(&config).context("compaction failed")?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                let s = &out.store;
                println!(
                    "store: {} -> {} ({} reclaimed) in {} ms",
                    mib(s.bytes_before),
                    mib(s.bytes_after),
                    mib(s.reclaimed_bytes()),
                    s.duration_ms
                );
                match &out.index {
                    Some(i) => println!(
                        "search index: {} -> {}, {} -> {} segments, in {} ms",
                        mib(i.bytes_before),
                        mib(i.bytes_after),
                        i.segments_before,
                        i.segments_after,
                        i.duration_ms
                    ),
                    None => println!("search index: none yet"),
                }
            }
            Ok(())
        }
        Command::Backup(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let r = app::backup::backup_to_file(&config, &args.out).context("backup failed")?;
            println!(
                "backup {}: {} tables, {} rows, schema {}, last update {}",
                args.out.display(),
                r.tables,
                r.rows,
                r.header.schema_version,
                r.header
                    .last_update_id
                    .map_or("(none)".to_string(), |u| u.to_string())
            );
            Ok(())
        }
        Command::Restore(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            if args.verify_only {
                let r = app::backup::verify_file(&args.file)?;
                println!(
                    "{} is a complete backup: {} tables, {} rows, schema {}",
                    args.file.display(),
                    r.tables,
                    r.rows,
                    r.header.schema_version
                );
                return Ok(());
            }
            let out = app::backup::restore(&config, &args.file, args.force)
                .with_context(|| format!("cannot restore {}", args.file.display()))?;
            println!(
                "restored {} rows ({} tables, last update {}) into {}; search index rebuilt with {} messages",
                out.restored.rows,
                out.restored.tables,
                out.restored
                    .header
                    .last_update_id
                    .map_or("(none)".to_string(), |u| u.to_string()),
                config.storage.dir.display(),
                out.indexed_messages
            );
            Ok(())
        }
        Command::Check(args) => {
            let config = load_config(&cli, &[data_flag(&args.data)])?;
            let out = app::maintenance::check(&config, args.repair).context("check failed")?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print!("{}", out.to_text());
            }
            if !out.is_clean() {
                bail!(
                    "the data directory {} is inconsistent (see above){}",
                    config.storage.dir.display(),
                    if args.repair {
                        "; --repair could not fix everything"
                    } else {
                        "; run `tgbox check --repair` to rebuild what can be derived"
                    }
                );
            }
            if !args.json {
                println!("all checks passed");
            }
            Ok(())
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn reindex(cli: &Cli, args: &ReindexArgs) -> Result<()> {
    let config = load_config(cli, &[data_flag(&args.data)])?;
    let file = config.storage.dir.join(crate::store::redb::FILE_NAME);
    if !file.exists() {
        bail!("there is no tgbox store at {}", file.display());
    }
    let mut bar = telemetry::progress::Progress::new("messages");
    let report = app::search::reindex(&config, &mut |done, total| bar.update(done, total))
        .context("reindex failed")?;
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "indexed {} messages in {:.1} s ({:.0}/s); index {:.1} MiB; outbox seq {}",
            report.messages,
            report.seconds,
            report.messages as f64 / report.seconds.max(0.001),
            report.index_bytes as f64 / (1024.0 * 1024.0),
            report.outbox_seq
        );
    }
    Ok(())
}

async fn run_sim(args: &SimArgs) -> Result<()> {
    let shutdown = CancellationToken::new();
    app::cancel_on_signals(shutdown.clone());
    let rate = args.rate.unwrap_or(0.0);
    if !(0.0..=1_000_000.0).contains(&rate) {
        bail!("--rate must be between 0 and 1000000 messages per second");
    }
    println!(
        "simulated Bot API on http://{} (token {}); control API under /control (docs/SIMULATOR.md)",
        args.listen, args.token
    );
    let options = crate::sim::StandaloneOptions {
        listen: args.listen,
        config: crate::sim::SimConfig {
            token: args.token.clone(),
            ..crate::sim::SimConfig::default()
        },
        community: args.rate.map(|_| crate::sim::CommunitySpec::default()),
        seed: args.seed,
        rate_per_sec: rate,
    };
    crate::sim::run_standalone(options, shutdown)
        .await
        .with_context(|| format!("simulator on {} failed", args.listen))
}
