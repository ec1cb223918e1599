//! Signing in and out, the session cookie, and the CSRF tokens of the console's forms.
//!
//! The cookie holds a random session id sealed with an expiry ([`Purpose::Session`]); a
//! form's token seals the same id ([`Purpose::ConsoleForm`]), so a token is good only for
//! the session it was rendered for. Sessions are not stored: signing out clears the
//! cookie, and changing the admin token ends every session.

use std::collections::HashMap;
use std::sync::Arc;

use maud::html;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warp::http::header::{LOCATION, SET_COOKIE};
use warp::http::{HeaderValue, Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::web::page;

use super::{Access, Web};
use crate::web::keys::{Purpose, nonce};

/// The cookie's name.
const COOKIE: &str = "payments_console";
/// How long a session lasts, in seconds (eight hours: a working day).
pub const LIFETIME: i64 = 8 * 60 * 60;
/// The largest form the sign-in and the console's forms take.
pub const FORM_LIMIT: u64 = 4 * 1024;

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token every form of this session carries.
    pub csrf: String,
}

/// Why a request without a valid session is refused: a rejection of [`check`], answered
/// by [`answer_refusal`].
#[derive(Debug)]
pub enum Refusal {
    /// A page: to the sign-in page, then back to this path.
    SignIn { next: String },
    /// A form: it cannot be repeated after signing in, so it is refused.
    SignedOut,
}

impl warp::reject::Reject for Refusal {}

/// Checks the session cookie of a request: the session and the shared state, or a
/// [`Refusal`].
pub async fn check(
    method: Method,
    cookies: Option<String>,
    path: FullPath,
    web: Arc<Web>,
) -> Result<(Session, Arc<Web>), Rejection> {
    let now = chrono::Utc::now().timestamp();
    let session = web.console.signer().and_then(|signer| {
        let sealed = cookie_value(cookies.as_deref()?, COOKIE)?;
        let id = signer.open(Purpose::Session, sealed, now)?;
        let expires = sealed.split('.').next()?.parse().ok()?;
        Some(Session {
            csrf: signer.seal(Purpose::ConsoleForm, id, expires),
        })
    });
    match session {
        Some(session) => Ok((session, web)),
        None if method == Method::GET || method == Method::HEAD => {
            Err(warp::reject::custom(Refusal::SignIn {
                next: next_param(&path),
            }))
        }
        None => Err(warp::reject::custom(Refusal::SignedOut)),
    }
}

/// The answer to a [`Refusal`]: a redirect to the sign-in page for a page, 403 for a form.
/// Other rejections go on to the other routes.
pub async fn answer_refusal(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<Refusal>() {
        Some(Refusal::SignIn { next }) => Ok(redirect(&format!("/admin/sign-in?next={next}"))),
        Some(Refusal::SignedOut) => Ok(refused(
            StatusCode::FORBIDDEN,
            "Signed out",
            "Your session has ended. Sign in again, then repeat what you were doing.",
        )),
        None => Err(rejection),
    }
}

/// Whether a form's CSRF token is this session's.
pub fn form_is_genuine(session: &Session, form: &HashMap<String, String>) -> bool {
    form.get("csrf")
        .is_some_and(|token| token.as_bytes().ct_eq(session.csrf.as_bytes()).into())
}

/// `GET` and `POST /admin/sign-in`, `POST /admin/sign-out`.
pub fn routes(web: Arc<Web>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let timeout = web.body_read_timeout;
    let state = warp::any().map(move || web.clone());
    let form = warp::header::optional::<String>("cookie")
        .and(crate::web::forms::form(FORM_LIMIT, timeout));
    let sign_in_page = warp::path!("sign-in")
        .and(crate::web::get_or_head())
        .and(warp::query::<HashMap<String, String>>())
        .and(state.clone())
        .map(sign_in_page);
    let sign_in = warp::path!("sign-in")
        .and(warp::post())
        .and(crate::web::forms::form(FORM_LIMIT, timeout))
        .and(warp::ext::optional::<crate::web::ClientAddr>())
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(state.clone())
        .map(sign_in);
    let sign_out = warp::path!("sign-out")
        .and(warp::post())
        .and(form)
        .and(state)
        .map(sign_out);
    sign_in_page.or(sign_in).unify().or(sign_out).unify()
}

/// The sign-in form; with an open console, a new session at once.
fn sign_in_page(query: HashMap<String, String>, web: Arc<Web>) -> Response {
    let next = safe_next(query.get("next").map(String::as_str));
    match &web.console {
        Access::Open { .. } => start_session(&web, next),
        Access::Closed => closed(),
        Access::Token { .. } => {
            let notice = query
                .contains_key("signed_out")
                .then_some("You are signed out.");
            sign_in_form(StatusCode::OK, next, notice, None)
        }
    }
}

/// Checks the token and starts a session; a wrong token shows the form again (401).
/// A client that presented [`super::SIGN_IN_ATTEMPTS`] wrong tokens in the window is
/// refused (429) without its token being checked.
fn sign_in(
    form: HashMap<String, String>,
    peer: Option<crate::web::ClientAddr>,
    forwarded_for: Option<String>,
    web: Arc<Web>,
) -> Response {
    let next = safe_next(form.get("next").map(String::as_str));
    let Access::Token { digest, .. } = &web.console else {
        return sign_in_page(HashMap::new(), web);
    };
    let client = peer.map(|crate::web::ClientAddr(peer)| {
        crate::web::contact::client_ip(peer.ip(), forwarded_for.as_deref(), &web.trusted_proxies)
    });
    let now = std::time::Instant::now();
    if web.failed_sign_ins.is_spent(client, now) {
        let mut response = sign_in_form(
            StatusCode::TOO_MANY_REQUESTS,
            next,
            None,
            Some("Too many wrong tokens from here. Wait ten minutes, then try again."),
        );
        response.headers_mut().insert(
            warp::http::header::RETRY_AFTER,
            HeaderValue::from(super::SIGN_IN_WINDOW.as_secs()),
        );
        return response;
    }
    let presented = Sha256::digest(form.get("token").map_or("", String::as_str).as_bytes());
    if bool::from(presented.as_slice().ct_eq(digest)) {
        tracing::info!("console: signed in");
        return start_session(&web, next);
    }
    web.failed_sign_ins.hit(client, now);
    tracing::warn!("console: a sign-in with a wrong admin token was refused");
    sign_in_form(
        StatusCode::UNAUTHORIZED,
        next,
        None,
        Some("That is not the admin token."),
    )
}

/// Ends the session (when the form is the session's own) and shows the sign-in page.
fn sign_out(cookies: Option<String>, form: HashMap<String, String>, web: Arc<Web>) -> Response {
    let now = chrono::Utc::now().timestamp();
    let signed_in = web.console.signer().is_some_and(|signer| {
        let Some(sealed) = cookies.as_deref().and_then(|c| cookie_value(c, COOKIE)) else {
            return false;
        };
        let (Some(id), Some(token)) =
            (signer.open(Purpose::Session, sealed, now), form.get("csrf"))
        else {
            return false;
        };
        signer.open(Purpose::ConsoleForm, token, now) == Some(id)
    });
    if !signed_in {
        return refused(
            StatusCode::FORBIDDEN,
            "Not signed out",
            "This sign-out form is not from your session. Use the button on a console page.",
        );
    }
    tracing::info!("console: signed out");
    let mut response = redirect("/admin/sign-in?signed_out=1");
    set_cookie(&mut response, &format!("{COOKIE}=; Max-Age=0"), &web);
    response
}

fn start_session(web: &Web, next: &str) -> Response {
    let Some(signer) = web.console.signer() else {
        return closed();
    };
    let expires = chrono::Utc::now().timestamp() + LIFETIME;
    let sealed = signer.seal(Purpose::Session, &nonce(), expires);
    let mut response = redirect(next);
    set_cookie(
        &mut response,
        &format!("{COOKIE}={sealed}; Max-Age={LIFETIME}"),
        web,
    );
    response
}

/// Adds the cookie attributes every console cookie has.
fn set_cookie(response: &mut Response, cookie: &str, web: &Web) {
    let secure = if web.secure_cookies { "; Secure" } else { "" };
    let value = format!("{cookie}; Path=/admin; HttpOnly; SameSite=Strict{secure}");
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// A page for a request that cannot go on: no session, a closed console, a forged form.
pub fn refused(status: StatusCode, heading: &str, text: &str) -> Response {
    let main = html! {
        h1 { (heading) }
        p { (text) }
        p { a href="/admin/sign-in" { "Sign in" } }
    };
    page::respond(
        status,
        page::document(heading, html! { p.brand { "Payments console" } }, main),
    )
}

/// The sign-in form, with a notice or an error.
fn sign_in_form(
    status: StatusCode,
    next: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let main = html! {
        h1 { "Sign in" }
        @if let Some(notice) = notice {
            p.notice role="status" { (notice) }
        }
        form.stacked method="post" action="/admin/sign-in" {
            input type="hidden" name="next" value=(next);
            label for="token" { "Admin token" }
            input #token type="password" name="token" required autocomplete="current-password"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| "token-error")];
            @if let Some(error) = error {
                p.error #token-error { (error) }
            }
            button type="submit" { "Sign in" }
        }
    };
    let header = html! { p.brand { "Payments console" } };
    page::respond(
        status,
        page::document("Sign in · Payments console", header, main),
    )
}

fn closed() -> Response {
    refused(
        StatusCode::FORBIDDEN,
        "The console is closed",
        "This server has no admin token (ADMIN_TOKEN), so its console and admin API are \
         closed. Set one and restart the server.",
    )
}

/// A 303 to `location`.
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    crate::web::headers::secure(response)
}

/// Where to go after signing in: a console path only, never another site.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|next| {
        next.starts_with("/admin")
            && !next.starts_with("/admin/sign-")
            && !next.contains("//")
            && !next.contains('\\')
    })
    .unwrap_or("/admin")
}

/// The path of a refused page, to come back to after signing in (query strings are left
/// out: they would need encoding twice).
fn next_param(path: &FullPath) -> String {
    crate::web::page::encode(path.as_str())
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_signing_in() {
        assert_eq!(safe_next(Some("/admin/orders")), "/admin/orders");
        assert_eq!(safe_next(Some("https://evil.example")), "/admin");
        assert_eq!(safe_next(Some("//evil.example/admin")), "/admin");
        assert_eq!(safe_next(Some("/admin//evil.example")), "/admin");
        assert_eq!(safe_next(Some("/admin/sign-in")), "/admin");
        assert_eq!(safe_next(None), "/admin");
    }

    #[test]
    fn a_cookie_is_found_among_others() {
        let header = "a=1; payments_console=x.y.z; b=2";
        assert_eq!(cookie_value(header, COOKIE), Some("x.y.z"));
        assert_eq!(cookie_value("payments_consolex=1", COOKIE), None);
    }
}
