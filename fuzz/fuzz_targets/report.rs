//! A report (JSON) as the controller receives it from an agent: read, then judged against a
//! bundled profile the way ingestion judges it (a browser agent's navigations through the
//! signature catalog). Nothing may panic whatever the report holds.
#![no_main]

use std::sync::OnceLock;

use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;
use fitcheck_core::signatures::{BUNDLED, Catalog};
use fitcheck_engine::judge::Arrival;
use libfuzzer_sys::fuzz_target;

fn fixtures() -> &'static (Profile, Catalog) {
    static F: OnceLock<(Profile, Catalog)> = OnceLock::new();
    F.get_or_init(|| {
        let profile = Profile::parse(
            "zoom.toml",
            include_str!("../../profiles/zoom.toml"),
        )
        .unwrap_or_else(|e| panic!("the bundled profile: {e}"));
        let mut catalog = Catalog::default();
        catalog
            .add_file("catalog.toml", BUNDLED)
            .unwrap_or_else(|e| panic!("the bundled catalog: {e}"));
        (profile, catalog)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(report) = serde_json::from_slice::<Report>(data) else {
        return;
    };
    let (profile, catalog) = fixtures();
    let arrival = Arrival {
        report_id: report.report_id.to_string(),
        agent_id: report.agent.agent_id.to_string(),
        site: report.agent.labels.get("site").cloned(),
        received_at_ms: 0,
    };
    let judged = fitcheck_engine::judge_with(catalog, profile, "sha256:fuzz", arrival, &report);
    let _ = serde_json::to_vec(&judged);
});
