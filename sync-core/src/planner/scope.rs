//! Scope and closure over the directory's nesting: which groups the roots reach (and by which
//! path), the cycles among groups, and every group's transitive users — each computed once per
//! strongly connected set of groups, children before parents, so any depth of nesting costs
//! time linear in the nesting plus the memberships it yields.

use crate::model::{DesiredState, SourceId};

use super::index::{DirectoryIndex, NONE};

/// The groups reachable from `roots`, breadth first, with the path each was reached by.
pub(super) struct Reach {
    /// Groups reached, roots included, in the order reached.
    pub(super) order: Vec<u32>,
    /// For each group: the group it was reached from (`NONE` for roots and unreached groups).
    /// Of several parents at the same depth, the one with the smallest id, so that paths do not
    /// depend on input order.
    pub(super) parent: Vec<u32>,
    /// For each group: whether it was reached.
    pub(super) reached: Vec<bool>,
}

impl Reach {
    /// Nothing reached.
    pub(super) fn empty() -> Self {
        Reach {
            order: Vec::new(),
            parent: Vec::new(),
            reached: Vec::new(),
        }
    }

    /// Breadth first from `roots`, level by level.
    pub(super) fn from(d: &DesiredState, dir: &DirectoryIndex<'_>, roots: &[SourceId]) -> Self {
        let n = dir.group_count();
        let mut reach = Reach {
            order: Vec::new(),
            parent: vec![NONE; n],
            reached: vec![false; n],
        };
        let mut depth = vec![0u32; n];
        let mut level: Vec<u32> = Vec::new();
        for root in roots {
            if let Some(g) = dir.group_of(root.as_str()) {
                if !reach.reached[g as usize] {
                    reach.reached[g as usize] = true;
                    level.push(g);
                }
            }
        }
        let mut next: Vec<u32> = Vec::new();
        let mut at = 0u32;
        while !level.is_empty() {
            reach.order.extend_from_slice(&level);
            for &g in &level {
                for node in dir.members(g) {
                    let Some(sub) = node.as_group() else { continue };
                    let s = sub as usize;
                    if !reach.reached[s] {
                        reach.reached[s] = true;
                        reach.parent[s] = g;
                        depth[s] = at + 1;
                        next.push(sub);
                    } else if depth[s] == at + 1 && reach.parent[s] != NONE {
                        // Another parent at the same depth: the smaller id, whatever the input order.
                        let current = reach.parent[s] as usize;
                        if d.groups[g as usize].id < d.groups[current].id {
                            reach.parent[s] = g;
                        }
                    }
                }
            }
            std::mem::swap(&mut level, &mut next);
            next.clear();
            at += 1;
        }
        reach
    }

    /// The path from a root down to `g`, root first.
    pub(super) fn path(&self, g: u32) -> Vec<u32> {
        let mut path = vec![g];
        let mut at = g;
        while self.parent[at as usize] != NONE {
            at = self.parent[at as usize];
            path.push(at);
        }
        path.reverse();
        path
    }
}

/// Strongly connected sets of groups (Tarjan's algorithm, iterative so that deep nesting cannot
/// overflow the stack), in the order Tarjan finds them: every set after all the sets it
/// contains.
pub(super) struct Components {
    /// Each group's set.
    pub(super) of_group: Vec<u32>,
    /// The groups of each set.
    pub(super) groups: Vec<Vec<u32>>,
}

impl Components {
    pub(super) fn of(dir: &DirectoryIndex<'_>) -> Self {
        const UNSEEN: u32 = u32::MAX;
        let n = dir.group_count();
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        // The walk's own call stack: (group, next member to look at).
        let mut calls: Vec<(u32, usize)> = Vec::new();
        let mut next = 0u32;
        let mut out = Components {
            of_group: vec![NONE; n],
            groups: Vec::new(),
        };
        let mut visit = |v: u32,
                         index: &mut Vec<u32>,
                         low: &mut Vec<u32>,
                         stack: &mut Vec<u32>,
                         on_stack: &mut Vec<bool>,
                         calls: &mut Vec<(u32, usize)>| {
            index[v as usize] = next;
            low[v as usize] = next;
            next += 1;
            stack.push(v);
            on_stack[v as usize] = true;
            calls.push((v, 0));
        };
        for root in 0..n as u32 {
            if index[root as usize] != UNSEEN {
                continue;
            }
            visit(
                root,
                &mut index,
                &mut low,
                &mut stack,
                &mut on_stack,
                &mut calls,
            );
            while let Some(&(v, pos)) = calls.last() {
                let vi = v as usize;
                // Users are no part of the walk: skip to the next group member.
                let members = dir.members(v);
                let pos = pos
                    + members[pos.min(members.len())..]
                        .iter()
                        .take_while(|n| n.as_group().is_none())
                        .count();
                if let Some(node) = members.get(pos) {
                    if let Some(top) = calls.last_mut() {
                        top.1 = pos + 1;
                    }
                    if let Some(w) = node.as_group() {
                        let wi = w as usize;
                        if index[wi] == UNSEEN {
                            visit(
                                w,
                                &mut index,
                                &mut low,
                                &mut stack,
                                &mut on_stack,
                                &mut calls,
                            );
                        } else if on_stack[wi] {
                            low[vi] = low[vi].min(index[wi]);
                        }
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    low[parent as usize] = low[parent as usize].min(low[vi]);
                }
                if low[vi] == index[vi] {
                    let c = out.groups.len() as u32;
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        out.of_group[w as usize] = c;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.groups.push(component);
                }
            }
        }
        out
    }

    /// The cycles: every set of more than one group, and every group that contains itself.
    pub(super) fn cycles<'s>(
        &'s self,
        dir: &'s DirectoryIndex<'_>,
    ) -> impl Iterator<Item = &'s [u32]> + 's {
        self.groups
            .iter()
            .filter(move |c| {
                c.len() > 1 || dir.members(c[0]).iter().any(|n| n.as_group() == Some(c[0]))
            })
            .map(Vec::as_slice)
    }
}

/// Every needed group's transitive users, sorted and without duplicates, memoised per
/// strongly connected set: a set's users are its groups' own users plus the users of the sets
/// they contain, computed children first. A set with no users of its own and one child shares
/// the child's list, so long chains cost nothing per link.
pub(super) struct Closure {
    /// For each set: which list holds its users (`NONE` when not needed).
    list_of: Vec<u32>,
    lists: Vec<Vec<u32>>,
    components: Components,
}

impl Closure {
    /// Closes the groups in `needed` (and whatever they contain).
    pub(super) fn new(dir: &DirectoryIndex<'_>, components: Components, needed: &[u32]) -> Self {
        let sets = components.groups.len();
        // Mark the sets the needed groups reach.
        let mut wanted = vec![false; sets];
        let mut stack: Vec<u32> = Vec::new();
        for &g in needed {
            let c = components.of_group[g as usize];
            if !wanted[c as usize] {
                wanted[c as usize] = true;
                stack.push(c);
            }
        }
        while let Some(c) = stack.pop() {
            for &g in &components.groups[c as usize] {
                for node in dir.members(g) {
                    if let Some(sub) = node.as_group() {
                        let sc = components.of_group[sub as usize];
                        if !wanted[sc as usize] {
                            wanted[sc as usize] = true;
                            stack.push(sc);
                        }
                    }
                }
            }
        }
        let mut closure = Closure {
            list_of: vec![NONE; sets],
            lists: Vec::new(),
            components,
        };
        // Tarjan's order: children before parents.
        let mut children: Vec<u32> = Vec::new();
        for (c, _) in wanted.iter().enumerate().filter(|(_, w)| **w) {
            children.clear();
            let mut own = 0;
            for &g in &closure.components.groups[c] {
                own += dir.members(g).len();
            }
            let mut users: Vec<u32> = Vec::with_capacity(own);
            for &g in &closure.components.groups[c] {
                for node in dir.members(g) {
                    match (node.as_user(), node.as_group()) {
                        (Some(u), _) => users.push(u),
                        (_, Some(sub)) => {
                            let sc = closure.components.of_group[sub as usize];
                            if sc as usize != c {
                                children.push(closure.list_of[sc as usize]);
                            }
                        }
                        _ => {}
                    }
                }
            }
            children.sort_unstable();
            children.dedup();
            if users.is_empty() && children.len() == 1 {
                closure.list_of[c] = children[0];
                continue;
            }
            users.reserve(
                children
                    .iter()
                    .map(|&list| closure.lists[list as usize].len())
                    .sum(),
            );
            for &list in &children {
                users.extend_from_slice(&closure.lists[list as usize]);
            }
            if !users.is_sorted() {
                users.sort_unstable();
            }
            users.dedup();
            closure.list_of[c] = closure.lists.len() as u32;
            closure.lists.push(users);
        }
        closure
    }

    /// The users of group `g`, directly or through nested groups, sorted.
    pub(super) fn users_of(&self, g: u32) -> &[u32] {
        let list = self.list_of[self.components.of_group[g as usize] as usize];
        if list == NONE {
            &[]
        } else {
            &self.lists[list as usize]
        }
    }
}
