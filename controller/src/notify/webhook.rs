//! Webhooks: a generic JSON body signed with HMAC-SHA256 (`X-Fitcheck-Signature:
//! sha256=HEX` over the exact bytes sent), or the shapes Slack (`{"text": …}`) and Microsoft
//! Teams (a message with one Adaptive Card) incoming webhooks accept. Everything a report put
//! in a message is a JSON string serde_json escapes, so no vendor's page title can break the
//! body.
//!
//! The controller makes these requests on an administrator's say-so, so it guards them: the
//! host is resolved here and every address checked — loopback, unspecified, link-local and the
//! cloud-metadata addresses are refused unless the channel allows private addresses — and the
//! request goes to the address checked (no second lookup to rebind), follows no redirect, and
//! gives up after 10 s.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use super::Message;
use crate::store::ChannelRow;

/// The signature header of a generic webhook.
pub const SIGNATURE_HEADER: &str = "X-Fitcheck-Signature";

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A webhook URL as a channel may hold it: `https://`, or `http://` for a receiver on the
/// district's network; no user or password in it.
pub fn check_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{text:?} is not an http(s) URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{text:?} carries credentials; put a webhook's key in `secret` instead"
        ));
    }
    Ok(url)
}

/// Whether an address is one a webhook may not reach unless allowed: loopback, unspecified,
/// link-local, or a cloud provider's metadata service.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
                    // AWS's metadata service over IPv6.
                    || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
            }
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        // 169.254.0.0/16 holds AWS's, Azure's and Google's metadata address (169.254.169.254).
        || ip.is_link_local()
        // Alibaba Cloud's metadata service.
        || ip == Ipv4Addr::new(100, 100, 100, 200)
}

/// The address to send to: the URL's host resolved, every answer checked.
async fn resolve(url: &Url, allow_private: bool) -> Result<SocketAddr, String> {
    let host = url
        .host_str()
        .ok_or_else(|| "the URL names no host".to_owned())?;
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    let first = addrs
        .first()
        .copied()
        .ok_or_else(|| format!("{host} has no address"))?;
    if !allow_private && let Some(bad) = addrs.iter().find(|a| forbidden(a.ip())) {
        return Err(format!(
            "{host} resolves to {}, a loopback, link-local or cloud-metadata address; refused (allow private addresses on the channel if this receiver is meant)",
            bad.ip()
        ));
    }
    Ok(first)
}

/// The body a channel of `kind` takes for `m`.
pub fn body(kind: &str, m: &Message) -> Result<Vec<u8>, String> {
    let value = match kind {
        "slack" => serde_json::json!({ "text": m.headline() }),
        "teams" => serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "type": "AdaptiveCard",
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": m.headline(), "wrap": true, "weight": "Bolder" },
                        { "type": "TextBlock", "text": format!("Requirement: {} ({})", m.title, m.requirement), "wrap": true },
                        { "type": "TextBlock", "text": format!("Sites: {}; since {}", m.sites.join(", "), m.since), "wrap": true }
                    ]
                }
            }]
        }),
        _ => serde_json::to_value(m).map_err(|e| e.to_string())?,
    };
    serde_json::to_vec(&value).map_err(|e| e.to_string())
}

/// `sha256=HEX` of `body` under `key`.
pub fn signature(key: &str, body: &[u8]) -> Result<String, String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// One delivery of `m` to `channel`.
pub async fn send(channel: &ChannelRow, m: &Message) -> Result<(), String> {
    let url = check_url(&channel.target)?;
    let addr = resolve(&url, channel.allow_private != 0).await?;
    let body = body(&channel.kind, m)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .no_proxy()
        .resolve(host.trim_start_matches('[').trim_end_matches(']'), addr)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut request = client
        .post(url.clone())
        .header("Content-Type", "application/json")
        .header("X-Fitcheck-Event", &m.event_id);
    if channel.kind == "webhook"
        && let Some(key) = channel.secret.as_deref()
    {
        request = request.header(SIGNATURE_HEADER, signature(key, &body)?);
    }
    let answer = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{}: {e}", url.host_str().unwrap_or_default()))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{} answered {status}{}",
            url.host_str().unwrap_or_default(),
            if status.is_redirection() {
                " (redirects are not followed; give the final URL)"
            } else {
                ""
            }
        ))
    }
}

/// TLS to webhook receivers: the public roots (`webpki-roots`), by the same provider (ring)
/// the controller serves with.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS set-up: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{body, check_url, forbidden, signature};
    use crate::notify::Message;

    fn message() -> Message {
        Message {
            event_id: "e1".into(),
            kind: "opened".into(),
            evaluation_id: "ev".into(),
            product: "Kahoot!".into(),
            requirement: "http[0]".into(),
            title: "HTTP https://kahoot.it/".into(),
            sites: vec!["north".into(), "south".into()],
            since: "2026-12-07T08:15:00Z".into(),
            summary: "Squid now blocks kahoot.it at north, south since 08:15 — \"quoted\"\n\"text\": \"injected\"".into(),
            owner: "web filter administrator".into(),
        }
    }

    #[test]
    fn loopback_link_local_and_metadata_are_forbidden() {
        for bad in [
            "127.0.0.1",
            "0.0.0.0",
            "169.254.169.254",
            "100.100.100.200",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = bad.parse().unwrap_or_else(|e| panic!("{bad}: {e}"));
            assert!(forbidden(ip), "{bad}");
        }
        for ok in ["10.20.0.5", "192.168.1.10", "203.0.113.7", "2001:db8::7"] {
            let ip: IpAddr = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(!forbidden(ip), "{ok}");
        }
    }

    #[test]
    fn only_plain_http_urls_without_credentials() {
        assert!(check_url("https://hooks.example.org/T1/B2").is_ok());
        assert!(check_url("http://10.0.0.5:8080/alerts").is_ok());
        assert!(check_url("ftp://hooks.example.org/").is_err());
        assert!(check_url("https://user:pw@hooks.example.org/").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn bodies_stay_json_whatever_a_report_said() {
        let m = message();
        for kind in ["webhook", "slack", "teams"] {
            let b = body(kind, &m).unwrap_or_default();
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
            assert!(v.is_object(), "{kind}");
            let text = String::from_utf8_lossy(&b);
            assert!(text.contains("\\\"injected\\\""), "{kind}: {text}");
        }
        let generic: serde_json::Value =
            serde_json::from_slice(&body("webhook", &m).unwrap_or_default()).unwrap_or_default();
        assert_eq!(generic["event_id"], "e1");
        assert_eq!(generic["sites"][1], "south");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_bytes_sent() {
        // RFC 4231, test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?").unwrap_or_default();
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
