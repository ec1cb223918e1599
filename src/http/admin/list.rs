//! What every list and by-id route shares: Stripe's list shape, and the pagination and
//! lookup parameters.

use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::{Reply, Response};

use super::params::{Kind, Param, query_params};
use crate::error::{ApiError, ErrorCode};
use crate::store::admin::{Anchor, Cursor, Page, PageRequest, PageToken, Scope};
use warp::http::StatusCode;

/// Rows per page unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: u64 = 10;
pub const MAX_LIMIT: u64 = 100;

/// Stripe's list envelope, newest first.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    /// Always `list`.
    pub object: String,
    pub data: Vec<T>,
    /// More objects exist past this page (in the direction of the walk).
    pub has_more: bool,
    /// Where the walk goes on: pass it as `page` for the next page in the same direction
    /// (`null` on the last one). Unlike an id, it names one object even where ids repeat
    /// across stores.
    pub next_page: Option<String>,
}

impl<T> List<T> {
    /// The envelope of `page`, each row turned into its API object by `object`.
    pub fn of<R>(page: Page<R>, object: impl FnMut(R) -> T) -> Self {
        Self {
            object: "list".to_owned(),
            next_page: page.next.as_ref().map(PageToken::encode),
            data: page.data.into_iter().map(object).collect(),
            has_more: page.has_more,
        }
    }
}

/// The pagination parameters as given.
#[derive(Default)]
pub struct Paging {
    limit: Option<u64>,
    starting_after: Option<String>,
    ending_before: Option<String>,
    page: Option<String>,
}

/// Pagination parameters of every list.
pub const PAGING: &[Param<Paging>] = query_params! {
    limit: count(MAX_LIMIT) = "Objects per page, 1 to 100 (default 10).",
    starting_after: text = "An object id: the page starts just after it (older objects). \
        Not with `ending_before` or `page`.",
    ending_before: text = "An object id: the page ends just before it (newer objects). \
        Not with `starting_after` or `page`.",
    page: text = "The `next_page` of the previous answer: the next page of the same walk. \
        Not with `starting_after` or `ending_before`.",
};

impl Paging {
    /// The page asked for: at most one of `starting_after`, `ending_before` and `page`.
    pub fn request(self) -> Result<PageRequest, ApiError> {
        let cursor = match (self.starting_after, self.ending_before, self.page) {
            (Some(_), Some(_), _) => {
                return Err(ApiError::invalid_param(
                    "ending_before",
                    "cannot be combined with `starting_after`",
                ));
            }
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                let problem = "cannot be combined with `starting_after` or `ending_before`";
                return Err(ApiError::invalid_param("page", problem));
            }
            (Some(id), None, None) => Some(Cursor::After(Anchor::Id(id))),
            (None, Some(id), None) => Some(Cursor::Before(Anchor::Id(id))),
            // A token is opaque: text that is not one names no object of the list, as an
            // unknown id does.
            (None, None, Some(token)) => Some(PageToken::decode(&token).ok_or_else(|| {
                let message = "invalid `page`: not the `next_page` of an answer of this list";
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::ResourceMissing, message)
            })?),
            (None, None, None) => None,
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        Ok(PageRequest { limit, cursor })
    }
}

/// Narrowing to a store and to a mode, as the list and by-id routes read it.
const BY_STORE: Kind<Scope> = Kind::Text(|scope, store| scope.store = Some(store));
const BY_MODE: Kind<Scope> = Kind::Flag(|scope, livemode| scope.livemode = Some(livemode));

/// The store and mode filters of a list of one store's objects; `{objects}` in a
/// description stands for the objects listed.
pub const SCOPE: &[Param<Scope>] = &[STORE, MODE];

/// The store filter of a list.
pub const STORE: Param<Scope> = Param::new("store", "Only this store's {objects}.", BY_STORE);

/// The mode filter of a list.
pub const MODE: Param<Scope> = Param::new(
    "livemode",
    "Only live (`true`) or test-mode (`false`) {objects}.",
    BY_MODE,
);

/// Parameters of every by-id route that narrows by store and mode.
pub const LOOKUP: &[Param<Scope>] = &[
    Param::new("store", LOOKUP_STORE, BY_STORE),
    Param::new("livemode", LOOKUP_MODE, BY_MODE),
];
const LOOKUP_STORE: &str = "The store (connected account id) the object belongs to: \
required when the id\nexists in several stores.";
const LOOKUP_MODE: &str =
    "Test-mode (`false`) or live (`true`) object; without it the live one is preferred.";

/// Answers `200` with `body` as JSON, or the error.
pub fn reply<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::params::{Query, names};
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<Query, ApiError> {
        let raw = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Query::new(raw, names(LOOKUP).chain(names(PAGING)))
    }

    fn page(pairs: &[(&str, &str)]) -> Result<PageRequest, ApiError> {
        query(pairs)?.read(PAGING)?.request()
    }

    #[test]
    fn limit_defaults_to_10_and_is_bounded() {
        assert_eq!(page(&[]).unwrap().limit, 10);
        assert_eq!(page(&[("limit", "100")]).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            let err = page(&[("limit", bad)]).unwrap_err();
            assert!(err.message.contains("`limit`"), "{}", err.message);
        }
    }

    #[test]
    fn cursors_are_exclusive_and_unknown_parameters_are_named() {
        let after = page(&[("starting_after", "pi_1")]).unwrap();
        assert_eq!(after.cursor, Some(Cursor::After(Anchor::Id("pi_1".into()))));
        assert!(page(&[("starting_after", "a"), ("ending_before", "b")]).is_err());
        let err = query(&[("colour", "red")]).err().unwrap();
        assert!(err.message.contains("`colour`"));
        let err = query(&[("livemode", "yes")]).unwrap().read(LOOKUP);
        assert!(err.err().unwrap().message.contains("`livemode`"));
        let err = query(&[("store", "")]).unwrap().read(LOOKUP);
        assert!(err.err().unwrap().message.contains("is empty"));
    }
}
