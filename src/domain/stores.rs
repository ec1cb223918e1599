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
//!
//! # Same-second account updates
//!
//! Onboarding sends bursts of `account.updated` within one second, and the account object
//! has no `updated` of its own, so the version (the event's `created`) ties. The tie is
//! broken by the snapshot's [`progress`] before the event id: a key computed from the event
//! alone, so the order stays total and independent of arrival order. It reads:
//! - how far onboarding got ([`standing`]): `charges_enabled`, then `details_submitted`,
//!   then `payouts_enabled`, then the number of active capabilities, then fewer
//!   `requirements.currently_due`. Each only moves forward while an account onboards, so
//!   in such a burst a later snapshot never stands lower;
//! - `data.previous_attributes` (the old values of what changed): laid over the snapshot,
//!   they give where the account stood just before. An update that did not raise the
//!   standing (it changed other fields, or lowered it) ranks after the update that
//!   reached the higher of its two standings, since it started from there.
//!
//! What stays undecidable from the events alone, and is decided by the event id: two
//! same-second updates that leave the standing where it was (say the name, then the
//! website), and an account whose standing goes down and up again within one second.

use chrono::{DateTime, Utc};
use entity::status::StoreStatus;
use entity::store;
use serde_json::Value;

use super::EventRef;
use super::version::{self, VersionKey};
use crate::stripe::object::{bool_field, i64_field, json_field, str_at, str_field};

/// What an account event does to a store row ([`AccountChange::apply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// The account fields, under the `version` guard; `progress` breaks same-second ties.
    Account { progress: u64 },
    /// The connection state, under the `connection_version` guard.
    Connection,
}

impl AccountChange {
    /// The next row, or `None` when the row is newer.
    pub fn apply(self, row: store::Model, event: &EventRef<'_>) -> Option<store::Model> {
        match self {
            Self::Account { progress } => update_account(row, event, progress),
            Self::Connection => update_connection(row, event),
        }
    }
}

/// The change an `account.*` event makes, if the service handles it; `previous` is its
/// `data.previous_attributes`. Events about other objects of the account (external
/// accounts, persons, ...) are not handled.
pub fn change_of(event: &EventRef<'_>, previous: Option<&Value>) -> Option<AccountChange> {
    match event.event_type {
        "account.application.authorized" | "account.application.deauthorized" => {
            Some(AccountChange::Connection)
        }
        _ if event.object.get("object").and_then(Value::as_str) == Some("account") => {
            Some(AccountChange::Account {
                progress: progress(event.object, previous),
            })
        }
        _ => None,
    }
}

/// The same-second tie-break of an account snapshot (see the module's documentation):
/// twice the higher of its standing and the standing before it, plus one when the update
/// did not raise the standing (it started from that higher standing). Without
/// `previous` (a creation), the snapshot's own standing.
pub fn progress(account: &Value, previous: Option<&Value>) -> u64 {
    let now = standing(account);
    let Some(previous) = previous.filter(|previous| previous.is_object()) else {
        return now * 2;
    };
    let before = standing(&overlaid(account, previous));
    now.max(before) * 2 + u64::from(before >= now)
}

/// How far an account got in onboarding, as one number ordered like the tuple
/// (`charges_enabled`, `details_submitted`, `payouts_enabled`, active capabilities, fewer
/// `requirements.currently_due`). `charges_enabled` comes first: some flows enable
/// charges before the details are submitted, and taking payments is what a store is for.
pub fn standing(account: &Value) -> u64 {
    const COUNT_BITS: u32 = 11;
    const MAX_COUNT: u64 = (1 << COUNT_BITS) - 1;
    let flag = |key| u64::from(bool_field(account, key).unwrap_or(false));
    let active = account
        .get("capabilities")
        .and_then(Value::as_object)
        .map_or(0, |capabilities| {
            capabilities
                .values()
                .filter(|state| state.as_str() == Some("active"))
                .count()
        });
    let due = account
        .pointer("/requirements/currently_due")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let clamp = |count: usize| u64::try_from(count).unwrap_or(MAX_COUNT).min(MAX_COUNT);
    let mut standing = 0;
    for flag in [
        flag("charges_enabled"),
        flag("details_submitted"),
        flag("payouts_enabled"),
    ] {
        standing = standing << 1 | flag;
    }
    standing = standing << COUNT_BITS | clamp(active);
    standing << COUNT_BITS | (MAX_COUNT - clamp(due))
}

/// `current` with `previous` laid over it: the object as it was before the update.
/// Stripe lists nested changes as partial objects, so objects merge key by key; anything
/// else is replaced.
fn overlaid(current: &Value, previous: &Value) -> Value {
    match (current, previous) {
        (Value::Object(current), Value::Object(previous)) => {
            let mut merged = current.clone();
            for (key, old) in previous {
                let value = match current.get(key) {
                    Some(now) => overlaid(now, old),
                    None => old.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Value::Object(merged)
        }
        (_, previous) => previous.clone(),
    }
}

/// Stripe's `disabled_reason` while it verifies submitted details: not a restriction yet.
const PENDING_VERIFICATION: &str = "requirements.pending_verification";

/// The store status the rest of a row implies, in order of precedence:
/// 1. `disconnected`: the seller disconnected the platform, whatever the account says;
/// 2. charges enabled: `active`, or `restricted` when Stripe still gives a
///    `disabled_reason` (something else, such as payouts, is disabled). Details need not
///    be submitted: some flows enable charges first;
/// 3. charges not enabled, details submitted and a `disabled_reason` (other than pending
///    verification): `restricted`;
/// 4. anything else is `onboarding`: details not submitted yet (Stripe sets a
///    `disabled_reason` on every new account, so it means nothing before that), or
///    submitted and under verification.
pub fn derive_status(row: &store::Model) -> StoreStatus {
    let reason = row.disabled_reason.as_deref();
    if row.disconnected {
        StoreStatus::Disconnected
    } else if row.charges_enabled {
        match reason {
            Some(_) => StoreStatus::Restricted,
            None => StoreStatus::Active,
        }
    } else if row.details_submitted && reason.is_some_and(|reason| reason != PENDING_VERIFICATION) {
        StoreStatus::Restricted
    } else {
        StoreStatus::Onboarding
    }
}

/// Whether the store can take payments now: Stripe enabled charges and the seller has not
/// disconnected the platform (Stripe's flag stays as it was after a deauthorization).
pub fn payments_enabled(row: &store::Model) -> bool {
    row.charges_enabled && !row.disconnected
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
        pages_stale: false,
        version: 0,
        version_event: None,
        support_email: None,
        disabled_reason: None,
        disconnected: false,
        connection_version: 0,
        connection_event: None,
        account_created: None,
        slug: None,
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
    /// The account's `created` at Stripe (Unix seconds).
    pub account_created: Option<i64>,
}

impl AccountFields {
    /// Reads an account object. Each field takes the first candidate that says something:
    /// `business_profile` (what the seller shows buyers; Standard and Express accounts
    /// often have no `company`), then the dashboard's display name, then the legal entity
    /// (`company`, or `individual` for sole sellers), then the top-level fields of API
    /// versions before 2019-02-19 (`business_name`, `support_phone`, ...).
    pub fn from_object(account: &Value) -> Self {
        let email = text(account, &["/email", "/individual/email"]);
        Self {
            name: name(account).or_else(|| email.clone()),
            email,
            support_email: text(
                account,
                &["/business_profile/support_email", "/support_email"],
            ),
            phone: text(
                account,
                &[
                    "/business_profile/support_phone",
                    "/company/phone",
                    "/individual/phone",
                    "/support_phone",
                ],
            ),
            country: str_field(account, "country"),
            address: [
                "/business_profile/support_address",
                "/company/address",
                "/individual/address",
                "/support_address",
            ]
            .into_iter()
            .find_map(|pointer| address(account, pointer)),
            currency: str_field(account, "default_currency"),
            description: text(
                account,
                &[
                    "/business_profile/product_description",
                    "/product_description",
                ],
            ),
            website: text(account, &["/business_profile/url", "/business_url"]),
            charges_enabled: bool_field(account, "charges_enabled").unwrap_or(false),
            payouts_enabled: bool_field(account, "payouts_enabled").unwrap_or(false),
            details_submitted: bool_field(account, "details_submitted").unwrap_or(false),
            capabilities: json_field(account, "capabilities").filter(Value::is_object),
            disabled_reason: str_at(account, "/requirements/disabled_reason"),
            account_created: i64_field(account, "created"),
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
        row.account_created = self.account_created;
    }
}

/// The store's display name: business profile, dashboard, company, individual, then the
/// pre-2019 `business_name`.
fn name(account: &Value) -> Option<String> {
    text(
        account,
        &[
            "/business_profile/name",
            "/settings/dashboard/display_name",
            "/company/name",
        ],
    )
    .or_else(|| person_name(account))
    .or_else(|| text(account, &["/business_name"]))
}

/// `individual.first_name last_name`, or whichever of the two is given.
fn person_name(account: &Value) -> Option<String> {
    let parts: Vec<String> = ["/individual/first_name", "/individual/last_name"]
        .into_iter()
        .filter_map(|pointer| non_empty(str_at(account, pointer)))
        .map(|part| part.trim().to_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The first of `pointers` holding a string that says something.
fn text(account: &Value, pointers: &[&str]) -> Option<String> {
    pointers
        .iter()
        .find_map(|pointer| non_empty(str_at(account, pointer)))
}

/// A shown value must say something: an empty one falls through to the next candidate.
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
fn update_account(
    mut row: store::Model,
    event: &EventRef<'_>,
    progress: u64,
) -> Option<store::Model> {
    let key = VersionKey::from_event(event).with_progress(progress);
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
        progress: 0,
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

    fn status_of(
        disconnected: bool,
        charges: bool,
        details: bool,
        disabled_reason: Option<&str>,
    ) -> StoreStatus {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        row.disconnected = disconnected;
        row.charges_enabled = charges;
        row.details_submitted = details;
        row.disabled_reason = disabled_reason.map(str::to_owned);
        derive_status(&row)
    }

    #[test]
    fn status_is_derived_in_order_of_precedence() {
        use StoreStatus::*;
        let pending = Some(PENDING_VERIFICATION);
        let past_due = Some("requirements.past_due");
        // (disconnected, charges_enabled, details_submitted, disabled_reason) -> status
        let table = [
            ((true, true, true, None), Disconnected),
            ((true, false, false, past_due), Disconnected),
            ((false, true, true, None), Active),
            ((false, true, false, None), Active),
            ((false, true, true, past_due), Restricted),
            ((false, true, false, past_due), Restricted),
            ((false, false, true, past_due), Restricted),
            ((false, false, true, Some("rejected.fraud")), Restricted),
            ((false, false, true, pending), Onboarding),
            ((false, false, true, None), Onboarding),
            ((false, false, false, past_due), Onboarding),
            ((false, false, false, None), Onboarding),
        ];
        for ((disconnected, charges, details, reason), expected) in table {
            assert_eq!(
                status_of(disconnected, charges, details, reason),
                expected,
                "disconnected {disconnected}, charges {charges}, details {details}, {reason:?}"
            );
        }
    }

    #[test]
    fn a_disconnected_store_cannot_take_payments() {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        row.charges_enabled = true;
        assert!(payments_enabled(&row));
        row.disconnected = true;
        assert!(!payments_enabled(&row));
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
        assert!(change_of(&event, None).is_none());
    }

    /// The events of one store, with the row each order of them leaves.
    fn final_row(events: &[(&str, &str, i64, &Value)]) -> store::Model {
        let with_previous: Vec<_> = events
            .iter()
            .map(|&(id, event_type, created, object)| (id, event_type, created, object, None))
            .collect();
        final_row_with(&with_previous)
    }

    /// An event: id, type, created, `data.object` and `data.previous_attributes`.
    type Delivery<'a> = (&'a str, &'a str, i64, &'a Value, Option<&'a Value>);

    fn final_row_with(events: &[Delivery<'_>]) -> store::Model {
        let mut row = stub("acct_1", false, DateTime::UNIX_EPOCH);
        for &(id, event_type, created, object, previous) in events {
            let event = EventRef {
                id,
                event_type,
                store_key: "acct_1",
                livemode: false,
                created,
                api_version: None,
                object,
            };
            let change = change_of(&event, previous).expect("handled");
            if let Some(next) = change.apply(row.clone(), &event) {
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
        let key = VersionKey::from_row(row.version, row.version_event.as_deref()).unwrap();
        assert_eq!((key.rank, key.event_id.as_str()), (1, "evt_b"));
        assert_eq!(key.progress, progress(&updated, None));
        assert!(
            key.progress > 0,
            "the snapshot's progress is kept for same-second ties"
        );
    }

    /// An account as Stripe sends it during onboarding, shaped like Stripe's `account`
    /// fixture (`business_profile`, `capabilities`, `requirements`, `settings`).
    fn onboarding(charges: bool, details: bool, payouts: bool, due: &[&str]) -> Value {
        let capability = if charges { "active" } else { "inactive" };
        json!({
            "id": "acct_1", "object": "account", "created": 1_721_948_451,
            "business_profile": {"name": "Rosen Threads", "url": null, "support_phone": null},
            "capabilities": {"card_payments": capability, "transfers": capability},
            "charges_enabled": charges, "details_submitted": details, "payouts_enabled": payouts,
            "requirements": {
                "currently_due": due,
                "disabled_reason": if charges { Value::Null } else { json!("requirements.past_due") },
            },
            "settings": {"dashboard": {"display_name": null}},
        })
    }

    #[test]
    fn a_same_second_onboarding_burst_ends_active_in_any_order_with_redeliveries() {
        let second = 1_721_949_100;
        // Stripe's order: details submitted, then charges (and capabilities), then payouts,
        // then the seller renames the store. The ids run the other way, so the event id
        // alone would pick the wrong snapshot.
        let submitted = onboarding(false, true, false, &["external_account"]);
        let submitted_before = json!({"details_submitted": false,
            "requirements": {"currently_due": ["external_account", "tos_acceptance.date"]}});
        let charging = onboarding(true, true, false, &["external_account"]);
        let charging_before = json!({"charges_enabled": false,
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
            "requirements": {"disabled_reason": "requirements.past_due"}});
        let paying = onboarding(true, true, true, &[]);
        let paying_before = json!({"payouts_enabled": false,
            "requirements": {"currently_due": ["external_account"]}});
        let mut renamed = paying.clone();
        renamed["business_profile"]["name"] = json!("Rosen Threads & Co");
        let renamed_before = json!({"business_profile": {"name": "Rosen Threads"}});
        let events: [Delivery<'_>; 6] = [
            (
                "evt_4",
                "account.updated",
                second,
                &submitted,
                Some(&submitted_before),
            ),
            (
                "evt_3",
                "account.updated",
                second,
                &charging,
                Some(&charging_before),
            ),
            (
                "evt_2",
                "account.updated",
                second,
                &paying,
                Some(&paying_before),
            ),
            (
                "evt_1",
                "account.updated",
                second,
                &renamed,
                Some(&renamed_before),
            ),
            (
                "evt_3",
                "account.updated",
                second,
                &charging,
                Some(&charging_before),
            ),
            (
                "evt_4",
                "account.updated",
                second,
                &submitted,
                Some(&submitted_before),
            ),
        ];
        let expected = final_row_with(&events);
        assert_eq!(expected.status, StoreStatus::Active);
        assert_eq!(expected.name.as_deref(), Some("Rosen Threads & Co"));
        assert!(expected.payouts_enabled);
        for order in version::permutations(&events) {
            assert_eq!(final_row_with(&order), expected);
        }
    }

    #[test]
    fn progress_ranks_an_update_after_the_one_that_reached_its_standing() {
        let submitted = onboarding(false, true, false, &[]);
        let charging = onboarding(true, true, false, &[]);
        let charging_before = json!({"charges_enabled": false});
        let reached = progress(&charging, Some(&charging_before));
        assert!(reached > progress(&submitted, None));
        // Same standing, other fields: after the update that reached it.
        let mut renamed = charging.clone();
        renamed["business_profile"]["name"] = json!("New name");
        let renamed_before = json!({"business_profile": {"name": "Rosen Threads"}});
        assert_eq!(progress(&renamed, Some(&renamed_before)), reached + 1);
        // Charges disabled again: it started from the enabled state, so it comes after.
        let stopped_before = json!({"charges_enabled": true,
            "capabilities": {"card_payments": "active", "transfers": "active"}});
        assert_eq!(progress(&submitted, Some(&stopped_before)), reached + 1);
    }

    #[test]
    fn standing_orders_charges_then_details_then_payouts_then_capabilities_then_due() {
        let charges_only = standing(&json!({"charges_enabled": true}));
        let everything_else = standing(&json!({"details_submitted": true, "payouts_enabled": true,
            "capabilities": {"card_payments": "active"}}));
        assert!(charges_only > everything_else);
        assert!(
            standing(&json!({"details_submitted": true}))
                > standing(&json!({"payouts_enabled": true}))
        );
        assert!(
            standing(&json!({"capabilities": {"a": "active", "b": "pending"}}))
                > standing(&json!({"capabilities": {"a": "inactive"}}))
        );
        assert!(
            standing(&json!({"requirements": {"currently_due": ["a"]}}))
                > standing(&json!({"requirements": {"currently_due": ["a", "b"]}}))
        );
    }

    #[test]
    fn the_account_created_time_is_stripes() {
        let fields = AccountFields::from_object(&fixture("account.updated"));
        assert_eq!(fields.account_created, Some(1_721_948_451));
        assert_eq!(AccountFields::from_object(&json!({})).account_created, None);
    }

    #[test]
    fn a_company_gives_its_name_phone_and_address_without_a_business_profile() {
        let account = json!({
            "object": "account", "email": "owner@example.com",
            "business_profile": {"name": null, "support_phone": null,
                "support_address": {"city": null, "line1": null}},
            "settings": {"dashboard": {"display_name": null}},
            "company": {"name": "Rosen Threads LLC", "phone": "+15555550100",
                "address": {"city": "Portland", "country": "US", "line1": "1 Main St",
                    "line2": null, "postal_code": "97201", "state": "OR"}},
        });
        let fields = AccountFields::from_object(&account);
        assert_eq!(fields.name.as_deref(), Some("Rosen Threads LLC"));
        assert_eq!(fields.phone.as_deref(), Some("+15555550100"));
        assert_eq!(
            fields.address.as_ref().and_then(|a| a.get("city")),
            Some(&json!("Portland"))
        );
        assert_eq!(fields.email.as_deref(), Some("owner@example.com"));
    }

    #[test]
    fn the_dashboard_name_comes_before_the_company_name() {
        let account = json!({"settings": {"dashboard": {"display_name": "Rosen"}},
            "company": {"name": "Rosen Threads LLC"}});
        assert_eq!(
            AccountFields::from_object(&account).name.as_deref(),
            Some("Rosen")
        );
    }

    #[test]
    fn an_individual_gives_the_name_phone_address_and_email() {
        let account = json!({
            "object": "account", "business_type": "individual", "email": null,
            "business_profile": {"name": "", "support_phone": null},
            "individual": {"object": "person", "first_name": "Jenny", "last_name": "Rosen",
                "phone": "+15555550111", "email": "jenny@example.com",
                "address": {"city": "Austin", "country": "US", "line1": null, "line2": null,
                    "postal_code": null, "state": "TX"}},
        });
        let fields = AccountFields::from_object(&account);
        assert_eq!(fields.name.as_deref(), Some("Jenny Rosen"));
        assert_eq!(fields.phone.as_deref(), Some("+15555550111"));
        assert_eq!(fields.email.as_deref(), Some("jenny@example.com"));
        assert_eq!(
            fields.address.as_ref().and_then(|a| a.get("state")),
            Some(&json!("TX"))
        );
        let first_only = json!({"individual": {"first_name": "Jenny", "last_name": null}});
        assert_eq!(
            AccountFields::from_object(&first_only).name.as_deref(),
            Some("Jenny")
        );
    }

    #[test]
    fn a_company_comes_before_an_individual() {
        let account = json!({
            "company": {"name": "Rosen Threads LLC", "phone": null},
            "individual": {"first_name": "Jenny", "last_name": "Rosen", "phone": "+15555550111"},
        });
        let fields = AccountFields::from_object(&account);
        assert_eq!(fields.name.as_deref(), Some("Rosen Threads LLC"));
        assert_eq!(fields.phone.as_deref(), Some("+15555550111"));
    }

    #[test]
    fn pre_2019_accounts_give_their_top_level_business_fields() {
        // API versions before 2019-02-19 had these at the top level of the account.
        let account = json!({
            "id": "acct_1", "object": "account", "email": "site@example.com",
            "business_name": "Old Threads", "business_url": "https://old.example.com",
            "support_phone": "+15555550122", "support_email": "help@old.example.com",
            "support_address": {"city": "Boston", "line1": null},
            "product_description": "T-shirts",
        });
        let fields = AccountFields::from_object(&account);
        assert_eq!(fields.name.as_deref(), Some("Old Threads"));
        assert_eq!(fields.website.as_deref(), Some("https://old.example.com"));
        assert_eq!(fields.phone.as_deref(), Some("+15555550122"));
        assert_eq!(
            fields.support_email.as_deref(),
            Some("help@old.example.com")
        );
        assert_eq!(fields.description.as_deref(), Some("T-shirts"));
        assert_eq!(
            fields.address.as_ref().and_then(|a| a.get("city")),
            Some(&json!("Boston"))
        );
    }

    #[test]
    fn the_business_profile_comes_before_the_legal_entity_and_old_fields() {
        let account = json!({
            "business_profile": {"name": "Shop", "support_phone": "+1", "url": "https://new"},
            "company": {"name": "Legal LLC", "phone": "+2"},
            "business_name": "Old", "support_phone": "+3", "business_url": "https://old",
        });
        let fields = AccountFields::from_object(&account);
        assert_eq!(fields.name.as_deref(), Some("Shop"));
        assert_eq!(fields.phone.as_deref(), Some("+1"));
        assert_eq!(fields.website.as_deref(), Some("https://new"));
    }
}
