//! Content fingerprints (SHA-256) of files, recorded as provenance and used by
//! the runner's cache.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{IoError, Result};

/// Hex SHA-256 of a byte string.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of a file's content.
pub fn file_sha256(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|err| IoError::Read {
        path: path.to_path_buf(),
        err,
    })?;
    let sha = sha256_hex(&bytes);
    crate::inputs::record_hash(path, Some(sha.clone()));
    Ok(sha)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
