//! What the agent's test binaries share: keeping their traffic on loopback.

/// Proxy settings the agent's clients honour (as they must on a district network). A test that
/// talks to a loopback server removes them from the agent processes it starts, and refuses to
/// run in-process clients while a proxy is named.
pub use fitcheck_core::PROXY_VARIABLES as PROXY_VARS;

/// Panics when the environment names a proxy: an in-process client would hand its requests
/// for a loopback server to that proxy. `scripts/test` clears them.
#[allow(dead_code, reason = "not every test binary runs in-process clients")]
pub fn assert_no_proxy() {
    let set: Vec<&str> = PROXY_VARS
        .into_iter()
        .filter(|v| !v.eq_ignore_ascii_case("no_proxy") && std::env::var_os(v).is_some())
        .collect();
    assert!(
        set.is_empty(),
        "unset {set:?} to run these tests: they talk to loopback servers only"
    );
}
