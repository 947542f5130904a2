//! `hookspec-conformance`: plays webhook providers against a receiver and reports.
//!
//! Exit codes: 0 every case passed (`send`: delivered; `validate`: every payload matched),
//! 1 a case failed (not delivered; a payload did not match), 2 usage or spec error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use hookspec_codegen::core::AuthorizationValue;
use hookspec_codegen::model::ProviderSpec;
use hookspec_conformance::follow_ups;
use hookspec_conformance::keys::{self, KeyRing, KeyServer};
use hookspec_conformance::mock_api::{MockApiServer, MockCredentials};
use hookspec_conformance::provider::ProviderSide;
use hookspec_conformance::receiver_cmd::{ReceiverProcess, Supervisor};
use hookspec_conformance::send::Override;
use hookspec_conformance::{Credentials, Report, SharedCredentials, Suite};

#[derive(Parser)]
#[command(name = "hookspec-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cases against a receiver.
    Run(Box<RunArgs>),
    /// Print the id of every case, one per line.
    List(ListArgs),
    /// Serve a mock of providers' APIs (follow-up endpoints, JWT providers' key
    /// endpoints) on loopback until Ctrl-C; each provider is at `<URL>/<provider>`.
    MockApi(MockApiArgs),
    /// Fire one documented event at a receiver, signed, with field overrides.
    Send(Box<SendArgs>),
    /// Print the headers the provider would sign a body with.
    Sign(SignArgs),
    /// Check a delivery's headers and body as a receiver does (exit 0 when it verifies),
    /// e.g. one signed by the provider's own library.
    Verify(VerifyArgs),
    /// Check captured payloads (JSON lines or a HAR file) against the spec.
    Validate(ValidateArgs),
}

/// One provider's spec, built in or from a directory.
#[derive(clap::Args)]
struct OneProvider {
    /// The provider.
    #[arg(long, value_name = "NAME")]
    provider: String,
    /// Read the specs from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    spec_dir: Option<PathBuf>,
}

impl OneProvider {
    fn spec(&self) -> Result<ProviderSpec, String> {
        let suite = spec_source(self.spec_dir.as_deref());
        let specs = suite.select_providers(std::slice::from_ref(&self.provider));
        let specs = specs.specs().map_err(|e| e.to_string())?;
        specs
            .first()
            .cloned()
            .ok_or_else(|| format!("no spec for provider `{}`", self.provider))
    }
}

#[derive(clap::Args)]
struct SendArgs {
    #[command(flatten)]
    provider: OneProvider,
    /// The event: its spec name (`SyncAccount`) or its discriminator values joined by `.`
    /// as in case ids (`TRANSACTIONS.SYNC_UPDATES_AVAILABLE`).
    #[arg(long, value_name = "EVENT")]
    event: String,
    /// Which of the event's documented examples, from 1.
    #[arg(long, value_name = "N", default_value_t = 1)]
    example: usize,
    /// Put VALUE (JSON, or else text) at the dotted PATH of the body; repeatable. The body
    /// is re-serialized only when this is given.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<Override>,
    /// The receiver's base URL; the event goes to `URL/<provider>`.
    #[arg(long, value_name = "URL", required_unless_present = "endpoint")]
    url: Option<String>,
    /// A header value to send as it is instead of a generated one; repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The provider endpoint's full URL, instead of `--url`.
    #[arg(long, value_name = "URL", conflicts_with = "url")]
    endpoint: Option<String>,
    /// Credentials not given are hookspec's public test ones (what the bundled reference
    /// receiver accepts).
    #[command(flatten)]
    credentials: CredentialArgs,
    /// Where the suite serves every JWT provider's key source, each below `/<provider>`
    /// (default: an ephemeral loopback port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    keys_listen: std::net::SocketAddr,
}

#[derive(clap::Args)]
struct SignArgs {
    #[command(flatten)]
    provider: OneProvider,
    /// The body, byte for byte (a trailing newline counts); `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Sign as of this time, in seconds since 1970 (default: now); an old one makes a
    /// stale delivery.
    #[arg(long, value_name = "UNIX_SECONDS")]
    timestamp: Option<u64>,
    /// A header value to send as it is instead of a generated one (a published vector's
    /// `webhook-id`, or its timestamp header, which is then the time signed); repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The URL the delivery goes to, for schemes that sign it (Twilio); default
    /// `https://receiver.example/webhooks/<provider>`.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Credentials not given are hookspec's public test ones; without `--signing-key`
    /// JWTs are signed with hookspec's test key under its test key id.
    #[command(flatten)]
    credentials: CredentialArgs,
    /// With `--signing-key`: the key id the JWT names (default:
    /// `hookspec-<provider>-key-1`). `sign` serves no key; whoever serves it picks the id.
    #[arg(long, value_name = "KID", requires = "signing_keys")]
    kid: Option<String>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    provider: OneProvider,
    /// The body, byte for byte; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A header of the delivery; repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Judge as of this time, in seconds since 1970 (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    timestamp: Option<u64>,
    /// The URL the provider called, for schemes that sign it (Twilio).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The request method, for schemes that sign it.
    #[arg(long, value_name = "METHOD", default_value = "POST")]
    method: String,
    /// Credentials not given are hookspec's public test ones.
    #[command(flatten)]
    credentials: CredentialArgs,
}

#[derive(clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    provider: OneProvider,
    /// One captured JSON payload per line, or a HAR file (its POST request bodies); `-`
    /// reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Pretty)]
    format: ValidateFormat,
    /// Count unknown events as failures too.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValidateFormat {
    /// A line per payload and its problems.
    Pretty,
    /// One JSON document.
    Json,
}

#[derive(clap::Args)]
struct MockApiArgs {
    /// Providers to serve (default: every one whose spec lists API endpoints).
    #[arg(long = "provider", value_name = "NAME")]
    providers: Vec<String>,
    /// Read the specs from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    spec_dir: Option<PathBuf>,
    /// Where to listen; port 0 picks a free one (the URL is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Accept this value for an API credential instead of the test value; repeatable.
    #[arg(long = "credential", value_name = "NAME=VALUE", value_parser = parse_credential)]
    credentials: Vec<(String, String)>,
    /// Serve JWT providers' verification endpoints with this P-256 key (PKCS#8 or SEC1
    /// PEM) instead of a fresh one: `PROVIDER=FILE` for that provider, `FILE` for every
    /// JWT provider without one of its own; repeatable.
    #[arg(long = "signing-key", value_name = "[PROVIDER=]FILE", value_parser = parse_signing_key)]
    signing_keys: Vec<SigningKeyArg>,
}

#[derive(clap::Args)]
struct Selection {
    /// Providers to play (default: all).
    #[arg(long = "provider", value_name = "NAME")]
    providers: Vec<String>,
    /// Read the specs from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    spec_dir: Option<PathBuf>,
    /// Run only cases whose id matches (`plaid/deliver/*`); repeatable.
    #[arg(long, value_name = "GLOB")]
    only: Vec<String>,
    /// Skip cases whose id matches; repeatable.
    #[arg(long, value_name = "GLOB")]
    skip: Vec<String>,
    /// Add the retry cases: replay the provider's retry schedule.
    #[arg(long)]
    retry: bool,
    /// Multiply every retry delay by this (0.001 turns 30 s into 30 ms).
    #[arg(long, value_name = "F", requires = "retry", default_value_t = 1.0)]
    time_scale: f64,
}

#[derive(clap::Args)]
struct ListArgs {
    #[command(flatten)]
    selection: Selection,
    /// Also say what each case expects of the receiver, and why.
    #[arg(long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    /// The receiver's base URL; each provider is played at `URL/<provider>`. Without it,
    /// the bundled reference receiver is started on loopback and played.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The full URL of one provider's endpoint; repeatable.
    #[arg(long, value_name = "NAME=URL", value_parser = parse_pair)]
    provider_url: Vec<(String, String)>,
    /// Start the receiver with this shell command, wait until it accepts connections at
    /// `--url`, keep its output in the report and say how it ended if it did. The command
    /// finds `--url`'s port in $HOOKSPEC_RECEIVER_PORT; with port 0 the receiver picks a
    /// free one and prints its URL (`http://<host>:<port>`), which is then played.
    #[arg(long, value_name = "CMD", requires = "url")]
    receiver_cmd: Option<String>,
    /// How long the receiver started by `--receiver-cmd` has to accept connections.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "30s")]
    ready_timeout: Duration,
    /// When the receiver started by `--receiver-cmd` dies, start it again and go on (at
    /// most 5 times): the case after which it died fails, the rest of the run is still told.
    #[arg(long, requires = "receiver_cmd")]
    restart: bool,
    #[command(flatten)]
    credentials: CredentialArgs,
    /// Where the suite serves every JWT provider's key source, each below `/<provider>`
    /// (default: an ephemeral loopback port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    keys_listen: std::net::SocketAddr,
    /// Cases running at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// Wait this long for a response head before calling the receiver hung (default: the
    /// provider's timeout plus 2 s).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    hang_bound: Option<Duration>,
    /// Bound on the whole run.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10m")]
    run_bound: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write the report in this format to this file (`json=report.json`,
    /// `junit=junit.xml`, `html=report.html`, `pretty=report.txt`), beside the main output;
    /// repeatable.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report_arg)]
    reports: Vec<(Format, PathBuf)>,
    /// Save every exchange under this directory, one JSON-lines file per case.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Set a body field to VALUE (JSON, else text) in every delivery whose body has that
    /// whole dotted path, so events name objects a stateful receiver knows; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<Override>,
    /// Name this object wherever a delivery's body has one of the spec's subject paths
    /// (the unknown-subject case keeps its unknown one).
    #[arg(long, value_name = "ID")]
    subject: Option<String>,
    /// Serve a mock of the providers' APIs here and add a `follow-up` case per delivered
    /// event that has one; the bundled receiver is pointed at it.
    #[arg(long, value_name = "ADDR")]
    mock_api_listen: Option<std::net::SocketAddr>,
}

/// What the receiver is configured with, so what the suite sends is accepted.
#[derive(clap::Args)]
struct CredentialArgs {
    /// `Authorization: Basic` credentials the receiver expects.
    #[arg(long, value_name = "USER:PASS", value_parser = parse_basic)]
    basic: Option<(String, String)>,
    /// `Authorization: Bearer` token the receiver expects.
    #[arg(long, value_name = "TOKEN")]
    bearer: Option<String>,
    /// HMAC signing secret the receiver verifies with, newest first; repeatable.
    #[arg(long = "secret", value_name = "S")]
    secrets: Vec<String>,
    /// The provider's public key a receiver verifies with (Ed25519, ECDSA or RSA), as the
    /// provider writes it: hex, base64 or a whole PEM block (`verify`); repeatable.
    #[arg(long = "public-key", value_name = "KEY", allow_hyphen_values = true)]
    public_keys: Vec<String>,
    /// Sign Ed25519 schemes with this key (base64 of its 32-byte seed or 64-byte key pair,
    /// after an optional prefix such as `whsk_`) instead of hookspec's test key.
    #[arg(long = "ed25519-key", value_name = "KEY", value_parser = hookspec_signer::ed25519_seed_from_text)]
    signing_seed: Option<[u8; 32]>,
    /// Sign public-key schemes (Ed25519, ECDSA, RSA, a detached JWS) with this PEM private
    /// key file (PKCS#8, SEC1 or PKCS#1) instead of hookspec's test key; the receiver is
    /// given its public half.
    #[arg(long = "private-key", value_name = "FILE", value_parser = read_pem)]
    private_key: Option<String>,
    /// Account id sent in identifying headers (Vezgo's x-client-id).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Sign JWT providers' webhooks with this P-256 key (PKCS#8 or SEC1 PEM) instead of a
    /// fresh one (`sign`: instead of hookspec's test key): `PROVIDER=FILE` for that
    /// provider, `FILE` for every JWT provider without one of its own; repeatable.
    #[arg(long = "signing-key", value_name = "[PROVIDER=]FILE", value_parser = parse_signing_key)]
    signing_keys: Vec<SigningKeyArg>,
}

/// One `--signing-key`: a PEM file for one provider, or for every JWT provider.
#[derive(Clone)]
struct SigningKeyArg {
    provider: Option<String>,
    path: PathBuf,
}

/// The text of a PEM file given on the command line.
fn read_pem(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    if !text.contains("-----BEGIN ") {
        return Err(format!("{path} holds no PEM block"));
    }
    Ok(text)
}

/// `NAME=VALUE` of `--header`.
fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if http::HeaderName::from_bytes(name.as_bytes()).is_ok() => {
            Ok((name.to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE with a valid header name")),
    }
}

fn parse_signing_key(s: &str) -> Result<SigningKeyArg, String> {
    // `NAME=FILE` when what precedes `=` looks like a provider name; a path may hold `=`.
    match s.split_once('=') {
        Some((name, path))
            if !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            Ok(SigningKeyArg {
                provider: Some(name.to_owned()),
                path: PathBuf::from(path),
            })
        }
        _ => Ok(SigningKeyArg {
            provider: None,
            path: PathBuf::from(s),
        }),
    }
}

/// The keys given with `--signing-key`, read, for the JWT providers of `specs`: a
/// provider's own key, else the one for every provider. A key for a provider that is not
/// a JWT provider of `specs` is an error.
fn signing_keys(
    given: &[SigningKeyArg],
    specs: &[ProviderSpec],
) -> Result<BTreeMap<String, p256::ecdsa::SigningKey>, String> {
    let jwt: Vec<&str> = specs
        .iter()
        .filter(|s| keys::jwt_scheme(s).is_some())
        .map(|s| s.provider.as_str())
        .collect();
    let mut out = BTreeMap::new();
    for arg in given {
        let Some(provider) = arg.provider.as_deref() else {
            continue;
        };
        if !jwt.contains(&provider) {
            let known = if jwt.is_empty() {
                "none".to_owned()
            } else {
                jwt.join(", ")
            };
            return Err(format!(
                "--signing-key names `{provider}`, which is not a JWT provider here (JWT providers: {known})"
            ));
        }
        out.insert(provider.to_owned(), read_signing_key(&arg.path)?);
    }
    if let Some(all) = given.iter().rev().find(|a| a.provider.is_none()) {
        let key = read_signing_key(&all.path)?;
        for p in jwt {
            out.entry(p.to_owned()).or_insert_with(|| key.clone());
        }
    }
    Ok(out)
}

impl CredentialArgs {
    /// The credentials given; `test_defaults` fills what is missing with hookspec's
    /// public test credentials.
    fn credentials(&self, jwt_keys: BTreeMap<String, KeyRing>, test_defaults: bool) -> Credentials {
        let mut authorization = Vec::new();
        if let Some((user, password)) = &self.basic {
            authorization.push(AuthorizationValue::Basic {
                user: user.clone(),
                password: password.clone(),
            });
        }
        if let Some(token) = &self.bearer {
            authorization.push(AuthorizationValue::Bearer(token.clone()));
        }
        Credentials {
            shared: SharedCredentials {
                authorization,
                hmac_secrets: self.secrets.clone(),
                client_ids: self.client_id.iter().cloned().collect(),
                public_keys: self.public_keys.clone(),
                key_api: None,
            },
            jwt_keys,
            signing_seed: self.signing_seed,
            private_key_pem: self.private_key.clone(),
            test_defaults,
        }
    }
}

/// The P-256 key in the PEM file given with `--signing-key`.
fn read_signing_key(path: &std::path::Path) -> Result<p256::ecdsa::SigningKey, String> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --signing-key {}: {e}", path.display()))?;
    keys::key_from_pem(&pem).map_err(|e| format!("--signing-key {}: {e}", path.display()))
}

/// The built-in specs, or those in `spec_dir`.
fn spec_source(spec_dir: Option<&std::path::Path>) -> Suite {
    match spec_dir {
        Some(dir) => Suite::all(dir),
        None => Suite::builtin(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table with a progress bar while running.
    Pretty,
    /// One JSON document.
    Json,
    /// JUnit XML.
    Junit,
    /// One self-contained HTML page, with each case's requests and responses.
    Html,
}

/// `FORMAT=FILE` of `--report`.
fn parse_report_arg(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not FORMAT=FILE"))?;
    let format = Format::from_str(format, true)
        .map_err(|_| format!("`{format}` is not a report format (pretty, json, junit or html)"))?;
    if file.is_empty() {
        return Err(format!("`{s}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (name, url) = s
        .split_once('=')
        .ok_or_else(|| "expected NAME=URL".to_owned())?;
    Ok((name.to_owned(), url.to_owned()))
}

fn parse_credential(s: &str) -> Result<(String, String), String> {
    // The value is a credential: the error must not echo it.
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE".to_owned())?;
    Ok((name.to_owned(), value.to_owned()))
}

fn parse_basic(s: &str) -> Result<(String, String), String> {
    // The value is a credential: the error must not echo it.
    let (user, password) = s
        .split_once(':')
        .ok_or_else(|| "expected USER:PASS".to_owned())?;
    Ok((user.to_owned(), password.to_owned()))
}

const USAGE_OR_SPEC_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List(args) => list(&args.selection, args.verbose),
        Command::Run(args) => block_on(run(*args)),
        Command::MockApi(args) => block_on(mock_api(args)),
        Command::Send(args) => block_on(send(*args)),
        Command::Sign(args) => sign(&args),
        Command::Verify(args) => block_on(verify(args)),
        Command::Validate(args) => validate(&args),
    }
}

fn block_on(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(f),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(USAGE_OR_SPEC_ERROR)
        }
    }
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(USAGE_OR_SPEC_ERROR)
}

/// The bytes of FILE, or of standard input for `-`.
fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

async fn send(args: SendArgs) -> ExitCode {
    let spec = match args.provider.spec() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let documented = match hookspec_conformance::send::example(&spec, &args.event, args.example) {
        Ok(b) => b,
        Err(e) => return usage_error(e),
    };
    let body = if args.sets.is_empty() {
        documented
    } else {
        match hookspec_conformance::send::apply_overrides(&documented, &args.sets) {
            Ok(b) => b,
            Err(e) => return usage_error(e),
        }
    };
    let endpoint = match (&args.endpoint, &args.url) {
        (Some(e), _) => e.clone(),
        (None, Some(u)) => format!("{}/{}", u.trim_end_matches('/'), spec.provider),
        (None, None) => return usage_error("give --url or --endpoint"),
    };
    let (jwt_keys, key_server) = match key_sources(
        std::slice::from_ref(&spec),
        &args.credentials,
        args.keys_listen,
    )
    .await
    {
        Ok(started) => started,
        Err(e) => return usage_error(e),
    };
    let side = ProviderSide::new(spec, &args.credentials.credentials(jwt_keys, true))
        .sending_to(&endpoint);
    if let Err(e) = side.check_credentials() {
        return usage_error(e);
    }
    // The event's own header values (where a header names it), then the user's.
    let mut given = hookspec_conformance::send::event_headers(side.spec(), &args.event);
    given.extend(args.headers.iter().cloned());
    let sent = hookspec_conformance::send::send(
        &side,
        &endpoint,
        body,
        &given,
        hookspec_conformance::suite::HANG_GRACE,
    )
    .await;
    if let Some(server) = key_server {
        server.shutdown().await;
    }
    match sent {
        Ok(sent) => {
            print!("{}", sent.render());
            if sent.delivered {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => usage_error(e),
    }
}

/// The provider's spec and the body in `file`, or the usage error saying why not.
fn spec_and_body(
    provider: &OneProvider,
    file: &std::path::Path,
) -> Result<(ProviderSpec, Vec<u8>), ExitCode> {
    let spec = provider.spec().map_err(usage_error)?;
    let body = read_input(file)
        .map_err(|e| usage_error(format!("cannot read {}: {e}", file.display())))?;
    Ok((spec, body))
}

fn sign(args: &SignArgs) -> ExitCode {
    let (spec, body) = match spec_and_body(&args.provider, &args.file) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let given = signing_keys(&args.credentials.signing_keys, std::slice::from_ref(&spec));
    let jwt_keys = match given {
        Ok(given) => given
            .into_iter()
            .map(|(provider, key)| {
                let kid = args
                    .kid
                    .clone()
                    .unwrap_or_else(|| keys::fixed_kid(&provider));
                (provider, KeyRing::new(key, &kid))
            })
            .collect(),
        Err(e) => return usage_error(e),
    };
    let at = match args.timestamp {
        Some(secs) => std::time::UNIX_EPOCH + Duration::from_secs(secs),
        None => std::time::SystemTime::now(),
    };
    let mut side = ProviderSide::new(spec, &args.credentials.credentials(jwt_keys, true));
    if let Some(url) = &args.url {
        side = side.sending_to(url);
    }
    // A secret the provider would not write this way is an error, never signed as text.
    if let Err(e) = side.check_credentials() {
        return usage_error(e);
    }
    for (name, value) in side.sign(&body, at, &args.headers) {
        println!("{name}: {value}");
    }
    ExitCode::SUCCESS
}

async fn verify(args: VerifyArgs) -> ExitCode {
    use hookspec_runtime::verify::{Credentials as Receiving, Request, SourceIpCheck, Verifier};
    let (spec, body) = match spec_and_body(&args.provider, &args.file) {
        Ok(read) => read,
        Err(code) => return code,
    };
    // What a receiver holds: the given credentials, the suite's test ones otherwise.
    let side = ProviderSide::new(
        spec.clone(),
        &args.credentials.credentials(Default::default(), true),
    );
    let shared = side.shared();
    if hookspec_codegen::core::jwt_scheme(&spec.auth).is_some() {
        return usage_error("`verify` checks signatures and credentials; JWT providers need their key server, which `run` and `send` start");
    }
    let schemes: &'static [hookspec_codegen::core::AuthScheme] =
        Box::leak(spec.auth.clone().into_boxed_slice());
    let rules: &'static hookspec_codegen::core::DeliveryRules =
        Box::leak(Box::new(spec.delivery.rules()));
    let receiving = match Receiving::new()
        .source_ips(SourceIpCheck::Off)
        .shared(shared, schemes)
    {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let verifier = match Verifier::new(schemes, rules, receiving) {
        Ok(v) => v,
        Err(e) => return usage_error(e),
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &args.headers {
        match (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                headers.append(n, v);
            }
            _ => return usage_error(format!("`{name}: {value}` is not a valid header")),
        }
    }
    let now = match args.timestamp {
        Some(secs) => std::time::UNIX_EPOCH + Duration::from_secs(secs),
        None => std::time::SystemTime::now(),
    };
    let mut request = Request::new(&headers, &body);
    if let Some(url) = &args.url {
        request = request.target(&args.method, url);
    }
    match verifier.verify(&request, now).await {
        Ok(()) => {
            println!("verified");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("refused ({}): {e}", e.status());
            ExitCode::FAILURE
        }
    }
}

fn validate(args: &ValidateArgs) -> ExitCode {
    let spec = match args.provider.spec() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let text = match read_input(&args.file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return usage_error(format!("cannot read {}: {e}", args.file.display())),
    };
    let payloads = hookspec_conformance::validate::captured(&text);
    let report = hookspec_conformance::validate::validate(&spec, &payloads);
    match args.format {
        ValidateFormat::Pretty => print!("{}", report.to_pretty()),
        ValidateFormat::Json => println!("{}", report.to_json()),
    }
    if report.failed(args.strict) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn suite(selection: &Selection) -> Suite {
    let mut suite =
        spec_source(selection.spec_dir.as_deref()).select_providers(&selection.providers);
    for g in &selection.only {
        suite = suite.only(g);
    }
    for g in &selection.skip {
        suite = suite.skip(g);
    }
    if selection.retry {
        suite = suite.retry(selection.time_scale);
    }
    suite
}

fn list(selection: &Selection, verbose: bool) -> ExitCode {
    match suite(selection).cases() {
        Ok(cases) => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            for c in cases {
                let written = if verbose {
                    let (expects, why) = (c.expects(), c.why());
                    writeln!(out, "{}\n    expects: {expects}\n    why: {why}", c.id)
                } else {
                    writeln!(out, "{}", c.id)
                };
                // A closed pipe (`| head`) ends the listing quietly.
                if written.is_err() {
                    break;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(e),
    }
}

async fn run(args: RunArgs) -> ExitCode {
    let suite = suite(&args.selection);
    let specs = match suite.specs() {
        Ok(s) => s.to_vec(),
        Err(e) => return usage_error(e),
    };
    let (jwt_keys, key_server) =
        match key_sources(&specs, &args.credentials, args.keys_listen).await {
            Ok(started) => started,
            Err(e) => return usage_error(e),
        };
    let supervisor = match (&args.receiver_cmd, &args.url) {
        (Some(cmd), Some(url)) => {
            match ReceiverProcess::start(cmd, url, args.ready_timeout).await {
                Ok(p) => {
                    eprintln!("receiver started: {cmd} ({})", p.url());
                    Some(Arc::new(Supervisor::new(p, args.ready_timeout)))
                }
                Err(e) => return usage_error(e),
            }
        }
        _ => None,
    };
    let mock = match args.mock_api_listen {
        Some(addr) => match start_mock(addr, &specs, jwt_keys.clone()).await {
            Ok(m) => {
                eprintln!("mock API: {} (each provider at /<provider>)", m.url());
                Some(m)
            }
            Err(e) => return usage_error(e),
        },
        None => None,
    };
    // Without --url the bundled reference receiver is played, with matching credentials,
    // unless every provider played has a URL of its own.
    let mut bundled = None;
    let all_have_urls = specs.iter().all(|s| {
        args.provider_url
            .iter()
            .any(|(name, _)| *name == s.provider)
    });
    let url = match (&args.url, &supervisor) {
        // A started receiver may have picked its port: the supervisor knows which.
        (Some(_), Some(s)) => s.url().to_owned(),
        (Some(u), None) => u.clone(),
        (None, _) if all_have_urls => args
            .provider_url
            .iter()
            .map(|(name, u)| format!("{name}={u}"))
            .collect::<Vec<_>>()
            .join(" "),
        (None, _) => {
            let key_urls = key_server
                .as_ref()
                .map(KeyServer::base_urls)
                .unwrap_or_default();
            let started = match &mock {
                Some(m) => {
                    hookspec_conformance::bundled::start_with_follow_ups(
                        &specs,
                        &key_urls,
                        &[],
                        &m.url(),
                        &MockCredentials::test(&specs),
                    )
                    .await
                }
                None => hookspec_conformance::bundled::start(&specs, &key_urls, &[]).await,
            };
            match started {
                Ok(r) => {
                    eprintln!("reference receiver: {}", r.url());
                    let url = r.url();
                    bundled = Some(r);
                    url
                }
                Err(e) => return usage_error(format!("cannot start the reference receiver: {e}")),
            }
        }
    };
    let given = args.credentials.credentials(jwt_keys, bundled.is_some());
    let mut suite = suite
        .credentials(given)
        .concurrency(args.concurrency)
        .run_bound(args.run_bound);
    if let Some(b) = args.hang_bound {
        suite = suite.hang_bound(b);
    }
    for (name, u) in &args.provider_url {
        suite = suite.provider_url(name, u);
    }
    if let Some(dir) = &args.record {
        suite = suite.record(dir);
    }
    for o in &args.sets {
        suite = suite.set(o.clone());
    }
    if let Some(id) = &args.subject {
        suite = suite.subject(id);
    }
    if let Some(m) = &mock {
        suite = suite.follow_ups(m.log.clone(), follow_ups::DEFAULT_WAIT);
    }
    if let (true, Some(s)) = (args.restart, &supervisor) {
        let s = s.clone();
        suite = suite.restart_receiver(Arc::new(move |after| {
            let s = s.clone();
            Box::pin(async move { s.restart(&after).await })
        }));
    }
    if args.format == Format::Html || args.reports.iter().any(|(f, _)| *f == Format::Html) {
        suite = suite.capture_exchanges();
    }
    let total = match suite.cases() {
        Ok(c) => c.len() as u64,
        Err(e) => return usage_error(e),
    };
    let total = total + suite.expected_follow_ups().map_or(0, |f| f.len() as u64);
    let bar = (args.format == Format::Pretty).then(|| progress_bar(total));
    if let Some(bar) = bar.clone() {
        suite = suite.on_case(move |case| {
            bar.set_message(case.id.clone());
            bar.inc(1);
        });
    }
    let mut report = match suite.run(&url).await {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    // A receiver the suite started: how it ended, each time it did, and what it printed.
    let mut process_died = false;
    if let Some(s) = supervisor {
        let last_died = report
            .cases
            .iter()
            .rev()
            .find(|c| c.observed.starts_with("receiver died"))
            .map(|c| c.id.clone());
        let finished = s.finish(last_died.as_deref()).await;
        process_died = finished.died;
        report.notes.extend(finished.notes);
        report.receiver_output = finished.output;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(receiver) = bundled {
        receiver.shutdown(Duration::from_secs(1)).await;
    }
    if let Some(server) = key_server {
        server.shutdown().await;
    }
    if let Some(m) = mock {
        m.shutdown().await;
    }
    if let Err(e) = write_report(&report, args.format, args.out.as_deref()) {
        return usage_error(format!("cannot write the report: {e}"));
    }
    for (format, file) in &args.reports {
        if let Err(e) = write_report(&report, *format, Some(file)) {
            return usage_error(format!(
                "cannot write the report to {}: {e}",
                file.display()
            ));
        }
    }
    if report.passed() && !process_died {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A key ring per JWT provider of `specs` (the `--signing-key` given for it, else a fresh
/// key; fresh key ids each run) and one server of every such provider's key source as its
/// spec describes it, started and announced; empty and `None` without JWT providers. A
/// receiver verifying JWTs fetches keys from the provider, so the suite plays that part.
async fn key_sources(
    specs: &[ProviderSpec],
    credentials: &CredentialArgs,
    listen: std::net::SocketAddr,
) -> Result<(BTreeMap<String, KeyRing>, Option<KeyServer>), String> {
    let mut given = signing_keys(&credentials.signing_keys, specs)?;
    let rings = keys::rings(specs, |p| given.remove(p));
    if rings.is_empty() {
        return Ok((rings, None));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let server = KeyServer::start(listener, keys::sources(specs, &rings))
        .map_err(|e| format!("cannot start the key server: {e}"))?;
    for line in server.announcement() {
        eprintln!("{line}");
    }
    Ok((rings, Some(server)))
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar
}

fn write_report(
    report: &Report,
    format: Format,
    out: Option<&std::path::Path>,
) -> std::io::Result<()> {
    let text = match format {
        Format::Pretty => report.to_pretty(),
        Format::Json => report.to_json() + "\n",
        Format::Junit => report.to_junit(),
        Format::Html => report.to_html(),
    };
    match out {
        Some(path) => std::fs::write(path, text),
        None => {
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes())
        }
    }
}

/// Starts the mock API for `specs` on `addr`, with the suite's test credentials.
async fn start_mock(
    addr: std::net::SocketAddr,
    specs: &[hookspec_codegen::model::ProviderSpec],
    keys: BTreeMap<String, KeyRing>,
) -> Result<MockApiServer, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    MockApiServer::start(listener, specs, MockCredentials::test(specs), keys)
        .map_err(|e| format!("cannot start the mock API: {e}"))
}

async fn mock_api(args: MockApiArgs) -> ExitCode {
    let suite = spec_source(args.spec_dir.as_deref()).select_providers(&args.providers);
    let specs = match suite.specs() {
        Ok(s) => s.to_vec(),
        Err(e) => return usage_error(e),
    };
    let mut given = match signing_keys(&args.signing_keys, &specs) {
        Ok(k) => k,
        Err(e) => return usage_error(e),
    };
    let rings = keys::rings(&specs, |p| given.remove(p));
    let mut credentials = MockCredentials::test(&specs);
    for (name, value) in &args.credentials {
        credentials = credentials.set(name, value);
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return usage_error(format!("cannot listen on {}: {e}", args.listen)),
    };
    let server = match MockApiServer::start(listener, &specs, credentials.clone(), rings.clone()) {
        Ok(s) => s,
        Err(e) => return usage_error(format!("cannot start the mock API: {e}")),
    };
    if server.providers().is_empty() {
        return usage_error("none of the selected specs lists API endpoints");
    }
    println!("mock API: {}", server.url());
    for provider in server.providers() {
        println!("  {provider}: {}", server.base_url(provider));
        if let Some((_, kid)) = rings.get(provider).and_then(KeyRing::current) {
            println!("  {provider} signing key id: {kid}");
        }
    }
    for (name, value) in credentials.pairs() {
        // Only the suite's own test values are shown; values given on the command line
        // are the user's and stay unprinted.
        if args.credentials.iter().any(|(n, _)| n == &name) {
            println!("  credential {name}: (as given)");
        } else {
            println!("  credential {name}: {value}");
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    let log = server.log.clone();
    server.shutdown().await;
    for call in log.calls() {
        println!("{}", serde_json::to_string(&call).unwrap_or_default());
    }
    ExitCode::SUCCESS
}
