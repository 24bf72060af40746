//! `if` conditions: what they are, when they hold, and how each consumer
//! writes them.
//!
//! The expression checks build a [`Cond`] (`check::cond`), the model
//! carries it on definitions, members, values, branches and features
//! (`model::Cond`), and the backends evaluate or print it through the
//! methods here: one evaluation, one text form per audience.

use std::collections::BTreeSet;
use std::fmt;

/// An `if` condition.
///
/// [`Display`](fmt::Display) writes it as an expression people read:
///
/// ```
/// use qapi_gen::model::Cond;
/// let c = Cond::All(vec![Cond::Name("A".into()), Cond::Not(Box::new(Cond::Name("B".into())))]);
/// assert_eq!(c.to_string(), "A && !B");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `'NAME'`: a configuration symbol is defined.
    Name(String),
    /// `{ 'all': [...] }`
    All(Vec<Cond>),
    /// `{ 'any': [...] }`
    Any(Vec<Cond>),
    /// `{ 'not': ... }`
    Not(Box<Cond>),
}

/// Conditions over more names than this are not compared by
/// [`Cond::implies`] (2^16 assignments).
const MAX_IMPLIES_NAMES: usize = 16;

impl Cond {
    /// Whether the condition holds, `defined` telling which names are.
    ///
    /// ```
    /// use qapi_gen::model::Cond;
    /// let c = Cond::Any(vec![Cond::Name("A".into()), Cond::Name("B".into())]);
    /// assert!(c.eval(&|n| n == "B"));
    /// assert!(!c.eval(&|_| false));
    /// ```
    pub fn eval(&self, defined: &impl Fn(&str) -> bool) -> bool {
        match self {
            Cond::Name(n) => defined(n),
            Cond::All(v) => v.iter().all(|c| c.eval(defined)),
            Cond::Any(v) => v.iter().any(|c| c.eval(defined)),
            Cond::Not(c) => !c.eval(defined),
        }
    }

    /// Whether the condition holds when exactly the names in `names` are
    /// defined.
    ///
    /// ```
    /// use qapi_gen::model::Cond;
    /// let names = ["CONFIG_VNC".to_owned()].into_iter().collect();
    /// assert!(Cond::Name("CONFIG_VNC".into()).holds_with(&names));
    /// ```
    pub fn holds_with(&self, names: &BTreeSet<String>) -> bool {
        self.eval(&|n| names.contains(n))
    }

    /// The names the condition mentions, each once, in order.
    pub fn names(&self) -> Vec<&str> {
        fn walk<'c>(c: &'c Cond, out: &mut Vec<&'c str>) {
            match c {
                Cond::Name(n) if !out.contains(&n.as_str()) => out.push(n),
                Cond::Name(_) => {}
                Cond::Not(c) => walk(c, out),
                Cond::All(v) | Cond::Any(v) => v.iter().for_each(|c| walk(c, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether every build where `cond` holds (`None`: every build) is
    /// one where `self` holds, tried over every assignment of the names
    /// involved; `false` for conditions over more than 16 names.
    ///
    /// ```
    /// use qapi_gen::model::Cond;
    /// let (a, b) = (Cond::Name("A".into()), Cond::Name("B".into()));
    /// let any = Cond::Any(vec![a.clone(), b.clone()]);
    /// assert!(any.implied_by(Some(&a)));
    /// assert!(!a.implied_by(Some(&any)));
    /// assert!(!a.implied_by(None));
    /// ```
    pub fn implied_by(&self, cond: Option<&Cond>) -> bool {
        let mut vars = cond.map(Cond::names).unwrap_or_default();
        for n in self.names() {
            if !vars.contains(&n) {
                vars.push(n);
            }
        }
        if vars.len() > MAX_IMPLIES_NAMES {
            return false;
        }
        (0..1u32 << vars.len()).all(|bits| {
            let defined = |n: &str| vars.iter().position(|v| *v == n).is_some_and(|i| bits & (1 << i) != 0);
            !cond.is_none_or(|c| c.eval(&defined)) || self.eval(&defined)
        })
    }

    /// The condition as Python prints the value QEMU keeps for it (QEMU's
    /// test dumps): `'A'`, `{'all': ['A', {'not': 'B'}]}`.
    ///
    /// ```
    /// use qapi_gen::model::Cond;
    /// let c = Cond::Not(Box::new(Cond::Name("B".into())));
    /// assert_eq!(c.to_python(), "{'not': 'B'}");
    /// ```
    pub fn to_python(&self) -> String {
        let list = |v: &[Cond]| v.iter().map(Cond::to_python).collect::<Vec<_>>().join(", ");
        match self {
            Cond::Name(n) => format!("'{n}'"),
            Cond::All(v) => format!("{{'all': [{}]}}", list(v)),
            Cond::Any(v) => format!("{{'any': [{}]}}", list(v)),
            Cond::Not(c) => format!("{{'not': {}}}", c.to_python()),
        }
    }

    /// The condition as a Rust `cfg` predicate over `key`:
    /// `key = "NAME"`, `all(..)`, `any(..)`, `not(..)`.
    ///
    /// ```
    /// use qapi_gen::model::Cond;
    /// let c = Cond::All(vec![Cond::Name("A".into()), Cond::Not(Box::new(Cond::Name("B".into())))]);
    /// assert_eq!(c.to_cfg("qapi"), r#"all(qapi = "A", not(qapi = "B"))"#);
    /// ```
    pub fn to_cfg(&self, key: &str) -> String {
        let list = |v: &[Cond]| v.iter().map(|c| c.to_cfg(key)).collect::<Vec<_>>().join(", ");
        match self {
            // Names are identifiers (checked), so Debug's quoting is the literal.
            Cond::Name(n) => format!("{key} = {n:?}"),
            Cond::All(v) => format!("all({})", list(v)),
            Cond::Any(v) => format!("any({})", list(v)),
            Cond::Not(c) => format!("not({})", c.to_cfg(key)),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Name(n) => f.write_str(n),
            Cond::Not(c) => match &**c {
                Cond::Name(n) => write!(f, "!{n}"),
                other => write!(f, "!({other})"),
            },
            Cond::All(v) | Cond::Any(v) => {
                let op = if matches!(self, Cond::All(_)) { " && " } else { " || " };
                for (i, c) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    match c {
                        Cond::All(_) | Cond::Any(_) => write!(f, "({c})")?,
                        _ => write!(f, "{c}")?,
                    }
                }
                Ok(())
            }
        }
    }
}
