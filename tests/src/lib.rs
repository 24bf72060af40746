//! Tests of the Rust code `qapi-gen` generates, and of its three entry
//! points: the `qapi_gen::Builder` build-script API, the
//! `qapi_macros::include_schema!` macro and `qapi-gen generate`.
//!
//! The library itself holds generated code, so that building this crate
//! (and running clippy on it) checks that the code compiles without a
//! warning:
//!
//! - [`fixture`]: what `build.rs` generates with `qapi_gen::Builder`;
//! - [`golden`]: the golden files, each compared with what the generator
//!   makes of its schema by `tests/golden.rs`.
//!
//! ```
//! use qapi_tests::golden::enums::Color;
//!
//! assert_eq!(Color::LightGreen.as_str(), "light-green");
//! assert_eq!(Color::from_wire("blue-2"), Some(Color::Blue2));
//! ```

/// The code `build.rs` generates from `fixtures/build/qapi-schema.json`
/// (which includes `fixtures/build/sub/common.json`).
#[deny(warnings)]
pub mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.rs"));
}

/// The golden files under `golden/`: `NAME.rs` is the code generated for
/// `NAME.json` with default options, `NAME.VARIANT.rs` with the options
/// `tests/golden.rs` gives that variant. Every golden file must be
/// included here (the test checks it) so that it is compiled, warnings
/// denied.
#[deny(warnings)]
pub mod golden {
    /// `golden/alternates.json`.
    pub mod alternates {
        include!("../golden/alternates.rs");
    }

    /// `golden/commands.json`.
    pub mod commands {
        include!("../golden/commands.rs");
    }

    /// `golden/commands.json` in server mode.
    pub mod commands_server {
        include!("../golden/commands.server.rs");
    }

    /// `golden/conditions.json`, every condition true.
    pub mod conditions {
        include!("../golden/conditions.rs");
    }

    /// `golden/conditions.json` with conditions as `#[cfg]` attributes.
    pub mod conditions_cfg {
        include!("../golden/conditions.cfg.rs");
    }

    /// `golden/conditions.json` with only `CONFIG_VNC` defined.
    pub mod conditions_defined {
        include!("../golden/conditions.defined.rs");
    }

    /// `golden/enums.json`.
    pub mod enums {
        include!("../golden/enums.rs");
    }

    /// `golden/enums.json` in server mode.
    pub mod enums_server {
        include!("../golden/enums.server.rs");
    }

    /// `golden/events.json`.
    pub mod events {
        include!("../golden/events.rs");
    }

    /// `golden/features.json`.
    pub mod features {
        include!("../golden/features.rs");
    }

    /// `golden/features.json` with unstable items gated.
    pub mod features_gated {
        include!("../golden/features.gated.rs");
    }

    /// `golden/structs.json`.
    pub mod structs {
        include!("../golden/structs.rs");
    }

    /// `golden/unions.json`.
    pub mod unions {
        include!("../golden/unions.rs");
    }
}
