//! Credentials: random tokens for agents, sessions and enrollment secrets, passwords for people.
//!
//! Tokens are 256 random bits, so the database keeps their SHA-256 and a lookup is one indexed
//! query; a stolen database gives no usable credential. Passwords are chosen by people, so they
//! are hashed with Argon2id (slow on purpose, 19 MiB of work memory). The work memory is a
//! [`Scratch`] its caller keeps and reuses, so a thread that checks many passwords holds one
//! buffer instead of asking the allocator for 19 MiB each time (which glibc kept, arena after
//! arena, under a log-in flood).

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Kinds of token, told apart by their prefix so a leaked one is recognisable in a log.
#[derive(Debug, Clone, Copy)]
pub enum TokenKind {
    /// A district enrollment secret.
    Enrollment,
    /// An agent's credential.
    Agent,
    /// A person's session cookie.
    Session,
}

/// A fresh random token of this kind.
pub fn new_token(kind: TokenKind) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let prefix = match kind {
        TokenKind::Enrollment => "fce_",
        TokenKind::Agent => "fca_",
        TokenKind::Session => "fcs_",
    };
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A one-time password for a new person: 20 characters from an unambiguous alphabet.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

/// Argon2's work memory, reused from one password to the next.
#[derive(Debug, Default)]
pub struct Scratch(Vec<Block>);

/// The most work memory a stored hash may ask for (256 MiB); a hash asking more is refused.
const MAX_BLOCKS: usize = 256 * 1024;

impl Scratch {
    fn blocks(&mut self, n: usize) -> Option<&mut [Block]> {
        if n > MAX_BLOCKS {
            return None;
        }
        if self.0.len() < n {
            self.0.resize(n, Block::default());
        }
        self.0.get_mut(..n)
    }
}

/// The Argon2 output of `password` with `salt` (base64, as in a PHC string), `len` bytes,
/// computed in `scratch`'s memory.
fn compute(
    scratch: &mut Scratch,
    argon: &Argon2<'_>,
    password: &str,
    salt: Salt<'_>,
    len: usize,
) -> Result<Output, String> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let memory = scratch
        .blocks(argon.params().block_count())
        .ok_or("the hashing parameters ask for too much memory")?;
    Output::init_with(len, |out| {
        Ok(argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            out,
            &mut *memory,
        )?)
    })
    .map_err(|e| e.to_string())
}

/// Hashes a password with Argon2id and a random salt (PHC string), in `scratch`'s memory.
pub fn hash_password_with(scratch: &mut Scratch, password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = compute(
        scratch,
        &argon,
        password,
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string, computed in `scratch`'s memory; false
/// for a string that is not an Argon2 hash, or one asking for more than 256 MiB.
pub fn verify_password_with(scratch: &mut Scratch, password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(hash.algorithm),
        Params::try_from(&hash),
        hash.salt,
        hash.hash,
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let argon = Argon2::new(algorithm, version, params);
    // Output compares in constant time.
    compute(scratch, &argon, password, salt, expected.len())
        .is_ok_and(|computed| computed == expected)
}

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    hash_password_with(&mut Scratch::default(), password)
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_with(&mut Scratch::default(), password, stored)
}

/// An argon2 hash of a random password, to spend the same time on an unknown user name as on a
/// known one (no user-name oracle by timing).
pub fn dummy_hash(scratch: &mut Scratch) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password_with(scratch, &new_password()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_reject() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("x", "not a phc string"));
        // One scratch for many: the same answers.
        let mut scratch = Scratch::default();
        let h2 = hash_password_with(&mut scratch, "battery staple").unwrap();
        assert!(verify_password_with(&mut scratch, "battery staple", &h2));
        assert!(!verify_password_with(&mut scratch, "battery stapler", &h2));
        assert!(verify_password_with(&mut scratch, "correct horse", &h));
        // A hash made by argon2's own hasher (what stored hashes were before) still verifies.
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let theirs = Argon2::default()
            .hash_password(b"an older hash", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password_with(&mut scratch, "an older hash", &theirs));
        assert!(!verify_password_with(
            &mut scratch,
            "an older hasH",
            &theirs
        ));
        assert_eq!(
            hash_password_with(&mut Scratch::default(), "x")
                .unwrap()
                .split('$')
                .take(4)
                .collect::<Vec<_>>()
                .join("$"),
            "$argon2id$v=19$m=19456,t=2,p=1",
            "the same parameters as before"
        );
    }

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = new_token(TokenKind::Agent);
        let b = new_token(TokenKind::Agent);
        assert_ne!(a, b);
        assert!(a.starts_with("fca_") && a.len() == 4 + 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
