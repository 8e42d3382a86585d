//! Variables introduced inside an expression, layered over the enclosing bindings.
//!
//! Inner names shadow outer ones; the outer [`Bindings`] are borrowed, never copied, so a
//! comprehension over a long list costs one slot update per element.

use super::Bindings;
use crate::value::Value;

/// A few named slots (comprehension variable, reduce accumulator) over `outer`.
pub(super) struct Scope<'a> {
    outer: &'a dyn Bindings,
    vars: Vec<(&'a str, Value)>,
}

impl<'a> Scope<'a> {
    /// A scope with one slot, `name`, initially null.
    pub(super) fn new(outer: &'a dyn Bindings, name: &'a str) -> Scope<'a> {
        Scope {
            outer,
            vars: vec![(name, Value::Null)],
        }
    }

    /// Adds a slot; later slots shadow earlier ones of the same name.
    pub(super) fn push(&mut self, name: &'a str, v: Value) {
        self.vars.push((name, v));
    }

    /// Slot indexes are fixed by the caller's `new`/`push` order; an index beyond them is
    /// ignored (it cannot happen by construction).
    pub(super) fn set(&mut self, slot: usize, v: Value) {
        if let Some(s) = self.vars.get_mut(slot) {
            s.1 = v;
        }
    }

    pub(super) fn value(&self, slot: usize) -> &Value {
        self.vars.get(slot).map_or(&Value::Null, |s| &s.1)
    }

    pub(super) fn take(&mut self, slot: usize) -> Value {
        self.vars
            .get_mut(slot)
            .map_or(Value::Null, |s| std::mem::replace(&mut s.1, Value::Null))
    }
}

impl Bindings for Scope<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .or_else(|| self.outer.get(name))
    }
}

/// One row of pattern-comprehension matches over `outer`.
pub(super) struct RowScope<'a> {
    outer: &'a dyn Bindings,
    row: &'a [(String, Value)],
}

impl<'a> RowScope<'a> {
    pub(super) fn new(outer: &'a dyn Bindings, row: &'a [(String, Value)]) -> RowScope<'a> {
        RowScope { outer, row }
    }
}

impl Bindings for RowScope<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.row
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .or_else(|| self.outer.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Outer(HashMap<String, Value>);
    impl Bindings for Outer {
        fn get(&self, name: &str) -> Option<&Value> {
            self.0.get(name)
        }
    }

    #[test]
    fn inner_shadows_outer_and_falls_back() {
        let outer = Outer(
            [
                ("x".to_string(), Value::Int(1)),
                ("y".to_string(), Value::Int(2)),
            ]
            .into_iter()
            .collect(),
        );
        let mut s = Scope::new(&outer, "x");
        s.set(0, Value::Int(10));
        s.push("acc", Value::Int(5));
        assert_eq!(s.get("x"), Some(&Value::Int(10)));
        assert_eq!(s.get("y"), Some(&Value::Int(2)));
        assert_eq!(s.get("acc"), Some(&Value::Int(5)));
        assert_eq!(s.get("z"), None);
        assert_eq!(s.take(1), Value::Int(5));
        let row = vec![("y".to_string(), Value::Int(7))];
        let r = RowScope::new(&outer, &row);
        assert_eq!(r.get("y"), Some(&Value::Int(7)));
        assert_eq!(r.get("x"), Some(&Value::Int(1)));
    }
}
