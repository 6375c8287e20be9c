//! The address people and devices reach the controller at, when a reverse proxy stands in front
//! of it (`serve --public-url`). A proxy may rewrite `Host` to the controller's own address, so
//! the cross-site rule accepts pages of this address as the controller's own, and the links the
//! controller hands out (the browser agent's download) name it.

use url::Url;

/// An `https://` or `http://` origin, at the root of its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    url: Url,
}

impl PublicUrl {
    /// Reads `--public-url`: a scheme and a host (a port where not the scheme's own), and
    /// nothing after the host but `/`.
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let url = Url::parse(text.trim()).map_err(|e| {
            format!("--public-url {text:?} is not an address ({e}); write it as https://fitcheck.district.example")
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!(
                "--public-url {text:?}: the scheme must be https (or http), not {:?}",
                url.scheme()
            ));
        }
        if url.host().is_none() {
            return Err(format!("--public-url {text:?} names no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "--public-url {text:?} carries a user name or password; give the address alone"
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "--public-url {text:?} has a path, query or fragment; the controller is served at the root of its host name (a path prefix is not supported): give https://HOST[:PORT] alone"
            ));
        }
        Ok(PublicUrl { url })
    }

    /// `scheme://host[:port]`, the way a browser writes `Origin` (a default port left out).
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// The public address of `path` (which starts with `/`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Whether `source` (an `Origin` header, or a `Referer`) is a page of this address.
    pub fn is_origin_of(&self, source: &str) -> bool {
        Url::parse(source).is_ok_and(|u| u.origin() == self.url.origin())
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_at_the_root_of_its_host_is_taken_and_anything_else_said_why() {
        let p = PublicUrl::parse("https://Fitcheck.District.Example:443/").unwrap();
        assert_eq!(p.origin(), "https://fitcheck.district.example");
        assert_eq!(
            p.at("/browser-agent/update.xml"),
            "https://fitcheck.district.example/browser-agent/update.xml"
        );
        let p = PublicUrl::parse("https://fitcheck.district.example:8443").unwrap();
        assert_eq!(p.origin(), "https://fitcheck.district.example:8443");
        assert!(p.is_origin_of("https://fitcheck.district.example:8443"));
        assert!(p.is_origin_of("https://FITCHECK.district.example:8443/evaluations?x=1"));
        assert!(!p.is_origin_of("https://fitcheck.district.example"));
        assert!(!p.is_origin_of("http://fitcheck.district.example:8443"));
        assert!(!p.is_origin_of("https://fitcheck.district.example.evil.test:8443"));
        assert!(!p.is_origin_of("null"));
        for (bad, why) in [
            ("fitcheck.district.example", "is not an address"),
            (
                "ftp://fitcheck.district.example",
                "the scheme must be https",
            ),
            (
                "https://fitcheck.district.example/fitcheck/",
                "a path prefix is not supported",
            ),
            (
                "https://fitcheck.district.example/?a=1",
                "path, query or fragment",
            ),
            (
                "https://admin:pw@fitcheck.district.example",
                "user name or password",
            ),
        ] {
            let e = PublicUrl::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
