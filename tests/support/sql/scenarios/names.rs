//! Names as administrators type them: tables, columns and procedures configured in another
//! case than the database stores them (PostgreSQL folds unquoted names to lower case,
//! MariaDB on Linux keeps table names case-sensitive, SQLite ignores case), and one clear
//! error, reported once, for a misspelt or ambiguous name.

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;

use crate::sql::connector::{entry, export, import_all, instance, load, value_of};
use crate::sql::target::{Kind, Target};

/// Microsoft's tutorial tables, created with unquoted mixed-case names.
fn employees(t: &Target) {
    t.exec(&[
        &format!(
            "CREATE TABLE Employees (EmployeeID {}, FirstName VARCHAR(100) NOT NULL, LastName VARCHAR(100), Email VARCHAR(200))",
            t.serial_pk()
        ),
        "CREATE TABLE EmployeeGroups (EmployeeID BIGINT NOT NULL, GroupName VARCHAR(100) NOT NULL)",
        "INSERT INTO Employees (FirstName, LastName, Email) VALUES ('Ann', 'Lee', 'ann@example.com')",
        "INSERT INTO Employees (FirstName, LastName, Email) VALUES ('Bob', 'Ray', 'bob@example.com')",
        "INSERT INTO EmployeeGroups (EmployeeID, GroupName) SELECT EmployeeID, 'Sales' FROM Employees WHERE FirstName = 'Ann'",
    ]);
}

/// The table names as configured: in another case than the database stores them.
fn configured_names(t: &Target) -> (&'static str, &'static str) {
    match t.kind {
        // Stored as employees / employeegroups.
        Kind::Postgres => ("Employees", "EmployeeGroups"),
        // Stored as typed, compared case-sensitively.
        Kind::MariaDb => ("employees", "EMPLOYEEGROUPS"),
        Kind::Sqlite => ("EMPLOYEES", "employeegroups"),
    }
}

/// Every page validated the way the host validates them (each page once, Schema page 1):
/// the failures reported, as (parameter, message).
fn host_validation(
    plugin: &impl ConnectorPlugin,
    config: &ConfigParameters,
) -> Vec<(String, String)> {
    ConfigPage::ALL
        .iter()
        .filter_map(
            |page| match plugin.validate_config(config, *page, 1).unwrap() {
                ParameterValidation::Success => None,
                ParameterValidation::Failure { parameter, message } => Some((parameter, message)),
            },
        )
        .collect()
}

/// The one failure of a configuration, reported once, naming `parameter`; its message.
fn one_failure(
    plugin: &impl ConnectorPlugin,
    config: &ConfigParameters,
    parameter: &str,
) -> String {
    let failures = host_validation(plugin, config);
    assert_eq!(failures.len(), 1, "reported once: {failures:#?}");
    let (p, message) = &failures[0];
    assert_eq!(p, parameter, "{message}");
    // Nothing of the server's own error text (PostgreSQL's names a line of its source).
    assert!(!message.contains("line"), "{message}");
    assert!(!message.contains("relation"), "{message}");
    message.clone()
}

/// Tables and columns configured in another case than stored: full import, export (add,
/// update, delete) with the multi-valued table, and validation passes on every page.
pub fn names_as_typed(t: &Target) {
    employees(t);
    let (table, groups) = configured_names(t);
    let plugin = load();
    let config = t.config(&[
        ("Table", table),
        ("Anchor columns", "EmployeeID"),
        ("Multi-valued table", groups),
        ("Multi-valued join column", "EMPLOYEEID"),
    ]);
    assert_eq!(host_validation(&plugin, &config), []);
    let schema = plugin.schema(&config).expect("schema");
    let user = &schema.types[0];
    assert_eq!(user.anchor_attributes.len(), 1);
    assert!(
        user.anchor_attributes[0].eq_ignore_ascii_case("EmployeeID"),
        "{:?}",
        user.anchor_attributes
    );
    let stored = |name: &str| {
        user.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("{name} in {:?}", user.attributes))
            .name
            .clone()
    };
    let (first, email, group) = (stored("FirstName"), stored("Email"), stored("GroupName"));

    let mut inst = instance(&plugin, &config);
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 10).expect("import");
    assert_eq!(entries.len(), 2);
    let ann = entries
        .iter()
        .find(|e| value_of(e, &first).as_deref() == Some("Ann"))
        .expect("Ann");
    assert_eq!(
        crate::sql::connector::values_of(ann, &group),
        ["Sales"],
        "the multi-valued table"
    );

    let add = entry("add", ObjectModification::Add)
        .with_change(AttributeChange::add(&first, [Value::from("Cy")]))
        .with_change(AttributeChange::add(
            &email,
            [Value::from("cy@example.com")],
        ))
        .with_change(AttributeChange::add(&group, [Value::from("Ops")]));
    let r = export(&plugin, inst.as_mut(), &config, vec![add]).unwrap();
    assert_eq!(r[0].code, ExportErrorCode::Success, "{:?}", r[0]);
    let id = r[0].anchor_changes[0].value.as_text();
    assert_eq!(
        t.rows(&format!(
            "SELECT FirstName, Email FROM Employees WHERE EmployeeID = {id}"
        )),
        [[Some("Cy".to_owned()), Some("cy@example.com".to_owned())]]
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM EmployeeGroups WHERE EmployeeID = {id} AND GroupName = 'Ops'"
        )),
        1
    );
    let anchor_name = user.anchor_attributes[0].clone();
    let update = entry("upd", ObjectModification::Update)
        .with_anchor(&anchor_name, id.clone())
        .with_change(AttributeChange::replace(
            &email,
            [Value::from("cy@new.example")],
        ));
    let delete = entry("del", ObjectModification::Delete)
        .with_anchor(&anchor_name, crate::sql::connector::anchor_text(ann));
    let r = export(&plugin, inst.as_mut(), &config, vec![update, delete]).unwrap();
    assert!(
        r.iter().all(|r| r.code == ExportErrorCode::Success),
        "{r:?}"
    );
    assert_eq!(
        t.rows(&format!(
            "SELECT Email FROM Employees WHERE EmployeeID = {id}"
        )),
        [[Some("cy@new.example".to_owned())]]
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM Employees WHERE FirstName = 'Ann'"),
        0
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM EmployeeGroups WHERE GroupName = 'Sales'"),
        0,
        "Ann's multi-values deleted with her"
    );
}

/// A misspelt table, column or multi-valued table is one failure, reported once on the
/// page of its parameter, listing the closest names the database has.
pub fn names_misspelt(t: &Target) {
    employees(t);
    let (table, groups) = configured_names(t);
    let plugin = load();
    let config = |params: &[(&str, &str)]| {
        let mut c = t.config(&[
            ("Table", table),
            ("Anchor columns", "EmployeeID"),
            ("Multi-valued table", groups),
            ("Multi-valued join column", "EmployeeID"),
        ]);
        for (k, v) in params {
            c.set(k, *v);
        }
        c
    };
    let bad_table = config(&[("Table", "Employes")]);
    let message = one_failure(&plugin, &bad_table, "Table");
    assert!(
        message.contains("'Employes'") && message.to_lowercase().contains("did you mean employees"),
        "{message}"
    );
    // The same message where the host reads the schema, and on the wizard's own page.
    let err = plugin.schema(&bad_table).unwrap_err();
    assert!(err.message.contains(&message), "{err:?}");
    assert!(matches!(
        plugin.validate_config(&bad_table, ConfigPage::Schema, 2).unwrap(),
        ParameterValidation::Failure { parameter, .. } if parameter == "Table"
    ));

    let message = one_failure(
        &plugin,
        &config(&[("Anchor columns", "EmployeID")]),
        "Anchor columns",
    );
    assert!(
        message.to_lowercase().contains("did you mean employeeid"),
        "{message}"
    );

    let message = one_failure(
        &plugin,
        &config(&[("Multi-valued table", "EmployeeGroup")]),
        "Multi-valued table",
    );
    assert!(
        message.to_lowercase().contains("employeegroups"),
        "{message}"
    );

    let message = one_failure(
        &plugin,
        &config(&[
            ("Delta strategy", "Watermark"),
            ("Watermark column", "Modified"),
        ]),
        "Watermark column",
    );
    assert!(message.contains("'Modified'"), "{message}");

    // Left empty: reported once too.
    let message = one_failure(&plugin, &config(&[("Table", "")]), "Table");
    assert!(message.contains("required"), "{message}");

    // A name with nothing close lists what there is.
    let message = one_failure(&plugin, &config(&[("Table", "zzzz")]), "Table");
    assert!(message.to_lowercase().contains("employees"), "{message}");
}

/// Two tables (PostgreSQL and MariaDB allow it) and, on PostgreSQL, two columns whose names
/// differ only in case: the exact name picks one, any other spelling is one error listing both.
pub fn names_ambiguous(t: &Target) {
    let quoted = |n: &str| t.q(n);
    t.exec(&[
        &format!(
            "CREATE TABLE {} (id INTEGER PRIMARY KEY, name VARCHAR(50))",
            quoted("Staff")
        ),
        &format!(
            "CREATE TABLE {} (id INTEGER PRIMARY KEY, name VARCHAR(50))",
            quoted("staff")
        ),
        &format!("INSERT INTO {} VALUES (1, 'upper')", quoted("Staff")),
        &format!("INSERT INTO {} VALUES (2, 'lower')", quoted("staff")),
    ]);
    let plugin = load();
    let config = |table: &str| t.config(&[("Table", table), ("Anchor columns", "id")]);
    for (table, name) in [("Staff", "upper"), ("staff", "lower")] {
        let config = config(table);
        assert_eq!(host_validation(&plugin, &config), []);
        let mut inst = instance(&plugin, &config);
        let (entries, _, _) =
            import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 10).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(value_of(&entries[0], "name").as_deref(), Some(name));
    }
    let message = one_failure(&plugin, &config("STAFF"), "Table");
    assert!(message.contains("Staff, staff"), "{message}");
    assert!(plugin.schema(&config("STAFF")).is_err());

    if t.kind == Kind::Postgres {
        t.exec(&[r#"CREATE TABLE people (id INTEGER PRIMARY KEY, "Name" TEXT, name TEXT)"#]);
        let people = |anchor: &str, dn: &str| {
            t.config(&[
                ("Table", "people"),
                ("Anchor columns", anchor),
                ("DN column", dn),
            ])
        };
        assert_eq!(host_validation(&plugin, &people("id", "Name")), []);
        let message = one_failure(&plugin, &people("id", "NAME"), "DN column");
        assert!(message.contains("Name, name"), "{message}");
    }
}

/// PostgreSQL: a function created unquoted as `Emp_Page` (stored `emp_page`) configured as
/// typed runs the stored procedure import.
pub fn procedure_names_as_typed(t: &Target) {
    employees(t);
    t.exec(&["CREATE FUNCTION Emp_Page(s bigint, e bigint) RETURNS TABLE (EmployeeID bigint, FirstName varchar) LANGUAGE sql AS $$ SELECT EmployeeID, FirstName FROM Employees ORDER BY EmployeeID OFFSET s - 1 LIMIT e - s + 1 $$"]);
    let plugin = load();
    let config = t.config(&[
        ("Table", "Employees"),
        ("Anchor columns", "EmployeeID"),
        ("Import method", "Stored procedure"),
        ("Import procedure", "Emp_Page"),
    ]);
    assert_eq!(host_validation(&plugin, &config), []);
    let mut inst = instance(&plugin, &config);
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 1).unwrap();
    assert_eq!(entries.len(), 2);
    let message = one_failure(
        &plugin,
        &t.config(&[
            ("Table", "Employees"),
            ("Anchor columns", "EmployeeID"),
            ("Import method", "Stored procedure"),
            ("Import procedure", "Emp_Pages"),
        ]),
        "Import procedure",
    );
    assert!(
        message.to_lowercase().contains("did you mean emp_page"),
        "{message}"
    );
}
