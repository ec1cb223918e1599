//! Log output: readable lines in development, one JSON object per line in production.

pub mod throttle;

use tracing_subscriber::EnvFilter;

/// The level when `RUST_LOG` is not set.
const DEFAULT_LEVEL: &str = "info";

/// Targets kept at `warn` whatever `RUST_LOG` says, unless it names them itself: at debug
/// and trace the database drivers log every statement with its bound values, which are
/// webhook payloads full of customer e-mails, phones and addresses. An operator who needs
/// them asks by name (`RUST_LOG=debug,sqlx=debug`).
const QUIET_TARGETS: &[&str] = &["sqlx", "sea_orm", "sea_orm_migration", "sea_query"];

/// What a log line quotes of a client's input: at most `max` bytes of `text` (cut on a
/// character boundary), then how long it was, so one request cannot write a huge line.
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    format!("{}… ({} bytes)", &text[..end], text.len()).into()
}

/// Installs the global subscriber writing to stdout. Later calls do nothing.
pub fn init(json: bool) {
    let filter = EnvFilter::new(filter_directives(std::env::var("RUST_LOG").ok().as_deref()));
    use std::io::IsTerminal;
    // Colours only on a terminal: log files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// `RUST_LOG` (or the default level), then `warn` for each quiet target it does not name.
fn filter_directives(rust_log: Option<&str>) -> String {
    let base = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_LEVEL);
    let mut directives = base.to_owned();
    for target in QUIET_TARGETS {
        let named = base.split(',').any(|directive| {
            let name = directive
                .split(['=', '['])
                .next()
                .unwrap_or_default()
                .trim();
            name == *target || name.starts_with(&format!("{target}::"))
        });
        if !named {
            directives.push_str(&format!(",{target}=warn"));
        }
    }
    directives
}

/// An error and its causes on one line, each said once: drivers often repeat their
/// source in their own message, which `{:#}` would print twice.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::{clip, filter_directives};

    #[test]
    fn long_input_is_cut_on_a_character_boundary() {
        assert_eq!(clip("/orders", 120), "/orders");
        assert_eq!(clip(&"é".repeat(100), 5), "éé… (200 bytes)");
    }

    #[test]
    fn database_targets_stay_at_warn_unless_named() {
        assert_eq!(
            filter_directives(None),
            "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,sea_query=warn"
        );
        assert_eq!(
            filter_directives(Some("trace")),
            "trace,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,sea_query=warn"
        );
        let named = filter_directives(Some("debug,sqlx::query=debug"));
        assert!(
            named.starts_with("debug,sqlx::query=debug,sea_orm=warn"),
            "{named}"
        );
        assert!(!named.contains("sqlx=warn"), "{named}");
    }
}
