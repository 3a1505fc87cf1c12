# The default rule in Python, built with componentize-py into a component of
# the world `rules` (rules-sdk/wit/rules.wit), which exports every hook.
#
# componentize-py looks in this module for one class per interface the world
# exports, named after it (pricing -> Pricing, tariff-change -> TariffChange).
# Each hook lives in its own module; common.py and period.py hold what
# they share.
#
# Build: ./build.sh (see docs/rules-in-other-languages.md).

from ip_allocation import IpAllocation
from license_pool import LicensePool
from pricing import Pricing
from proration import Proration
from tariff_change import TariffChange
from wholesale import Wholesale

__all__ = ["IpAllocation", "LicensePool", "Pricing", "Proration", "TariffChange", "Wholesale"]
