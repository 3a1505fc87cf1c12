// The default rule in JavaScript, built with componentize-js into a component
// of the world `rules` (rules-sdk/wit/rules.wit), which exports every hook.
//
// componentize-js looks in this module for one export per interface the
// world exports, named after it in camelCase (pricing -> pricing,
// tariff-change -> tariffChange). Each hook lives in its own module;
// common.js and period.js hold
// what they share.
//
// Build: ./build.sh (see docs/rules-in-other-languages.md).

export { ipAllocation } from './ip_allocation.js';
export { licensePool } from './license_pool.js';
export { pricing } from './pricing.js';
export { proration } from './proration.js';
export { tariffChange } from './tariff_change.js';
export { wholesale } from './wholesale.js';
