//! A district's filter-signature file (TOML), added to the bundled catalog, then asked about
//! block pages, hosts, sinkholes and inspection CAs.
#![no_main]

use fitcheck_core::signatures::{BUNDLED, Catalog};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut catalog = Catalog::default();
    if catalog.add_file("catalog.toml", BUNDLED).is_err() {
        return;
    }
    if catalog.add_file("district.toml", text).is_ok() {
        let _ = catalog.block_host("blocked.example");
        let _ = catalog.block_url("filter.example", "/blocked?u=x");
        let _ = catalog.sinkhole("0.0.0.0".parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])));
        let _ = catalog.interception_ca("District Filter CA");
        let _ = catalog.for_browsers();
    }
});
