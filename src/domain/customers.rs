//! `customer.*` events: the `marketplace_customers` rows.
//!
//! Creations and updates are version-guarded; a deletion only leaves a tombstone (see
//! [`super::version`]), so a late `customer.updated` fills in fields but never brings the
//! customer back. `customer.*` events about other objects (subscriptions, sources, tax ids,
//! discounts) carry those objects and are ignored.

use chrono::{DateTime, Utc};
use entity::customer;
use serde_json::Value;

use super::version;
use super::{DomainError, EventRef};
use crate::stripe::object::{i64_field, json_field, str_field};

version::impl_guarded!(customer::Model);

/// The row after `event`, or `None` when the row holds a newer version.
pub fn next_row(
    row: customer::Model,
    event: &EventRef<'_>,
) -> Result<Option<customer::Model>, DomainError> {
    version::next_row(row, event, |row| write_fields(row, event.object))
}

/// Copies the customer fields of a Stripe customer object; JSON `null` becomes SQL `NULL`.
fn write_fields(row: &mut customer::Model, object: &Value) {
    row.email = str_field(object, "email");
    row.name = str_field(object, "name");
    row.phone = str_field(object, "phone");
    row.address = json_field(object, "address");
    row.shipping = json_field(object, "shipping");
    row.metadata = json_field(object, "metadata");
    row.created = i64_field(object, "created");
}

/// A customer row holding only its key: the start of every new row.
pub fn blank(event: &EventRef<'_>, id: String, now: DateTime<Utc>) -> customer::Model {
    customer::Model {
        pk: 0,
        store_key: event.store_key.to_owned(),
        livemode: event.livemode,
        id,
        email: None,
        name: None,
        phone: None,
        address: None,
        shipping: None,
        metadata: None,
        created: None,
        deleted_at: None,
        version: 0,
        version_event: None,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture(text: &str) -> (String, String, i64, Value) {
        let event: Value = serde_json::from_str(text).expect("fixture is JSON");
        (
            event["id"].as_str().expect("id").to_owned(),
            event["type"].as_str().expect("type").to_owned(),
            event["created"].as_i64().expect("created"),
            event["data"]["object"].clone(),
        )
    }

    fn fixtures() -> Vec<(String, String, i64, Value)> {
        vec![
            fixture(include_str!(
                "../../tests/data/stripe/customer.created.json"
            )),
            fixture(include_str!(
                "../../tests/data/stripe/customer.updated.json"
            )),
            fixture(include_str!(
                "../../tests/data/stripe/customer.deleted.json"
            )),
        ]
    }

    fn final_row(events: &[(String, String, i64, Value)]) -> Option<customer::Model> {
        let mut row: Option<customer::Model> = None;
        for (id, event_type, created, object) in events {
            let event = EventRef {
                id,
                event_type,
                store_key: "acct_1",
                livemode: false,
                created: *created,
                api_version: None,
                object,
            };
            let current = row.clone().unwrap_or_else(|| {
                let id = crate::domain::object_id(object, "customer").expect("id");
                blank(&event, id, DateTime::UNIX_EPOCH)
            });
            if let Some(next) = next_row(current, &event).expect("valid") {
                row = Some(next);
            }
        }
        row
    }

    #[test]
    fn an_update_sets_every_field() {
        let row = final_row(&fixtures()[..2]).expect("row");
        assert_eq!(row.email.as_deref(), Some("jenny@example.com"));
        assert_eq!(row.name.as_deref(), Some("Jenny Rosen"));
        assert_eq!(row.phone.as_deref(), Some("+15555555555"));
        assert_eq!(row.metadata, Some(json!({"foo": "bar"})));
        assert_eq!(row.created, Some(1_721_948_540));
        assert_eq!(row.deleted_at, None);
        assert_eq!(row.version_event.as_deref().map(|v| &v[..2]), Some("1|"));
    }

    #[test]
    fn any_order_of_the_events_with_duplicates_gives_the_same_row() {
        let mut events = fixtures();
        events.push(events[1].clone());
        let expected = final_row(&events).expect("row");
        assert_eq!(expected.metadata, Some(json!({"foo": "bar"})));
        assert_eq!(
            expected.deleted_at,
            DateTime::from_timestamp(1_721_955_200, 0)
        );
        for order in version::permutations(&events) {
            assert_eq!(final_row(&order).as_ref(), Some(&expected));
        }
    }

    #[test]
    fn the_short_deleted_form_leaves_only_a_tombstone() {
        let short = (
            "evt_del".to_owned(),
            "customer.deleted".to_owned(),
            1_721_955_200,
            json!({"id": "cus_QXg1o8vcGmoR32", "object": "customer", "deleted": true}),
        );
        let tombstone = final_row(std::slice::from_ref(&short)).expect("row");
        assert_eq!(tombstone.email, None);
        assert_eq!(tombstone.version_event, None);
        assert!(tombstone.deleted_at.is_some());

        // A creation arriving later fills the fields in but keeps the tombstone.
        let created = fixtures().swap_remove(0);
        let row = final_row(&[short, created]).expect("row");
        assert_eq!(row.email.as_deref(), Some("jenny@example.com"));
        assert_eq!(row.deleted_at, tombstone.deleted_at);
    }

    #[test]
    fn json_null_fields_are_stored_as_null() {
        let mut row = blank(
            &EventRef {
                id: "evt_1",
                event_type: "customer.created",
                store_key: "acct_1",
                livemode: false,
                created: 1,
                api_version: None,
                object: &Value::Null,
            },
            "cus_1".to_owned(),
            DateTime::UNIX_EPOCH,
        );
        write_fields(
            &mut row,
            &json!({"id": "cus_1", "address": null, "shipping": null}),
        );
        assert_eq!((row.address, row.shipping), (None, None));
    }
}
