//! Operating the daemon: the test clock, and re-running history through a
//! candidate module (`rulesd diff`, `POST /v1/rules/diff`).

pub mod candidates;
pub mod clock;
pub mod diff;
