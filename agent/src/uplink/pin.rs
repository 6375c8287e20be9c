//! Certificate pinning for the controller connection.
//!
//! A district controller usually has a self-signed certificate, so no CA can vouch for it.
//! Instead the agent records the SHA-256 fingerprint of the certificate the controller presents
//! at enrollment (which the administrator compares with the one the controller shows) and from
//! then on talks only to a server presenting that exact certificate. The handshake signatures
//! are still verified, so a server must hold the certificate's private key, not just a copy of
//! the certificate.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::tls::provider;

/// SHA-256 of a certificate's DER encoding. Written `sha256:` + 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

/// Text that is not a SHA-256 fingerprint.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a SHA-256 certificate fingerprint: write sha256: and 64 hex digits, or the 32 colon-separated pairs `openssl x509 -noout -fingerprint -sha256` prints"
)]
pub struct FingerprintError(pub String);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Reads `sha256:<hex>`, bare hex, or OpenSSL's `AB:CD:…` form (with or without its
    /// `sha256 Fingerprint=` prefix), in either case.
    pub fn parse(text: &str) -> Result<Fingerprint, FingerprintError> {
        let bad = || FingerprintError(text.to_owned());
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let body = ["sha256 fingerprint=", "sha256:"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .unwrap_or(&lower);
        let hex: String = if body.contains(':') {
            let pairs: Vec<&str> = body.split(':').collect();
            if pairs.len() != 32 || pairs.iter().any(|p| p.len() != 2) {
                return Err(bad());
            }
            pairs.concat()
        } else {
            body.to_owned()
        };
        let mut out = [0u8; 32];
        hex::decode_to_slice(&hex, &mut out).map_err(|_| bad())?;
        Ok(Fingerprint(out))
    }

    /// `AB:CD:…`, as `openssl x509 -noout -fingerprint -sha256` prints it.
    pub fn colon_hex(&self) -> String {
        self.0
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fingerprint::parse(s)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Fingerprint::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The last certificate a server presented that was not the pinned one; taken by whoever
/// reports the failed connection, so the message can name both fingerprints.
#[derive(Debug, Clone, Default)]
pub struct Mismatch(Arc<Mutex<Option<Fingerprint>>>);

impl Mismatch {
    fn set(&self, seen: Option<Fingerprint>) {
        if let Ok(mut m) = self.0.lock() {
            *m = seen;
        }
    }

    /// The mismatching certificate seen since the last call, if any.
    pub fn take(&self) -> Option<Fingerprint> {
        self.0.lock().ok().and_then(|mut m| m.take())
    }
}

/// What a [`FingerprintVerifier`] does with the certificate a server presents.
#[derive(Debug)]
enum Check {
    /// Accept only this certificate; record a different one in `mismatch`.
    Pin {
        pin: Fingerprint,
        mismatch: Mismatch,
    },
    /// Record the certificate and end the handshake, so nothing is sent to a server that has
    /// not been compared with a fingerprint yet.
    Capture(Seen),
}

/// Judges a server by its certificate's fingerprint alone; handshake signatures are verified as
/// usual.
#[derive(Debug)]
struct FingerprintVerifier {
    check: Check,
    provider: Arc<CryptoProvider>,
}

/// The text of the error a capturing handshake ends with.
pub(crate) const CAPTURED: &str = "certificate recorded; handshake ended on purpose";

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = Fingerprint::of(end_entity.as_ref());
        match &self.check {
            // The pin is the controller's identity. The name and the dates in a self-signed
            // certificate add nothing an attacker could not also write into their own, and an
            // expired pinned certificate should not cut a district's agents off on a holiday.
            Check::Pin { pin, mismatch } if seen == *pin => {
                mismatch.set(None);
                Ok(ServerCertVerified::assertion())
            }
            Check::Pin { pin, mismatch } => {
                mismatch.set(Some(seen));
                Err(rustls::Error::General(format!(
                    "the server presented certificate {seen}, not the pinned {pin}"
                )))
            }
            Check::Capture(cell) => {
                if let Ok(mut s) = cell.lock() {
                    *s = Some(seen);
                }
                Err(rustls::Error::General(CAPTURED.to_owned()))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn config_with(verifier: Arc<dyn ServerCertVerifier>) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // HTTP/1.1 only: bandwidth streams must each be their own TCP connection, and one
    // configuration serves both the API and the bandwidth endpoint.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A client configuration that accepts only a server presenting the certificate `pin`.
/// The returned [`Mismatch`] says which certificate a refused server presented.
pub fn pinned_config(pin: Fingerprint) -> Result<(ClientConfig, Mismatch), rustls::Error> {
    let mismatch = Mismatch::default();
    let verifier = Arc::new(FingerprintVerifier {
        check: Check::Pin {
            pin,
            mismatch: mismatch.clone(),
        },
        provider: provider(),
    });
    Ok((config_with(verifier)?, mismatch))
}

/// Where [`capture_config`] records the certificate it saw.
pub(crate) type Seen = Arc<Mutex<Option<Fingerprint>>>;

/// A client configuration whose every handshake fails right after the server's certificate
/// has been recorded in the returned cell.
pub(crate) fn capture_config() -> Result<(ClientConfig, Seen), rustls::Error> {
    let seen = Arc::new(Mutex::new(None));
    let verifier = Arc::new(FingerprintVerifier {
        check: Check::Capture(seen.clone()),
        provider: provider(),
    });
    Ok((config_with(verifier)?, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_in_every_usual_form() {
        let fp = Fingerprint::of(b"certificate");
        let canonical = fp.to_string();
        assert!(canonical.starts_with("sha256:") && canonical.len() == 7 + 64);
        assert_eq!(Fingerprint::parse(&canonical), Ok(fp));
        assert_eq!(Fingerprint::parse(&canonical.to_uppercase()), Ok(fp));
        assert_eq!(Fingerprint::parse(&canonical[7..]), Ok(fp));
        assert_eq!(Fingerprint::parse(&fp.colon_hex()), Ok(fp));
        let openssl = format!("sha256 Fingerprint={}\n", fp.colon_hex());
        assert_eq!(Fingerprint::parse(&openssl), Ok(fp));
        let openssl_old = format!("SHA256 Fingerprint={}", fp.colon_hex());
        assert_eq!(Fingerprint::parse(&openssl_old), Ok(fp));
        for bad in [
            "",
            "sha256:",
            "sha256:abcd",
            &format!("{}g", &canonical[..canonical.len() - 1]),
            &fp.colon_hex()[3..],
            "md5:00112233445566778899aabbccddeeff",
        ] {
            assert!(Fingerprint::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn fingerprints_round_trip_through_json() {
        let fp = Fingerprint::of(b"x");
        let json = serde_json::to_string(&fp).unwrap();
        assert_eq!(json, format!("\"{fp}\""));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), fp);
        assert!(serde_json::from_str::<Fingerprint>("\"sha256:00\"").is_err());
    }
}
