//! A schema cut down to the commands and events a user wants, and the
//! types they reach: [`Schema::subset`].
//!
//! The cut is made on the model, so that every backend (the Rust
//! generator, the introspection) works on it unchanged: what it generates
//! from a subset is what it would generate from a schema that had only
//! those definitions.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Entity, EntityId, EntityKind, Member, ModuleItem, Schema};

/// Why [`Schema::subset`] could not cut the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubsetError {
    /// A name that is no definition of the schema.
    #[error("'{0}' is not a command or event of the schema")]
    Unknown(String),
    /// A name that is a type: a subset is asked for by command and event.
    #[error("'{name}' is a {meta}, not a command or event (its commands and events bring it in)")]
    NotCommandOrEvent {
        /// The name asked for.
        name: String,
        /// What it is (`struct`, `enum`, ...).
        meta: &'static str,
    },
}

impl SubsetError {
    /// The name at fault.
    pub fn name(&self) -> &str {
        match self {
            SubsetError::Unknown(name) | SubsetError::NotCommandOrEvent { name, .. } => name,
        }
    }
}

impl Schema {
    /// The schema with only the commands and events named in `roots` (by
    /// their wire names) and every type they reach: arguments, return
    /// types, event data, bases, members, branches and array elements,
    /// transitively. Definitions keep their order; the built-in types stay.
    ///
    /// ```
    /// let schema = qapi_gen::Frontend::new()
    ///     .check_str(
    ///         "s.json",
    ///         "{ 'struct': 'Info', 'data': { 'x': 'int' } }\n\
    ///          { 'struct': 'Other', 'data': {} }\n\
    ///          { 'command': 'query-info', 'returns': 'Info' }\n\
    ///          { 'command': 'other', 'returns': 'Other' }\n",
    ///     )
    ///     .schema;
    /// let small = schema.subset(["query-info"])?;
    /// assert!(small.lookup("Info").is_some() && small.lookup("query-info").is_some());
    /// assert!(small.lookup("Other").is_none() && small.lookup("other").is_none());
    /// assert!(schema.subset(["nope"]).is_err());
    /// # Ok::<(), qapi_gen::model::SubsetError>(())
    /// ```
    pub fn subset<I, S>(&self, roots: I) -> Result<Schema, SubsetError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut todo = Vec::new();
        for root in roots {
            let name = root.as_ref();
            let e = self.lookup(name).ok_or_else(|| SubsetError::Unknown(name.to_owned()))?;
            if e.is_type() {
                return Err(SubsetError::NotCommandOrEvent { name: name.to_owned(), meta: e.meta() });
            }
            todo.push(e.id);
        }
        // The predefined entities (built-in types, their arrays, QType,
        // q_empty) stay: backends may look them up by name.
        todo.extend(self.entities.iter().filter(|e| e.span.is_none()).map(|e| e.id));
        Ok(self.keeping(&self.reach(todo)))
    }

    /// Which entities `from` reach, `from` included: through arguments,
    /// return types, event data, bases, members, branches and array
    /// elements, transitively; indexed by [`EntityId::index`].
    pub(crate) fn reach(&self, from: impl IntoIterator<Item = EntityId>) -> Vec<bool> {
        let mut reached = vec![false; self.entities.len()];
        let mut todo: Vec<EntityId> = from.into_iter().collect();
        while let Some(id) = todo.pop() {
            if std::mem::replace(&mut reached[id.index()], true) {
                continue;
            }
            todo.extend(references(&self[id]));
        }
        reached
    }

    /// [`subset`](Schema::subset) of `roots`, or the whole schema when
    /// `roots` is empty: what the `only` options of the `Builder`, the
    /// macro and the command line mean.
    ///
    /// ```
    /// let schema = qapi_gen::Frontend::new().check_str("s.json", "{ 'command': 'stop' }").schema;
    /// assert_eq!(schema.only::<&str>(&[])?.entities().len(), schema.entities().len());
    /// # Ok::<(), qapi_gen::model::SubsetError>(())
    /// ```
    pub fn only<S: AsRef<str>>(&self, roots: &[S]) -> Result<Cow<'_, Schema>, SubsetError> {
        if roots.is_empty() {
            Ok(Cow::Borrowed(self))
        } else {
            self.subset(roots).map(Cow::Owned)
        }
    }

    /// The schema with the entities `keep` marks, renumbered in order.
    fn keeping(&self, keep: &[bool]) -> Schema {
        let mut new_ids = HashMap::new();
        for e in self.entities.iter().filter(|e| keep[e.id.index()]) {
            new_ids.insert(e.id, EntityId::new(new_ids.len()));
        }
        let map = |id: EntityId| new_ids.get(&id).copied().unwrap_or(id);
        let entities: Vec<Entity> =
            self.entities.iter().filter(|e| keep[e.id.index()]).map(|e| renumbered(e, &map)).collect();
        let names = entities.iter().map(|e| (e.name.clone(), e.id)).collect();
        let mut modules = self.modules.clone();
        for m in &mut modules {
            m.items.retain_mut(|item| match item {
                ModuleItem::Entity(id) if keep[id.index()] => {
                    *id = map(*id);
                    true
                }
                ModuleItem::Entity(_) => false,
                ModuleItem::Include { .. } => true,
            });
        }
        Schema { entities, names, modules, docs: self.docs.clone(), features: self.features.clone() }
    }
}

/// The entities `e` refers to.
fn references(e: &Entity) -> Vec<EntityId> {
    match &e.kind {
        EntityKind::Builtin(_) | EntityKind::Enum(_) => Vec::new(),
        EntityKind::Array(a) => vec![a.element],
        EntityKind::Object(o) => {
            let mut refs: Vec<EntityId> = o.base.into_iter().chain(o.local_members.iter().map(|m| m.ty)).collect();
            if let Some(b) = &o.branches {
                refs.push(b.tag.ty);
                refs.extend(b.branches.iter().map(|b| b.ty));
            }
            refs
        }
        EntityKind::Alternate(a) => a.branches.iter().map(|b| b.ty).collect(),
        EntityKind::Command(c) => c.arg_type.into_iter().chain(c.ret_type).collect(),
        EntityKind::Event(ev) => ev.arg_type.into_iter().collect(),
    }
}

/// A copy of `e` whose references go through `map`.
fn renumbered(e: &Entity, map: &impl Fn(EntityId) -> EntityId) -> Entity {
    let member = |m: &Member| Member { ty: map(m.ty), defined_in: map(m.defined_in), ..m.clone() };
    let mut e = e.clone();
    e.id = map(e.id);
    match &mut e.kind {
        EntityKind::Builtin(_) | EntityKind::Enum(_) => {}
        EntityKind::Array(a) => a.element = map(a.element),
        EntityKind::Object(o) => {
            o.base = o.base.map(map);
            o.local_members = o.local_members.iter().map(member).collect();
            if let Some(b) = &mut o.branches {
                b.tag = member(&b.tag);
                for branch in &mut b.branches {
                    branch.ty = map(branch.ty);
                }
            }
        }
        EntityKind::Alternate(a) => {
            for branch in &mut a.branches {
                branch.ty = map(branch.ty);
            }
        }
        EntityKind::Command(c) => {
            c.arg_type = c.arg_type.map(map);
            c.ret_type = c.ret_type.map(map);
        }
        EntityKind::Event(ev) => ev.arg_type = ev.arg_type.map(map),
    }
    e
}
