//! The API's side of a silence query (`GET /api/v2/silences`): upstream's filter and order.

use super::SilenceView;
use tocsin_model::{Matcher, Silence, SilenceState};

/// `CheckSilenceMatchesFilterLabels`: for every filter matcher the silence has a matcher of that name (the last
/// one wins, as in upstream's map) with identical type and value.
pub fn matches_filter(s: &Silence, filter: &[Matcher]) -> bool {
    filter.iter().all(|f| {
        s.matchers.iter().rev().find(|m| m.name == f.name).is_some_and(|m| m.ty == f.ty && m.value == f.value)
    })
}

/// `SortSilences`: active (soonest end first), pending (soonest start first), expired (latest end first).
pub fn sort_views(views: &mut [SilenceView]) {
    views.sort_by(|a, b| {
        a.state.cmp(&b.state).then_with(|| match a.state {
            SilenceState::Active => a.silence.ends_at.cmp(&b.silence.ends_at),
            SilenceState::Pending => a.silence.starts_at.cmp(&b.silence.starts_at),
            SilenceState::Expired => b.silence.ends_at.cmp(&a.silence.ends_at),
        })
    });
}
