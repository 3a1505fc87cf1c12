// The license-pool hook: which control-panel license a server gets and what a
// change of the server does to it, decided the way the embedded default rule
// decides it (seed 003, ISPsystem licenses as an add-on of a server). It
// implements all of the default's logic:
//
// - a server that wants a license (its panel maps to a license tariff and it
//   is active) takes one on its first order, its activation or its first
//   primary IP: every free license offered, in the daemon's order (the
//   longest free first), then a new one from the vendor;
// - a new primary IP or another license tariff reorders: the current license
//   goes back to the pool and another is taken (taken, if it held none);
// - "no panel" and deleting the server release the license to the pool;
// - suspending the server suspends an active license; activating the server
//   (or choosing the same panel again) activates a suspended one, or reorders
//   one that expired while the server was not active;
// - the daily job renews an active or suspended license for the period the
//   daemon matched (licenseMonths) while its server is active;
// - anything else: nothing.
//
// The name a taken license gets is "Item #<service id> addon <service name>".
// Nothing here answers not-implemented.

// Every free license offered, in the order offered: the daemon tries them in
// turn and orders a new one when none is left.
const take = (request) => ({
  candidates: request.free.map((license) => license.id),
  name: `Item #${request.serviceId} addon ${request.serviceName}`,
});

export const licensePool = {
  decide(request) {
    const event = request.event;
    const status = request.current?.status; // undefined: no license held
    const hasLicense = status !== undefined;
    const wants = request.wantedTariff !== undefined && request.serviceActive;

    // The cases in the default's order: the first that matches decides.
    if (['first-order', 'service-activated'].includes(event) && !hasLicense && wants) {
      return { tag: 'take', val: take(request) };
    }
    if (['primary-ip-changed', 'license-tariff-changed'].includes(event) && wants) {
      return { tag: hasLicense ? 'reorder' : 'take', val: take(request) };
    }
    if (['license-cancelled', 'service-deleted'].includes(event) && hasLicense) {
      return { tag: 'release' };
    }
    if (event === 'service-suspended' && status === 'active') {
      return { tag: 'suspend' };
    }
    if (['service-activated', 'unchanged-inactive'].includes(event)) {
      if (status === 'suspended' && request.serviceActive) return { tag: 'activate' };
      // Expired while the server was not active: a license again.
      if (status === 'expired' && wants) return { tag: 'reorder', val: take(request) };
    }
    if (event === 'renewal-due' && ['active', 'suspended'].includes(status) && request.serviceActive) {
      return { tag: 'renew', val: request.licenseMonths };
    }
    return { tag: 'nothing' };
  },
};
