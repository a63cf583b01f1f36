//! The demo's embedded database: an SQLite file with a `users` table and sample people.

use std::path::Path;

use anyhow::Context;

use super::users::SAMPLE_USERS;

/// Creates `db` with the sample users unless it already exists; a database from an older
/// demo gets the columns added since.
pub fn create_database(db: &Path) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    if db.exists() {
        return rt.block_on(upgrade(db));
    }
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
                displayName TEXT,
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
            sqlx::query("INSERT INTO users (userName, givenName, surname, displayName, mail, disabled) VALUES (?, ?, ?, ?, ?, 0)")
                .bind(mail)
                .bind(given)
                .bind(sur)
                .bind(format!("{given} {sur}"))
                .bind(mail)
                .execute(&mut conn)
                .await
                .context("cannot insert a sample user")?;
        }
        anyhow::Ok(())
    })
}

/// Adds `displayName` to a demo database made before the demo mapped it.
async fn upgrade(db: &Path) -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Row};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", db.display()))?;
    let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info('users')")
        .fetch_all(&mut conn)
        .await
        .context("cannot read the users table")?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    if !columns
        .iter()
        .any(|c| c.eq_ignore_ascii_case("displayName"))
    {
        sqlx::query("ALTER TABLE users ADD COLUMN displayName TEXT")
            .execute(&mut conn)
            .await
            .context("cannot add displayName to the users table")?;
        sqlx::query("UPDATE users SET displayName = TRIM(COALESCE(givenName, '') || ' ' || COALESCE(surname, ''))")
            .execute(&mut conn)
            .await
            .context("cannot fill displayName")?;
    }
    Ok(())
}
