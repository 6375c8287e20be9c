//! E-mail over SMTP, by `lettre`: STARTTLS (the default), TLS from the first byte (port 465),
//! or plain for a relay on the district's own network (never with a password); authentication
//! with the channel's user and password. The server's address is checked like a webhook's
//! (loopback, link-local and cloud-metadata refused unless allowed) and the connection goes to
//! the address checked, TLS verifying the server's name. Headers are built by `lettre`, and
//! the subject has every control character replaced, so no text from a report can add a
//! header or a recipient.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::Message;
use super::webhook::forbidden;
use crate::store::ChannelRow;
use crate::types::SmtpTarget;

/// An SMTP channel's settings, checked: a known security mode, addresses that parse, someone
/// to send to, and no password over a plain connection.
pub fn check(t: &SmtpTarget, has_password: bool) -> Result<(), String> {
    if !matches!(t.security.as_str(), "starttls" | "tls" | "none") {
        return Err(format!(
            "security {:?} is not starttls, tls or none",
            t.security
        ));
    }
    if t.security == "none" && (has_password || t.username.is_some()) {
        return Err(
            "a password is never sent over a plain connection; use starttls or tls".to_owned(),
        );
    }
    if t.host.trim().is_empty() || t.host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{:?} is not a host name", t.host));
    }
    t.from
        .parse::<Mailbox>()
        .map_err(|e| format!("from {:?}: {e}", t.from))?;
    if let Some(pem) = &t.ca_pem {
        if t.security == "none" {
            return Err("ca_pem is for a TLS connection; use starttls or tls".to_owned());
        }
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("ca_pem is not a PEM certificate ({e})"))?;
        if certs.is_empty() {
            return Err(
                "ca_pem holds no certificate; paste the CA's certificate, its BEGIN and END lines included"
                    .to_owned(),
            );
        }
    }
    if t.to.is_empty() {
        return Err("name at least one address in `to`".to_owned());
    }
    for to in &t.to {
        to.parse::<Mailbox>()
            .map_err(|e| format!("to {to:?}: {e}"))?;
    }
    Ok(())
}

/// The port: the one given, else the security mode's usual one.
fn port(t: &SmtpTarget) -> u16 {
    t.port.unwrap_or(match t.security.as_str() {
        "tls" => 465,
        "none" => 25,
        _ => 587,
    })
}

/// A subject line: the headline with every control character a space, at most 200 characters.
pub fn subject(m: &Message) -> String {
    m.headline()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

/// The message's text.
pub fn text(m: &Message) -> String {
    format!(
        "{}\n\nProduct: {}\nRequirement: {} ({})\nSites: {}\nSince: {}\nWho acts: {}\nEvent: {}\n",
        m.summary,
        m.product,
        m.title,
        m.requirement,
        m.sites.join(", "),
        m.since,
        m.owner,
        m.event_id
    )
}

/// One delivery of `m` by e-mail.
pub async fn send(channel: &ChannelRow, m: &Message) -> Result<(), String> {
    let target: SmtpTarget = serde_json::from_str(&channel.target)
        .map_err(|e| format!("the stored SMTP settings are unreadable: {e}"))?;
    check(&target, channel.secret.is_some())?;
    let port = port(&target);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((target.host.as_str(), port))
        .await
        .map_err(|e| format!("{} does not resolve: {e}", target.host))?
        .collect();
    let addr = addrs
        .first()
        .copied()
        .ok_or_else(|| format!("{} has no address", target.host))?;
    if channel.allow_private == 0
        && let Some(bad) = addrs.iter().find(|a| forbidden(a.ip()))
    {
        return Err(format!(
            "{} resolves to {}, a loopback, link-local or cloud-metadata address; refused (allow private addresses on the channel if this server is meant)",
            target.host,
            bad.ip()
        ));
    }
    let tls = match target.security.as_str() {
        "none" => Tls::None,
        mode => {
            let mut params = TlsParameters::builder(target.host.clone());
            if let Some(pem) = &target.ca_pem {
                let ca =
                    Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("ca_pem: {e}"))?;
                params = params.add_root_certificate(ca);
            }
            let params = params.build().map_err(|e| e.to_string())?;
            if mode == "tls" {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&target.username, &channel.secret) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let mut mail = Mail::builder()
        .from(target.from.parse().map_err(|e| format!("from: {e}"))?)
        .subject(subject(m))
        .message_id(Some(format!("<{}@fitcheck>", m.event_id)));
    for to in &target.to {
        mail = mail.to(to.parse().map_err(|e| format!("to {to}: {e}"))?);
    }
    let mail = mail.body(text(m)).map_err(|e| e.to_string())?;
    transport
        .build()
        .send(mail)
        .await
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", target.host))
}

#[cfg(test)]
mod tests {
    use super::{check, subject};
    use crate::notify::Message;
    use crate::types::SmtpTarget;

    fn target() -> SmtpTarget {
        SmtpTarget {
            host: "smtp.district.example".into(),
            port: None,
            security: "starttls".into(),
            username: Some("alerts".into()),
            from: "fitcheck <alerts@district.example>".into(),
            to: vec!["netops@district.example".into()],
            ca_pem: None,
        }
    }

    #[test]
    fn settings_are_checked_and_no_password_goes_in_the_clear() {
        assert!(check(&target(), true).is_ok());
        let plain = SmtpTarget {
            security: "none".into(),
            ..target()
        };
        assert!(check(&plain, true).is_err());
        let relay = SmtpTarget {
            username: None,
            ..plain
        };
        assert!(check(&relay, false).is_ok());
        assert!(
            check(
                &SmtpTarget {
                    to: vec![],
                    ..target()
                },
                true
            )
            .is_err()
        );
        assert!(
            check(
                &SmtpTarget {
                    from: "not an address".into(),
                    ..target()
                },
                true
            )
            .is_err()
        );
        assert!(
            check(
                &SmtpTarget {
                    ca_pem: Some("not a certificate".into()),
                    ..target()
                },
                true
            )
            .is_err_and(|e| e.contains("ca_pem"))
        );
        assert!(
            check(
                &SmtpTarget {
                    security: "ssl".into(),
                    ..target()
                },
                true
            )
            .is_err()
        );
    }

    #[test]
    fn nothing_in_a_report_adds_a_header() {
        let m = Message {
            event_id: "e".into(),
            kind: "opened".into(),
            evaluation_id: "ev".into(),
            product: "P".into(),
            requirement: "http[0]".into(),
            title: "T".into(),
            sites: vec![],
            since: "now".into(),
            summary: "blocked\r\nBcc: attacker@evil.example".into(),
            owner: "o".into(),
        };
        let s = subject(&m);
        assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
    }
}
