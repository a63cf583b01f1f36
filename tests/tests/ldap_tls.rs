//! StartTLS and LDAPS verified against the harness CA, refused with a wrong CA, the explicit
//! (logged) opt-out of verification, and SASL EXTERNAL with a client certificate.

use ecma_host_tests::slapd::connector::{config, entry, export, import, instance, plugin, schema};
use ecma_host_tests::slapd::{SUFFIX, Slapd};
use plugin_api::model::*;

#[test]
fn ldap_starttls_and_ldaps_verified_against_test_ca() {
    let Some(s) = Slapd::start() else { return };
    let p = plugin();
    for (security, port, host) in [
        ("StartTLS", s.port, "127.0.0.1"),
        ("StartTLS", s.port, "localhost"),
        ("LDAPS", s.ldaps_port, "127.0.0.1"),
    ] {
        let mut cfg = config(&s);
        cfg.set("Host", host)
            .set("Connection security", security)
            .set("Port", port.to_string())
            .set("CA certificate file", s.ca_file.to_str().unwrap());
        let (mut inst, log) = instance(&p, &cfg);
        inst.test_connection()
            .unwrap_or_else(|e| panic!("{security} to {host}: {e}"));
        // Real work over the protected connection.
        let sch = schema(&p, &cfg);
        import(inst.as_mut(), &sch, ImportType::Full, "", 100).unwrap();
        assert!(
            !log.0
                .lock()
                .unwrap()
                .iter()
                .any(|(l, _)| *l == LogLevel::Warn),
            "no warning when verifying"
        );
    }
}

#[test]
fn ldap_tls_refused_with_wrong_ca_and_opt_out_is_logged() {
    let Some(s) = Slapd::start() else { return };
    let p = plugin();
    for (security, port) in [("StartTLS", s.port), ("LDAPS", s.ldaps_port)] {
        let mut cfg = config(&s);
        cfg.set("Connection security", security)
            .set("Port", port.to_string())
            .set("CA certificate file", s.wrong_ca_file.to_str().unwrap());
        let (mut inst, _) = instance(&p, &cfg);
        let err = inst.test_connection().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection, "{security}: {err}");
        assert!(
            err.message.contains("certificate") || err.message.contains("UnknownIssuer"),
            "{security}: {err}"
        );

        // Verification off must be explicit, and it is logged as a warning.
        cfg.set("Verify server certificate", "0");
        let (mut inst, log) = instance(&p, &cfg);
        inst.test_connection().unwrap();
        let warned = log
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|(l, m)| *l == LogLevel::Warn && m.contains("verif"));
        assert!(warned, "{security}: no warning about disabled verification");
    }
    // No TLS at all to an LDAPS port fails cleanly.
    let mut cfg = config(&s);
    cfg.set("Port", s.ldaps_port.to_string());
    let (mut inst, _) = instance(&p, &cfg);
    assert_eq!(
        inst.test_connection().unwrap_err().kind,
        ErrorKind::Connection
    );
}

/// SASL EXTERNAL over TLS with a client certificate: slapd maps the certificate's subject to
/// the root DN, so the bind can write; without a certificate, or with one from another CA,
/// the bind is refused.
#[test]
fn ldap_sasl_external_with_client_certificate() {
    let Some(s) = Slapd::start() else { return };
    let p = plugin();
    let tls = |security: &str, port: u16, cert: Option<(&std::path::Path, &std::path::Path)>| {
        let mut cfg = ConfigParameters::new();
        cfg.set("Host", "127.0.0.1")
            .set("Port", port.to_string())
            .set("Connection security", security)
            .set("CA certificate file", s.ca_file.to_str().unwrap())
            .set("Binding", "SASL EXTERNAL")
            .set("Base DNs", SUFFIX)
            .set("Object types", "inetOrgPerson, groupOfNames")
            .set("Connection timeout", "5");
        if let Some((c, k)) = cert {
            cfg.set("Client certificate file", c.to_str().unwrap())
                .set("Client key file", k.to_str().unwrap());
        }
        cfg
    };
    let good = Some((s.client_cert.as_path(), s.client_key.as_path()));
    for (security, port) in [("LDAPS", s.ldaps_port), ("StartTLS", s.port)] {
        let cfg = tls(security, port, good);
        let (mut inst, _) = instance(&p, &cfg);
        inst.test_connection()
            .unwrap_or_else(|e| panic!("{security}: {e}"));
        // The bound identity can write: an add only the root DN may make.
        let sch = schema(&p, &cfg);
        let dn = format!("uid=cert-{},{SUFFIX}", security.to_lowercase());
        let mut add = entry("", "inetOrgPerson", ObjectModification::Add, &dn);
        add.changes = vec![
            AttributeChange::add("cn", [Value::from("Cert")]),
            AttributeChange::add("sn", [Value::from("User")]),
        ];
        let r = export(inst.as_mut(), &sch, vec![add]).unwrap();
        assert_eq!(r[0].code, ExportErrorCode::Success, "{security}: {r:?}");
        assert!(
            s.read(&dn).is_some(),
            "{security}: written as the mapped identity"
        );
    }
    // No client certificate: the server has no identity to give.
    let (mut inst, _) = instance(&p, &tls("LDAPS", s.ldaps_port, None));
    let err = inst.test_connection().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "a clear bind failure: {err}");
    assert!(err.message.contains("bind"), "{err}");
    // A certificate the server's CA did not sign is refused.
    let wrong = Some((s.wrong_client_cert.as_path(), s.wrong_client_key.as_path()));
    let (mut inst, _) = instance(&p, &tls("LDAPS", s.ldaps_port, wrong));
    assert!(
        inst.test_connection().is_err(),
        "foreign client certificate accepted"
    );
}
