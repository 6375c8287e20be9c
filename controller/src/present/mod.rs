//! What people take away: the recommendation laid out as Markdown and JSON ([`render`]) and as
//! the committee's PDF ([`pdf`]). Nothing here decides; each formats what the engine wrote. The
//! HTML pages are `crate::web`.

pub mod pdf;
pub mod render;
