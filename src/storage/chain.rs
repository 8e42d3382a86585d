//! An entity's version chain, with the common single version stored inline.
//!
//! Almost every entity holds exactly one committed version (everything loaded from a base
//! image, everything replayed once from the log, and everything that version GC has trimmed
//! back). Keeping that one inline instead of in a heap `Vec` saves one allocation per
//! entity — 11 million at open for a 1M-node / 10M-relationship graph — and the matching
//! free at close. Two or more versions live in a `Vec`; trimming back to one moves the
//! survivor inline again and frees the `Vec`.
//!
//! A three-variant enum rather than a general small-vector crate: the chain needs only
//! push / pop / retain / clear plus slice access, and the enum is the smallest layout (the
//! inline version shares its space with the `Vec`) with no `unsafe`.

use std::ops::{Deref, DerefMut};

use super::graph::Version;

/// Versions oldest first; derefs to a slice of them, so readers use it like `&[Version<T>]`.
#[derive(Debug, Clone, Default)]
pub enum VersionChain<T> {
    /// Never committed (its creator rolled back), or collected whole.
    #[default]
    Empty,
    One(Version<T>),
    /// Two or more versions (never fewer: operations that shrink it collapse it).
    Many(Vec<Version<T>>),
}

impl<T> VersionChain<T> {
    pub fn one(v: Version<T>) -> VersionChain<T> {
        VersionChain::One(v)
    }

    pub fn as_slice(&self) -> &[Version<T>] {
        match self {
            VersionChain::Empty => &[],
            VersionChain::One(v) => std::slice::from_ref(v),
            VersionChain::Many(vs) => vs,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [Version<T>] {
        match self {
            VersionChain::Empty => &mut [],
            VersionChain::One(v) => std::slice::from_mut(v),
            VersionChain::Many(vs) => vs,
        }
    }

    /// Appends `v` as the newest version.
    pub fn push(&mut self, v: Version<T>) {
        match std::mem::take(self) {
            VersionChain::Empty => *self = VersionChain::One(v),
            VersionChain::One(old) => *self = VersionChain::Many(vec![old, v]),
            VersionChain::Many(mut vs) => {
                vs.push(v);
                *self = VersionChain::Many(vs);
            }
        }
    }

    /// Removes and returns the newest version.
    pub fn pop(&mut self) -> Option<Version<T>> {
        match std::mem::take(self) {
            VersionChain::Empty => None,
            VersionChain::One(v) => Some(v),
            VersionChain::Many(mut vs) => {
                let last = vs.pop();
                *self = VersionChain::from(vs);
                last
            }
        }
    }

    /// Keeps the versions for which `keep` is true, in order (`Vec::retain`).
    pub fn retain(&mut self, mut keep: impl FnMut(&Version<T>) -> bool) {
        match std::mem::take(self) {
            VersionChain::Empty => {}
            VersionChain::One(v) => {
                if keep(&v) {
                    *self = VersionChain::One(v);
                }
            }
            VersionChain::Many(mut vs) => {
                vs.retain(|v| keep(v));
                *self = VersionChain::from(vs);
            }
        }
    }

    pub fn clear(&mut self) {
        *self = VersionChain::Empty;
    }
}

impl<T> From<Vec<Version<T>>> for VersionChain<T> {
    /// The smallest representation of `vs`.
    fn from(mut vs: Vec<Version<T>>) -> VersionChain<T> {
        match vs.len() {
            0 => VersionChain::Empty,
            1 => vs.pop().map_or(VersionChain::Empty, VersionChain::One),
            _ => VersionChain::Many(vs),
        }
    }
}

impl<T> Deref for VersionChain<T> {
    type Target = [Version<T>];

    fn deref(&self) -> &[Version<T>] {
        self.as_slice()
    }
}

impl<T> DerefMut for VersionChain<T> {
    fn deref_mut(&mut self) -> &mut [Version<T>] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(stamp: u64) -> Version<u64> {
        Version {
            stamp,
            data: Some(stamp * 10),
        }
    }

    fn stamps(c: &VersionChain<u64>) -> Vec<u64> {
        c.iter().map(|v| v.stamp).collect()
    }

    fn is_one(c: &VersionChain<u64>) -> bool {
        matches!(c, VersionChain::One(_))
    }

    #[test]
    fn push_grows_from_empty_to_inline_to_heap() {
        let mut c = VersionChain::default();
        assert!(c.is_empty());
        assert_eq!(c.last().map(|v| v.stamp), None);
        c.push(v(1));
        assert!(is_one(&c));
        assert_eq!(stamps(&c), [1]);
        c.push(v(2));
        assert!(matches!(c, VersionChain::Many(_)));
        c.push(v(3));
        assert_eq!(stamps(&c), [1, 2, 3]);
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].data, Some(20));
        assert_eq!(
            c.iter().rev().find(|x| x.stamp <= 2).map(|x| x.stamp),
            Some(2)
        );
    }

    #[test]
    fn pop_collapses_back_to_inline_then_empty() {
        let mut c = VersionChain::from(vec![v(1), v(2), v(3)]);
        assert_eq!(c.pop().map(|x| x.stamp), Some(3));
        assert_eq!(stamps(&c), [1, 2]);
        assert_eq!(c.pop().map(|x| x.stamp), Some(2));
        assert!(is_one(&c));
        assert_eq!(c.pop().map(|x| x.stamp), Some(1));
        assert!(matches!(c, VersionChain::Empty));
        assert!(c.pop().is_none());
    }

    #[test]
    fn last_mut_edits_in_place_for_every_size() {
        for n in 1..=3u64 {
            let mut c = VersionChain::from((1..=n).map(v).collect::<Vec<_>>());
            if let Some(last) = c.last_mut() {
                last.data = None;
            }
            assert_eq!(c.len() as u64, n);
            assert!(c.last().is_some_and(|x| x.data.is_none() && x.stamp == n));
            assert!(c.iter().take(n as usize - 1).all(|x| x.data.is_some()));
        }
        let mut empty: VersionChain<u64> = VersionChain::Empty;
        assert!(empty.last_mut().is_none());
    }

    #[test]
    fn retain_over_zero_one_and_many_versions() {
        let mut c: VersionChain<u64> = VersionChain::Empty;
        c.retain(|_| true);
        assert!(c.is_empty());

        let mut c = VersionChain::one(v(5));
        c.retain(|x| x.stamp == 5);
        assert!(is_one(&c));
        c.retain(|_| false);
        assert!(matches!(c, VersionChain::Empty));

        let mut c = VersionChain::from(vec![v(1), v(2), v(3), v(4)]);
        c.retain(|x| x.stamp % 2 == 0);
        assert_eq!(stamps(&c), [2, 4]);
        assert!(matches!(c, VersionChain::Many(_)));
        // Trimmed to one survivor: back inline, the heap Vec freed.
        c.retain(|x| x.stamp == 4);
        assert!(is_one(&c));
        assert_eq!(stamps(&c), [4]);
        let mut c = VersionChain::from(vec![v(1), v(2)]);
        c.retain(|_| false);
        assert!(matches!(c, VersionChain::Empty));
    }

    #[test]
    fn from_vec_and_clear_pick_the_smallest_form() {
        assert!(matches!(
            VersionChain::<u64>::from(Vec::new()),
            VersionChain::Empty
        ));
        assert!(is_one(&VersionChain::from(vec![v(1)])));
        let mut c = VersionChain::from(vec![v(1), v(2)]);
        assert!(matches!(c, VersionChain::Many(_)));
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn the_inline_form_costs_no_more_than_a_vec_plus_a_word() {
        use crate::storage::graph::{NodeData, RelData};
        let inline = std::mem::size_of::<VersionChain<RelData>>();
        assert!(
            inline <= std::mem::size_of::<Version<RelData>>() + 8,
            "{inline}"
        );
        let inline = std::mem::size_of::<VersionChain<NodeData>>();
        assert!(
            inline <= std::mem::size_of::<Version<NodeData>>() + 8,
            "{inline}"
        );
    }
}
