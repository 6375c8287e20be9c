//! A browser's URL policy (URLBlocklist / URLAllowlist entries) deciding a URL: the first line
//! is the URL, the others entries, `!` starting an allow entry.
#![no_main]

use fitcheck_core::browser_policy::{UrlFilter, UrlPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let Some(Ok(url)) = lines.next().map(url::Url::parse) else {
        return;
    };
    let mut policy = UrlPolicy::default();
    for line in lines {
        match line.strip_prefix('!') {
            Some(entry) => policy.allow.extend(UrlFilter::parse(entry)),
            None => policy.block.extend(UrlFilter::parse(line)),
        }
    }
    if let Some(d) = policy.decide(&url) {
        assert!(policy.block.contains(d.filter) || policy.allow.contains(d.filter));
    }
});
