//! Commands and events: `Command` / `Event` impls, the `Event` enum, the
//! server trait and its dispatcher, written as laid-out text.

use super::layout::{call, impl_open, t, try_, ty, Arm, Body, Link, St, Unit, X};
use super::text::{str_lit, w, Code};
use super::types::{deserialize_sig, serialize_sig};
use super::{doc, names, Cx, GenError, Head, Owner};
use crate::model::{Command, Entity, EntityId, Event};

/// A function signature line, laid out, and one level in.
fn fn_open(code: &mut Code, head: &str, params: &[X], ret: Option<&X>) {
    Unit::new().sig(head, params, ret).put(code);
    code.indent_in();
}

/// `type name = ty;` in an impl.
fn assoc_type(code: &mut Code, name: &str, ty_text: &str) {
    Unit::new().cbox(4).s("type ").s(name).s(" = ").never().ibox(-4).ty(ty_text).end().s(";").end().put(code);
}

/// The flags of a command, as the fields of a `CommandFlags` literal.
fn flags(code: &mut Code, c: &Command) {
    w!(code, "boxed: {},", c.boxed);
    w!(code, "allow_oob: {},", c.allow_oob);
    w!(code, "success_response: {},", c.success_response);
    w!(code, "allow_preconfig: {},", c.allow_preconfig);
    w!(code, "coroutine: {},", c.coroutine);
}

impl Cx<'_> {
    /// The conditions of a command or event: its own and its types'.
    fn api_pred(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<Option<String>> {
        let mut conds = vec![e.cond.as_ref()];
        let mut unstable = self.has_feature(&e.features, "unstable");
        for t in types.iter().flatten() {
            conds.push(self.type_cond(*t));
            unstable |= self.type_unstable(*t);
        }
        self.pred(&conds, unstable)
    }

    /// The `#[cfg]` of a command or event (empty when unconditional), or
    /// `None` when it is not generated.
    fn api_guard(&self, e: &Entity, types: &[Option<EntityId>]) -> Option<String> {
        self.api_pred(e, types).map(|p| p.map(|p| format!("#[cfg({p})]")).unwrap_or_default())
    }

    /// The arguments type of a command.
    fn args_ty(&self, c: &Command) -> String {
        match c.arg_type {
            None => "qapi_rt_::NoArguments".to_owned(),
            Some(a) => self.name(a),
        }
    }

    fn returns_ty(&self, c: &Command) -> String {
        match c.ret_type {
            None => "qapi_rt_::Empty".to_owned(),
            Some(r) => self.ty(r),
        }
    }

    pub(super) fn command(&self, e: &Entity, c: &Command) -> Result<String, GenError> {
        let Some(guard) = self.api_guard(e, &[c.arg_type, c.ret_type]) else { return Ok(String::new()) };
        let name = self.name(e.id);
        let dep = self.deprecated(&e.features);
        let mut code = Code::new();
        if let Some(a) = c.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Command(_)))) {
            let ae = &self.schema[a];
            if let Some(obj) = ae.as_object() {
                let mut lines = vec![format!("The arguments of command `{}`.", doc::prose(&e.name))];
                if let Some(since) = self.since_of(e) {
                    lines.push(String::new());
                    lines.push(format!("*Since: {}*", doc::prose(&since)));
                }
                let head = Head { guard: guard.clone(), docs: lines, dep: dep.clone() };
                let mut item_entity = ae.clone();
                item_entity.doc = e.doc.clone();
                let item = if c.gen {
                    self.struct_item(&item_entity, obj, &self.name(a), &head)?
                } else {
                    self.open_struct_item(&item_entity, obj, &self.name(a), &head)?
                };
                code.items(&item);
            }
        }
        code.item();
        code.docs(&self.entity_docs(e));
        code.attr(&guard);
        code.attr(&dep);
        code.line("#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]");
        w!(code, "pub struct {name};");

        impl_open(&mut code, &mut Unit::new(), &guard, true, "", Some("qapi_rt_::Command"), &name);
        w!(code, "const NAME: &'static str = {};", str_lit(&e.name));
        code.open("const FLAGS: qapi_rt_::CommandFlags = qapi_rt_::CommandFlags");
        flags(&mut code, c);
        code.close(";");
        assoc_type(&mut code, "Arguments", &self.args_ty(c));
        assoc_type(&mut code, "Returns", &self.returns_ty(c));
        code.close("");
        Ok(code.finish())
    }

    /// The Rust name of an event's payload type.
    pub(super) fn event_payload(&self, e: &Entity, ev: &Event) -> String {
        match ev.arg_type.filter(|a| matches!(self.owners.get(a), Some(Owner::Event(_)))) {
            Some(a) => self.name(a),
            None => self.name(e.id),
        }
    }

    pub(super) fn event(&self, e: &Entity, ev: &Event) -> Result<String, GenError> {
        let Some(guard) = self.api_guard(e, &[ev.arg_type]) else { return Ok(String::new()) };
        let name = self.event_payload(e, ev);
        let dep = self.deprecated(&e.features);
        let mut code = Code::new();
        match ev.arg_type {
            Some(a) if matches!(self.owners.get(&a), Some(Owner::Event(_))) => {
                let ae = &self.schema[a];
                if let Some(obj) = ae.as_object() {
                    let mut item_entity = ae.clone();
                    item_entity.doc = e.doc.clone();
                    let head = Head { guard: guard.clone(), docs: self.entity_docs(e), dep: dep.clone() };
                    code.items(&self.struct_item(&item_entity, obj, &self.name(a), &head)?);
                }
            }
            Some(a) => {
                code.item();
                code.docs(&self.entity_docs(e));
                code.attr(&guard);
                code.attr(&dep);
                code.line("#[derive(Debug, Clone, PartialEq)]");
                code.line("#[allow(deprecated)]");
                // Laid out as a call: `pub struct Name(` and the field.
                let field = self.ty(a);
                let item =
                    X::Call(Box::new(t(format!("pub struct {name}"))), vec![X::Pre("pub ", Box::new(ty(&field)))]);
                code.stmt(&St::Expr { attr: None, x: item, semi: true });
                newtype_impls(&mut code, &guard, &name);
            }
            None => {
                code.item();
                code.docs(&self.entity_docs(e));
                code.attr(&guard);
                code.attr(&dep);
                code.line("#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]");
                w!(code, "pub struct {name} {{}}");
                self.empty_struct_impls(&mut code, &guard, &name);
            }
        }
        let variant = names::ident(&names::camel(&e.name));
        impl_open(&mut code, &mut Unit::new(), &guard, true, "", Some("qapi_rt_::Event"), &name);
        w!(code, "const NAME: &'static str = {};", str_lit(&e.name));
        code.line("type Data = Self;");
        code.close("");

        let from = X::Angle("::core::convert::From".into(), vec![t(name.as_str())]);
        impl_open(&mut code, &mut Unit::new(), &guard, true, "", Some(&from), "Event");
        code.line("#[inline]");
        fn_open(&mut code, "fn from", &[t(format!("event: {name}"))], Some(&t("Self")));
        code.stmt(&St::Expr { attr: None, x: call(format!("Event::{variant}"), vec![t("event")]), semi: false });
        code.close("");
        code.close("");
        Ok(code.finish())
    }

    /// The `Event` enum over every event.
    pub(super) fn event_enum(&self, code: &mut Code) -> Result<(), GenError> {
        let mut seen = std::collections::HashMap::new();
        let mut events = Vec::new();
        for (e, ev) in self.schema.events() {
            let Some(pred) = self.api_pred(e, &[ev.arg_type]) else { continue };
            let text = names::camel(&e.name);
            if let Some(first) = seen.insert(text.clone(), e.name.clone()) {
                return Err(GenError::Clash {
                    rust: text,
                    first: format!("event '{first}'"),
                    second: format!("event '{}'", e.name),
                    scope: " in enum Event".into(),
                });
            }
            let guard = pred.map(|p| format!("#[cfg({p})]")).unwrap_or_default();
            let variant = names::ident(&text);
            events.push((e, ev, guard, variant, self.event_payload(e, ev), str_lit(&e.name)));
        }
        let fallback = if seen.contains_key("Unknown") { "UnknownEvent" } else { "Unknown" };

        code.item();
        code.line("/// An event of the schema, or one this side does not know.");
        code.line("#[derive(Debug, Clone, PartialEq)]");
        code.line("#[allow(clippy::large_enum_variant, deprecated)]");
        code.open("pub enum Event");
        for (e, _, guard, variant, payload, _) in &events {
            code.docs(&[format!("`{}`", e.name)]);
            code.attr(guard);
            code.attr(&self.deprecated(&e.features));
            Unit::new().x(&call(variant.as_str(), vec![t(payload.as_str())])).s(",").put(code);
        }
        code.line("/// An event this side does not know: its name and data, as");
        code.line("/// received.");
        code.open(fallback);
        code.line("/// The event's name.");
        code.line("name: String_,");
        code.line("/// Its data, if it has any.");
        code.line("data: Option_<qapi_rt_::serde_json::Value>,");
        code.close(",");
        code.close("");

        code.item();
        code.line("#[allow(deprecated)]");
        code.open("impl Event");
        code.line("/// The event's wire name.");
        code.open("pub fn name(&self) -> &str");
        code.open("match *self");
        for (_, _, guard, variant, _, wire) in &events {
            let arm = Arm {
                attr: guard,
                pat: call(format!("Self::{variant}"), vec![t("_")]),
                body: Body::Expr(t(wire.as_str())),
            };
            code.arm(&arm);
        }
        w!(code, "Self::{fallback} {{ ref name, .. }} => name,");
        code.close("");
        code.close("");

        code.line("/// Decodes an event from an event message's `event` and `data`;");
        code.line("/// an event this code doesn't know is kept as it is.");
        code.line("///");
        code.line("/// # Errors");
        code.line("///");
        code.line("/// When the data of a known event doesn't decode: the error");
        code.line("/// names the member at fault.");
        code.line("#[inline]");
        code.line("pub fn decode(");
        code.line("    name: &str,");
        code.line("    data: Option_<qapi_rt_::serde_json::Value>,");
        code.open(") -> Result_<Self, qapi_rt_::Error>");
        let unknown = call(
            "Result_::Ok",
            vec![X::Struct(
                format!("Self::{fallback}").into(),
                vec![
                    ("name".into(), Some(call("::std::borrow::ToOwned::to_owned", vec![t("name")]))),
                    ("data".into(), None),
                ],
            )],
        );
        if events.is_empty() {
            code.stmt(&St::Expr { attr: None, x: unknown, semi: false });
        } else {
            code.open("match name");
            for (_, _, guard, variant, _, wire) in &events {
                let decoded = try_(call("qapi_rt_::types::decode_data", vec![t("data")]));
                let arm = Arm {
                    attr: guard,
                    pat: t(wire.as_str()),
                    body: Body::Expr(call("Result_::Ok", vec![call(format!("Self::{variant}"), vec![decoded])])),
                };
                code.arm(&arm);
            }
            code.arm(&Arm { attr: "", pat: t("_"), body: Body::Expr(unknown) });
            code.close("");
        }
        code.close("");

        code.line("/// The event's name and data (`None` for an event without");
        code.line("/// data), for an event message.");
        code.line("///");
        code.line("/// # Errors");
        code.line("///");
        code.line("/// When the data doesn't serialize (it always does for the");
        code.line("/// generated types).");
        code.line("#[inline]");
        code.line("pub fn encode(");
        code.line("    &self,");
        code.line(") -> Result_<");
        code.line("    (&str, Option_<qapi_rt_::serde_json::Value>),");
        code.line("    qapi_rt_::serde_json::Error,");
        code.open(">");
        code.line("Result_::Ok(");
        code.indent_in();
        code.open("match *self");
        for (_, ev, guard, variant, _, wire) in &events {
            let data = if ev.arg_type.is_some() {
                call("Option_::Some", vec![try_(call("qapi_rt_::serde_json::to_value", vec![t("payload")]))])
            } else {
                X::Block(vec![
                    St::Lines(vec!["let _ = payload;".into()]),
                    St::Expr { attr: None, x: t("Option_::None"), semi: false },
                ])
            };
            let arm = Arm {
                attr: guard,
                pat: call(format!("Self::{variant}"), vec![t("ref payload")]),
                body: Body::Expr(X::Tuple(vec![t(wire.as_str()), data])),
            };
            code.arm(&arm);
        }
        code.open(&format!("Self::{fallback} {{ ref name, ref data }} =>"));
        code.line("(name.as_str(), ::core::clone::Clone::clone(data))");
        code.close("");
        code.close(",");
        code.indent_out();
        code.line(")");
        code.close("");
        code.close("");
        Ok(())
    }

    /// The server trait and the dispatcher.
    pub(super) fn server(&self, code: &mut Code) -> Result<(), GenError> {
        let mut seen = std::collections::HashMap::new();
        let mut commands = Vec::new();
        for (e, c) in self.schema.commands() {
            let Some(pred) = self.api_pred(e, &[c.arg_type, c.ret_type]) else { continue };
            let text = names::snake(&e.name);
            if let Some(first) = seen.insert(text.clone(), e.name.clone()) {
                return Err(GenError::Clash {
                    rust: text,
                    first: format!("command '{first}'"),
                    second: format!("command '{}'", e.name),
                    scope: " in trait CommandServer".into(),
                });
            }
            commands.push((e, c, pred, names::ident(&text), str_lit(&e.name)));
        }

        code.item();
        code.line("/// The schema's commands as a server implements them: one method");
        code.line("/// per command. A method not implemented answers");
        code.line("/// `CommandNotFound`, so a server implements what it supports.");
        code.line("#[allow(deprecated)]");
        let head = "pub trait CommandServer: ::core::marker::Send + ::core::marker::Sync + 'static";
        if commands.is_empty() {
            w!(code, "{head} {{}}");
        } else {
            code.open(head);
        }
        for (e, c, pred, ident, wire) in &commands {
            code.docs(&self.entity_docs(e));
            code.attr(&pred.as_ref().map(|p| format!("#[cfg({p})]")).unwrap_or_default());
            code.attr(&self.deprecated(&e.features));
            let ret_ty = self.returns_ty(c);
            let ret = X::Angle("Result_".into(), vec![ty(&ret_ty), t("qapi_rt_::Error")]);
            let mut params = vec![t("&self")];
            if c.arg_type.is_some() {
                params.push(t(format!("arguments: {}", self.args_ty(c))));
            }
            fn_open(code, &format!("fn {ident}"), &params, Some(&ret));
            if c.arg_type.is_some() {
                code.line("let _ = arguments;");
            }
            let err = call("Result_::Err", vec![call("qapi_rt_::Error::command_not_found", vec![t(wire.as_str())])]);
            code.stmt(&St::Expr { attr: None, x: err, semi: false });
            code.close("");
        }
        if !commands.is_empty() {
            code.close("");
        }

        code.item();
        code.line("/// Runs the commands of a `CommandServer`: decodes arguments");
        code.line("/// (errors name the member at fault, as QEMU words them), calls");
        code.line("/// the method and encodes what it returns.");
        code.line("#[derive(Debug, Clone, Default)]");
        code.line("pub struct CommandDispatcher<S>(pub S);");

        code.item();
        code.line("#[allow(deprecated)]");
        code.open("impl<S: CommandServer> qapi_rt_::dispatch::Dispatcher for CommandDispatcher<S>");
        code.open("fn commands(&self) -> &[qapi_rt_::dispatch::CommandInfo]");
        code.line("static COMMANDS: ::std::sync::OnceLock<");
        code.line("    ::std::vec::Vec<qapi_rt_::dispatch::CommandInfo>,");
        code.line("> = ::std::sync::OnceLock::new();");
        code.line("COMMANDS");
        code.indent_in();
        code.open(".get_or_init(||");
        if commands.is_empty() {
            code.line("let all: &[(bool, qapi_rt_::dispatch::CommandInfo)] = &[];");
        } else {
            code.line("let all: &[(bool, qapi_rt_::dispatch::CommandInfo)] = &[");
            code.indent_in();
            for (_, c, pred, _, wire) in &commands {
                code.line("(");
                code.indent_in();
                let on = match pred {
                    Some(p) => X::Mac("cfg", p.as_str().into()),
                    None => t("true"),
                };
                Unit::new().x(&on).s(",").put(code);
                code.open("qapi_rt_::dispatch::CommandInfo");
                w!(code, "name: {wire},");
                code.open("flags: qapi_rt_::CommandFlags");
                flags(code, c);
                code.close(",");
                code.close(",");
                code.indent_out();
                code.line("),");
            }
            code.indent_out();
            code.line("];");
        }
        code.line("all.iter().filter(|c| c.0).map(|c| c.1).collect()");
        code.close(")");
        code.indent_out();
        code.close("");

        code.line("fn dispatch(");
        code.line("    &self,");
        code.line("    name: &str,");
        code.line("    arguments: Option_<qapi_rt_::serde_json::Value>,");
        code.open(") -> Result_<qapi_rt_::serde_json::Value, qapi_rt_::Error>");
        // A schema without commands gets no `match` (clippy: match_single_binding).
        if commands.is_empty() {
            code.line("let _ = arguments;");
            code.line("Result_::Err(qapi_rt_::Error::command_not_found(name))");
        } else {
            code.open("match name");
            for (_, c, pred, ident, wire) in &commands {
                let guard = pred.as_ref().map(|p| format!("#[cfg({p})]")).unwrap_or_default();
                let body = if c.arg_type.is_some() {
                    let decoded = try_(call("qapi_rt_::dispatch::decode_arguments", vec![t("arguments")]));
                    let method = X::Chain(
                        "self".into(),
                        vec![Link::Field("0".into()), Link::Method(ident.as_str().into(), vec![decoded])],
                    );
                    Body::Expr(call("qapi_rt_::types::encode_return", vec![try_(method)]))
                } else {
                    let decode = X::Call(
                        Box::new(X::Angle(
                            "qapi_rt_::dispatch::decode_arguments::".into(),
                            vec![t("qapi_rt_::NoArguments")],
                        )),
                        vec![t("arguments")],
                    );
                    let method = X::Chain(
                        "self".into(),
                        vec![Link::Field("0".into()), Link::Method(ident.as_str().into(), vec![])],
                    );
                    Body::Block(vec![
                        St::Expr { attr: None, x: try_(decode), semi: true },
                        St::Expr {
                            attr: None,
                            x: call("qapi_rt_::types::encode_return", vec![try_(method)]),
                            semi: false,
                        },
                    ])
                };
                code.arm(&Arm { attr: &guard, pat: t(wire.as_str()), body });
            }
            code.open("_ =>");
            code.line("let _ = arguments;");
            code.line("Result_::Err(qapi_rt_::Error::command_not_found(name))");
            code.close("");
            code.close("");
        }
        code.close("");
        code.close("");
        Ok(())
    }
}

/// `Serialize` and `Deserialize` for the payload of an event whose data is
/// a named type, as serde's derive makes them for a newtype struct: JSON
/// has the inner value.
fn newtype_impls(code: &mut Code, guard: &str, name: &str) {
    let u = &mut Unit::new();
    impl_open(code, u, guard, true, "", Some("qapi_rt_::serde::Serialize"), name);
    serialize_sig(code);
    let lit = str_lit(name);
    let x = X::Chain(
        "serializer".into(),
        vec![Link::Method("serialize_newtype_struct".into(), vec![t(lit.as_str()), t("&self.0")])],
    );
    code.stmt(&St::Expr { attr: None, x, semi: false });
    code.close("");
    code.close("");

    impl_open(code, u, guard, true, "<'de>", Some("qapi_rt_::serde::Deserialize<'de>"), name);
    deserialize_sig(code);
    code.line("qapi_rt_::serde::Deserialize::deserialize(deserializer).map(Self)");
    code.close("");
    code.close("");
}
