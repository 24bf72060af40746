//! Phase 2, continued: connecting documentation to members and features.

use super::*;

impl Builder<'_> {
    /// Connects the entity's documentation to its features and members,
    /// as QEMU's `connect_doc()`.
    pub(super) fn connect_doc(&mut self, id: Id) {
        let (Some(doc), Some(origin)) = (self.ents[id].doc, self.ents[id].origin.clone()) else {
            return;
        };
        let what = match &self.ents[id].kind {
            RawKind::Command { ret_name, .. } => Documented::Command { returns: ret_name.is_some() },
            _ => Documented::Other,
        };
        self.binder.check_sections(doc, what, self.diags);
        self.connect_features(id, None, doc, &origin);
        match &self.ents[id].kind {
            RawKind::Enum { values, .. } => {
                let names: Vec<String> = values.iter().map(|v| v.name.clone()).collect();
                for (i, n) in names.iter().enumerate() {
                    self.binder.connect_member(doc, Role::Value, n, &origin.span, || origin.context(), self.diags);
                    if let RawKind::Enum { values, .. } = &mut self.ents[id].kind {
                        if let Some(v) = values.get_mut(i) {
                            v.doc = Some(doc);
                        }
                    }
                    self.connect_features(id, Some(i), doc, &origin);
                }
            }
            RawKind::Object(o) => {
                if let Some(b) = o.base {
                    if self.ents[b].name.starts_with("q_") {
                        self.connect_members(b, doc, &origin);
                    }
                }
                self.connect_members(id, doc, &origin);
            }
            RawKind::Alternate { branches } => {
                let names: Vec<String> = branches.iter().map(|v| v.name.clone()).collect();
                for (i, n) in names.iter().enumerate() {
                    self.binder.connect_member(doc, Role::Branch, n, &origin.span, || origin.context(), self.diags);
                    if let RawKind::Alternate { branches } = &mut self.ents[id].kind {
                        if let Some(v) = branches.get_mut(i) {
                            v.doc = Some(doc);
                        }
                    }
                }
            }
            RawKind::Command { arg, .. } | RawKind::Event { arg, .. } => {
                if let Some(a) = *arg {
                    if self.ents[a].name.starts_with("q_") {
                        self.connect_members(a, doc, &origin);
                    }
                }
            }
            RawKind::Builtin(_) | RawKind::Array { .. } => {}
        }
    }

    /// Connects the local members of object `id` (and their features).
    pub(super) fn connect_members(&mut self, id: Id, doc: DocId, origin: &Origin) {
        let names: Vec<String> = match self.ents[id].object() {
            Some(o) => o.local.iter().map(|m| m.name.clone()).collect(),
            None => return,
        };
        for (i, n) in names.iter().enumerate() {
            self.binder.connect_member(doc, Role::Member, n, &origin.span, || origin.context(), self.diags);
            if let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(i)) {
                m.doc = Some(doc);
            }
            self.connect_member_features(id, i, doc, origin);
        }
    }

    /// Connects the features of entity `id`, or of its enum value `value`.
    pub(super) fn connect_features(&mut self, id: Id, value: Option<usize>, doc: DocId, origin: &Origin) {
        let ent = &mut self.ents[id];
        let features = match value {
            Some(i) => match &mut ent.kind {
                RawKind::Enum { values, .. } => match values.get_mut(i) {
                    Some(v) => &mut v.features,
                    None => return,
                },
                _ => return,
            },
            None => &mut ent.features,
        };
        for f in features.iter_mut() {
            self.binder.connect_feature(doc, &f.name, &origin.span, || origin.context(), self.diags);
            f.doc = Some(doc);
        }
    }

    pub(super) fn connect_member_features(&mut self, id: Id, member: usize, doc: DocId, origin: &Origin) {
        let Some(m) = self.ents[id].object_mut().and_then(|o| o.local.get_mut(member)) else {
            return;
        };
        for f in m.features.iter_mut() {
            self.binder.connect_feature(doc, &f.name, &origin.span, || origin.context(), self.diags);
            f.doc = Some(doc);
        }
    }
}
