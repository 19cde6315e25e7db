//! The tocsin application.

pub mod flags;
pub mod web_url;
