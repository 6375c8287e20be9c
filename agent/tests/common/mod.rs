//! What the agent's test binaries share: keeping their traffic on loopback.

/// Proxy settings the agent's clients honour (as they must on a district network). A test that
/// talks to a loopback server removes them from the agent processes it starts, and refuses to
/// run in-process clients while they are set.
pub const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Panics when the environment names a proxy: an in-process client would hand its requests
/// for a loopback server to that proxy. `scripts/test` clears them.
#[allow(dead_code, reason = "not every test binary runs in-process clients")]
pub fn assert_no_proxy() {
    let set: Vec<&str> = PROXY_VARS
        .into_iter()
        .filter(|v| std::env::var_os(v).is_some())
        .collect();
    assert!(
        set.is_empty(),
        "unset {set:?} to run these tests: they talk to loopback servers only"
    );
}
