//! `reference-receiver`: serves every provider at `/<provider>` until interrupted, then
//! prints the accepted events as JSON lines.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use std::collections::BTreeMap;

use hookspec::runtime::core::{AuthorizationValue, Credentials, KeyApi};
use hookspec_reference_receiver::{
    start, CallerValues, Fault, FollowUpTarget, ReceiverConfig, Secrets,
};

/// The hookspec reference webhook receiver.
#[derive(Debug, Parser)]
#[command(name = "reference-receiver", version)]
struct Args {
    /// Address to listen on; port 0 picks a free one (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Providers to mount, comma-separated, or `all`.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    providers: Vec<String>,
    /// Also receive the providers specified in this directory's `*.yaml` files (no
    /// rebuild: verified and routed from the spec at run time).
    #[arg(long, value_name = "DIR")]
    spec_dir: Option<std::path::PathBuf>,
    /// Expected `Authorization: Basic` credentials, `USER:PASS`.
    #[arg(long, value_name = "USER:PASS")]
    basic: Option<String>,
    /// Expected `Authorization: Bearer` token.
    #[arg(long)]
    bearer: Option<String>,
    /// An HMAC signing secret; repeat during a rotation.
    #[arg(long = "secret")]
    secrets: Vec<String>,
    /// An accepted client id for identifying headers; repeatable.
    #[arg(long = "client-id")]
    client_ids: Vec<String>,
    /// An Ed25519 public key of the provider, as it writes them; repeatable.
    #[arg(long = "public-key")]
    public_keys: Vec<String>,
    /// Where JWT verification keys come from: the API base URL of a provider whose keys
    /// come from an endpoint (Plaid's, or a local stand-in), or the key-set URL of a JWKS
    /// provider. `PROVIDER=URL` for one provider, a bare URL for every JWT provider;
    /// repeatable.
    #[arg(long = "keys-url", value_name = "[PROVIDER=]URL")]
    keys_urls: Vec<String>,
    /// A credential field the key request carries, `NAME=VALUE` (Plaid: client_id, secret).
    #[arg(long = "keys-credential", value_name = "NAME=VALUE")]
    keys_credentials: Vec<String>,
    /// A source network accepted besides the providers' published addresses; repeatable.
    #[arg(long = "allow-ip", value_name = "CIDR")]
    allow_ips: Vec<ipnet::IpNet>,
    /// A proxy whose `X-Forwarded-For` is believed; repeatable. None by default.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Switch on a misbehaviour (for testing conformance suites); repeatable.
    #[arg(long = "fault", value_enum)]
    faults: Vec<Fault>,
    /// Make the follow-up calls events ask for against this API base URL, each provider
    /// below it at `/<provider>` (`hookspec-conformance mock-api` prints one).
    #[arg(long, value_name = "URL")]
    follow_up_url: Option<String>,
    /// A provider's own API base URL for follow-up calls, `NAME=URL`; repeatable.
    #[arg(long = "follow-up-provider-url", value_name = "NAME=URL")]
    follow_up_provider_urls: Vec<String>,
    /// An API credential for follow-up calls, `NAME=VALUE` (`secret_id`, `client_id`, ...);
    /// repeatable.
    #[arg(long = "follow-up-credential", value_name = "NAME=VALUE")]
    follow_up_credentials: Vec<String>,
    /// A value the receiver holds: `NAME=VALUE`, or `NAME@KEY=VALUE` for one record (the
    /// access token of one item); repeatable.
    #[arg(long = "follow-up-value", value_name = "NAME[@KEY]=VALUE")]
    follow_up_values: Vec<String>,
    /// Derive a held value from its record's key: `NAME=PREFIX` makes the value of `NAME`
    /// for key K be `PREFIXK` (a mock API's test tokens); repeatable.
    #[arg(long = "follow-up-derive", value_name = "NAME=PREFIX")]
    follow_up_derive: Vec<String>,
    /// Inbox mode: acknowledge each delivery once it is durable in this store
    /// (`sqlite://PATH`, `postgres://USER@HOST/DB`, `nats://HOST:PORT`), and handle it in
    /// workers after.
    #[arg(long, value_name = "URL")]
    inbox: Option<String>,
    /// How many inbox workers to run.
    #[arg(long, default_value_t = 2, requires = "inbox")]
    inbox_workers: usize,
    /// How long an inbox worker's claim lasts (`2m` by default); a delivery claimed by a
    /// worker that died is handled again after it.
    #[arg(long, value_parser = humantime::parse_duration, requires = "inbox")]
    inbox_lease: Option<Duration>,
    /// Append `provider<TAB>key` to this file after each handler success.
    #[arg(long, value_name = "FILE")]
    handled_log: Option<std::path::PathBuf>,
    /// Serve a provider only at `/<provider>/<TOKEN>`, any other path under it answered
    /// 404: the one protection for a provider that authenticates nothing (Statuspage).
    /// TOKEN: at least 22 random letters, digits, `-` or `_`; repeatable.
    #[arg(long = "secret-path", value_name = "PROVIDER=TOKEN")]
    secret_paths: Vec<String>,
}

/// The follow-up target the flags describe; `None` without a base URL.
fn follow_up_target(args: &Args) -> anyhow::Result<Option<FollowUpTarget>> {
    if args.follow_up_url.is_none() && args.follow_up_provider_urls.is_empty() {
        return Ok(None);
    }
    let pairs = |items: &[String], what: &str| -> anyhow::Result<Vec<(String, String)>> {
        items.iter().map(|i| split_pair(i, '=', what)).collect()
    };
    let mut values = CallerValues::default();
    for (name, value) in pairs(&args.follow_up_values, "--follow-up-value")? {
        match name.split_once('@') {
            Some((name, key)) => {
                values
                    .stored
                    .insert((name.to_owned(), key.to_owned()), value);
            }
            None => {
                values.fixed.insert(name, value);
            }
        }
    }
    values.derived = pairs(&args.follow_up_derive, "--follow-up-derive")?
        .into_iter()
        .collect();
    Ok(Some(FollowUpTarget {
        base_url: args.follow_up_url.clone(),
        base_urls: pairs(&args.follow_up_provider_urls, "--follow-up-provider-url")?
            .into_iter()
            .collect(),
        credentials: pairs(&args.follow_up_credentials, "--follow-up-credential")?
            .into_iter()
            .collect(),
        values,
    }))
}

fn split_pair(s: &str, sep: char, what: &str) -> anyhow::Result<(String, String)> {
    s.split_once(sep)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| anyhow::anyhow!("{what} must look like A{sep}B"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = ReceiverConfig::all_providers();
    if let Some(dir) = &args.spec_dir {
        let specs = hookspec_codegen::load_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        config = config.with_specs(specs.into_iter().map(|l| l.spec).collect());
    }
    config.follow_ups = follow_up_target(&args)?;
    let all = args.providers == ["all"];
    if !all {
        config.providers = args.providers.clone();
    }
    let mut authorization = Vec::new();
    if let Some(basic) = args.basic.as_deref() {
        let (user, password) = split_pair(basic, ':', "--basic")?;
        authorization.push(AuthorizationValue::Basic { user, password });
    }
    if let Some(token) = args.bearer {
        authorization.push(AuthorizationValue::Bearer(token));
    }
    let key_credentials: Vec<(String, String)> = args
        .keys_credentials
        .iter()
        .map(|c| split_pair(c, '=', "--keys-credential"))
        .collect::<anyhow::Result<_>>()?;
    let mut key_apis = BTreeMap::new();
    for url in &args.keys_urls {
        // `PROVIDER=URL` names one provider; a bare URL serves every JWT provider.
        let (providers, base_url) = match url.split_once('=') {
            Some((p, u)) if !p.contains('/') => (vec![p.to_owned()], u.to_owned()),
            _ => (config.jwt_providers(), url.clone()),
        };
        for provider in providers {
            key_apis.insert(
                provider,
                KeyApi {
                    base_url: base_url.clone(),
                    credentials: key_credentials.clone(),
                },
            );
        }
    }
    config.secrets = Secrets {
        shared: Credentials {
            authorization,
            hmac_secrets: args.secrets,
            client_ids: args.client_ids,
            public_keys: args.public_keys,
            key_api: None,
        },
        key_apis,
        ..Secrets::default()
    };
    config.allow_ips = args.allow_ips;
    config.trusted_proxies = args.trusted_proxies;
    config.faults = args.faults;
    config.inbox = args.inbox;
    config.inbox_workers = args.inbox_workers;
    config.inbox_lease = args.inbox_lease;
    config.handled_log = args.handled_log;
    for item in &args.secret_paths {
        let (provider, token) = split_pair(item, '=', "--secret-path")?;
        config.secret_paths.insert(provider, token);
    }
    if all {
        // "all" means every provider the given credentials can verify; say which are left
        // out and why, rather than refusing to start.
        let mut mounted = Vec::new();
        for provider in &config.providers {
            match config.check(provider) {
                Ok(()) => mounted.push(provider.clone()),
                Err(e) => eprintln!("not mounting {provider}: {e}"),
            }
        }
        if mounted.is_empty() {
            anyhow::bail!(
                "no provider can be verified with the credentials given: pass --basic or \
                 --bearer (Belvo), --secret (Bridge), --client-id (Vezgo), or --keys-url with \
                 --keys-credential (Plaid)"
            );
        }
        config.providers = mounted;
    }
    for provider in &config.providers {
        if config.authenticates_nothing(provider) && !config.secret_paths.contains_key(provider) {
            eprintln!(
                "warning: {provider} authenticates nothing, so anyone who finds its URL can post \
                 to it: serve it behind --secret-path {provider}=TOKEN"
            );
        }
    }
    let providers = config.providers.join(", ");
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let running = start(config, listener).await?;
    println!("listening on {} ({providers})", running.url());
    tokio::signal::ctrl_c().await?;
    let log = running.log.clone();
    running.shutdown(Duration::from_secs(2)).await;
    for event in log.events() {
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
