//! The demo's sample people, for its SQLite database and its CSV file alike.

/// The sample people (Entra's documentation examples).
pub const SAMPLE_USERS: &[(&str, &str, &str, &str)] = &[
    ("adele", "Adele", "Vance", "adele@contoso.com"),
    ("alex", "Alex", "Wilber", "alex@contoso.com"),
    ("diego", "Diego", "Siciliani", "diego@contoso.com"),
    ("grady", "Grady", "Archie", "grady@contoso.com"),
    ("isaiah", "Isaiah", "Langer", "isaiah@contoso.com"),
    ("johanna", "Johanna", "Lorenz", "johanna@contoso.com"),
    ("lee", "Lee", "Gu", "lee@contoso.com"),
    ("lidia", "Lidia", "Holloway", "lidia@contoso.com"),
    ("megan", "Megan", "Bowen", "megan@contoso.com"),
    ("nestor", "Nestor", "Wilke", "nestor@contoso.com"),
];
