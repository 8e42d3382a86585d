//! A grow-only set of node ids iterated in ascending order: the label lists.
//!
//! New nodes get ever larger ids, so nearly every insertion is above everything already
//! there: those append to a sorted `Vec` in O(1) (a `BTreeSet` insertion was a tree descent
//! each — the largest single cost of replaying a long log of node creations). The rest (a
//! label added to an older node) go to a `BTreeSet` beside it; iteration merges the two.
//! An id is stored in at most one of them.

use std::collections::BTreeSet;
use std::iter::Peekable;

use super::NodeId;

#[derive(Debug, Default, Clone)]
pub struct IdSet {
    /// Ascending, unique.
    run: Vec<NodeId>,
    /// Ids below `run`'s last when they were inserted; none is also in `run`.
    rest: BTreeSet<NodeId>,
}

impl IdSet {
    /// The set of `ids`, which must be ascending and unique (checked: others go the slow way).
    pub fn from_ascending(ids: Vec<NodeId>) -> IdSet {
        if ids.windows(2).all(|w| w[0] < w[1]) {
            return IdSet {
                run: ids,
                rest: BTreeSet::new(),
            };
        }
        let mut s = IdSet::default();
        for id in ids {
            s.insert(id);
        }
        s
    }

    /// Adds `id`; returns whether it was new.
    pub fn insert(&mut self, id: NodeId) -> bool {
        match self.run.last() {
            Some(&last) if last >= id => {
                if self.run.binary_search(&id).is_ok() {
                    return false;
                }
                self.rest.insert(id)
            }
            _ => {
                self.run.push(id);
                true
            }
        }
    }

    pub fn contains(&self, id: NodeId) -> bool {
        self.run.binary_search(&id).is_ok() || self.rest.contains(&id)
    }

    pub fn len(&self) -> usize {
        self.run.len() + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every id, ascending.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            run: self.run.iter().copied().peekable(),
            rest: self.rest.iter().copied().peekable(),
        }
    }
}

/// The merge of an `IdSet`'s two ascending parts.
pub struct Iter<'a> {
    run: Peekable<std::iter::Copied<std::slice::Iter<'a, NodeId>>>,
    rest: Peekable<std::iter::Copied<std::collections::btree_set::Iter<'a, NodeId>>>,
}

impl Iterator for Iter<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        match (self.run.peek(), self.rest.peek()) {
            (Some(a), Some(b)) if b < a => self.rest.next(),
            (Some(_), _) => self.run.next(),
            (None, _) => self.rest.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_out_of_order_inserts_iterate_ascending_once() {
        let mut s = IdSet::default();
        assert!(s.is_empty());
        for id in [5, 9, 12] {
            assert!(s.insert(id));
        }
        assert!(!s.insert(9), "already in the run");
        assert!(s.insert(7));
        assert!(s.insert(1));
        assert!(!s.insert(7), "already in the rest");
        assert!(s.insert(20));
        assert!(s.insert(10));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 5, 7, 9, 10, 12, 20]);
        assert_eq!(s.len(), 7);
        assert!(s.contains(7) && s.contains(20) && !s.contains(8));
    }

    #[test]
    fn matches_a_btreeset_on_a_mixed_sequence() {
        let mut s = IdSet::default();
        let mut model = BTreeSet::new();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..5000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly ascending, like node creation, with older ids now and then.
            let id = if x % 4 == 0 { x % (i + 1) } else { i * 2 };
            assert_eq!(s.insert(id), model.insert(id), "insert {id}");
        }
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            model.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(s.len(), model.len());
    }

    #[test]
    fn from_ascending_takes_the_vec_and_falls_back_on_disorder() {
        let s = IdSet::from_ascending(vec![1, 2, 8]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2, 8]);
        let s = IdSet::from_ascending(vec![3, 1, 3, 2]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(IdSet::from_ascending(Vec::new()).is_empty());
    }
}
