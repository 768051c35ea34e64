//! Card tokens: a keyed hash of the full PAN written after each masked one, so the same
//! card can be followed across events without its number (PCI DSS 3.5.1.1).
//!
//! The token is HMAC-SHA-256 under the operator's key of the PAN's digits (ASCII, no
//! separators), its first 12 bytes as 24 lower-case hex digits: the same for the same card
//! and key whatever the grouping, never reversible without the key, and 96 bits leave a
//! collision between two cards out of reach for any realistic number of cards.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// Fewest key bytes accepted: the 256 bits of the hash.
pub const MIN_KEY_LEN: usize = 32;
/// Most key bytes accepted (a Secrets Manager value is read into memory whole).
pub const MAX_KEY_LEN: usize = 4096;
/// Bytes of the HMAC kept.
const TOKEN_BYTES: usize = 12;
/// What a token adds after a masked PAN: ` [pan_token:` + 24 hex + `]`.
pub(super) const TOKEN_TEXT_LEN: usize = PREFIX.len() + 2 * TOKEN_BYTES + 1;
const PREFIX: &[u8] = b" [pan_token:";

/// The key card tokens are made with. Kept in memory only: its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct PanKey(Vec<u8>);

impl fmt::Debug for PanKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanKey(..)")
    }
}

impl PanKey {
    /// A key of 32 to 4096 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&bytes.len()) {
            return Err(format!(
                "a card-token key has {MIN_KEY_LEN} to {MAX_KEY_LEN} bytes, not {}",
                bytes.len()
            ));
        }
        Ok(Self(bytes))
    }

    /// ` [pan_token:<24 hex>]` for the PAN whose digits (0-9 values) are `digits`.
    pub(super) fn token_text(&self, digits: &[u8]) -> [u8; TOKEN_TEXT_LEN] {
        let mut out = [0u8; TOKEN_TEXT_LEN];
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            // HMAC takes keys of any length; an error here cannot happen.
            return out;
        };
        for d in digits {
            mac.update(&[b'0' + d]);
        }
        let tag = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let (head, rest) = out.split_at_mut(PREFIX.len());
        head.copy_from_slice(PREFIX);
        for (pair, byte) in rest.chunks_exact_mut(2).zip(tag.iter().take(TOKEN_BYTES)) {
            if let [hi, lo] = pair {
                *hi = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
                *lo = HEX.get(usize::from(byte & 15)).copied().unwrap_or(b'0');
            }
        }
        if let Some(last) = out.last_mut() {
            *last = b']';
        }
        out
    }
}
