//! Opening the database and running migrations, the same way on SQLite and PostgreSQL.
//!
//! [`probe`] tells why a database cannot be used; [`wait_until_reachable`] waits out one
//! that is not up yet (a compose stack starts the service before its database).

pub mod probe;

use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use self::probe::{ConnectError, Options};
use crate::config::Settings;

/// First pause between connection attempts at start-up; doubled after each, up to
/// [`LONGEST_RETRY`], so a long wait logs a line every few seconds, not many a second.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(8);

/// Tries one connection until it succeeds, a permanent error (bad credentials, unknown
/// database, unsupported URL) occurs, or `settings.database_connect_timeout` has passed.
/// `on_retry` hears of each failed attempt that will be retried: its number, the error and
/// the pause before the next.
pub async fn wait_until_reachable(
    settings: &Settings,
    mut on_retry: impl FnMut(u32, &ConnectError, Duration),
) -> Result<(), ConnectError> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        create_sqlite_folder(&url).map_err(|err| ConnectError {
            target: Options::parse(&url)
                .ok()
                .map(|options| options.target().to_string()),
            cause: format!("cannot create its folder: {err}"),
            fix: "check DATA_DIR (or the path in DATABASE_URL) is writable by this user",
            transient: false,
            step: None,
        })?;
    }
    let options = Options::parse(&url)?;
    let deadline = Instant::now() + settings.database_connect_timeout;
    let mut pause = FIRST_RETRY;
    for attempt in 1.. {
        let err = match options.probe().await {
            Ok(()) => return Ok(()),
            Err(err) if !err.transient => return Err(err),
            Err(err) => err,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let waited = settings.database_connect_timeout.as_secs();
            return Err(ConnectError {
                cause: format!("{}, still failing after {waited} s", err.cause),
                ..err
            });
        }
        let pause_now = pause.min(left);
        on_retry(attempt, &err, pause_now);
        tokio::time::sleep(pause_now).await;
        pause = (pause * 2).min(LONGEST_RETRY);
    }
    unreachable!("the attempts never run out")
}

/// What a failed step after the first connection means (`step` such as "migrating"), in
/// the words of [`ConnectError`]: where, the cause once, and the fix (a role without
/// `CREATE` is the usual one).
pub fn step_failed(settings: &Settings, step: &'static str, err: &DbErr) -> ConnectError {
    let target = Options::parse(&settings.database_url())
        .ok()
        .map(|options| options.target().to_string());
    let (cause, fix) = match database_error(err) {
        Some((code, message)) => (message, probe::postgres_fix(&code).0),
        None => (
            err.to_string(),
            "check the database server's log; `payments migrate` retries",
        ),
    };
    ConnectError {
        target,
        cause,
        fix,
        transient: false,
        step: Some(step),
    }
}

/// The code and message the database server gave, when it gave one.
fn database_error(err: &DbErr) -> Option<(String, String)> {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(inner))
    | DbErr::Query(RuntimeErr::SqlxError(inner))
    | DbErr::Conn(RuntimeErr::SqlxError(inner))) = err
    else {
        return None;
    };
    let db = inner.as_database_error()?;
    let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
    Some((code, db.message().to_owned()))
}

/// Prepared statements each SQLite connection keeps (sqlx's default is 100). The apply's
/// claims, reads and upserts have one shape per number of rows, and a prepared multi-row
/// upsert holds its whole program in the connection's memory: with 100 per connection,
/// a 20,000-store spike peaked at 262-264 MiB over 16 connections, with 24 at 240-245
/// (`tools/loadgen/overload.sh`), and drained no slower. The statements of the steady
/// paths are far fewer than this.
const SQLITE_STATEMENT_CACHE: usize = 24;

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
                .statement_cache_capacity(SQLITE_STATEMENT_CACHE)
        });
    Database::connect(options).await
}

/// The session lock `migrate` takes on PostgreSQL, keyed by the schema.
const TAKE_MIGRATION_LOCK: &str =
    "SELECT pg_advisory_lock(hashtextextended('payments migrations in ' || current_schema(), 0))";

/// Applies every pending migration. On PostgreSQL, replicas starting together (a compose
/// stack, a rollout) take turns: each holds a session advisory lock while it migrates, so
/// the second finds the migrations applied instead of racing the first one's `CREATE
/// TABLE`s. The lock is held on a connection of its own, outside the pool (which may have
/// one connection), and the migrations keep their own transactions (some build indexes
/// `CONCURRENTLY`, which no transaction may hold). The lock's key is the schema's, so
/// services in other schemas of the database do not wait. SQLite has one writer on one
/// machine.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let mut lock = options.connect().await.map_err(sqlx_error)?;
    sqlx::query(TAKE_MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(sqlx_error)?;
    let migrated = Migrator::up(db, None).await;
    // Closing the session releases the lock, whatever the migrations did.
    lock.close().await.map_err(sqlx_error)?;
    migrated
}

fn sqlx_error(err: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into()))
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

/// Creates the folder of a SQLite URL's file (nothing for other URLs or `:memory:`).
pub fn create_sqlite_folder(url: &str) -> std::io::Result<()> {
    if !url.starts_with("sqlite:") {
        return Ok(());
    }
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

/// Migrations the database has not applied yet, by name.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let pending = Migrator::get_pending_migrations(db).await?;
    Ok(pending.iter().map(|m| m.name().to_owned()).collect())
}

/// Writes an event row and reads it back inside a transaction that is rolled back: the
/// role can write the inbox, and nothing is left behind.
pub async fn write_and_read_back(db: &DatabaseConnection) -> Result<(), DbErr> {
    use entity::webhook_event;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, TransactionTrait};
    let id = "evt_payments_doctor_write_check";
    let txn = db.begin().await?;
    let row = webhook_event::Model {
        id: id.to_owned(),
        event_type: "payments.doctor".to_owned(),
        account: None,
        store_key: "platform".to_owned(),
        livemode: false,
        api_version: None,
        object_id: None,
        payload: "{}".to_owned(),
        status: entity::status::EventStatus::Ignored,
        attempts: 0,
        last_error: None,
        created: 0,
        created_at: chrono::Utc::now(),
        processed_at: None,
        body_conflicts: 0,
    };
    row.into_active_model().insert(&txn).await?;
    let found = webhook_event::Entity::find_by_id(id).one(&txn).await?;
    txn.rollback().await?;
    match found {
        Some(_) => Ok(()),
        None => Err(DbErr::RecordNotFound("the row just written".to_owned())),
    }
}

/// Whether the stored events include live ones and test ones: `(live, test)`.
pub async fn modes_in_data(db: &DatabaseConnection) -> Result<(bool, bool), DbErr> {
    use entity::webhook_event::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let any = |live: bool| Entity::find().filter(Column::Livemode.eq(live)).one(db);
    Ok((any(true).await?.is_some(), any(false).await?.is_some()))
}

/// Every connection of `pool` is open and in use.
fn is_full<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> bool {
    pool.size() >= pool.options().get_max_connections() && pool.num_idle() == 0
}

/// Whether `err` is a wait for a pooled connection that timed out while every connection
/// was open and in use: the service's own load, not an outage (when the database is down
/// the pool cannot keep its connections open, and is not full).
pub fn is_pool_contention(err: &DbErr, db: &DatabaseConnection) -> bool {
    use sea_orm::{ConnAcquireErr, DbBackend, RuntimeErr, sqlx};
    let timed_out = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            matches!(inner.as_ref(), sqlx::Error::PoolTimedOut)
        }
        _ => false,
    };
    timed_out
        && match db.get_database_backend() {
            DbBackend::Postgres => is_full(db.get_postgres_connection_pool()),
            DbBackend::Sqlite => is_full(db.get_sqlite_connection_pool()),
            _ => false,
        }
}

/// Serializes the transactions that write a store's rows (the actors' batches, a
/// storefront checkout) across replicas, until the transaction ends (PostgreSQL only; a
/// SQLite database has one writer at a time).
pub async fn lock_store(txn: &impl ConnectionTrait, store_key: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [store_key.into()],
    ))
    .await
    .map(drop)
}
