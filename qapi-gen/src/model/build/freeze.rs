//! Phase 3: the public model, entities assigned to modules.

use super::*;

/// Module names by file name, relative to the root file's directory.
pub(super) struct ModuleNames {
    pub(super) dir: PathBuf,
    pub(super) cwd: PathBuf,
    pub(super) cache: HashMap<String, String>,
}

impl ModuleNames {
    pub(super) fn new(root: &str) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let dir = Path::new(root).parent().unwrap_or(Path::new("")).to_path_buf();
        ModuleNames { dir, cwd, cache: HashMap::new() }
    }

    /// QEMU's module name for a file: its path relative to the root
    /// file's directory (`./`-prefixed names are taken as they are).
    pub(super) fn name(&mut self, file: &str) -> String {
        if let Some(n) = self.cache.get(file) {
            return n.clone();
        }
        let name =
            if file.starts_with("./") { file.to_owned() } else { relpath(&self.cwd, Path::new(file), &self.dir) };
        self.cache.insert(file.to_owned(), name.clone());
        name
    }
}

/// `path` relative to `start`, both taken relative to `cwd` when not
/// absolute, without touching the file system (Python's `os.path.relpath`).
pub(super) fn relpath(cwd: &Path, path: &Path, start: &Path) -> String {
    let abs = |p: &Path| -> Vec<String> {
        let joined = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
        let mut parts: Vec<String> = Vec::new();
        for c in joined.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop();
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        parts
    };
    let p = abs(path);
    let s = abs(start);
    let common = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; s.len() - common];
    out.extend(p[common..].iter().map(String::as_str));
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

pub(super) fn freeze(
    ents: Vec<RawEntity>,
    names: FastMap<String, Id>,
    items: Vec<Item>,
    features: Vec<String>,
    docs: Vec<Arc<Doc>>,
    root: &str,
) -> Schema {
    let (modules, entity_module) = assign_modules(&ents, items, root);
    let public = Public { docs: &docs, unknown: EntityId::new(usize::MAX) };
    let mut tags: Vec<(Id, MemberRef)> = Vec::new();
    let mut entities = Vec::with_capacity(ents.len());
    for (id, e) in ents.into_iter().enumerate() {
        if let Some(tag) = e.object().and_then(|o| o.branches.as_ref()).and_then(|b| b.tag) {
            tags.push((id, tag));
        }
        entities.push(Entity {
            id: EntityId::new(id),
            name: e.name,
            span: e.origin.map(|o| o.span.clone()),
            cond: e.cond,
            features: public.features(e.features),
            doc: public.block(e.doc),
            module: entity_module.get(id).copied().unwrap_or(ModuleId::new(0)),
            kind: public.kind(e.kind),
        });
    }
    // An array type has its element type's condition.
    for i in 0..entities.len() {
        if let EntityKind::Array(a) = &entities[i].kind {
            let cond = entities.get(a.element.index()).and_then(|e| e.cond.clone());
            entities[i].cond = cond;
        }
    }
    // Union tags: members of the base.
    for (id, (owner, idx)) in tags {
        let tag = entities.get(owner).and_then(Entity::as_object).and_then(|o| o.local_members.get(idx)).cloned();
        if let (Some(EntityKind::Object(o)), Some(t)) = (entities.get_mut(id).map(|e| &mut e.kind), tag) {
            if let Some(b) = &mut o.branches {
                b.tag = t;
            }
        }
    }
    Schema {
        entities,
        names: names.into_iter().map(|(n, id)| (n, EntityId::new(id))).collect(),
        modules: modules.into_iter().map(|(name, items)| Module { name, items }).collect(),
        docs,
        features,
    }
}

/// The modules (built-in, root, then included files in order of
/// inclusion) with their items, and each entity's module.
fn assign_modules(
    ents: &[RawEntity],
    items: Vec<Item>,
    root: &str,
) -> (IndexMap<String, Vec<ModuleItem>>, Vec<ModuleId>) {
    let mut module_names = ModuleNames::new(root);
    let mut modules: IndexMap<String, Vec<ModuleItem>> = IndexMap::new();
    modules.insert(Module::BUILTIN.to_owned(), Vec::new());
    if !root.is_empty() {
        modules.insert(module_names.name(root), Vec::new());
    }
    let file_of = |id: Id| -> Option<&Span> {
        let e = ents.get(id)?;
        let owner = match &e.kind {
            RawKind::Array { elem, .. } => ents.get((*elem)?)?,
            _ => e,
        };
        owner.origin.as_ref().map(|o| &o.span)
    };
    // QEMU creates every included module before assigning entities to
    // modules, so an array type can land in a module included later.
    for item in &items {
        if let Item::Include { name, .. } = item {
            modules.entry(module_names.name(name)).or_default();
        }
    }
    let mut entity_module = vec![ModuleId::new(0); ents.len()];
    for item in items {
        let (here, entry) = match item {
            Item::Include { name, span } => {
                let sub = modules.get_index_of(&module_names.name(&name)).unwrap_or(0);
                (module_names.name(&span.file.name), ModuleItem::Include { module: ModuleId::new(sub), span })
            }
            Item::Entity(id) => {
                let here = match file_of(id) {
                    Some(s) => module_names.name(&s.file.name),
                    None => Module::BUILTIN.to_owned(),
                };
                (here, ModuleItem::Entity(EntityId::new(id)))
            }
        };
        let slot = modules.entry(here);
        let index = slot.index();
        if let ModuleItem::Entity(id) = &entry {
            if let Some(m) = entity_module.get_mut(id.index()) {
                *m = ModuleId::new(index);
            }
        }
        slot.or_default().push(entry);
    }
    (modules, entity_module)
}

/// Turns the builder's raw forms into the public model's.
struct Public<'d> {
    docs: &'d [Arc<Doc>],
    /// The id of a type that did not resolve.
    unknown: EntityId,
}

impl Public<'_> {
    fn block(&self, doc: Option<DocId>) -> Option<Arc<Doc>> {
        self.docs.get(doc?.0).cloned()
    }

    fn resolved(&self, t: Option<Id>) -> EntityId {
        t.map_or(self.unknown, EntityId::new)
    }

    fn features(&self, fs: Vec<RawFeature>) -> Vec<Feature> {
        fs.into_iter()
            .map(|f| Feature { doc_block: self.block(f.doc), name: f.name, cond: f.cond, span: Some(f.span) })
            .collect()
    }

    fn member(&self, m: RawMember) -> Member {
        Member {
            doc_block: self.block(m.doc),
            ty: self.resolved(m.ty),
            optional: m.optional,
            cond: m.cond,
            features: self.features(m.features),
            span: Some(m.span),
            defined_in: EntityId::new(m.defined_in),
            name: m.name,
        }
    }

    fn branch(&self, b: RawBranch) -> Branch {
        Branch { doc_block: self.block(b.doc), ty: self.resolved(b.ty), cond: b.cond, span: b.span, name: b.name }
    }

    /// The public kind; a union's tag is a placeholder until every
    /// entity is made.
    fn kind(&self, kind: RawKind) -> EntityKind {
        match kind {
            RawKind::Builtin(b) => EntityKind::Builtin(b),
            RawKind::Enum { values, prefix } => EntityKind::Enum(EnumType {
                values: values
                    .into_iter()
                    .map(|v| EnumValue {
                        doc_block: self.block(v.doc),
                        name: v.name,
                        cond: v.cond,
                        features: self.features(v.features),
                        span: v.span,
                    })
                    .collect(),
                prefix,
            }),
            RawKind::Array { elem, .. } => EntityKind::Array(ArrayType { element: self.resolved(elem) }),
            RawKind::Object(o) => EntityKind::Object(ObjectType {
                base: o.base.map(EntityId::new),
                local_members: o.local.into_iter().map(|m| self.member(m)).collect(),
                branches: o.branches.map(|b| Branches {
                    tag: placeholder_member(self.unknown),
                    branches: b.list.into_iter().map(|b| self.branch(b)).collect(),
                }),
            }),
            RawKind::Alternate { branches } => EntityKind::Alternate(AlternateType {
                branches: branches.into_iter().map(|b| self.branch(b)).collect(),
            }),
            RawKind::Command { arg, ret, flags, .. } => EntityKind::Command(Command {
                arg_type: arg.map(EntityId::new),
                ret_type: ret.map(EntityId::new),
                boxed: flags.boxed,
                gen: flags.gen,
                success_response: flags.success_response,
                allow_oob: flags.allow_oob,
                allow_preconfig: flags.allow_preconfig,
                coroutine: flags.coroutine,
            }),
            RawKind::Event { arg, boxed, .. } => EntityKind::Event(Event { arg_type: arg.map(EntityId::new), boxed }),
        }
    }
}

pub(super) fn placeholder_member(unknown: EntityId) -> Member {
    Member {
        name: String::new(),
        ty: unknown,
        optional: false,
        cond: None,
        features: Vec::new(),
        span: None,
        defined_in: unknown,
        doc_block: None,
    }
}
