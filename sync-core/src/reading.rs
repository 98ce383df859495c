//! Progress of a read: what a [`Directory`](crate::Directory) or [`TeamStore`](crate::TeamStore)
//! snapshot has counted so far, for people watching a read of 100,000 users.
//!
//! An adapter reports through a [`ReadReporter`] made from the caller's [`ReadOptions`]; the
//! reporter keeps the promises a display relies on whatever the adapter does (a read that
//! starts over, pages answered out of order): within a stage, counts never go down and the
//! total never changes, and every stage ends with one [`ReadProgress::Finished`] carrying the
//! final count. Pure: no clock, no I/O; the caller decides how often to draw.

use std::sync::{Arc, Mutex};

/// Which side of the run a read is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadSide {
    /// The directory (LDAP, Entra, a file).
    Directory,
    /// The Dropbox team.
    Team,
}

impl ReadSide {
    /// "directory" or "team", for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::Team => "team",
        }
    }
}

/// What a stage of a read counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadStage {
    /// Directory users (entries or records read).
    DirectoryUsers,
    /// Directory groups.
    DirectoryGroups,
    /// Directory groups whose member lists have been read (Entra reads them one by one).
    DirectoryGroupMembers,
    /// Deleted entries (AD tombstones, Entra's deleted items).
    DirectoryDeleted,
    /// Known ids looked up to find deletions (OpenLDAP keeps no tombstones); the total is known.
    DirectoryKnownIds,
    /// Team members (removed ones included).
    TeamMembers,
    /// Team groups.
    TeamGroups,
    /// Groups whose member lists have been read; the total is the number of groups to read.
    TeamGroupMembers,
}

impl ReadStage {
    /// The side this stage reads.
    pub fn side(self) -> ReadSide {
        match self {
            Self::DirectoryUsers
            | Self::DirectoryGroups
            | Self::DirectoryGroupMembers
            | Self::DirectoryDeleted
            | Self::DirectoryKnownIds => ReadSide::Directory,
            Self::TeamMembers | Self::TeamGroups | Self::TeamGroupMembers => ReadSide::Team,
        }
    }

    /// What is counted, plural, for people: "users", "member lists of groups", ….
    pub fn noun(self) -> &'static str {
        match self {
            Self::DirectoryUsers => "users",
            Self::DirectoryGroups | Self::TeamGroups => "groups",
            Self::DirectoryDeleted => "deleted entries",
            Self::DirectoryKnownIds => "known ids checked",
            Self::TeamMembers => "members",
            Self::DirectoryGroupMembers | Self::TeamGroupMembers => "group member lists",
        }
    }
}

/// One report of a read in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadProgress {
    /// `count` items of `stage` read so far. Never less than the stage's previous count;
    /// `total` is known in advance or `None`, and the same in every report of the stage.
    Counted {
        /// What is counted.
        stage: ReadStage,
        /// Read so far.
        count: usize,
        /// How many the stage holds, when known before it starts.
        total: Option<usize>,
    },
    /// The stage is complete: `count` items.
    Finished {
        /// What was counted.
        stage: ReadStage,
        /// The final count.
        count: usize,
    },
}

impl ReadProgress {
    /// The stage reported on.
    pub fn stage(&self) -> ReadStage {
        match *self {
            Self::Counted { stage, .. } | Self::Finished { stage, .. } => stage,
        }
    }

    /// The count reported.
    pub fn count(&self) -> usize {
        match *self {
            Self::Counted { count, .. } | Self::Finished { count, .. } => count,
        }
    }
}

/// Called with each [`ReadProgress`]; it runs on the reading task, so it should be quick.
pub type ReadCallback = Arc<dyn Fn(ReadProgress) + Send + Sync>;

/// How to read (passed to [`Directory::snapshot_with`](crate::Directory::snapshot_with) and
/// [`TeamStore::snapshot_with`](crate::TeamStore::snapshot_with)).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Called as the read goes.
    pub on_progress: Option<ReadCallback>,
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl ReadOptions {
    /// Reports progress to `callback`.
    pub fn with_progress(
        mut self,
        callback: impl Fn(ReadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// A reporter for one read.
    pub fn reporter(&self) -> ReadReporter {
        ReadReporter {
            callback: self.on_progress.clone(),
            stages: Mutex::new(Vec::new()),
        }
    }
}

/// What a reporter last said of one stage.
#[derive(Debug, Clone, Copy)]
struct StageState {
    stage: ReadStage,
    count: usize,
    total: Option<usize>,
    finished: bool,
}

/// Reports one read's progress, keeping [`ReadProgress`]'s promises: counts that would go down
/// (a read starting over) and counts past the total are not reported, the first total of a
/// stage is its total, and each stage finishes once. Does nothing without a callback.
pub struct ReadReporter {
    callback: Option<ReadCallback>,
    stages: Mutex<Vec<StageState>>,
}

impl std::fmt::Debug for ReadReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadReporter")
            .field("callback", &self.callback.is_some())
            .finish_non_exhaustive()
    }
}

impl ReadReporter {
    /// A reporter that reports nothing.
    pub fn silent() -> Self {
        ReadOptions::default().reporter()
    }

    /// Whether anyone listens (an adapter may skip counting work when not).
    pub fn is_active(&self) -> bool {
        self.callback.is_some()
    }

    /// `count` items of `stage` read so far, of `total` when known.
    pub fn counted(&self, stage: ReadStage, count: usize, total: Option<usize>) {
        let Some(callback) = &self.callback else {
            return;
        };
        let report = {
            let Ok(mut stages) = self.stages.lock() else {
                return;
            };
            match stages.iter_mut().find(|s| s.stage == stage) {
                None => {
                    stages.push(StageState {
                        stage,
                        count,
                        total,
                        finished: false,
                    });
                    let count = total.map_or(count, |t| count.min(t));
                    Some(ReadProgress::Counted {
                        stage,
                        count,
                        total,
                    })
                }
                Some(state) => {
                    let capped = state.total.map_or(count, |t| count.min(t));
                    if state.finished || capped <= state.count {
                        None
                    } else {
                        state.count = capped;
                        Some(ReadProgress::Counted {
                            stage,
                            count: capped,
                            total: state.total,
                        })
                    }
                }
            }
        };
        if let Some(report) = report {
            callback(report);
        }
    }

    /// `stage` is complete with `count` items (reported once; later calls are ignored).
    pub fn finished(&self, stage: ReadStage, count: usize) {
        let Some(callback) = &self.callback else {
            return;
        };
        {
            let Ok(mut stages) = self.stages.lock() else {
                return;
            };
            match stages.iter_mut().find(|s| s.stage == stage) {
                Some(state) if state.finished => return,
                Some(state) => {
                    state.finished = true;
                    state.count = count;
                }
                None => stages.push(StageState {
                    stage,
                    count,
                    total: None,
                    finished: true,
                }),
            }
        }
        callback(ReadProgress::Finished { stage, count });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> (ReadReporter, Arc<Mutex<Vec<ReadProgress>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reporter = ReadOptions::default()
            .with_progress(move |p| sink.lock().expect("lock").push(p))
            .reporter();
        (reporter, seen)
    }

    #[test]
    fn counts_never_go_down_totals_never_change_and_a_stage_finishes_once() {
        let (r, seen) = recorded();
        r.counted(ReadStage::TeamMembers, 1000, None);
        r.counted(ReadStage::TeamMembers, 2000, None);
        // The read starts over after an expired cursor.
        r.counted(ReadStage::TeamMembers, 1000, None);
        r.counted(ReadStage::TeamMembers, 2500, None);
        r.finished(ReadStage::TeamMembers, 2500);
        r.finished(ReadStage::TeamMembers, 2500);
        r.counted(ReadStage::TeamGroupMembers, 1, Some(3));
        r.counted(ReadStage::TeamGroupMembers, 5, Some(9));
        r.finished(ReadStage::TeamGroupMembers, 3);
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(
            seen,
            vec![
                ReadProgress::Counted {
                    stage: ReadStage::TeamMembers,
                    count: 1000,
                    total: None
                },
                ReadProgress::Counted {
                    stage: ReadStage::TeamMembers,
                    count: 2000,
                    total: None
                },
                ReadProgress::Counted {
                    stage: ReadStage::TeamMembers,
                    count: 2500,
                    total: None
                },
                ReadProgress::Finished {
                    stage: ReadStage::TeamMembers,
                    count: 2500
                },
                ReadProgress::Counted {
                    stage: ReadStage::TeamGroupMembers,
                    count: 1,
                    total: Some(3)
                },
                ReadProgress::Counted {
                    stage: ReadStage::TeamGroupMembers,
                    count: 3,
                    total: Some(3)
                },
                ReadProgress::Finished {
                    stage: ReadStage::TeamGroupMembers,
                    count: 3
                },
            ]
        );
    }

    #[test]
    fn without_a_callback_nothing_is_kept() {
        let r = ReadReporter::silent();
        assert!(!r.is_active());
        r.counted(ReadStage::DirectoryUsers, 5, None);
        r.finished(ReadStage::DirectoryUsers, 5);
    }
}
