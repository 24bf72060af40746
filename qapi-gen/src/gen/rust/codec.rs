//! The JSON codec impls (`Options::json_codec`): `Encode`,
//! `EncodeMembers` and `Decode` of `qapi_runtime::json` for every type.
//!
//! Structs and enums get code of their own, the hot path of QMP replies;
//! unions and alternates go through their serde impls inside the codec,
//! which keeps their QEMU dispatch rules in one place.

use super::layout::{call, impl_open, t, Link, St, Unit, X};
use super::text::{str_lit, w, Code};
use super::types::{read_arm, slot_lets, struct_lit, wire_names, Field, Init};
use super::Cx;

/// `fn decode(r: &mut Reader<'_>) -> Result_<Self, Error> {`, one level in.
fn decode_sig(c: &mut Code, u: &mut Unit) {
    u.sig("fn decode", &[("r", "&mut qapi_rt_::json::Reader<'_>")], Some("Result_<Self, qapi_rt_::json::Error>"))
        .put(c);
    c.indent_in();
}

/// `fn encode(&self, out: &mut Vec<u8>) {`, one level in.
fn encode_sig(c: &mut Code, name: &str) {
    w!(c, "fn {name}(&self, out: &mut ::std::vec::Vec<u8>) {{");
    c.indent_in();
}

/// `impl Encode for name` whose `encode` is the one line `body`.
fn encode_impl(c: &mut Code, u: &mut Unit, guard: &str, name: &str, body: &str) {
    impl_open(c, u, guard, true, "", Some("qapi_rt_::json::Encode"), name);
    encode_sig(c, "encode");
    c.line(body);
    c.close("");
    c.close("");
}

/// The string literal of a member's `,"name":` as the codec writes it.
fn key_lit(wire: &str) -> String {
    let json = serde_json::to_string(wire).unwrap_or_else(|_| format!("\"{wire}\""));
    str_lit(&format!(",{json}:"))
}

impl Cx<'_> {
    /// The codec impls of a struct of `fields`.
    pub(super) fn codec_struct(&self, c: &mut Code, u: &mut Unit, name: &str, guard: &str, fields: &[Field]) {
        encode_impl(c, u, guard, name, "qapi_rt_::json::encode_object(self, out)");

        impl_open(c, u, guard, true, "", Some("qapi_rt_::json::EncodeMembers"), name);
        if fields.is_empty() {
            c.line("fn encode_members(&self, _out: &mut ::std::vec::Vec<u8>) {}");
        } else {
            encode_sig(c, "encode_members");
            if fields.iter().any(|f| !f.guard.is_empty()) {
                // Every member may be configured out.
                c.line("let _ = &out;");
            }
            for f in fields {
                let write = if f.optional { "qapi_rt_::json::write_optional" } else { "qapi_rt_::json::write_member" };
                let value = X::Pre("&", Box::new(X::Chain("self".into(), vec![Link::Field(f.ident.as_str().into())])));
                let x = call(write, vec![t("out"), t(key_lit(&f.wire)), value]);
                let attr = (!f.guard.is_empty()).then(|| f.guard.as_str().into());
                c.stmt(&St::Expr { attr, x, semi: true });
            }
            c.close("");
        }
        c.close("");

        impl_open(c, u, guard, true, "", Some("qapi_rt_::json::Decode"), name);
        decode_sig(c, u);
        let strict = self.strict();
        if fields.is_empty() {
            w!(c, "qapi_rt_::json::empty_object(r, {strict})?;");
            w!(c, "Result_::Ok({name} {{}})");
            c.close("");
            c.close("");
            return;
        }
        wire_names(c, u, "const MEMBERS: &[&str] = ", fields);
        // For a member out of schema order: a `match` jumps on the name's
        // length and compares a name or two, where searching MEMBERS
        // would compare lengths one by one.
        c.line("fn index_(name: &str) -> Option_<usize> {");
        c.indent_in();
        c.line("match name {");
        c.indent_in();
        for (i, f) in fields.iter().enumerate() {
            u.ibox(0).s(&f.lit).arm_open().s("Option_::Some").args().s(&i.to_string()).close().arm_close(false);
            u.put(c);
        }
        c.line("_ => Option_::None,");
        c.close("");
        c.close("");
        slot_lets(c, u, fields);
        w!(c, "let mut members = qapi_rt_::json::Members::new(r, MEMBERS, index_, {strict})?;");
        c.line("while let Option_::Some(i) = members.next(r)? {");
        c.indent_in();
        c.line("match i {");
        c.indent_in();
        for (i, f) in fields.iter().enumerate() {
            read_arm(c, u, &f.guard, i, &f.lit);
        }
        c.line("_ => members.unavailable(r, i)?,");
        c.close("");
        c.close("");
        u.ibox(0).s("Result_::Ok(");
        struct_lit(u, name, fields.iter().enumerate().map(|(i, f)| (f, Init::Read(i))), None);
        u.s(")").end().put(c);
        c.close("");
        c.close("");
    }

    /// The codec impls of an enum; `fallback` is the variant keeping
    /// unknown values (client mode).
    pub(super) fn codec_enum(&self, c: &mut Code, u: &mut Unit, name: &str, guard: &str, fallback: Option<&str>) {
        encode_impl(c, u, guard, name, "qapi_rt_::json::write_str(out, self.as_str())");

        impl_open(c, u, guard, true, "", Some("qapi_rt_::json::Decode"), name);
        decode_sig(c, u);
        let keep = match fallback {
            Some(f) => call("Option_::Some", vec![t(format!("Self::{f}"))]),
            None => t("Option_::None"),
        };
        let x = call("qapi_rt_::json::read_enum", vec![t("r"), t("Self::from_wire"), keep]);
        c.stmt(&St::Expr { attr: None, x, semi: false });
        c.close("");
        c.close("");
    }

    /// The codec impls of a type whose serde impls do the work (unions,
    /// alternates).
    pub(super) fn codec_via_serde(&self, c: &mut Code, u: &mut Unit, name: &str, guard: &str) {
        encode_impl(c, u, guard, name, "qapi_rt_::json::write_serde(out, self)");

        impl_open(c, u, guard, true, "", Some("qapi_rt_::json::Decode"), name);
        decode_sig(c, u);
        c.line("qapi_rt_::json::read_serde(r)");
        c.close("");
        c.close("");
    }
}
