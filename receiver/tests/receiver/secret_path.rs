//! A provider that authenticates nothing (Statuspage's feed) behind a secret path: its
//! deliveries are accepted at `/<provider>/<token>` only; a missing, wrong or longer path
//! is answered 404 and records nothing, and the other providers are unaffected.

use std::time::Duration;

use hookspec_reference_receiver::{start, ReceiverConfig};

const PROVIDER: &str = "belvo-institution-status";
const TOKEN: &str = "q8Zr3LmN0pXv7TbWc2Ks9Ady";

fn example() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let specs = hookspec_codegen::load_dir(&dir).expect("specs load");
    let spec = &specs
        .iter()
        .find(|s| s.spec.provider == PROVIDER)
        .expect("the Statuspage feed's spec")
        .spec;
    assert!(spec.auth.is_empty(), "the feed authenticates nothing");
    spec.events[0].examples[0].clone()
}

#[tokio::test]
async fn only_the_secret_path_reaches_the_provider() {
    let mut config = ReceiverConfig::all_providers();
    config.providers = vec![PROVIDER.to_owned()];
    config.allow_ips = vec!["127.0.0.0/8".parse().unwrap()];
    assert!(config.authenticates_nothing(PROVIDER));
    config
        .secret_paths
        .insert(PROVIDER.to_owned(), TOKEN.to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = start(config, listener).await.expect("receiver starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = example();
    let post = |path: String| {
        let req = client
            .post(format!("{}{path}", receiver.url()))
            .header("content-type", "application/json")
            .body(body.clone());
        async move {
            req.send()
                .await
                .expect("the receiver answers")
                .status()
                .as_u16()
        }
    };

    let mut wrong_last = TOKEN.to_owned();
    wrong_last.pop();
    wrong_last.push('x');
    for path in [
        format!("/{PROVIDER}"),
        format!("/{PROVIDER}/"),
        format!("/{PROVIDER}/{wrong_last}"),
        format!("/{PROVIDER}/{}", &TOKEN[..TOKEN.len() - 1]),
        format!("/{PROVIDER}/{TOKEN}x"),
        format!("/{PROVIDER}/{TOKEN}/more"),
    ] {
        assert_eq!(post(path.clone()).await, 404, "{path}");
    }
    assert!(
        receiver.log.events().is_empty(),
        "a refused path recorded an event"
    );

    assert_eq!(post(format!("/{PROVIDER}/{TOKEN}")).await, 200);
    assert_eq!(
        post(format!("/{PROVIDER}/{TOKEN}?source=statuspage")).await,
        200
    );
    let events = receiver.log.events();
    // The second delivery is the same body: acknowledged, recorded once.
    assert_eq!(events.len(), 1, "{events:?}");
    receiver.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_short_token_or_an_unmounted_provider_is_refused_at_start() {
    let mut config = ReceiverConfig::all_providers();
    config.providers = vec![PROVIDER.to_owned()];
    config
        .secret_paths
        .insert(PROVIDER.to_owned(), "short".to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = start(config, listener).await.err().expect("refused");
    assert!(err.to_string().contains("at least 22 characters"), "{err}");

    let mut config = ReceiverConfig::all_providers();
    config.providers = vec![PROVIDER.to_owned()];
    config
        .secret_paths
        .insert("vezgo".to_owned(), TOKEN.to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = start(config, listener).await.err().expect("refused");
    assert!(err.to_string().contains("not mounted"), "{err}");
}
