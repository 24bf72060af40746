qapi_macros::include_schema!(schema = "ui/schemas/valid.json");

fn main() {}
