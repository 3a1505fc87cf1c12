//! Resellers, clients, client groups and API keys, with tenancy: a reseller
//! reads and writes only its own objects, and an object it may not see is
//! answered 404 exactly like one that does not exist, so ids cannot be probed.

use super::auth::{generate_secret, insert_key};
use super::tables::{
    account_in, group_in, key_in, next_account_id, next_group_id, put_account, put_group, put_key,
};
use crate::app::{ApiError, App, Caller, Idempotency, Written};
use crate::domain::accounts::{
    Account, AccountKind, ApiKey, ClientGroup, CreditLimit, Role, check_name,
};
use crate::domain::ids::{AccountId, GroupId, KeyId};
use crate::domain::invalid::{Invalid, invalid};
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReseller {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: String,
    /// "unlimited" or an amount such as "50.00"; absent: the daemon's
    /// `--credit-limit`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^(unlimited|0*[0-9]{1,12}(\.[0-9]{1,3}0*)?)$", example = "50.00")]
    pub credit_limit: Option<CreditLimit>,
}

/// A reseller as created: the only time its API key is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedReseller {
    #[schema(value_type = u64)]
    pub id: AccountId,
    pub name: String,
    pub api_key: String,
    #[schema(value_type = u64)]
    pub api_key_id: KeyId,
    pub created_at: DateTime<Utc>,
}

/// A change to a reseller (provider only).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResellerChange {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: Option<String>,
    /// Whether the reseller may draw common-pool addresses once its assigned
    /// IP pools are exhausted.
    #[serde(default)]
    pub ip_common_fallback: Option<bool>,
    /// "unlimited" or an amount; null goes back to the daemon's default.
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<String>, pattern = r"^(unlimited|0*[0-9]{1,12}(\.[0-9]{1,3}0*)?)$", example = "50.00")]
    pub credit_limit: Option<Option<CreditLimit>>,
}

/// A change to a client.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: Option<String>,
    /// "unlimited" or an amount; null goes back to the daemon's default.
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<String>, pattern = r"^(unlimited|0*[0-9]{1,12}(\.[0-9]{1,3}0*)?)$", example = "50.00")]
    pub credit_limit: Option<Option<CreditLimit>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: String,
    /// The reseller the client belongs to (provider keys only; a reseller's key
    /// always creates its own clients).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub group_id: Option<GroupId>,
    /// "unlimited" or an amount such as "50.00"; absent: the daemon's
    /// `--credit-limit`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^(unlimited|0*[0-9]{1,12}(\.[0-9]{1,3}0*)?)$", example = "50.00")]
    pub credit_limit: Option<CreditLimit>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientGroup {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        example = "Example Hosting"
    )]
    pub name: String,
    /// The reseller that owns the group (provider keys only).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub reseller_id: Option<AccountId>,
    #[serde(default)]
    pub allow_suspend_resume: bool,
    #[serde(default)]
    pub allow_deletion: bool,
    #[serde(default)]
    pub ignore_service_limit: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// The reseller account the key is for (provider keys only; default: the caller's own account).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub account_id: Option<AccountId>,
}

/// A new API key: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[schema(value_type = u64)]
    pub id: KeyId,
    #[schema(value_type = u64)]
    pub account_id: AccountId,
    pub role: Role,
    pub api_key: String,
    pub created_at: DateTime<Utc>,
}

fn not_found(what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!("{what} {id} does not exist"))
}

/// The reseller `id`, if the caller may see it.
fn visible_reseller(
    txn: &WriteTransaction,
    caller: &Caller,
    id: AccountId,
) -> Result<Account, ApiError> {
    match account_in(txn, id)? {
        Some(a) if a.kind == AccountKind::Reseller && caller.can_see(Some(a.id)) => Ok(a),
        _ => Err(not_found("reseller", id)),
    }
}

/// Which reseller a new object belongs to: a reseller's own key always means
/// itself; the provider may name a reseller (which must exist) or none.
fn owner_for(
    txn: &WriteTransaction,
    caller: &Caller,
    requested: Option<AccountId>,
) -> Result<Option<AccountId>, ApiError> {
    match caller.acting_for(requested)? {
        Some(r) if caller.is_provider() => visible_reseller(txn, caller, r).map(|a| Some(a.id)),
        owner => Ok(owner),
    }
}

/// Create the provider account and its first key, in an open transaction.
pub fn create_provider(
    txn: &WriteTransaction,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Account, ApiError> {
    let account = Account {
        id: next_account_id(txn)?,
        kind: AccountKind::Provider,
        name: "provider".into(),
        reseller_id: None,
        group_id: None,
        ip_common_fallback: false,
        credit_limit: None,
        created_at: now,
    };
    put_account(txn, &account)?;
    insert_key(txn, &account, Role::Provider, secret, now)?;
    Ok(account)
}

impl App {
    // ---- resellers ----

    pub async fn create_reseller(
        &self,
        caller: Caller,
        req: NewReseller,
        idem: Option<Idempotency>,
    ) -> Result<Written<CreatedReseller>, ApiError> {
        caller.require_provider()?;
        check_name("name", &req.name)?;
        let secret = generate_secret();
        self.mutate(idem, move |txn, now| {
            let account = Account {
                id: next_account_id(txn)?,
                kind: AccountKind::Reseller,
                name: req.name.clone(),
                reseller_id: None,
                group_id: None,
                ip_common_fallback: false,
                credit_limit: req.credit_limit,
                created_at: now,
            };
            put_account(txn, &account)?;
            let key = insert_key(txn, &account, Role::Reseller, &secret, now)?;
            Ok(CreatedReseller {
                id: account.id,
                name: account.name,
                api_key: secret.clone(),
                api_key_id: key.id,
                created_at: now,
            })
        })
        .await
    }

    pub fn list_resellers(&self, caller: &Caller) -> Result<Vec<Account>, ApiError> {
        self.accounts_where(|a: &Account| {
            a.kind == AccountKind::Reseller && caller.can_see(Some(a.id))
        })
    }

    pub fn get_reseller(&self, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
        match self.account(id)? {
            Some(a) if a.kind == AccountKind::Reseller && caller.can_see(Some(a.id)) => Ok(a),
            _ => Err(not_found("reseller", id)),
        }
    }

    /// Rename a reseller or change what it may do (provider only).
    pub async fn change_reseller(
        &self,
        caller: Caller,
        id: AccountId,
        change: ResellerChange,
        idem: Option<Idempotency>,
    ) -> Result<Written<Account>, ApiError> {
        caller.require_provider()?;
        if let Some(name) = &change.name {
            check_name("name", name)?;
        }
        self.mutate(idem, move |txn, _| {
            let mut reseller = visible_reseller(txn, &caller, id)?;
            if let Some(name) = &change.name {
                reseller.name = name.clone();
            }
            if let Some(allowed) = change.ip_common_fallback {
                reseller.ip_common_fallback = allowed;
            }
            if let Some(limit) = change.credit_limit {
                reseller.credit_limit = limit;
            }
            put_account(txn, &reseller)?;
            Ok(reseller)
        })
        .await
    }

    // ---- clients ----

    /// Rename a client or change its credit limit (the provider, or the
    /// client's reseller). A higher limit may let services waiting for
    /// funds start: the caller settles them (`App::settle_pending`).
    pub async fn change_client(
        &self,
        caller: Caller,
        id: AccountId,
        change: ClientChange,
        idem: Option<Idempotency>,
    ) -> Result<Written<Account>, ApiError> {
        if let Some(name) = &change.name {
            check_name("name", name)?;
        }
        self.mutate(idem, move |txn, _| {
            let mut client = match account_in(txn, id)? {
                Some(a) if a.kind == AccountKind::Client && caller.sees_client(&a) => a,
                _ => return Err(not_found("client", id)),
            };
            if let Some(name) = &change.name {
                client.name = name.clone();
            }
            if let Some(limit) = change.credit_limit {
                client.credit_limit = limit;
            }
            put_account(txn, &client)?;
            Ok(client)
        })
        .await
    }

    pub async fn create_client(
        &self,
        caller: Caller,
        req: NewClient,
        idem: Option<Idempotency>,
    ) -> Result<Written<Account>, ApiError> {
        check_name("name", &req.name)?;
        self.mutate(idem, move |txn, now| {
            let owner = owner_for(txn, &caller, req.reseller_id)?;
            if let Some(g) = req.group_id {
                match group_in(txn, g)? {
                    Some(group) if caller.can_see(group.reseller_id) => {
                        if group.reseller_id != owner {
                            return Err(Invalid {
                                field: "group_id".into(),
                                message: format!(
                                    "client group {g} belongs to another account than the client"
                                ),
                            }
                            .into());
                        }
                    }
                    _ => return Err(not_found("client group", g)),
                }
            }
            let account = Account {
                id: next_account_id(txn)?,
                kind: AccountKind::Client,
                name: req.name.clone(),
                reseller_id: owner,
                group_id: req.group_id,
                ip_common_fallback: false,
                credit_limit: req.credit_limit,
                created_at: now,
            };
            put_account(txn, &account)?;
            Ok(account)
        })
        .await
    }

    pub fn list_clients(&self, caller: &Caller) -> Result<Vec<Account>, ApiError> {
        self.accounts_where(|a: &Account| caller.sees_client(a))
    }

    pub fn get_client(&self, caller: &Caller, id: AccountId) -> Result<Account, ApiError> {
        match self.account(id)? {
            Some(a) if caller.sees_client(&a) => Ok(a),
            _ => Err(not_found("client", id)),
        }
    }

    // ---- client groups ----

    pub async fn create_client_group(
        &self,
        caller: Caller,
        req: NewClientGroup,
        idem: Option<Idempotency>,
    ) -> Result<Written<ClientGroup>, ApiError> {
        check_name("name", &req.name)?;
        self.mutate(idem, move |txn, now| {
            let group = ClientGroup {
                id: next_group_id(txn)?,
                reseller_id: owner_for(txn, &caller, req.reseller_id)?,
                name: req.name.clone(),
                allow_suspend_resume: req.allow_suspend_resume,
                allow_deletion: req.allow_deletion,
                ignore_service_limit: req.ignore_service_limit,
                created_at: now,
            };
            put_group(txn, &group)?;
            Ok(group)
        })
        .await
    }

    pub fn list_client_groups(&self, caller: &Caller) -> Result<Vec<ClientGroup>, ApiError> {
        self.groups_where(|g: &ClientGroup| caller.can_see(g.reseller_id))
    }

    pub fn get_client_group(&self, caller: &Caller, id: GroupId) -> Result<ClientGroup, ApiError> {
        match self.group(id)? {
            Some(g) if caller.can_see(g.reseller_id) => Ok(g),
            _ => Err(not_found("client group", id)),
        }
    }

    // ---- API keys ----

    pub async fn create_api_key(
        &self,
        caller: Caller,
        req: NewApiKey,
        idem: Option<Idempotency>,
    ) -> Result<Written<CreatedApiKey>, ApiError> {
        let secret = generate_secret();
        self.mutate(idem, move |txn, now| {
            let target = req.account_id.unwrap_or(caller.account_id);
            let account = match account_in(txn, target)? {
                Some(a) if a.id == caller.account_id => a,
                Some(a) if caller.is_provider() && a.kind == AccountKind::Reseller => a,
                Some(a) if caller.is_provider() && a.kind == AccountKind::Client => {
                    return Err(invalid(
                        "account_id",
                        format!(
                            "account {target} is a client: API keys are for the provider and resellers"
                        ),
                    )
                    .into());
                }
                _ => return Err(not_found("account", target)),
            };
            let role = match account.kind {
                AccountKind::Provider => Role::Provider,
                _ => Role::Reseller,
            };
            let key = insert_key(txn, &account, role, &secret, now)?;
            Ok(CreatedApiKey {
                id: key.id,
                account_id: key.account_id,
                role,
                api_key: secret.clone(),
                created_at: now,
            })
        })
        .await
    }

    pub fn list_api_keys(&self, caller: &Caller) -> Result<Vec<ApiKey>, ApiError> {
        self.keys_where(|k: &ApiKey| caller.is_provider() || k.account_id == caller.account_id)
    }

    /// Revoke a key. It stops working for the very next request.
    pub async fn revoke_api_key(
        &self,
        caller: Caller,
        id: KeyId,
        idem: Option<Idempotency>,
    ) -> Result<Written<ApiKey>, ApiError> {
        let revoked = self
            .mutate(idem, move |txn, now| {
                let mut key = match key_in(txn, id)? {
                    Some(k) if caller.is_provider() || k.account_id == caller.account_id => k,
                    _ => return Err(not_found("API key", id)),
                };
                if key.id == caller.key_id {
                    return Err(Invalid {
                        field: "id".into(),
                        message: "an API key cannot revoke itself; revoke it with another key"
                            .into(),
                    }
                    .into());
                }
                if key.revoked_at.is_none() {
                    key.revoked_at = Some(now);
                    put_key(txn, &key, None)?;
                }
                Ok(key)
            })
            .await;
        // Committed (or failed: then there is nothing stale to drop either).
        self.keys.invalidate();
        revoked
    }
}
