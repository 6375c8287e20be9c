//! A proxy's answer to CONNECT, read by the agent itself (so its refusal can be recorded).
#![no_main]

use fitcheck_agent::checks::http::parse_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(head)) = parse_head(data) {
        assert!(head.length <= data.len());
        let _ = fitcheck_core::signatures::squid_failure(&head.headers);
    }
});
