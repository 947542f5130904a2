hookspec::provider!("tests/ui/no-such-spec.yaml");

fn main() {}
