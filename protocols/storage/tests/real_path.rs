//! The real path of the storage protocol: encode an object's bytes into
//! fragments and read it back from any sufficient subset, with integrity
//! checks and client-side encryption.

use proptest::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};
use storage::codec::{CodecError, Encoded, decode, encode};
use storage::{ObjectId, Scheme, SchemeError};

/// A deterministic object of `len` bytes that differs from object to object.
fn object(len: usize, salt: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(salt ^ (len as u64).rotate_left(17));
    (0..len).map(|_| rng.random::<u8>()).collect()
}

/// The fragments of `enc` with the given indices, as `decode` takes them.
fn pick<'a>(enc: &'a Encoded, indices: &[u16]) -> Vec<(u16, &'a [u8])> {
    indices
        .iter()
        .map(|&i| (i, enc.fragments[usize::from(i)].as_slice()))
        .collect()
}

/// Every subset of `0..n` with exactly `k` members.
fn subsets(n: u16, k: u16) -> Vec<Vec<u16>> {
    assert!(n <= 16);
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() == u32::from(k))
        .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
        .collect()
}

/// The fragment sets to try for an `m`-of-`n` object: every way of losing
/// `n − m` fragments when `n ≤ 6`, otherwise a seeded sample of them, plus
/// all fragments and the originals alone.
fn kept_sets(m: u16, n: u16, rng: &mut ChaCha8Rng) -> Vec<Vec<u16>> {
    let mut sets = if n <= 6 {
        subsets(n, m)
    } else {
        (0..60)
            .map(|_| {
                let mut keep: Vec<u16> =
                    rand::seq::index::sample(rng, usize::from(n), usize::from(m))
                        .into_iter()
                        .map(|i| u16::try_from(i).unwrap())
                        .collect();
                keep.shuffle(rng);
                keep
            })
            .collect()
    };
    sets.push((0..n).collect());
    sets.push((0..m).collect());
    sets.push((n - m..n).collect());
    sets
}

const SCHEMES: [(u16, u16); 10] = [
    (6, 10),
    (1, 1),
    (3, 3),
    (4, 12),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
    (5, 6),
    (10, 16),
];

const SIZES: [usize; 8] = [0, 1, 2, 5, 333, 1000, 4093, 5 * 1024 + 7];

#[test]
fn erasure_round_trip_from_every_sufficient_subset() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x00c0_dec5);
    let mut decodes = 0u32;
    for (m, n) in SCHEMES {
        let scheme = Scheme::Erasure { m, n };
        for (s, len) in SIZES.into_iter().enumerate() {
            let data = object(len, s as u64);
            for key in [None, Some([0x5a; 32])] {
                let enc = encode(&data, scheme, key.as_ref()).unwrap();
                let stored_len = len as u64 + if key.is_some() { 28 } else { 0 };
                assert_eq!(enc.stored_len, stored_len);
                assert_eq!(enc.fragments.len(), usize::from(n), "{scheme} fragments");
                let frag_len = scheme.fragment_len(stored_len);
                assert!(frag_len >= 2 && frag_len.is_multiple_of(2));
                for f in &enc.fragments {
                    assert_eq!(f.len() as u64, frag_len, "{scheme}, {len} bytes");
                }
                // The originals are the stored bytes, zero-padded.
                let originals: Vec<u8> = enc.fragments[..usize::from(m)].concat();
                let (stored, padding) = originals.split_at(stored_len as usize);
                assert_eq!(ObjectId::of(stored), enc.id);
                assert!(padding.iter().all(|&b| b == 0));
                if key.is_none() {
                    assert_eq!(stored, data.as_slice());
                }
                for keep in kept_sets(m, n, &mut rng) {
                    let frags = pick(&enc, &keep);
                    let back = decode(scheme, enc.stored_len, &enc.id, &frags, key.as_ref());
                    assert_eq!(
                        back.as_deref(),
                        Ok(data.as_slice()),
                        "{scheme}, {len} bytes, key {}, kept {keep:?}",
                        key.is_some()
                    );
                    decodes += 1;
                }
            }
        }
    }
    assert!(decodes > 2_000, "{decodes} decodes");
}

#[test]
fn encoding_is_deterministic() {
    let data = object(777, 1);
    for scheme in [Scheme::Erasure { m: 6, n: 10 }, Scheme::Replicate { r: 3 }] {
        for key in [None, Some([9; 32])] {
            assert_eq!(
                encode(&data, scheme, key.as_ref()),
                encode(&data, scheme, key.as_ref())
            );
        }
    }
}

#[test]
fn fewer_than_m_distinct_fragments_is_not_enough() {
    let scheme = Scheme::Erasure { m: 6, n: 10 };
    let data = object(1234, 2);
    let enc = encode(&data, scheme, None).unwrap();
    let cases: [(&[u16], u16); 5] = [
        (&[0, 1, 2, 3, 4], 5),
        (&[9, 8, 7], 3),
        (&[3, 3, 3, 3, 3, 3], 1),
        (&[1, 7, 1, 7, 2, 2, 7, 1, 2, 1], 3),
        (&[], 0),
    ];
    for (indices, have) in cases {
        let err = decode(scheme, enc.stored_len, &enc.id, &pick(&enc, indices), None).unwrap_err();
        assert_eq!(err, CodecError::NotEnough { have, need: 6 }, "{indices:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("have {have} distinct fragments, need 6")),
            "{text}"
        );
    }
    // Six offers of five distinct indices are still not enough; six
    // distinct with duplicates mixed in are.
    let five = pick(&enc, &[0, 1, 2, 3, 4, 4]);
    assert_eq!(
        decode(scheme, enc.stored_len, &enc.id, &five, None),
        Err(CodecError::NotEnough { have: 5, need: 6 })
    );
    let six = pick(&enc, &[9, 9, 0, 1, 9, 2, 3, 4, 0]);
    assert_eq!(
        decode(scheme, enc.stored_len, &enc.id, &six, None).as_deref(),
        Ok(data.as_slice())
    );

    let rep = Scheme::Replicate { r: 3 };
    let enc = encode(&data, rep, None).unwrap();
    let err = decode(rep, enc.stored_len, &enc.id, &[], None).unwrap_err();
    assert_eq!(err, CodecError::NotEnough { have: 0, need: 1 });
    assert!(
        err.to_string()
            .contains("have 0 distinct fragments, need 1")
    );
}

#[test]
fn malformed_input_is_an_error() {
    let scheme = Scheme::Erasure { m: 3, n: 5 };
    let enc = encode(&object(100, 3), scheme, None).unwrap();
    let mut frags = pick(&enc, &[0, 1, 2]);
    frags.push((5, enc.fragments[0].as_slice()));
    assert_eq!(
        decode(scheme, enc.stored_len, &enc.id, &frags, None),
        Err(CodecError::BadIndex { index: 5, n: 5 })
    );
    let short = &enc.fragments[1][1..];
    let frags = [(0, enc.fragments[0].as_slice()), (1, short)];
    assert_eq!(
        decode(scheme, enc.stored_len, &enc.id, &frags, None),
        Err(CodecError::BadLength {
            index: 1,
            len: 33,
            expected: 34
        })
    );
    // A wrong stored length makes every fragment the wrong length.
    let frags = pick(&enc, &[0, 1, 2]);
    assert!(matches!(
        decode(scheme, 200, &enc.id, &frags, None),
        Err(CodecError::BadLength { .. })
    ));
    // A stored length in the same fragment size but shorter than the real
    // one rebuilds other bytes, which the id check refuses.
    assert_eq!(
        decode(scheme, 99, &enc.id, &frags, None),
        Err(CodecError::Integrity)
    );
    for bad in [
        Scheme::Erasure { m: 0, n: 3 },
        Scheme::Erasure { m: 4, n: 3 },
        Scheme::Erasure { m: 4, n: 300 },
        Scheme::Replicate { r: 0 },
    ] {
        let err = encode(b"x", bad, None).unwrap_err();
        assert!(matches!(err, CodecError::Scheme(_)), "{bad:?}: {err}");
        let err = decode(bad, 1, &enc.id, &[], None).unwrap_err();
        assert!(matches!(err, CodecError::Scheme(_)), "{bad:?}: {err}");
    }
    assert_eq!(
        encode(b"x", Scheme::Replicate { r: 0 }, None),
        Err(CodecError::Scheme(SchemeError::NoReplicas(0)))
    );
}

#[test]
fn a_corrupted_fragment_never_yields_wrong_bytes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xbad_f00d);
    let mut integrity_errors = 0u32;
    for (m, n) in [(6u16, 10u16), (3, 5), (4, 6), (2, 2), (1, 3)] {
        let scheme = Scheme::Erasure { m, n };
        for len in [1usize, 100, 1001] {
            let data = object(len, 4);
            let enc = encode(&data, scheme, None).unwrap();
            let frag_len = enc.fragments[0].len();
            for bad in 0..n {
                for pos in [0, frag_len / 2, frag_len - 1] {
                    let mut corrupt = enc.clone();
                    corrupt.fragments[usize::from(bad)][pos] ^= 0x40;
                    // Any m of them including the bad one (every such set
                    // for n ≤ 6, a seeded sample otherwise): the right
                    // bytes, or an integrity error.
                    let mut with_bad: Vec<Vec<u16>> = subsets(n, m)
                        .into_iter()
                        .filter(|k| k.contains(&bad))
                        .collect();
                    if n > 6 {
                        with_bad.shuffle(&mut rng);
                        with_bad.truncate(12);
                    }
                    for keep in with_bad {
                        let frags = pick(&corrupt, &keep);
                        match decode(scheme, enc.stored_len, &enc.id, &frags, None) {
                            Ok(back) => assert_eq!(back, data, "{scheme} bad {bad}@{pos}"),
                            Err(CodecError::Integrity) => integrity_errors += 1,
                            Err(e) => panic!("{scheme} bad {bad}@{pos} kept {keep:?}: {e}"),
                        }
                    }
                    // A corrupted data byte read directly is caught.
                    let data_byte = usize::from(bad) * frag_len + pos < len;
                    if bad < m && data_byte {
                        let frags = pick(&corrupt, &(0..m).collect::<Vec<_>>());
                        assert_eq!(
                            decode(scheme, enc.stored_len, &enc.id, &frags, None),
                            Err(CodecError::Integrity),
                            "{scheme} bad {bad}@{pos}"
                        );
                    }
                    // With a spare fragment, decoding works around it.
                    if n > m {
                        let mut all: Vec<u16> = (0..n).collect();
                        all.reverse();
                        let frags = pick(&corrupt, &all);
                        let back = decode(scheme, enc.stored_len, &enc.id, &frags, None);
                        assert_eq!(back.as_deref(), Ok(data.as_slice()), "{scheme} {bad}@{pos}");
                    }
                }
            }
        }
    }
    assert!(integrity_errors > 100, "{integrity_errors}");
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether any fragment of `enc`, or the stored bytes it spreads over its
/// originals, contains any 16-byte window of `plain`, its SHA-256 or the
/// first 16 bytes of that.
fn leaks(enc: &Encoded, scheme: Scheme, plain: &[u8]) -> bool {
    let digest = Sha256::digest(plain);
    let originals: Vec<u8> = enc.fragments[..usize::from(scheme.m())].concat();
    let mut places: Vec<&[u8]> = enc.fragments.iter().map(Vec::as_slice).collect();
    places.push(&originals);
    places.iter().any(|place| {
        plain.windows(16).any(|w| contains(place, w))
            || contains(place, &digest)
            || contains(place, &digest[..16])
    })
}

#[test]
fn encrypted_objects_hide_the_plaintext_and_its_hash() {
    let plain: Vec<u8> = (0..40)
        .flat_map(|i| {
            format!("peoplescloud secret line {i:03}: the quick brown fox. ").into_bytes()
        })
        .collect();
    assert!(plain.len() >= 64);
    let key = [0x42; 32];
    let other_key = [0x43; 32];
    let plain_hash = ObjectId(Sha256::digest(&plain).into());
    for scheme in [
        Scheme::Replicate { r: 3 },
        Scheme::Erasure { m: 1, n: 1 },
        Scheme::Erasure { m: 6, n: 10 },
        Scheme::Erasure { m: 4, n: 12 },
    ] {
        // The leak detector works: without a key the plaintext is there.
        let clear = encode(&plain, scheme, None).unwrap();
        assert!(leaks(&clear, scheme, &plain), "{scheme}");
        assert_eq!(clear.id, plain_hash);

        let enc = encode(&plain, scheme, Some(&key)).unwrap();
        assert_eq!(enc.stored_len, plain.len() as u64 + 28);
        assert!(!leaks(&enc, scheme, &plain), "{scheme} leaks the plaintext");
        assert_ne!(enc.id, plain_hash);
        let originals: Vec<u8> = enc.fragments[..usize::from(scheme.m())].concat();
        let stored = &originals[..enc.stored_len as usize];
        assert_eq!(enc.id, ObjectId(Sha256::digest(stored).into()));
        if scheme.is_replication() {
            assert!(enc.fragments.iter().all(|f| f.as_slice() == stored));
        }

        let all: Vec<u16> = (0..scheme.n()).collect();
        let frags = pick(&enc, &all);
        assert_eq!(
            decode(scheme, enc.stored_len, &enc.id, &frags, Some(&key)).as_deref(),
            Ok(plain.as_slice())
        );
        assert_eq!(
            decode(scheme, enc.stored_len, &enc.id, &frags, Some(&other_key)),
            Err(CodecError::Decrypt)
        );
        // Without the key, a reader gets the ciphertext, not the plaintext.
        let raw = decode(scheme, enc.stored_len, &enc.id, &frags, None).unwrap();
        assert_eq!(raw, stored);

        // Another key encrypts the same plaintext to other bytes.
        let other = encode(&plain, scheme, Some(&other_key)).unwrap();
        assert_ne!(other.id, enc.id);
        assert_ne!(other.fragments[0][..12], enc.fragments[0][..12]);
    }
    // The empty object encrypts to a tag alone.
    let scheme = Scheme::Erasure { m: 6, n: 10 };
    let enc = encode(&[], scheme, Some(&key)).unwrap();
    assert_eq!(enc.stored_len, 28);
    let frags = pick(&enc, &[4, 5, 6, 7, 8, 9]);
    assert_eq!(
        decode(scheme, 28, &enc.id, &frags, Some(&key)),
        Ok(Vec::new())
    );
}

#[test]
fn replication_reads_any_replica_and_skips_corrupt_ones() {
    for r in [1u16, 2, 3, 5] {
        let scheme = Scheme::Replicate { r };
        for len in [0usize, 1, 999] {
            let data = object(len, 5);
            for key in [None, Some([1; 32])] {
                let enc = encode(&data, scheme, key.as_ref()).unwrap();
                assert_eq!(enc.fragments.len(), usize::from(r));
                for i in 0..r {
                    let back = decode(
                        scheme,
                        enc.stored_len,
                        &enc.id,
                        &pick(&enc, &[i]),
                        key.as_ref(),
                    );
                    assert_eq!(back.as_deref(), Ok(data.as_slice()), "replica {i} of {r}");
                }
                if enc.stored_len == 0 {
                    continue;
                }
                let mut corrupt = enc.clone();
                corrupt.fragments[0][enc.stored_len as usize / 2] ^= 1;
                let alone = pick(&corrupt, &[0]);
                assert_eq!(
                    decode(scheme, enc.stored_len, &enc.id, &alone, key.as_ref()),
                    Err(CodecError::Integrity)
                );
                if r > 1 {
                    let both = pick(&corrupt, &[0, 1]);
                    let back = decode(scheme, enc.stored_len, &enc.id, &both, key.as_ref());
                    assert_eq!(back.as_deref(), Ok(data.as_slice()));
                    // The same corrupt replica offered twice is one replica.
                    let twice = pick(&corrupt, &[0, 0]);
                    assert_eq!(
                        decode(scheme, enc.stored_len, &enc.id, &twice, key.as_ref()),
                        Err(CodecError::Integrity)
                    );
                }
            }
        }
    }
}

/// An object, an `m`-of-`n` scheme, the fragments kept (at least `m`,
/// shuffled) and whether to encrypt.
fn erasure_case() -> impl Strategy<Value = (Vec<u8>, u16, u16, Vec<u16>, bool)> {
    (
        proptest::collection::vec(any::<u8>(), 0..2000),
        1u16..=8,
        0u16..=6,
        any::<bool>(),
    )
        .prop_flat_map(|(data, m, extra, encrypt)| {
            let n = m + extra;
            let keep = proptest::sample::subsequence(
                (0..n).collect::<Vec<u16>>(),
                usize::from(m)..=usize::from(n),
            )
            .prop_shuffle();
            (Just(data), Just(m), Just(n), keep, Just(encrypt))
        })
}

proptest! {
    // A fixed seed keeps the run reproducible; no failure-persistence files.
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0c0d_ec00),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn erasure_round_trip_survives_any_n_minus_m_losses(
        (data, m, n, keep, encrypt) in erasure_case()
    ) {
        let scheme = Scheme::Erasure { m, n };
        let key = encrypt.then_some([0x77; 32]);
        let enc = encode(&data, scheme, key.as_ref()).unwrap();
        prop_assert_eq!(enc.fragments.len(), usize::from(n));
        let frags = pick(&enc, &keep);
        let back = decode(scheme, enc.stored_len, &enc.id, &frags, key.as_ref());
        prop_assert_eq!(back.as_deref(), Ok(data.as_slice()));
        // One fragment fewer than m is never enough.
        let distinct = m - 1;
        let short: Vec<u16> = keep.iter().copied().take(usize::from(distinct)).collect();
        let frags = pick(&enc, &short);
        prop_assert_eq!(
            decode(scheme, enc.stored_len, &enc.id, &frags, key.as_ref()),
            Err(CodecError::NotEnough { have: distinct, need: m })
        );
    }

    #[test]
    fn decode_never_panics_on_garbage(
        m in 1u16..=6,
        extra in 0u16..=4,
        stored_len in prop_oneof![0u64..200, Just(u64::MAX), Just(u64::MAX / 2)],
        frags in proptest::collection::vec((0u16..12, proptest::collection::vec(any::<u8>(), 0..80)), 0..12),
        key in any::<Option<[u8; 32]>>(),
    ) {
        let scheme = Scheme::Erasure { m, n: m + extra };
        let frags: Vec<(u16, &[u8])> = frags.iter().map(|(i, f)| (*i, f.as_slice())).collect();
        let id = ObjectId([0; 32]);
        // Garbage never decodes (it would have to hash to the zero id).
        prop_assert!(decode(scheme, stored_len, &id, &frags, key.as_ref()).is_err());
        let replicated = Scheme::Replicate { r: m };
        prop_assert!(decode(replicated, stored_len, &id, &frags, key.as_ref()).is_err());
    }
}
