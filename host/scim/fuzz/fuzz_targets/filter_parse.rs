//! Filter parser: no panics; whatever parses prints back to an equal AST; evaluation and planning never
//! panic.
#![no_main]

use ecma_scim::*;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(f) = parse_filter(s) else { return };
    let printed = f.to_string();
    let lim = FilterLimits {
        max_len: usize::MAX,
        max_depth: 1000,
    };
    let back = parse_filter_with(&printed, lim)
        .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?} fails: {e}"));
    assert_eq!(f, back, "{s:?} printed as {printed:?}");
    let rt = common::rt();
    let _ = matches(&f, &common::user(), &rt);
    let _ = index_plan(&f, &rt, |_| true);
});
