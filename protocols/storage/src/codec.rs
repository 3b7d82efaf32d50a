//! The real path: turning an object's bytes into the fragments holders
//! store, and back.
//!
//! The simulation moves phantom payloads of the sizes computed here; a
//! deployment runs this code. Writing an object is [`encode`]:
//!
//! 1. optionally encrypt the plaintext on the client with
//!    ChaCha20-Poly1305 under a 32-byte key (the stored bytes become
//!    `nonce || ciphertext || tag`, [`CIPHER_OVERHEAD`] bytes longer);
//! 2. name the object by the SHA-256 of the stored bytes ([`ObjectId`]), so
//!    with encryption on, holders see neither the plaintext nor its hash;
//! 3. make it redundant: `r` identical replicas, or `m` systematic
//!    Reed–Solomon shards of the zero-padded stored bytes followed by
//!    `n − m` recovery shards (any `m` of the `n` rebuild the object).
//!
//! Reading is [`decode`]: gather any one replica or any `m` distinct
//! fragments, rebuild, check the SHA-256 against the id (a corrupted
//! fragment never yields wrong bytes silently), then decrypt and
//! authenticate.
//!
//! No randomness is used anywhere: the nonce is derived from the key and
//! the plaintext (see [`encode`]), so the same inputs always give the same
//! fragments.

use crate::scheme::{CIPHER_OVERHEAD, ObjectId, Scheme, SchemeError};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Bytes of the nonce at the front of an encrypted object.
const NONCE_LEN: usize = 12;
/// Bytes of the Poly1305 tag at the end of an encrypted object.
const TAG_LEN: usize = 16;
/// Domain separation label of the nonce derivation.
const NONCE_LABEL: &[u8] = b"peoplescloud nonce";

// The stored layout must agree with the sizes the simulation uses.
const _: () = assert!((NONCE_LEN + TAG_LEN) as u64 == CIPHER_OVERHEAD);

/// An object ready to be handed to its holders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The object's id: SHA-256 of the stored bytes (of the ciphertext when
    /// encrypted).
    pub id: ObjectId,
    /// Length of the stored bytes: the plaintext length, plus
    /// [`CIPHER_OVERHEAD`] when encrypted. Readers need it to strip the
    /// erasure coder's padding.
    pub stored_len: u64,
    /// `fragments[i]` is fragment (or replica) `i`. For replication, `r`
    /// identical copies of the stored bytes; for erasure coding, the `m`
    /// original shards of the zero-padded stored bytes followed by the
    /// `n − m` recovery shards, each [`Scheme::fragment_len`] bytes long.
    pub fragments: Vec<Vec<u8>>,
}

/// Why an object could not be encoded or read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CodecError {
    /// The scheme is invalid.
    #[error("invalid scheme: {0}")]
    Scheme(#[from] SchemeError),
    /// Too few distinct fragments were offered to rebuild the object.
    #[error("not enough fragments to read the object: have {have} distinct fragments, need {need}")]
    NotEnough {
        /// Distinct fragment indices offered.
        have: u16,
        /// Distinct fragments the scheme needs (`m`, or 1 for replication).
        need: u16,
    },
    /// A fragment's index is not one the scheme stores.
    #[error("fragment index {index} out of range: the scheme stores fragments 0..{n}")]
    BadIndex {
        /// The index offered.
        index: u16,
        /// Fragments (or replicas) the scheme stores.
        n: u16,
    },
    /// A fragment's length is not the scheme's fragment length for this
    /// object.
    #[error("fragment {index} is {len} bytes long, expected {expected}")]
    BadLength {
        /// The fragment's index.
        index: u16,
        /// Its length.
        len: u64,
        /// The length every fragment of this object has.
        expected: u64,
    },
    /// The claimed stored length cannot be held in memory.
    #[error("stored length {stored_len} is too large to be an object")]
    TooLarge {
        /// The claimed stored length.
        stored_len: u64,
    },
    /// The rebuilt bytes do not hash to the object id: a fragment is
    /// corrupted or belongs to another object.
    #[error(
        "integrity check failed: the rebuilt bytes do not hash to the object id (corrupted or foreign fragment)"
    )]
    Integrity,
    /// Authenticated decryption failed: wrong key, or the bytes were not
    /// produced by [`encode`] with a key.
    #[error("decryption failed: wrong key or not an encrypted object (authentication failed)")]
    Decrypt,
    /// Encryption failed (the plaintext exceeds ChaCha20-Poly1305's
    /// 256 GiB message limit).
    #[error("encryption failed: object too large for ChaCha20-Poly1305")]
    Encrypt,
    /// The Reed–Solomon coder reported an error.
    #[error("Reed–Solomon coder: {0}")]
    Coder(String),
}

impl From<reed_solomon_simd::Error> for CodecError {
    fn from(e: reed_solomon_simd::Error) -> Self {
        CodecError::Coder(e.to_string())
    }
}

/// Encode `data` for storage under `scheme`, encrypting it first when a
/// `key` is given.
///
/// # Encryption
///
/// With a key the stored bytes are `nonce (12 bytes) || ChaCha20-Poly1305
/// ciphertext || tag (16 bytes)`, [`CIPHER_OVERHEAD`] bytes more than the
/// plaintext, and the object id is the hash of those bytes: holders never
/// see the plaintext nor its hash.
///
/// The nonce is not random: it is the first 12 bytes of
/// `SHA-256("peoplescloud nonce" || key || plaintext)`. This is
/// deterministic (convergent-style) encryption, chosen so that encoding is
/// reproducible and never reads an OS random number generator:
///
/// * equal plaintexts under one key give equal ciphertexts, hence equal
///   ids. Whoever sees the stored objects of one key learns which of them
///   are equal (and the same client storing the same bytes twice stores
///   one object), but nothing else: without the key the nonce is an
///   unpredictable function of the plaintext;
/// * different plaintexts under one key reuse a nonce only if their
///   96-bit nonce prefixes collide, with probability about `q² / 2⁹⁷`
///   after `q` objects, which is negligible — nonce reuse, the one misuse
///   that breaks ChaCha20-Poly1305, cannot be caused by a faulty random
///   source;
/// * only 12 of the 32 digest bytes are revealed, so SHA-256's length
///   extension does not apply.
///
/// Different keys give unrelated ciphertexts of the same plaintext.
///
/// # Errors
///
/// [`CodecError::Scheme`] for an invalid scheme, [`CodecError::Encrypt`]
/// for a plaintext beyond the cipher's limit, [`CodecError::Coder`] if the
/// Reed–Solomon coder fails.
pub fn encode(data: &[u8], scheme: Scheme, key: Option<&[u8; 32]>) -> Result<Encoded, CodecError> {
    let scheme = scheme.validate()?;
    let stored = match key {
        Some(key) => encrypt(data, key)?,
        None => data.to_vec(),
    };
    let id = ObjectId::of(&stored);
    let stored_len = u64::try_from(stored.len()).map_err(|_| CodecError::TooLarge {
        stored_len: u64::MAX,
    })?;
    let fragments = match scheme {
        Scheme::Replicate { r } => vec![stored; usize::from(r)],
        Scheme::Erasure { m, n } => {
            let frag_len = fragment_len(scheme, stored_len)?;
            let m = usize::from(m);
            let n = usize::from(n);
            let mut padded = stored;
            padded.resize(frag_len * m, 0);
            let mut fragments: Vec<Vec<u8>> = padded.chunks(frag_len).map(<[u8]>::to_vec).collect();
            if n > m {
                // The coder rejects zero recovery shards, so an m-of-m
                // scheme (no redundancy) never calls it.
                let recovery = reed_solomon_simd::encode(m, n - m, &fragments)?;
                fragments.extend(recovery);
            }
            fragments
        }
    };
    Ok(Encoded {
        id,
        stored_len,
        fragments,
    })
}

/// Read back an object from `fragments`, pairs of a fragment index and its
/// bytes, as stored by [`encode`] with the same `scheme` and `key`.
///
/// `stored_len` and `id` are the [`Encoded`] fields kept by the object's
/// owner. Any one replica, or any `m` distinct erasure fragments, suffice.
/// Several fragments with the same index count once (the first is used).
/// Every fragment offered must have an index the scheme stores and the
/// scheme's fragment length for this object.
///
/// The rebuilt stored bytes are checked against `id` before anything is
/// returned, so a corrupted fragment gives [`CodecError::Integrity`],
/// never wrong bytes. When more than needed are offered, decode works
/// around bad ones: for replication each distinct replica is tried in the
/// order offered until one hashes right; for erasure coding, if the first
/// `m` fragments (lowest indices first) do not check out, each of them is
/// left out in turn in favour of the others, which recovers from any one
/// corrupted fragment when at least `m + 1` distinct fragments are
/// offered. With a `key` the checked bytes are then decrypted and
/// authenticated.
///
/// # Errors
///
/// [`CodecError::Scheme`], [`CodecError::BadIndex`],
/// [`CodecError::BadLength`], [`CodecError::TooLarge`] for malformed
/// input; [`CodecError::NotEnough`] when too few distinct fragments are
/// offered; [`CodecError::Integrity`] when no combination of the offered
/// fragments hashes to `id`; [`CodecError::Decrypt`] when a key is given
/// and authentication fails (wrong key); [`CodecError::Coder`] if the
/// Reed–Solomon coder fails.
pub fn decode(
    scheme: Scheme,
    stored_len: u64,
    id: &ObjectId,
    fragments: &[(u16, &[u8])],
    key: Option<&[u8; 32]>,
) -> Result<Vec<u8>, CodecError> {
    let scheme = scheme.validate()?;
    let frag_len = fragment_len(scheme, stored_len)?;
    let n = scheme.n();
    let need = scheme.m();

    // Check every fragment offered, and keep the first of each index, in
    // the order offered.
    let mut seen = BTreeMap::new();
    let mut distinct: Vec<(u16, &[u8])> = Vec::new();
    for &(index, bytes) in fragments {
        if index >= n {
            return Err(CodecError::BadIndex { index, n });
        }
        if bytes.len() != frag_len {
            return Err(CodecError::BadLength {
                index,
                len: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                expected: u64::try_from(frag_len).unwrap_or(u64::MAX),
            });
        }
        if seen.insert(index, ()).is_none() {
            distinct.push((index, bytes));
        }
    }
    if distinct.len() < usize::from(need) {
        return Err(CodecError::NotEnough {
            have: u16::try_from(distinct.len()).unwrap_or(u16::MAX),
            need,
        });
    }

    let stored = match scheme {
        Scheme::Replicate { .. } => distinct
            .iter()
            .map(|&(_, bytes)| bytes)
            .find(|bytes| ObjectId::of(bytes) == *id)
            .map(<[u8]>::to_vec)
            .ok_or(CodecError::Integrity)?,
        Scheme::Erasure { m, n } => {
            distinct.sort_unstable_by_key(|&(index, _)| index);
            decode_erasure(m, n, frag_len, stored_len, id, &distinct)?
        }
    };

    match key {
        Some(key) => decrypt(&stored, key),
        None => Ok(stored),
    }
}

/// The fragment length of an object as a `usize`, refusing stored lengths
/// no object in memory can have (which would also overflow
/// [`Scheme::fragment_len`]).
fn fragment_len(scheme: Scheme, stored_len: u64) -> Result<usize, CodecError> {
    let too_large = CodecError::TooLarge { stored_len };
    let limit = u64::try_from(isize::MAX).unwrap_or(u64::MAX) / 2;
    if stored_len > limit {
        return Err(too_large);
    }
    usize::try_from(scheme.fragment_len(stored_len)).map_err(|_| too_large)
}

/// Rebuild and check an erasure-coded object from `distinct` fragments
/// (sorted by index, at least `m` of them, all valid).
fn decode_erasure(
    m: u16,
    n: u16,
    frag_len: usize,
    stored_len: u64,
    id: &ObjectId,
    distinct: &[(u16, &[u8])],
) -> Result<Vec<u8>, CodecError> {
    let want = usize::from(m);
    // The first attempt takes the lowest m indices (as many originals as
    // possible: least work); if that fails to check out and spares exist,
    // leave each of those m out in turn.
    let spares = distinct.len() > want;
    let leave_out = std::iter::once(None).chain((0..want).filter(|_| spares).map(Some));
    for skip in leave_out {
        let chosen: Vec<(u16, &[u8])> = distinct
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != skip)
            .map(|(_, &f)| f)
            .take(want)
            .collect();
        let stored = rebuild(m, n, frag_len, stored_len, &chosen)?;
        if ObjectId::of(&stored) == *id {
            return Ok(stored);
        }
    }
    Err(CodecError::Integrity)
}

/// The stored bytes from exactly `m` distinct valid fragments sorted by
/// index.
fn rebuild(
    m: u16,
    n: u16,
    frag_len: usize,
    stored_len: u64,
    chosen: &[(u16, &[u8])],
) -> Result<Vec<u8>, CodecError> {
    let originals = usize::from(m);
    let stored_len =
        usize::try_from(stored_len).map_err(|_| CodecError::TooLarge { stored_len })?;
    let have_all_originals = chosen
        .iter()
        .enumerate()
        .all(|(i, &(index, _))| usize::from(index) == i);
    let restored = if have_all_originals {
        BTreeMap::new()
    } else {
        // Some original is missing, so some recovery shard was chosen and
        // n > m: the coder has recovery shards to work with.
        let recovery_count = usize::from(n.saturating_sub(m));
        reed_solomon_simd::decode(
            originals,
            recovery_count,
            chosen
                .iter()
                .filter(|&&(index, _)| index < m)
                .map(|&(index, bytes)| (usize::from(index), bytes)),
            chosen
                .iter()
                .filter(|&&(index, _)| index >= m)
                .map(|&(index, bytes)| (usize::from(index - m), bytes)),
        )?
    };
    let mut stored = Vec::with_capacity(frag_len * originals);
    for i in 0..originals {
        let shard = match chosen.iter().find(|&&(index, _)| usize::from(index) == i) {
            Some(&(_, bytes)) => bytes,
            None => restored
                .get(&i)
                .map(Vec::as_slice)
                .ok_or_else(|| CodecError::Coder(format!("original shard {i} was not restored")))?,
        };
        stored.extend_from_slice(shard);
    }
    if stored.len() < stored_len {
        return Err(CodecError::Coder(format!(
            "rebuilt {} bytes, fewer than the {stored_len} stored",
            stored.len()
        )));
    }
    stored.truncate(stored_len);
    Ok(stored)
}

/// The cipher for `key`.
fn cipher(key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&Key::from(*key))
}

/// `nonce || ciphertext || tag` of `plaintext`, with the nonce derived from
/// the key and the plaintext.
fn encrypt(plaintext: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, CodecError> {
    let digest = Sha256::new()
        .chain_update(NONCE_LABEL)
        .chain_update(key)
        .chain_update(plaintext)
        .finalize();
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&digest[..NONCE_LEN]);
    let sealed = cipher(key)
        .encrypt(&Nonce::from(nonce), plaintext)
        .map_err(|_| CodecError::Encrypt)?;
    let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
    stored.extend_from_slice(&nonce);
    stored.extend_from_slice(&sealed);
    Ok(stored)
}

/// The plaintext of `nonce || ciphertext || tag`, authenticated.
fn decrypt(stored: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, CodecError> {
    if stored.len() < NONCE_LEN + TAG_LEN {
        return Err(CodecError::Decrypt);
    }
    let (nonce, sealed) = stored.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| CodecError::Decrypt)?;
    cipher(key)
        .decrypt(&nonce, sealed)
        .map_err(|_| CodecError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_of_m_never_calls_the_coder() {
        let data = b"three of three";
        let scheme = Scheme::Erasure { m: 3, n: 3 };
        let enc = encode(data, scheme, None).unwrap();
        assert_eq!(enc.fragments.len(), 3);
        let frags: Vec<(u16, &[u8])> = enc
            .fragments
            .iter()
            .enumerate()
            .map(|(i, f)| (i as u16, f.as_slice()))
            .collect();
        let back = decode(scheme, enc.stored_len, &enc.id, &frags, None).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn absurd_stored_len_is_an_error_not_a_panic() {
        for scheme in [Scheme::Erasure { m: 1, n: 2 }, Scheme::Replicate { r: 2 }] {
            let err = decode(scheme, u64::MAX, &ObjectId([0; 32]), &[(0, &[0, 0])], None);
            assert_eq!(
                err,
                Err(CodecError::TooLarge {
                    stored_len: u64::MAX
                })
            );
        }
    }

    #[test]
    fn nonce_is_the_documented_prefix() {
        let key = [7u8; 32];
        let stored = encrypt(b"hello", &key).unwrap();
        let mut h = Sha256::new();
        h.update(b"peoplescloud nonce");
        h.update(key);
        h.update(b"hello");
        assert_eq!(stored[..12], h.finalize()[..12]);
        assert_eq!(stored.len(), 5 + 28);
    }

    #[test]
    fn short_stored_bytes_with_a_key_fail_to_decrypt() {
        let scheme = Scheme::Replicate { r: 1 };
        let enc = encode(b"short", scheme, None).unwrap();
        let frags = [(0u16, enc.fragments[0].as_slice())];
        let err = decode(scheme, enc.stored_len, &enc.id, &frags, Some(&[1; 32]));
        assert_eq!(err, Err(CodecError::Decrypt));
    }
}
