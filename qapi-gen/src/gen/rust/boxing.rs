//! Where recursion needs a `Box`: the member and branch edges that make
//! the containment graph of the schema's types acyclic.

use std::collections::{HashMap, HashSet};

use crate::model::{EntityId, EntityKind};
use crate::Schema;

/// The member and branch edges that get a `Box`: enough to make the
/// containment graph (a member or branch holds its type by value; arrays
/// don't) acyclic, chosen greedily: in each cycle of types, the type with
/// the most cycles through it (in-degree × out-degree within its strongly
/// connected component) gets its incoming edges boxed, until no cycle is
/// left. `BlockdevRef`'s `BlockdevOptions` is boxed, not every `file`.
pub(super) fn boxed_edges(schema: &Schema) -> HashSet<(EntityId, EntityId)> {
    let n = schema.entities().len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in schema.entities() {
        let mut add = |to: EntityId| {
            let t = &schema[to];
            let list = &mut edges[e.id.index()];
            if matches!(t.kind, EntityKind::Object(_) | EntityKind::Alternate(_)) && !list.contains(&to.index()) {
                list.push(to.index());
            }
        };
        match &e.kind {
            EntityKind::Object(o) => {
                for m in o.all_members(schema) {
                    add(m.ty);
                }
                if let Some(b) = &o.branches {
                    for br in &b.branches {
                        add(br.ty);
                    }
                }
            }
            EntityKind::Alternate(a) => {
                for br in &a.branches {
                    add(br.ty);
                }
            }
            _ => {}
        }
    }
    let mut boxed: HashSet<(usize, usize)> = HashSet::new();
    for (from, list) in edges.iter().enumerate() {
        if list.contains(&from) {
            boxed.insert((from, from));
        }
    }
    loop {
        let comp = components(&edges, &boxed);
        let mut size = vec![0usize; n];
        for &c in &comp {
            size[c] += 1;
        }
        // Per component, the node with the most cycles through it.
        let mut indeg = vec![0usize; n];
        let mut outdeg = vec![0usize; n];
        for (from, list) in edges.iter().enumerate() {
            for &to in list {
                if comp[from] == comp[to] && size[comp[from]] > 1 && !boxed.contains(&(from, to)) {
                    outdeg[from] += 1;
                    indeg[to] += 1;
                }
            }
        }
        let mut best: HashMap<usize, (usize, usize)> = HashMap::new();
        for v in 0..n {
            if size[comp[v]] > 1 {
                let score = indeg[v] * outdeg[v];
                let entry = best.entry(comp[v]).or_insert((score, v));
                if score >= entry.0 {
                    *entry = (score, v);
                }
            }
        }
        if best.is_empty() {
            break;
        }
        for &(_, v) in best.values() {
            for (from, list) in edges.iter().enumerate() {
                if comp[from] == comp[v] && list.contains(&v) {
                    boxed.insert((from, v));
                }
            }
        }
    }
    boxed.into_iter().map(|(a, b)| (EntityId::new(a), EntityId::new(b))).collect()
}

/// Strongly connected components (Kosaraju), ignoring `removed` edges:
/// the component number of each node.
fn components(edges: &[Vec<usize>], removed: &HashSet<(usize, usize)>) -> Vec<usize> {
    let n = edges.len();
    let live = |from: usize, to: usize| !removed.contains(&(from, to));
    // First pass: finishing order.
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (node, next) = (top.0, top.1);
            if let Some(&to) = edges[node].get(next) {
                top.1 += 1;
                if live(node, to) && !seen[to] {
                    seen[to] = true;
                    stack.push((to, 0));
                }
            } else {
                order.push(node);
                stack.pop();
            }
        }
    }
    // Second pass on the reversed graph.
    let mut rev: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (from, list) in edges.iter().enumerate() {
        for &to in list {
            if live(from, to) {
                rev[to].push(from);
            }
        }
    }
    let mut comp = vec![usize::MAX; n];
    for &root in order.iter().rev() {
        if comp[root] != usize::MAX {
            continue;
        }
        comp[root] = root;
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for &from in &rev[node] {
                if comp[from] == usize::MAX {
                    comp[from] = root;
                    stack.push(from);
                }
            }
        }
    }
    comp
}
