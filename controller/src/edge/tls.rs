//! The controller's HTTPS identity: a certificate and key given by the district, or a
//! self-signed pair generated on first start and kept in the data directory. Agents pin the
//! SHA-256 fingerprint of this certificate at enrollment; the controller prints it so the
//! administrator can compare.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// Why the certificate could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no certificate; give a PEM file with the server certificate first")]
    NoCertificate { path: String },
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a usable TLS set-up: {0}")]
    Config(String),
}

/// The server's certificate chain and key, with the leaf's fingerprint.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// `sha256:` and the lowercase hex SHA-256 of the leaf certificate (DER).
    pub fingerprint: String,
    /// Where the certificate came from.
    pub cert_path: PathBuf,
    /// Whether it was generated now.
    pub generated: bool,
}

/// `sha256:…` of a DER certificate.
pub fn fingerprint(der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(der)))
}

/// The same fingerprint as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:…`).
pub fn fingerprint_colons(fp: &str) -> String {
    let hex = fp.strip_prefix("sha256:").unwrap_or(fp);
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// Loads `cert`/`key` when given; else the pair in `dir` (`tls/cert.pem`, `tls/key.pem`),
/// generating it on first start for `names` (DNS names or IP addresses).
pub fn load_or_generate(
    given: Option<(&Path, &Path)>,
    dir: &Path,
    names: &[String],
) -> Result<Identity, TlsError> {
    let (cert_path, key_path, generated) = match given {
        Some((c, k)) => (c.to_path_buf(), k.to_path_buf(), false),
        None => {
            let tls_dir = dir.join("tls");
            let c = tls_dir.join("cert.pem");
            let k = tls_dir.join("key.pem");
            let generated = if c.exists() && k.exists() {
                false
            } else {
                generate(&tls_dir, &c, &k, names)?;
                true
            };
            (c, k, generated)
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| read_error(&cert_path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_error(&cert_path, e))?;
    let leaf = chain.first().ok_or_else(|| TlsError::NoCertificate {
        path: cert_path.display().to_string(),
    })?;
    let fingerprint = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| read_error(&key_path, e))?;
    Ok(Identity {
        chain,
        key,
        fingerprint,
        cert_path,
        generated,
    })
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn generate(dir: &Path, cert: &Path, key: &Path, names: &[String]) -> Result<(), TlsError> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, date_time_ymd};
    let mut all: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for n in names {
        if !all.contains(n) {
            all.push(n.clone());
        }
    }
    let mut params = CertificateParams::new(all).map_err(|e| TlsError::Generate(e.to_string()))?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "fitcheck controller");
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2045, 12, 31);
    let pair = KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert_pem = params
        .self_signed(&pair)
        .map_err(|e| TlsError::Generate(e.to_string()))?
        .pem();
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    write_private_file(key, pair.serialize_pem().as_bytes())?;
    std::fs::write(cert, cert_pem).map_err(|source| TlsError::Write {
        path: cert.display().to_string(),
        source,
    })
}

/// Writes a file only its owner can read (mode 0600 on Unix), synced to disk.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|source| TlsError::Write {
            path: path.display().to_string(),
            source,
        })
}

/// The rustls server configuration (HTTP/1.1).
pub fn server_config(id: &Identity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(id.chain.clone(), id.key.clone_key())
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a =
            load_or_generate(None, dir.path(), &["controller.district.example".into()]).unwrap();
        assert!(a.generated);
        assert!(a.fingerprint.starts_with("sha256:") && a.fingerprint.len() == 7 + 64);
        let b = load_or_generate(None, dir.path(), &[]).unwrap();
        assert!(!b.generated);
        assert_eq!(a.fingerprint, b.fingerprint);
        server_config(&b).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn colon_form() {
        assert_eq!(fingerprint_colons("sha256:ab01ff"), "AB:01:FF");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("nope.pem");
        let err = load_or_generate(Some((&c, &c)), dir.path(), &[]).unwrap_err();
        assert!(err.to_string().contains("nope.pem"), "{err}");
    }
}
