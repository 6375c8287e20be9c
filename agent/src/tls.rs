//! TLS set-up shared by the HTTP check: the operating system's trust store (which honours
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`), the *public* roots (webpki-roots, plus any roots a
//! district declares public in a PEM file: a lab's CA, or its own PKI for a self-hosted
//! product), and a verifier that records the chain each server presented, so the report can
//! name the issuer even when verification fails.
//!
//! A chain the system trusts but the public roots do not was re-signed by a locally installed
//! CA: TLS interception.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fitcheck_core::report::CertificateEvidence;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Could not set TLS up at all.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error(
        "no trusted root certificate could be loaded from the system store ({0}); install the ca-certificates package or set SSL_CERT_FILE"
    )]
    NoRoots(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot use {0} as public roots: {1}; give a PEM file of CA certificates")]
    PublicRoots(String, String),
}

/// Chains presented by servers, by server name, first one kept.
#[derive(Debug, Clone, Default)]
pub struct SeenChains(Arc<Mutex<HashMap<String, Vec<CertificateDer<'static>>>>>);

impl SeenChains {
    fn record(&self, name: &ServerName<'_>, end: &CertificateDer<'_>, rest: &[CertificateDer<'_>]) {
        let key = name.to_str().into_owned();
        if let Ok(mut map) = self.0.lock() {
            map.entry(key).or_insert_with(|| {
                std::iter::once(end)
                    .chain(rest.iter())
                    .map(|c| c.clone().into_owned())
                    .collect()
            });
        }
    }

    /// The chain `host` presented, leaf first.
    pub fn chain(&self, host: &str) -> Option<Vec<CertificateDer<'static>>> {
        self.0.lock().ok()?.get(host).cloned()
    }
}

/// Subject, issuer and expiry of a DER certificate.
pub fn describe(der: &CertificateDer<'_>) -> Option<CertificateEvidence> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let not_after = cert
        .validity()
        .not_after
        .to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Some(CertificateEvidence {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after,
        trusted_by_system: None,
        publicly_trusted: None,
    })
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: SeenChains,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.seen.record(server_name, end_entity, intermediates);
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The trust stores, loaded once per run.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    roots: Arc<RootCertStore>,
    public: Arc<RootCertStore>,
}

/// The one cryptography provider (ring) of every TLS client the agent makes.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Loads every certificate of a PEM file.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bad = |e: String| TlsSetupError::PublicRoots(path.display().to_string(), e);
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect();
    let certs = certs.map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".to_owned()));
    }
    Ok(certs)
}

impl TlsSetup {
    /// Loads the operating system's trusted roots, and the public roots: webpki-roots plus
    /// every certificate in `extra_public` (PEM files).
    pub fn from_system(extra_public: &[PathBuf]) -> Result<TlsSetup, TlsSetupError> {
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
        if added == 0 {
            let why = loaded
                .errors
                .first()
                .map_or_else(|| "the store is empty".to_owned(), ToString::to_string);
            return Err(TlsSetupError::NoRoots(why));
        }
        let mut public = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for path in extra_public {
            for cert in load_pem(path)? {
                public.add(cert).map_err(|e| {
                    TlsSetupError::PublicRoots(path.display().to_string(), e.to_string())
                })?;
            }
        }
        Ok(TlsSetup {
            roots: Arc::new(roots),
            public: Arc::new(public),
        })
    }

    /// A client configuration that verifies against the system store and records chains.
    pub fn client_config(&self, seen: &SeenChains) -> Result<ClientConfig, TlsSetupError> {
        Self::config_with(&self.roots, seen)
    }

    /// A client configuration that verifies against the public roots only (bundled plus
    /// `--public-roots`) and records chains: for telling whether a server proves the name to
    /// anyone but this device.
    pub fn public_client_config(&self, seen: &SeenChains) -> Result<ClientConfig, TlsSetupError> {
        Self::config_with(&self.public, seen)
    }

    fn config_with(
        store: &Arc<RootCertStore>,
        seen: &SeenChains,
    ) -> Result<ClientConfig, TlsSetupError> {
        let inner = WebPkiServerVerifier::builder_with_provider(store.clone(), provider())
            .build()
            .map_err(|e| TlsSetupError::Config(rustls::Error::General(e.to_string())))?;
        let verifier = Arc::new(RecordingVerifier {
            inner,
            seen: seen.clone(),
        });
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    fn validates(store: &Arc<RootCertStore>, chain: &[CertificateDer<'_>], host: &str) -> bool {
        let (Some(leaf), Ok(name)) = (chain.first(), ServerName::try_from(host.to_owned())) else {
            return false;
        };
        let Ok(verifier) =
            WebPkiServerVerifier::builder_with_provider(store.clone(), provider()).build()
        else {
            return false;
        };
        verifier
            .verify_server_cert(
                leaf,
                chain.get(1..).unwrap_or(&[]),
                &name,
                &[],
                UnixTime::now(),
            )
            .is_ok()
    }

    /// The leaf of `chain` described, with whether the system and the public roots trust it.
    pub fn assess(&self, chain: &[CertificateDer<'_>], host: &str) -> Option<CertificateEvidence> {
        let mut ev = describe(chain.first()?)?;
        ev.trusted_by_system = Some(Self::validates(&self.roots, chain, host));
        ev.publicly_trusted = Some(Self::validates(&self.public, chain, host));
        Some(ev)
    }
}
