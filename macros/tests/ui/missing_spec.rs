hookspec_macros::provider!("tests/ui/no-such-spec.yaml");

fn main() {}
