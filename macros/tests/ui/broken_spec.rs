hookspec_macros::provider!("tests/ui/broken.yaml");

fn main() {}
