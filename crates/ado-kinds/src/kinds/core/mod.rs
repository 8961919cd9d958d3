//! Core area kinds.

pub mod project;
