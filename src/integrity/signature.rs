//! SHA-256 (RustCrypto `sha2`) and the check of a digest's signature with
//! the public key alone (RustCrypto `p256`): an auditor needs the key's
//! public half, not KMS, to verify (an archive outlives keys and accounts).

use super::document::Sha256;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use sha2::Digest as _;

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256 {
    sha2::Sha256::digest(bytes).into()
}

/// SHA-256 over bytes that arrive in pieces (an object read as a stream).
#[derive(Default)]
pub struct Hasher(sha2::Sha256);

impl Hasher {
    /// Adds the next piece.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The hash of every piece added.
    pub fn finish(self) -> Sha256 {
        self.0.finalize().into()
    }
}

/// The public half of the signing key (`ECC_NIST_P256`).
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// From DER SubjectPublicKeyInfo, as KMS `GetPublicKey` returns it and
    /// `openssl pkey -pubin -outform DER` writes it.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        VerifyingKey::from_public_key_der(der)
            .map(Self)
            .map_err(|e| format!("not a DER P-256 public key: {e}"))
    }

    /// From PEM (`-----BEGIN PUBLIC KEY-----`) or DER bytes.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, String> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN PUBLIC KEY-----") => {
                VerifyingKey::from_public_key_pem(text)
                    .map(Self)
                    .map_err(|e| format!("not a PEM P-256 public key: {e}"))
            }
            _ => Self::from_der(bytes),
        }
    }

    /// Whether `signature` (DER ECDSA, as KMS `Sign` returns it with
    /// `ECDSA_SHA_256`) signs `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        DerSignature::try_from(signature).is_ok_and(|sig| self.0.verify(message, &sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer_and_streaming() {
        let abc = sha256(b"abc");
        assert_eq!(
            super::super::document::hex(&abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Hasher::default();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), abc);
    }

    /// The hashing rate digests are bounded by (docs/integrity.md); a
    /// figure to read, not a check: run it alone, on a quiet machine.
    #[test]
    #[ignore = "a measurement: cargo test --release -p cwl-firehose --lib sha256_throughput -- --ignored --nocapture"]
    fn sha256_throughput() {
        let block = vec![0x5au8; 1 << 20];
        let started = std::time::Instant::now();
        let mut h = Hasher::default();
        for _ in 0..256 {
            h.update(&block);
        }
        let hash = h.finish();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "sha256: 256 MiB in {secs:.3} s = {:.0} MB/s ({})",
            256.0 * 1.048_576 / secs,
            super::super::document::hex(&hash[..4])
        );
    }

    #[test]
    fn garbage_keys_and_signatures_are_refused() {
        assert!(PublicKey::from_der(b"not a key").is_err());
        assert!(PublicKey::from_pem_or_der(
            b"-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n"
        )
        .is_err());
    }
}
