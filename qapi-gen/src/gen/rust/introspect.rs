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

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::cond::cfg_attr;
use super::cx::Paths;
use super::{doc, rustdoc, CondPolicy, Cx, GenError};
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

/// The token of a raw string literal holding `text`.
fn raw_lit(text: &str) -> Result<Literal, GenError> {
    raw_str(text).parse().map_err(|e| GenError::Internal(format!("a raw string literal does not lex: {e}")))
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
    fn expr(&mut self, tree: &CondTree, top: bool) -> Result<TokenStream, GenError> {
        let Paths { rt, string, .. } = self.cx.paths();
        match tree {
            CondTree::Value(serde_json::Value::String(s)) => Ok(quote!(#rt::serde_json::Value::from(#s))),
            CondTree::Object(fields) if tree.is_conditional() => {
                let mut inserts = Vec::new();
                for (key, value) in fields {
                    let value = self.expr(value, false)?;
                    inserts.push(quote!(object.insert(#string::from(#key), #value);));
                }
                Ok(quote! {
                    {
                        let mut object = #rt::serde_json::Map::new();
                        #(#inserts)*
                        #rt::serde_json::Value::Object(object)
                    }
                })
            }
            CondTree::Array(elements) if tree.is_conditional() => self.array(elements, top),
            // No condition anywhere in it (a value never has one): one
            // JSON text.
            _ => {
                self.uses_parse = true;
                let text = raw_lit(&json_text(tree, &Conditions::AllTrue, top))?;
                Ok(quote!(parse(#text)))
            }
        }
    }

    /// An expression for an array some of whose elements have conditions.
    fn array(
        &mut self,
        elements: &[(Option<crate::model::Cond>, CondTree)],
        top: bool,
    ) -> Result<TokenStream, GenError> {
        let rt = self.cx.paths().rt;
        let mut stmts = Vec::new();
        // Elements without conditions anywhere go in runs, one JSON
        // text each.
        let mut run: Vec<&CondTree> = Vec::new();
        for (cond, element) in elements {
            if cond.is_none() && !element.is_conditional() {
                run.push(element);
                continue;
            }
            stmts.extend(self.flush(&mut run, top)?);
            let value = self.expr(element, false)?;
            let attr = cfg_attr(cond.as_ref().map(|c| self.cx.cfg_pred(c)));
            stmts.push(quote!(#attr array.extend([#value]);));
        }
        stmts.extend(self.flush(&mut run, top)?);
        // `mut` goes unused when every element's `cfg` is false.
        Ok(quote! {
            {
                #[allow(unused_mut)]
                let mut array = ::std::vec::Vec::new();
                #(#stmts)*
                #rt::serde_json::Value::Array(array)
            }
        })
    }

    /// A statement adding the elements of `run` (emptying it), if any;
    /// with `lines`, one a line.
    fn flush(&mut self, run: &mut Vec<&CondTree>, lines: bool) -> Result<Option<TokenStream>, GenError> {
        if run.is_empty() {
            return Ok(None);
        }
        self.uses_elements = true;
        let text = raw_lit(&array_text(run.drain(..), &Conditions::AllTrue, lines))?;
        Ok(Some(quote!(array.extend(elements(#text));)))
    }
}

/// The first lines of the introspection's doc.
fn intro_docs(unmask: bool) -> Vec<String> {
    let names = if unmask {
        "Type names are kept as the schema spells them (QEMU's `--unmask`)."
    } else {
        "Type names are masked as numbers, as QEMU reports them."
    };
    vec![
        "The schema's introspection: the value `query-qmp-schema` returns, an array of".to_owned(),
        "`SchemaInfo` objects as QEMU's generator makes them for this schema.".to_owned(),
        names.to_owned(),
    ]
}

/// Why `expect` cannot fail in the generated code.
const PARSE_DOC: &str = "the generator wrote it";

impl Cx<'_> {
    /// `QMP_SCHEMA_JSON` (conditions evaluated) and `qmp_schema()`.
    pub(super) fn introspection(&self) -> Result<TokenStream, GenError> {
        let tree = introspect_conditional(self.schema, self.opts.unmask_introspection);
        let mut lines = intro_docs(self.opts.unmask_introspection);
        let conditions = match &self.opts.cond {
            CondPolicy::AllTrue => (Conditions::AllTrue, "Every `if` condition is taken to hold.".to_owned()),
            CondPolicy::Defined(set) => {
                let list: Vec<String> = set.iter().map(|n| format!("`{}`", doc::prose(n))).collect();
                let text = if list.is_empty() {
                    "Conditions were evaluated with no name defined.".to_owned()
                } else {
                    format!("Conditions were evaluated with these names defined: {}.", list.join(", "))
                };
                (Conditions::Defined(set.clone()), text)
            }
            CondPolicy::Cfg => return self.introspection_cfg(&tree, lines),
        };
        let (conds, text) = conditions;
        lines.push(text);
        let docs = rustdoc::attrs(&lines);
        let value = raw_lit(&json_text(&tree, &conds, true))?;
        let rt = self.paths().rt;
        let expect = format!("QMP_SCHEMA_JSON is JSON: {PARSE_DOC}");
        Ok(quote! {
            #docs
            pub const QMP_SCHEMA_JSON: &str = #value;

            /// The value of `query-qmp-schema` for this schema: [`QMP_SCHEMA_JSON`] parsed.
            /// A QMP server built on this code answers `query-qmp-schema` with it.
            pub fn qmp_schema() -> #rt::serde_json::Value {
                #rt::serde_json::from_str(QMP_SCHEMA_JSON).expect(#expect)
            }
        })
    }

    /// `qmp_schema()` assembling the value under the `#[cfg]`s of its
    /// pieces.
    fn introspection_cfg(&self, tree: &CondTree, mut lines: Vec<String>) -> Result<TokenStream, GenError> {
        lines.push(String::new());
        lines.push(
            "Conditions are decided when this code is compiled: an entry, member, enum value, branch or feature"
                .to_owned(),
        );
        lines.push("is present when its `#[cfg]` holds, as in a QEMU built with that configuration. A QMP".to_owned());
        lines.push("server built on this code answers `query-qmp-schema` with it.".to_owned());
        let docs = rustdoc::attrs(&lines);
        let mut asm = Assembly { cx: self, uses_parse: false, uses_elements: false };
        let body = asm.expr(tree, true)?;
        let rt = self.paths().rt;
        let expect = format!("the introspection pieces are JSON: {PARSE_DOC}");
        // Unused when every `cfg` of the pieces they parse is false.
        let parse = asm.uses_parse.then(|| {
            quote! {
                #[allow(dead_code)]
                fn parse(text: &str) -> #rt::serde_json::Value {
                    #rt::serde_json::from_str(text).expect(#expect)
                }
            }
        });
        let elements = asm.uses_elements.then(|| {
            quote! {
                #[allow(dead_code)]
                fn elements(text: &str) -> ::std::vec::Vec<#rt::serde_json::Value> {
                    match #rt::serde_json::from_str::<#rt::serde_json::Value>(text).expect(#expect) {
                        #rt::serde_json::Value::Array(elements) => elements,
                        _ => ::std::vec::Vec::new(),
                    }
                }
            }
        });
        Ok(quote! {
            #docs
            pub fn qmp_schema() -> #rt::serde_json::Value {
                #parse
                #elements
                #body
            }
        })
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
