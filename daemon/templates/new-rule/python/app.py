# A rulesd rule in Python, built by build.sh with componentize-py into a
# component of the world `rule` (wit/world.wit), which exports this
# project's hooks.
#
# componentize-py looks in this module for one class per exported interface,
# named after it (pricing -> Pricing, tariff-change -> TariffChange). Each
# hook lives in its own module; common.py and period.py hold what
# they share.

