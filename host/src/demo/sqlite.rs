//! The demo's embedded database: an SQLite file with a `users` table and sample people.

use std::path::Path;

use anyhow::Context;

use super::users::SAMPLE_USERS;

/// Creates `db` with the sample users unless it already exists.
pub fn create_database(db: &Path) -> anyhow::Result<()> {
    if db.exists() {
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    rt.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(true)
            .connect()
            .await
            .with_context(|| format!("cannot create {}", db.display()))?;
        sqlx::query(
            "CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                userName TEXT NOT NULL UNIQUE,
                givenName TEXT,
                surname TEXT,
                mail TEXT,
                externalId TEXT,
                disabled BOOLEAN DEFAULT 0
            )",
        )
        .execute(&mut conn)
        .await
        .context("cannot create the users table")?;
        // The database assigns the anchor (id), as most real user tables do.
        for (_login, given, sur, mail) in SAMPLE_USERS {
            sqlx::query("INSERT INTO users (userName, givenName, surname, mail, disabled) VALUES (?, ?, ?, ?, 0)")
                .bind(mail)
                .bind(given)
                .bind(sur)
                .bind(mail)
                .execute(&mut conn)
                .await
                .context("cannot insert a sample user")?;
        }
        anyhow::Ok(())
    })
}
