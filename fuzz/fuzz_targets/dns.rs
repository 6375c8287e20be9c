//! A DNS answer as a resolver sends it: the message read (hickory), and each address in it
//! judged the way the agent judges answers (bogon ranges, the catalog's sinkhole addresses).
#![no_main]

use std::net::IpAddr;
use std::sync::OnceLock;

use fitcheck_core::signatures::{BUNDLED, Catalog};
use hickory_proto::op::Message;
use hickory_proto::rr::RData;
use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let mut c = Catalog::default();
        c.add_file("catalog.toml", BUNDLED)
            .unwrap_or_else(|e| panic!("the bundled catalog: {e}"));
        c
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::from_vec(data) else {
        return;
    };
    for record in &message.answers {
        let ip = match &record.data {
            RData::A(a) => IpAddr::V4(a.0),
            RData::AAAA(a) => IpAddr::V6(a.0),
            _ => continue,
        };
        let _ = fitcheck_agent::resolve::bogon_reason(ip);
        let _ = catalog().sinkhole(ip);
    }
});
