//! What every list and by-id route shares: Stripe's list shape, the pagination and lookup
//! parameters, and typed reading of the other query parameters.
//!
//! Each route documents its parameters as an [`IntoParams`] struct for the OpenAPI
//! document; [`Params::new`] accepts exactly the names those structs declare, so the
//! document and the parser cannot drift apart.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use warp::reply::{Reply, Response};

use crate::error::ApiError;
use crate::queries::{Cursor, Lookup, Page, PageRequest};

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
}

impl<T> List<T> {
    /// The envelope of `page`, each row turned into its API object by `object`.
    pub fn of<R>(page: Page<R>, object: impl FnMut(R) -> T) -> Self {
        Self {
            object: "list".to_owned(),
            data: page.data.into_iter().map(object).collect(),
            has_more: page.has_more,
        }
    }
}

/// Pagination parameters of every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Objects per page, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
    /// An object id: the page starts just after it (older objects).
    starting_after: Option<String>,
    /// An object id: the page ends just before it (newer objects).
    ending_before: Option<String>,
}

/// Parameters of every by-id route.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LookupParams {
    /// The store (connected account id) the object belongs to: required when the id
    /// exists in several stores.
    store: Option<String>,
    /// Test-mode (`false`) or live (`true`) object; without it the live one is preferred.
    livemode: Option<bool>,
}

/// The query parameters of one request, checked against the names a route accepts.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Refuses any parameter not declared by `P` (and the pagination ones when `paged`).
    pub fn new<P: IntoParams>(raw: HashMap<String, String>, paged: bool) -> Result<Self, ApiError> {
        let mut known = names::<P>();
        if paged {
            known.extend(names::<PageParams>());
        }
        match raw.keys().find(|name| !known.contains(name)) {
            Some(unknown) => Err(ApiError::invalid_param(unknown, "unknown parameter")),
            None => Ok(Self(raw)),
        }
    }

    /// A string parameter; an empty value is refused rather than matching nothing.
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            Some(value) if value.is_empty() => Err(ApiError::invalid_param(name, "is empty")),
            value => Ok(value.cloned()),
        }
    }

    /// A string parameter that must be one of `allowed`.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let value = self.string(name)?;
        match value {
            Some(value) if !allowed.contains(&value.as_str()) => Err(ApiError::invalid_param(
                name,
                &format!("must be one of {}", allowed.join(", ")),
            )),
            value => Ok(value),
        }
    }

    /// `true` or `false`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.0
            .get(name)
            .map(|value| match value.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::invalid_param(name, "must be `true` or `false`")),
            })
            .transpose()
    }

    /// An integer, such as a Unix timestamp.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.0
            .get(name)
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| ApiError::invalid_param(name, "must be an integer"))
            })
            .transpose()
    }

    /// `limit` and at most one of `starting_after` / `ending_before`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.0.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        "limit",
                        &format!("must be an integer from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let cursor = match (
            self.string("starting_after")?,
            self.string("ending_before")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    "ending_before",
                    "cannot be combined with `starting_after`",
                ));
            }
            (Some(id), None) => Some(Cursor::After(id)),
            (None, Some(id)) => Some(Cursor::Before(id)),
            (None, None) => None,
        };
        Ok(PageRequest { limit, cursor })
    }

    /// `store` and `livemode` of a by-id route, around the path `id`.
    pub fn lookup<'a>(&'a self, id: &'a str) -> Result<Lookup<'a>, ApiError> {
        let store = match self.0.get("store") {
            Some(value) if value.is_empty() => {
                return Err(ApiError::invalid_param("store", "is empty"));
            }
            value => value.map(String::as_str),
        };
        Ok(Lookup {
            id,
            store,
            livemode: self.boolean("livemode")?,
        })
    }
}

fn names<P: IntoParams>() -> Vec<String> {
    P::into_params(|| None)
        .into_iter()
        .map(|param| param.name)
        .collect()
}

/// Answers `200` with `body` as JSON, or the error.
pub fn reply<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Result<Params, ApiError> {
        let raw = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Params::new::<LookupParams>(raw, true)
    }

    #[test]
    fn limit_defaults_to_10_and_is_bounded() {
        assert_eq!(params(&[]).unwrap().page().unwrap().limit, 10);
        let page = params(&[("limit", "100")]).unwrap().page().unwrap();
        assert_eq!(page.limit, 100);
        for bad in ["0", "101", "-1", "ten"] {
            let err = params(&[("limit", bad)]).unwrap().page().unwrap_err();
            assert!(err.message.contains("`limit`"), "{}", err.message);
        }
    }

    #[test]
    fn cursors_are_exclusive_and_unknown_parameters_are_named() {
        let page = params(&[("starting_after", "pi_1")]).unwrap().page();
        assert_eq!(page.unwrap().cursor, Some(Cursor::After("pi_1".into())));
        let both = params(&[("starting_after", "a"), ("ending_before", "b")]).unwrap();
        assert!(both.page().is_err());
        let err = params(&[("colour", "red")]).err().unwrap();
        assert!(err.message.contains("`colour`"));
        let err = params(&[("livemode", "yes")]).unwrap().boolean("livemode");
        assert!(err.unwrap_err().message.contains("`livemode`"));
    }
}
