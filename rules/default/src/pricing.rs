//! Order and renewal prices, and the dispatch of every pricing operation.
//!
//! An order or renewal pays for `months` calendar months from its start, at
//! the period price (the special renewal price for a renewal) plus the addons
//! above their included quantity. A calendar-based tariff stretches or shrinks
//! a period that does not start on the 1st to end on a 1st, at a prorated
//! price (`calendar_based`). A renewal of an expired service pays for its
//! lateness as the tariff's late fee says (`late_fee`). Daily-charged tariffs
//! are priced a day at a time (`daily`).

use crate::calendar_based::{calendar_term, pro_rata_day};
use crate::money::round_money;
use crate::prelude::*;
use crate::{DefaultRules, daily, late_fee};
use rules_sdk::*;

impl Pricing for DefaultRules {
    fn price(req: PriceRequest) -> Result<PriceDecision, RuleError> {
        check_request(&req)?;
        match (req.operation, &req.tariff.daily) {
            (Operation::Order, Some(daily)) => daily::order(&req, daily),
            (Operation::Daily, Some(daily)) => daily::day(&req, daily),
            (Operation::Renewal, Some(_)) => Err(RuleError::Denied(format!(
                "tariff {} charges daily; its services are paid one day at a time",
                req.tariff.name
            ))),
            (Operation::Order, None) => order(&req),
            (Operation::Renewal, None) => renewal(&req),
            (Operation::Daily, None) => Err(RuleError::InvalidInput(format!(
                "tariff {} does not charge daily; it has no daily charge",
                req.tariff.name
            ))),
        }
    }
}

/// Facts no operation can be priced with.
fn check_request(req: &PriceRequest) -> Result<(), RuleError> {
    let tariff = &req.tariff;
    if req.months == 0 {
        return Err(RuleError::InvalidInput(
            "a period is at least one month long; got 0 months".into(),
        ));
    }
    // BILLmanager offers calendar-based charging only without daily charging:
    // a day has no calendar month to be aligned to.
    if tariff.daily.is_some() && tariff.pro_rata_day.is_some() {
        return Err(RuleError::InvalidInput(format!(
            "tariff {} has both daily and calendar-based charging; they exclude each other",
            tariff.name
        )));
    }
    pro_rata_day(tariff)?;
    Ok(())
}

pub(crate) fn not_sold(tariff: &Tariff, months: u32) -> RuleError {
    let mut sold: Vec<u32> = tariff.prices.iter().map(|p| p.months).collect();
    sold.sort_unstable();
    sold.dedup();
    let sold: Vec<String> = sold.iter().map(u32::to_string).collect();
    RuleError::Denied(format!(
        "tariff {} is not sold for {} month(s); periods on sale (months): {}",
        tariff.name,
        months,
        if sold.is_empty() {
            "none".into()
        } else {
            sold.join(", ")
        }
    ))
}

fn period_label(months: u32) -> String {
    match months {
        1 => "1 month".into(),
        12 => "1 year".into(),
        36 => "3 years".into(),
        m => format!("{m} months"),
    }
}

/// Monthly price of the addons above their included quantity, times the
/// months, unrounded. Denied for an addon the tariff does not have or a
/// quantity outside its limits.
pub(crate) fn addons_amount(req: &PriceRequest) -> Result<Decimal, RuleError> {
    let mut total = Decimal::ZERO;
    for wanted in &req.addons {
        let addon = req
            .tariff
            .addons
            .iter()
            .find(|a| a.resource == wanted.resource)
            .ok_or_else(|| {
                RuleError::Denied(format!(
                    "tariff {} has no addon {:?}",
                    req.tariff.name, wanted.resource
                ))
            })?;
        if wanted.quantity < addon.minimum || wanted.quantity > addon.maximum {
            return Err(RuleError::Denied(format!(
                "addon {} must be between {} and {} {}",
                addon.resource, addon.minimum, addon.maximum, addon.unit
            )));
        }
        let extra = wanted.quantity.saturating_sub(addon.included);
        total += addon.price_per_unit * Decimal::from(extra) * Decimal::from(req.months);
    }
    Ok(total)
}

/// The setup fee line, charged once with the first order, if there is a fee.
pub(crate) fn setup_line(tariff: &Tariff) -> Option<Line> {
    (tariff.setup_fee > Decimal::ZERO).then(|| {
        Line::charge(
            LineKind::Setup,
            format!("{}, setup fee", tariff.name),
            round_money(tariff.setup_fee, &tariff.currency),
        )
    })
}

/// The period an order or renewal starting on `start` pays for.
struct Term {
    /// Exclusive end of the paid period.
    end: NaiveDate,
    /// What the period costs, unrounded.
    amount: Decimal,
    /// How the period was prorated, for the line description.
    note: Option<String>,
}

/// The term of a `months` period starting on `start` whose full price is
/// `full_amount`: a plain period of `months` calendar months, or on a
/// calendar-based tariff a period ending on a 1st at a prorated price.
fn term(
    tariff: &Tariff,
    start: NaiveDate,
    months: u32,
    full_amount: Decimal,
) -> Result<Term, RuleError> {
    let calendar = pro_rata_day(tariff)?.and_then(|day| calendar_term(start, months, day));
    Ok(match calendar {
        Some(calendar) => Term {
            end: calendar.end,
            amount: calendar.share_of(full_amount, months),
            note: Some(calendar.describe()),
        },
        None => Term {
            end: add_months(start, months),
            amount: full_amount,
            note: None,
        },
    })
}

fn describe(head: String, term: &Term) -> String {
    match &term.note {
        Some(note) => format!("{head}, {note}"),
        None => head,
    }
}

/// A new service: the first period from today, plus the setup fee.
fn order(req: &PriceRequest) -> Result<PriceDecision, RuleError> {
    let tariff = &req.tariff;
    let price = tariff
        .price_for(req.months)
        .ok_or_else(|| not_sold(tariff, req.months))?;
    let start = req.at.date_naive();
    let term = term(tariff, start, req.months, price + addons_amount(req)?)?;
    let mut lines = vec![
        Line::charge(
            LineKind::Order,
            describe(
                format!("{}, {}", tariff.name, period_label(req.months)),
                &term,
            ),
            round_money(term.amount, &tariff.currency),
        )
        .covering(start, term.end),
    ];
    lines.extend(setup_line(tariff));
    Ok(PriceDecision {
        lines,
        period_start: start,
        expires: term.end,
    })
}

/// Another period for an existing service, at the renewal price.
///
/// A service renewed on or before its expiry extends from the expiry, so no
/// day is lost or paid twice. One that has expired starts again as its late
/// fee says: today (with a fee, if any) or, renewing from suspension, at the
/// old expiry. A service that was never paid starts today.
fn renewal(req: &PriceRequest) -> Result<PriceDecision, RuleError> {
    let tariff = &req.tariff;
    let service = req.service.as_ref().ok_or_else(|| {
        RuleError::InvalidInput("a renewal needs the service being renewed".into())
    })?;
    let price = tariff
        .renewal_price_for(req.months)
        .ok_or_else(|| not_sold(tariff, req.months))?;
    let full_amount = price + addons_amount(req)?;
    let today = req.at.date_naive();
    let (start, fee) = match service.expires {
        Some(expires) if expires >= today => (expires, None),
        Some(expires) => {
            let late = late_fee::late_renewal(tariff, req.months, full_amount, expires, today)?;
            (late.start, late.fee)
        }
        None => (today, None),
    };
    let term = term(tariff, start, req.months, full_amount)?;
    let mut lines = vec![
        Line::charge(
            LineKind::Renewal,
            describe(
                format!("{}, renewal, {}", tariff.name, period_label(req.months)),
                &term,
            ),
            round_money(term.amount, &tariff.currency),
        )
        .covering(start, term.end),
    ];
    lines.extend(fee);
    Ok(PriceDecision {
        lines,
        period_start: start,
        expires: term.end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn tariff() -> Tariff {
        Tariff {
            id: "t1".into(),
            name: "Basic".into(),
            currency: "EUR".into(),
            prices: vec![
                PeriodPrice {
                    months: 1,
                    price: dec("10.00"),
                },
                PeriodPrice {
                    months: 12,
                    price: dec("100.00"),
                },
            ],
            setup_fee: dec("5"),
            renewal_prices: vec![PeriodPrice {
                months: 1,
                price: dec("9.50"),
            }],
            daily: None,
            pro_rata_day: None,
            late_fee: LateFee::None,
            addons: vec![Addon {
                resource: "disk-gb".into(),
                unit: "GB".into(),
                included: 10,
                minimum: 10,
                maximum: 100,
                price_per_unit: dec("0.105"),
            }],
        }
    }

    fn request(operation: Operation, months: u32, at: &str) -> PriceRequest {
        PriceRequest {
            operation,
            tariff: tariff(),
            months,
            addons: vec![],
            service: None,
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn order_charges_period_price_and_setup_fee() {
        let d = DefaultRules::price(request(Operation::Order, 1, "2026-01-31T10:00:00Z")).unwrap();
        assert_eq!(d.lines.len(), 2);
        assert_eq!(d.lines[0].amount, dec("10.00"));
        assert_eq!(d.lines[1].kind, LineKind::Setup);
        assert_eq!(d.lines[1].amount.to_string(), "5.00");
        assert_eq!(d.expires, "2026-02-28".parse().unwrap());
    }

    #[test]
    fn addons_above_included_are_charged_and_rounded() {
        let mut r = request(Operation::Order, 12, "2026-03-01T00:00:00Z");
        r.addons = vec![AddonQuantity {
            resource: "disk-gb".into(),
            quantity: 13,
        }];
        let d = DefaultRules::price(r).unwrap();
        // 100 + 3 * 0.105 * 12 = 103.78
        assert_eq!(d.lines[0].amount, dec("103.78"));
    }

    #[test]
    fn renewal_uses_special_price_and_extends_from_expiry() {
        let mut r = request(Operation::Renewal, 1, "2026-03-20T00:00:00Z");
        r.service = Some(Service {
            id: "s1".into(),
            status: ServiceStatus::Active,
            period_start: None,
            expires: Some("2026-04-01".parse().unwrap()),
            suspended_at: None,
            months: 1,
            addons: vec![],
        });
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.lines[0].amount, dec("9.50"));
        assert_eq!(d.period_start, "2026-04-01".parse().unwrap());
        assert_eq!(d.expires, "2026-05-01".parse().unwrap());
    }

    fn service(expires: &str) -> Service {
        Service {
            id: "s1".into(),
            status: ServiceStatus::Suspended,
            period_start: None,
            expires: Some(expires.parse().unwrap()),
            suspended_at: None,
            months: 1,
            addons: vec![],
        }
    }

    fn calendar_tariff(price: &str) -> Tariff {
        let mut t = tariff();
        t.prices = vec![
            PeriodPrice {
                months: 1,
                price: dec(price),
            },
            PeriodPrice {
                months: 12,
                price: dec("120.00"),
            },
        ];
        t.renewal_prices = vec![];
        t.setup_fee = Decimal::ZERO;
        t.pro_rata_day = Some(15);
        t
    }

    /// Seed: pro-rata day 15; ordered July 12 → until August 1 at 20/31 of
    /// the price.
    #[test]
    fn seed_calendar_order_before_the_pro_rata_day() {
        let mut r = request(Operation::Order, 1, "2026-07-12T09:30:00Z");
        r.tariff = calendar_tariff("31.00");
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-07-12".parse().unwrap());
        assert_eq!(d.expires, "2026-08-01".parse().unwrap());
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.lines[0].amount.to_string(), "20.00");
        assert_eq!(d.lines[0].period_end, Some("2026-08-01".parse().unwrap()));
        assert_eq!(
            d.lines[0].description,
            "Basic, 1 month, prorated to the calendar month: 20/31 of a month"
        );
    }

    /// Seed: pro-rata day 15; ordered July 17 → until September 1 at
    /// (1 + 15/31) of the price.
    #[test]
    fn seed_calendar_order_after_the_pro_rata_day() {
        let mut r = request(Operation::Order, 1, "2026-07-17T09:30:00Z");
        r.tariff = calendar_tariff("10.00");
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.expires, "2026-09-01".parse().unwrap());
        // 10 × 46/31 = 14.8387..
        assert_eq!(d.lines[0].amount.to_string(), "14.84");
        assert!(d.lines[0].description.contains("prorated"));
    }

    #[test]
    fn calendar_order_on_the_first_is_a_full_period() {
        let mut r = request(Operation::Order, 12, "2026-07-01T00:00:00Z");
        r.tariff = calendar_tariff("10.00");
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.expires, "2027-07-01".parse().unwrap());
        assert_eq!(d.lines[0].amount.to_string(), "120.00");
        assert_eq!(d.lines[0].description, "Basic, 1 year");
    }

    #[test]
    fn calendar_renewal_is_prorated_when_it_does_not_start_on_the_first() {
        // On time: from the expiry, the 1st, at the full price.
        let mut r = request(Operation::Renewal, 1, "2026-07-20T00:00:00Z");
        r.tariff = calendar_tariff("31.00");
        r.service = Some(service("2026-08-01"));
        let d = DefaultRules::price(r.clone()).unwrap();
        assert_eq!(
            (d.period_start, d.expires),
            ("2026-08-01".parse().unwrap(), "2026-09-01".parse().unwrap())
        );
        assert_eq!(d.lines[0].amount.to_string(), "31.00");
        // Expired, no late fee: from today, July 20 (after day 15), to Sep 1.
        r.service = Some(service("2026-07-01"));
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(
            (d.period_start, d.expires),
            ("2026-07-20".parse().unwrap(), "2026-09-01".parse().unwrap())
        );
        // 31 × (1 + 12/31) = 43.00
        assert_eq!(d.lines[0].amount.to_string(), "43.00");
        assert_eq!(d.lines.len(), 1);
    }

    /// Seed: 50% late fee; expired September 1, renewed September 5; a month
    /// renews at 3.00 and September has 30 days: 5 × 0.10 × 50% = 0.25.
    #[test]
    fn seed_percent_late_fee_on_renewal() {
        let mut r = request(Operation::Renewal, 1, "2026-09-05T08:00:00Z");
        r.tariff.renewal_prices = vec![PeriodPrice {
            months: 1,
            price: dec("3.00"),
        }];
        r.tariff.late_fee = LateFee::Percent(dec("50"));
        r.service = Some(service("2026-09-01"));
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-09-05".parse().unwrap());
        assert_eq!(d.expires, "2026-10-05".parse().unwrap());
        assert_eq!(d.lines.len(), 2);
        assert_eq!(d.lines[0].kind, LineKind::Renewal);
        assert_eq!(d.lines[0].amount.to_string(), "3.00");
        assert_eq!(d.lines[1].kind, LineKind::LateFee);
        assert_eq!(d.lines[1].amount.to_string(), "0.25");
        assert_eq!(
            d.lines[1].description,
            "Basic, late renewal fee: 50% of 5 late day(s)"
        );
    }

    #[test]
    fn fixed_late_fee_on_renewal() {
        let mut r = request(Operation::Renewal, 1, "2026-09-05T08:00:00Z");
        r.tariff.late_fee = LateFee::Fixed(dec("1.5"));
        r.service = Some(service("2026-09-01"));
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-09-05".parse().unwrap());
        assert_eq!(d.lines[1].kind, LineKind::LateFee);
        assert_eq!(d.lines[1].amount.to_string(), "1.50");
    }

    #[test]
    fn renewal_on_the_expiry_day_is_on_time() {
        let mut r = request(Operation::Renewal, 1, "2026-09-01T23:59:59Z");
        r.tariff.late_fee = LateFee::Fixed(dec("1.5"));
        r.service = Some(service("2026-09-01"));
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-09-01".parse().unwrap());
        assert_eq!(d.lines.len(), 1);
    }

    /// Seed: renew from suspension; expired August 3, renewed August 15 →
    /// active until September 3.
    #[test]
    fn seed_renew_from_suspension() {
        let mut r = request(Operation::Renewal, 1, "2026-08-15T10:00:00Z");
        r.tariff.late_fee = LateFee::RenewFromSuspension;
        r.service = Some(service("2026-08-03"));
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-08-03".parse().unwrap());
        assert_eq!(d.expires, "2026-09-03".parse().unwrap());
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.lines[0].amount.to_string(), "9.50");
        assert_eq!(d.lines[0].period_start, Some("2026-08-03".parse().unwrap()));
        assert_eq!(d.lines[0].period_end, Some("2026-09-03".parse().unwrap()));
    }

    /// Expired on Saturday August 1, kept up over the weekend by a "do not
    /// suspend on weekends" policy and suspended on Monday the 3rd, renewed
    /// on the 15th: the weekend it ran is paid for (seed 002: "funds for the
    /// additional days of service will be debited ... when paying for the
    /// service renewal"), so the period starts at the expiry, not on the 3rd.
    #[test]
    fn renew_from_suspension_pays_for_a_weekend_kept_up() {
        let mut r = request(Operation::Renewal, 1, "2026-08-15T10:00:00Z");
        r.tariff.late_fee = LateFee::RenewFromSuspension;
        let mut service = service("2026-08-01");
        service.suspended_at = Some("2026-08-03".parse().unwrap());
        r.service = Some(service);
        let d = DefaultRules::price(r).unwrap();
        assert_eq!(d.period_start, "2026-08-01".parse().unwrap());
        assert_eq!(d.expires, "2026-09-01".parse().unwrap());
    }

    #[test]
    fn nonsense_tariffs_are_invalid_input() {
        let mut r = request(Operation::Order, 1, "2026-01-01T00:00:00Z");
        r.tariff.pro_rata_day = Some(0);
        assert!(matches!(
            DefaultRules::price(r.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        r.tariff.pro_rata_day = Some(15);
        r.tariff.daily = Some(DailyCharging {
            price: Some(dec("0.1")),
            cost_from_period: false,
            charge_downtime: false,
        });
        assert!(matches!(
            DefaultRules::price(r.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        let mut r = request(Operation::Order, 0, "2026-01-01T00:00:00Z");
        assert!(matches!(
            DefaultRules::price(r.clone()),
            Err(RuleError::InvalidInput(_))
        ));
        r.months = 1;
        r.operation = Operation::Daily;
        assert!(matches!(
            DefaultRules::price(r),
            Err(RuleError::InvalidInput(_))
        ));
    }

    #[test]
    fn unsold_period_is_denied_with_reason() {
        let err =
            DefaultRules::price(request(Operation::Order, 3, "2026-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(
            err,
            RuleError::Denied(
                "tariff Basic is not sold for 3 month(s); periods on sale (months): 1, 12".into()
            )
        );
    }
}
