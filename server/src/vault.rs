//! Encryption at rest for gateway credentials.
//!
//! Credentials are sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`)
//! under a 256-bit key that never enters the database: it comes from
//! `PAYCARD_SECRET_KEY` (base64), or from a key file (`PAYCARD_KEY_FILE`, by default
//! `paycard.key` beside the SQLite file) that is generated on first start with owner-only
//! permissions. A copy of the database alone therefore reveals no secret. Each value is
//! bound to its row by associated data, so a ciphertext moved to another gateway does
//! not open.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::config::Config;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "PAYCARD_SECRET_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)"
    )]
    BadEnvKey,
    #[error(
        "with PostgreSQL (several instances), set PAYCARD_SECRET_KEY, the same on every \
         instance (or PAYCARD_KEY_FILE to a file they share): a key made by one instance \
         alone would leave the others unable to read gateway credentials"
    )]
    NoSharedKey,
    #[error("the key file {0} does not hold 32 base64-encoded bytes")]
    BadKeyFile(PathBuf),
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The sealed-box of gateway credentials.
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(…)")
    }
}

/// A value that did not open: tampered with, or sealed under another key.
#[derive(Debug, thiserror::Error)]
#[error("stored credentials cannot be decrypted (wrong key or tampered data)")]
pub struct OpenError;

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Vault {
        Vault {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key from the environment, else from the key file (created if missing).
    pub fn load(config: &Config) -> Result<Vault, VaultError> {
        if let Some(text) = &config.secret_key {
            let key = decode_key(text).ok_or(VaultError::BadEnvKey)?;
            return Ok(Vault::from_key(&key));
        }
        let shared_database = matches!(
            crate::store::Backend::of(&config.database_url),
            Ok(crate::store::Backend::Postgres)
        );
        if shared_database && config.key_file.is_none() {
            return Err(VaultError::NoSharedKey);
        }
        let path = config
            .key_file
            .clone()
            .unwrap_or_else(|| default_key_file(&config.database_url));
        Ok(Vault::from_key(&read_or_create_key(&path)?))
    }

    /// Seals `plain`, bound to `context` (the row's id): base64 of nonce ‖ ciphertext.
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory input");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError)
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    STANDARD.decode(text.trim()).ok()?.try_into().ok()
}

/// `sqlite://data/paycard.db` keeps its key in `data/paycard.key`; a database that is
/// not a local file (memory, Postgres) keeps it in the working directory.
pub fn default_key_file(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match file.and_then(|f| Path::new(f).parent()) {
        Some(dir) => dir.join("paycard.key"),
        None => PathBuf::from("paycard.key"),
    }
}

fn read_or_create_key(path: &Path) -> Result<[u8; 32], VaultError> {
    let io = |source| VaultError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return decode_key(&text).ok_or_else(|| VaultError::BadKeyFile(path.into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(format!("{}\n", STANDARD.encode(key)).as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(io)?;
            tracing::info!(path = %path.display(), "generated the credentials key file; back it up with the database");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(io)?;
            decode_key(&text).ok_or_else(|| VaultError::BadKeyFile(path.into()))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let vault = Vault::from_key(&[7; 32]);
        let sealed = vault.seal(b"sk_test_secret", "gw_1");
        assert!(!sealed.contains("sk_test"));
        assert_eq!(vault.open(&sealed, "gw_1").unwrap(), b"sk_test_secret");
        assert!(vault.open(&sealed, "gw_2").is_err(), "bound to its row");
        assert!(Vault::from_key(&[8; 32]).open(&sealed, "gw_1").is_err());
        assert_ne!(sealed, vault.seal(b"sk_test_secret", "gw_1"), "fresh nonce");
        assert!(vault.open("bm90IGEgYm94", "gw_1").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/paycard.key");
        let first = read_or_create_key(&path).unwrap();
        assert_eq!(read_or_create_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            read_or_create_key(&path),
            Err(VaultError::BadKeyFile(_))
        ));
    }

    #[test]
    fn the_default_key_file_sits_beside_the_database() {
        assert_eq!(
            default_key_file("sqlite://data/paycard.db"),
            PathBuf::from("data/paycard.key")
        );
        assert_eq!(
            default_key_file("sqlite:///var/lib/paycard/db.sqlite?mode=rwc"),
            PathBuf::from("/var/lib/paycard/paycard.key")
        );
        assert_eq!(
            default_key_file("sqlite::memory:"),
            PathBuf::from("paycard.key")
        );
    }

    #[test]
    fn several_instances_must_be_given_their_shared_key() {
        let config = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
                .unwrap()
        };
        let postgres = ("DATABASE_URL", "postgres://db/paycard");
        assert!(matches!(
            Vault::load(&config(&[postgres])),
            Err(VaultError::NoSharedKey)
        ));
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert!(Vault::load(&config(&[postgres, ("PAYCARD_SECRET_KEY", key)])).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shared.key").display().to_string();
        assert!(Vault::load(&config(&[postgres, ("PAYCARD_KEY_FILE", &file)])).is_ok());
    }
}
