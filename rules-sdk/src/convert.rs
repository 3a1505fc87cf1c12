//! Conversions between the generated WIT types (strings for money and dates) and
//! the plain model. Input that does not parse becomes
//! [`RuleError::InvalidInput`] naming the field, so a rule never sees a bad value.

use crate::bindings::rulesd::rules::types as w;
use crate::model::*;
use crate::text;
use crate::worlds::exported::*;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use chrono::{DateTime, NaiveDate, Utc};
use core::str::FromStr;
use rust_decimal::Decimal;

type R<T> = Result<T, RuleError>;

fn bad(field: &str, what: &str, value: &str) -> RuleError {
    RuleError::InvalidInput(format!("{field}: {what} {value:?}"))
}

pub(crate) fn money(field: &str, s: &str) -> R<Decimal> {
    // Decimal::from_str accepts plain decimals only ("6.45"); exponents are a
    // separate parser, so they are rejected here as the contract says.
    Decimal::from_str(s).map_err(|_| bad(field, "not a decimal amount", s))
}

fn date(field: &str, s: &str) -> R<NaiveDate> {
    // `FromStr` for NaiveDate is exactly "YYYY-MM-DD" and much cheaper than a
    // format-string parse (every call pays for this inside the fuel budget).
    s.parse::<NaiveDate>()
        .map_err(|_| bad(field, "not a YYYY-MM-DD date", s))
}

fn opt_date(field: &str, s: &Option<String>) -> R<Option<NaiveDate>> {
    s.as_deref().map(|s| date(field, s)).transpose()
}

fn instant(field: &str, s: &str) -> R<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad(field, "not an RFC 3339 instant", s))
}

pub(crate) fn err_out(e: RuleError) -> w::RuleError {
    match e {
        RuleError::NotImplemented(m) => w::RuleError::NotImplemented(m),
        RuleError::Denied(m) => w::RuleError::Denied(m),
        RuleError::InvalidInput(m) => w::RuleError::InvalidInput(m),
    }
}

fn kind_in(k: w::LineKind) -> LineKind {
    match k {
        w::LineKind::Order => LineKind::Order,
        w::LineKind::Renewal => LineKind::Renewal,
        w::LineKind::Setup => LineKind::Setup,
        w::LineKind::Daily => LineKind::Daily,
        w::LineKind::LateFee => LineKind::LateFee,
        w::LineKind::Refund => LineKind::Refund,
        w::LineKind::Adjustment => LineKind::Adjustment,
        w::LineKind::Change => LineKind::Change,
        w::LineKind::Addon => LineKind::Addon,
    }
}

fn kind_out(k: LineKind) -> w::LineKind {
    match k {
        LineKind::Order => w::LineKind::Order,
        LineKind::Renewal => w::LineKind::Renewal,
        LineKind::Setup => w::LineKind::Setup,
        LineKind::Daily => w::LineKind::Daily,
        LineKind::LateFee => w::LineKind::LateFee,
        LineKind::Refund => w::LineKind::Refund,
        LineKind::Adjustment => w::LineKind::Adjustment,
        LineKind::Change => w::LineKind::Change,
        LineKind::Addon => w::LineKind::Addon,
    }
}

fn lines_out(lines: Vec<Line>) -> Vec<w::Line> {
    lines
        .into_iter()
        .map(|l| w::Line {
            kind: kind_out(l.kind),
            description: l.description,
            amount: text::decimal(l.amount),
            period_start: l.period_start.map(text::day),
            period_end: l.period_end.map(text::day),
        })
        .collect()
}

fn lines_in(field: &str, lines: Vec<w::Line>) -> R<Vec<Line>> {
    lines
        .into_iter()
        .map(|l| {
            Ok(Line {
                kind: kind_in(l.kind),
                amount: money(field, &l.amount)?,
                period_start: opt_date(field, &l.period_start)?,
                period_end: opt_date(field, &l.period_end)?,
                description: l.description,
            })
        })
        .collect()
}

fn prices(field: &str, ps: Vec<w::PeriodPrice>) -> R<Vec<PeriodPrice>> {
    ps.into_iter()
        .map(|p| {
            Ok(PeriodPrice {
                months: p.months,
                price: money(field, &p.price)?,
            })
        })
        .collect()
}

fn addon_qty(a: w::AddonQuantity) -> AddonQuantity {
    AddonQuantity {
        resource: a.resource,
        quantity: a.quantity,
    }
}

fn tariff(t: w::Tariff) -> R<Tariff> {
    Ok(Tariff {
        prices: prices("tariff.prices", t.prices)?,
        setup_fee: money("tariff.setup-fee", &t.setup_fee)?,
        renewal_prices: prices("tariff.renewal-prices", t.renewal_prices)?,
        daily: t
            .daily
            .map(|d| {
                Ok::<_, RuleError>(DailyCharging {
                    price: d
                        .price
                        .as_deref()
                        .map(|s| money("tariff.daily.price", s))
                        .transpose()?,
                    cost_from_period: d.cost_from_period,
                    charge_downtime: d.charge_downtime,
                })
            })
            .transpose()?,
        pro_rata_day: t.pro_rata_day,
        late_fee: match t.late_fee {
            w::LateFee::None => LateFee::None,
            w::LateFee::Fixed(s) => LateFee::Fixed(money("tariff.late-fee", &s)?),
            w::LateFee::Percent(s) => LateFee::Percent(money("tariff.late-fee", &s)?),
            w::LateFee::RenewFromSuspension => LateFee::RenewFromSuspension,
        },
        addons: t
            .addons
            .into_iter()
            .map(|a| {
                Ok(Addon {
                    price_per_unit: money("tariff.addons.price-per-unit", &a.price_per_unit)?,
                    resource: a.resource,
                    unit: a.unit,
                    included: a.included,
                    minimum: a.minimum,
                    maximum: a.maximum,
                })
            })
            .collect::<R<_>>()?,
        id: t.id,
        name: t.name,
        currency: t.currency,
    })
}

fn service(s: w::Service) -> R<Service> {
    Ok(Service {
        status: match s.status {
            w::ServiceStatus::Ordered => ServiceStatus::Ordered,
            w::ServiceStatus::Active => ServiceStatus::Active,
            w::ServiceStatus::Suspended => ServiceStatus::Suspended,
            w::ServiceStatus::Deleted => ServiceStatus::Deleted,
        },
        period_start: opt_date("service.period-start", &s.period_start)?,
        expires: opt_date("service.expires", &s.expires)?,
        suspended_at: opt_date("service.suspended-at", &s.suspended_at)?,
        months: s.months,
        addons: s.addons.into_iter().map(addon_qty).collect(),
        id: s.id,
    })
}

pub(crate) fn price_in(r: wpr::PriceRequest) -> R<PriceRequest> {
    Ok(PriceRequest {
        operation: match r.operation {
            wpr::Operation::Order => Operation::Order,
            wpr::Operation::Renewal => Operation::Renewal,
            wpr::Operation::Daily => Operation::Daily,
        },
        tariff: tariff(r.tariff)?,
        months: r.months,
        addons: r.addons.into_iter().map(addon_qty).collect(),
        service: r.service.map(service).transpose()?,
        at: instant("at", &r.at)?,
    })
}

pub(crate) fn price_out(d: PriceDecision) -> wpr::PriceDecision {
    wpr::PriceDecision {
        lines: lines_out(d.lines),
        period_start: text::day(d.period_start),
        expires: text::day(d.expires),
    }
}

pub(crate) fn change_in(r: wtc::ChangeRequest) -> R<ChangeRequest> {
    Ok(ChangeRequest {
        service: service(r.service)?,
        from: tariff(r.from)?,
        to: tariff(r.to)?,
        policy: match r.policy {
            wtc::ChangePolicy::ChangePeriod => ChangePolicy::ChangePeriod,
            wtc::ChangePolicy::AddFundsOrRefund => ChangePolicy::AddFundsOrRefund,
            wtc::ChangePolicy::Forbidden => ChangePolicy::Forbidden,
            wtc::ChangePolicy::ExtraChargeOnly => ChangePolicy::ExtraChargeOnly,
            wtc::ChangePolicy::FullPaymentFromToday => ChangePolicy::FullPaymentFromToday,
            wtc::ChangePolicy::FullPaymentFromExpiry => ChangePolicy::FullPaymentFromExpiry,
        },
        months: r.months,
        addons: r.addons.into_iter().map(addon_qty).collect(),
        paid: money("paid", &r.paid)?,
        at: instant("at", &r.at)?,
    })
}

pub(crate) fn change_out(d: ChangeDecision) -> wtc::ChangeDecision {
    wtc::ChangeDecision {
        lines: lines_out(d.lines),
        period_start: text::day(d.period_start),
        expires: text::day(d.expires),
    }
}

fn addon_change(c: wpro::AddonChange) -> AddonChange {
    AddonChange {
        resource: c.resource,
        from: c.from,
        to: c.to,
    }
}

pub(crate) fn proration_in(r: wpro::ProrationRequest) -> R<ProrationRequest> {
    Ok(ProrationRequest {
        event: match r.event {
            wpro::Event::AddonOrder(c) => ProrationEvent::AddonOrder(addon_change(c)),
            wpro::Event::AddonCancel(c) => ProrationEvent::AddonCancel {
                change: addon_change(c.change),
                refund: c.refund,
            },
            wpro::Event::Downtime(d) => ProrationEvent::Downtime {
                days: d.days,
                charged: money("event.downtime.charged", &d.charged)?,
            },
            wpro::Event::Cancellation => ProrationEvent::Cancellation,
        },
        tariff: tariff(r.tariff)?,
        service: service(r.service)?,
        addon_policy: match r.addon_policy {
            wpro::AddonOrderPolicy::ProratedToExpiry => AddonOrderPolicy::ProratedToExpiry,
            wpro::AddonOrderPolicy::FullPeriod => AddonOrderPolicy::FullPeriod,
        },
        at: instant("at", &r.at)?,
    })
}

pub(crate) fn proration_out(d: ProrationDecision) -> wpro::ProrationDecision {
    wpro::ProrationDecision {
        lines: lines_out(d.lines),
    }
}

fn family_in(f: wip::IpFamily) -> IpFamily {
    match f {
        wip::IpFamily::V4 => IpFamily::V4,
        wip::IpFamily::V6 => IpFamily::V6,
    }
}

pub(crate) fn allocation_in(r: wip::AllocationRequest) -> R<AllocationRequest> {
    Ok(AllocationRequest {
        reseller: r.reseller,
        service: r.service,
        kind: match r.kind {
            wip::AddressKind::Static => AddressKind::Static,
            wip::AddressKind::Dynamic => AddressKind::Dynamic,
        },
        family: family_in(r.family),
        requested_address: r.requested_address,
        requested_pool: r.requested_pool,
        pools: r
            .pools
            .into_iter()
            .map(|p| Pool {
                id: p.id,
                kind: match p.kind {
                    wip::PoolKind::Common => PoolKind::Common,
                    wip::PoolKind::Assigned => PoolKind::Assigned,
                },
                reseller: p.reseller,
                family: family_in(p.family),
                free: p.free,
                free_count: p.free_count,
                quarantined: p.quarantined,
                quarantine_days: p.quarantine_days,
            })
            .collect(),
        common_overflow_allowed: r.common_overflow_allowed,
        at: instant("at", &r.at)?,
    })
}

pub(crate) fn allocation_out(d: AllocationDecision) -> wip::AllocationDecision {
    match d {
        AllocationDecision::Allocate { pool, address } => {
            wip::AllocationDecision::Allocate(wip::Allocation { pool, address })
        }
        AllocationDecision::Exhausted(why) => wip::AllocationDecision::Exhausted(why),
        AllocationDecision::Deny(why) => wip::AllocationDecision::Deny(why),
    }
}

fn license(l: wlic::License) -> R<License> {
    Ok(License {
        status: match l.status {
            wlic::LicenseStatus::Active => LicenseStatus::Active,
            wlic::LicenseStatus::Suspended => LicenseStatus::Suspended,
            wlic::LicenseStatus::Expired => LicenseStatus::Expired,
            wlic::LicenseStatus::Deleted => LicenseStatus::Deleted,
        },
        expires: date("license.expires", &l.expires)?,
        ip_changed: date("license.ip-changed", &l.ip_changed)?,
        key_changed: date("license.key-changed", &l.key_changed)?,
        id: l.id,
        tariff: l.tariff,
        name: l.name,
        ip: l.ip,
    })
}

pub(crate) fn license_in(r: wlic::LicenseRequest) -> R<LicenseRequest> {
    use wlic::ServiceEvent as E;
    Ok(LicenseRequest {
        event: match r.event {
            E::FirstOrder => ServiceEvent::FirstOrder,
            E::PrimaryIpChanged => ServiceEvent::PrimaryIpChanged,
            E::LicenseTariffChanged => ServiceEvent::LicenseTariffChanged,
            E::LicenseCancelled => ServiceEvent::LicenseCancelled,
            E::ServiceSuspended => ServiceEvent::ServiceSuspended,
            E::ServiceActivated => ServiceEvent::ServiceActivated,
            E::ServiceDeleted => ServiceEvent::ServiceDeleted,
            E::UnchangedInactive => ServiceEvent::UnchangedInactive,
            E::RenewalDue => ServiceEvent::RenewalDue,
        },
        current: r.current.map(license).transpose()?,
        free: r.free.into_iter().map(license).collect::<R<_>>()?,
        at: instant("at", &r.at)?,
        service_id: r.service_id,
        service_name: r.service_name,
        service_active: r.service_active,
        primary_ip: r.primary_ip,
        wanted_tariff: r.wanted_tariff,
        license_months: r.license_months,
    })
}

pub(crate) fn license_out(d: LicenseDecision) -> wlic::LicenseDecision {
    use wlic::LicenseDecision as D;
    let take = |t: Take| wlic::Take {
        candidates: t.candidates,
        name: t.name,
    };
    match d {
        LicenseDecision::Take(t) => D::Take(take(t)),
        LicenseDecision::Reorder(t) => D::Reorder(take(t)),
        LicenseDecision::Activate => D::Activate,
        LicenseDecision::Suspend => D::Suspend,
        LicenseDecision::Renew(months) => D::Renew(months),
        LicenseDecision::Release => D::Release,
        LicenseDecision::Nothing => D::Nothing,
    }
}

pub(crate) fn wholesale_in(r: wws::WholesaleRequest) -> R<WholesaleRequest> {
    let holdings = |hs: Vec<wws::Holding>| {
        hs.into_iter()
            .map(|h| Holding {
                resource: h.resource,
                units: h.units,
            })
            .collect()
    };
    Ok(WholesaleRequest {
        service_base: money("service-base", &r.service_base)?,
        prices: r
            .prices
            .into_iter()
            .map(|p| {
                Ok(WholesalePrice {
                    price: money("prices.price", &p.price)?,
                    resource: p.resource,
                })
            })
            .collect::<R<_>>()?,
        cause: match r.cause {
            wws::WholesaleCause::Order => WholesaleCause::Order,
            wws::WholesaleCause::Renewal => WholesaleCause::Renewal,
            wws::WholesaleCause::Day => WholesaleCause::Day,
            wws::WholesaleCause::TariffChange => WholesaleCause::TariffChange,
            wws::WholesaleCause::AddonChange => WholesaleCause::AddonChange,
            wws::WholesaleCause::Downtime => WholesaleCause::Downtime,
        },
        paid_until: opt_date("paid-until", &r.paid_until)?,
        held_before: holdings(r.held_before),
        held_after: holdings(r.held_after),
        lines: lines_in("lines", r.lines)?,
        at: instant("at", &r.at)?,
        reseller: r.reseller,
        service: r.service,
        currency: r.currency,
    })
}

pub(crate) fn wholesale_out(d: WholesaleDecision) -> wws::WholesaleDecision {
    wws::WholesaleDecision {
        shadows: d
            .shadows
            .into_iter()
            .map(|parts| {
                parts
                    .into_iter()
                    .map(|p| wws::WholesalePart {
                        resource: p.resource,
                        amount: text::decimal(p.amount),
                    })
                    .collect()
            })
            .collect(),
    }
}
