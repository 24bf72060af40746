//! The schema's `query-qmp-schema` value in generated code:
//! `QMP_SCHEMA_JSON` and `qmp_schema()`.
//!
//! The value is what [`crate::gen::introspect`] makes of the schema, so a
//! server built on the generated code answers `query-qmp-schema` exactly
//! as `qapi-gen introspect` prints it. Conditions follow the generator's
//! [`CondPolicy`]: evaluated at generation time for
//! [`CondPolicy::AllTrue`] and [`CondPolicy::Defined`] (the value is then
//! one JSON text, `QMP_SCHEMA_JSON`), and left to the compiler for
//! [`CondPolicy::Cfg`]: `qmp_schema()` then assembles the value from JSON
//! pieces, each conditional entry, member, enum value, branch or feature
//! under its `#[cfg]`, as QEMU's C table has them under `#if`.

use super::layout::{call, t, Link, St, X};
use super::text::{str_lit, w, Code};
use super::{doc, CondPolicy, Cx, GenError};
use crate::gen::introspect::{introspect_conditional, write_json_array, CondTree, Conditions};

/// A raw string literal holding `text` (multi-line text stays readable in
/// the generated source).
fn raw_str(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

/// JSON text of `tree` under `conds`; with `lines`, an array gets one
/// element a line.
fn json_text(tree: &CondTree, conds: &Conditions, lines: bool) -> String {
    match tree {
        CondTree::Array(elements) if lines => {
            array_text(elements.iter().filter(|(c, _)| conds.holds(c.as_ref())).map(|(_, t)| t), conds, true)
        }
        _ => {
            let mut text = String::new();
            tree.write_json(conds, &mut text);
            text
        }
    }
}

/// JSON text of an array of `elements`; with `lines`, one a line (but
/// `[]` when there are none).
fn array_text<'t>(elements: impl Iterator<Item = &'t CondTree>, conds: &Conditions, lines: bool) -> String {
    let mut text = String::new();
    write_json_array(elements, conds, lines, &mut text);
    text
}

/// What the `#[cfg]` assembly of the value needs.
struct Assembly<'c, 'a> {
    cx: &'c Cx<'a>,
    /// The helper parsing one JSON text is used.
    uses_parse: bool,
    /// The helper parsing a JSON array's elements is used.
    uses_elements: bool,
}

impl Assembly<'_, '_> {
    /// An expression for the value of `tree`; the entries (`top`) are
    /// written one a line.
    fn expr(&mut self, tree: &CondTree, top: bool) -> Result<X<'static>, GenError> {
        if let CondTree::Value(serde_json::Value::String(s)) = tree {
            return Ok(call("qapi_rt_::serde_json::Value::from", vec![t(str_lit(s))]));
        }
        match tree {
            CondTree::Object(fields) if tree.is_conditional() => {
                let mut stmts = vec![St::Lines(vec!["let mut object = qapi_rt_::serde_json::Map::new();".into()])];
                for (key, value) in fields {
                    let value = self.expr(value, false)?;
                    let key = call("String_::from", vec![t(str_lit(key))]);
                    let insert = X::Chain("object".into(), vec![Link::Method("insert".into(), vec![key, value])]);
                    stmts.push(St::Expr { attr: None, x: insert, semi: true });
                }
                stmts.push(St::Expr { attr: None, x: t("qapi_rt_::serde_json::Value::Object(object)"), semi: false });
                Ok(X::Block(stmts))
            }
            CondTree::Array(elements) if tree.is_conditional() => {
                // `mut` goes unused when every element's `cfg` is false.
                let mut stmts = vec![St::Lines(vec![
                    "#[allow(unused_mut)]".into(),
                    "let mut array = ::std::vec::Vec::new();".into(),
                ])];
                // Elements without conditions anywhere go in runs, one JSON
                // text each.
                let mut run: Vec<&CondTree> = Vec::new();
                for (cond, element) in elements {
                    if cond.is_none() && !element.is_conditional() {
                        run.push(element);
                        continue;
                    }
                    stmts.extend(self.flush(&mut run, top));
                    let value = self.expr(element, false)?;
                    let attr = cond.as_ref().map(|c| format!("#[cfg({})]", self.cx.cfg_pred(c)).into());
                    let extend =
                        X::Chain("array".into(), vec![Link::Method("extend".into(), vec![X::Array(vec![value])])]);
                    stmts.push(St::Expr { attr, x: extend, semi: true });
                }
                stmts.extend(self.flush(&mut run, top));
                stmts.push(St::Expr { attr: None, x: t("qapi_rt_::serde_json::Value::Array(array)"), semi: false });
                Ok(X::Block(stmts))
            }
            // No condition anywhere in it (a value never has one): one
            // JSON text.
            _ => {
                self.uses_parse = true;
                Ok(call("parse", vec![t(raw_str(&json_text(tree, &Conditions::AllTrue, top)))]))
            }
        }
    }

    /// A statement adding the elements of `run` (emptying it), if any;
    /// with `lines`, one a line.
    fn flush(&mut self, run: &mut Vec<&CondTree>, lines: bool) -> Option<St<'static>> {
        if run.is_empty() {
            return None;
        }
        self.uses_elements = true;
        let text = array_text(run.drain(..), &Conditions::AllTrue, lines);
        let extend = X::Chain(
            "array".into(),
            vec![Link::Method("extend".into(), vec![call("elements", vec![t(raw_str(&text))])])],
        );
        Some(St::Expr { attr: None, x: extend, semi: true })
    }
}

impl Cx<'_> {
    /// `QMP_SCHEMA_JSON` (conditions evaluated) and `qmp_schema()`.
    pub(super) fn introspection(&self, code: &mut Code) -> Result<(), GenError> {
        let tree = introspect_conditional(self.schema, self.opts.unmask_introspection);
        let names = if self.opts.unmask_introspection {
            "Type names are kept as the schema spells them (QEMU's `--unmask`)."
        } else {
            "Type names are masked as numbers, as QEMU reports them."
        };
        let mut lines = vec![
            "The schema's introspection: the value `query-qmp-schema` returns, an array of".to_owned(),
            "`SchemaInfo` objects as QEMU's generator makes them for this schema.".to_owned(),
            names.to_owned(),
        ];
        let parse_doc = "the generator wrote it";
        let conditions = match &self.opts.cond {
            CondPolicy::AllTrue => Some((Conditions::AllTrue, "Every `if` condition is taken to hold.".to_owned())),
            CondPolicy::Defined(set) => {
                let list: Vec<String> = set.iter().map(|n| format!("`{}`", doc::prose(n))).collect();
                let text = if list.is_empty() {
                    "Conditions were evaluated with no name defined.".to_owned()
                } else {
                    format!("Conditions were evaluated with these names defined: {}.", list.join(", "))
                };
                Some((Conditions::Defined(set.clone()), text))
            }
            CondPolicy::Cfg => None,
        };
        if let Some((conds, text)) = conditions {
            lines.push(text);
            let value = raw_str(&json_text(&tree, &conds, true));
            code.item();
            code.docs(&lines);
            w!(code, "pub const QMP_SCHEMA_JSON: &str = {value};");
            code.item();
            code.docs(&[
                "The value of `query-qmp-schema` for this schema: [`QMP_SCHEMA_JSON`] parsed.".to_owned(),
                "A QMP server built on this code answers `query-qmp-schema` with it.".to_owned(),
            ]);
            code.open("pub fn qmp_schema() -> qapi_rt_::serde_json::Value");
            code.line("qapi_rt_::serde_json::from_str(QMP_SCHEMA_JSON)");
            w!(code, "    .expect({})", str_lit(&format!("QMP_SCHEMA_JSON is JSON: {parse_doc}")));
            code.close("");
            return Ok(());
        }
        lines.push(String::new());
        lines.push(
            "Conditions are decided when this code is compiled: an entry, member, enum value, branch or feature"
                .to_owned(),
        );
        lines.push("is present when its `#[cfg]` holds, as in a QEMU built with that configuration. A QMP".to_owned());
        lines.push("server built on this code answers `query-qmp-schema` with it.".to_owned());
        let mut asm = Assembly { cx: self, uses_parse: false, uses_elements: false };
        let body = asm.expr(&tree, true)?;
        let expect = format!(".expect({})", str_lit(&format!("the introspection pieces are JSON: {parse_doc}")));
        code.item();
        code.docs(&lines);
        code.open("pub fn qmp_schema() -> qapi_rt_::serde_json::Value");
        if asm.uses_parse {
            // Unused when every `cfg` of the pieces it parses is false.
            code.line("#[allow(dead_code)]");
            code.open("fn parse(text: &str) -> qapi_rt_::serde_json::Value");
            code.line("qapi_rt_::serde_json::from_str(text)");
            w!(code, "    {expect}");
            code.close("");
        }
        if asm.uses_elements {
            code.line("#[allow(dead_code)]");
            code.open("fn elements(text: &str) -> ::std::vec::Vec<qapi_rt_::serde_json::Value>");
            code.line("match qapi_rt_::serde_json::from_str::<qapi_rt_::serde_json::Value>(text)");
            w!(code, "    {expect}");
            code.line("{");
            code.indent_in();
            code.line("qapi_rt_::serde_json::Value::Array(elements) => elements,");
            code.line("_ => ::std::vec::Vec::new(),");
            code.close("");
            code.close("");
        }
        code.stmt(&St::Expr { attr: None, x: body, semi: false });
        code.close("");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cond;

    #[test]
    fn raw_strings_outlast_their_text() {
        assert_eq!(raw_str("a"), "r#\"a\"#");
        assert_eq!(raw_str("say \"#hi\""), "r##\"say \"#hi\"\"##");
    }

    #[test]
    fn arrays_get_a_line_per_element() {
        let leaf = |v: serde_json::Value| CondTree::Value(v);
        let all = |ts: Vec<CondTree>| CondTree::Array(ts.into_iter().map(|t| (None, t)).collect());
        let tree = all(vec![leaf(1.into()), CondTree::Object(vec![("a".into(), leaf(2.into()))])]);
        assert_eq!(json_text(&tree, &Conditions::AllTrue, true), "[\n1,\n{\"a\":2}\n]");
        let nested = all(vec![leaf(1.into()), all(vec![leaf(2.into())])]);
        assert_eq!(json_text(&nested, &Conditions::AllTrue, false), "[1,[2]]");
        assert_eq!(json_text(&all(vec![]), &Conditions::AllTrue, true), "[]");
        let dropped = CondTree::Array(vec![(Some(Cond::Name("X".into())), leaf(1.into()))]);
        assert_eq!(json_text(&dropped, &Conditions::defined(["Y"]), true), "[]");
    }
}
