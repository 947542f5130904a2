hookspec::provider!("tests/ui/broken.yaml");

fn main() {}
