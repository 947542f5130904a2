//! The commented starting point `cargo xtask new-provider NAME` writes.

/// A spec for a new provider named `name` that already validates.
pub fn new_provider(name: &str) -> String {
    let title = name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    TEMPLATE
        .replace("__NAME__", name)
        .replace("__TITLE__", &title)
}

const TEMPLATE: &str = r#"# yaml-language-server: $schema=provider.schema.json
# A hookspec provider spec. Replace every value below with what the provider documents;
# where it documents nothing, keep an assumed value and say why under `delivery.assumed`.
# Check it with `cargo xtask generate --check` and `cargo xtask list-events`.
provider: __NAME__
title: __TITLE__
description: >-
  What the provider is and why it sends webhooks, in your own words.
docs:
  - https://example.com/docs/webhooks

delivery:
  method: POST
  content_type: application/json
  # Addresses the provider sends from; leave the list empty if it publishes none.
  source_ips: []
  # How long the provider waits for your response.
  timeout: 10s
  # `any2xx`, or `{only: [200]}` when only some statuses count.
  success: any2xx
  retry:
    # none | {exponential: {initial, factor, max_retries?, give_up_after?}}
    #      | {linear: {step, retries}} | {fixed: {delays: [...]}}
    schedule:
      exponential: {initial: 30s, factor: 2, max_retries: 5}
  # Each value above the provider does not document, with the reason for the guess.
  assumed:
    timeout: The provider does not document a timeout; 10 s is a common default.
    retry.schedule: The provider does not document its retries.

# How to tell a request really comes from the provider: authorization, signature, jwt or
# identifying_header entries. Empty means the provider offers no authentication.
auth:
  - signature:
      header: X-Signature
      algorithm: hmac-sha256
      encoding: hex-lower
      signed: "{body}"
      format: {}

# Top-level body fields whose values pick the event.
discriminator: [type]

envelope:
  fields:
    type: {type: string, description: Which event this is.}
    id: {type: string, description: Unique id of the event; use it to skip duplicates.}

# Shapes several events share; use them with `ref: Name`.
types: {}

events:
  - name: ThingCreated
    when: {type: thing.created}
    description: A thing was created.
    fields:
      thing_id: {type: string, description: The new thing.}
      amount: {type: decimal, required: false, description: Kept as exact decimal text.}
    # The provider's documented payloads, verbatim JSON; each must match the fields.
    examples:
      - |
        {"type": "thing.created", "id": "evt_1", "thing_id": "th_1", "amount": 12.50}
"#;
