//! The reads of the admin API: filtered, paginated lists and lookups by id.
//!
//! The HTTP handlers parse requests and shape JSON; this module owns the SQL. Lists are
//! newest first and paginated by cursor (an object id), as Stripe's are:
//! - the marketplace tables page by their autoincrement `pk` ([`page_by_pk`]): it never
//!   changes and new rows get larger ones, so a walk with `starting_after` sees every row
//!   that existed when it began exactly once, whatever is inserted meanwhile;
//! - the inbox pages by (`created_at`, `id`) (see [`events`]);
//! - a list filtered by a `created` range pages by (`created`, then the above)
//!   ([`page_by_created`]).
//!
//! All of them through [`page_in_order`].
//!
//! One module per object: [`stores`], [`orders`], [`customers`], [`products`], [`events`].

pub mod contact_messages;
pub mod customers;
pub mod events;
pub mod orders;
pub mod overview;
pub mod products;
pub mod stores;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::{customer, order, product, store};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// Where a page starts: Stripe's `starting_after` / `ending_before`, or the `page` token
/// of a previous answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The rows just older than this one.
    After(Anchor),
    /// The rows just newer than this one.
    Before(Anchor),
}

/// The row a cursor starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// An object id. Ids of the objects of a store repeat across stores, so in a list of
    /// several stores an id may name several rows: such a cursor is refused (`409`).
    Id(String),
    /// A `page` token: the row's position in the list's order, which names one row.
    Token(PageToken),
}

impl Cursor {
    /// The query parameter the cursor came from, for error messages.
    pub fn param(&self) -> &'static str {
        match self {
            Self::After(Anchor::Token(_)) | Self::Before(Anchor::Token(_)) => "page",
            Self::After(_) => "starting_after",
            Self::Before(_) => "ending_before",
        }
    }

    fn anchor(&self) -> &Anchor {
        match self {
            Self::After(anchor) | Self::Before(anchor) => anchor,
        }
    }
}

/// A position in a list: the value of the last, unique, column of the list's order (a
/// row's `pk`, or an event's id), and the direction to go from it. Shown to clients as
/// `next_page`, opaque (URL-safe base64 of a small JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    before: bool,
    key: serde_json::Value,
}

impl PageToken {
    /// The token text.
    pub fn encode(&self) -> String {
        let json = serde_json::json!([if self.before { "b" } else { "a" }, self.key]);
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    /// The cursor a token text stands for, or `None` for text this API did not make.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (direction, key): (String, serde_json::Value) = serde_json::from_slice(&bytes).ok()?;
        if !(key.is_i64() || key.is_string()) {
            return None;
        }
        let token = |before| Anchor::Token(Self { before, key });
        match direction.as_str() {
            "a" => Some(Cursor::After(token(false))),
            "b" => Some(Cursor::Before(token(true))),
            _ => None,
        }
    }

    fn of(value: sea_orm::Value, before: bool) -> Option<Self> {
        let key = match value {
            sea_orm::Value::BigInt(Some(n)) => serde_json::Value::from(n),
            sea_orm::Value::Int(Some(n)) => serde_json::Value::from(n),
            sea_orm::Value::String(Some(s)) => serde_json::Value::from(s),
            _ => return None,
        };
        Some(Self { before, key })
    }

    fn value(&self) -> sea_orm::Value {
        match &self.key {
            serde_json::Value::String(s) => s.clone().into(),
            key => key.as_i64().unwrap_or_default().into(),
        }
    }
}

/// One page of a list: how many rows and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub cursor: Option<Cursor>,
}

/// A page of rows, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// More rows exist beyond this page, in the direction of the walk.
    pub has_more: bool,
    /// Where the next page of the walk starts, when there is one.
    pub next: Option<PageToken>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in walk order; `reverse` for an
    /// `ending_before` walk, fetched oldest first and shown newest first. `position` gives
    /// a row's place in the list's order, for the token of the next page.
    pub fn from_fetched(
        mut rows: Vec<T>,
        limit: u64,
        reverse: bool,
        position: impl Fn(&T) -> sea_orm::Value,
    ) -> Self {
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        // The last row of the page in the direction of the walk.
        let next = rows
            .last()
            .filter(|_| has_more)
            .and_then(|last| PageToken::of(position(last), reverse));
        if reverse {
            rows.reverse();
        }
        Self {
            data: rows,
            has_more,
            next,
        }
    }

    /// The same page with each row turned into `U`.
    pub fn map<U>(self, row: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(row).collect(),
            has_more: self.has_more,
            next: self.next,
        }
    }
}

/// Why a read could not answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The cursor names no object of the list (with its filters).
    #[error("no object `{id}` in this list")]
    UnknownCursor { param: &'static str, id: String },
    #[error("no such {kind}: `{id}`")]
    NotFound { kind: &'static str, id: String },
    /// The id exists in several stores and no `store` was given.
    #[error("`{id}` exists in several stores")]
    Ambiguous { id: String, stores: Vec<String> },
    /// The cursor's id names several rows of the list (one per store).
    #[error("`{id}` names several objects of this list")]
    AmbiguousCursor { param: &'static str, id: String },
}

/// The store and the mode a list or a lookup is narrowed to (neither when `None`).
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub store: Option<String>,
    pub livemode: Option<bool>,
}

impl Scope {
    /// The lookup of `id` within this scope.
    pub fn lookup<'a>(&'a self, id: &'a str) -> Lookup<'a> {
        Lookup {
            id,
            store: self.store.as_deref(),
            livemode: self.livemode,
        }
    }
}

/// Which row a by-id route means: the id, optionally narrowed to a store and a mode.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    pub id: &'a str,
    pub store: Option<&'a str>,
    pub livemode: Option<bool>,
}

/// A marketplace table: an autoincrement `pk`, a Stripe `id`, and its store and mode.
pub trait Keyed: EntityTrait {
    /// The object name in errors (`order`, `customer`, ...).
    const KIND: &'static str;
    fn pk() -> Self::Column;
    fn id() -> Self::Column;
    fn store_key() -> Self::Column;
    fn livemode() -> Self::Column;
    /// The store key and livemode of a row.
    fn scope(row: &Self::Model) -> (&str, bool);
}

macro_rules! keyed {
    ($module:ident, $kind:literal, $store:ident) => {
        impl Keyed for $module::Entity {
            const KIND: &'static str = $kind;
            fn pk() -> Self::Column {
                $module::Column::Pk
            }
            fn id() -> Self::Column {
                $module::Column::Id
            }
            fn store_key() -> Self::Column {
                $module::Column::$store
            }
            fn livemode() -> Self::Column {
                $module::Column::Livemode
            }
            fn scope(row: &Self::Model) -> (&str, bool) {
                (keyed!(@store row, $store), row.livemode)
            }
        }
    };
    (@store $row:ident, Id) => { $row.id.as_str() };
    (@store $row:ident, StoreKey) => { $row.store_key.as_str() };
}

keyed!(store, "store", Id);
keyed!(customer, "customer", StoreKey);
keyed!(product, "product", StoreKey);
keyed!(order, "order", StoreKey);

/// Narrows `select` to a store and a mode when given.
pub fn scoped<E: Keyed>(
    mut select: Select<E>,
    store: Option<&str>,
    livemode: Option<bool>,
) -> Select<E> {
    if let Some(store) = store {
        select = select.filter(E::store_key().eq(store));
    }
    if let Some(livemode) = livemode {
        select = select.filter(E::livemode().eq(livemode));
    }
    select
}

/// One page of `base` (already filtered), newest first by `pk`. The cursor is looked up
/// within `base`, so it must be an object of this very list.
pub async fn page_by_pk<E: Keyed>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    request: &PageRequest,
) -> Result<Page<E::Model>, QueryError> {
    page_in_order(db, base, request, &[E::pk()], E::id()).await
}

/// One page of `base`, newest first by Stripe's `created` then `pk`: the order of a list
/// filtered by a `created` range, so that the range and the order are one index range
/// (by `pk` alone, a range of old rows would be found by reading every newer row first).
/// Rows without `created` never match such a filter.
pub async fn page_by_created<E: Keyed>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    request: &PageRequest,
    created: E::Column,
) -> Result<Page<E::Model>, QueryError> {
    page_in_order(db, base, request, &[created, E::pk()], E::id()).await
}

/// One page of `base`, newest first by the columns of `order` (the last one unique), the
/// cursor being the row whose `id` it names. The cursor is one row comparison, which an
/// index on those columns serves as a range.
pub async fn page_in_order<E: EntityTrait>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    request: &PageRequest,
    order: &[E::Column],
    id: E::Column,
) -> Result<Page<E::Model>, QueryError> {
    let fetch = request.limit + 1;
    let sorted = |select: Select<E>, direction: Order| {
        order.iter().fold(select, |select, column| {
            select.order_by(*column, direction.clone())
        })
    };
    let last = *order.last().expect("an order has a unique last column");
    let position = |row: &E::Model| row.get(last);
    let Some(cursor) = &request.cursor else {
        let rows = sorted(base, Order::Desc).limit(fetch).all(db).await?;
        return Ok(Page::from_fetched(rows, request.limit, false, position));
    };
    let named = match cursor.anchor() {
        Anchor::Id(given) => base.clone().filter(id.eq(given.as_str())),
        Anchor::Token(token) => base.clone().filter(last.eq(token.value())),
    };
    let mut anchors = sorted(named, Order::Desc).limit(2).all(db).await?;
    let given = match cursor.anchor() {
        Anchor::Id(given) => given.clone(),
        Anchor::Token(token) => token.encode(),
    };
    let anchor = match (anchors.pop(), anchors.pop()) {
        (Some(anchor), None) => anchor,
        (None, _) => {
            let param = cursor.param();
            return Err(QueryError::UnknownCursor { param, id: given });
        }
        (Some(_), Some(_)) => {
            let param = cursor.param();
            return Err(QueryError::AmbiguousCursor { param, id: given });
        }
    };
    let key = Expr::tuple(order.iter().map(|column| Expr::col(*column)));
    let at = Expr::tuple(order.iter().map(|column| Expr::val(anchor.get(*column))));
    let page = match cursor {
        Cursor::After(_) => {
            let rows = sorted(base.filter(key.lt(at)), Order::Desc);
            let rows = rows.limit(fetch).all(db).await?;
            Page::from_fetched(rows, request.limit, false, position)
        }
        Cursor::Before(_) => {
            let rows = sorted(base.filter(key.gt(at)), Order::Asc);
            let rows = rows.limit(fetch).all(db).await?;
            Page::from_fetched(rows, request.limit, true, position)
        }
    };
    Ok(page)
}

/// The row `lookup` names. Without `store`, an id found in several stores is ambiguous;
/// without `livemode`, the live row wins over the test one.
pub async fn find_one<E: Keyed>(
    db: &impl ConnectionTrait,
    lookup: Lookup<'_>,
) -> Result<E::Model, QueryError> {
    let select = E::find().filter(E::id().eq(lookup.id));
    let rows = scoped(select, lookup.store, lookup.livemode)
        .all(db)
        .await?;
    let stores: BTreeSet<&str> = rows.iter().map(|row| E::scope(row).0).collect();
    if stores.len() > 1 {
        return Err(QueryError::Ambiguous {
            id: lookup.id.to_owned(),
            stores: stores.into_iter().map(str::to_owned).collect(),
        });
    }
    rows.into_iter()
        .max_by_key(|row| E::scope(row).1)
        .ok_or_else(|| QueryError::NotFound {
            kind: E::KIND,
            id: lookup.id.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_keep_limit_rows_and_know_if_more_follow() {
        let position = |n: &i64| sea_orm::Value::from(*n);
        let page = Page::from_fetched(vec![5, 4, 3], 2, false, position);
        assert_eq!((page.data, page.has_more), (vec![5, 4], true));
        assert_eq!(page.next.map(|token| token.value()), Some(4i64.into()));
        let page = Page::from_fetched(vec![5, 4], 2, false, position);
        assert_eq!(
            (page.data, page.has_more, page.next),
            (vec![5, 4], false, None)
        );
        // `ending_before` fetches upwards from the cursor and shows newest first; the next
        // page of that walk is above the newest row shown.
        let page = Page::from_fetched(vec![6, 7, 8], 2, true, position);
        assert_eq!((page.data, page.has_more), (vec![7, 6], true));
        let next = page.next.unwrap();
        assert_eq!(
            PageToken::decode(&next.encode()),
            Some(Cursor::Before(Anchor::Token(next)))
        );
    }

    #[test]
    fn text_that_is_not_a_token_is_refused() {
        for text in [
            "",
            "pi_1",
            "WyJhIiwxXQ",
            "WyJ4IiwxXQ",
            "WyJhIixudWxsXQ",
            "%%%",
        ] {
            let decoded = PageToken::decode(text);
            assert_eq!(decoded.is_some(), text == "WyJhIiwxXQ", "{text}");
        }
    }
}
