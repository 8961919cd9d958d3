//! Work item tracking kinds.

pub mod work_item;
