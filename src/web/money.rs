//! Prices as a shopper reads them: the amount in the currency's own unit (Stripe counts in
//! the smallest one), grouped by thousands, with the currency code and any recurring
//! interval.

use crate::domain::currency::decimals;

/// `1999, "usd"` → `19.99 USD`; `1200, "jpy"` → `1,200 JPY`.
pub fn amount(minor_units: i64, currency: &str) -> String {
    let decimals = decimals(currency);
    let scale = 10_i64.pow(decimals);
    let sign = if minor_units < 0 { "-" } else { "" };
    let units = (minor_units / scale).unsigned_abs();
    let fraction = (minor_units % scale).unsigned_abs();
    let whole = grouped(units);
    let code = currency.to_ascii_uppercase();
    if decimals == 0 {
        format!("{sign}{whole} {code}")
    } else {
        let width = decimals as usize;
        format!("{sign}{whole}.{fraction:0width$} {code}")
    }
}

/// How often a recurring price is charged: `per month`, `every 3 months`.
pub fn interval(interval: &str, count: u64) -> String {
    if count <= 1 {
        format!("per {interval}")
    } else {
        format!("every {count} {interval}s")
    }
}

/// `1234567` → `1,234,567`.
fn grouped(units: u64) -> String {
    let digits = units.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_currencies_show_cents() {
        assert_eq!(amount(1999, "usd"), "19.99 USD");
        assert_eq!(amount(5, "eur"), "0.05 EUR");
        assert_eq!(amount(123_456_700, "usd"), "1,234,567.00 USD");
        assert_eq!(amount(-250, "gbp"), "-2.50 GBP");
    }

    #[test]
    fn zero_decimal_currencies_count_whole_units() {
        assert_eq!(amount(1200, "jpy"), "1,200 JPY");
        assert_eq!(amount(1200, "JPY"), "1,200 JPY");
        assert_eq!(amount(50_000, "krw"), "50,000 KRW");
        assert_eq!(amount(7, "clp"), "7 CLP");
    }

    #[test]
    fn three_decimal_currencies_count_thousandths() {
        assert_eq!(amount(1234, "kwd"), "1.234 KWD");
        assert_eq!(amount(50, "bhd"), "0.050 BHD");
    }

    #[test]
    fn intervals_read_naturally() {
        assert_eq!(interval("month", 1), "per month");
        assert_eq!(interval("week", 2), "every 2 weeks");
    }
}
