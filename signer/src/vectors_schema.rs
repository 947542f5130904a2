//! The JSON Schema (2020-12) of the test-vector files, written beside them so a verifier in
//! any language can read them without reading our code: what every field holds, how the
//! spec's scheme is written (durations, windows, optional schemes, entry formats) and what
//! each expected error means.

use hookspec_runtime::verify::ERROR_KINDS;
use serde_json::{json, Value};

/// The schema's file name, which every vector file names in `$schema`.
pub const VECTORS_SCHEMA_FILE: &str = "vectors.schema.json";

/// The schema of a `generated/test-vectors/<provider>.json` file.
pub fn vectors_schema() -> Value {
    let errors: Vec<Value> = ERROR_KINDS
        .iter()
        .map(|(kind, meaning)| json!({"const": kind, "description": meaning}))
        .collect();
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": VECTORS_SCHEMA_FILE,
        "title": "hookspec verification test vectors",
        "description": "Signed deliveries of one provider with the outcome a correct verifier reaches. Configure a verifier from test_material (source-address checks off), then judge each case at its own clock `now`: accept it, or refuse it with `expected.error` (and answer `expected.status`).",
        "type": "object",
        "required": ["description", "provider", "schemes", "test_material", "cases"],
        "additionalProperties": false,
        "properties": {
            "$schema": {"type": "string"},
            "description": {"type": "string"},
            "provider": {"type": "string", "description": "The spec's provider name (spec/<provider>.yaml)."},
            "schemes": {
                "type": "array",
                "description": "The provider's auth schemes exactly as the spec states them; every one applies to each delivery. Durations are text: a number and a unit (`30s`, `5m`, `24h`). A signature's `timestamp.window` is `both_ways` when absent (refuse timestamps further than `tolerance` from the clock either way) or `past_only` (refuse only old ones). `optional: true` marks a scheme checked only when its entry is present and the verifier holds its key. `format: {}` means the whole header value is one bare signature; `separator` splits entries, `label_separator` splits an entry's label from its value, and only entries labelled `scheme` are signatures. `key.encoding` says how the configured secret or public key is written (`utf8`: its text is the key; `base64`, `base64url`, `hex`: decode it; `pem`: a PEM block), after removing `key.strip_prefix` when present.",
                "items": {"type": "object"}
            },
            "test_material": {
                "type": "object",
                "description": "The keys the verifier is configured with. Made for these files from public labels: never use them for anything real.",
                "required": ["notice"],
                "additionalProperties": false,
                "properties": {
                    "notice": {"type": "string"},
                    "hmac_secrets": {"description": "HMAC secrets as the provider shows them (prefix and encoding included), newest first.", "$ref": "#/$defs/strings"},
                    "public_keys": {"description": "The provider's public keys as it shows them (Ed25519, ECDSA or RSA; encoding as the scheme's key says).", "$ref": "#/$defs/strings"},
                    "jwks": {"type": "array", "description": "JWKs a JWT scheme's key source serves; one with `expired_at` set has been retired.", "items": {"type": "object"}},
                    "authorization": {
                        "type": "object",
                        "description": "The Authorization value the provider sends.",
                        "required": ["scheme"],
                        "properties": {
                            "scheme": {"enum": ["basic", "bearer"]},
                            "user": {"type": "string"},
                            "password": {"type": "string"},
                            "token": {"type": "string"}
                        }
                    },
                    "client_ids": {"description": "Values the identifying header may carry.", "$ref": "#/$defs/strings"}
                }
            },
            "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}}
        },
        "$defs": {
            "strings": strings,
            "case": {
                "type": "object",
                "required": ["id", "description", "now", "headers", "body", "expected"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "description": "Stable kebab-case id: `valid`, an attack (`wrong-secret`, `tampered-body`, ...) or a case derived from the scheme for a common verifier mistake (`timestamp-at-tolerance`, `valid-entry-after-a-wrong-one`, `hex-in-the-other-case`, `secret-decoded-by-mistake`, ...)."},
                    "description": {"type": "string"},
                    "now": {"type": "integer", "description": "The verifier's clock for this case, in Unix seconds."},
                    "headers": {
                        "type": "array",
                        "description": "[name, value] pairs in the order sent; names compare case-insensitively.",
                        "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2}
                    },
                    "body": {"type": "string", "description": "The exact body bytes as UTF-8."},
                    "method": {"type": "string", "description": "The request method, present when a scheme signs it."},
                    "url": {"type": "string", "description": "The full URL the delivery was sent to, present when a scheme signs it."},
                    "hmac_secrets": {"description": "Secrets of this case's own, replacing test_material.hmac_secrets for it.", "$ref": "#/$defs/strings"},
                    "expected": {
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["accept"],
                                "additionalProperties": false,
                                "properties": {"accept": {"const": true}}
                            },
                            {
                                "type": "object",
                                "required": ["accept", "error", "status"],
                                "additionalProperties": false,
                                "properties": {
                                    "accept": {"const": false},
                                    "error": {"description": "Which check refuses it (a verifier in another language may name it differently, but must refuse).", "oneOf": errors},
                                    "status": {"type": "integer", "description": "The status hookspec's receivers answer (the provider's own refusal status can differ, see the spec's delivery.refusal)."}
                                }
                            }
                        ]
                    }
                }
            }
        }
    })
}
