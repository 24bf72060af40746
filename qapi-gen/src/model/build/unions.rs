//! Phase 2, continued: union branches, alternates, commands and events.

use super::*;

impl Builder<'_> {
    /// A union's tag and branches.
    pub(super) fn check_branches(&mut self, id: Id, complete: bool, origin: &Origin) {
        let Some(br) = self.ents[id].object().and_then(|o| o.branches.as_ref()) else {
            return;
        };
        let tag_name = br.tag_name.clone();
        let key = self.ckey(&tag_name);
        let tag = self.find_member(id, key).filter(|&r| self.member(r).is_some_and(|m| m.name == tag_name));
        let tag_enum = match tag {
            None if complete => {
                self.error_at(origin, format!("discriminator '{tag_name}' is not a member of 'base'"));
                None
            }
            None => None,
            Some(r) => self.check_tag(r, &tag_name, origin),
        };
        if let Some(e) = tag_enum {
            self.add_implied_branches(id, e, tag);
        }
        let list: Vec<(String, Option<Id>)> = self.ents[id]
            .object()
            .and_then(|o| o.branches.as_ref())
            .map(|br| br.list.iter().map(|v| (v.name.clone(), v.ty)).collect())
            .unwrap_or_default();
        if tag_enum.is_some() && list.is_empty() {
            self.error_at(origin, "union has no branches");
        }
        let enum_values: Option<HashSet<String>> = tag_enum.and_then(|e| match &self.ents[e].kind {
            RawKind::Enum { values, .. } => Some(values.iter().map(|v| v.name.clone()).collect()),
            _ => None,
        });
        let union_name = self.ents[id].name.clone();
        let mut clash_roots = Vec::new();
        for (name, ty) in list {
            if let (Some(values), Some(e)) = (&enum_values, tag_enum) {
                if !values.contains(&name) {
                    let msg = format!("branch '{name}' is not a value of {}", self.ents[e].describe());
                    self.error_at(origin, msg);
                }
            }
            let Some(t) = ty else {
                continue;
            };
            if self.ents[t].object().is_none() {
                let d = Described { role: "branch", name, defined_in: union_name.clone() };
                let msg = format!("{} cannot use {}", d.describe(&origin.name), self.ents[t].describe());
                self.error_at(origin, msg);
                continue;
            }
            clash_roots.push(t);
        }
        if tag.is_some() {
            self.branches_clash(id, &clash_roots, origin);
        }
    }

    /// Checks the discriminator member `r`: of enum type, neither
    /// optional nor conditional. Returns its enum type when it has one.
    fn check_tag(&mut self, r: MemberRef, tag_name: &str, origin: &Origin) -> Option<Id> {
        let owner = &self.ents[r.0];
        let base =
            if owner.name.starts_with("q_") { "'base'".to_owned() } else { format!("base type '{}'", owner.name) };
        let (ty, optional, cond) = match self.member(r) {
            Some(m) => (m.ty, m.optional, m.cond.is_some()),
            None => (None, false, false),
        };
        let tag_enum = match ty {
            Some(t) if matches!(self.ents[t].kind, RawKind::Enum { .. }) => Some(t),
            Some(_) => {
                self.error_at(origin, format!("discriminator member '{tag_name}' of {base} must be of enum type"));
                None
            }
            None => None,
        };
        if optional {
            self.error_at(origin, format!("discriminator member '{tag_name}' of {base} must not be optional"));
        }
        if cond {
            self.error_at(origin, format!("discriminator member '{tag_name}' of {base} must not be conditional"));
        }
        tag_enum
    }

    /// Gives the tag values of enum `e` that have no branch in union `id`
    /// an empty one, and records the tag.
    fn add_implied_branches(&mut self, id: Id, e: Id, tag: Option<MemberRef>) {
        let implied: Vec<RawBranch> = match &self.ents[e].kind {
            RawKind::Enum { values, .. } => {
                let written: HashSet<&str> = self.ents[id]
                    .object()
                    .and_then(|o| o.branches.as_ref())
                    .map(|b| b.list.iter().map(|v| v.name.as_str()).collect())
                    .unwrap_or_default();
                values
                    .iter()
                    .filter(|v| !written.contains(v.name.as_str()))
                    .map(|v| RawBranch {
                        name: v.name.clone(),
                        ty_name: "q_empty".to_owned(),
                        ty: self.q_empty,
                        cond: v.cond.clone(),
                        span: None,
                        doc: None,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        if let Some(br) = self.ents[id].object_mut().and_then(|o| o.branches.as_mut()) {
            br.tag = tag;
            br.list.extend(implied);
        }
    }

    /// Checks that the members of the branch types of `union`, and of
    /// their branch types in turn, don't clash with the union's members.
    ///
    /// QEMU checks each nested branch against every union on the path to
    /// it; a clash with an inner union is already reported when that union
    /// is checked (before the outer one), so checking each type reachable
    /// once, against `union` only, reports the same first error without
    /// exponential work.
    pub(super) fn branches_clash(&mut self, union: Id, roots: &[Id], origin: &Origin) {
        let mut visited: HashSet<Id> = HashSet::new();
        let mut work: Vec<Id> = roots.iter().rev().copied().collect();
        while let Some(t) = work.pop() {
            if t == union || !visited.insert(t) {
                continue;
            }
            let Some(o) = self.ents[t].object() else {
                continue;
            };
            if o.state != State::Done || !o.complete {
                continue;
            }
            let nested: Vec<Id> = o
                .branches
                .as_ref()
                .map(|b| b.list.iter().filter_map(|v| v.ty).filter(|&v| self.ents[v].object().is_some()).collect())
                .unwrap_or_default();
            for r in self.all_members(t) {
                let Some(key) = self.member(r).map(|m| m.ckey) else {
                    continue;
                };
                if let Some(prev) = self.find_member(union, key) {
                    self.report_clash(&Who::Member(r), &Who::Member(prev), origin);
                }
            }
            work.extend(nested.into_iter().rev());
        }
    }

    pub(super) fn check_alternate(&mut self, id: Id, origin: &Origin) {
        let RawKind::Alternate { branches } = &self.ents[id].kind else {
            return;
        };
        let name = self.ents[id].name.clone();
        let list: Vec<(String, String)> = branches.iter().map(|b| (b.name.clone(), b.ty_name.clone())).collect();
        let described = |n: &str| Described { role: "branch", name: n.to_owned(), defined_in: name.clone() };
        let mut resolved = Vec::new();
        for (n, ty_name) in &list {
            let what = described(n).describe(&origin.name);
            resolved.push(self.resolve(ty_name, || what, origin));
        }
        if let RawKind::Alternate { branches } = &mut self.ents[id].kind {
            for (b, ty) in branches.iter_mut().zip(&resolved) {
                b.ty = *ty;
            }
        }
        let mut seen = Seen::new();
        let mut types_seen: HashMap<QType, String> = HashMap::new();
        for ((n, _), ty) in list.iter().zip(resolved) {
            let d = described(n);
            let desc = d.describe(&origin.name);
            self.check_clash(Who::Named(d), origin, &mut seen);
            let Some(t) = ty else {
                continue;
            };
            let Some(qtype) = self.alternate_qtype(t) else {
                let msg = format!("{desc} cannot use {}", self.ents[t].describe());
                self.error_at(origin, msg);
                continue;
            };
            let mut conflicting = vec![qtype];
            if qtype == QType::String {
                match &self.ents[t].kind {
                    RawKind::Enum { values, .. } => {
                        for v in values {
                            if v.name == "on" || v.name == "off" {
                                conflicting.push(QType::Bool);
                            }
                            if v.name.starts_with(['-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
                                conflicting.push(QType::Num);
                            }
                        }
                    }
                    _ => {
                        conflicting.push(QType::Num);
                        conflicting.push(QType::Bool);
                    }
                }
            }
            let mut reported = false;
            let mut unique = Vec::with_capacity(conflicting.len());
            for qt in conflicting {
                if !unique.contains(&qt) {
                    unique.push(qt);
                }
            }
            for qt in unique {
                if let Some(other) = types_seen.get(&qt) {
                    if !reported {
                        let msg = format!("{desc} can't be distinguished from '{other}'");
                        self.error_at(origin, msg);
                        reported = true;
                    }
                    continue;
                }
                types_seen.insert(qt, n.clone());
            }
        }
    }

    /// How an alternate tells a value of type `t` apart.
    pub(super) fn alternate_qtype(&self, t: Id) -> Option<QType> {
        Some(match &self.ents[t].kind {
            RawKind::Builtin(b) => match b {
                Builtin::Str => QType::String,
                Builtin::Bool => QType::Bool,
                Builtin::Null => QType::Null,
                Builtin::Any => return None,
                _ => QType::Num,
            },
            RawKind::Enum { .. } => QType::String,
            RawKind::Array { .. } => QType::List,
            RawKind::Object(_) => QType::Dict,
            _ => return None,
        })
    }

    /// The argument type of a command or event: must be an object type, a
    /// union only when boxed; conditional members only when boxed.
    pub(super) fn check_args(&mut self, name: &str, boxed: bool, what: &str, origin: &Origin) -> Option<Id> {
        let t = self.resolve(name, || format!("{what}'s 'data'"), origin)?;
        if self.ents[t].object().is_none() {
            let msg = format!("{what}'s 'data' cannot take {}", self.ents[t].describe());
            self.error_at(origin, msg);
            return None;
        }
        if self.ents[t].is_union() && !boxed {
            let msg = format!("{what}'s 'data' can take {} only with 'boxed': true", self.ents[t].describe());
            self.error_at(origin, msg);
        }
        self.check_object(t);
        let conditional = self.all_members(t).into_iter().any(|r| self.member(r).is_some_and(|m| m.cond.is_some()));
        if conditional && !boxed {
            self.error_at(origin, format!("conditional {what} arguments require 'boxed': true"));
        }
        Some(t)
    }

    pub(super) fn check_command(&mut self, id: Id, origin: &Origin) {
        let RawKind::Command { arg_name, ret_name, flags, .. } = &self.ents[id].kind else {
            return;
        };
        let (arg_name, ret_name, boxed) = (arg_name.clone(), ret_name.clone(), flags.boxed);
        let arg = arg_name.and_then(|n| self.check_args(&n, boxed, "command", origin));
        let mut ret = None;
        if let Some(n) = ret_name {
            ret = self.resolve(&n, || "command's 'returns'".to_owned(), origin);
            if let Some(r) = ret {
                if !self.returns_exceptions.contains(origin.name.as_str()) {
                    let elem = match &self.ents[r].kind {
                        RawKind::Array { elem, .. } => *elem,
                        _ => Some(r),
                    };
                    if let Some(e) = elem {
                        if self.ents[e].object().is_none() {
                            let msg = format!("command's 'returns' cannot take {}", self.ents[r].describe());
                            self.error_at(origin, msg);
                        }
                    }
                }
            }
        }
        if let RawKind::Command { arg: a, ret: r, .. } = &mut self.ents[id].kind {
            *a = arg;
            *r = ret;
        }
    }

    pub(super) fn check_event(&mut self, id: Id, origin: &Origin) {
        let RawKind::Event { arg_name, boxed, .. } = &self.ents[id].kind else {
            return;
        };
        let (arg_name, boxed) = (arg_name.clone(), *boxed);
        let arg = arg_name.and_then(|n| self.check_args(&n, boxed, "event", origin));
        if let RawKind::Event { arg: a, .. } = &mut self.ents[id].kind {
            *a = arg;
        }
    }
}
