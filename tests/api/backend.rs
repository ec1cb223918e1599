//! Guards against a CI run that silently tests the wrong database.

use sea_orm::DbBackend;

use crate::helpers::{postgres_url, spawn_app};

#[tokio::test]
async fn tests_run_on_the_requested_database_backend() {
    let app = spawn_app().await;
    let expected = if postgres_url().is_some() {
        DbBackend::Postgres
    } else {
        DbBackend::Sqlite
    };
    assert_eq!(app.db.get_database_backend(), expected);
    if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        assert_eq!(
            expected,
            DbBackend::Postgres,
            "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
        );
    }
}
