//! Operating the daemon: the test clock, re-running history through a
//! candidate module (`rulesd diff`, `POST /v1/rules/diff`), and the rule
//! authors' tools (`rulesd check`, `rulesd new-rule`).

pub mod candidates;
pub mod check;
pub mod clock;
pub mod diff;
pub mod new_rule;
