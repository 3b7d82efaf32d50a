//! Object ids and redundancy schemes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Bytes the client-side cipher adds to an object: a 12-byte nonce and a
/// 16-byte authentication tag (ChaCha20-Poly1305, RFC 8439).
pub const CIPHER_OVERHEAD: u64 = 28;

/// A content address: the SHA-256 of the stored bytes (of the ciphertext
/// when client-side encryption is on).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectId(pub [u8; 32]);

impl ObjectId {
    /// The id of `stored` bytes.
    pub fn of(stored: &[u8]) -> ObjectId {
        ObjectId(Sha256::digest(stored).into())
    }
    /// A synthetic id for simulated objects whose bytes are phantom: the
    /// SHA-256 of a label (`"object"`, the seed and the object's number),
    /// so ids are spread over the key space like real content hashes.
    pub fn synthetic(seed: u64, n: u64) -> ObjectId {
        let mut h = Sha256::new();
        h.update(b"peoplescloud synthetic object");
        h.update(seed.to_le_bytes());
        h.update(n.to_le_bytes());
        ObjectId(h.finalize().into())
    }
    /// The DHT key of this object at `bits` bits (the id's leading bits).
    pub fn key(&self, bits: u16) -> kademlia::Key {
        kademlia::Key::from_bytes(&self.0[..usize::from(bits) / 8])
            .expect("key widths are whole bytes up to 256 bits")
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…")
    }
}

/// How an object is made redundant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    /// `r` full copies; any one reads.
    Replicate {
        /// Copies.
        r: u16,
    },
    /// Reed–Solomon: `n` fragments of which any `m` rebuild the object.
    Erasure {
        /// Fragments needed.
        m: u16,
        /// Fragments stored.
        n: u16,
    },
}

/// A scheme that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    /// `r` is zero.
    #[error("replicas must be at least 1 (got {0})")]
    NoReplicas(u16),
    /// `m` is zero or above `n`.
    #[error("erasure {m}-of-{n}: m must be between 1 and n")]
    MOutOfRange {
        /// Needed.
        m: u16,
        /// Stored.
        n: u16,
    },
    /// `n` above what the coder supports.
    #[error("erasure {m}-of-{n}: n must be at most {max}")]
    TooMany {
        /// Needed.
        m: u16,
        /// Stored.
        n: u16,
        /// The limit.
        max: u16,
    },
}

impl Scheme {
    /// The largest number of fragments (or replicas) a scheme may use.
    pub const MAX_FRAGMENTS: u16 = 255;

    /// Check the scheme.
    pub fn validate(self) -> Result<Scheme, SchemeError> {
        match self {
            Scheme::Replicate { r: 0 } => Err(SchemeError::NoReplicas(0)),
            Scheme::Replicate { r } if r > Self::MAX_FRAGMENTS => Err(SchemeError::TooMany {
                m: 1,
                n: r,
                max: Self::MAX_FRAGMENTS,
            }),
            Scheme::Erasure { m, n } if m == 0 || m > n => Err(SchemeError::MOutOfRange { m, n }),
            Scheme::Erasure { m, n } if n > Self::MAX_FRAGMENTS => Err(SchemeError::TooMany {
                m,
                n,
                max: Self::MAX_FRAGMENTS,
            }),
            s => Ok(s),
        }
    }
    /// Fragments (or copies) stored.
    pub fn n(self) -> u16 {
        match self {
            Scheme::Replicate { r } => r,
            Scheme::Erasure { n, .. } => n,
        }
    }
    /// Distinct fragments needed to read (1 for replication).
    pub fn m(self) -> u16 {
        match self {
            Scheme::Replicate { .. } => 1,
            Scheme::Erasure { m, .. } => m,
        }
    }
    /// Bytes of one fragment of an object whose stored form (ciphertext
    /// when encrypted) is `stored_len` bytes: the whole object for a
    /// replica; for erasure coding `ceil(stored_len / m)` rounded up to an
    /// even number (the Reed–Solomon coder works on 16-bit symbols), at
    /// least 2.
    pub fn fragment_len(self, stored_len: u64) -> u64 {
        match self {
            Scheme::Replicate { .. } => stored_len,
            Scheme::Erasure { m, .. } => {
                let f = stored_len.div_ceil(u64::from(m)).max(2);
                f + (f & 1)
            }
        }
    }
    /// Whether fragments are interchangeable copies (replication).
    pub fn is_replication(self) -> bool {
        matches!(self, Scheme::Replicate { .. })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::Replicate { r } => write!(f, "{r} replicas"),
            Scheme::Erasure { m, n } => write!(f, "{m}of{n}"),
        }
    }
}

/// The stored length of an object of `len` plaintext bytes.
pub fn stored_len(len: u64, encrypted: bool) -> u64 {
    if encrypted {
        len + CIPHER_OVERHEAD
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_lengths() {
        let e = Scheme::Erasure { m: 6, n: 10 };
        assert_eq!(e.fragment_len(60), 10);
        assert_eq!(e.fragment_len(61), 12); // ceil(61/6) = 11, made even
        assert_eq!(e.fragment_len(0), 2);
        assert_eq!(Scheme::Replicate { r: 3 }.fragment_len(61), 61);
    }

    #[test]
    fn bad_schemes() {
        assert!(Scheme::Erasure { m: 7, n: 6 }.validate().is_err());
        assert!(Scheme::Erasure { m: 0, n: 6 }.validate().is_err());
        assert!(Scheme::Replicate { r: 0 }.validate().is_err());
        assert!(Scheme::Erasure { m: 6, n: 256 }.validate().is_err());
        assert!(Scheme::Erasure { m: 6, n: 10 }.validate().is_ok());
    }

    #[test]
    fn id_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let id = ObjectId::of(b"abc");
        assert_eq!(
            id.0[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "the well-known digest of \"abc\""
        );
    }
}
