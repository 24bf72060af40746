//! Phase 2: resolving and checking each entity: enums, arrays, objects
//! (bases, cycles, member clashes).

use super::*;

impl Builder<'_> {
    pub(super) fn check_entity(&mut self, id: Id) {
        let Some(origin) = self.ents[id].origin.clone() else {
            // Built-ins are right by construction, but q_empty still needs
            // its (empty) member list, and arrays their element.
            match &self.ents[id].kind {
                RawKind::Object(_) => self.check_object(id),
                RawKind::Array { elem_name, .. } => {
                    let elem = self.lookup_type(&elem_name.clone());
                    if let RawKind::Array { elem: e, .. } = &mut self.ents[id].kind {
                        *e = elem;
                    }
                }
                _ => {}
            }
            return;
        };
        self.check_features(id, &origin);
        match &self.ents[id].kind {
            RawKind::Builtin(_) => {}
            RawKind::Enum { .. } => self.check_enum(id, &origin),
            RawKind::Array { .. } => self.check_array(id, &origin),
            RawKind::Object(_) => self.check_object(id),
            RawKind::Alternate { .. } => self.check_alternate(id, &origin),
            RawKind::Command { .. } => self.check_command(id, &origin),
            RawKind::Event { .. } => self.check_event(id, &origin),
        }
    }

    /// Feature clashes, and the special features types can't have.
    pub(super) fn check_features(&mut self, id: Id, origin: &Origin) {
        let ent = &self.ents[id];
        let is_type = ent.is_type();
        let described: Vec<Described> = ent
            .features
            .iter()
            .map(|f| Described { role: "feature", name: f.name.clone(), defined_in: ent.name.clone() })
            .collect();
        let mut seen = Seen::new();
        for d in described {
            if is_type && matches!(d.name.as_str(), "deprecated" | "unstable") {
                self.error_at(origin, format!("feature '{}' is not supported for types", d.name));
            }
            self.check_clash(Who::Named(d), origin, &mut seen);
        }
    }

    /// The interned C name of `name`.
    pub(super) fn ckey(&mut self, name: &str) -> u32 {
        c_name_into(name, &mut self.scratch);
        if let Some(&k) = self.cnames.get(self.scratch.as_str()) {
            return k;
        }
        let next = u32::try_from(self.cnames.len()).unwrap_or(u32::MAX);
        self.cnames.insert(self.scratch.clone(), next);
        next
    }

    pub(super) fn who_key(&mut self, w: &Who) -> u32 {
        match w {
            Who::Member(r) => self.member(*r).map_or(u32::MAX, |m| m.ckey),
            Who::Value(e, i) => match &self.ents[*e].kind {
                RawKind::Enum { values, .. } => values.get(*i).map_or(u32::MAX, |v| v.ckey),
                _ => u32::MAX,
            },
            Who::Named(d) => self.ckey(&d.name),
        }
    }

    pub(super) fn describe_who(&self, w: &Who, defn_name: &str) -> String {
        match w {
            Who::Member(r) => self.described_member(*r).map(|d| d.describe(defn_name)).unwrap_or_default(),
            Who::Value(e, i) => match &self.ents[*e].kind {
                RawKind::Enum { values, .. } => values
                    .get(*i)
                    .map(|v| {
                        Described { role: "value", name: v.name.clone(), defined_in: self.ents[*e].name.clone() }
                            .describe(defn_name)
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            },
            Who::Named(d) => d.describe(defn_name),
        }
    }

    /// Records `w` in `seen` unless its C name is taken, which is reported.
    pub(super) fn check_clash(&mut self, w: Who, origin: &Origin, seen: &mut Seen) -> bool {
        let key = self.who_key(&w);
        if let Some(prev) = seen.get(&key) {
            let msg = format!(
                "{} collides with {}",
                self.describe_who(&w, &origin.name),
                self.describe_who(prev, &origin.name)
            );
            self.error_at(origin, msg);
            return false;
        }
        seen.insert(key, w);
        true
    }

    pub(super) fn check_enum(&mut self, id: Id, origin: &Origin) {
        let RawKind::Enum { values, .. } = &self.ents[id].kind else {
            return;
        };
        let count = values.len();
        let mut seen = Seen::new();
        for i in 0..count {
            self.check_clash(Who::Value(id, i), origin, &mut seen);
        }
    }

    pub(super) fn check_array(&mut self, id: Id, origin: &Origin) {
        let RawKind::Array { elem_name, .. } = &self.ents[id].kind else {
            return;
        };
        let elem_name = elem_name.clone();
        let elem = self.lookup_type(&elem_name);
        if elem.is_none() {
            self.error_at(origin, format!("{} uses unknown type '{elem_name}'", origin.meta));
        }
        if let RawKind::Array { elem: e, .. } = &mut self.ents[id].kind {
            *e = elem;
        }
    }

    /// Resolves a member's type; reports an unknown one.
    pub(super) fn resolve(&mut self, name: &str, what: impl FnOnce() -> String, origin: &Origin) -> Option<Id> {
        let found = self.lookup_type(name);
        if found.is_none() {
            let msg = format!("{} uses unknown type '{name}'", what());
            self.error_at(origin, msg);
        }
        found
    }

    /// Checks object type `root` and every object type its C struct
    /// contains (base and branches), depth first without recursion,
    /// reporting cycles.
    pub(super) fn check_object(&mut self, root: Id) {
        if self.state(root) != Some(State::New) {
            return;
        }
        let deps = self.start_object(root);
        let mut stack: Vec<(Id, Vec<Id>, usize)> = vec![(root, deps, 0)];
        while let Some(top) = stack.last_mut() {
            if let Some(&dep) = top.1.get(top.2) {
                top.2 += 1;
                match self.state(dep) {
                    Some(State::New) => {
                        let deps = self.start_object(dep);
                        stack.push((dep, deps, 0));
                    }
                    Some(State::InProgress) => self.report_cycle(dep),
                    _ => {}
                }
            } else {
                let id = top.0;
                stack.pop();
                self.finish_object(id);
            }
        }
    }

    pub(super) fn state(&self, id: Id) -> Option<State> {
        self.ents.get(id)?.object().map(|o| o.state)
    }

    pub(super) fn report_cycle(&mut self, id: Id) {
        if !self.cycles.insert(id) {
            return;
        }
        if let Some(o) = self.ents[id].origin.clone() {
            let msg = format!("object {} contains itself", self.ents[id].name);
            self.error_at(&o, msg);
        }
    }

    /// Marks `id` in progress, resolves its base and branch types, and
    /// returns the object types it contains.
    pub(super) fn start_object(&mut self, id: Id) -> Vec<Id> {
        let origin = self.ents[id].origin.clone();
        let Some(obj) = self.ents[id].object_mut() else {
            return Vec::new();
        };
        obj.state = State::InProgress;
        let base_name = obj.base_name.clone();
        let branches: Vec<String> =
            obj.branches.as_ref().map(|b| b.list.iter().map(|v| v.ty_name.clone()).collect()).unwrap_or_default();
        let Some(origin) = origin else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        let mut base = None;
        let mut complete = true;
        if let Some(name) = base_name {
            match self.resolve(&name, || "'base'".to_owned(), &origin) {
                None => complete = false,
                Some(b) if self.ents[b].object().is_none() || self.ents[b].is_union() => {
                    let msg = format!("'base' requires a struct type, {} isn't", self.ents[b].describe());
                    self.error_at(&origin, msg);
                    complete = false;
                }
                Some(b) => {
                    base = Some(b);
                    deps.push(b);
                }
            }
        }
        let mut resolved = Vec::new();
        for (i, ty_name) in branches.iter().enumerate() {
            let name = self.branch_name(id, i);
            let defined_in = self.ents[id].name.clone();
            let ty = self.resolve(
                ty_name,
                || Described { role: "branch", name, defined_in }.describe(&origin.name),
                &origin,
            );
            if let Some(t) = ty {
                if self.ents[t].object().is_some() {
                    deps.push(t);
                }
            }
            resolved.push(ty);
        }
        if let Some(obj) = self.ents[id].object_mut() {
            obj.base = base;
            obj.complete = complete;
            if let Some(br) = &mut obj.branches {
                for (v, ty) in br.list.iter_mut().zip(resolved) {
                    v.ty = ty;
                }
            }
        }
        deps
    }

    pub(super) fn branch_name(&self, id: Id, i: usize) -> String {
        self.ents[id]
            .object()
            .and_then(|o| o.branches.as_ref())
            .and_then(|b| b.list.get(i))
            .map(|v| v.name.clone())
            .unwrap_or_default()
    }

    pub(super) fn described_member(&self, (owner, idx): MemberRef) -> Option<Described> {
        let ent = self.ents.get(owner)?;
        let m = ent.object()?.local.get(idx)?;
        Some(Described { role: "member", name: m.name.clone(), defined_in: ent.name.clone() })
    }

    pub(super) fn member(&self, (owner, idx): MemberRef) -> Option<&RawMember> {
        self.ents.get(owner)?.object()?.local.get(idx)
    }

    /// Computes the members of `id`, whose base and branch types are done
    /// (or part of a reported cycle), and checks them.
    pub(super) fn finish_object(&mut self, id: Id) {
        let Some(origin) = self.ents[id].origin.clone() else {
            if let Some(o) = self.ents[id].object_mut() {
                o.state = State::Done;
            }
            return;
        };
        let Some(obj) = self.ents[id].object() else {
            return;
        };
        let mut complete = obj.complete;
        let mut base = obj.base;
        let local_count = obj.local.len();
        if let Some(b) = base {
            match self.ents[b].object() {
                Some(bo) if bo.state == State::Done => complete &= bo.complete,
                _ => {
                    // Part of a reported cycle.
                    complete = false;
                    base = None;
                }
            }
        }
        let mut keys: FastMap<u32, usize> = FastMap::default();
        for i in 0..local_count {
            let ty = self.member((id, i)).and_then(|m| self.lookup_type(&m.ty_name));
            let Some(m) = self.ents[id].object().and_then(|o| o.local.get(i)) else {
                continue;
            };
            let key = m.ckey;
            if ty.is_none() {
                let msg = format!(
                    "{} uses unknown type '{}'",
                    self.describe_who(&Who::Member((id, i)), &origin.name),
                    m.ty_name
                );
                self.diags.push(Diagnostic::error(origin.span.clone(), msg).in_definition(origin.context()));
            }
            if !m.features.is_empty() {
                let features: Vec<Described> = m
                    .features
                    .iter()
                    .map(|f| Described { role: "feature", name: f.name.clone(), defined_in: m.name.clone() })
                    .collect();
                let mut fseen = Seen::new();
                for f in features {
                    self.check_clash(Who::Named(f), &origin, &mut fseen);
                }
            }
            if let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(i)) {
                m.ty = ty;
            }
            let prev = match keys.get(&key) {
                Some(&j) => Some((id, j)),
                None => base.and_then(|b| self.find_member(b, key)),
            };
            match prev {
                Some(p) => self.report_clash(&Who::Member((id, i)), &Who::Member(p), &origin),
                None => {
                    keys.insert(key, i);
                }
            }
        }
        if let Some(o) = self.ents[id].object_mut() {
            o.base = base;
            o.complete = complete;
            o.local_keys = keys;
        }
        if self.ents[id].is_union() {
            self.check_branches(id, complete, &origin);
        }
        if let Some(o) = self.ents[id].object_mut() {
            o.state = State::Done;
        }
    }

    /// The member of object `id` (local or inherited) whose interned C
    /// name is `key`.
    pub(super) fn find_member(&self, id: Id, key: u32) -> Option<MemberRef> {
        let mut at = Some(id);
        let mut steps = 0;
        while let Some(t) = at {
            let o = self.ents.get(t)?.object()?;
            if let Some(&i) = o.local_keys.get(&key) {
                return Some((t, i));
            }
            steps += 1;
            if steps > self.ents.len() {
                return None;
            }
            at = o.base;
        }
        None
    }

    /// Every member of object `id`: the base's (recursively) first.
    pub(super) fn all_members(&self, id: Id) -> Vec<MemberRef> {
        let mut chain = Vec::new();
        let mut at = Some(id);
        while let Some(t) = at {
            let Some(o) = self.ents.get(t).and_then(RawEntity::object) else {
                break;
            };
            if chain.len() > self.ents.len() {
                break;
            }
            chain.push((t, o.local.len()));
            at = o.base;
        }
        chain.into_iter().rev().flat_map(|(t, n)| (0..n).map(move |i| (t, i))).collect()
    }

    pub(super) fn report_clash(&mut self, w: &Who, prev: &Who, origin: &Origin) {
        let msg =
            format!("{} collides with {}", self.describe_who(w, &origin.name), self.describe_who(prev, &origin.name));
        self.error_at(origin, msg);
    }
}
