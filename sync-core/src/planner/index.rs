//! Both sides indexed once: every id and every address is interned into a dense `u32`, so the
//! rest of the planner works on `Vec`s instead of hashing strings again.
//!
//! * Directory: one map from id text to an [`IdEntry`] (the user and the group holding the id,
//!   whether it is held, deleted, or the source id of a managed member), and every group's
//!   direct members resolved to [`Node`]s in one flat array.
//! * Team: members by Dropbox id, and one map from address to an [`EmailEntry`] shared with the
//!   directory's addresses (which live member holds it, which recoverable removed member
//!   reserves it, which directory user claims it first, whether several do).

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::model::{ActualState, DesiredState, MemberStatus, SourceId, TeamMember};
use crate::rules::prepare::RuleEffects;

/// "None" in the dense indices below.
pub(super) const NONE: u32 = u32::MAX;

/// A direct member of a directory group: a user or a group, by index. The top bit marks groups,
/// so a member costs four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Node(u32);

impl Node {
    const GROUP: u32 = 1 << 31;

    fn user(u: u32) -> Self {
        Node(u)
    }

    fn group(g: u32) -> Self {
        Node(g | Self::GROUP)
    }

    /// The group, when this member is one.
    pub(super) fn as_group(self) -> Option<u32> {
        (self.0 & Self::GROUP != 0).then_some(self.0 & !Self::GROUP)
    }

    /// The user, when this member is one.
    pub(super) fn as_user(self) -> Option<u32> {
        (self.0 & Self::GROUP == 0).then_some(self.0)
    }
}

/// What the directory and the team say about one id. Kept in the map's own slot, so that a
/// lookup touches one cache line.
#[derive(Debug, Clone, Copy)]
pub(super) struct IdEntry {
    /// The first directory user with this id.
    pub(super) user: u32,
    /// The first directory group with this id.
    pub(super) group: u32,
    /// teamsync's member for this id when no directory user has it.
    pub(super) orphan: u32,
    /// Several users have it, or the source reported a problem with its entry: its member is
    /// left as it is.
    pub(super) held: bool,
    /// Several groups have it, or a source issue names it and no group of the snapshot has it:
    /// the group is not synced and its team group is left as it is.
    pub(super) group_held: bool,
    /// The directory says it was deleted.
    pub(super) deleted: bool,
}

impl IdEntry {
    const EMPTY: IdEntry = IdEntry {
        user: NONE,
        group: NONE,
        orphan: NONE,
        held: false,
        group_held: false,
        deleted: false,
    };
}

/// The directory, indexed.
pub(super) struct DirectoryIndex<'a> {
    /// Every id either side names.
    ids: FxHashMap<&'a str, IdEntry>,
    /// Direct members of every group, resolved: group `g`'s are
    /// `nodes[node_start[g]..node_start[g + 1]]`. Ids the snapshot does not hold are dropped.
    nodes: Vec<Node>,
    node_start: Vec<u32>,
    /// Users whose id is held (empty when none is).
    user_held: Vec<bool>,
    /// Groups whose id several groups share.
    pub(super) group_held: Vec<bool>,
    /// Users listed with an id an earlier user has, with that earlier user: for warnings.
    pub(super) duplicate_users: Vec<(u32, u32)>,
    /// Groups listed with an id an earlier group has.
    pub(super) duplicate_groups: Vec<u32>,
}

impl<'a> DirectoryIndex<'a> {
    /// `rules`: users the scope rules dropped are left out, as if the directory had not
    /// returned them; the rules' issues count like the snapshot's.
    pub(super) fn new(d: &'a DesiredState, rules: Option<&'a RuleEffects>) -> Self {
        let dropped: &[bool] = rules.map_or(&[], |e| e.dropped.as_slice());
        let mut index = DirectoryIndex {
            ids: FxHashMap::default(),
            nodes: Vec::new(),
            node_start: Vec::with_capacity(d.groups.len() + 1),
            user_held: Vec::new(),
            group_held: vec![false; d.groups.len()],
            duplicate_users: Vec::new(),
            duplicate_groups: Vec::new(),
        };
        index.ids.reserve(d.users.len() + d.groups.len());
        for (i, u) in d.users.iter().enumerate() {
            if !dropped.is_empty() && dropped[i] {
                continue;
            }
            let entry = index.ids.entry(u.id.as_str()).or_insert(IdEntry::EMPTY);
            if entry.user == NONE {
                entry.user = i as u32;
            } else {
                entry.held = true;
                index.duplicate_users.push((entry.user, i as u32));
            }
        }
        for (i, g) in d.groups.iter().enumerate() {
            let entry = index.ids.entry(g.id.as_str()).or_insert(IdEntry::EMPTY);
            if entry.group == NONE {
                entry.group = i as u32;
            } else {
                entry.group_held = true;
                index.group_held[entry.group as usize] = true;
                index.group_held[i] = true;
                index.duplicate_groups.push(i as u32);
            }
        }
        // Members resolved once: a user first (an id held by a user and a group is the user's).
        let edges: usize = d.groups.iter().map(|g| g.members.len()).sum();
        index.nodes.reserve(edges);
        for g in &d.groups {
            index.node_start.push(index.nodes.len() as u32);
            for m in &g.members {
                let Some(entry) = index.ids.get(m.as_str()) else {
                    continue;
                };
                if entry.user != NONE {
                    index.nodes.push(Node::user(entry.user));
                } else if entry.group != NONE {
                    index.nodes.push(Node::group(entry.group));
                }
            }
        }
        index.node_start.push(index.nodes.len() as u32);
        for i in 0..index.duplicate_users.len() {
            let first = index.duplicate_users[i].0;
            index.hold_user(d.users.len(), first);
        }
        let rule_issues: &[crate::model::SourceIssue] = rules.map_or(&[], |e| e.issues.as_slice());
        for issue in d.issues.iter().chain(rule_issues) {
            if let Some(id) = &issue.id {
                let entry = index.ids.entry(id.as_str()).or_insert(IdEntry::EMPTY);
                entry.held = true;
                // An id no user or group of the snapshot carries is an entry the source could
                // not deliver: a team group with it is left as it is, like a member.
                if entry.user == NONE && entry.group == NONE {
                    entry.group_held = true;
                }
                let user = entry.user;
                if user != NONE {
                    index.hold_user(d.users.len(), user);
                }
            }
        }
        for id in &d.deleted {
            index
                .ids
                .entry(id.as_str())
                .or_insert(IdEntry::EMPTY)
                .deleted = true;
        }
        index
    }

    fn hold_user(&mut self, users: usize, u: u32) {
        if self.user_held.is_empty() {
            self.user_held = vec![false; users];
        }
        self.user_held[u as usize] = true;
    }

    /// The entry of `id`, made when new.
    pub(super) fn entry(&mut self, id: &'a str) -> &mut IdEntry {
        self.ids.entry(id).or_insert(IdEntry::EMPTY)
    }

    /// The entry of `id`, if the directory or the team named it.
    pub(super) fn find(&self, id: &str) -> Option<IdEntry> {
        self.ids.get(id).copied()
    }

    /// The group with this id, when the snapshot holds one.
    pub(super) fn group_of(&self, id: &str) -> Option<u32> {
        self.ids.get(id).map(|e| e.group).filter(|&g| g != NONE)
    }

    /// Direct members of group `g`.
    pub(super) fn members(&self, g: u32) -> &[Node] {
        let g = g as usize;
        &self.nodes[self.node_start[g] as usize..self.node_start[g + 1] as usize]
    }

    /// Number of groups.
    pub(super) fn group_count(&self) -> usize {
        self.group_held.len()
    }

    /// Holds the group with this id like a group whose id several groups share: neither synced
    /// nor cleaned up.
    pub(super) fn hold_group(&mut self, id: &'a str) {
        let entry = self.entry(id);
        entry.group_held = true;
        let g = entry.group;
        if g != NONE {
            self.group_held[g as usize] = true;
        }
    }

    /// Whether user `u`'s id is held.
    pub(super) fn user_held(&self, u: usize) -> bool {
        !self.user_held.is_empty() && self.user_held[u]
    }
}

/// What the team and the directory say about one address.
#[derive(Debug, Clone, Copy)]
pub(super) struct EmailEntry {
    /// The live (not removed) member with this login email.
    pub(super) live: u32,
    /// The recoverable removed member that still reserves it.
    pub(super) reserved: u32,
    /// The first enabled in-scope directory user with this address.
    pub(super) first_user: u32,
    /// Several such users claim it: nobody takes it.
    pub(super) colliding: bool,
    /// An invitation this plan withdraws holds it: free for others.
    pub(super) released: bool,
    /// A directory entry the source could not read has it: the member with it is held.
    pub(super) held: bool,
}

impl EmailEntry {
    const EMPTY: EmailEntry = EmailEntry {
        live: NONE,
        reserved: NONE,
        first_user: NONE,
        colliding: false,
        released: false,
        held: false,
    };

    /// The live member holding the address, unless this plan frees it.
    pub(super) fn holder(&self) -> Option<u32> {
        (self.live != NONE && !self.released).then_some(self.live)
    }
}

/// Addresses from both sides, interned.
#[derive(Default)]
pub(super) struct Emails<'a> {
    index: FxHashMap<Cow<'a, str>, u32>,
    /// Entries by index.
    pub(super) entries: Vec<EmailEntry>,
    /// Each entry's address.
    text: Vec<Cow<'a, str>>,
    /// Whether any entry is held.
    pub(super) any_held: bool,
}

impl<'a> Emails<'a> {
    pub(super) fn with_capacity(n: usize) -> Self {
        let mut e = Emails::default();
        e.index.reserve(n);
        e.entries.reserve(n);
        e.text.reserve(n);
        e
    }

    /// The entry of an address, made when new (one hash either way).
    pub(super) fn intern(&mut self, address: Cow<'a, str>) -> u32 {
        let next = self.entries.len() as u32;
        match self.index.entry(address) {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(v) => {
                self.text.push(v.key().clone());
                v.insert(next);
                self.entries.push(EmailEntry::EMPTY);
                next
            }
        }
    }

    /// The address of entry `e`.
    pub(super) fn text(&self, e: u32) -> &str {
        &self.text[e as usize]
    }

    pub(super) fn entry(&self, e: u32) -> &EmailEntry {
        &self.entries[e as usize]
    }

    pub(super) fn entry_mut(&mut self, e: u32) -> &mut EmailEntry {
        &mut self.entries[e as usize]
    }
}

/// Per-member flags, indexed like `ActualState::members`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MemberFlags {
    /// teamsync's member for its source id (the one a managed external id resolves to).
    pub(super) owned: bool,
    /// Its directory entry has a problem, or it is a disabled or protected member: its group
    /// memberships are left as they are.
    pub(super) frozen: bool,
    /// Keeps a seat after the plan.
    pub(super) seated: bool,
    /// Removed or its invitation withdrawn by this plan, which takes it out of its groups.
    pub(super) leaving_groups: bool,
    /// Adopted by this plan: teamsync's once the plan has run.
    pub(super) adopted: bool,
}

/// The team, indexed.
pub(super) struct TeamIndex<'a> {
    /// Members by Dropbox id (the last one listed wins).
    member_index: FxHashMap<&'a str, u32>,
    /// Each member's address entry.
    pub(super) member_email: Vec<u32>,
    pub(super) flags: Vec<MemberFlags>,
    /// teamsync's member for each directory user.
    pub(super) member_of_user: Vec<u32>,
    /// Source ids whose member has no directory user, in the order first seen.
    pub(super) orphans: Vec<&'a str>,
    /// Members whose external id has teamsync's prefix but no valid id (live ones only).
    pub(super) malformed: Vec<u32>,
}

/// A source id as teamsync writes it: what `SourceId::new` accepts, checked without allocating.
fn is_valid_source(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return false;
    };
    !first.is_whitespace()
        && !last.is_whitespace()
        && (s.len() <= SourceId::MAX_LEN || s.chars().count() <= SourceId::MAX_LEN)
}

/// Of two team members claiming one managed external id, keeps a live one, then the smaller id.
fn prefer_member(kept: &TeamMember, other: &TeamMember) -> bool {
    match (kept.status.is_removed(), other.status.is_removed()) {
        (false, true) => true,
        (true, false) => false,
        _ => kept.team_member_id <= other.team_member_id,
    }
}

impl<'a> TeamIndex<'a> {
    /// `users`: how many directory users there are.
    pub(super) fn new(
        a: &'a ActualState,
        prefix: &str,
        dir: &mut DirectoryIndex<'a>,
        emails: &mut Emails<'a>,
        users: usize,
    ) -> Self {
        let n = a.members.len();
        let mut team = TeamIndex {
            member_index: FxHashMap::default(),
            member_email: Vec::with_capacity(n),
            flags: vec![MemberFlags::default(); n],
            member_of_user: vec![NONE; users],
            orphans: Vec::new(),
            malformed: Vec::new(),
        };
        team.member_index.reserve(n);
        for (i, m) in a.members.iter().enumerate() {
            let mi = i as u32;
            team.member_index.insert(&m.team_member_id, mi);
            match m
                .external_id
                .as_deref()
                .and_then(|x| x.strip_prefix(prefix))
            {
                Some(source) if !is_valid_source(source) && !m.status.is_removed() => {
                    team.malformed.push(mi)
                }
                Some(source) if !is_valid_source(source) => {}
                Some(source) => {
                    // Two members claiming one id: a live one wins, then the smaller Dropbox id.
                    let entry = dir.entry(source);
                    let slot = if entry.user != NONE {
                        &mut team.member_of_user[entry.user as usize]
                    } else {
                        if entry.orphan == NONE {
                            team.orphans.push(source);
                        }
                        &mut entry.orphan
                    };
                    if *slot == NONE || !prefer_member(&a.members[*slot as usize], m) {
                        *slot = mi;
                    }
                }
                None => {}
            }
            // Interned before the directory's addresses: most users have their member's, and
            // then find its entry without hashing (see `classify_users`).
            let e = emails.intern(Cow::Borrowed(m.email.as_str()));
            team.member_email.push(e);
            let entry = emails.entry_mut(e);
            match m.status {
                MemberStatus::Removed { recoverable: true } => entry.reserved = mi,
                MemberStatus::Removed { recoverable: false } => {}
                _ => entry.live = mi,
            }
        }
        for &mi in &team.member_of_user {
            if mi != NONE {
                team.flags[mi as usize].owned = true;
            }
        }
        for &source in &team.orphans {
            if let Some(entry) = dir.find(source) {
                team.flags[entry.orphan as usize].owned = true;
            }
        }
        team
    }

    /// Before the team is read.
    pub(super) fn empty() -> Self {
        TeamIndex {
            member_index: FxHashMap::default(),
            member_email: Vec::new(),
            flags: Vec::new(),
            member_of_user: Vec::new(),
            orphans: Vec::new(),
            malformed: Vec::new(),
        }
    }

    /// The member with this Dropbox id.
    pub(super) fn member_by_id(&self, id: &str) -> Option<u32> {
        self.member_index.get(id).copied()
    }
}
