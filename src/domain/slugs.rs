//! A shop's readable address, `/shop/{slug}`, from the store's name: lowercase ASCII
//! letters, digits and single hyphens, accents folded (`Café Crème` is `cafe-creme`), at
//! most [`MAX_LEN`] characters. Slugs never contain `_`, so one is never taken for an
//! account id (`acct_...`) or `platform`.
//!
//! Which slug a store gets depends on which stores took theirs first (see
//! `store::slugs`): [`candidates`] lists, in order, what a store may take.

/// The longest slug.
pub const MAX_LEN: usize = 60;

/// The name as a slug, or `None` when it has no letter or digit this can spell.
pub fn slugify(name: &str) -> Option<String> {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded = fold(c);
        let letters = match folded {
            Some(text) => text,
            None if c.is_ascii_alphanumeric() => {
                slug.push(c);
                continue;
            }
            None => "-",
        };
        for l in letters.chars() {
            if l != '-' || !(slug.is_empty() || slug.ends_with('-')) {
                slug.push(l);
            }
        }
    }
    let slug = cut(slug.trim_end_matches('-'), MAX_LEN);
    (!slug.is_empty()).then_some(slug)
}

/// The slugs a store of account `account` named `base` (a [`slugify`] result) may take, in
/// order: `base`, then `base` with a short suffix from the account id, then with the
/// whole id, so that two stores of the same name get different, stable slugs.
pub fn candidates(base: &str, account: &str) -> Vec<String> {
    let id: String = account
        .strip_prefix("acct_")
        .unwrap_or(account)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let short = &id[id.len().saturating_sub(6)..];
    let mut slugs = vec![cut(base, MAX_LEN)];
    for suffix in [short, id.as_str()] {
        if suffix.is_empty() {
            continue;
        }
        let room = MAX_LEN.saturating_sub(suffix.len() + 1);
        let slug = format!("{}-{suffix}", cut(base, room));
        if !slugs.contains(&slug) {
            slugs.push(slug);
        }
    }
    slugs
}

/// The first `max` characters of an ASCII slug, without a trailing hyphen.
fn cut(slug: &str, max: usize) -> String {
    slug[..slug.len().min(max)].trim_end_matches('-').to_owned()
}

/// The ASCII spelling of a lowercase accented Latin letter; `None` for anything else.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        '&' => "-and-",
        '\'' | '’' => "",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_lowercase_ascii_words_joined_by_single_hyphens() {
        let cases = [
            ("Rosen Threads", Some("rosen-threads")),
            ("  Café Crème -- Paris!  ", Some("cafe-creme-paris")),
            ("Björk & Søn's Æble", Some("bjork-and-sons-aeble")),
            ("Łódź Straße", Some("lodz-strasse")),
            ("ACME_2024", Some("acme-2024")),
            ("東京", None),
            ("---", None),
            ("", None),
        ];
        for (name, slug) in cases {
            assert_eq!(slugify(name).as_deref(), slug, "{name}");
        }
    }

    #[test]
    fn slugs_are_at_most_60_characters_without_a_trailing_hyphen() {
        let slug = slugify(&"word ".repeat(30)).unwrap();
        assert!(slug.len() <= MAX_LEN, "{slug}");
        assert!(!slug.ends_with('-') && slug.starts_with("word-word"));
        assert_eq!(slugify(&"x".repeat(100)).unwrap().len(), MAX_LEN);
    }

    #[test]
    fn candidates_add_a_suffix_from_the_account_id() {
        assert_eq!(
            candidates("rosen-threads", "acct_1PgafTB7WZ01zgkW"),
            [
                "rosen-threads",
                "rosen-threads-01zgkw",
                "rosen-threads-1pgaftb7wz01zgkw"
            ]
            .map(String::from)
        );
        for slug in candidates(&"y".repeat(MAX_LEN), "acct_1PgafTB7WZ01zgkW") {
            assert!(slug.len() <= MAX_LEN, "{slug}");
        }
    }
}
