//! The version guard of versioned objects (store, customer, product, price) and the
//! tombstone rule of deletions.
//!
//! Stripe delivers in any order and its `created` has one-second resolution, so "newer" is
//! decided by a total order on a [`VersionKey`] computed from the event alone: the object's
//! version, then the event type's rank (created < updated < deleted), then, for objects
//! that define one, the snapshot's progress (a store's onboarding, see
//! `stores::progress`), then the event id. The final row is then the one written by the
//! greatest key, whatever the arrival order.
//!
//! Deletions do not take part in that order: they only set `deleted_at`, keeping the
//! earliest, which commutes with every update (see [`earliest`]).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DomainError, EventRef};

/// Where an event stands among the events about one object. Ordered by `version`, then
/// `rank`, then `progress`, then `event_id`, so two different events never compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionKey {
    /// The object's `updated` when it has one, else the event's `created` (Unix seconds).
    pub version: i64,
    /// Tie-break of equal versions: `created` = 0, `updated` = 1, `deleted` = 2.
    pub rank: u8,
    /// Tie-break of equal ranks read from the snapshot itself, for objects whose state only
    /// moves one way within a second (a store's onboarding); 0 for the others.
    pub progress: u64,
    /// Last tie-break, so that equal versions, ranks and progress still order
    /// deterministically (though not necessarily as Stripe made the changes).
    pub event_id: String,
}

impl VersionKey {
    /// The key of `event` for the object it carries.
    pub fn from_event(event: &EventRef<'_>) -> Self {
        Self {
            version: event
                .object
                .get("updated")
                .and_then(Value::as_i64)
                .unwrap_or(event.created),
            rank: type_rank(event.event_type),
            progress: 0,
            event_id: event.id.to_owned(),
        }
    }

    /// The key with its `progress` tie-break set.
    pub fn with_progress(self, progress: u64) -> Self {
        Self { progress, ..self }
    }

    /// The key stored in a row, or `None` when the row holds none yet (a stub or a
    /// tombstone), which any event may overwrite. `version_event` is `rank|event_id`, or
    /// `rank|progress|event_id` when the progress is not 0 (rows written before progress
    /// existed read as progress 0).
    pub fn from_row(version: i64, version_event: Option<&str>) -> Option<Self> {
        let (rank, rest) = version_event?.split_once('|')?;
        let (progress, event_id) = match rest.split_once('|') {
            Some((progress, event_id)) if progress.bytes().all(|b| b.is_ascii_digit()) => {
                (progress.parse().ok()?, event_id)
            }
            _ => (0, rest),
        };
        Some(Self {
            version,
            rank: rank.parse().ok()?,
            progress,
            event_id: event_id.to_owned(),
        })
    }

    /// The `(version, version_event)` column values.
    pub fn to_columns(&self) -> (i64, String) {
        let event = match self.progress {
            0 => format!("{}|{}", self.rank, self.event_id),
            progress => format!("{}|{progress}|{}", self.rank, self.event_id),
        };
        (self.version, event)
    }
}

/// The rank of an event type, from its last segment. Anything that is neither a creation
/// nor a deletion (`succeeded`, `authorized`, ...) reports a change, like `updated`.
pub fn type_rank(event_type: &str) -> u8 {
    match event_type.rsplit('.').next() {
        Some("created") => 0,
        Some("deleted") => 2,
        _ => 1,
    }
}

/// Whether an event with key `new` may be applied over a row holding `stored`. Equal keys
/// are the same event delivered again: applying it again changes nothing, so it is allowed.
pub fn is_newer_or_same(new: &VersionKey, stored: Option<&VersionKey>) -> bool {
    stored.is_none_or(|stored| new.cmp(stored) != Ordering::Less)
}

/// A row under the version guard whose deletions leave a tombstone (customers, products,
/// prices).
pub trait Guarded {
    /// Marks the row deleted at `at` (the earliest deletion wins).
    fn tombstone(&mut self, at: DateTime<Utc>);
    /// The version key the row holds, if any.
    fn version_key(&self) -> Option<VersionKey>;
    /// Records `key` as the row's version.
    fn set_version(&mut self, key: &VersionKey);
}

/// The row after `event`, or `None` when the row holds a newer version. A deletion only
/// tombstones (the fields and the version stay as updates left them, so deletions and
/// updates commute); any other event writes its fields with `write` when it is not older.
pub fn next_row<M: Guarded>(
    mut row: M,
    event: &EventRef<'_>,
    write: impl FnOnce(&mut M),
) -> Result<Option<M>, DomainError> {
    if is_deletion(event) {
        row.tombstone(deletion_time(event)?);
        return Ok(Some(row));
    }
    let key = VersionKey::from_event(event);
    if !is_newer_or_same(&key, row.version_key().as_ref()) {
        return Ok(None);
    }
    write(&mut row);
    row.set_version(&key);
    Ok(Some(row))
}

/// Implements [`Guarded`] for an entity model with `deleted_at`, `version` and
/// `version_event` columns; `on_delete` adds what else a deletion changes.
macro_rules! impl_guarded {
    ($model:ty $(, on_delete: |$row:ident| $extra:expr)?) => {
        impl $crate::domain::version::Guarded for $model {
            fn tombstone(&mut self, at: chrono::DateTime<chrono::Utc>) {
                self.deleted_at = Some($crate::domain::version::earliest(self.deleted_at, at));
                $( let $row = &mut *self; $extra; )?
            }
            fn version_key(&self) -> Option<$crate::domain::version::VersionKey> {
                $crate::domain::version::VersionKey::from_row(self.version, self.version_event.as_deref())
            }
            fn set_version(&mut self, key: &$crate::domain::version::VersionKey) {
                let (version, version_event) = key.to_columns();
                self.version = version;
                self.version_event = Some(version_event);
            }
        }
    };
}
pub(crate) use impl_guarded;

/// Whether `event` deletes its object: a `*.deleted` type, or an object marked
/// `"deleted": true` (Stripe's short form of a deleted customer).
pub fn is_deletion(event: &EventRef<'_>) -> bool {
    type_rank(event.event_type) == 2
        || event.object.get("deleted").and_then(Value::as_bool) == Some(true)
}

/// The tombstone time of a deletion: the event's `created`.
pub fn deletion_time(event: &EventRef<'_>) -> Result<DateTime<Utc>, DomainError> {
    DateTime::from_timestamp(event.created, 0).ok_or_else(|| DomainError::InvalidObject {
        object: "event",
        reason: format!("created {} is not a valid timestamp", event.created),
    })
}

/// The tombstone to keep when a row already has `existing`: the earliest, so that several
/// deletions give the same row in any order.
pub fn earliest(existing: Option<DateTime<Utc>>, new: DateTime<Utc>) -> DateTime<Utc> {
    existing.map_or(new, |existing| existing.min(new))
}

/// Every ordering of `items` (Heap's algorithm), for the order-independence tests.
#[cfg(test)]
pub(crate) fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    fn heap<T: Clone>(k: usize, items: &mut [T], out: &mut Vec<Vec<T>>) {
        if k <= 1 {
            out.push(items.to_vec());
            return;
        }
        for i in 0..k - 1 {
            heap(k - 1, items, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            items.swap(j, k - 1);
        }
        heap(k - 1, items, out);
    }
    let mut items = items.to_vec();
    let mut out = Vec::new();
    heap(items.len(), &mut items, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event<'a>(
        id: &'a str,
        event_type: &'a str,
        created: i64,
        object: &'a Value,
    ) -> EventRef<'a> {
        EventRef {
            id,
            event_type,
            store_key: "acct_1",
            livemode: false,
            created,
            api_version: None,
            object,
        }
    }

    fn key(version: i64, rank: u8, event_id: &str) -> VersionKey {
        VersionKey {
            version,
            rank,
            progress: 0,
            event_id: event_id.to_owned(),
        }
    }

    #[test]
    fn permutations_are_all_distinct_orderings() {
        let mut all = permutations(&[1, 2, 3, 4]);
        assert_eq!(all.len(), 24);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 24);
    }

    #[test]
    fn version_is_the_objects_updated_when_it_is_an_integer() {
        let object = json!({"id": "prod_1", "updated": 500});
        let key = VersionKey::from_event(&event("evt_1", "product.updated", 900, &object));
        assert_eq!(key, self::key(500, 1, "evt_1"));
    }

    #[test]
    fn version_falls_back_to_the_event_created() {
        for object in [json!({"id": "cus_1"}), json!({"updated": "soon"})] {
            let key = VersionKey::from_event(&event("evt_1", "customer.created", 900, &object));
            assert_eq!(key, self::key(900, 0, "evt_1"));
        }
    }

    #[test]
    fn rank_comes_from_the_last_segment_of_the_type() {
        assert_eq!(type_rank("product.created"), 0);
        assert_eq!(type_rank("product.updated"), 1);
        assert_eq!(type_rank("customer.deleted"), 2);
        assert_eq!(type_rank("charge.succeeded"), 1);
        assert_eq!(type_rank("account.application.authorized"), 1);
        assert_eq!(type_rank(""), 1);
    }

    #[test]
    fn keys_order_by_version_then_rank_then_event_id() {
        assert!(key(2, 0, "evt_a") > key(1, 2, "evt_z"));
        assert!(key(1, 1, "evt_a") > key(1, 0, "evt_z"));
        assert!(key(1, 1, "evt_b") > key(1, 1, "evt_a"));
    }

    #[test]
    fn columns_round_trip() {
        let original = key(1_721_948_800, 1, "evt_1Pgb4MB7WZ01zgkWILVFyf09");
        let (version, version_event) = original.to_columns();
        assert_eq!(version_event, "1|evt_1Pgb4MB7WZ01zgkWILVFyf09");
        assert_eq!(
            VersionKey::from_row(version, Some(&version_event)),
            Some(original)
        );
    }

    #[test]
    fn progress_orders_after_rank_and_before_the_event_id() {
        assert!(key(1, 1, "evt_a").with_progress(2) > key(1, 1, "evt_z").with_progress(1));
        assert!(key(1, 2, "evt_a") > key(1, 1, "evt_z").with_progress(9));
        assert!(key(2, 0, "evt_a") > key(1, 1, "evt_z").with_progress(9));
    }

    #[test]
    fn columns_with_progress_round_trip_and_old_columns_read_as_progress_0() {
        let original = key(10, 1, "evt_1").with_progress(4_097);
        let (version, version_event) = original.to_columns();
        assert_eq!(version_event, "1|4097|evt_1");
        assert_eq!(
            VersionKey::from_row(version, Some(&version_event)),
            Some(original)
        );
        assert_eq!(
            VersionKey::from_row(10, Some("1|evt_1")),
            Some(key(10, 1, "evt_1"))
        );
        // An id with a `|` (not Stripe's, but possible in a test) is still read whole.
        assert_eq!(
            VersionKey::from_row(10, Some("1|evt|x")),
            Some(key(10, 1, "evt|x"))
        );
    }

    #[test]
    fn a_row_without_a_key_holds_none() {
        assert_eq!(VersionKey::from_row(0, None), None);
        assert_eq!(VersionKey::from_row(0, Some("garbage")), None);
        assert_eq!(VersionKey::from_row(0, Some("x|evt_1")), None);
    }

    #[test]
    fn the_guard_accepts_newer_and_equal_keys_only() {
        let stored = key(10, 1, "evt_b");
        assert!(is_newer_or_same(&key(11, 0, "evt_a"), Some(&stored)));
        assert!(is_newer_or_same(&stored.clone(), Some(&stored)));
        assert!(!is_newer_or_same(&key(10, 1, "evt_a"), Some(&stored)));
        assert!(!is_newer_or_same(&key(9, 2, "evt_z"), Some(&stored)));
        assert!(is_newer_or_same(&key(0, 0, "evt_a"), None));
    }

    #[test]
    fn deletions_are_recognised_by_type_or_by_the_deleted_flag() {
        let short = json!({"id": "cus_1", "object": "customer", "deleted": true});
        let full = json!({"id": "cus_1", "object": "customer"});
        assert!(is_deletion(&event("evt_1", "customer.deleted", 1, &full)));
        assert!(is_deletion(&event("evt_1", "customer.updated", 1, &short)));
        assert!(!is_deletion(&event("evt_1", "customer.updated", 1, &full)));
    }

    #[test]
    fn the_earliest_tombstone_wins() {
        let (early, late) = (
            DateTime::from_timestamp(100, 0).expect("valid"),
            DateTime::from_timestamp(200, 0).expect("valid"),
        );
        assert_eq!(earliest(None, late), late);
        assert_eq!(earliest(Some(early), late), early);
        assert_eq!(earliest(Some(late), early), early);
    }

    #[test]
    fn objects_must_have_an_id() {
        assert!(crate::domain::object_id(&json!({"id": ""}), "product").is_err());
        assert!(crate::domain::object_id(&json!({"name": "x"}), "product").is_err());
    }
}
