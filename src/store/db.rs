//! Opening the database and running migrations, the same way on SQLite and PostgreSQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use crate::config::Settings;

/// Connects to the configured database, creating the SQLite folder if needed.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    connect_pool(settings, settings.database_max_connections).await
}

/// Opens a pool of at most `max_connections` connections to the configured database.
pub async fn connect_pool(
    settings: &Settings,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        create_sqlite_folder(&url).map_err(|err| DbErr::Custom(err.to_string()))?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(settings.database_acquire_timeout_secs))
        .acquire_timeout(Duration::from_secs(settings.database_acquire_timeout_secs))
        // sqlx logs every statement at INFO otherwise.
        .sqlx_logging(false)
        // WAL lets readers run beside the single writer; the busy timeout makes concurrent
        // writers queue instead of failing with SQLITE_BUSY.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers and every migration is applied: `Err` names the failing check.
pub async fn readiness(db: &DatabaseConnection) -> Result<(), &'static str> {
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|_| "database")?;
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => Ok(()),
        _ => Err("migrations"),
    }
}

fn create_sqlite_folder(url: &str) -> std::io::Result<()> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// Whether `err` means the database could not be reached (an outage to wait out) rather
/// than a statement that failed (which counts against the event).
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            matches!(
                inner.as_ref(),
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ) || is_sqlite_busy(inner)
        }
        _ => false,
    }
}

/// SQLite's "database is locked": another writer held the lock past the busy timeout.
fn is_sqlite_busy(err: &sea_orm::sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "5" || code == "6")
}
