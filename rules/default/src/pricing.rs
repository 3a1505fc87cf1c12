//! Order and renewal prices.

use crate::DefaultRules;
use rules_sdk::*;

/// Money is kept to cents, half away from zero, as BILLmanager shows it.
/// Always shown with exactly two decimals ("5.00").
pub(crate) fn round_money(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

impl Pricing for DefaultRules {
    fn price(req: PriceRequest) -> Result<PriceDecision, RuleError> {
        match req.operation {
            Operation::Order => order(&req),
            Operation::Renewal => renewal(&req),
            Operation::Daily => Err(RuleError::NotImplemented(
                "daily charging is not implemented by this module yet".into(),
            )),
        }
    }
}

fn not_sold(tariff: &Tariff, months: u32) -> RuleError {
    let mut sold: Vec<String> = tariff.prices.iter().map(|p| p.months.to_string()).collect();
    sold.sort();
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

/// Monthly price of the addons above their included quantity, times the months.
fn addons_amount(req: &PriceRequest) -> Result<Decimal, RuleError> {
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

fn order(req: &PriceRequest) -> Result<PriceDecision, RuleError> {
    let tariff = &req.tariff;
    let price = tariff
        .price_for(req.months)
        .ok_or_else(|| not_sold(tariff, req.months))?;
    let start = req.at.date_naive();
    let expires = add_months(start, req.months);
    let mut lines = vec![
        Line::charge(
            LineKind::Order,
            format!("{}, {}", tariff.name, period_label(req.months)),
            round_money(price + addons_amount(req)?),
        )
        .covering(start, expires),
    ];
    if tariff.setup_fee > Decimal::ZERO {
        lines.push(Line::charge(
            LineKind::Setup,
            format!("{}, setup fee", tariff.name),
            round_money(tariff.setup_fee),
        ));
    }
    Ok(PriceDecision {
        lines,
        period_start: start,
        expires,
    })
}

fn renewal(req: &PriceRequest) -> Result<PriceDecision, RuleError> {
    let tariff = &req.tariff;
    let service = req.service.as_ref().ok_or_else(|| {
        RuleError::InvalidInput("a renewal needs the service being renewed".into())
    })?;
    let price = tariff
        .renewal_price_for(req.months)
        .ok_or_else(|| not_sold(tariff, req.months))?;
    let today = req.at.date_naive();
    // A service renewed before it expires extends from its expiry; one that has
    // already expired starts a new period today.
    let start = match service.expires {
        Some(expires) if expires >= today => expires,
        _ => today,
    };
    let expires = add_months(start, req.months);
    Ok(PriceDecision {
        lines: vec![
            Line::charge(
                LineKind::Renewal,
                format!("{}, renewal, {}", tariff.name, period_label(req.months)),
                round_money(price + addons_amount(req)?),
            )
            .covering(start, expires),
        ],
        period_start: start,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

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
            daily_price: None,
            daily_cost_from_period: false,
            pro_rata_day: None,
            late_fee: LateFee::None,
            renew_from_suspension: false,
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
