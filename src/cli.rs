//! The command line: subcommands and flags, declared with clap, and what each one runs.
//!
//! With no subcommand and stdin not a terminal, the program is a Keeper post-rotation script
//! (`keeper`). Secrets never come from argv: process listings show it to every local user.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, OutputFormat, RunContext};
use crate::config::{self, Environment, Overrides};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::rotate::{Mode, Report};
use crate::tenable::Platform;

/// Keeps Tenable passwords in step with Keeper PAM password rotation.
#[derive(Debug, Parser)]
#[command(name = "tenable-rotate", version = crate::LONG_VERSION, about, long_about = None, disable_help_subcommand = true)]
pub struct Cli {
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,
    /// Settings file (TOML), below the record and the environment. Env: TENABLE_ROTATE_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Append one JSON line per run to FILE (created mode 600). Env: TENABLE_ROTATE_AUDIT_LOG.
    #[arg(long, global = true, value_name = "FILE")]
    pub audit_log: Option<std::path::PathBuf>,
    /// What to do (default: `keeper` when stdin is not a terminal).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keeper post-rotation mode: read the gateway's payload on stdin and change the password.
    Keeper,
    /// Read the gateway's payload on stdin, check keys and target, and change nothing.
    Check,
    /// Change a password outside Keeper: keys from TENABLE_ACCESS_KEY / TENABLE_SECRET_KEY,
    /// passwords from TENABLE_NEW_PASSWORD / TENABLE_OLD_PASSWORD or stdin lines (new, then old).
    Rotate(RotateArgs),
    /// Machine interface: one JSON request on stdin (`rotate`, `check` or `rollback`, with
    /// every setting and secret), one JSON result on stdout. For programs such as Keeper's SaaS
    /// rotation plugin; secrets never go through argv or the environment.
    Request,
    /// List every Tenable user and managed credential, and whether (and how) Keeper can
    /// rotate each; changes nothing. Keys from the environment or the config file.
    Discover(crate::discover::DiscoverArgs),
    /// Rotate a demo user on the built-in emulator, through the production code path.
    Demo,
    /// Serve the built-in Tenable emulator on loopback until killed.
    Emulator(EmulatorArgs),
    /// Print a shell completion script: `tenable-rotate completions bash > /etc/bash_completion.d/tenable-rotate`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `tenable-rotate man > tenable-rotate.1`.
    Man,
}

/// Flags of `rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// `vm` (Tenable Vulnerability Management) or `sc` (Tenable Security Center); default: `sc`
    /// when TENABLE_SC_HOST or the config file's `sc_host` is set, else `vm`.
    #[arg(long, value_parser = parse_platform)]
    pub platform: Option<Platform>,
    /// Base URL (default for vm: cloud.tenable.com over https; required for sc). Env: TENABLE_URL.
    #[arg(long)]
    pub url: Option<String>,
    /// The Tenable username, or the account whose credentials to update.
    #[arg(long)]
    pub user: String,
    /// `user` (the user's own password) or `credential` (managed scan credentials).
    #[arg(long)]
    pub target: Option<String>,
    /// Credential name (default: --user).
    #[arg(long)]
    pub credential_name: Option<String>,
    /// Select credentials by `name` (default) or by `username` in their settings.
    #[arg(long)]
    pub credential_match: Option<String>,
    /// `login` to log in with the new password after the change.
    #[arg(long)]
    pub verify: Option<String>,
    /// Look everything up and change nothing.
    #[arg(long)]
    pub check: bool,
}

fn parse_platform(value: &str) -> Result<Platform, String> {
    config::parse_platform(value)
        .ok_or_else(|| format!("'{value}' is not a platform; use vm or sc"))
}

/// Flags of `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The access key the emulator accepts.
    #[arg(long)]
    pub access_key: String,
    /// The secret key the emulator accepts.
    #[arg(long)]
    pub secret_key: String,
    /// A TVM user, NAME:PASSWORD (repeatable).
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    pub users: Vec<String>,
    /// N synthetic TVM users, for scale work.
    #[arg(long, default_value_t = 0)]
    pub seed_users: usize,
    /// A Security Center user, NAME:PASSWORD (repeatable).
    #[arg(long = "sc-user", value_name = "NAME:PASSWORD")]
    pub sc_users: Vec<String>,
    /// A TVM managed credential, KIND:NAME:USERNAME:PASSWORD with KIND windows|ssh|database|snmp (repeatable).
    #[arg(long = "credential", value_name = "KIND:NAME:USERNAME:PASSWORD")]
    pub credentials: Vec<String>,
    /// A Security Center credential, same form (repeatable).
    #[arg(long = "sc-credential", value_name = "KIND:NAME:USERNAME:PASSWORD")]
    pub sc_credentials: Vec<String>,
    /// Serve HTTPS with a generated self-signed certificate.
    #[arg(long)]
    pub tls: bool,
    /// Write the certificate (PEM) here, to use as TENABLE_CA_FILE.
    #[arg(long, requires = "tls")]
    pub write_ca: Option<std::path::PathBuf>,
    /// A scripted fault, KIND\[@ROUTE_PREFIX\]\[*COUNT\] (repeatable), e.g. `429*2`, `drop-after@PUT /users`.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// The API keys' user's role: basic, standard or admin (TVM Basic/Standard/Administrator;
    /// SC Auditor/Security Analyst/Security Manager); a limited role is refused as Tenable does.
    #[arg(long, default_value = "admin", value_parser = |v: &str| v.parse::<crate::emulator::ApiRole>())]
    pub api_role: crate::emulator::ApiRole,
    /// Quote submitted values (a rejected password) in error messages, as real services do.
    #[arg(long)]
    pub echo_submitted: bool,
}

/// Runs the parsed command line and returns the exit status.
pub fn run(cli: Cli) -> ExitStatus {
    let env = Environment::from_process();
    let stdin = std::io::stdin();
    let mut ctx = RunContext::with_env(&env);
    let needs_settings = matches!(
        cli.command,
        None | Some(Command::Keeper | Command::Check | Command::Rotate(_) | Command::Discover(_))
    );
    let file = match needs_settings.then(|| app::load_config_file(cli.config.as_deref(), &env)) {
        Some(Err(e)) => return report(cli.output, &ctx, Err(e)),
        Some(Ok(file)) => file,
        None => None,
    };
    let file = file.as_ref();
    // The audit log is opened before anything is read or sent: if it cannot be, nothing is.
    let subcommand = match &cli.command {
        None | Some(Command::Keeper) => Some("keeper"),
        Some(Command::Check) => Some("check"),
        Some(Command::Rotate(_)) => Some("rotate"),
        Some(Command::Request) => Some("request"),
        Some(Command::Discover(_)) => Some("discover"),
        _ => None,
    };
    let mut audit =
        match subcommand.map(|_| crate::audit::open(cli.audit_log.as_deref(), &env, file)) {
            Some(Err(e)) => return report(cli.output, &ctx, Err(e)),
            Some(Ok(log)) => log,
            None => None,
        };
    let mut audit_record = |ctx: &RunContext, json: &serde_json::Value| {
        if let (Some(log), Some(name)) = (audit.as_mut(), subcommand) {
            if let Some(problem) = log.record(ctx, name, json) {
                let _ = writeln!(
                    std::io::stderr(),
                    "tenable-rotate: {}",
                    ctx.line(&problem, "could not append to the audit log")
                );
            }
        }
    };
    let result = match cli.command {
        None if stdin.is_terminal() => {
            return fail_usage(
                "no payload on standard input; Keeper pipes it when it runs this as a PAM script (try --help, or `tenable-rotate demo`)",
            );
        }
        None | Some(Command::Keeper) => app::keeper(
            std::io::stdin(),
            &env,
            file,
            &Overrides::default(),
            Mode::Apply,
            &mut ctx,
        ),
        Some(Command::Check) => app::keeper(
            std::io::stdin(),
            &env,
            file,
            &Overrides::default(),
            Mode::Check,
            &mut ctx,
        ),
        Some(Command::Rotate(args)) => {
            let flags = Overrides {
                platform: args.platform,
                url: args.url,
                target: args.target,
                credential_name: args.credential_name,
                credential_match: args.credential_match,
                verify: args.verify,
                ..Overrides::default()
            };
            let mode = if args.check { Mode::Check } else { Mode::Apply };
            app::standalone(stdin.lock(), &args.user, &env, file, &flags, mode, &mut ctx)
        }
        Some(Command::Request) => {
            let (operation, result) = crate::machine::run(std::io::stdin(), &mut ctx);
            let status = result
                .as_ref()
                .map_or_else(Error::exit_status, |_| ExitStatus::Success);
            let json = crate::machine::result_json(&ctx, operation, &result);
            let _ = writeln!(std::io::stdout(), "{}", ctx.json_line(&json, status));
            audit_record(&ctx, &json);
            if let Err(e) = &result {
                let line = ctx.line(&e.to_string(), &app::fallback(status));
                let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
            }
            return status;
        }
        Some(Command::Discover(args)) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let format = match cli.output {
                OutputFormat::Json => crate::discover::DiscoverFormat::Json,
                OutputFormat::Csv => crate::discover::DiscoverFormat::Csv,
                OutputFormat::Text | OutputFormat::Table => crate::discover::DiscoverFormat::Table,
            };
            let result = crate::discover::run(&args, format, &env, file, &mut ctx, &mut out);
            drop(out);
            let json = crate::discover::result_json(&ctx, &result);
            audit_record(&ctx, &json);
            return crate::discover::report(&ctx, result);
        }
        Some(Command::Demo) => return finish_plain(crate::demo::run(&mut std::io::stdout())),
        Some(Command::Emulator(args)) => return finish_plain(serve_emulator(args)),
        Some(Command::Completions { shell }) => {
            let _ = std::io::stdout().write_all(&completions(shell));
            return ExitStatus::Success;
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            // As for results, a closed stdout (a broken pipe) is not a failure.
            let _ = clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout());
            return ExitStatus::Success;
        }
    };
    audit_record(&ctx, &app::json_report(&ctx, &result));
    report(cli.output, &ctx, result)
}

/// Prints a run's result: one line, or one JSON object, and returns its status.
fn report(format: OutputFormat, ctx: &RunContext, result: Result<Report, Error>) -> ExitStatus {
    let status = result
        .as_ref()
        .map_or_else(Error::exit_status, |_| ExitStatus::Success);
    // A closed stdout (a broken pipe) is not a failure of the rotation.
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            let json = app::json_report(ctx, &result);
            let _ = writeln!(out, "{}", ctx.json_line(&json, status));
        }
        OutputFormat::Text | OutputFormat::Table | OutputFormat::Csv => {
            if let Ok(r) = &result {
                let fallback = format!("finished: {}", r.state);
                let _ = writeln!(out, "tenable-rotate: {}", ctx.line(&r.summary(), &fallback));
            }
        }
    }
    if let Err(e) = &result {
        let line = ctx.line(&e.to_string(), &app::fallback(status));
        let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
    }
    status
}

fn finish_plain(result: Result<(), Error>) -> ExitStatus {
    match result {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            let status = e.exit_status();
            let line = RunContext::default().line(&e.to_string(), &app::fallback(status));
            let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
            status
        }
    }
}

/// `emulator`: start it, print `listening on URL` first, then serve until killed.
fn serve_emulator(args: EmulatorArgs) -> Result<(), Error> {
    use crate::emulator::{CredentialSeed, Emulator, EmulatorConfig, FaultRule};
    let pair = |flag: &str, v: &str| {
        v.split_once(':')
            .map(|(n, p)| (n.to_owned(), p.to_owned()))
            .ok_or_else(|| Error::Usage(format!("{flag} takes NAME:PASSWORD")))
    };
    let seeds = |flag: &str, list: &[String]| -> Result<Vec<CredentialSeed>, Error> {
        list.iter()
            .map(|v| v.parse().map_err(|e| Error::Usage(format!("{flag}: {e}"))))
            .collect()
    };
    let config = EmulatorConfig {
        listen: args.listen,
        access_key: args.access_key,
        secret_key: args.secret_key,
        users: args
            .users
            .iter()
            .map(|u| pair("--user", u))
            .collect::<Result<_, _>>()?,
        seed_users: args.seed_users,
        sc_users: args
            .sc_users
            .iter()
            .map(|u| pair("--sc-user", u))
            .collect::<Result<_, _>>()?,
        credentials: seeds("--credential", &args.credentials)?,
        sc_credentials: seeds("--sc-credential", &args.sc_credentials)?,
        tls: args.tls,
        api_role: args.api_role,
        echo_submitted: args.echo_submitted,
        faults: args
            .faults
            .iter()
            .map(|f| {
                f.parse::<FaultRule>()
                    .map_err(|e| Error::Usage(format!("--fault '{f}': {e}")))
            })
            .collect::<Result<_, _>>()?,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).map_err(Error::Emulator)?;
    if let (Some(path), Some(pem)) = (&args.write_ca, emulator.ca_certificate_pem()) {
        std::fs::write(path, pem).map_err(Error::Emulator)?;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", emulator.url());
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

/// The completion script for `shell`.
///
/// clap_complete 4.6's bash script names the root command's case from the binary name with
/// `-` turned into `__`, but the subcommands' cases with `-` turned into `__subcmd__`; for a
/// hyphenated name like ours they never match, and no subcommand's flags complete. The stray
/// spelling is put back (the test checks that every case the script selects exists).
fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tenable-rotate", &mut script);
    if shell == clap_complete::Shell::Bash {
        let text =
            String::from_utf8_lossy(&script).replace("tenable__subcmd__rotate", "tenable__rotate");
        script = text.into_bytes();
    }
    script
}

fn fail_usage(message: &str) -> ExitStatus {
    let _ = writeln!(std::io::stderr(), "tenable-rotate: {message}");
    ExitStatus::BadInput
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
