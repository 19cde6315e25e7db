//! Compiling a posted silence's matchers (`validateMatcher` / `validateSilence`), with a bounded cache of compiled
//! regex matchers shared by the store.
//!
//! Why a cache: compiling a regex (parse, NFA, and for small patterns a full DFA) costs tens of microseconds, far
//! more than everything else a silence creation does in memory, while operators (and tools such as amtool scripts)
//! post the same few patterns over and over, and an update usually keeps its silence's matchers. A cached
//! [`Matcher`] is cloned, which shares the compiled program.
//!
//! Why two generations instead of an LRU: lookups and inserts stay O(1) with no bookkeeping per hit. New entries
//! go to the current map; once it holds [`GENERATION`] patterns it becomes the previous one (the older previous
//! map is dropped) and a hit in the previous map moves the entry forward. Patterns used at least once per
//! generation therefore stay, and at most 2 × [`GENERATION`] patterns are held.

use super::SilenceError;
use parking_lot::Mutex;
use std::collections::HashMap;
use tocsin_model::labels::{go_quote, NameValidation};
use tocsin_model::{MatchType, Matcher, Silence};

use super::MatcherSpec;

/// Patterns per generation.
const GENERATION: usize = 1024;

/// A compiled regex matcher and whether it matches the empty string (asked of every posted matcher; answering
/// from the cache avoids running the clone's regex, which would allocate its matching cache).
#[derive(Debug, Clone)]
struct Entry {
    ty: MatchType,
    name: String,
    matcher: Matcher,
    matches_empty: bool,
}

/// Keyed by pattern (borrowed `&str` lookups, no allocation on a hit); the few (type, name) combinations of
/// one pattern are scanned.
type Generation = HashMap<String, Vec<Entry>>;

#[derive(Debug, Default)]
struct Generations {
    current: Generation,
    previous: Generation,
}

fn find<'a>(g: &'a Generation, spec: &MatcherSpec) -> Option<&'a Entry> {
    g.get(spec.value.as_str())?.iter().find(|e| e.ty == spec.ty && e.name == spec.name)
}

impl Generations {
    fn get(&mut self, spec: &MatcherSpec) -> Option<(Matcher, bool)> {
        if let Some(e) = find(&self.current, spec) {
            return Some((e.matcher.clone(), e.matches_empty));
        }
        let e = find(&self.previous, spec)?.clone();
        let out = (e.matcher.clone(), e.matches_empty);
        self.insert(spec.value.clone(), e);
        Some(out)
    }

    fn insert(&mut self, pattern: String, e: Entry) {
        if !self.current.contains_key(&pattern) && self.current.len() >= GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        let list = self.current.entry(pattern).or_default();
        if !list.iter().any(|x| x.ty == e.ty && x.name == e.name) {
            list.push(e);
        }
    }
}

/// The store's cache of compiled regex matchers.
#[derive(Debug, Default)]
pub(crate) struct MatcherCache {
    inner: Mutex<Generations>,
}

impl MatcherCache {
    /// Compiles (or finds) one valid-named matcher; returns it and whether it matches "".
    fn compile(&self, spec: &MatcherSpec) -> Result<(Matcher, bool), tocsin_model::matcher::MatcherError> {
        if !spec.ty.is_regex() {
            let m = Matcher::new(spec.ty, spec.name.clone(), spec.value.clone())?;
            let empty = m.matches("");
            return Ok((m, empty));
        }
        if let Some(hit) = self.inner.lock().get(spec) {
            return Ok(hit);
        }
        // Compiled outside the lock: concurrent creations with different patterns do not wait for each other.
        let m = Matcher::new(spec.ty, spec.name.clone(), spec.value.clone())?;
        let empty = m.matches("");
        let e = Entry { ty: spec.ty, name: spec.name.clone(), matcher: m.clone(), matches_empty: empty };
        self.inner.lock().insert(spec.value.clone(), e);
        Ok((m, empty))
    }

    /// `validateSilence`'s matcher checks (the timestamp checks are the caller's), compiling each matcher. A
    /// matcher equal to one of `prev`'s (an update that keeps its matchers) is reused as is.
    pub(crate) fn compile_all(
        &self,
        specs: &[MatcherSpec],
        names: NameValidation,
        prev: Option<&Silence>,
    ) -> Result<Vec<Matcher>, SilenceError> {
        if specs.is_empty() {
            return Err(SilenceError::Invalid("at least one matcher required".to_owned()));
        }
        let mut all_empty = true;
        let mut out = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let invalid = |msg: String| SilenceError::Invalid(format!("invalid label matcher {i}: {msg}"));
            if !names.is_valid(&spec.name) {
                return Err(invalid(format!("invalid label name {}", go_quote(&spec.name))));
            }
            let reused = prev.and_then(|p| {
                p.matchers.iter().find(|m| m.ty == spec.ty && m.name == spec.name && m.value == spec.value)
            });
            let (m, empty) = match reused {
                Some(m) => (m.clone(), m.matches("")),
                None => self.compile(spec).map_err(|e| invalid(e.to_string()))?,
            };
            all_empty &= empty;
            out.push(m);
        }
        if all_empty {
            return Err(SilenceError::Invalid(
                "at least one matcher must not match the empty string".to_owned(),
            ));
        }
        Ok(out)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let g = self.inner.lock();
        g.current.len() + g.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ty: MatchType, name: &str, value: &str) -> MatcherSpec {
        MatcherSpec { ty, name: name.to_owned(), value: value.to_owned() }
    }

    #[test]
    fn cached_matchers_behave_like_fresh_ones() {
        let cache = MatcherCache::default();
        for _ in 0..2 {
            let got = cache
                .compile_all(
                    &[spec(MatchType::Regexp, "a", "x.*"), spec(MatchType::NotRegexp, "a", "x.*")],
                    NameValidation::Utf8,
                    None,
                )
                .expect("valid");
            assert_eq!(got[0], Matcher::new(MatchType::Regexp, "a", "x.*").expect("valid"));
            assert!(got[0].matches("xy") && !got[0].matches("y"));
            assert!(!got[1].matches("xy") && got[1].matches("y"));
        }
        assert_eq!(cache.len(), 1, "one pattern, two (type, name) entries");
    }

    #[test]
    fn empty_match_check_uses_cached_answer() {
        let cache = MatcherCache::default();
        for _ in 0..2 {
            let err = cache.compile_all(&[spec(MatchType::Regexp, "a", ".*")], NameValidation::Utf8, None);
            assert_eq!(
                err,
                Err(SilenceError::Invalid("at least one matcher must not match the empty string".to_owned()))
            );
        }
    }

    #[test]
    fn errors_are_not_cached_and_keep_their_index() {
        let cache = MatcherCache::default();
        let specs = [spec(MatchType::Equal, "a", "b"), spec(MatchType::Regexp, "a", "(")];
        let first = cache.compile_all(&specs, NameValidation::Utf8, None).expect_err("invalid regex");
        let second = cache.compile_all(&specs, NameValidation::Utf8, None).expect_err("invalid regex");
        assert_eq!(first, second);
        assert!(first.to_string().starts_with("silence invalid: invalid label matcher 1: "), "{first}");
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn bounded_to_two_generations() {
        let cache = MatcherCache::default();
        for i in 0..(3 * GENERATION) {
            let value = format!("p{i}.*");
            cache
                .compile_all(&[spec(MatchType::Regexp, "a", &value)], NameValidation::Utf8, None)
                .expect("valid");
        }
        assert!(cache.len() <= 2 * GENERATION, "{}", cache.len());
        // A pattern from the previous generation is found and moved forward.
        let g = cache.inner.lock();
        assert!(g.previous.len() == GENERATION && g.current.len() == GENERATION);
    }

    #[test]
    fn previous_generation_hit_moves_forward() {
        let mut g = Generations::default();
        let s = spec(MatchType::Regexp, "a", "old");
        let m = Matcher::new(s.ty, "a", "old").expect("valid");
        g.insert(
            "old".to_owned(),
            Entry { ty: s.ty, name: "a".to_owned(), matcher: m, matches_empty: false },
        );
        g.previous = std::mem::take(&mut g.current);
        assert!(g.get(&s).is_some());
        assert!(g.current.contains_key("old"));
    }
}
