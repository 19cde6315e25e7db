//! In-memory state: alerts and silences.
