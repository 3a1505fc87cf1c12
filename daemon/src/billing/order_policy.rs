//! The tariff's order policies (seed 002): which orders and renewals a tariff
//! accepts. Each refusal names the policy it applies.

use super::model::OrderRequest;
use super::tables::Reader;
use crate::app::ApiError;
use crate::app::Caller;
use crate::domain::accounts::{Account, ClientGroup};
use crate::domain::invalid::invalid;
use crate::domain::service::ServiceStatus;
use crate::domain::tariff::{self, AddonQuantity, MinimumPeriod, PeriodUnit, Tariff, TariffSpec};
use chrono::NaiveDate;

/// A policy of the tariff or the client forbids the request.
pub(super) fn policy(message: String) -> ApiError {
    ApiError::Policy(message)
}

fn period_words(months: u32) -> String {
    match months {
        1 => "1-month".into(),
        12 => "1-year".into(),
        36 => "3-year".into(),
        m => format!("{m}-month"),
    }
}

/// The addon quantities of an order: requested ones checked against the
/// tariff's minimum and maximum, omitted ones at their included quantity;
/// then the control panel chosen, if any (one unit of one priced value).
pub(crate) fn order_addons(
    spec: &TariffSpec,
    requested: &[AddonQuantity],
) -> Result<Vec<AddonQuantity>, ApiError> {
    tariff::check_addons("addons", requested)?;
    if let Some(unknown) = requested
        .iter()
        .find(|r| !spec.all_addons().any(|a| a.resource == r.resource))
    {
        return Err(policy(format!(
            "tariff {} has no addon {:?}",
            spec.name, unknown.resource
        )));
    }
    let mut addons = spec
        .addons
        .iter()
        .map(|a| {
            let quantity = requested
                .iter()
                .find(|r| r.resource == a.resource)
                .map_or(a.included.max(a.minimum), |r| r.quantity);
            if quantity < a.minimum || quantity > a.maximum {
                return Err(policy(format!(
                    "tariff {} allows {} {} between {} and {} {}",
                    spec.name, a.resource, "quantities", a.minimum, a.maximum, a.unit
                )));
            }
            Ok(AddonQuantity {
                resource: a.resource.clone(),
                quantity,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut panels = requested
        .iter()
        .filter(|r| tariff::panel_value(&r.resource).is_some() && r.quantity > 0);
    if let Some(panel) = panels.next() {
        if panel.quantity > 1 || panels.next().is_some() {
            return Err(policy(format!(
                "tariff {} sells one control panel per service: choose one value, one unit",
                spec.name
            )));
        }
        addons.push(panel.clone());
    }
    Ok(addons)
}

/// A period length the tariff sells now: priced, not disabled, tariff not ended.
pub(crate) fn check_period_on_sale(
    spec: &TariffSpec,
    months: u32,
    today: NaiveDate,
) -> Result<(), ApiError> {
    tariff::check_period("months", months)?;
    if let Some(end) = spec.end_date
        && today > end
    {
        return Err(policy(format!(
            "tariff {} ended on {end}: it can no longer be ordered or renewed",
            spec.name
        )));
    }
    if !spec.sells(months) {
        return Err(policy(format!(
            "tariff {} does not sell {} periods",
            spec.name,
            period_words(months)
        )));
    }
    Ok(())
}

/// The tariff's minimum order period (an order only: renewals may be
/// shorter). Shared with quotes, so a quote refuses what the order would.
pub(crate) fn check_minimum_period(
    spec: &TariffSpec,
    months: u32,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let Some(MinimumPeriod { length, unit }) = spec.minimum_period else {
        return Ok(());
    };
    let (have, words) = match unit {
        PeriodUnit::Months => (months, "month(s)"),
        PeriodUnit::Days => {
            let end = today
                .checked_add_months(chrono::Months::new(months))
                .unwrap_or(NaiveDate::MAX);
            ((end - today).num_days() as u32, "day(s)")
        }
    };
    if have < length {
        return Err(policy(format!(
            "tariff {} has a minimum order period of {length} {words}",
            spec.name
        )));
    }
    Ok(())
}

pub(crate) fn check_enabled(spec: &TariffSpec) -> Result<(), ApiError> {
    if spec.enabled {
        Ok(())
    } else {
        Err(policy(format!(
            "tariff {} is disabled: it takes no orders",
            spec.name
        )))
    }
}

/// "Allow for / Forbid to client groups": who may order a tariff, or change
/// to it.
pub(super) fn check_client_group(
    spec: &TariffSpec,
    group: Option<&ClientGroup>,
) -> Result<(), ApiError> {
    let group = group.map(|g| g.id);
    let allowed = &spec.client_groups.allowed;
    if (!allowed.is_empty() && group.is_none_or(|g| !allowed.contains(&g)))
        || group.is_some_and(|g| spec.client_groups.forbidden.contains(&g))
    {
        return Err(policy(format!(
            "tariff {} is not available to {}",
            spec.name,
            match group {
                Some(g) => format!("client group {g}"),
                None => "clients outside its allowed client groups".into(),
            }
        )));
    }
    Ok(())
}

/// The facts an order's policies are checked against.
pub(super) struct OrderFacts {
    pub tariff: Tariff,
    pub client: Account,
    pub group: Option<ClientGroup>,
    /// The client's services of this tariff that are not deleted (counted
    /// only when the tariff limits them).
    pub existing: u32,
}

/// Every policy of the tariff an order must satisfy. Pure: called before the
/// rule (to refuse early) and again in the write transaction (the facts may
/// have changed).
pub(super) fn check_order(
    facts: &OrderFacts,
    req: &OrderRequest,
    today: NaiveDate,
) -> Result<Vec<AddonQuantity>, ApiError> {
    let spec = &facts.tariff.spec;
    let name = &spec.name;
    if !spec.enabled {
        return Err(policy(format!(
            "tariff {name} is disabled: it takes no orders"
        )));
    }
    check_period_on_sale(spec, req.months, today)?;
    check_minimum_period(spec, req.months, today)?;
    check_client_group(spec, facts.group.as_ref())?;
    if req.count == 0 {
        return Err(invalid("count", "order at least one service").into());
    }
    match spec.simultaneous_orders {
        None if req.count > 1 => {
            return Err(policy(format!(
                "tariff {name} allows one service per order"
            )));
        }
        Some(max) if req.count > max => {
            return Err(policy(format!(
                "tariff {name} allows at most {max} services per order"
            )));
        }
        _ => {}
    }
    let ignore_limit = facts.group.as_ref().is_some_and(|g| g.ignore_service_limit);
    if let Some(limit) = spec.services_per_client
        && !ignore_limit
        && facts.existing + req.count > limit
    {
        return Err(policy(format!(
            "tariff {name} allows at most {limit} service(s) per client; client {} has {}",
            facts.client.id, facts.existing
        )));
    }
    match &req.control_panel {
        Some(value) => {
            let panel = AddonQuantity {
                resource: tariff::panel_resource(value),
                quantity: 1,
            };
            if spec
                .control_panel
                .as_ref()
                .and_then(|p| p.price(value))
                .is_none()
            {
                return Err(policy(format!(
                    "tariff {name} sells no control panel {value:?}"
                )));
            }
            let mut requested = req.addons.clone();
            requested.push(panel);
            order_addons(spec, &requested)
        }
        None => order_addons(spec, &req.addons),
    }
}

/// Read the facts of an order, in whichever transaction.
pub(super) fn order_facts(
    txn: &impl Reader,
    caller: &Caller,
    req: &OrderRequest,
) -> Result<OrderFacts, ApiError> {
    let client = match txn.account(req.client_id)? {
        Some(a) if caller.sees_client(&a) => a,
        _ => {
            return Err(ApiError::NotFound(format!(
                "client {} does not exist",
                req.client_id
            )));
        }
    };
    let tariff = match txn.tariff(req.tariff_id)? {
        // A client orders its seller's tariffs: the provider's clients the
        // provider's, a reseller's clients that reseller's retail plans.
        Some(t) if t.reseller_id == client.reseller_id => t,
        _ => {
            return Err(ApiError::NotFound(format!(
                "tariff {} does not exist for client {}",
                req.tariff_id, client.id
            )));
        }
    };
    let group = match client.group_id {
        Some(g) => txn.group(g)?,
        None => None,
    };
    // Counting means reading every service of the client: only for a limit.
    let existing = match tariff.spec.services_per_client {
        Some(_) => txn
            .client_services(client.id)?
            .iter()
            .filter(|s| s.tariff_id == tariff.id && s.status != ServiceStatus::Deleted)
            .count() as u32,
        None => 0,
    };
    Ok(OrderFacts {
        tariff,
        client,
        group,
        existing,
    })
}
