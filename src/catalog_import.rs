//! Product upload: a seller's catalogue from a CSV or JSON file to their connected account
//! on Stripe, shared by `payments products import`, the admin API
//! (`POST /stores/{id}/products`) and the console.
//!
//! [`rows`] reads and checks the file; [`upload`] sends each good row to Stripe. The
//! service never writes its own product rows here: Stripe's `product.*` and `price.*`
//! webhooks bring the imported catalogue into the store, as for any other change.
//!
//! A bad row is reported with its place and reason and the others still go; only what would
//! fail every row (Stripe unreachable, the key or the account refused) stops the import.

pub mod rows;
pub mod upload;

use crate::stripe::api::{Client, StripeError};
pub use rows::{FileError, Format};
pub use upload::Status;

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The CSV line or JSON item, 1-based.
    pub line: usize,
    pub status: Status,
    pub product: Option<String>,
    pub price: Option<String>,
    /// Why it failed (`status` is `failed`).
    pub error: Option<String>,
}

/// Every row's result, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub format: Format,
    pub results: Vec<RowResult>,
}

impl Report {
    /// How many rows ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// `3 created, 1 updated, 0 unchanged, 2 failed`.
    pub fn summary(&self) -> String {
        format!(
            "{} created, {} updated, {} unchanged, {} failed",
            self.count(Status::Created),
            self.count(Status::Updated),
            self.count(Status::Unchanged),
            self.count(Status::Failed)
        )
    }

    /// `line 4: missing name`, one per failed row.
    pub fn failures(&self) -> impl Iterator<Item = String> + '_ {
        let place = self.format.place();
        self.results.iter().filter_map(move |result| {
            let error = result.error.as_deref()?;
            Some(format!("{place} {}: {error}", result.line))
        })
    }
}

/// The import stopped: Stripe cannot be used at all. `done` holds the rows sent before.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Stopped {
    pub error: StripeError,
    pub done: Report,
}

/// Whether `err` would fail every further row too: no answer, or the key or the connected
/// account refused.
fn stops_the_import(err: &StripeError) -> bool {
    match err {
        StripeError::Unreachable { .. } => true,
        StripeError::Api { status, .. } => matches!(status, 401 | 403),
        StripeError::Decode(_) => false,
    }
}

/// Why an import did not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not rows; nothing was sent.
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{0}")]
    Stopped(#[from] Stopped),
}

/// Reads `bytes` and uploads each good row to `store`, in file order; `progress` hears the
/// number of rows done after each.
pub async fn import(
    client: &Client,
    store: &str,
    bytes: &[u8],
    format: Format,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report, ImportError> {
    let rows = rows::parse(bytes, format)?;
    let total = rows.len();
    let mut report = Report {
        format,
        results: Vec::with_capacity(total),
    };
    for row in rows {
        let result = match row {
            Err(bad) => failed(bad.line, bad.reason),
            Ok(row) => match upload::upload(client, store, &row).await {
                Ok(done) => RowResult {
                    line: row.line,
                    status: done.status,
                    product: Some(done.product),
                    price: done.price,
                    error: None,
                },
                Err(error) if stops_the_import(&error) => {
                    let done = report;
                    return Err(Stopped { error, done }.into());
                }
                Err(error) => failed(row.line, format!("Stripe refused it: {}", refusal(&error))),
            },
        };
        report.results.push(result);
        progress(report.results.len(), total);
    }
    Ok(report)
}

fn failed(line: usize, reason: String) -> RowResult {
    RowResult {
        line,
        status: Status::Failed,
        product: None,
        price: None,
        error: Some(reason),
    }
}

/// Stripe's own message (it names the parameter), without the HTTP details.
fn refusal(err: &StripeError) -> String {
    match err {
        StripeError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
