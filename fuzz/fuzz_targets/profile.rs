//! A profile (TOML) as a district or vendor writes it: read, validated, and when valid, turned
//! into the requirement list and the agent's plan. Nothing may panic; a bad file is an error.
#![no_main]

use fitcheck_core::profile::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(profile) = Profile::parse("fuzz.toml", text) {
        let _ = fitcheck_core::evaluate::requirements(&profile);
        let _ = fitcheck_agent::plan::plan(&profile);
    }
});
