//! Snapshots of what the emitters write for a small fixture spec that exercises every
//! path (nested payload with error shape, shape variants, open and closed enums, keyword
//! and camelCase fields, optional/nullable combinations, time and decimal types, a type
//! whose name an event also wants). A reviewer sees every change to generated output.

use hookspec_codegen::{emit_rust, ir};

fn fixture() -> ir::Provider {
    let text = include_str!("../fixtures/emit-fixture.yaml");
    let spec = hookspec_codegen::load_str("fixtures/emit-fixture.yaml", text)
        .unwrap_or_else(|e| panic!("{e}"));
    ir::lower(&spec)
}

#[test]
fn rust_module() {
    insta::assert_snapshot!(emit_rust::provider_module(&fixture()));
}

#[test]
fn naming_is_resolved_once_and_stably() {
    let p = fixture();
    let names: Vec<&str> = p.types.iter().map(|t| t.name()).collect();
    // The event keeps `Changed`; the shared type that wanted it is renamed.
    assert!(
        names.contains(&"Changed") && names.contains(&"ChangedType"),
        "{names:?}"
    );
    // Identical inline `account` objects in two events are emitted once.
    assert_eq!(
        names.iter().filter(|n| n.contains("Account")).count(),
        1,
        "{names:?}"
    );
    assert_eq!(fixture(), p, "lowering is deterministic");
    let changed = p.types.iter().find_map(|t| match t {
        ir::TypeDef::Struct(s) if s.name == "ChangedData" => Some(s),
        _ => None,
    });
    let fields: Vec<&str> = changed
        .unwrap()
        .fields
        .iter()
        .map(|f| f.rust.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "r#type",
            "self_",
            "login_name",
            "amount",
            "on",
            "status",
            "tags",
            "account",
            "previous"
        ]
    );
    let arm = &p.dispatch[0];
    assert_eq!((arm.variants.as_slice(), arm.default), (&[1][..], Some(0)));
}

#[test]
fn schemas() {
    let p = fixture();
    for out in hookspec_codegen::emit_schema::provider_schemas(&p) {
        let name = out
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".schema.json", "");
        insta::assert_snapshot!(format!("schema_{name}"), out.contents);
    }
}
