//! The tocsin application.
