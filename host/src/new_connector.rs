//! `ecma-host new-connector NAME [--dir DIR]`: a standalone connector crate, from the template
//! kept in `plugin-api/template/` (built and tested out of tree by
//! `plugin-api/template/check.sh`).
//!
//! The crate needs nothing from this repository: its own `Cargo.toml` (no workspace
//! inheritance, a `[workspace]` of its own), plugin-api by the version this host was built
//! against, the minimum Rust version stated, a skeleton connector that compiles, a README,
//! and a test that runs the connector kit.

use std::path::{Path, PathBuf};

/// The template's files: where each goes in the new crate, and its text.
const FILES: [(&str, &str); 4] = [
    (
        "Cargo.toml",
        include_str!("../../plugin-api/template/Cargo.toml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../plugin-api/template/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../plugin-api/template/src/lib.rs"),
    ),
    (
        "tests/kit.rs",
        include_str!("../../plugin-api/template/tests/kit.rs"),
    ),
];

/// Why a connector crate could not be generated. `Display` is the one-line message.
#[derive(Debug)]
pub enum NewConnectorError {
    BadName(String),
    Exists(PathBuf),
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

// Written out rather than derived: the file depends on std and plugin-api alone, so the tests
// crate compiles it as it is.
impl std::fmt::Display for NewConnectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadName(name) => write!(
                f,
                "'{name}' is not a connector name: use ASCII letters, digits, '-' and '_', \
                 starting with a letter"
            ),
            Self::Exists(path) => write!(
                f,
                "{} already exists; choose another name or --dir",
                path.display()
            ),
            Self::Write { path, source } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for NewConnectorError {}

/// Generates the crate `NAME` in `dir/NAME` and returns that folder.
pub fn new_connector(name: &str, dir: &Path) -> Result<PathBuf, NewConnectorError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(NewConnectorError::BadName(name.to_owned()));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(NewConnectorError::Exists(root));
    }
    let lib = name.replace('-', "_");
    let type_name = format!("{}Connector", camel_case(name));
    let fill = |text: &str| {
        text.replace("{{crate}}", name)
            .replace("{{name}}", name)
            .replace("{{lib}}", &lib)
            .replace("{{type}}", &type_name)
            .replace("{{api_version}}", plugin_api::PLUGIN_API_VERSION)
            .replace("{{rust_version}}", env!("CARGO_PKG_RUST_VERSION"))
    };
    for (relative, text) in FILES {
        let path = root.join(relative);
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, fill(text))
        };
        write().map_err(|source| NewConnectorError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(root)
}

/// `json-files` → `JsonFiles`.
fn camel_case(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_a_crate_a_library_and_a_type() {
        let dir = tempfile::tempdir().unwrap();
        let root = new_connector("json-files", dir.path()).unwrap();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"json-files\""), "{manifest}");
        assert!(
            manifest.contains(&format!(
                "plugin-api = \"{}\"",
                plugin_api::PLUGIN_API_VERSION
            )),
            "{manifest}"
        );
        assert!(
            !manifest.contains(".workspace") && !manifest.contains("{{"),
            "{manifest}"
        );
        let test = std::fs::read_to_string(root.join("tests/kit.rs")).unwrap();
        assert!(
            test.contains("use json_files::JsonFilesConnector;"),
            "{test}"
        );
        assert!(matches!(
            new_connector("json-files", dir.path()),
            Err(NewConnectorError::Exists(_))
        ));
        assert!(matches!(
            new_connector("../x", dir.path()),
            Err(NewConnectorError::BadName(_))
        ));
    }
}
