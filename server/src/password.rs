//! Password hashing with argon2id (the `argon2` crate's defaults, OWASP's
//! recommendation), stored as PHC strings that carry their own salt and parameters.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes a password with a fresh random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// argon2's working memory (~19 MiB with the default parameters), kept by a thread that
/// checks passwords one after another. Allocating it afresh for each check makes the
/// allocator keep far more than one check's worth (seen: 2 threads, 20 checks, 390 MB
/// resident), so each hashing thread reuses a workspace of its own.
pub struct Workspace {
    blocks: Vec<argon2::Block>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            blocks: vec![argon2::Block::default(); argon2::Params::default().block_count()],
        }
    }
}

/// Whether `password` matches a stored hash, computed in `workspace`. A malformed stored
/// hash never matches. The comparison takes the same time whatever matches.
pub fn verify_in(workspace: &mut Workspace, password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; argon2::password_hash::Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(parsed.algorithm),
        argon2::Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map(argon2::Version::try_from)
        .unwrap_or(Ok(argon2::Version::V0x13));
    let Ok(version) = version else {
        return false;
    };
    let needed = params.block_count();
    if workspace.blocks.len() < needed {
        workspace.blocks.resize(needed, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut workspace.blocks[..needed],
    );
    // `Output`'s equality is constant-time.
    computed.is_ok() && argon2::password_hash::Output::new(&out).is_ok_and(|out| out == expected)
}

/// Whether `password` matches a stored hash. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = super::hash("correct horse");
        let b = super::hash("correct horse");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(super::verify("correct horse", &a));
        assert!(!super::verify("correct horse!", &a));
        assert!(!super::verify("correct horse", "not a hash"));
        // The same answers from a reused workspace.
        let mut workspace = super::Workspace::default();
        assert!(super::verify_in(&mut workspace, "correct horse", &a));
        assert!(super::verify_in(&mut workspace, "correct horse", &b));
        assert!(!super::verify_in(&mut workspace, "correct horse!", &a));
        assert!(!super::verify_in(
            &mut workspace,
            "correct horse",
            "not a hash"
        ));
        assert!(!super::verify_in(
            &mut workspace,
            "correct horse",
            &a.replace("$argon2id$", "$argon2x$")
        ));
    }
}
