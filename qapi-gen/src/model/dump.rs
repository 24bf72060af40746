//! The resolved model as QEMU's schema tests print it (`tests/qapi-schema/*.out`).
//!
//! The listing visits modules in order (`module NAME`), and in each its
//! include directives and entities: enums with their values, object types
//! with base, local members and branches, alternates, array types (those
//! the schema introduced), commands and events, each followed by its `if`
//! condition and features. Built-in types other than `q_empty` and `QType`
//! are left out. Then every documentation block: body, member and feature
//! descriptions, and the other sections.

use std::fmt::Write;

use super::{Branch, Cond, Entity, EntityKind, Feature, ModuleItem, Schema};

/// Renders `schema` in the listing format of QEMU's `test-qapi.py`.
pub fn dump(schema: &Schema) -> String {
    let mut out = String::new();
    for module in schema.modules() {
        line(&mut out, format_args!("module {}", module.name));
        for item in &module.items {
            match item {
                ModuleItem::Include { module, .. } => {
                    let name = schema.modules().get(module.index()).map_or("", |m| &m.name);
                    line(&mut out, format_args!("include {name}"));
                }
                ModuleItem::Entity(id) => {
                    if let Some(e) = schema.get(*id) {
                        entity(&mut out, schema, e);
                    }
                }
            }
        }
    }
    for doc in schema.docs() {
        match &doc.symbol {
            Some(s) => line(&mut out, format_args!("doc symbol={s}")),
            None => line(&mut out, format_args!("doc freeform")),
        }
        line(&mut out, format_args!("    body=\n{}", doc.body.text));
        for (name, s) in &doc.args {
            line(&mut out, format_args!("    arg={name}\n{}", s.text));
        }
        for (name, s) in &doc.features {
            line(&mut out, format_args!("    feature={name}\n{}", s.text));
        }
        for s in &doc.sections {
            line(&mut out, format_args!("    section={}\n{}", s.kind.as_str(), s.text));
        }
    }
    out
}

fn line(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
    out.push('\n');
}

fn type_name(schema: &Schema, id: super::EntityId) -> &str {
    schema.get(id).map_or("None", |e| e.name.as_str())
}

fn entity(out: &mut String, schema: &Schema, e: &Entity) {
    match &e.kind {
        EntityKind::Builtin(_) => return,
        EntityKind::Enum(en) => {
            line(out, format_args!("enum {}", e.name));
            if let Some(p) = &en.prefix {
                line(out, format_args!("    prefix {p}"));
            }
            for v in &en.values {
                line(out, format_args!("    member {}", v.name));
                cond(out, &v.cond, 8);
                features(out, &v.features, 8);
            }
        }
        EntityKind::Array(a) => {
            // Arrays of built-in types are built-in themselves.
            if e.span.is_none() {
                return;
            }
            line(out, format_args!("array {} {}", e.name, type_name(schema, a.element)));
        }
        EntityKind::Object(o) => {
            line(out, format_args!("object {}", e.name));
            if let Some(b) = o.base {
                line(out, format_args!("    base {}", type_name(schema, b)));
            }
            for m in &o.local_members {
                line(
                    out,
                    format_args!("    member {}: {} optional={}", m.name, type_name(schema, m.ty), py_bool(m.optional)),
                );
                cond(out, &m.cond, 8);
                features(out, &m.features, 8);
            }
            if let Some(b) = &o.branches {
                branches(out, schema, &b.tag.name, &b.branches);
            }
        }
        EntityKind::Alternate(a) => {
            line(out, format_args!("alternate {}", e.name));
            branches(out, schema, "type", &a.branches);
        }
        EntityKind::Command(c) => {
            line(
                out,
                format_args!(
                    "command {} {} -> {}",
                    e.name,
                    c.arg_type.map_or("None", |t| type_name(schema, t)),
                    c.ret_type.map_or("None", |t| type_name(schema, t)),
                ),
            );
            line(
                out,
                format_args!(
                    "    gen={} success_response={} boxed={} oob={} preconfig={}{}",
                    py_bool(c.gen),
                    py_bool(c.success_response),
                    py_bool(c.boxed),
                    py_bool(c.allow_oob),
                    py_bool(c.allow_preconfig),
                    if c.coroutine { " coroutine=True" } else { "" },
                ),
            );
        }
        EntityKind::Event(ev) => {
            line(out, format_args!("event {} {}", e.name, ev.arg_type.map_or("None", |t| type_name(schema, t))));
            line(out, format_args!("    boxed={}", py_bool(ev.boxed)));
        }
    }
    cond(out, &e.cond, 4);
    features(out, &e.features, 4);
}

fn branches(out: &mut String, schema: &Schema, tag: &str, list: &[Branch]) {
    line(out, format_args!("    tag {tag}"));
    for b in list {
        line(out, format_args!("    case {}: {}", b.name, type_name(schema, b.ty)));
        cond(out, &b.cond, 8);
    }
}

fn features(out: &mut String, list: &[Feature], indent: usize) {
    for f in list {
        line(out, format_args!("{:indent$}feature {}", "", f.name));
        cond(out, &f.cond, indent + 4);
    }
}

fn cond(out: &mut String, c: &Option<Cond>, indent: usize) {
    if let Some(c) = c {
        let text = match c {
            Cond::Name(n) => n.clone(),
            other => other.to_python(),
        };
        line(out, format_args!("{:indent$}if {text}", ""));
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_print_as_python_values() {
        let c =
            Cond::Not(Box::new(Cond::Any(vec![Cond::Not(Box::new(Cond::Name("A".into()))), Cond::Name("B".into())])));
        assert_eq!(c.to_python(), "{'not': {'any': [{'not': 'A'}, 'B']}}");
        let mut out = String::new();
        cond(&mut out, &Some(Cond::Name("X".into())), 8);
        assert_eq!(out, "        if X\n");
    }
}
