//! Boards area kinds: boards, columns and team iterations.

pub mod board;
pub mod column;
pub mod iteration;
