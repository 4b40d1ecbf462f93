//! The command line: subcommands and flags, declared with clap, and what each one runs.
//!
//! With no subcommand and stdin not a terminal, the program is a Keeper post-rotation script
//! (`keeper`). Secrets never come from argv: process listings show it to every local user.
//! A flag is offered only where it does something: `--config` on the commands that read
//! settings, `--output` on those that report a run.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::app::{self, OutputFormat, RunContext};
use crate::config::{self, DEFAULT_KEY_RECORD_TITLE, Environment, Overrides};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::rotate::{Mode, PasswordState, Report};

/// Keeps Tenable passwords in step with Keeper PAM password rotation.
#[derive(Debug, Parser)]
#[command(
    name = "tenable-rotate",
    version = crate::LONG_VERSION,
    about,
    long_about = LONG_ABOUT,
)]
pub struct Cli {
    /// Output and settings for the Keeper mode run with no subcommand.
    #[command(flatten)]
    pub run: RunOptions,
    /// What to do (default: `keeper` when stdin is not a terminal).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether this run prints one JSON object on stdout, so that even a panic answers with
    /// one (`main` prints it; the run never got to).
    pub fn wants_json(&self) -> bool {
        let json = |o: Option<OutputFormat>| o == Some(OutputFormat::Json);
        json(self.run.output)
            || match &self.command {
                Some(Command::Keeper(o) | Command::Check(o)) => json(o.output),
                Some(Command::Rotate(args)) => json(args.run.output),
                Some(Command::Demo(o)) => json(o.output),
                Some(Command::Discover(args)) => {
                    args.output == crate::discover::DiscoverFormat::Json
                }
                Some(Command::Request) => true,
                _ => false,
            }
    }
}

const LONG_ABOUT: &str = "Keeps Tenable passwords in step with Keeper PAM password rotation.

Attached to a PAM User record as a post-rotation PAM script, it reads the one base64 line
the Keeper Gateway pipes to standard input, finds the Tenable API keys in the attached key
record (titled 'Tenable Authentication Record'), and sets the new password in Tenable
Vulnerability Management or Tenable Security Center, for a user or for managed scan
credentials. With no subcommand and a piped standard input it runs as `keeper`.

Only the exit status counts; nothing printed carries a password, key or payload.";

/// `--output` and `--config`, for the commands that read settings and report a run.
#[derive(Debug, Clone, Default, Args)]
pub struct RunOptions {
    /// How to print the result: one line of text, or one JSON object on stdout.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Settings file (TOML), below the record and the environment; env: `TENABLE_ROTATE_CONFIG`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Append one JSON line per run to FILE (created mode 600); env: `TENABLE_ROTATE_AUDIT_LOG`.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

impl RunOptions {
    /// These options, each one that is unset taken from `outer` (the flags given before the
    /// subcommand).
    fn or(self, outer: &RunOptions) -> RunOptions {
        RunOptions {
            output: self.output.or(outer.output),
            config: self.config.or_else(|| outer.config.clone()),
            audit_log: self.audit_log.or_else(|| outer.audit_log.clone()),
        }
    }

    fn format(&self) -> OutputFormat {
        self.output.unwrap_or(OutputFormat::Text)
    }
}

/// `--output` alone, for `demo`.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputOnly {
    /// How to print the result: the demo's steps as text, or one JSON object on stdout.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keeper post-rotation mode: read the gateway's payload on stdin and change the password.
    #[command(after_help = KEEPER_EXAMPLES)]
    Keeper(RunOptions),
    /// Read the gateway's payload on stdin, check keys and target, and change nothing.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(RunOptions),
    /// Change a password outside Keeper, from flags and the environment.
    ///
    /// The keys come from TENABLE_ACCESS_KEY and TENABLE_SECRET_KEY, the passwords from
    /// TENABLE_NEW_PASSWORD and TENABLE_OLD_PASSWORD or two stdin lines (new, then old).
    #[command(after_help = ROTATE_EXAMPLES)]
    Rotate(RotateArgs),
    /// Machine interface: one JSON request on stdin (`rotate`, `check` or `rollback`, with
    /// every setting and secret), one JSON result on stdout. For programs such as Keeper's SaaS
    /// rotation plugin; secrets never go through argv or the environment.
    #[command(after_help = REQUEST_EXAMPLES)]
    Request,
    /// List every Tenable user and managed credential, and whether (and how) Keeper can
    /// rotate each; changes nothing. Keys from the environment or the config file.
    Discover(crate::discover::DiscoverArgs),
    /// Print the line the Keeper Gateway would pipe, to try `check` on your own records.
    ///
    /// The base64 line is built from flags (the PAM User's login, the key record's fields)
    /// and the environment (the keys and passwords), exactly as the gateway builds it.
    #[command(after_help = PAYLOAD_EXAMPLES)]
    Payload(PayloadArgs),
    /// Rotate a demo user on the built-in emulator, through the production code path.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(OutputOnly),
    /// Serve the built-in Tenable emulator on loopback until killed.
    #[command(after_help = EMULATOR_EXAMPLES)]
    Emulator(EmulatorArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    #[command(after_help = MAN_EXAMPLES)]
    Man,
}

const KEEPER_EXAMPLES: &str = "Examples:
  # What the gateway does (the wrapper in deploy/ runs exactly this):
  echo \"$LINE\" | tenable-rotate keeper
  # The same, reporting one JSON object:
  echo \"$LINE\" | tenable-rotate keeper --output json";

const CHECK_EXAMPLES: &str = "Examples:
  # Try a key record before the vault runs it (the keys are set for `payload` only):
  TENABLE_ACCESS_KEY=\"$AK\" TENABLE_SECRET_KEY=\"$SK\" TENABLE_NEW_PASSWORD=unused \\
    tenable-rotate payload --user alice@example.com | tenable-rotate check";

const ROTATE_EXAMPLES: &str = "Examples:
  read -rs TENABLE_ACCESS_KEY && read -rs TENABLE_SECRET_KEY && export TENABLE_ACCESS_KEY TENABLE_SECRET_KEY
  tenable-rotate rotate --platform vm --user alice@example.com --check
  tenable-rotate rotate --platform sc --url https://sc.example.com --user alice --check
  tenable-rotate rotate --user 'CORP\\svc-scan' --target credential --credential-match username --check
  printf '%s\\n%s\\n' \"$NEW\" \"$OLD\" | tenable-rotate rotate --user alice@example.com";

const REQUEST_EXAMPLES: &str = "Examples:
  # What a program does: one JSON request in, one JSON result out (see README).
  tenable-rotate request < request.json";

const PAYLOAD_EXAMPLES: &str = "Examples:
  # A Vulnerability Management user, checked (changes nothing):
  TENABLE_ACCESS_KEY=\"$AK\" TENABLE_SECRET_KEY=\"$SK\" TENABLE_NEW_PASSWORD=unused \\
    tenable-rotate payload --user alice@example.com | tenable-rotate check
  # Security Center scan credentials, as the record would set them:
  TENABLE_ACCESS_KEY=\"$AK\" TENABLE_SECRET_KEY=\"$SK\" TENABLE_NEW_PASSWORD=unused \\
    tenable-rotate payload --user svc-scan --record-field tenable_sc_host=sc.example.com \\
      --record-field tenable_target=credential | tenable-rotate check

Secrets come only from the environment (TENABLE_ACCESS_KEY, TENABLE_SECRET_KEY,
TENABLE_NEW_PASSWORD, TENABLE_OLD_PASSWORD) or, for the passwords, from two stdin lines (new,
then old); never from the command line. Set them on `payload` alone, as above, so that `check`
takes the keys from the record as the gateway would. The line printed carries them: do not
store it.";

const DEMO_EXAMPLES: &str = "Examples:
  tenable-rotate demo
  tenable-rotate demo --output json";

const EMULATOR_EXAMPLES: &str = "Examples:
  tenable-rotate emulator --access-key test-ak --secret-key test-sk \\
    --user 'alice@example.com:Old-Passw0rd!xx' --fault '429*2' --listen 127.0.0.1:8834

The first stdout line is `listening on URL`. It listens on loopback only: an address such as
0.0.0.0 is refused (exit 2).";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  tenable-rotate completions bash > /etc/bash_completion.d/tenable-rotate
  tenable-rotate completions zsh > \"${fpath[1]}/_tenable-rotate\"
  tenable-rotate completions fish > ~/.config/fish/completions/tenable-rotate.fish";

const MAN_EXAMPLES: &str = "Examples:
  tenable-rotate man | man -l -
  tenable-rotate man | gzip > /usr/local/share/man/man1/tenable-rotate.1.gz";

/// `--platform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    /// Tenable Vulnerability Management (cloud, formerly Tenable.io).
    Vm,
    /// Tenable Security Center (formerly Tenable.sc).
    Sc,
}

/// `--target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// The user's own password.
    User,
    /// Managed scan credentials.
    Credential,
}

/// `--credential-match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatchArg {
    /// The one credential with that name.
    Name,
    /// Every credential whose settings username is the account.
    Username,
}

/// `--verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyArg {
    /// No check after the change.
    None,
    /// Log in once with the new password after changing a user's.
    Login,
}

/// The name clap shows for a value of a value enum.
fn value_name<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

/// Flags of `rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Default: `sc` when TENABLE_SC_HOST or the config file's `sc_host` is set, else `vm`.
    #[arg(long, value_enum, ignore_case = true)]
    pub platform: Option<PlatformArg>,
    /// Base URL (default for vm: `https://cloud.tenable.com`; required for sc); env: `TENABLE_URL`.
    #[arg(long)]
    pub url: Option<String>,
    /// The Tenable username, or the account whose credentials to update.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// What to change (default: user).
    #[arg(long, value_enum, ignore_case = true)]
    pub target: Option<TargetArg>,
    /// Credential name (default: --user).
    #[arg(long, value_name = "NAME")]
    pub credential_name: Option<String>,
    /// How to select credentials (default: name).
    #[arg(long, value_enum, ignore_case = true)]
    pub credential_match: Option<MatchArg>,
    /// Check after the change (default: none).
    #[arg(long, value_enum, ignore_case = true)]
    pub verify: Option<VerifyArg>,
    /// Look everything up and change nothing.
    #[arg(long)]
    pub check: bool,
    /// Output and settings.
    #[command(flatten)]
    pub run: RunOptions,
}

/// Flags of `payload`.
#[derive(Debug, Args)]
pub struct PayloadArgs {
    /// The PAM User's login: the payload's `user`, looked up in Tenable.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// A field of the key record, NAME=VALUE (repeatable), e.g. tenable_sc_host=sc.example.com.
    /// The API keys come from TENABLE_ACCESS_KEY and TENABLE_SECRET_KEY instead.
    #[arg(long = "record-field", value_name = "NAME=VALUE", value_parser = parse_record_field)]
    pub record_fields: Vec<(String, String)>,
    /// Title of the key record.
    #[arg(long, value_name = "TITLE", default_value = DEFAULT_KEY_RECORD_TITLE)]
    pub title: String,
}

fn parse_record_field(value: &str) -> Result<(String, String), String> {
    let (name, field_value) = value
        .split_once('=')
        .ok_or_else(|| format!("'{value}' is not NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("'{value}' has no field name before '='"));
    }
    Ok((name.to_owned(), field_value.to_owned()))
}

/// Flags of `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on; loopback only (127.0.0.0/8 or ::1).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The access key the emulator accepts.
    #[arg(long, value_name = "KEY")]
    pub access_key: String,
    /// The secret key the emulator accepts.
    #[arg(long, value_name = "KEY")]
    pub secret_key: String,
    /// A TVM user, NAME:PASSWORD (repeatable).
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    pub users: Vec<String>,
    /// N synthetic TVM users, for scale work.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_users: usize,
    /// N synthetic TVM managed credentials (`cred0`…, the four kinds in turn), for scale work.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_credentials: usize,
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
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub write_ca: Option<PathBuf>,
    /// Scripted faults. The help is a plain string: a doc comment's rustdoc escaping of the
    /// brackets would show in `--help`.
    #[arg(
        long = "fault",
        value_name = "SPEC",
        help = "A scripted fault, KIND[@ROUTE_PREFIX][*COUNT] (repeatable), e.g. `429*2`, `drop-after@PUT /users`"
    )]
    pub faults: Vec<String>,
    /// The API keys' user's role: basic, standard or admin (TVM Basic/Standard/Administrator;
    /// SC Auditor/Security Analyst/Security Manager); a limited role is refused as Tenable does.
    #[arg(long, value_name = "ROLE", default_value = "admin", value_parser = |v: &str| v.parse::<crate::emulator::ApiRole>())]
    pub api_role: crate::emulator::ApiRole,
    /// Quote submitted values (a rejected password) in error messages, as real services do.
    #[arg(long)]
    pub echo_submitted: bool,
}

/// What an exit status means, as `--help` and the man page show it (README's table, shorter).
pub fn describe(status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::Success => {
            "done: the Tenable password now equals the new password (changed, or already in sync); for check, all was found and nothing changed"
        }
        ExitStatus::Internal => {
            "internal error (a bug); the password state is not known: check it in Tenable"
        }
        ExitStatus::BadInput => {
            "bad input or configuration (payload, record fields, flags, environment, config file); not changed"
        }
        ExitStatus::AuthRefused => {
            "Tenable refused the API keys, or their user lacks the rights; not changed"
        }
        ExitStatus::NotFound => {
            "the user or credential was not found, or more than one matched; not changed"
        }
        ExitStatus::Rejected => {
            "Tenable rejected the change (password policy, reuse, wrong current password); not changed"
        }
        ExitStatus::Unavailable => {
            "network, TLS or timeout failure, Tenable unavailable, or an unusable answer; not changed"
        }
        ExitStatus::Unknown => {
            "UNKNOWN: a change was sent and nothing proved whether it landed; check the account in Tenable before Keeper rolls back; re-running is safe"
        }
        ExitStatus::Partial => {
            "PARTIAL: of several credentials for one account, some hold the new password and some the old (the message names each); do not let Keeper roll back blindly; re-running is safe"
        }
    }
}

/// What an environment variable of [`config::env::ALL`] sets, for `--help` and the man page.
pub fn describe_env(name: &str) -> &'static str {
    use config::env::*;
    match name {
        URL => "base URL; overrides it for either platform",
        CA_FILE => "PEM file of CA certificates trusted besides the OS store",
        RECORD_TITLE => "title of the key record (default 'Tenable Authentication Record')",
        TIMEOUT => "overall deadline in seconds, every retry included (default 60)",
        ACCESS_KEY => "API access key (taken as a pair with the secret key)",
        SECRET_KEY => "API secret key",
        NEW_PASSWORD => "new password for `rotate` and `payload` (else the first stdin line)",
        OLD_PASSWORD => "old password for `rotate` and `payload` (else the second stdin line)",
        SC_HOST => "Security Center host or URL; selects Security Center",
        TARGET => "user or credential, as tenable_target",
        CREDENTIAL_NAME => "as tenable_credential_name",
        CREDENTIAL_MATCH => "name or username, as tenable_credential_match",
        VERIFY => "none or login, as tenable_verify",
        ON_PARTIAL_FAILURE => "restore or keep, as tenable_on_partial_failure",
        CONFIG => "path of the settings file (as --config)",
        AUDIT_LOG => "append one JSON line per run to this file (as --audit-log)",
        _ => "see README",
    }
}

fn exit_table() -> String {
    ExitStatus::ALL
        .iter()
        .map(|s| format!("  {}  {}", s.code(), describe(*s)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn env_table() -> String {
    config::env::ALL
        .iter()
        .map(|v| format!("  {v:<28} {}", describe_env(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

const TOP_EXAMPLES: &str = "Examples:
  tenable-rotate demo                      # a rotation on the built-in emulator, end to end
  echo \"$LINE\" | tenable-rotate keeper     # what the Keeper Gateway runs
  tenable-rotate payload --user alice@example.com | tenable-rotate check
  tenable-rotate rotate --user alice@example.com --check
  tenable-rotate help rotate";

/// The command line as clap parses it, with the parts that are computed (exit codes, the
/// environment) added to the help.
pub fn command() -> clap::Command {
    let codes = ExitStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s.code(), s.name()))
        .collect::<Vec<_>>()
        .join(", ");
    Cli::command()
        // Usage lines name the program, not whatever file it was installed as (a versioned
        // release file, `tenable-rotate.exe`): found when the suite ran against the release.
        .bin_name("tenable-rotate")
        .after_help(format!(
            "{TOP_EXAMPLES}\n\nExit status: {codes} (details: --help)."
        ))
        .after_long_help(format!(
            "{TOP_EXAMPLES}\n\nExit status:\n{}\n\nEnvironment:\n{}\n\nEach failure is one line on stderr: what happened, what to do, where the Tenable password stands. README.md and docs/keeper-setup.md have the details.",
            exit_table(),
            env_table()
        ))
}

/// Parses the process's arguments with [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches()?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command()))
}

/// Runs the parsed command line and returns the exit status.
pub fn run(cli: Cli) -> ExitStatus {
    let env = Environment::from_process();
    let stdin = std::io::stdin();
    let mut ctx = RunContext::with_env(&env);
    let outer = cli.run;
    let (options, mode) = match &cli.command {
        None => (outer.clone(), Mode::Apply),
        Some(Command::Keeper(o)) => (o.clone().or(&outer), Mode::Apply),
        Some(Command::Check(o)) => (o.clone().or(&outer), Mode::Check),
        Some(Command::Rotate(args)) => (
            args.run.clone().or(&outer),
            if args.check { Mode::Check } else { Mode::Apply },
        ),
        Some(Command::Demo(_)) => (outer.clone(), Mode::Apply),
        Some(Command::Discover(args)) => {
            if outer.output.is_some() {
                return fail_usage(
                    "discover takes its own --output (table, json or csv) after the subcommand; drop the one before it",
                );
            }
            let own = RunOptions {
                output: None,
                config: args.config.clone(),
                audit_log: args.audit_log.clone(),
            };
            (own.or(&outer), Mode::Check)
        }
        Some(Command::Request) => {
            if outer.output.is_some() || outer.config.is_some() {
                return fail_usage(
                    "request takes no --output or --config: everything comes in the JSON request; drop them",
                );
            }
            (outer.clone(), Mode::Apply)
        }
        Some(_) => {
            // Given before a subcommand that has no use for them: refuse, as clap does after it.
            if outer.output.is_some() || outer.config.is_some() {
                return fail_usage(
                    "--output and --config apply to keeper, check and rotate (and --output to demo), not to this subcommand; drop them",
                );
            }
            (RunOptions::default(), Mode::Apply)
        }
    };
    if matches!(cli.command, Some(Command::Demo(_))) && outer.config.is_some() {
        return fail_usage("demo takes no --config: it runs on the built-in emulator; drop it");
    }
    let settings_command = matches!(
        cli.command,
        None | Some(
            Command::Keeper(_) | Command::Check(_) | Command::Rotate(_) | Command::Discover(_)
        )
    );
    let file = if settings_command {
        if cli.command.is_none() && stdin.is_terminal() {
            return fail_usage(
                "no payload on standard input: Keeper pipes it when it runs this as a PAM script; try `tenable-rotate demo`, `tenable-rotate --help`, or `tenable-rotate payload ... | tenable-rotate check`; the Tenable password was not changed",
            );
        }
        match app::load_config_file(options.config.as_deref(), &env) {
            Ok(file) => file,
            Err(e) => return report(options.format(), &ctx, Err(e)),
        }
    } else {
        None
    };
    let file = file.as_ref();
    // The audit log is opened before anything is read or sent: if it cannot be, nothing is.
    let subcommand = match &cli.command {
        None | Some(Command::Keeper(_)) => Some("keeper"),
        Some(Command::Check(_)) => Some("check"),
        Some(Command::Rotate(_)) => Some("rotate"),
        Some(Command::Request) => Some("request"),
        Some(Command::Discover(_)) => Some("discover"),
        _ => None,
    };
    let mut audit =
        match subcommand.map(|_| crate::audit::open(options.audit_log.as_deref(), &env, file)) {
            Some(Err(e)) => return report(options.format(), &ctx, Err(e)),
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
        None | Some(Command::Keeper(_) | Command::Check(_)) => app::keeper(
            std::io::stdin(),
            &env,
            file,
            &Overrides::default(),
            mode,
            &mut ctx,
        ),
        Some(Command::Rotate(args)) => {
            let flags = Overrides {
                platform: args
                    .platform
                    .and_then(|p| config::parse_platform(&value_name(p))),
                url: args.url,
                target: args.target.map(value_name),
                credential_name: args.credential_name,
                credential_match: args.credential_match.map(value_name),
                verify: args.verify.map(value_name),
                ..Overrides::default()
            };
            app::standalone(stdin.lock(), &args.user, &env, file, &flags, mode, &mut ctx)
        }
        Some(Command::Request) => {
            let (operation, result) = crate::machine::run(std::io::stdin(), &mut ctx);
            let status = result
                .as_ref()
                .map_or_else(Error::exit_status, |_| ExitStatus::Success);
            let json = crate::machine::result_json(&ctx, operation, &result);
            let _ = writeln!(std::io::stdout(), "{}", ctx.json_line(&json));
            audit_record(&ctx, &json);
            if let Err(e) = &result {
                let line = ctx.line(&e.to_string(), &app::fallback(status));
                let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
            }
            return status;
        }
        Some(Command::Discover(args)) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let result = crate::discover::run(&args, args.output, &env, file, &mut ctx, &mut out);
            drop(out);
            let json = crate::discover::result_json(&ctx, &result);
            audit_record(&ctx, &json);
            return crate::discover::report(&ctx, result);
        }
        Some(Command::Payload(args)) => return finish_plain(payload(&args, &env)),
        Some(Command::Demo(o)) => {
            return demo(o.output.or(options.output).unwrap_or(OutputFormat::Text));
        }
        Some(Command::Emulator(args)) => return finish_plain(serve_emulator(args)),
        Some(Command::Completions { shell }) => {
            let _ = std::io::stdout().write_all(&completions(shell));
            return ExitStatus::Success;
        }
        Some(Command::Man) => {
            // As for results, a closed stdout (a broken pipe) is not a failure.
            let _ = std::io::stdout().write_all(man_page().as_bytes());
            return ExitStatus::Success;
        }
    };
    audit_record(&ctx, &app::json_report(&ctx, &result));
    report(options.format(), &ctx, result)
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
            let _ = writeln!(out, "{}", ctx.json_line(&json));
        }
        OutputFormat::Text => {
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

/// `demo`: its steps as text, or one JSON object with the steps in `steps`.
fn demo(format: OutputFormat) -> ExitStatus {
    if format == OutputFormat::Text {
        return finish_plain(crate::demo::run(&mut std::io::stdout()));
    }
    let mut steps = Vec::new();
    let result = crate::demo::run(&mut steps);
    let status = result
        .as_ref()
        .map_or_else(Error::exit_status, |_| ExitStatus::Success);
    let ctx = RunContext::default();
    let error = result
        .as_ref()
        .err()
        .map(|e| ctx.line(&e.to_string(), &app::fallback(status)));
    let object = json!({
        "outcome": status.name(),
        "exit_code": status.code(),
        "password_state": if result.is_ok() { PasswordState::Changed.id() } else { PasswordState::Unknown.id() },
        "mode": "demo",
        "platform": "vm",
        "steps": String::from_utf8_lossy(&steps).lines().collect::<Vec<_>>(),
        "error": error,
    });
    let _ = writeln!(std::io::stdout(), "{}", ctx.json_line(&object));
    if let Some(line) = error {
        let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
    }
    status
}

/// `payload`: the gateway's line for the PAM User `--user`, with a key record built from the
/// flags and the keys in the environment, and the passwords from the environment or stdin.
fn payload(args: &PayloadArgs, env: &Environment) -> Result<(), Error> {
    let nothing_sent = "; nothing was sent to Tenable";
    let (new, old) = match crate::app::passwords_from_env(env) {
        Some(both) => both,
        None if std::io::stdin().is_terminal() => {
            return Err(Error::Usage(format!(
                "no new password: set {} (for `check`, any value does; it is not sent) or pipe the new and old passwords as two lines{nothing_sent}",
                config::env::NEW_PASSWORD
            )));
        }
        None => read_two_lines(std::io::stdin().lock())?,
    };
    if new.is_empty() {
        return Err(Error::Usage(format!(
            "the new password is empty; set {} or give it as the first line of standard input{nothing_sent}",
            config::env::NEW_PASSWORD
        )));
    }
    let mut key_record = serde_json::Map::new();
    key_record.insert("uid".into(), json!("localKeyRecord00000000"));
    key_record.insert("title".into(), json!(args.title));
    match (
        env.secret(config::env::ACCESS_KEY),
        env.secret(config::env::SECRET_KEY),
    ) {
        (Some(access), Some(secret)) => {
            key_record.insert(config::field::ACCESS_KEY.into(), json!(access.expose()));
            key_record.insert(config::field::SECRET_KEY.into(), json!(secret.expose()));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Usage(format!(
                "only one of {} and {} is set; set both for a key record that holds the keys, or neither for one that does not{nothing_sent}",
                config::env::ACCESS_KEY,
                config::env::SECRET_KEY
            )));
        }
    }
    for (name, value) in &args.record_fields {
        if is_key_field(name) {
            // Refused after parsing, so that clap does not echo the value: it is a key.
            return Err(Error::Usage(format!(
                "--record-field {name}=... puts a secret on the command line, where process listings show it; set {} and {} in the environment instead{nothing_sent}",
                config::env::ACCESS_KEY,
                config::env::SECRET_KEY
            )));
        }
        key_record.insert(name.clone(), json!(value));
    }
    let records = json!([
        serde_json::Value::Object(key_record),
        {"uid": "localPamUserRecord0000", "title": "PAM User", "login": args.user, "password": old.expose()},
    ]);
    let line = crate::demo::gateway_payload(&args.user, new.expose(), old.expose(), &records);
    let _ = std::io::stdout().write_all(line.as_bytes());
    Ok(())
}

fn is_key_field(name: &str) -> bool {
    [config::field::ACCESS_KEY, config::field::SECRET_KEY]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// Two lines of stdin (the new password, then the old, which may be absent).
fn read_two_lines(
    input: impl std::io::Read,
) -> Result<(crate::secret::Secret, crate::secret::Secret), Error> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(input.take(64 * 1024));
    let mut line = || -> Result<crate::secret::Secret, Error> {
        let mut buf = zeroize::Zeroizing::new(String::new());
        reader.read_line(&mut buf).map_err(|e| {
            Error::Usage(format!(
                "could not read a password from standard input ({}); pipe the new and old passwords as two lines, or set {}; nothing was sent to Tenable",
                e.kind(),
                config::env::NEW_PASSWORD
            ))
        })?;
        Ok(crate::secret::Secret::from(
            buf.trim_end_matches(['\r', '\n']),
        ))
    };
    let new = line()?;
    let old = line()?;
    Ok((new, old))
}

/// `emulator`: start it, print `listening on URL` first, then serve until killed.
fn serve_emulator(args: EmulatorArgs) -> Result<(), Error> {
    use crate::emulator::{CredentialSeed, Emulator, EmulatorConfig, FaultRule};
    // It accepts any password change with test keys: never reachable from another host.
    if !args.listen.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "--listen {} is not a loopback address; the emulator serves test keys and accepts any change, so it listens on loopback only: use 127.0.0.1:PORT or [::1]:PORT",
            args.listen
        )));
    }
    let pair = |flag: &str, v: &str| {
        v.split_once(':')
            .map(|(n, p)| (n.to_owned(), p.to_owned()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{flag} takes NAME:PASSWORD, e.g. {flag} 'alice@example.com:Old-Passw0rd!xx'"
                ))
            })
    };
    let seeds = |flag: &str, list: &[String]| -> Result<Vec<CredentialSeed>, Error> {
        list.iter()
            .map(|v| {
                v.parse().map_err(|e| {
                    Error::Usage(format!(
                        "{flag}: {e}; the form is KIND:NAME:USERNAME:PASSWORD, e.g. 'ssh:Linux scanner:scanner:Old-Passw0rd!xx'"
                    ))
                })
            })
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
        seed_credentials: args.seed_credentials,
        sc_credentials: seeds("--sc-credential", &args.sc_credentials)?,
        tls: args.tls,
        api_role: args.api_role,
        echo_submitted: args.echo_submitted,
        faults: args
            .faults
            .iter()
            .map(|f| {
                f.parse::<FaultRule>().map_err(|e| {
                    Error::Usage(format!(
                        "--fault '{f}': {e}; the form is KIND[@ROUTE_PREFIX][*COUNT], e.g. '429*2'"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).map_err(Error::Emulator)?;
    if let (Some(path), Some(pem)) = (&args.write_ca, emulator.ca_certificate_pem()) {
        std::fs::write(path, pem).map_err(|e| {
            Error::Usage(format!(
                "cannot write the certificate to '{}' ({}); choose a writable path for --write-ca",
                path.display(),
                e.kind()
            ))
        })?;
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
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "tenable-rotate", &mut script);
    if shell == clap_complete::Shell::Bash {
        let text =
            String::from_utf8_lossy(&script).replace("tenable__subcmd__rotate", "tenable__rotate");
        script = text.into_bytes();
    }
    script
}

/// The manual page, tenable-rotate(1): clap's NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then
/// COMMANDS (each subcommand's synopsis and options; no separate pages exist), EXAMPLES,
/// EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO.
pub fn man_page() -> String {
    use clap_mangen::Man;
    use clap_mangen::roff::{Roff, bold, roman};
    let mut cmd = command();
    cmd.build();
    // clap_mangen leaves an empty date unquoted, which shifts the footer's fields; the title
    // line is written here with every field quoted instead.
    let mut page = format!(
        ".TH TENABLE-ROTATE 1 \"\" \"tenable-rotate {}\" \"User Commands\"\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes();
    let m = Man::new(cmd.clone());
    let _ = m.render_name_section(&mut page);
    let _ = m.render_synopsis_section(&mut page);
    let _ = m.render_description_section(&mut page);
    let _ = m.render_options_section(&mut page);

    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    page.extend(commands.render().into_bytes());
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tenable-rotate {}", sub.get_name());
        let mut head = Roff::new();
        head.control("SS", [name.as_str()]);
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            head.text([roman(about.to_string().replace('\n', " "))]);
        }
        page.extend(head.render().into_bytes());
        let sub_man = Man::new(sub.clone().bin_name(&name));
        let mut part = Vec::new();
        let _ = sub_man.render_synopsis_section(&mut part);
        let _ = sub_man.render_options_section(&mut part);
        let part = String::from_utf8_lossy(&part)
            .replace(".SH SYNOPSIS\n", ".PP\n")
            .replace(".SH OPTIONS\n", ".PP\n");
        page.extend(part.into_bytes());
    }

    let mut tail = Roff::new();
    tail.control("SH", ["EXAMPLES"]);
    for line in TOP_EXAMPLES.lines().skip(1) {
        tail.control("PP", []).text([roman(line.trim())]);
    }
    tail.control("SH", ["EXIT STATUS"]);
    for status in ExitStatus::ALL {
        tail.control("TP", [])
            .text([bold(status.code().to_string())])
            .text([roman(describe(status))]);
    }
    tail.control("SH", ["ENVIRONMENT"]);
    for var in config::env::ALL {
        tail.control("TP", [])
            .text([bold(var)])
            .text([roman(describe_env(var))]);
    }
    tail.control("TP", [])
        .text([bold("HTTPS_PROXY"), roman(", "), bold("NO_PROXY")])
        .text([roman(
            "proxy for https URLs, as usual; never used for loopback http",
        )]);
    tail.control("SH", ["FILES"]);
    for (file, what) in [
        (
            "/usr/bin/tenable-rotate",
            "the binary, as the .deb and .rpm packages install it",
        ),
        (
            "/usr/share/tenable-rotate/tenable-rotate.sh",
            "the PAM script to attach to the PAM User record (the packages' copy runs /usr/bin/tenable-rotate)",
        ),
        (
            "/etc/tenable-rotate.toml",
            "a settings file, read only when --config or TENABLE_ROTATE_CONFIG names it; one that holds API keys must be mode 600",
        ),
    ] {
        tail.control("TP", [])
            .text([bold(file)])
            .text([roman(what)]);
    }
    tail.control("SH", ["SEE ALSO"]);
    tail.text([roman(
        "README.md and docs/keeper-setup.md in the source, installed with the packages under /usr/share/doc/tenable-rotate/.",
    )]);
    page.extend(tail.render().into_bytes());
    let _ = m.render_version_section(&mut page);

    // Each rendered part repeats roff's two-line apostrophe preamble; keep the first.
    let text = String::from_utf8_lossy(&page).into_owned();
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    match text.split_once(preamble) {
        Some((before, after)) => format!("{preamble}{before}{}", after.replace(preamble, "")),
        None => text,
    }
}

fn fail_usage(message: &str) -> ExitStatus {
    let _ = writeln!(std::io::stderr(), "tenable-rotate: {message}");
    ExitStatus::BadInput
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_exit_status_and_variable_is_described() {
        let help = command().render_long_help().to_string();
        for status in ExitStatus::ALL {
            assert!(help.contains(&format!("  {}  {}", status.code(), describe(status))));
        }
        for var in config::env::ALL {
            assert_ne!(describe_env(var), "see README", "{var}");
            assert!(help.contains(var), "{var} is not in --help");
        }
    }

    #[test]
    fn record_fields_split_at_the_first_equals_sign() {
        assert!(is_key_field("Tenable_Secret_Key"));
        assert!(parse_record_field("=x").is_err());
        assert_eq!(
            parse_record_field("tenable_url=https://x=y").unwrap(),
            ("tenable_url".to_owned(), "https://x=y".to_owned())
        );
    }
}
