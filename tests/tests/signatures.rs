//! The bundled signature catalog: it loads, covers the filters districts run, and its markers
//! are specific enough that ordinary pages, certificates and hosts match nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use fitcheck_core::signatures::Catalog;

fn catalog() -> (Catalog, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../signatures/catalog.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut c = Catalog::default();
    c.add_file("signatures/catalog.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    (c, text)
}

#[test]
fn the_catalog_covers_the_filters_districts_run() {
    let (c, text) = catalog();
    assert!(c.len() >= 30, "{} signatures", c.len());
    for vendor in [
        "Squid",
        "e2guardian",
        "DansGuardian",
        "Fortinet",
        "iboss",
        "Palo Alto",
        "Zscaler",
        "Lightspeed",
        "Securly",
        "GoGuardian",
        "Cisco Umbrella",
        "ContentKeeper",
        "Meraki",
        "Netsweeper",
        "Linewize",
        "Pi-hole",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("vendor = ") && l.contains(vendor)),
            "no signature names {vendor}"
        );
    }
}

#[test]
fn ordinary_pages_certificates_and_hosts_match_nothing() {
    let (c, _) = catalog();
    let pages = [
        (
            404,
            "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>",
        ),
        (
            403,
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\"><html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>You don't have permission to access this resource.</p></body></html>",
        ),
        (
            403,
            "<html><body><h1>Access Denied</h1>You are not signed in.</body></html>",
        ),
        (
            200,
            "<html><head><title>Sign in to your account</title></head><body>Blocked pop-ups? Allow them for this site.</body></html>",
        ),
        (200, "<title>Khan Academy | Free Online Courses</title>"),
    ];
    let headers = vec![
        ("server".to_owned(), "nginx/1.22.1".to_owned()),
        ("content-type".to_owned(), "text/html".to_owned()),
        ("x-frame-options".to_owned(), "DENY".to_owned()),
    ];
    for (status, body) in pages {
        assert_eq!(c.block_page(status, &headers, body), None, "{body}");
    }
    for issuer in [
        "C=US, O=Let's Encrypt, CN=R10",
        "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        "C=US, O=Google Trust Services, CN=WR2",
        "C=US, O=Amazon, CN=Amazon RSA 2048 M02",
        "C=US, O=Microsoft Corporation, CN=Microsoft Azure RSA TLS Issuing CA 04",
    ] {
        assert_eq!(c.interception_ca(issuer), None, "{issuer}");
    }
    for host in [
        "accounts.google.com",
        "login.microsoftonline.com",
        "zoom.us",
        "www.khanacademy.org",
    ] {
        assert_eq!(c.block_host(host), None, "{host}");
    }
    for ip in [
        "8.8.8.8",
        "142.250.72.14",
        "13.107.42.14",
        "0.0.0.0",
        "10.0.0.1",
    ] {
        assert_eq!(c.sinkhole(ip.parse().unwrap()), None, "{ip}");
    }
}

#[test]
fn known_block_answers_are_named() {
    let (c, _) = catalog();
    let umbrella = c.sinkhole("146.112.61.104".parse().unwrap()).unwrap();
    assert!(umbrella.vendor.contains("Umbrella"), "{umbrella:?}");
    let squid = c
        .block_page(
            403,
            &[("X-Squid-Error".to_owned(), "ERR_ACCESS_DENIED 0".to_owned())],
            "",
        )
        .unwrap();
    assert_eq!(squid.vendor, "Squid");
    // Extension filters send a blocked tab to their own host; the name alone says who blocked.
    let goguardian = c.block_host("blocked.goguardian.com").unwrap();
    assert_eq!(goguardian.vendor, "GoGuardian");
}

/// What a browser agent gets: every block host and filter extension, each with its vendor; the
/// extensions the districts' filters run as are among them.
#[test]
fn browser_agents_get_block_hosts_and_filter_extensions() {
    let (c, _) = catalog();
    let browser = c.for_browsers();
    let by_id = |ext: &str| {
        browser
            .iter()
            .find(|s| s.extension_ids.iter().any(|i| i == ext))
            .map(|s| s.vendor.as_str())
    };
    assert_eq!(
        by_id("haldlgldplgnggkjaafhelgiaglafanh"),
        Some("GoGuardian")
    );
    assert_eq!(by_id("joflmkccibkooplaeoinecjbmdebglab"), Some("Securly"));
    assert_eq!(by_id("ddfbkhpmcdbciejenfcolaaiebnjcbfc"), Some("Linewize"));
    assert!(
        browser
            .iter()
            .any(|s| s.hosts.iter().any(|h| h == "blocked.goguardian.com")),
        "the block hosts go too"
    );
    // Block pages and inspection CAs are the native agent's business.
    assert!(browser.iter().all(|s| !s.id.contains("squid")));
}

/// A block-page address matches its host and path prefix only: the filter's other pages on the
/// same host are not blocks. Ids and addresses that cannot be right are refused with where.
#[test]
fn block_page_addresses_and_extension_ids_are_checked() {
    let mut c = Catalog::default();
    c.add_file(
        "district.toml",
        r#"format = 1
version = "1"
[[signature]]
id = "district-block"
vendor = "District Filter"
kind = "block_host"
source = "https://district.example/filter"
urls = ["*.filter.example/blocked"]
"#,
    )
    .unwrap();
    let hit = c
        .block_url("east.filter.example", "/blocked?url=x")
        .unwrap();
    assert_eq!(hit.vendor, "District Filter");
    assert!(c.block_url("east.filter.example", "/login").is_none());
    assert!(c.block_url("filter.example.net", "/blocked").is_none());
    let err = c
        .add_file(
            "bad.toml",
            r#"format = 1
version = "1"
[[signature]]
id = "bad-extension"
vendor = "X"
kind = "filter_extension"
source = "https://x.example/"
extension_ids = ["not-an-id"]
[[signature]]
id = "bad-url"
vendor = "X"
kind = "block_host"
source = "https://x.example/"
urls = ["https://x.example/blocked"]
"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("signature[0] (bad-extension)") && err.contains("not an extension id"),
        "{err}"
    );
    assert!(
        err.contains("signature[1] (bad-url)") && err.contains("without the scheme"),
        "{err}"
    );
}
