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

/// Hex SHA-256 of an input of this process: that of the bytes it read when
/// it read the file whole (as [`crate::TableReader::open`] does), otherwise
/// [`file_sha256`]. For a stage's provenance: the fingerprint is of the
/// content the outputs were computed from, and the file is not hashed twice.
/// (Not for a process that rewrites the file it hashes, like the runner.)
pub fn input_sha256(path: &Path) -> Result<String> {
    match crate::inputs::recorded_hash(path) {
        Some(sha) => Ok(sha),
        None => file_sha256(path),
    }
}

/// Hex SHA-256 of a file's content as it is now.
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
