use clap::{Parser, Subcommand};
use haoban::{Config, demo, init_logging, open_database, serve};

/// Haoban (好办): a city's digital government platform.
#[derive(Parser)]
#[command(name = "haoban", version, about)]
struct Cli {
    /// A TOML configuration file; `HAOBAN_*` environment variables override it.
    #[arg(long, global = true, env = "HAOBAN_CONFIG")]
    config: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (migrates an empty database first).
    Serve,
    /// Run the demo city on a local SQLite database under ./data, generating it when empty.
    Demo {
        /// Print the demo accounts as JSON lines and exit instead of serving.
        #[arg(long)]
        accounts: bool,
        /// Size of the synthetic population when the city is generated.
        #[arg(long, default_value_t = 10_000)]
        persons: u64,
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// First port of the simulated department systems; random ports when absent.
        #[arg(long)]
        sim_base_port: Option<u16>,
    },
    /// Run the simulated department systems (synthetic data, not real government systems)
    /// over the configured database's city, generating the demo city when there is none.
    Sim {
        /// The first system listens here, the others on the ports after it; random ports
        /// when absent.
        #[arg(long)]
        base_port: Option<u16>,
        /// Guards `/_sim/knobs`; derived from the city's seed when absent.
        #[arg(long, env = "HAOBAN_SIM_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Size of the synthetic population when the city is generated.
        #[arg(long, default_value_t = 10_000)]
        persons: u64,
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check or publish the service catalog's definition files.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Measure a scenario against a baseline from the same run; prints JSON.
    Bench {
        #[command(subcommand)]
        scenario: Scenario,
    },
    /// The audit of data accesses.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The e-licence library.
    Licences {
        #[command(subcommand)]
        action: LicencesAction,
    },
    /// Generate a synthetic city into the configured database and exit.
    Gen {
        #[arg(long, default_value_t = 10_000)]
        persons: u64,
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the hash chain of the data-access log: exit 0 when intact, 1 naming the first
    /// altered or missing entry.
    Verify,
}

#[derive(Subcommand)]
enum LicencesAction {
    /// Issue and sign a licence for each good row of a CSV file (columns: docs/licences.md);
    /// prints a JSON report with the rejected rows' line numbers and reasons.
    Import { file: String },
}

#[derive(Subcommand)]
enum CatalogAction {
    /// Validate a folder of definition files: exit 0, or 1 with every error located.
    Check { dir: String },
    /// Validate a folder and publish it as the live catalog of every instance.
    Load { dir: String },
}

#[derive(Subcommand)]
enum Scenario {
    /// Licences imported from CSV per second, beside raw signatures per second.
    Import {
        /// A smaller run.
        #[arg(long)]
        quick: bool,
    },
    /// The public rental housing checks (12 elements, 8 department systems) through the
    /// exchange, beside the slowest of those systems asked alone.
    Exchange {
        /// A smaller run that finishes within a minute.
        #[arg(long)]
        quick: bool,
    },
    /// Licence verifications per second through the API and in process, beside raw
    /// signature verifications of the same library.
    Verify {
        /// A shorter run.
        #[arg(long)]
        quick: bool,
    },
    /// Loading the demo catalog and a generated one of 5,000 items; search throughput and
    /// latency beside a trivial endpoint of the same server.
    Catalog {
        /// A smaller run that finishes within a minute.
        #[arg(long)]
        quick: bool,
    },
    /// Generating the synthetic city into a fresh database of each engine.
    Gen {
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engine: String,
        /// A small city that finishes well within a minute, for checks.
        #[arg(long)]
        quick: bool,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("haoban: configuration error: {e}");
            std::process::exit(2);
        }
    };
    init_logging(&config);
    if let Err(e) = run(cli.command, config).await {
        eprintln!("haoban: {e:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let db = open_database(&config).await?;
            let running = serve(&config, db).await?;
            tracing::info!(address = %running.addr, "Haoban is serving");
            println!(
                "Haoban is serving at {}",
                config.public_origin(running.addr)
            );
            running.wait().await
        }
        Command::Migrate => {
            let db = kernel::Db::connect_with(&config.database_url, 2).await?;
            let n = db.migrate(&haoban::migrations()).await?;
            db.close().await;
            println!("{n} migrations applied");
            Ok(())
        }
        Command::Catalog { action } => catalog_command(action, &config).await,
        Command::Licences {
            action: LicencesAction::Import { file },
        } => import_licences(&config, &file).await,
        Command::Bench {
            scenario: Scenario::Verify { quick },
        } => {
            let result = haoban::bench::verify(quick, &config.catalog_dir).await?;
            println!("{result}");
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let db = open_database(&config).await?;
            let result = exchange::audit::verify(&db).await?;
            db.close().await;
            match result {
                Ok(n) => {
                    println!("audit log intact: {n} entries, hash chain verified");
                    Ok(())
                }
                Err(broken) => {
                    println!("audit log broken: {broken}");
                    std::process::exit(1);
                }
            }
        }
        Command::Bench {
            scenario: Scenario::Import { quick },
        } => {
            let result = haoban::bench::import(quick, &config.catalog_dir).await?;
            println!("{result}");
            Ok(())
        }
        Command::Bench {
            scenario: Scenario::Exchange { quick },
        } => {
            let result =
                haoban::bench_exchange::run(quick, &config.catalog_dir, &config.connectors_dir)
                    .await?;
            println!("{result}");
            Ok(())
        }
        Command::Bench {
            scenario: Scenario::Catalog { quick },
        } => {
            let result = haoban::bench::catalog(quick, &config.catalog_dir).await?;
            println!("{result}");
            Ok(())
        }
        Command::Bench {
            scenario:
                Scenario::Gen {
                    persons,
                    seed,
                    engine,
                    quick,
                },
        } => {
            let persons = if quick { persons.min(20_000) } else { persons };
            let engines = match engine.as_str() {
                "sqlite" => vec![kernel::Engine::Sqlite],
                "postgres" => vec![kernel::Engine::Postgres],
                "both" => vec![kernel::Engine::Sqlite, kernel::Engine::Postgres],
                other => anyhow::bail!("unknown engine {other}: use sqlite, postgres or both"),
            };
            let mut results = Vec::new();
            for e in engines {
                let r = haoban::bench::generation(e, persons, seed).await?;
                eprintln!("{r}");
                results.push(r);
            }
            println!(
                "{}",
                serde_json::json!({ "scenario": "gen", "results": results })
            );
            Ok(())
        }
        Command::Gen { persons, seed } => {
            let db = open_database(&config).await?;
            let report = demo::generate(&db, persons, seed).await?;
            // Closing checkpoints SQLite's write-ahead log into the database file.
            db.close().await;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Sim {
            base_port,
            admin_token,
            persons,
            seed,
        } => {
            let db = open_database(&config).await?;
            let seed = demo::ensure_city(&db, persons, seed).await?;
            let mut cfg = sim::systems::SystemsConfig::new(seed);
            cfg.base_port = base_port;
            if let Some(t) = admin_token {
                cfg.admin_token = t;
            }
            let admin = cfg.admin_token.clone();
            let systems = sim::systems::start(db.clone(), cfg).await?;
            print_systems(&systems, "");
            println!("{}", serde_json::to_string(&systems.manifest())?);
            eprintln!(
                "Knobs: GET/PUT /_sim/knobs on any system with the header {}: {admin}",
                sim::systems::ADMIN_HEADER
            );
            shutdown_signal().await;
            systems.shutdown().await;
            db.close().await;
            Ok(())
        }
        Command::Demo {
            accounts,
            persons,
            seed,
            sim_base_port,
        } => {
            let db = open_database(&config).await?;
            let seed = demo::ensure_city(&db, persons, seed).await?;
            demo::licences(&db, &config.catalog_dir).await?;
            let list = demo::accounts(&db, seed).await?;
            if accounts {
                db.close().await;
                // One line per role that can sign in; the newcomer has no account yet and
                // is shown only by the running demo.
                for a in list.iter().filter(|a| a.password.is_some()) {
                    println!("{}", serde_json::to_string(a)?);
                }
                return Ok(());
            }
            let notes = demo::notes(&db, &list).await?;
            let mut sim_cfg = sim::systems::SystemsConfig::new(seed);
            sim_cfg.base_port = sim_base_port;
            let systems = sim::systems::start(db.clone(), sim_cfg).await?;
            // The exchange reaches the simulated systems with the credentials they made.
            let config = Config {
                exchange_access_inline: Some(systems.manifest()),
                ..config
            };
            let running = serve(&config, db).await?;
            println!(
                "Haoban demo city is running at {}",
                config.public_origin(running.addr)
            );
            println!(
                "Simulated department systems (synthetic data; `haoban sim` prints their manifest):"
            );
            print_systems(&systems, "  ");
            println!(
                "Demo accounts (citizens and companies sign in at /sign-in, staff at /staff/sign-in):"
            );
            for a in &list {
                println!(
                    "  {:<15} {:<20} {:<24} {}",
                    a.role,
                    a.login,
                    a.password.as_deref().unwrap_or("-"),
                    a.name
                );
            }
            for n in &notes {
                println!("  {n}");
            }
            let served = running.wait().await;
            systems.shutdown().await;
            served
        }
    }
}

/// One line per simulated system: key, Chinese name, address and how it authenticates.
fn print_systems(systems: &sim::systems::RunningSystems, indent: &str) {
    for s in systems.systems() {
        println!(
            "{indent}{:<11}{} {} ({})",
            s.key,
            s.name,
            s.base_url,
            s.credentials.describe()
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Imports licences from a CSV file, read as a stream, into the configured database.
async fn import_licences(config: &Config, file: &str) -> anyhow::Result<()> {
    let input =
        std::fs::File::open(file).map_err(|e| anyhow::anyhow!("cannot open {file}: {e}"))?;
    let db = open_database(config).await?;
    let service =
        catalog::CatalogService::open(db.clone(), std::path::Path::new(&config.catalog_dir))
            .await?;
    let lib = licences::Licences::new(db.clone());
    let report = licences::import::import(
        &lib,
        &service.current(),
        std::io::BufReader::new(input),
        "import",
    )
    .await;
    db.close().await;
    let report = report?;
    for r in &report.rejected {
        eprintln!("{file}:{}: {}", r.line, r.reasons.join("; "));
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Loads a folder, printing each located error; `None` when there were any.
fn load_catalog(dir: &str) -> Option<catalog::Catalog> {
    match catalog::Catalog::load_dir(std::path::Path::new(dir)) {
        Ok(c) => Some(c),
        Err(errors) => {
            for e in &errors {
                eprintln!("{dir}/{e}");
            }
            eprintln!("{} errors; the catalog was not accepted", errors.len());
            None
        }
    }
}

async fn catalog_command(action: CatalogAction, config: &Config) -> anyhow::Result<()> {
    let summary = |c: &catalog::Catalog| {
        format!(
            "{} departments, {} elements, {} materials, {} items, {} bundles; digest {}",
            c.departments().len(),
            c.elements().len(),
            c.materials().len(),
            c.items().len(),
            c.bundles().len(),
            c.digest()
        )
    };
    match action {
        CatalogAction::Check { dir } => {
            let Some(c) = load_catalog(&dir) else {
                std::process::exit(1);
            };
            println!("valid: {}", summary(&c));
            Ok(())
        }
        CatalogAction::Load { dir } => {
            let Some(c) = load_catalog(&dir) else {
                std::process::exit(1);
            };
            let db = open_database(config).await?;
            // In a database without a catalog this folder becomes the first version.
            let service =
                catalog::CatalogService::open(db.clone(), std::path::Path::new(&dir)).await?;
            let published = service
                .publish(c.files().to_vec(), "cli")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            db.close().await;
            println!(
                "version {} is live{}: {}",
                published.version,
                if published.changed {
                    ""
                } else {
                    " (unchanged)"
                },
                summary(&c)
            );
            Ok(())
        }
    }
}
