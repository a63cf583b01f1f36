//! StartTLS and LDAPS verified against the harness CA, refused with a wrong CA, and the
//! explicit (logged) opt-out of verification.

use ecma_host_tests::slapd::Slapd;
use ecma_host_tests::slapd::connector::{config, import, instance, plugin, schema};
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
