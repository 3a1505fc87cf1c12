// A rulesd rule in JavaScript, built by build.sh with componentize-js into a
// component of the world `rule` (wit/world.wit), which exports this
// project's hooks.
//
// componentize-js looks in this module for one export per exported
// interface, named after it in camelCase (pricing -> pricing, tariff-change
// -> tariffChange). Each hook lives in its own module; common.js and
// period.js hold what they share.

