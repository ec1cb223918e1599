//! `account.*` events and stub stores: the `stripe_stores` rows.
//!
//! A store has two independent version guards. The account fields follow the account
//! object (`account.updated`, the synthetic `account.created`); the connection state follows
//! `account.application.authorized` / `deauthorized`, whose object is the platform's
//! application, not the account. Keeping them apart means a late `account.updated` cannot
//! reconnect a store, nor a re-authorization roll back the account fields.
//!
//! Stripe has no v1 `account.created`, so events of other families may name a store first:
//! its row starts as a [`stub`], and later account events fill it in. `status` is derived
//! from the whole row on every write, so it never depends on which guard moved last.

use chrono::{DateTime, Utc};
use entity::status::StoreStatus;
use entity::store;
use serde_json::Value;

use super::EventRef;
use super::version::{self, VersionKey};
use crate::stripe::object::{bool_field, json_field, str_at, str_field};

/// What an account event does to a store row: the next row, or `None` when the row is
/// newer.
pub type AccountChange = fn(store::Model, &EventRef<'_>) -> Option<store::Model>;

/// The change an `account.*` event makes, if the service handles it. Events about other
/// objects of the account (external accounts, persons, ...) are not handled.
pub fn change_of(event: &EventRef<'_>) -> Option<AccountChange> {
    match event.event_type {
        "account.application.authorized" | "account.application.deauthorized" => {
            Some(update_connection)
        }
        _ if event.object.get("object").and_then(Value::as_str) == Some("account") => {
            Some(update_account)
        }
        _ => None,
    }
}

/// The store status the rest of a row implies: a disconnected seller first, then a store
/// whose details are not submitted yet, then one Stripe restricted, then one that can take
/// payments; anything else is still onboarding (details under verification).
pub fn derive_status(row: &store::Model) -> StoreStatus {
    // Stripe sets `disabled_reason` on every new account until onboarding is done, so a
    // store is `onboarding` until its details are submitted, whatever the reason says.
    if row.disconnected {
        StoreStatus::Disconnected
    } else if !row.details_submitted {
        StoreStatus::Onboarding
    } else if row.disabled_reason.is_some() {
        StoreStatus::Restricted
    } else if row.charges_enabled {
        StoreStatus::Active
    } else {
        StoreStatus::Onboarding
    }
}

/// A store nothing is known about yet but its key.
pub fn stub(store_key: &str, livemode: bool, now: DateTime<Utc>) -> store::Model {
    store::Model {
        pk: 0,
        id: store_key.to_owned(),
        livemode,
        name: None,
        email: None,
        phone: None,
        country: None,
        address: None,
        currency: None,
        description: None,
        website: None,
        status: StoreStatus::Onboarding,
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        capabilities: None,
        pages: None,
        payment_settings: None,
        version: 0,
        version_event: None,
        support_email: None,
        disabled_reason: None,
        disconnected: false,
        connection_version: 0,
        connection_event: None,
        created_at: now,
        updated_at: now,
    }
}

/// The store columns an account object sets.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub support_email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub address: Option<Value>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub capabilities: Option<Value>,
    pub disabled_reason: Option<String>,
}

impl AccountFields {
    /// Reads an account object; Standard accounts often have no `company`, so
    /// `business_profile` comes first.
    pub fn from_object(account: &Value) -> Self {
        let email = str_field(account, "email");
        let name = non_empty(str_at(account, "/business_profile/name"))
            .or_else(|| non_empty(str_at(account, "/settings/dashboard/display_name")))
            .or_else(|| email.clone());
        Self {
            name,
            email,
            support_email: str_at(account, "/business_profile/support_email"),
            phone: str_at(account, "/business_profile/support_phone"),
            country: str_field(account, "country"),
            address: address(account, "/business_profile/support_address")
                .or_else(|| address(account, "/company/address")),
            currency: str_field(account, "default_currency"),
            description: str_at(account, "/business_profile/product_description"),
            website: str_at(account, "/business_profile/url"),
            charges_enabled: bool_field(account, "charges_enabled").unwrap_or(false),
            payouts_enabled: bool_field(account, "payouts_enabled").unwrap_or(false),
            details_submitted: bool_field(account, "details_submitted").unwrap_or(false),
            capabilities: json_field(account, "capabilities").filter(Value::is_object),
            disabled_reason: str_at(account, "/requirements/disabled_reason"),
        }
    }

    fn write(self, row: &mut store::Model) {
        row.name = self.name;
        row.email = self.email;
        row.support_email = self.support_email;
        row.phone = self.phone;
        row.country = self.country;
        row.address = self.address;
        row.currency = self.currency;
        row.description = self.description;
        row.website = self.website;
        row.charges_enabled = self.charges_enabled;
        row.payouts_enabled = self.payouts_enabled;
        row.details_submitted = self.details_submitted;
        row.capabilities = self.capabilities;
        row.disabled_reason = self.disabled_reason;
    }
}

/// A display name must say something: an empty one falls through to the next candidate.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.trim().is_empty())
}

/// An address object, unless every part of it is `null`: Stripe sends unset addresses that
/// way, and such an address must not hide the next candidate.
fn address(account: &Value, pointer: &str) -> Option<Value> {
    let address = account.pointer(pointer)?.as_object()?;
    address
        .values()
        .any(|part| !part.is_null())
        .then(|| Value::Object(address.clone()))
}

/// The account fields under the store's `version` guard; `None` when the row is newer.
fn update_account(mut row: store::Model, event: &EventRef<'_>) -> Option<store::Model> {
    let key = VersionKey::from_event(event);
    let stored = VersionKey::from_row(row.version, row.version_event.as_deref());
    if !version::is_newer_or_same(&key, stored.as_ref()) {
        return None;
    }
    AccountFields::from_object(event.object).write(&mut row);
    let (version, version_event) = key.to_columns();
    row.version = version;
    row.version_event = Some(version_event);
    row.status = derive_status(&row);
    Some(row)
}

/// The connection state under the store's `connection_version` guard; `None` when the row
/// is newer. A deauthorization outranks an authorization of the same second.
fn update_connection(mut row: store::Model, event: &EventRef<'_>) -> Option<store::Model> {
    let disconnected = event.event_type == "account.application.deauthorized";
    let key = VersionKey {
        version: event.created,
        rank: if disconnected { 2 } else { 1 },
        event_id: event.id.to_owned(),
    };
    let stored = VersionKey::from_row(row.connection_version, row.connection_event.as_deref());
    if !version::is_newer_or_same(&key, stored.as_ref()) {
        return None;
    }
    let (version, version_event) = key.to_columns();
    row.disconnected = disconnected;
    row.connection_version = version;
    row.connection_event = Some(version_event);
    row.status = derive_status(&row);
    Some(row)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture(name: &str) -> Value {
        let text = match name {
            "account.created" => include_str!("../../tests/data/stripe/account.created.json"),
            _ => include_str!("../../tests/data/stripe/account.updated.json"),
        };
        let event: Value = serde_json::from_str(text).expect("fixture is JSON");
        event["data"]["object"].clone()
    }

    #[test]
    fn an_onboarded_account_fills_every_field() {
        let fields = AccountFields::from_object(&fixture("account.updated"));
        assert_eq!(fields.name.as_deref(), Some("Rosen Threads"));
        assert_eq!(fields.email.as_deref(), Some("site@stripe.com"));
        assert_eq!(fields.support_email.as_deref(), Some("jenny@example.com"));
        assert_eq!(fields.phone.as_deref(), Some("+15555555555"));
        assert_eq!(fields.country.as_deref(), Some("US"));
        assert_eq!(fields.currency.as_deref(), Some("usd"));
        assert_eq!(
            fields.description.as_deref(),
            Some("Comfortable gray cotton t-shirts")
        );
        assert_eq!(
            fields.website.as_deref(),
            Some("https://rosenthreads.example.com")
        );
        assert_eq!(
            fields.address.as_ref().and_then(|a| a.get("line1")),
            Some(&json!("1234 Fake Street"))
        );
        assert!(fields.charges_enabled && fields.payouts_enabled && fields.details_submitted);
        assert_eq!(
            fields.capabilities,
            Some(json!({"card_payments": "active", "transfers": "active"}))
        );
        assert_eq!(fields.disabled_reason, None);
    }

    #[test]
    fn a_new_account_falls_back_to_its_email_and_has_no_address() {
        let fields = AccountFields::from_object(&fixture("account.created"));
        assert_eq!(fields.name.as_deref(), Some("site@stripe.com"));
        assert_eq!(fields.address, None);
        assert_eq!(fields.support_email, None);
        assert!(!fields.charges_enabled);
        assert_eq!(
            fields.disabled_reason.as_deref(),
            Some("requirements.past_due")
        );
    }

    #[test]
    fn the_name_prefers_the_business_profile_then_the_dashboard() {
        let account = json!({
            "business_profile": {"name": ""},
            "settings": {"dashboard": {"display_name": "Dash"}},
            "email": "a@example.com",
        });
        assert_eq!(
            AccountFields::from_object(&account).name.as_deref(),
            Some("Dash")
        );
    }

    #[test]
    fn the_company_address_is_used_without_a_support_address() {
        let account = json!({"company": {"address": {"city": "Paris", "line1": null}}});
        assert_eq!(
            AccountFields::from_object(&account).address,
            Some(json!({"city": "Paris", "line1": null}))
        );
    }

    #[test]
    fn missing_flags_are_false_and_odd_capabilities_are_dropped() {
        let fields = AccountFields::from_object(&json!({"capabilities": "none"}));
        assert!(!fields.charges_enabled && !fields.payouts_enabled && !fields.details_submitted);
        assert_eq!(fields.capabilities, None);
    }

    fn status_of(disconnected: bool, disabled_reason: Option<&str>, charges: bool) -> StoreStatus {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        row.details_submitted = true;
        row.disconnected = disconnected;
        row.disabled_reason = disabled_reason.map(str::to_owned);
        row.charges_enabled = charges;
        derive_status(&row)
    }

    #[test]
    fn status_is_derived_in_order_of_precedence() {
        assert_eq!(status_of(true, Some("x"), true), StoreStatus::Disconnected);
        assert_eq!(status_of(false, Some("x"), true), StoreStatus::Restricted);
        assert_eq!(status_of(false, None, true), StoreStatus::Active);
        assert_eq!(status_of(false, None, false), StoreStatus::Onboarding);
    }

    #[test]
    fn a_new_account_is_onboarding_even_with_stripes_disabled_reason() {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        row.disabled_reason = Some("requirements.past_due".into());
        assert_eq!(derive_status(&row), StoreStatus::Onboarding);
    }

    #[test]
    fn other_account_events_are_not_handled() {
        let bank = json!({"id": "ba_1", "object": "bank_account"});
        let event = EventRef {
            id: "evt_1",
            event_type: "account.external_account.created",
            store_key: "acct_1",
            livemode: false,
            created: 1,
            api_version: None,
            object: &bank,
        };
        assert!(change_of(&event).is_none());
    }

    /// The events of one store, with the row each order of them leaves.
    fn final_row(events: &[(&str, &str, i64, &Value)]) -> store::Model {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        for &(id, event_type, created, object) in events {
            let event = EventRef {
                id,
                event_type,
                store_key: "acct_1",
                livemode: false,
                created,
                api_version: None,
                object,
            };
            let change = change_of(&event).expect("handled");
            if let Some(next) = change(row.clone(), &event) {
                row = next;
            }
        }
        row
    }

    #[test]
    fn any_order_of_account_and_connection_events_gives_the_same_row() {
        let (created, updated) = (fixture("account.created"), fixture("account.updated"));
        let application = json!({"id": "ca_1", "object": "application", "name": "Market"});
        let events = [
            ("evt_a", "account.created", 1_721_948_452, &created),
            ("evt_b", "account.updated", 1_721_949_100, &updated),
            (
                "evt_c",
                "account.application.authorized",
                1_721_948_000,
                &application,
            ),
            (
                "evt_d",
                "account.application.deauthorized",
                1_721_960_000,
                &application,
            ),
            (
                "evt_e",
                "account.application.authorized",
                1_721_960_000,
                &application,
            ),
            ("evt_b", "account.updated", 1_721_949_100, &updated),
        ];
        let expected = final_row(&events);
        assert_eq!(expected.name.as_deref(), Some("Rosen Threads"));
        assert!(
            expected.disconnected,
            "deauthorized outranks a same-second authorization"
        );
        assert_eq!(expected.status, StoreStatus::Disconnected);
        for order in version::permutations(&events) {
            assert_eq!(final_row(&order), expected);
        }
    }

    #[test]
    fn an_onboarded_store_is_active() {
        let updated = fixture("account.updated");
        let row = final_row(&[("evt_b", "account.updated", 1_721_949_100, &updated)]);
        assert_eq!(row.status, StoreStatus::Active);
        assert_eq!(row.version, 1_721_949_100);
        assert_eq!(row.version_event.as_deref(), Some("1|evt_b"));
    }
}
