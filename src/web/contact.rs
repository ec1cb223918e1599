//! The Contact page's form (`POST /shop/{store}/contact`): what a sender typed, its
//! validation, and the signed double-submit that protects it from cross-site posts.
//!
//! The page's `GET` sets a cookie holding a random nonce (HttpOnly, SameSite=Strict, Path
//! `/shop`) and puts the nonce, sealed for [`Purpose::ShopForm`] for two hours, in a hidden
//! field; a post is taken only when the field opens to the cookie's nonce. Another site can
//! make a browser post, but can neither read the cookie nor forge the seal. A browser that
//! already holds a nonce keeps it, so two open forms both stay valid.
//!
//! A hidden field no person sees or fills ([`HONEYPOT`]) catches simple bots, and a
//! per-client limit ([`super::limit`]) bounds how many messages one source may store.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use maud::{Markup, html};
use subtle::ConstantTimeEq;
use warp::http::HeaderValue;
use warp::http::header::SET_COOKIE;
use warp::reply::Response;

use super::keys::{self, Purpose, Signer};

/// The cookie holding the browser's form nonce.
pub const COOKIE: &str = "shop_form";
/// How long a rendered form may be sent.
pub const TOKEN_LIFETIME_SECS: i64 = 2 * 60 * 60;
/// The largest form body read: the longest message of non-Latin text, percent-encoded
/// (up to nine bytes a character), with the other fields.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;
/// Messages one client may send per [`WINDOW`].
pub const MESSAGES_PER_WINDOW: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

/// The form's fields: the token, and the trap for bots.
pub const TOKEN_FIELD: &str = "csrf_token";
pub const HONEYPOT: &str = "website";

const MAX_NAME: usize = 100;
const MAX_EMAIL: usize = 254;
const MAX_MESSAGE: usize = 5000;

/// The address of the client a request came from, as the server's connection loop puts it
/// in the request's extensions (warp's `addr::remote` is filled only by warp's own server).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// What the sender typed, as sent: shown back (escaped) when the form comes back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub email: String,
    pub message: String,
}

impl Input {
    pub fn from_form(form: &HashMap<String, String>) -> Self {
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        Self {
            name: field("name"),
            email: field("email"),
            message: field("message"),
        }
    }
}

/// A field of the form that can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Message,
}

impl Field {
    fn id(self) -> &'static str {
        match self {
            Self::Name => "contact-name",
            Self::Email => "contact-email",
            Self::Message => "contact-message",
        }
    }

    fn error_id(self) -> String {
        format!("{}-error", self.id())
    }
}

/// A message that passed validation: every field trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub name: String,
    pub email: String,
    pub message: String,
}

/// What is wrong with the input: one sentence per wrong field.
pub type Errors = Vec<(Field, &'static str)>;

/// The input trimmed, if it holds a name (1 to 100 characters, one line), a plausible
/// e-mail address (at most 254 characters) and a message (1 to 5,000 characters).
pub fn validate(input: &Input) -> Result<Valid, Errors> {
    let (name, email, message) = (input.name.trim(), input.email.trim(), input.message.trim());
    let mut errors = Errors::new();
    let length = |text: &str| text.chars().count();
    if name.is_empty() {
        errors.push((Field::Name, "Enter your name."));
    } else if length(name) > MAX_NAME {
        errors.push((Field::Name, "Your name can be at most 100 characters long."));
    } else if name.chars().any(char::is_control) {
        errors.push((Field::Name, "Your name must fit on one line."));
    }
    if email.is_empty() {
        errors.push((Field::Email, "Enter your e-mail address."));
    } else if length(email) > MAX_EMAIL {
        errors.push((
            Field::Email,
            "An e-mail address is at most 254 characters long.",
        ));
    } else if !plausible_email(email) {
        errors.push((
            Field::Email,
            "Enter an e-mail address such as name@example.com.",
        ));
    }
    if message.is_empty() {
        errors.push((Field::Message, "Enter your message."));
    } else if length(message) > MAX_MESSAGE {
        errors.push((
            Field::Message,
            "Your message can be at most 5,000 characters long.",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        name: name.to_owned(),
        email: email.to_owned(),
        message: message.to_owned(),
    })
}

/// One `@`, something before it, and a domain of at least two non-empty labels; no
/// spaces or control characters. Whether the address exists is the seller's to find out.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// The token of a form to render and, when the browser holds no nonce yet, the cookie
/// that gives it one.
pub struct Csrf {
    pub token: String,
    cookie: Option<String>,
}

impl Csrf {
    /// A token for the browser whose cookie is `cookie` (its nonce is kept when it has
    /// one), valid for [`TOKEN_LIFETIME_SECS`] from `now`.
    pub fn issue(signer: &Signer, cookie: Option<&str>, now: i64, secure: bool) -> Self {
        let (nonce, cookie) = match cookie.filter(|nonce| is_nonce(nonce)) {
            Some(nonce) => (nonce.to_owned(), None),
            None => {
                let nonce = keys::nonce();
                let secure = if secure { "; Secure" } else { "" };
                let cookie =
                    format!("{COOKIE}={nonce}; Path=/shop; HttpOnly; SameSite=Strict{secure}");
                (nonce, Some(cookie))
            }
        };
        let token = signer.seal(Purpose::ShopForm, &nonce, now + TOKEN_LIFETIME_SECS);
        Self { token, cookie }
    }

    /// `response` with the cookie set, if there is one to set.
    pub fn set_cookie(&self, mut response: Response) -> Response {
        if let Some(value) = self
            .cookie
            .as_deref()
            .and_then(|cookie| HeaderValue::from_str(cookie).ok())
        {
            response.headers_mut().append(SET_COOKIE, value);
        }
        response
    }
}

/// Whether a post's `token` opens, unexpired at `now`, to the nonce of its `cookie`.
pub fn accepts(signer: &Signer, cookie: Option<&str>, token: Option<&str>, now: i64) -> bool {
    let (Some(cookie), Some(token)) = (cookie, token) else {
        return false;
    };
    signer
        .open(Purpose::ShopForm, token, now)
        .is_some_and(|nonce| bool::from(nonce.as_bytes().ct_eq(cookie.as_bytes())))
}

/// A value [`keys::nonce`] could have made: 22 URL-safe base64 characters.
fn is_nonce(text: &str) -> bool {
    text.len() == 22
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the form says above its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The message was stored (`?sent=1`).
    Sent,
    /// Some fields are wrong.
    Invalid,
    /// The token was missing, forged or too old.
    Expired,
    /// Too many messages from this client.
    TooMany,
    /// The database did not take it.
    Unavailable,
}

/// The form, as rendered.
pub struct Form<'a> {
    /// Where it posts.
    pub action: &'a str,
    pub token: &'a str,
    pub input: &'a Input,
    pub errors: &'a [(Field, &'static str)],
    pub notice: Option<Notice>,
}

impl Form<'_> {
    fn error(&self, field: Field) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(wrong, _)| *wrong == field)
            .map(|(_, text)| *text)
    }

    /// The form's markup: each field labelled, each error next to its field and named by
    /// it (`aria-describedby`, `aria-invalid`), the notice announced.
    pub fn render(&self) -> Markup {
        let name_error = self.error(Field::Name);
        let email_error = self.error(Field::Email);
        let message_error = self.error(Field::Message);
        html! {
            section.contact-form aria-labelledby="contact-form-title" {
                h2 #contact-form-title { "Send a message" }
                @if let Some(notice) = self.notice {
                    (notice_markup(notice))
                }
                form method="post" action=(self.action) {
                    input type="hidden" name=(TOKEN_FIELD) value=(self.token);
                    div.field {
                        label for=(Field::Name.id()) { "Name" }
                        input #(Field::Name.id()) type="text" name="name" value=(self.input.name)
                            required maxlength="100" autocomplete="name"
                            aria-invalid=[name_error.map(|_| "true")]
                            aria-describedby=[name_error.map(|_| Field::Name.error_id())];
                        (error_markup(Field::Name, name_error))
                    }
                    div.field {
                        label for=(Field::Email.id()) { "E-mail" }
                        input #(Field::Email.id()) type="email" name="email"
                            value=(self.input.email) required maxlength="254"
                            autocomplete="email"
                            aria-invalid=[email_error.map(|_| "true")]
                            aria-describedby=[email_error.map(|_| Field::Email.error_id())];
                        (error_markup(Field::Email, email_error))
                    }
                    div.field {
                        label for=(Field::Message.id()) { "Message" }
                        textarea #(Field::Message.id()) name="message" rows="6" required
                            maxlength="5000"
                            aria-invalid=[message_error.map(|_| "true")]
                            aria-describedby=[message_error.map(|_| Field::Message.error_id())] {
                            (self.input.message)
                        }
                        (error_markup(Field::Message, message_error))
                    }
                    // For bots only: hidden from sight, from assistive technology and from
                    // the tab order; a person leaves it empty.
                    div.trap aria-hidden="true" {
                        label for="contact-website" { "Leave this field empty" }
                        input #contact-website type="text" name=(HONEYPOT) value=""
                            tabindex="-1" autocomplete="off";
                    }
                    button type="submit" { "Send message" }
                }
            }
        }
    }
}

fn error_markup(field: Field, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error #(field.error_id()) { (error) }
        }
    }
}

fn notice_markup(notice: Notice) -> Markup {
    let (role, text) = match notice {
        Notice::Sent => (
            "status",
            "Thank you: your message was sent. The seller will answer by e-mail.",
        ),
        Notice::Invalid => ("alert", "Please correct the fields marked below."),
        Notice::Expired => (
            "alert",
            "This form has expired. Your message is below: please send it again.",
        ),
        Notice::TooMany => (
            "alert",
            "You have sent several messages in a short time. Please try again in a few \
             minutes.",
        ),
        Notice::Unavailable => (
            "alert",
            "Your message could not be sent right now. Please try again in a moment.",
        ),
    };
    html! { p.notice role=(role) { (text) } }
}

/// The client a request comes from: its connection's address, or, when that is a trusted
/// proxy, the right-most address of `X-Forwarded-For` that is not a trusted proxy (each
/// proxy appends the address it was reached from, so the addresses left of the first
/// untrusted one could be forged by the client). An unreadable entry stops the walk at the
/// last address known.
pub fn client_ip(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    if !is_trusted(&peer) {
        return client;
    }
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        let Ok(ip) = hop.trim().parse::<std::net::IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.5");
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9"),
            "untrusted peer: its own address"
        );
        assert_eq!(
            client_ip(proxy, Some("198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(proxy, Some("6.6.6.6, 198.51.100.7, 10.0.0.9"), &trusted),
            ip("198.51.100.7"),
            "a forged left part is ignored"
        );
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
        assert_eq!(client_ip(proxy, Some("garbage"), &trusted), proxy);
        assert_eq!(
            client_ip(proxy, Some("198.51.100.7"), &[]),
            proxy,
            "no trusted proxies"
        );
    }

    use super::*;

    fn input(name: &str, email: &str, message: &str) -> Input {
        Input {
            name: name.into(),
            email: email.into(),
            message: message.into(),
        }
    }

    fn wrong(input: &Input) -> Vec<Field> {
        validate(input)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    }

    #[test]
    fn valid_input_is_trimmed() {
        let valid = validate(&input("  Ana ", " ana@example.com\n", "\n Hello \n")).unwrap();
        assert_eq!(
            valid,
            Valid {
                name: "Ana".into(),
                email: "ana@example.com".into(),
                message: "Hello".into(),
            }
        );
    }

    #[test]
    fn lengths_are_counted_in_characters_after_trimming() {
        assert!(validate(&input(&"é".repeat(100), "a@b.co", &"ü".repeat(5000))).is_ok());
        assert_eq!(
            wrong(&input(&"é".repeat(101), "a@b.co", &"ü".repeat(5001))),
            [Field::Name, Field::Message]
        );
        assert_eq!(
            wrong(&input("   ", " ", "\n\t")),
            [Field::Name, Field::Email, Field::Message]
        );
        assert_eq!(wrong(&input("Ana\nBcc: x", "a@b.co", "hi")), [Field::Name]);
    }

    #[test]
    fn an_email_has_one_at_a_local_part_and_a_dotted_domain() {
        for good in ["a@b.co", "first.last+tag@mail.example.org", "ü@exämple.de"] {
            assert!(validate(&input("A", good, "m")).is_ok(), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(243));
        for bad in [
            "plain",
            "@example.com",
            "a@b",
            "a@@b.co",
            "a@b@c.co",
            "a@.b.co",
            "a@b.co.",
            "a@b..co",
            "a b@c.co",
            long.as_str(),
        ] {
            assert_eq!(wrong(&input("A", bad, "m")), [Field::Email], "{bad}");
        }
        let longest = format!("{}@example.com", "a".repeat(242));
        assert_eq!(longest.len(), 254);
        assert!(validate(&input("A", &longest, "m")).is_ok());
    }

    #[test]
    fn a_token_is_accepted_only_with_its_own_cookie_before_it_expires() {
        let signer = Signer::derive(b"whsec_test", "shop-forms");
        let csrf = Csrf::issue(&signer, None, 1_000, false);
        let cookie = csrf.cookie.clone().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/shop") && !cookie.contains("Secure"));
        let nonce = cookie[COOKIE.len() + 1..cookie.find(';').unwrap()].to_owned();
        let token = Some(csrf.token.as_str());
        assert!(accepts(&signer, Some(&nonce), token, 1_001));
        assert!(!accepts(&signer, Some(&keys::nonce()), token, 1_001));
        assert!(!accepts(&signer, None, token, 1_001));
        assert!(!accepts(&signer, Some(&nonce), None, 1_001));
        let expired = 1_000 + TOKEN_LIFETIME_SECS;
        assert!(!accepts(&signer, Some(&nonce), token, expired));
        // A browser that has a nonce keeps it; a secure site's cookie is `Secure`.
        let again = Csrf::issue(&signer, Some(&nonce), 2_000, true);
        assert!(again.cookie.is_none());
        assert!(accepts(&signer, Some(&nonce), Some(&again.token), 2_001));
        let fresh = Csrf::issue(&signer, Some("not a nonce"), 2_000, true);
        assert!(fresh.cookie.unwrap().ends_with("; Secure"));
    }
}
