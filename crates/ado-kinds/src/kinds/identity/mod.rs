//! Identity kinds: users (entitlements or the Graph), groups and their direct members.
//! Organization-wide, not filtered by `excludedTags` (as upstream, ocean-azure-devops.md §3.0).

pub mod group;
pub mod group_member;
pub mod user;
