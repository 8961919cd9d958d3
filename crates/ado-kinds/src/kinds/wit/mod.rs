//! Work item tracking kinds: work items and area paths.

pub mod area_path;
pub mod work_item;
