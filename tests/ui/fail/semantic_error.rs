mod qmp {
    qapi_macros::include_schema!("ui/schemas/semantic.json", mode = "server");
}

fn main() {}
