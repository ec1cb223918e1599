//! Signed values of the web pages: the console's session cookie and the forms' CSRF
//! tokens. A value is sealed as `{expires}.{value}.{mac}` where the MAC is HMAC-SHA256
//! over `{purpose}.{expires}.{value}`, so a token of one purpose never passes for another.
//!
//! The keys are derived from secrets every replica shares, so a page rendered by one
//! replica may post to another: the console's from the admin token (changing the token
//! signs everyone out), the forms' from the first webhook secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a sealed value is for; part of what is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The console's session cookie.
    Session,
    /// A console form's CSRF token.
    ConsoleForm,
    /// A storefront form's CSRF token.
    ShopForm,
    /// A keyed digest of a form sender's address ([`Signer::digest`]).
    Sender,
    /// A storefront cart's cookie.
    Cart,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::ConsoleForm => "console-form",
            Self::ShopForm => "shop-form",
            Self::Sender => "sender",
            Self::Cart => "cart",
        }
    }
}

/// Seals and opens values with one derived key.
#[derive(Clone)]
pub struct Signer {
    key: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    /// A key derived from `secret` for one use (`context`), so the secret itself never
    /// signs a cookie.
    pub fn derive(secret: &[u8], context: &str) -> Self {
        let mut derive = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        derive.update(b"payments web key v1\0");
        derive.update(context.as_bytes());
        let key = derive.finalize().into_bytes();
        Self {
            key: HmacSha256::new_from_slice(&key).expect("HMAC takes any key length"),
        }
    }

    /// `value` (which must not contain `.`), valid until `expires` (Unix seconds).
    pub fn seal(&self, purpose: Purpose, value: &str, expires: i64) -> String {
        debug_assert!(!value.contains('.'), "sealed values may not contain '.'");
        let mac = URL_SAFE_NO_PAD.encode(self.mac(purpose, expires, value));
        format!("{expires}.{value}.{mac}")
    }

    /// The value of a token this signer sealed for `purpose`, if it has not expired by
    /// `now` (Unix seconds). The MAC is checked in constant time.
    pub fn open<'a>(&self, purpose: Purpose, token: &'a str, now: i64) -> Option<&'a str> {
        let (expires_text, rest) = token.split_once('.')?;
        let (value, mac) = rest.rsplit_once('.')?;
        let expires: i64 = expires_text.parse().ok()?;
        let presented = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let mut check = self.key.clone();
        check.update(signed_text(purpose, expires, value).as_bytes());
        check.verify_slice(&presented).ok()?;
        (now < expires).then_some(value)
    }

    /// A keyed digest of `value` (96 bits, URL-safe): what can be stored to tell one
    /// sender from another without storing the value (an IP address), nor letting anyone
    /// without the key test guesses against it.
    pub fn digest(&self, purpose: Purpose, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(&self.mac(purpose, 0, value)[..12])
    }

    fn mac(&self, purpose: Purpose, expires: i64, value: &str) -> [u8; 32] {
        let mut mac = self.key.clone();
        mac.update(signed_text(purpose, expires, value).as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn signed_text(purpose: Purpose, expires: i64, value: &str) -> String {
    format!("{}.{expires}.{value}", purpose.label())
}

/// A random value for a token or a session id: 128 bits, URL-safe.
pub fn nonce() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::derive(b"whsec_test", "tests")
    }

    #[test]
    fn a_sealed_value_opens_until_it_expires() {
        let token = signer().seal(Purpose::Session, "abc", 100);
        assert_eq!(signer().open(Purpose::Session, &token, 99), Some("abc"));
        assert_eq!(signer().open(Purpose::Session, &token, 100), None);
    }

    #[test]
    fn a_token_of_another_purpose_key_or_expiry_is_refused() {
        let token = signer().seal(Purpose::ShopForm, "abc", 100);
        assert_eq!(signer().open(Purpose::ConsoleForm, &token, 1), None);
        let other = Signer::derive(b"whsec_other", "tests");
        assert_eq!(other.open(Purpose::ShopForm, &token, 1), None);
        let extended = token.replacen("100.", "999.", 1);
        assert_eq!(signer().open(Purpose::ShopForm, &extended, 1), None);
        assert_eq!(signer().open(Purpose::ShopForm, "garbage", 1), None);
    }
}
