//! One direct connection to the configured database, and what its failure means to an
//! operator: where the database is (never the password), the cause said once, the likely
//! fix, and whether waiting can help.
//!
//! A pool hides the cause (its first connection fails inside the pool and the caller sees
//! only "pool timed out"), so start-up and `payments doctor` open one connection of their
//! own first.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection};

/// The URL schemes the service can use.
pub const SUPPORTED_SCHEMES: &str = "sqlite://, postgres:// or postgresql://";

/// Longest wait for one connection attempt: a host that drops packets must not hold the
/// start-up past its own deadline.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The database a URL names, as messages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite {
        path: String,
    },
    Postgres {
        host: String,
        port: u16,
        database: String,
        user: String,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => write!(f, "SQLite at {path}"),
            Self::Postgres {
                host,
                port,
                database,
                user,
            } => write!(
                f,
                "PostgreSQL at {host}:{port} (database \"{database}\", user \"{user}\")"
            ),
        }
    }
}

/// Why the database cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// The database, as [`Target`] shows it; `None` when the URL itself could not be read.
    pub target: Option<String>,
    /// What the database or the network said, once.
    pub cause: String,
    /// What to do about it.
    pub fix: &'static str,
    /// Whether a later attempt may succeed (the server is starting, unreachable for now),
    /// as opposed to a setting that must be changed first.
    pub transient: bool,
    /// What failed after connecting (such as "migrating"); `None`: connecting did.
    pub step: Option<&'static str>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.target, self.step) {
            (Some(target), None) => write!(f, "cannot connect to {target}: {}", self.cause)?,
            (Some(target), Some(step)) => write!(f, "{step} {target} failed: {}", self.cause)?,
            (None, _) => write!(f, "DATABASE_URL cannot be used: {}", self.cause)?,
        }
        write!(f, " — {}", self.fix)
    }
}

impl std::error::Error for ConnectError {}

/// Parsed connection options, with the target they name.
pub enum Options {
    Sqlite(Box<SqliteConnectOptions>),
    Postgres(Box<PgConnectOptions>),
}

impl Options {
    /// Reads `url`; an unsupported scheme or an unreadable URL is a permanent error.
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        let permanent = |cause: String, fix| ConnectError {
            target: None,
            cause,
            fix,
            transient: false,
            step: None,
        };
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => SqliteConnectOptions::from_str(url)
                .map(|options| Self::Sqlite(Box::new(options)))
                .map_err(|err| permanent(err.to_string(), "fix DATABASE_URL")),
            Some("postgres" | "postgresql") => PgConnectOptions::from_str(url)
                .map(|options| Self::Postgres(Box::new(options)))
                .map_err(|_| {
                    let cause = "not a valid PostgreSQL URL".to_owned();
                    permanent(cause, "use postgres://user:password@host:5432/database")
                }),
            _ => Err(unsupported_scheme(scheme)),
        }
    }

    /// The database these options name.
    pub fn target(&self) -> Target {
        match self {
            Self::Sqlite(options) => Target::Sqlite {
                path: options.get_filename().display().to_string(),
            },
            Self::Postgres(options) => Target::Postgres {
                host: match options.get_socket() {
                    Some(socket) => socket.display().to_string(),
                    None => options.get_host().to_owned(),
                },
                port: options.get_port(),
                database: options
                    .get_database()
                    .unwrap_or(options.get_username())
                    .to_owned(),
                user: options.get_username().to_owned(),
            },
        }
    }

    /// Opens one connection and closes it again.
    pub async fn probe(&self) -> Result<(), ConnectError> {
        let attempt = async {
            match self {
                Self::Sqlite(options) => options.connect().await?.close().await,
                Self::Postgres(options) => options.connect().await?.close().await,
            }
        };
        let outcome = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await;
        let target = Some(self.target().to_string());
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(ConnectError {
                target,
                ..classify(&err, matches!(self, Self::Sqlite(_)))
            }),
            Err(_) => Err(ConnectError {
                target,
                cause: format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()),
                fix: "check the host and port in DATABASE_URL and that a firewall lets the \
                      connection through",
                transient: true,
                step: None,
            }),
        }
    }
}

/// The error of a URL whose scheme the service cannot use.
pub fn unsupported_scheme(scheme: Option<&str>) -> ConnectError {
    let cause = match scheme {
        Some(scheme) => format!("the scheme `{scheme}://` is not supported"),
        None => "it has no scheme".to_owned(),
    };
    ConnectError {
        target: None,
        cause,
        fix: "use sqlite://, postgres:// or postgresql://",
        transient: false,
        step: None,
    }
}

/// What a failed connection means; the target is filled in by the caller.
fn classify(err: &sqlx::Error, sqlite: bool) -> ConnectError {
    let error = |cause: String, fix, transient| ConnectError {
        target: None,
        cause,
        fix,
        transient,
        step: None,
    };
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            if sqlite {
                return error(message, SQLITE_FIX, false);
            }
            let (fix, transient) = postgres_fix(&code);
            error(message, fix, transient)
        }
        sqlx::Error::Io(io) if sqlite => error(io.to_string(), SQLITE_FIX, false),
        sqlx::Error::Io(io) => {
            let fix = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "is PostgreSQL running? Start it, or fix the host and port in DATABASE_URL"
                }
                _ => "check the host and port in DATABASE_URL and that the server is up",
            };
            error(io.to_string(), fix, true)
        }
        sqlx::Error::Tls(tls) => error(
            format!("TLS failed: {tls}"),
            "check `sslmode` in DATABASE_URL against the server's TLS set-up",
            false,
        ),
        other => error(
            other.to_string(),
            "check DATABASE_URL and the database server's log",
            true,
        ),
    }
}

const SQLITE_FIX: &str = "check that the file's folder exists and is writable by this user \
                          (DATA_DIR or the path in DATABASE_URL)";

/// The fix for a PostgreSQL error code, and whether waiting may clear it.
pub fn postgres_fix(code: &str) -> (&'static str, bool) {
    match code {
        // invalid_password
        "28P01" => ("check the user and password in DATABASE_URL", false),
        // invalid_authorization_specification: no such role, or pg_hba refuses it
        "28000" => (
            "create the role (CREATE ROLE name LOGIN) or fix the user in DATABASE_URL; \
             check pg_hba.conf allows it",
            false,
        ),
        // invalid_catalog_name
        "3D000" => (
            "create the database (createdb name) or fix its name in DATABASE_URL",
            false,
        ),
        // invalid_schema_name: no schema of the search path exists or may be used
        "3F000" => (
            "grant the role USAGE and CREATE on the schema, or fix search_path in DATABASE_URL",
            false,
        ),
        // insufficient_privilege
        "42501" => (
            "grant the role CONNECT on the database and CREATE on its schema",
            false,
        ),
        // cannot_connect_now (starting up, shutting down), too_many_connections
        "57P03" | "53300" => ("wait for the server, or check its max_connections", true),
        code if code.starts_with("08") => ("check the server is up and reachable", true),
        _ => ("check DATABASE_URL and the database server's log", false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_schemes_name_the_supported_ones() {
        for url in ["mysql://root@localhost/db", "localhost:5432", "redis://x"] {
            let err = Options::parse(url).err().unwrap();
            assert!(!err.transient);
            assert!(err.to_string().contains(SUPPORTED_SCHEMES), "{err}");
        }
    }

    #[test]
    fn postgres_target_shows_host_port_database_and_user_never_the_password() {
        let url = "postgresql://shop:hunter2@db.internal:6543/orders";
        let target = Options::parse(url).ok().unwrap().target();
        let shown = target.to_string();
        assert_eq!(
            shown,
            "PostgreSQL at db.internal:6543 (database \"orders\", user \"shop\")"
        );
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn credentials_and_missing_databases_are_permanent_and_outages_are_not() {
        assert!(!postgres_fix("28P01").1);
        assert!(!postgres_fix("28000").1);
        assert!(postgres_fix("3D000").0.contains("create the database"));
        assert!(postgres_fix("57P03").1);
        assert!(postgres_fix("08006").1);
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        let err = classify(&refused, false);
        assert!(err.transient && err.fix.contains("is PostgreSQL running"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_transient_error_naming_where() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://someone:secret@127.0.0.1:{port}/shop");
        let err = Options::parse(&url)
            .ok()
            .unwrap()
            .probe()
            .await
            .unwrap_err();
        assert!(err.transient, "{err}");
        let message = err.to_string();
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
