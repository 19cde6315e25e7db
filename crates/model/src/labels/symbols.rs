//! The process-wide table of interned label names used by [`super::LabelSet`]'s packed encoding.
//!
//! Label names are a small vocabulary (`alertname`, `instance`, `job`, `severity`, `summary`, …) repeated in every
//! alert, so a packed label set stores each known name as a two-byte id instead of its text. The table is
//! append-only and bounded ([`MAX_SYMBOLS`] names of at most [`MAX_SYMBOL_LEN`] bytes): once full, new names are
//! stored inline. A name is interned iff it was first seen while there was room, and that never changes later,
//! so every label set has exactly one encoding and byte equality of encodings stays set equality.
//!
//! Reads (`name(id)`) are lock-free (`OnceLock` slots); lookups go through a per-thread cache, so concurrent
//! ingest threads only meet on the global lock the first time each sees a name.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{LazyLock, OnceLock, RwLock};

/// Ids are encoded as the `char`s `0x80..0x800` (two UTF-8 bytes).
pub(super) const MAX_SYMBOLS: usize = 0x800 - 0x80;
/// Longer names are never interned (a bound on the table's memory: at most ~120 KiB).
const MAX_SYMBOL_LEN: usize = 64;

static NAMES: [OnceLock<Box<str>>; MAX_SYMBOLS] = [const { OnceLock::new() }; MAX_SYMBOLS];
static IDS: LazyLock<RwLock<HashMap<Box<str>, u16>>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// FNV-1a: names are short, and SipHash would cost more than the lookup saves.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

thread_local! {
    static LOCAL: RefCell<HashMap<Box<str>, u16, BuildHasherDefault<Fnv>>> = RefCell::new(HashMap::default());
}

/// The name with this id (interned earlier by [`id`]).
#[inline]
pub(super) fn name(id: usize) -> Option<&'static str> {
    NAMES.get(id)?.get().map(|b| &**b)
}

/// The id of `name`, interning it if there is room; `None` when it is stored inline.
#[inline]
pub(super) fn id(name: &str) -> Option<u16> {
    if name.len() > MAX_SYMBOL_LEN {
        return None;
    }
    if let Ok(Some(id)) = LOCAL.try_with(|l| l.borrow().get(name).copied()) {
        return Some(id);
    }
    let id = global_id(name)?;
    let _ = LOCAL.try_with(|l| l.borrow_mut().insert(name.into(), id));
    Some(id)
}

#[cold]
fn global_id(name: &str) -> Option<u16> {
    if let Some(&id) = IDS.read().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Some(id);
    }
    let mut ids = IDS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = ids.get(name) {
        return Some(id);
    }
    let next = ids.len();
    if next >= MAX_SYMBOLS {
        return None;
    }
    // The slot is filled before the id is published, so `name(id)` never misses for an id handed out.
    NAMES[next].get_or_init(|| name.into());
    let id = u16::try_from(next).ok()?;
    ids.insert(name.into(), id);
    Some(id)
}
