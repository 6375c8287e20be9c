//! `FITCHECK_SKIP_LAB=1` at build time marks the namespace-lab tests ignored (cfg
//! `fitcheck_skip_lab`), so a skipped lab is counted as skipped by the test runner, never as a
//! pass.

fn main() {
    println!("cargo::rerun-if-env-changed=FITCHECK_SKIP_LAB");
    println!("cargo::rustc-check-cfg=cfg(fitcheck_skip_lab)");
    if std::env::var("FITCHECK_SKIP_LAB").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=fitcheck_skip_lab");
    }
}
