//! Core area kinds: projects and teams.

pub mod member;
pub mod project;
pub mod team;
