//! An index over the silences that can still mute something, so the silencer does not test every silence
//! (expired ones are kept for `--data.retention`, 120h by default) against every alert.
//!
//! A silence with an `=` matcher of non-empty value can only match alerts carrying exactly that label pair (label
//! values on alerts are never empty), so it is filed under its first such pair; every other silence goes to a
//! short list that is always scanned. Each silence is in exactly one place, so lookups yield no duplicates.
//! Ended silences are dropped from the index by GC (and never added), which bounds it by the live silences.

use std::collections::HashMap;
use std::sync::Arc;
use tocsin_model::{LabelSet, MatchType, Silence};

#[derive(Debug, Default)]
pub(crate) struct MuteIndex {
    by_pair: HashMap<String, HashMap<String, Vec<Arc<Silence>>>>,
    scan: Vec<Arc<Silence>>,
}

fn key(s: &Silence) -> Option<(&str, &str)> {
    s.matchers
        .iter()
        .find(|m| m.ty == MatchType::Equal && !m.value.is_empty())
        .map(|m| (m.name.as_str(), m.value.as_str()))
}

impl MuteIndex {
    pub(crate) fn insert(&mut self, s: Arc<Silence>) {
        match key(&s) {
            Some((n, v)) => {
                // Borrowed lookup first: the name is nearly always filed already (`alertname`), so only a new
                // name allocates its key.
                let values = match self.by_pair.get_mut(n) {
                    Some(values) => values,
                    None => self.by_pair.entry(n.to_owned()).or_default(),
                };
                match values.get_mut(v) {
                    Some(list) => list.push(s),
                    None => {
                        let v = v.to_owned();
                        values.insert(v, vec![s]);
                    }
                }
            }
            None => self.scan.push(s),
        }
    }

    /// Removes the silence `s` (found by its id under the key its matchers give).
    pub(crate) fn remove(&mut self, s: &Silence) {
        match key(s) {
            Some((n, v)) => {
                if let Some(values) = self.by_pair.get_mut(n) {
                    if let Some(list) = values.get_mut(v) {
                        list.retain(|x| x.id != s.id);
                        if list.is_empty() {
                            values.remove(v);
                        }
                    }
                    if values.is_empty() {
                        self.by_pair.remove(n);
                    }
                }
            }
            None => self.scan.retain(|x| x.id != s.id),
        }
    }

    /// Calls `f` with every indexed silence that might match `labels`.
    pub(crate) fn candidates(&self, labels: &LabelSet, mut f: impl FnMut(&Arc<Silence>)) {
        if !self.by_pair.is_empty() {
            for (name, value) in labels.iter() {
                if let Some(list) = self.by_pair.get(name).and_then(|vs| vs.get(value)) {
                    list.iter().for_each(&mut f);
                }
            }
        }
        self.scan.iter().for_each(f);
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Silence) -> bool) {
        self.scan.retain(|s| keep(s));
        self.by_pair.retain(|_, values| {
            values.retain(|_, list| {
                list.retain(|s| keep(s));
                !list.is_empty()
            });
            !values.is_empty()
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.scan.len() + self.by_pair.values().flat_map(|v| v.values()).map(Vec::len).sum::<usize>()
    }
}
