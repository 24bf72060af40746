qapi_macros::include_schema!("ui/schemas/does-not-exist.json");

fn main() {}
