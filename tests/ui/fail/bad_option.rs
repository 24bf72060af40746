qapi_macros::include_schema!(
    "ui/schemas/valid.json",
    modes = "client",
    mode = "browser",
    gate_unstable = "yes",
    cond = "cfg",
    defined = ["CONFIG_VNC"],
);

fn main() {}
