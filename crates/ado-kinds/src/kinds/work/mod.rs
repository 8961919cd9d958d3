//! Boards area kinds.

pub mod board;
pub mod column;
