//! Full-import benchmark through the plugin ABI: loads the built library, imports every
//! inetOrgPerson under a base, prints entries/s and the process's peak memory (VmHWM).
//! Driven by `bench/run.sh`, which starts slapd with generated data and times `ldapsearch`
//! on the same entries for the ratio.
//!
//! Usage: bench_import <plugin.so> <port> <base DN> <page size>

use std::time::Instant;

use plugin_api::host::ConnectorPlugin;
use plugin_api::loader::load_plugin;
use plugin_api::model::*;
use plugin_api::sdk::HostServices;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, lib, port, base, page] = args.as_slice() else {
        eprintln!("usage: bench_import <plugin.so> <port> <base DN> <page size>");
        std::process::exit(2);
    };
    if std::env::var_os("BENCH_RAW").is_some() {
        raw(port, base, page.parse().unwrap());
        return;
    }
    // BENCH_INPROC: the same connector linked in, without the ABI (to see the ABI's cost).
    let plugin: Box<dyn ConnectorPlugin> = if std::env::var_os("BENCH_INPROC").is_some() {
        Box::new(plugin_api::host::InProcessPlugin::<generic_ldap::GenericLdap>::new().unwrap())
    } else {
        Box::new(load_plugin(std::path::Path::new(lib)).expect("load plugin"))
    };
    let mut cfg = ConfigParameters::new();
    cfg.set("Host", "127.0.0.1")
        .set("Port", port.as_str())
        .set("Binding", "Simple")
        .set("User name", "cn=admin,dc=example,dc=com")
        .set_secret("Password", "secret")
        .set("Base DNs", base.as_str())
        .set("Object types", "inetOrgPerson")
        .set("Anchor", "entryUUID")
        .set("Delta strategy", "None")
        .set("Search page size", page.as_str());
    let schema = plugin.schema(&cfg).expect("schema");
    let mut inst = plugin
        .create_instance(&cfg, HostServices::detached())
        .expect("instance");
    let before = vm_hwm_kib();
    let start = Instant::now();
    inst.open_import(OpenImportRequest {
        import_type: ImportType::Full,
        page_size: page.parse().unwrap(),
        custom_data: String::new(),
        partition: None,
        schema,
    })
    .expect("open import");
    let mut n = 0usize;
    let mut values = 0usize;
    loop {
        let p = inst.get_import_entries().expect("page");
        n += p.entries.len();
        // Touch the data so nothing is optimised away.
        values += p.entries.iter().map(|e| e.changes.len()).sum::<usize>();
        if !p.more_to_import {
            break;
        }
    }
    inst.close_import(CloseReason::Normal).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "connector: {n} entries ({values} attributes) in {secs:.3} s = {:.0} entries/s; VmHWM {} KiB (before import {} KiB)",
        n as f64 / secs,
        vm_hwm_kib(),
        before
    );
}

/// ldap3 alone (paged streaming search + SearchEntry), to see the library's own cost.
fn raw(port: &str, base: &str, page: i32) {
    use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
    let start = Instant::now();
    let mut c = ldap3::LdapConn::new(&format!("ldap://127.0.0.1:{port}")).unwrap();
    c.simple_bind("cn=admin,dc=example,dc=com", "secret")
        .unwrap();
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(page)),
    ];
    let mut s = c
        .streaming_search_with(
            adapters,
            base,
            ldap3::Scope::Subtree,
            "(objectClass=inetOrgPerson)",
            vec!["*", "entryUUID"],
        )
        .unwrap();
    let mut n = 0;
    while let Some(e) = s.next().unwrap() {
        let e = ldap3::SearchEntry::construct(e);
        n += e.attrs.len().min(1);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "raw ldap3: {n} entries in {secs:.3} s = {:.0} entries/s",
        n as f64 / secs
    );
}
