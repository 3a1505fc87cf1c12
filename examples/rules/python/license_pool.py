# The license-pool hook: which control-panel license a server gets and what a
# change of the server does to it, decided the way the embedded default rule
# decides it (seed 003, ISPsystem licenses as an add-on of a server). It
# implements all of the default's logic:
#
# - a server that wants a license (its panel maps to a license tariff and it
#   is active) takes one on its first order, its activation or its first
#   primary IP: every free license offered, in the daemon's order (the
#   longest free first), then a new one from the vendor;
# - a new primary IP or another license tariff reorders: the current license
#   goes back to the pool and another is taken (taken, if it held none);
# - "no panel" and deleting the server release the license to the pool;
# - suspending the server suspends an active license; activating the server
#   (or choosing the same panel again) activates a suspended one, or reorders
#   one that expired while the server was not active;
# - the daily job renews an active or suspended license for the period the
#   daemon matched (license-months) while its server is active;
# - anything else: nothing.
#
# The name a taken license gets is "Item #<service id> addon <service name>".
# Nothing here answers not-implemented.

from wit_world import exports
from wit_world.exports.license_pool import (
    LicenseDecision,
    LicenseDecision_Activate,
    LicenseDecision_Nothing,
    LicenseDecision_Release,
    LicenseDecision_Renew,
    LicenseDecision_Reorder,
    LicenseDecision_Suspend,
    LicenseDecision_Take,
    LicenseRequest,
    LicenseStatus,
    ServiceEvent,
    Take,
)

E = ServiceEvent


def take(request: LicenseRequest) -> Take:
    # Every free license offered, in the order offered: the daemon tries them
    # in turn and orders a new one when none is left.
    return Take(
        candidates=[lic.id for lic in request.free],
        name=f"Item #{request.service_id} addon {request.service_name}",
    )


class LicensePool(exports.LicensePool):
    def decide(self, request: LicenseRequest) -> LicenseDecision:
        event = request.event
        status = request.current.status if request.current is not None else None
        has_license = status is not None
        wants = request.wanted_tariff is not None and request.service_active

        # The cases in the default's order: the first that matches decides.
        if event in (E.FIRST_ORDER, E.SERVICE_ACTIVATED) and not has_license and wants:
            return LicenseDecision_Take(take(request))
        if event in (E.PRIMARY_IP_CHANGED, E.LICENSE_TARIFF_CHANGED) and wants:
            if has_license:
                return LicenseDecision_Reorder(take(request))
            return LicenseDecision_Take(take(request))
        if event in (E.LICENSE_CANCELLED, E.SERVICE_DELETED) and has_license:
            return LicenseDecision_Release()
        if event == E.SERVICE_SUSPENDED and status == LicenseStatus.ACTIVE:
            return LicenseDecision_Suspend()
        if event in (E.SERVICE_ACTIVATED, E.UNCHANGED_INACTIVE):
            if status == LicenseStatus.SUSPENDED and request.service_active:
                return LicenseDecision_Activate()
            # Expired while the server was not active: a license again.
            if status == LicenseStatus.EXPIRED and wants:
                return LicenseDecision_Reorder(take(request))
        if (
            event == E.RENEWAL_DUE
            and status in (LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED)
            and request.service_active
        ):
            return LicenseDecision_Renew(request.license_months)
        return LicenseDecision_Nothing()
