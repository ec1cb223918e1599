//! Currencies as Stripe counts them: which codes it takes, how many decimals each has (it
//! counts amounts in the smallest unit), and reading a price written in major units
//! (`12.50`) as that integer. Shared by the pages, which show amounts, and the catalogue
//! import, which reads them.

/// Currencies Stripe counts in whole units (no minor unit): `1200` JPY is ¥1,200.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Currencies Stripe counts in thousandths: `1234` KWD is 1.234 KWD.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// The ISO 4217 codes Stripe takes for prices (lower case, as its API writes them).
const SUPPORTED: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
    "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb",
    "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg",
    "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "krw",
    "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mmk",
    "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr",
    "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
    "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb",
    "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// The largest `unit_amount` Stripe takes (eight digits).
pub const MAX_UNIT_AMOUNT: i64 = 99_999_999;

/// How many decimals `currency` (ISO 4217, any case) has.
pub fn decimals(currency: &str) -> u32 {
    let currency = currency.to_ascii_lowercase();
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&currency.as_str()) {
        3
    } else {
        2
    }
}

/// The code as Stripe writes it (`USD` → `usd`), if Stripe takes it.
pub fn supported(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_lowercase();
    SUPPORTED.contains(&code.as_str()).then_some(code)
}

/// `"12.50"` USD → `1250`; `"1200"` JPY → `1200`. Refuses a sign, an exponent, more
/// decimals than the currency has (Stripe would round, and the seller did not mean it),
/// and amounts past [`MAX_UNIT_AMOUNT`]. A three-decimal currency's amount must end in 0:
/// Stripe takes those in tens of the minor unit.
pub fn minor_units(price: &str, currency: &str) -> Result<i64, String> {
    let price = price.trim();
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || price.ends_with('.') {
        return Err(format!(
            "bad price `{price}`: write a number in {} such as 12.50",
            currency.to_ascii_uppercase()
        ));
    }
    let places = decimals(currency);
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > places as usize {
        return Err(match places {
            0 => format!(
                "bad price `{price}`: {} has no decimals",
                currency.to_ascii_uppercase()
            ),
            n => format!(
                "bad price `{price}`: {} has {n} decimals",
                currency.to_ascii_uppercase()
            ),
        });
    }
    let padded = format!("{whole}{fraction:0<width$}", width = places as usize);
    let significant = padded.trim_start_matches('0');
    // Past 12 digits it is over the limit anyway, and parsing it could overflow.
    let amount = match significant.len() {
        0 => Some(0),
        1..=12 => significant.parse::<i64>().ok(),
        _ => None,
    };
    match amount {
        Some(amount) if amount <= MAX_UNIT_AMOUNT => {
            if places == 3 && amount % 10 != 0 {
                return Err(format!(
                    "bad price `{price}`: Stripe takes {} in steps of 0.010",
                    currency.to_ascii_uppercase()
                ));
            }
            Ok(amount)
        }
        _ => Err(format!(
            "bad price `{price}`: over Stripe's limit of {MAX_UNIT_AMOUNT} in the smallest unit"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_prices_are_counted_in_cents() {
        assert_eq!(minor_units("12.50", "usd"), Ok(1250));
        assert_eq!(minor_units("12.5", "eur"), Ok(1250));
        assert_eq!(minor_units("12", "gbp"), Ok(1200));
        assert_eq!(minor_units(" 0.05 ", "usd"), Ok(5));
        assert_eq!(minor_units("0", "usd"), Ok(0));
        assert_eq!(minor_units("0.00", "usd"), Ok(0));
        assert_eq!(
            minor_units("19.990", "usd"),
            Ok(1999),
            "trailing zeros are no decimals"
        );
        assert_eq!(minor_units("999999.99", "usd"), Ok(MAX_UNIT_AMOUNT));
    }

    #[test]
    fn zero_decimal_currencies_take_whole_units() {
        assert_eq!(minor_units("1200", "jpy"), Ok(1200));
        assert_eq!(minor_units("1200", "JPY"), Ok(1200));
        assert_eq!(minor_units("50000", "krw"), Ok(50_000));
        assert_eq!(minor_units("1200.00", "jpy"), Ok(1200));
        let err = minor_units("1200.5", "jpy").unwrap_err();
        assert!(err.contains("JPY has no decimals"), "{err}");
    }

    #[test]
    fn three_decimal_currencies_take_tens_of_the_minor_unit() {
        assert_eq!(minor_units("1.23", "kwd"), Ok(1230));
        assert_eq!(minor_units("1.230", "kwd"), Ok(1230));
        assert!(
            minor_units("1.234", "kwd")
                .unwrap_err()
                .contains("steps of 0.010")
        );
        assert!(
            minor_units("1.2345", "bhd")
                .unwrap_err()
                .contains("3 decimals")
        );
    }

    #[test]
    fn bad_prices_are_refused_with_the_reason() {
        for bad in [
            "", "abc", "-1", "+1", "1e3", "1,50", "12.", ".5", "1.2.3", "12 .5",
        ] {
            let err = minor_units(bad, "usd").unwrap_err();
            assert!(err.starts_with("bad price"), "{bad}: {err}");
        }
        assert!(
            minor_units("12.345", "usd")
                .unwrap_err()
                .contains("USD has 2 decimals")
        );
        assert!(minor_units("1000000", "usd").unwrap_err().contains("limit"));
        assert!(
            minor_units("99999999999999999999999", "jpy")
                .unwrap_err()
                .contains("limit")
        );
    }

    #[test]
    fn only_the_currencies_stripe_takes_are_supported() {
        assert_eq!(supported("USD").as_deref(), Some("usd"));
        assert_eq!(supported(" jpy ").as_deref(), Some("jpy"));
        assert_eq!(supported("xyz"), None);
        assert_eq!(supported("us"), None);
        assert!(
            ZERO_DECIMAL
                .iter()
                .chain(THREE_DECIMAL)
                .all(|c| SUPPORTED.contains(c))
        );
    }
}
