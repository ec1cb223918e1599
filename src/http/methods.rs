//! A known path asked with a method it does not take: `405` with `Allow`. The methods are
//! read from the OpenAPI document, so the list cannot drift from the routes; a path that
//! takes GET takes HEAD too. On an admin path the token is checked first, so a client
//! without it learns nothing about which routes exist.

use std::sync::{Arc, LazyLock};

use utoipa::OpenApi;
use utoipa::openapi::path::PathItem;
use warp::Filter;
use warp::http::Method;
use warp::path::FullPath;
use warp::reject::{self, Rejection};
use warp::reply::Response;

use super::{ApiDoc, AppState, with_state};
use crate::error::ApiError;

/// A documented path: its segments (`None` for a `{param}`), what it takes, and whether it
/// is behind the admin token.
struct Route {
    segments: Vec<Option<String>>,
    methods: Vec<Method>,
    admin: bool,
}

static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    let doc = ApiDoc::openapi();
    doc.paths
        .paths
        .iter()
        .map(|(template, item)| Route::new(template, item))
        .collect()
});

impl Route {
    fn new(template: &str, item: &PathItem) -> Self {
        let segments = template
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| (!segment.starts_with('{')).then(|| segment.to_owned()))
            .collect();
        let operations = [
            (Method::GET, &item.get),
            (Method::HEAD, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ];
        let admin = operations
            .iter()
            .filter_map(|(_, op)| op.as_ref())
            .any(|op| {
                op.security
                    .as_ref()
                    .is_some_and(|security| !security.is_empty())
            });
        let methods = operations
            .into_iter()
            .filter(|(_, op)| op.is_some())
            .map(|(method, _)| method)
            .collect();
        Self {
            segments,
            methods,
            admin,
        }
    }

    fn matches(&self, path: &str) -> bool {
        let mut given = path.split('/').filter(|segment| !segment.is_empty());
        let mut wanted = self.segments.iter();
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (Some(Some(literal)), Some(segment)) if literal == segment => {}
                (Some(None), Some(_)) => {}
                _ => return false,
            }
        }
    }

    fn allow(&self) -> String {
        let names: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
        names.join(", ")
    }
}

/// Tried after every route: refuses a documented path asked with a method it does not take
/// (`401` first on an admin path without the token), and has no opinion on anything else.
pub fn fallback(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::header::optional::<String>("authorization"))
        .and(with_state(state))
        .and_then(
            |method: Method,
             path: FullPath,
             authorization: Option<String>,
             state: Arc<AppState>| async move {
                let route = ROUTES.iter().find(|route| route.matches(path.as_str()));
                let Some(route) = route.filter(|route| !route.methods.contains(&method)) else {
                    return Err(reject::not_found());
                };
                if route.admin && !state.admin.allows(authorization.as_deref()) {
                    return Err(reject::custom(ApiError::unauthorized()));
                }
                Err::<Response, _>(reject::custom(ApiError::method_not_allowed(route.allow())))
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_known_with_its_methods() {
        let route = |path: &str| {
            ROUTES
                .iter()
                .find(|route| route.matches(path))
                .map(Route::allow)
        };
        assert_eq!(route("/webhooks/stripe").as_deref(), Some("POST"));
        assert_eq!(route("/health").as_deref(), Some("GET, HEAD"));
        assert_eq!(route("/stores/acct_1/orders").as_deref(), Some("GET, HEAD"));
        assert_eq!(
            route("/webhooks/stripe/events/evt_1/replay").as_deref(),
            Some("POST")
        );
        assert_eq!(route("/stores/acct_1/nothing"), None);
        assert_eq!(route("/health/more"), None);
        assert!(ROUTES.iter().filter(|route| route.admin).count() >= 10);
    }
}
