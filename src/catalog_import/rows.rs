//! Reading an import file into rows: CSV (a header line, then one product a line) or JSON
//! (an array of objects, or `{"products": [...]}`). Each row is checked on its own, so a
//! bad one is reported with its place and reason while the others go on; only a file that
//! cannot be read as rows at all (not CSV or JSON, no `name` column, an unknown column or
//! field, a JSON field of the wrong type, no rows) is refused as a whole.

use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::currency;

/// Images a product may have (Stripe's limit).
pub const MAX_IMAGES: usize = 8;
/// The longest metadata value Stripe keeps (the category is one).
const MAX_METADATA_VALUE: usize = 500;
/// The columns (and JSON fields) a file may have.
const COLUMNS: &[&str] = &[
    "name",
    "description",
    "images",
    "category",
    "price",
    "currency",
    "interval",
    "sku",
    "id",
];

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// The format a file name's extension says (`.csv`, `.json`).
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// How a row's place is named: a CSV file's line, a JSON array's item (1-based).
    pub fn place(self) -> &'static str {
        match self {
            Self::Csv => "line",
            Self::Json => "item",
        }
    }
}

/// Billing period of a recurring price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Some(Self::Day),
            "week" | "weekly" => Some(Self::Week),
            "month" | "monthly" => Some(Self::Month),
            "year" | "yearly" => Some(Self::Year),
            _ => None,
        }
    }
}

/// What names a product across imports: its sku, else its name (trimmed, lower case,
/// spaces collapsed), so that importing the file again finds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    Sku(String),
    Name(String),
}

/// A row ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The CSV line or JSON item, 1-based.
    pub line: usize,
    pub identity: Identity,
    pub name: String,
    pub description: Option<String>,
    pub images: Vec<String>,
    pub category: Option<String>,
    /// In the currency's smallest unit.
    pub unit_amount: i64,
    /// Lower case, one Stripe takes.
    pub currency: String,
    pub interval: Option<Interval>,
}

/// A row that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub reason: String,
}

/// Why a file cannot be read as rows at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// The fields of a row as written, before any check.
#[derive(Debug, Default)]
struct Fields {
    name: Option<String>,
    description: Option<String>,
    images: Vec<String>,
    category: Option<String>,
    price: Option<String>,
    currency: Option<String>,
    interval: Option<String>,
    sku: Option<String>,
}

/// A row's line (or item) and its fields, or why they cannot be read.
type Placed = (usize, Result<Fields, String>);

/// The rows of `bytes`, in file order, each checked (duplicates included).
pub fn parse(bytes: &[u8], format: Format) -> Result<Vec<Result<Row, RowError>>, FileError> {
    let fields = match format {
        Format::Csv => csv_fields(bytes)?,
        Format::Json => json_fields(bytes)?,
    };
    if fields.is_empty() {
        return Err(FileError("the file has no rows".to_owned()));
    }
    let rows = fields
        .into_iter()
        .map(|(line, fields)| {
            fields
                .and_then(|fields| check(line, fields))
                .map_err(|reason| RowError { line, reason })
        })
        .collect();
    Ok(without_duplicates(rows, format.place()))
}

/// The fields of each CSV record with its line; a record with more fields than the header
/// is a bad row.
fn csv_fields(bytes: &[u8]) -> Result<Vec<Placed>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|err| FileError(format!("not CSV: {err}")))?
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let columns = columns(&header)?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| FileError(format!("not CSV: {err}")))?;
        let line = record.position().map_or(0, |at| at.line() as usize);
        if record.len() > header.len() {
            let reason = format!("{} fields, the header has {}", record.len(), header.len());
            out.push((line, Err(reason)));
            continue;
        }
        let get = |name: &str| {
            columns
                .get(name)
                .and_then(|&at| record.get(at))
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let fields = Fields {
            name: get("name"),
            description: get("description"),
            images: get("images")
                .map(|text| {
                    text.split(|c: char| c == '|' || c.is_whitespace())
                        .filter(|url| !url.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            category: get("category"),
            price: get("price"),
            currency: get("currency"),
            interval: get("interval"),
            sku: get("sku"),
        };
        out.push((line, Ok(fields)));
    }
    Ok(out)
}

/// Where each known column is; an unknown column, a missing `name` or both `sku` and `id`
/// refuse the file (a misspelt column would otherwise be silently dropped).
fn columns(header: &[String]) -> Result<HashMap<&'static str, usize>, FileError> {
    let mut columns = HashMap::new();
    for (at, name) in header.iter().enumerate() {
        let Some(&known) = COLUMNS.iter().find(|known| **known == name) else {
            return Err(FileError(format!(
                "unknown column `{name}` (the columns are {})",
                COLUMNS.join(", ")
            )));
        };
        if columns.insert(known, at).is_some() {
            return Err(FileError(format!("column `{name}` appears twice")));
        }
    }
    if !columns.contains_key("name") {
        return Err(FileError("the header has no `name` column".to_owned()));
    }
    if let Some(at) = columns.remove("id") {
        if columns.contains_key("sku") {
            return Err(FileError("give `sku` or `id`, not both".to_owned()));
        }
        columns.insert("sku", at);
    }
    Ok(columns)
}

/// A JSON text or number, as a price or a sku may be written.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(number) => number.to_string(),
        }
    }
}

/// Images as a JSON array of URLs, or one text as in CSV.
#[derive(Deserialize)]
#[serde(untagged)]
enum Images {
    List(Vec<String>),
    Text(String),
}

/// One JSON item; another field, or a field of another type, refuses the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: Option<String>,
    description: Option<String>,
    images: Option<Images>,
    category: Option<String>,
    price: Option<Scalar>,
    currency: Option<String>,
    interval: Option<String>,
    sku: Option<Scalar>,
    id: Option<Scalar>,
}

/// The items of a JSON array (or of its `products` field), numbered from 1.
fn json_fields(bytes: &[u8]) -> Result<Vec<Placed>, FileError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|err| FileError(format!("not JSON: {err}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut object) if object.len() == 1 => {
            match object.remove("products") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err(not_a_list()),
            }
        }
        _ => return Err(not_a_list()),
    };
    items
        .into_iter()
        .zip(1..)
        .map(|(item, number)| {
            let item: Item = serde_json::from_value(item)
                .map_err(|err| FileError(format!("item {number}: {err}")))?;
            if item.sku.is_some() && item.id.is_some() {
                return Err(FileError(format!(
                    "item {number}: give `sku` or `id`, not both"
                )));
            }
            Ok((number, Ok(item.into())))
        })
        .collect()
}

fn not_a_list() -> FileError {
    FileError("expected an array of products, or an object with a `products` array".to_owned())
}

impl From<Item> for Fields {
    fn from(item: Item) -> Self {
        let text = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let images = match item.images {
            None => Vec::new(),
            Some(Images::List(list)) => list,
            Some(Images::Text(text)) => text
                .split(|c: char| c == '|' || c.is_whitespace())
                .filter(|url| !url.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        Self {
            name: text(item.name),
            description: text(item.description),
            images,
            category: text(item.category),
            price: item.price.map(Scalar::into_text),
            currency: text(item.currency),
            interval: text(item.interval),
            sku: text(item.sku.or(item.id).map(Scalar::into_text)),
        }
    }
}

/// A row from its fields, or every reason it cannot be imported.
fn check(line: usize, fields: Fields) -> Result<Row, String> {
    let mut reasons = Vec::new();
    let name = fields.name.map(|name| name.trim().to_owned());
    if name.is_none() {
        reasons.push("missing name".to_owned());
    }
    let currency = match fields.currency.as_deref() {
        None => {
            reasons.push("missing currency".to_owned());
            None
        }
        Some(code) => currency::supported(code).or_else(|| {
            reasons.push(format!("unknown currency `{}`", code.trim()));
            None
        }),
    };
    let unit_amount = match (&fields.price, &currency) {
        (None, _) => {
            reasons.push("missing price".to_owned());
            None
        }
        (Some(price), Some(currency)) => currency::minor_units(price, currency)
            .map_err(|reason| reasons.push(reason))
            .ok(),
        // Its unit is unknown without a currency, which is already reported.
        (Some(_), None) => None,
    };
    let interval = match fields.interval.as_deref() {
        None => None,
        Some(text) => Interval::parse(text).or_else(|| {
            reasons.push(format!(
                "bad interval `{}`: day, week, month or year",
                text.trim()
            ));
            None
        }),
    };
    if let Err(reason) = check_images(&fields.images) {
        reasons.push(reason);
    }
    let category = fields.category.map(|c| c.trim().to_owned());
    if category
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_METADATA_VALUE)
    {
        reasons.push(format!("category over {MAX_METADATA_VALUE} characters"));
    }
    match (name, currency, unit_amount) {
        (Some(name), Some(currency), Some(unit_amount)) if reasons.is_empty() => Ok(Row {
            line,
            identity: match fields.sku {
                Some(sku) => Identity::Sku(sku.trim().to_owned()),
                None => Identity::Name(normalised(&name)),
            },
            name,
            description: fields.description.map(|d| d.trim().to_owned()),
            images: fields.images,
            category,
            unit_amount,
            currency,
            interval,
        }),
        _ => Err(reasons.join("; ")),
    }
}

/// At most [`MAX_IMAGES`], each an absolute http(s) URL (Stripe fetches them).
fn check_images(images: &[String]) -> Result<(), String> {
    if images.len() > MAX_IMAGES {
        return Err(format!(
            "{} images: Stripe takes at most {MAX_IMAGES}",
            images.len()
        ));
    }
    for image in images {
        let url = reqwest::Url::parse(image).ok();
        let web = url
            .as_ref()
            .is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
        if !web {
            return Err(format!(
                "bad image URL `{image}`: give an absolute http(s) URL"
            ));
        }
    }
    Ok(())
}

/// A name as an identity: trimmed, lower case, inner spaces collapsed.
fn normalised(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The rows with every repeat of an identity refused (the first one stays): two rows of one
/// product would overwrite each other.
fn without_duplicates(rows: Vec<Result<Row, RowError>>, place: &str) -> Vec<Result<Row, RowError>> {
    let mut first: HashMap<Identity, usize> = HashMap::new();
    rows.into_iter()
        .map(|row| {
            let row = row?;
            match first.get(&row.identity) {
                None => {
                    first.insert(row.identity.clone(), row.line);
                    Ok(row)
                }
                Some(&earlier) => {
                    let reason = match &row.identity {
                        Identity::Sku(sku) => {
                            format!("duplicate sku `{sku}` (first on {place} {earlier})")
                        }
                        Identity::Name(_) => format!(
                            "duplicate product `{}` (first on {place} {earlier}); give each a sku",
                            row.name
                        ),
                    };
                    Err(RowError {
                        line: row.line,
                        reason,
                    })
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Vec<Result<Row, RowError>> {
        parse(text.as_bytes(), Format::Csv).unwrap()
    }

    fn reason(row: &Result<Row, RowError>) -> &str {
        &row.as_ref().unwrap_err().reason
    }

    #[test]
    fn a_csv_row_becomes_a_product_with_its_price_in_the_smallest_unit() {
        let rows = csv(
            "name,description,images,category,price,currency,interval,sku\n\
             Blue mug,Stoneware,https://img.example/a.png|https://img.example/b.png,Kitchen,12.50,USD,,MUG-1\n\
             Tea club,\"Monthly, by post\",,Tea,1200,jpy,Month,\n",
        );
        let mug = rows[0].as_ref().unwrap();
        assert_eq!(mug.line, 2);
        assert_eq!(mug.identity, Identity::Sku("MUG-1".into()));
        assert_eq!(mug.images.len(), 2);
        assert_eq!((mug.unit_amount, mug.currency.as_str()), (1250, "usd"));
        assert_eq!(mug.category.as_deref(), Some("Kitchen"));
        assert_eq!(mug.interval, None);
        let tea = rows[1].as_ref().unwrap();
        assert_eq!(tea.line, 3);
        assert_eq!(tea.identity, Identity::Name("tea club".into()));
        assert_eq!(tea.description.as_deref(), Some("Monthly, by post"));
        assert_eq!((tea.unit_amount, tea.currency.as_str()), (1200, "jpy"));
        assert_eq!(tea.interval, Some(Interval::Month));
    }

    #[test]
    fn each_bad_row_is_reported_with_its_line_and_every_reason() {
        let rows = csv("name,price,currency,interval,images,id\n\
             Good,1.00,usd,,,\n\
             ,1.00,usd,,,\n\
             Bad price,12.345,usd,,,\n\
             Yen,10.5,jpy,,,\n\
             Money,1,xyz,,,\n\
             Often,1,usd,hourly,,\n\
             Picture,1,usd,,ftp://x/y.png,\n\
             Many,1,usd,,a b,\n\
             ,abc,,,,\n\
             Too,many,fields,here,,,\n");
        assert!(rows[0].is_ok());
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert_eq!(reason(&rows[1]), "missing name");
        assert!(reason(&rows[2]).contains("USD has 2 decimals"));
        assert!(reason(&rows[3]).contains("JPY has no decimals"));
        assert_eq!(reason(&rows[4]), "unknown currency `xyz`");
        assert!(reason(&rows[5]).starts_with("bad interval `hourly`"));
        assert!(reason(&rows[6]).starts_with("bad image URL `ftp://x/y.png`"));
        assert!(reason(&rows[7]).starts_with("bad image URL `a`"));
        assert_eq!(reason(&rows[8]), "missing name; missing currency");
        assert_eq!(rows[9].as_ref().unwrap_err().line, 11);
        assert!(reason(&rows[9]).contains("7 fields"));
    }

    #[test]
    fn at_most_eight_images() {
        let urls: Vec<String> = (0..9)
            .map(|n| format!("https://i.example/{n}.png"))
            .collect();
        let text = format!("name,price,currency,images\nA,1,usd,{}\n", urls.join("|"));
        assert!(reason(&csv(&text)[0]).contains("at most 8"));
        let eight = format!(
            "name,price,currency,images\nA,1,usd,{}\n",
            urls[..8].join(" ")
        );
        assert_eq!(csv(&eight)[0].as_ref().unwrap().images.len(), 8);
    }

    #[test]
    fn a_repeated_sku_or_name_fails_the_later_row_only() {
        let rows = csv("name,price,currency,sku\nA,1,usd,S1\nB,1,usd,S1\nC,1,usd,\n c ,2,usd,\n");
        assert!(rows[0].is_ok() && rows[2].is_ok());
        assert_eq!(reason(&rows[1]), "duplicate sku `S1` (first on line 2)");
        assert!(reason(&rows[3]).starts_with("duplicate product `c` (first on line 4)"));
    }

    #[test]
    fn a_file_that_is_not_rows_is_refused_whole() {
        let refused = |text: &str, format| parse(text.as_bytes(), format).unwrap_err().0;
        assert!(refused("name,prise\nA,1\n", Format::Csv).contains("unknown column `prise`"));
        assert!(refused("price,currency\n1,usd\n", Format::Csv).contains("no `name` column"));
        assert!(refused("name,sku,id\n", Format::Csv).contains("not both"));
        assert_eq!(refused("name,price\n", Format::Csv), "the file has no rows");
        assert!(refused("{", Format::Json).starts_with("not JSON"));
        assert!(refused("{\"items\": []}", Format::Json).starts_with("expected an array"));
        assert_eq!(refused("[]", Format::Json), "the file has no rows");
        assert!(refused("[{\"name\": \"A\"}, 3]", Format::Json).starts_with("item 2"));
        assert!(refused("[{\"name\": \"A\", \"prise\": 1}]", Format::Json).contains("prise"));
        assert!(
            refused("[{\"name\": \"A\", \"price\": true}]", Format::Json).starts_with("item 1")
        );
    }

    #[test]
    fn json_items_are_numbered_and_take_numbers_lists_or_a_products_field() {
        let text = r#"{"products": [
            {"name": "Mug", "price": 12.5, "currency": "usd", "images": ["https://i.example/m.png"], "sku": 42},
            {"name": "Tea", "price": "1200", "currency": "JPY", "interval": "year", "images": "https://i.example/t.png"},
            {"price": "1", "currency": "usd"}
        ]}"#;
        let rows = parse(text.as_bytes(), Format::Json).unwrap();
        let mug = rows[0].as_ref().unwrap();
        assert_eq!((mug.line, mug.unit_amount), (1, 1250));
        assert_eq!(mug.identity, Identity::Sku("42".into()));
        let tea = rows[1].as_ref().unwrap();
        assert_eq!(
            (tea.line, tea.unit_amount, tea.currency.as_str()),
            (2, 1200, "jpy")
        );
        assert_eq!(tea.images, vec!["https://i.example/t.png".to_owned()]);
        assert_eq!(rows[2].as_ref().unwrap_err().line, 3);
        assert_eq!(reason(&rows[2]), "missing name");
    }

    #[test]
    fn the_format_follows_the_extension() {
        let of = |name: &str| Format::of_path(std::path::Path::new(name));
        assert_eq!(of("a.CSV"), Some(Format::Csv));
        assert_eq!(of("dir/a.json"), Some(Format::Json));
        assert_eq!(of("a.txt"), None);
    }
}
