//! The builder's working forms of entities, members and their origins,
//! before the public model is made.

use super::*;

/// A fast hasher for the builder's maps of names (FxHash's mixing).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct FastHasher(u64);

impl FastHasher {
    pub(super) fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// QEMU's limit on distinct feature names in a schema.
pub(super) const MAX_FEATURES: usize = 64;

pub(super) type Id = usize;

/// The definition an entity comes from, as QEMU's `info` locates it.
#[derive(Debug, Clone)]
pub(super) struct Origin {
    /// The definition.
    pub(super) span: Span,
    /// `Foo`
    pub(super) name: String,
    /// `struct`
    pub(super) meta: &'static str,
}

impl Origin {
    /// `struct 'Foo'`, as diagnostics name the definition.
    pub(super) fn context(&self) -> String {
        format!("{} '{}'", self.meta, self.name)
    }
}

#[derive(Debug, Clone)]
pub(super) struct RawFeature {
    pub(super) name: String,
    pub(super) cond: Option<Cond>,
    pub(super) span: Span,
    pub(super) doc: Option<DocId>,
}

#[derive(Debug, Clone)]
pub(super) struct RawMember {
    pub(super) name: String,
    /// The interned C name.
    pub(super) ckey: u32,
    pub(super) ty_name: String,
    pub(super) ty: Option<Id>,
    pub(super) optional: bool,
    pub(super) cond: Option<Cond>,
    pub(super) features: Vec<RawFeature>,
    pub(super) span: Span,
    pub(super) defined_in: Id,
    pub(super) doc: Option<DocId>,
}

#[derive(Debug, Clone)]
pub(super) struct RawBranch {
    pub(super) name: String,
    pub(super) ty_name: String,
    pub(super) ty: Option<Id>,
    pub(super) cond: Option<Cond>,
    /// `None` for a branch implied by a tag value.
    pub(super) span: Option<Span>,
    pub(super) doc: Option<DocId>,
}

#[derive(Debug, Clone)]
pub(super) struct RawValue {
    pub(super) name: String,
    /// The interned C name.
    pub(super) ckey: u32,
    pub(super) cond: Option<Cond>,
    pub(super) features: Vec<RawFeature>,
    pub(super) span: Option<Span>,
    pub(super) doc: Option<DocId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    New,
    InProgress,
    Done,
}

/// A member of an object type: the type defining it and its index there.
pub(super) type MemberRef = (Id, usize);

#[derive(Debug)]
pub(super) struct RawBranches {
    pub(super) tag_name: String,
    pub(super) tag: Option<MemberRef>,
    pub(super) list: Vec<RawBranch>,
}

#[derive(Debug)]
pub(super) struct RawObject {
    pub(super) base_name: Option<String>,
    /// The base, once resolved; kept only when its check completed, so
    /// base chains never loop.
    pub(super) base: Option<Id>,
    pub(super) local: Vec<RawMember>,
    pub(super) branches: Option<RawBranches>,
    pub(super) state: State,
    /// Every member is known: the base chain resolved without error.
    pub(super) complete: bool,
    /// The local members by interned C name.
    pub(super) local_keys: FastMap<u32, usize>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Flags {
    pub(super) boxed: bool,
    pub(super) gen: bool,
    pub(super) success_response: bool,
    pub(super) allow_oob: bool,
    pub(super) allow_preconfig: bool,
    pub(super) coroutine: bool,
}

#[derive(Debug)]
pub(super) enum RawKind {
    Builtin(Builtin),
    Enum { values: Vec<RawValue>, prefix: Option<String> },
    Array { elem_name: String, elem: Option<Id> },
    Object(RawObject),
    Alternate { branches: Vec<RawBranch> },
    Command { arg_name: Option<String>, arg: Option<Id>, ret_name: Option<String>, ret: Option<Id>, flags: Flags },
    Event { arg_name: Option<String>, arg: Option<Id>, boxed: bool },
}

#[derive(Debug)]
pub(super) struct RawEntity {
    pub(super) name: String,
    /// The entity's own definition; for implicit types, the one that
    /// introduced them; `None` for built-ins.
    pub(super) origin: Option<Rc<Origin>>,
    pub(super) cond: Option<Cond>,
    pub(super) features: Vec<RawFeature>,
    pub(super) doc: Option<DocId>,
    pub(super) kind: RawKind,
}

impl RawEntity {
    pub(super) fn is_type(&self) -> bool {
        !matches!(self.kind, RawKind::Command { .. } | RawKind::Event { .. })
    }

    pub(super) fn object(&self) -> Option<&RawObject> {
        match &self.kind {
            RawKind::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(super) fn object_mut(&mut self) -> Option<&mut RawObject> {
        match &mut self.kind {
            RawKind::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(super) fn is_union(&self) -> bool {
        self.object().is_some_and(|o| o.branches.is_some())
    }

    /// QEMU's `describe()`: `struct type 'Foo'`, `array type ['int']`,
    /// `command 'foo'`.
    pub(super) fn describe(&self) -> String {
        match &self.kind {
            RawKind::Builtin(_) => format!("built-in type '{}'", self.name),
            RawKind::Enum { .. } => format!("enum type '{}'", self.name),
            RawKind::Array { elem_name, .. } => format!("array type ['{elem_name}']"),
            RawKind::Object(o) if o.branches.is_some() => format!("union type '{}'", self.name),
            RawKind::Object(_) => format!("struct type '{}'", self.name),
            RawKind::Alternate { .. } => format!("alternate type '{}'", self.name),
            RawKind::Command { .. } => format!("command '{}'", self.name),
            RawKind::Event { .. } => format!("event '{}'", self.name),
        }
    }
}

/// A value, branch or feature as QEMU describes it in clash and
/// resolution errors.
#[derive(Debug, Clone)]
pub(super) struct Described {
    pub(super) role: &'static str,
    pub(super) name: String,
    /// The name of what defines it (a type; for member features, the
    /// member, as QEMU has it).
    pub(super) defined_in: String,
}

/// Something whose C name must be unique among its peers.
#[derive(Debug, Clone)]
pub(super) enum Who {
    /// A member of an object type.
    Member(MemberRef),
    /// A value of an enum type: the type and the value's index.
    Value(Id, usize),
    /// Anything else.
    Named(Described),
}

impl Described {
    /// QEMU's `QAPISchemaMember.describe()`, relative to the definition
    /// being checked.
    pub(super) fn describe(&self, defn_name: &str) -> String {
        let mut role = self.role.to_owned();
        let mut meta = "type";
        let mut owner = self.defined_in.as_str();
        if let Some(rest) = owner.strip_prefix("q_obj_") {
            owner = rest;
            if let Some(cmd) = rest.strip_suffix("-arg") {
                role = "parameter".to_owned();
                meta = "command";
                owner = cmd;
            } else if let Some(union) = rest.strip_suffix("-base") {
                role = format!("base {role}");
                owner = union;
            }
        }
        if owner != defn_name {
            format!("{role} '{}' of {meta} '{owner}'", self.name)
        } else {
            format!("{role} '{}'", self.name)
        }
    }
}

/// Members seen so far, by (interned) C name.
pub(super) type Seen = IndexMap<u32, Who>;

impl RawObject {
    pub(super) fn new(base_name: Option<String>, local: Vec<RawMember>, branches: Option<RawBranches>) -> Self {
        RawObject {
            base_name,
            base: None,
            local,
            branches,
            state: State::New,
            complete: true,
            local_keys: FastMap::default(),
        }
    }
}

/// What tells the branches of an alternate apart: the JSON value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum QType {
    Null,
    Num,
    String,
    Bool,
    List,
    Dict,
}
