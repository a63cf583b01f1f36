//! Generic SQL: the fields whose values need work (the DSN file, Windows users, date formats,
//! time zones, run-step objects), and what the whole configuration implies afterwards.

use super::dsn;
use super::export::{MsParameter, RunProfile};
use super::names::{NameMapping, OurPage, Special};
use super::plan::{AppPlan, Context, OutValue, shown};

pub fn special(
    ctx: &Context<'_>,
    s: Special,
    row: &NameMapping,
    p: &MsParameter,
    plan: &mut AppPlan,
) {
    let from = p.location();
    let v = p.value.trim();
    match s {
        Special::DsnFile => dsn_file(ctx, v, &from, plan),
        Special::SqlUser => {
            if v.contains('\\') {
                plan.note(
                    format!("{from} = {}", shown(v)),
                    "a domain\\user name is Windows (integrated) authentication, which a Linux host cannot use: create a database login, set 'User' to it and its password in the Password secret",
                );
            } else if !v.is_empty() {
                plan.set(OurPage::Connectivity, row.ours, OutValue::Text(v.to_owned()), &from);
            }
        }
        Special::DotNetDateFormat if !v.is_empty() => match dotnet_date_format(v) {
            Ok(f) => plan.set(OurPage::Global, row.ours, OutValue::Text(f), &from),
            Err(token) => plan.note(
                format!("{from} = {}", shown(v)),
                format!(
                    "the .NET format element '{token}' has no counterpart: write 'Date format' as a time format description, e.g. [year]-[month]-[day] [hour]:[minute]:[second]"
                ),
            ),
        },
        Special::TimeZone if !v.is_empty() => match time_zone(v) {
            Some(z) => {
                plan.set(OurPage::Global, row.ours, OutValue::Text(z.clone()), &from);
                if z != "UTC" {
                    plan.note(
                        format!("{from} = {}", shown(v)),
                        format!("carried as the fixed offset {z}: daylight saving time is not followed; store date-times in UTC or adjust the offset"),
                    );
                }
            }
            None => plan.note(
                format!("{from} = {}", shown(v)),
                "not a zone we can read: set 'Database time zone' to UTC or an offset such as +01:00",
            ),
        },
        Special::RunStepObject if !v.is_empty() => run_step_object(ctx, p, v, plan),
        Special::JoinCondition if !v.is_empty() => join_condition(ctx, p, v, plan),
        Special::ProcedureParameters if !v.is_empty() => {
            let attrs: Vec<&str> = v
                .lines()
                .filter_map(|l| l.split(':').nth(2).map(str::trim))
                .filter(|a| !a.is_empty())
                .collect();
            if attrs.is_empty() {
                plan.note(
                    format!("{from} = {}", shown(v)),
                    "expected lines '@Name: INPUT: attribute': set 'Procedure parameters' to the attributes, comma separated",
                );
            } else {
                plan.set(OurPage::RunStep, row.ours, OutValue::Text(attrs.join(", ")), &from);
            }
        }
        _ => {}
    }
}

fn dsn_file(ctx: &Context<'_>, value: &str, from: &str, plan: &mut AppPlan) {
    const NAME: &str = "Connection string";
    let candidates = dsn::candidates(value, ctx.source_dir);
    let found = candidates
        .iter()
        .find_map(|c| std::fs::read(c).ok().map(|b| (c.clone(), b)));
    let Some((path, bytes)) = found else {
        let env = plan.secret(OurPage::Connectivity, NAME, "CONNECTION_STRING", from);
        plan.note(
            format!("{from} = {}", shown(value)),
            format!(
                "the DSN file could not be read here (looked at {}): set {env} to a connection string such as postgres://host:5432/db, mysql://host:3306/db or odbc:Driver=...;Server=...; or copy the .dsn file next to the export and migrate again",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return;
    };
    let d = dsn::parse(&String::from_utf8_lossy(&bytes));
    let url = dsn::connection_string(&d);
    plan.set(
        OurPage::Connectivity,
        NAME,
        OutValue::Text(url),
        &format!("{from} (read from {})", path.display()),
    );
    if d.kind() == dsn::DriverKind::Other {
        plan.note(
            format!("ODBC driver \"{}\"", d.driver),
            "carried as an odbc: connection string: install the database's Linux ODBC driver, put its name (odbcinst.ini) or library path in Driver=, and use generic-sql built with the odbc feature",
        );
    }
    if d.windows_auth {
        plan.note(
            format!("{} (Trusted_Connection)", path.display()),
            "Windows (integrated) authentication cannot be used from Linux: create a database login and set 'User' and the Password secret",
        );
    }
    // Credentials on the Connectivity page take precedence over the DSN file's.
    let wizard = |label: &str| {
        ctx.export.parameters.iter().any(|p| {
            p.page == super::export::MsPage::Connectivity
                && super::names::normalize(&p.name) == super::names::normalize(label)
                && !p.value.trim().is_empty()
        })
    };
    if !d.user.is_empty() && !wizard("User Name") {
        plan.set(
            OurPage::Connectivity,
            "User",
            OutValue::Text(d.user.clone()),
            &format!("UID in {}", path.display()),
        );
    }
    if d.has_password && !wizard("Password") {
        plan.secret(
            OurPage::Connectivity,
            "Password",
            "Password",
            &format!("PWD in {}", path.display()),
        );
    }
}

/// The run step's "Table/View/SP": by the step's operation method, a table (which must be the
/// Schema 2 table: ours reads and writes one), or a procedure.
fn run_step_object(ctx: &Context<'_>, p: &MsParameter, v: &str, plan: &mut AppPlan) {
    let from = p.location();
    let method = ctx
        .export
        .parameters
        .iter()
        .find(|q| {
            q.run_profile == p.run_profile
                && super::names::normalize(&q.name).ends_with("operationmethod")
        })
        .map(|q| q.value.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "table".into());
    if method.contains("procedure") {
        let ours = match p.run_profile {
            Some(RunProfile::FullImport) => "Import procedure",
            Some(RunProfile::DeltaImport) => "Delta import procedure",
            _ => {
                plan.note(
                    format!("{from} = {}", shown(v)),
                    "export procedures are 'Add procedure', 'Update procedure' and 'Delete procedure': not carried from this field",
                );
                return;
            }
        };
        plan.set(OurPage::RunStep, ours, OutValue::Text(v.to_owned()), &from);
        return;
    }
    match plan.text(OurPage::Schema, "Table") {
        None => plan.set(
            OurPage::Schema,
            "Table",
            OutValue::Text(v.to_owned()),
            &from,
        ),
        Some(t) if t.eq_ignore_ascii_case(v) => plan.carried.push(super::plan::Carried {
            from,
            to: "schema \"Table\" (the same table)".into(),
        }),
        Some(t) => {
            let t = t.to_owned();
            plan.note(
                format!("{from} = {}", shown(v)),
                format!("our connector reads and writes the Schema 2 table ({t:?}) in every run step: use a view or 'SQL query' methods to reach another table"),
            );
        }
    }
}

/// `Parent.col=Child.col`: our join column is the child table's.
fn join_condition(ctx: &Context<'_>, p: &MsParameter, v: &str, plan: &mut AppPlan) {
    let from = p.location();
    let child = ctx
        .export
        .parameters
        .iter()
        .find(|q| {
            q.run_profile == p.run_profile
                && super::names::normalize(&q.name)
                    == super::names::normalize("Name of Multi-Valued table/views")
        })
        .map(|q| q.value.trim().to_owned())
        .unwrap_or_default();
    let column = v.split('=').map(str::trim).find_map(|side| {
        let (table, col) = side.rsplit_once('.')?;
        (!child.is_empty()
            && table
                .trim_matches(['[', ']', '"'])
                .eq_ignore_ascii_case(&child))
        .then(|| col.trim_matches(['[', ']', '"']).to_owned())
    });
    match column {
        Some(c) => {
            plan.set(
                OurPage::Schema,
                "Multi-valued join column",
                OutValue::Text(c),
                &from,
            );
            plan.note(
                format!("{from} = {}", shown(v)),
                "our connector joins the child table's column to the parent's (single) anchor column: check that the other side of the condition is the anchor",
            );
        }
        None => plan.note(
            format!("{from} = {}", shown(v)),
            "could not tell the child table's column: set 'Multi-valued join column' to it",
        ),
    }
}

/// A .NET custom date format → a `time` format description; Err names the element that
/// has no counterpart.
pub fn dotnet_date_format(f: &str) -> Result<String, String> {
    const TOKENS: &[(&str, &str)] = &[
        ("yyyy", "[year]"),
        ("YYYY", "[year]"),
        ("MM", "[month]"),
        ("dd", "[day]"),
        ("DD", "[day]"),
        ("HH", "[hour]"),
        ("hh", "[hour repr:12]"),
        ("mm", "[minute]"),
        ("ss", "[second]"),
        ("fffffff", "[subsecond digits:7]"),
        ("ffffff", "[subsecond digits:6]"),
        ("fff", "[subsecond digits:3]"),
        ("tt", "[period]"),
    ];
    let mut out = String::new();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphabetic() {
            // A .NET element is a run of one letter: "yyyy", "MM", "fff".
            let mut run = c.to_string();
            while chars.peek() == Some(&c) {
                run.push(c);
                chars.next();
            }
            match TOKENS.iter().find(|(net, _)| *net == run) {
                Some((_, ours)) => out.push_str(ours),
                None => return Err(run),
            }
        } else if c == '[' {
            out.push_str("[[");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `(UTC+01:00) Amsterdam, ...`, `UTC`, `+01:00` → `UTC` or an offset.
pub fn time_zone(v: &str) -> Option<String> {
    let v = v.trim();
    let inner = v
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(i, _)| i)
        .unwrap_or(v);
    let inner = inner.trim();
    let lower = inner.to_ascii_lowercase();
    if matches!(lower.as_str(), "utc" | "gmt" | "z") || lower.contains("coordinated universal time")
    {
        return Some("UTC".into());
    }
    let offset = inner
        .strip_prefix("UTC")
        .or_else(|| inner.strip_prefix("GMT"))
        .unwrap_or(inner);
    let (sign, hm) = match offset.as_bytes().first()? {
        b'+' => ('+', &offset[1..]),
        b'-' => ('-', &offset[1..]),
        _ => return None,
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "00"));
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then(|| format!("{sign}{h:02}:{m:02}"))
}

/// What the whole configuration implies: the anchor columns and the object type list from
/// the Schema section when the fields did not say.
pub fn finish(ctx: &Context<'_>, plan: &mut AppPlan) {
    let entries = &ctx.export.entries;
    if !entries.is_empty() && entries.iter().all(|e| e.dn_autogenerated) {
        plan.unset(
            OurPage::Schema,
            "DN column",
            "Schema 3 DN attribute",
            "not carried: the Object Types page has the DN autogenerated (CN=<anchor>,OBJECT=<TYPE>), which ecma-host does without a DN column; a DN column would be written with that DN",
        );
    }
    if plan.get(OurPage::Schema, "Anchor columns").is_none()
        && let Some(anchor) = entries
            .iter()
            .flat_map(|e| e.attributes.iter())
            .find(|a| a.is_anchor)
    {
        plan.set(
            OurPage::Schema,
            "Anchor columns",
            OutValue::Text(anchor.name.clone()),
            "Schema: the anchor attribute",
        );
    }
    if plan.get(OurPage::Schema, "Object types").is_none() && !entries.is_empty() {
        let types: Vec<&str> = entries.iter().map(|e| e.object_type.as_str()).collect();
        plan.set(
            OurPage::Schema,
            "Object types",
            OutValue::Text(types.join(", ")),
            "Schema: the object types",
        );
    }
    if plan
        .get(OurPage::Connectivity, "Connection string")
        .is_none()
    {
        let env = plan.secret(
            OurPage::Connectivity,
            "Connection string",
            "CONNECTION_STRING",
            "(no DSN File in the export)",
        );
        plan.note(
            "DSN File",
            format!("the export names no DSN file: set {env} to the database's connection string"),
        );
    }
    if plan.text(OurPage::Global, "Delta strategy") == Some("Change table") {
        plan.note(
            "Delta Strategy = Trigger",
            "carried as 'Change table': check 'Change table anchor column', 'Change table sequence column' (an increasing key) and 'Change type values' against the history table the triggers fill",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_formats_and_zones() {
        assert_eq!(
            dotnet_date_format("yyyy-MM-dd HH:mm:ss").unwrap(),
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        );
        assert_eq!(
            dotnet_date_format("YYYY-MM-DD").unwrap(),
            "[year]-[month]-[day]"
        );
        assert_eq!(dotnet_date_format("ddd MMM").unwrap_err(), "ddd");
        assert_eq!(
            time_zone("(UTC) Coordinated Universal Time").unwrap(),
            "UTC"
        );
        assert_eq!(
            time_zone("(UTC+01:00) Amsterdam, Berlin").unwrap(),
            "+01:00"
        );
        assert_eq!(time_zone("-05:30").unwrap(), "-05:30");
        assert!(time_zone("Pacific Standard Time").is_none());
    }
}
