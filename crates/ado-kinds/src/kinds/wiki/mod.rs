//! Wiki area kinds: `wiki`, whose items are wiki pages.

pub mod wiki_page;
