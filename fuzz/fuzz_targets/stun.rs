//! A datagram answering a STUN binding request.
#![no_main]

use fitcheck_agent::checks::stun::parse_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let txid: [u8; 12] = *b"fitcheck-txn";
    let _ = parse_response(data, &txid);
    // The same datagram claiming our transaction id, so the fuzzer gets past the id check.
    if data.len() >= 20 {
        let mut ours = data.to_vec();
        ours[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
        ours[8..20].copy_from_slice(&txid);
        let _ = parse_response(&ours, &txid);
    }
});
