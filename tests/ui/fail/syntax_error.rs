qapi_macros::include_schema!("ui/schemas/syntax.json");

fn main() {}
