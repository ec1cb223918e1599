//! The shopper's cart: which products, how many of each, kept in the browser as a sealed
//! cookie scoped to one shop (`Path=/shop/{store}`), so the server keeps no session and
//! any replica can read it. Prices are not in it: checkout charges each product's
//! default price as it is then.
//!
//! The cookie is `SameSite=Lax`, so the cart is there when Stripe's Checkout sends the
//! shopper back; the forms that change it carry the shop's CSRF token.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warp::http::HeaderValue;
use warp::http::header::SET_COOKIE;
use warp::reply::Response;

use super::super::keys::{Purpose, Signer};

/// The cookie's name.
pub const COOKIE: &str = "shop_cart";
/// Distinct products in one cart: what one Checkout Session's metadata can describe.
pub const MAX_LINES: usize = 10;
/// Units of one product in one cart.
pub const MAX_QUANTITY: u32 = 99;
/// How long a cart is kept.
const LIFETIME_SECS: i64 = 30 * 86_400;

/// Products and quantities, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cart {
    pub lines: Vec<(String, u32)>,
}

/// Why a cart change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Full,
    Quantity,
}

impl Refusal {
    pub fn text(self) -> &'static str {
        match self {
            Self::Full => "Your cart is full: check out, or remove a product first.",
            Self::Quantity => "Choose a quantity from 1 to 99.",
        }
    }
}

impl Cart {
    /// The cart a cookie holds; empty when there is none, or it is not one this service
    /// sealed, or it expired.
    pub fn open(signer: &Signer, cookie: Option<&str>, now: i64) -> Self {
        cookie
            .and_then(|cookie| signer.open(Purpose::Cart, cookie, now))
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Self {
        let lines = text
            .split(',')
            .filter_map(|line| {
                let (product, quantity) = line.rsplit_once(':')?;
                let quantity: u32 = quantity.parse().ok()?;
                let fits = !product.is_empty() && (1..=MAX_QUANTITY).contains(&quantity);
                fits.then(|| (product.to_owned(), quantity))
            })
            .take(MAX_LINES)
            .collect();
        Self { lines }
    }

    fn seal(&self, signer: &Signer, now: i64) -> String {
        let text: Vec<String> = self
            .lines
            .iter()
            .map(|(product, quantity)| format!("{product}:{quantity}"))
            .collect();
        let value = URL_SAFE_NO_PAD.encode(text.join(","));
        signer.seal(Purpose::Cart, &value, now + LIFETIME_SECS)
    }

    /// Adds `quantity` of `product` (up to [`MAX_QUANTITY`] in all).
    pub fn add(&mut self, product: &str, quantity: u32) -> Result<(), Refusal> {
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(Refusal::Quantity);
        }
        let full = self.lines.len() >= MAX_LINES;
        match self.lines.iter_mut().find(|(id, _)| id == product) {
            Some((_, held)) => *held = (*held + quantity).min(MAX_QUANTITY),
            None if full => return Err(Refusal::Full),
            None => self.lines.push((product.to_owned(), quantity)),
        }
        Ok(())
    }

    /// Sets the quantity of `product`; 0 removes it.
    pub fn set(&mut self, product: &str, quantity: u32) -> Result<(), Refusal> {
        if quantity > MAX_QUANTITY {
            return Err(Refusal::Quantity);
        }
        if quantity == 0 {
            self.lines.retain(|(id, _)| id != product);
            return Ok(());
        }
        match self.lines.iter_mut().find(|(id, _)| id == product) {
            Some((_, held)) => *held = quantity,
            None => return self.add(product, quantity),
        }
        Ok(())
    }

    /// `response` with this cart as the shop's cookie (an empty cart clears it).
    pub fn store(
        &self,
        mut response: Response,
        signer: &Signer,
        shop_path: &str,
        now: i64,
        secure: bool,
    ) -> Response {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = if self.lines.is_empty() {
            format!("{COOKIE}=; Path={shop_path}; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
        } else {
            let value = self.seal(signer, now);
            format!(
                "{COOKIE}={value}; Path={shop_path}; Max-Age={LIFETIME_SECS}; HttpOnly; SameSite=Lax{secure}"
            )
        };
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
        response
    }
}

/// A quantity field's value: one to three digits.
pub fn quantity(form: &HashMap<String, String>) -> Result<u32, Refusal> {
    form.get("quantity")
        .map(|value| value.trim())
        .filter(|value| {
            !value.is_empty() && value.len() <= 3 && value.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|value| value.parse().ok())
        .ok_or(Refusal::Quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::derive(b"whsec_test", "tests")
    }

    #[test]
    fn a_cart_survives_its_cookie_and_a_forged_or_old_one_is_empty() {
        let mut cart = Cart::default();
        cart.add("prod_1", 2).unwrap();
        cart.add("prod_2", 1).unwrap();
        cart.add("prod_1", 1).unwrap();
        let sealed = cart.seal(&signer(), 100);
        assert_eq!(Cart::open(&signer(), Some(&sealed), 101), cart);
        assert_eq!(cart.lines, vec![("prod_1".into(), 3), ("prod_2".into(), 1)]);
        let other = Signer::derive(b"whsec_other", "tests");
        assert_eq!(Cart::open(&other, Some(&sealed), 101), Cart::default());
        assert_eq!(
            Cart::open(&signer(), Some(&sealed), 100 + LIFETIME_SECS),
            Cart::default()
        );
        assert_eq!(Cart::open(&signer(), Some("junk"), 1), Cart::default());
    }

    #[test]
    fn quantities_and_lines_are_bounded() {
        let mut cart = Cart::default();
        assert_eq!(cart.add("prod_1", 0), Err(Refusal::Quantity));
        assert_eq!(cart.add("prod_1", 100), Err(Refusal::Quantity));
        cart.add("prod_1", 99).unwrap();
        cart.add("prod_1", 5).unwrap();
        assert_eq!(cart.lines, vec![("prod_1".into(), 99)]);
        for n in 2..=MAX_LINES {
            cart.add(&format!("prod_{n}"), 1).unwrap();
        }
        assert_eq!(cart.add("prod_new", 1), Err(Refusal::Full));
        cart.set("prod_1", 0).unwrap();
        assert_eq!(cart.lines.len(), MAX_LINES - 1);
        let form = |value: &str| HashMap::from([("quantity".to_owned(), value.to_owned())]);
        assert_eq!(quantity(&form("3")), Ok(3));
        for bad in ["", "-1", "1.5", "1e2", "9999"] {
            assert_eq!(quantity(&form(bad)), Err(Refusal::Quantity), "{bad}");
        }
    }
}
