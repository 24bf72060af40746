mod client {
    qapi_macros::include_schema!("ui/schemas/valid.json");
}

mod server {
    qapi_macros::include_schema!(
        "ui/schemas/valid.json",
        mode = "server",
        unstable = true,
        defined = ["CONFIG_X"],
        doc_style = "warn",
        runtime = "::qapi_runtime",
    );
}

fn main() {
    let size = client::Size { width: 640, height: 480 };
    assert_eq!(serde_json::to_string(&size).unwrap(), r#"{"width":640,"height":480}"#);
    // A client ignores members it doesn't know; a server refuses them.
    let extra = r#"{"width":1,"height":2,"depth":3}"#;
    assert!(serde_json::from_str::<client::Size>(extra).is_ok());
    assert!(serde_json::from_str::<server::Size>(extra).is_err());
}
