//! Comparing one pair of types (a node of the graph): values, scalars,
//! enums, objects and their members.

use super::classes::{components, display, members_of, special, type_name, view, Class, View, Wire};
use super::engine::Engine;
use super::finding::{
    cond_change, feature_changes, member_added, member_removed, type_finding, Edge, Finding, Key, Out, Sites,
    VariantPair,
};
use super::report::{ChangeKind, Direction, Severity};
use crate::model::{Entity, EntityKind, Member, ObjectType};

impl<'a> Engine<'a> {
    pub(super) fn compute(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (Some(o), Some(n)) = (old.get(key.old), new.get(key.new)) else { return };
        match (&o.kind, &n.kind) {
            (EntityKind::Object(oo), EntityKind::Object(no)) => self.objects(key, oo, no, out),
            (EntityKind::Array(oa), EntityKind::Array(na)) => {
                let to = self.node(oa.element, na.element, key.dir);
                out.edges.push(Edge { to, hop: String::new(), allowed_by: None, old_site: None, new_site: None });
            }
            _ => self.values(key, out),
        }
    }

    /// Two types at least one of which is not an object or array: compare
    /// the JSON kinds they accept or produce, then each matching pair.
    pub(super) fn values(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let ocs = components(old, key.old);
        let ncs = components(new, key.new);
        let accepts = |a: Class, b: Class| a.wire() == Wire::Any || a.wire() == b.wire();
        let mut pairs = Vec::new();
        match key.dir {
            Direction::Input => {
                for oc in &ocs {
                    match ncs.iter().find(|nc| accepts(nc.class, oc.class)) {
                        Some(nc) => pairs.push((oc, nc)),
                        None => out.findings.push(type_finding(
                            ChangeKind::TypeNarrowed,
                            Severity::Breaking,
                            key.dir,
                            format!(
                                "no longer accepts {} ({} → {})",
                                oc.class.wire().describe(),
                                type_name(old, key.old),
                                type_name(new, key.new)
                            ),
                            "clients that send such a value are now rejected",
                        )),
                    }
                }
            }
            Direction::Output => {
                for nc in &ncs {
                    match ocs.iter().find(|oc| accepts(oc.class, nc.class)) {
                        Some(oc) => pairs.push((oc, nc)),
                        None => out.findings.push(type_finding(
                            ChangeKind::TypeWidened,
                            Severity::Breaking,
                            key.dir,
                            format!(
                                "may now be {} ({} → {})",
                                nc.class.wire().describe(),
                                type_name(old, key.old),
                                type_name(new, key.new)
                            ),
                            "clients that expect the old type cannot read such a value",
                        )),
                    }
                }
            }
        }
        for (oc, nc) in pairs {
            if oc.id == key.old && nc.id == key.new {
                self.scalars(key, oc.class, nc.class, out);
            } else {
                let to = self.node(oc.id, nc.id, key.dir);
                let hop = match (nc.branch, oc.branch) {
                    (Some(b), _) => format!("{}({b})", display(new, key.new)),
                    (None, Some(b)) => format!("{}({b})", display(old, key.old)),
                    (None, None) => String::new(),
                };
                out.edges.push(Edge { to, hop, allowed_by: None, old_site: None, new_site: None });
            }
        }
    }

    /// Two non-alternate types of the same JSON kind.
    pub(super) fn scalars(&mut self, key: Key, oc: Class, nc: Class, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (on, nn) = (type_name(old, key.old), type_name(new, key.new));
        let input = key.dir == Direction::Input;
        // (narrower in the new schema?, wider?)
        let (narrowed, widened) = match (oc, nc) {
            (Class::Enum, Class::Enum) => {
                self.enums(key, out);
                return;
            }
            (Class::Int(ol, oh), Class::Int(nl, nh)) => (nl > ol || nh < oh, nl < ol || nh > oh),
            (Class::Any, Class::Any) => (false, false),
            (Class::Str, Class::Enum) | (Class::Number, Class::Int(..)) | (Class::Any, _) => (true, false),
            (Class::Enum, Class::Str) | (Class::Int(..), Class::Number) | (_, Class::Any) => (false, true),
            _ => (false, false),
        };
        if !narrowed && !widened {
            return;
        }
        let msg = format!("{on} → {nn}");
        let (kind, sev, why) = match (input, narrowed, widened) {
            (true, true, _) => (
                ChangeKind::TypeNarrowed,
                Severity::Breaking,
                format!("clients that send values {nn} does not accept are now rejected"),
            ),
            (false, _, true) => (
                ChangeKind::TypeWidened,
                Severity::Breaking,
                format!("clients that read it as {on} may receive values {on} cannot hold"),
            ),
            (true, false, true) => (ChangeKind::TypeWidened, Severity::Compatible, String::new()),
            _ => (ChangeKind::TypeNarrowed, Severity::Compatible, String::new()),
        };
        out.findings.push(type_finding(kind, sev, key.dir, msg, &why));
    }

    pub(super) fn enums(&mut self, key: Key, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (Some(oe), Some(ne)) = (old.get(key.old), new.get(key.new)) else { return };
        let (Some(ov), Some(nv)) = (oe.as_enum(), ne.as_enum()) else { return };
        let name = display(new, key.new);
        for v in &ov.values {
            let subject = format!("{name} '{}'", v.name);
            match nv.value(&v.name) {
                None => out.findings.push(match key.dir {
                    Direction::Input => Finding {
                        kind: ChangeKind::ValueRemoved,
                        severity: Severity::Breaking,
                        direction: Some(key.dir),
                        subject,
                        message: "value removed".to_owned(),
                        why: "clients that send it are now rejected".to_owned(),
                        old: v.span.clone(),
                        new: ne.span.clone(),
                        allowed_by: special(&v.features),
                    },
                    Direction::Output => Finding {
                        kind: ChangeKind::ValueRemoved,
                        severity: Severity::Compatible,
                        direction: Some(key.dir),
                        subject,
                        message: "value no longer sent".to_owned(),
                        why: String::new(),
                        old: v.span.clone(),
                        new: ne.span.clone(),
                        allowed_by: None,
                    },
                }),
                Some(n) => {
                    out.findings.extend(feature_changes(
                        &subject,
                        &v.features,
                        &n.features,
                        v.span.as_ref(),
                        n.span.as_ref(),
                    ));
                }
            }
        }
        for v in &nv.values {
            if ov.value(&v.name).is_some() {
                continue;
            }
            let output = key.dir == Direction::Output;
            out.findings.push(Finding {
                kind: ChangeKind::ValueAdded,
                severity: if output { Severity::Warning } else { Severity::Compatible },
                direction: Some(key.dir),
                subject: format!("{name} '{}'", v.name),
                message: "value added".to_owned(),
                why: if output {
                    "clients that accept only the values they know may fail on it".to_owned()
                } else {
                    String::new()
                },
                old: oe.span.clone(),
                new: v.span.clone(),
                allowed_by: None,
            });
        }
    }

    pub(super) fn objects(&mut self, key: Key, oo: &'a ObjectType, no: &'a ObjectType, out: &mut Out) {
        let (old, new) = (self.old, self.new);
        let (ov, nv) = (view(old, oo), view(new, no));
        let owner = if self.new_empty == Some(key.new) { display(old, key.old) } else { display(new, key.new) };
        let old_owner = old.get(key.old).and_then(|e| e.span.clone());
        let new_owner = new.get(key.new).and_then(|e| e.span.clone());
        let sites = Sites { owner: &owner, old_owner: &old_owner, new_owner: &new_owner };

        // Members common to every variant.
        for om in &ov.common {
            match nv.common.iter().find(|nm| nm.name == om.name) {
                Some(nm) => self.member_pair(key, om, nm, &owner, None, out),
                None if !nv.branch_members.contains(om.name.as_str()) => {
                    out.findings.push(member_removed(key.dir, old, om, &sites));
                }
                None => {}
            }
        }
        for nm in &nv.common {
            if !ov.common.iter().any(|om| om.name == nm.name) && !ov.branch_members.contains(nm.name.as_str()) {
                out.findings.push(member_added(key.dir, new, nm, &sites));
            }
        }

        let old_tag_enum = ov.tag.and_then(|t| old.get(t.ty)).and_then(Entity::as_enum);
        for (value, ob, nb, ospan, nspan) in self.variant_pairs(key, &ov, &nv, &owner, out) {
            let (Some(ob), Some(nb)) = (ob, nb) else { continue };
            let allowed = old_tag_enum.and_then(|e| e.value(value)).and_then(|v| special(&v.features));
            let hop = format!("{owner}({value})");
            let (old_branch, new_branch) = (members_of(old, ob), members_of(new, nb));
            let moved = |from: &View<'_>, to: &View<'_>, to_branch: &[&Member]| {
                from.common
                    .iter()
                    .any(|m| !to.common.iter().any(|n| n.name == m.name) && to_branch.iter().any(|n| n.name == m.name))
            };
            if moved(&ov, &nv, &new_branch) || moved(&nv, &ov, &old_branch) {
                let branches = (old_branch.as_slice(), new_branch.as_slice());
                self.moved_members(key, (&ov, &nv), branches, (&hop, allowed), &sites, out);
            } else {
                let to = self.node(ob, nb, key.dir);
                out.edges.push(Edge { to, hop, allowed_by: allowed, old_site: ospan, new_site: nspan });
            }
        }
    }

    /// The variants of two objects, paired by tag value; none when the
    /// discriminator changed (reported), a struct's side the empty type
    /// when a struct became a union or back.
    fn variant_pairs(
        &self,
        key: Key,
        ov: &View<'a>,
        nv: &View<'a>,
        owner: &str,
        out: &mut Out,
    ) -> Vec<VariantPair<'a>> {
        match (ov.tag, nv.tag) {
            (Some(ot), Some(nt)) if ot.name != nt.name => {
                out.findings.push(Finding {
                    kind: ChangeKind::DiscriminatorChanged,
                    severity: Severity::Breaking,
                    direction: Some(key.dir),
                    subject: owner.to_owned(),
                    message: format!("discriminator '{}' → '{}'", ot.name, nt.name),
                    why: "values are told apart by a different member".to_owned(),
                    old: ot.span.clone(),
                    new: nt.span.clone(),
                    allowed_by: None,
                });
                Vec::new()
            }
            (Some(_), Some(_)) => nv
                .variants
                .iter()
                .filter_map(|(name, nty, nspan)| {
                    let (_, oty, ospan) = ov.variants.iter().find(|(o, _, _)| o == name)?;
                    Some((*name, Some(*oty), Some(*nty), ospan.clone(), nspan.clone()))
                })
                .collect(),
            (None, Some(_)) => {
                nv.variants.iter().map(|(n, t, s)| (*n, self.old_empty, Some(*t), None, s.clone())).collect()
            }
            (Some(_), None) => {
                ov.variants.iter().map(|(n, t, s)| (*n, Some(*t), self.new_empty, s.clone(), None)).collect()
            }
            (None, None) => Vec::new(),
        }
    }

    /// Members moved between the common part and a branch: the whole
    /// variant is compared, leaving out what both common parts have
    /// (compared already).
    fn moved_members(
        &mut self,
        key: Key,
        (ov, nv): (&View<'a>, &View<'a>),
        (old_branch, new_branch): (&[&'a Member], &[&'a Member]),
        (hop, allowed): (&str, Option<&'static str>),
        sites: &Sites<'_>,
        out: &mut Out,
    ) {
        let both_common =
            |name: &str| ov.common.iter().any(|m| m.name == name) && nv.common.iter().any(|m| m.name == name);
        let old_eff: Vec<&Member> = ov.common.iter().copied().chain(old_branch.iter().copied()).collect();
        let new_eff: Vec<&Member> = nv.common.iter().copied().chain(new_branch.iter().copied()).collect();
        for om in &old_eff {
            if both_common(&om.name) {
                continue;
            }
            match new_eff.iter().find(|nm| nm.name == om.name) {
                Some(nm) => self.member_pair(key, om, nm, hop, allowed, out),
                None => out.findings.push(member_removed(key.dir, self.old, om, sites)),
            }
        }
        for nm in &new_eff {
            if !both_common(&nm.name) && !old_eff.iter().any(|om| om.name == nm.name) {
                out.findings.push(member_added(key.dir, self.new, nm, sites));
            }
        }
    }

    pub(super) fn member_pair(
        &mut self,
        key: Key,
        om: &Member,
        nm: &Member,
        owner: &str,
        allowed: Option<&'static str>,
        out: &mut Out,
    ) {
        let new = self.new;
        let subject = format!("{}.{}", display(new, nm.defined_in), nm.name);
        let allowed_by = special(&om.features);
        let f = |kind, severity, message: &str, why: &str| Finding {
            kind,
            severity,
            direction: Some(key.dir),
            subject: subject.clone(),
            message: message.to_owned(),
            why: why.to_owned(),
            old: om.span.clone(),
            new: nm.span.clone(),
            allowed_by,
        };
        match (key.dir, om.optional, nm.optional) {
            (Direction::Input, true, false) => out.findings.push(f(
                ChangeKind::MadeRequired,
                Severity::Breaking,
                "optional → required",
                "clients that leave it out are now rejected",
            )),
            (Direction::Input, false, true) => {
                out.findings.push(f(ChangeKind::MadeOptional, Severity::Compatible, "required → optional", ""));
            }
            (Direction::Output, false, true) => out.findings.push(f(
                ChangeKind::MadeOptional,
                Severity::Breaking,
                "required → optional",
                "clients that read it may rely on it being present, and it may now be absent",
            )),
            (Direction::Output, true, false) => {
                out.findings.push(f(ChangeKind::MadeRequired, Severity::Compatible, "optional → required", ""));
            }
            _ => {}
        }
        out.findings.extend(feature_changes(&subject, &om.features, &nm.features, om.span.as_ref(), nm.span.as_ref()));
        out.findings.extend(cond_change(&subject, om.cond.as_ref(), nm.cond.as_ref(), "member", &om.span, &nm.span));
        let to = self.node(om.ty, nm.ty, key.dir);
        out.edges.push(Edge {
            to,
            hop: format!("{owner}.{}", nm.name),
            allowed_by: allowed_by.or(allowed),
            old_site: om.span.clone(),
            new_site: nm.span.clone(),
        });
    }
}
