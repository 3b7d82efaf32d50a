//! Keys, the XOR metric, bucket indices and the shared id table.
//!
//! A [`Key`] is an unsigned integer of `bits` bits (32 to 256, a multiple
//! of 8), stored left-aligned in four big-endian 64-bit words: bit 0 of the
//! key is the most significant bit of word 0, and the words beyond the
//! width are zero. Comparing [`Distance`]s as word arrays therefore
//! compares them as integers.

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_core::NodeId;
use std::fmt;

/// Smallest supported key width, in bits.
pub const KEY_BITS_MIN: u16 = 32;
/// Largest supported key width, in bits.
pub const KEY_BITS_MAX: u16 = 256;
/// Default key width (the paper's SHA-1 width).
pub const KEY_BITS_DEFAULT: u16 = 160;

/// Whether `bits` is a supported key width.
pub fn valid_width(bits: u16) -> bool {
    (KEY_BITS_MIN..=KEY_BITS_MAX).contains(&bits) && bits.is_multiple_of(8)
}

/// A node id or a record key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    words: [u64; 4],
    bits: u16,
}

/// The XOR distance between two keys of the same width.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Distance(pub [u64; 4]);

// The order of the word arrays (lexicographic), unrolled: distances are
// compared on every lookup insert and table scan.
impl Ord for Distance {
    #[inline]
    fn cmp(&self, other: &Distance) -> std::cmp::Ordering {
        let (a, b) = (&self.0, &other.0);
        // The first word nearly always decides.
        if a[0] != b[0] {
            return a[0].cmp(&b[0]);
        }
        if a[1] != b[1] {
            return a[1].cmp(&b[1]);
        }
        if a[2] != b[2] {
            return a[2].cmp(&b[2]);
        }
        a[3].cmp(&b[3])
    }
}

impl PartialOrd for Distance {
    #[inline]
    fn partial_cmp(&self, other: &Distance) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Distance {
    /// Zero distance (a key to itself).
    pub const ZERO: Distance = Distance([0; 4]);
    /// The `n` bits (at most 16) that follow the highest set bit, as a
    /// number (missing bits past the 256th read as zero). Within a bucket
    /// they name one of its `2^n` equal sub-ranges (its "slot").
    pub fn bits_after(&self, n: u32) -> u32 {
        let n = n.min(16);
        let pos = self.leading_zeros() + 1;
        if n == 0 || pos >= 256 {
            return 0;
        }
        // The word holding bit `pos` and the next one (zero past the end)
        // as one 128-bit window: the n bits fit in it (pos % 64 + n < 128).
        let i = (pos / 64) as usize;
        let next = self.0.get(i + 1).copied().unwrap_or(0);
        let window = (u128::from(self.0[i]) << 64) | u128::from(next);
        ((window << (pos % 64)) >> (128 - n)) as u32
    }
    /// Leading zero bits over the 256-bit representation.
    pub fn leading_zeros(&self) -> u32 {
        let mut n = 0;
        for w in self.0 {
            if w != 0 {
                return n + w.leading_zeros();
            }
            n += 64;
        }
        n
    }
}

/// A malformed key (wrong width).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWidthError(pub usize);

impl fmt::Display for KeyWidthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a key of {} bytes (expected 4 to 32)", self.0)
    }
}

fn mask_word(bits: u16, word: usize) -> u64 {
    let lo = word as u32 * 64;
    let b = bits as u32;
    if b >= lo + 64 {
        u64::MAX
    } else if b <= lo {
        0
    } else {
        u64::MAX << (64 - (b - lo))
    }
}

impl Key {
    /// The all-zero key of width `bits` (`valid_width(bits)` must hold).
    pub fn zero(bits: u16) -> Key {
        assert!(valid_width(bits), "unsupported key width {bits}");
        Key {
            words: [0; 4],
            bits,
        }
    }
    /// A uniformly random key of width `bits`.
    pub fn random<R: Rng + ?Sized>(bits: u16, rng: &mut R) -> Key {
        let mut k = Key::zero(bits);
        for (i, w) in k.words.iter_mut().enumerate() {
            *w = rng.next_u64() & mask_word(bits, i);
        }
        k
    }
    /// From big-endian bytes (4 to 32 of them); the width is `8 * len`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, KeyWidthError> {
        let bits = u16::try_from(bytes.len() * 8).map_err(|_| KeyWidthError(bytes.len()))?;
        if !valid_width(bits) {
            return Err(KeyWidthError(bytes.len()));
        }
        let mut words = [0u64; 4];
        for (i, b) in bytes.iter().enumerate() {
            words[i / 8] |= (*b as u64) << (56 - 8 * (i % 8));
        }
        Ok(Key { words, bits })
    }
    /// From the high `bits` bits of a 64-bit value, zero-extended (for
    /// tests and examples; `bits` must be valid).
    pub fn from_u64(v: u64, bits: u16) -> Key {
        let mut k = Key::zero(bits);
        k.words[0] = v & mask_word(bits, 0);
        k
    }
    /// Big-endian bytes (`bits / 8` of them).
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.bits as usize / 8;
        (0..n)
            .map(|i| (self.words[i / 8] >> (56 - 8 * (i % 8))) as u8)
            .collect()
    }
    /// Number of 32-bit words that hold a key of width `bits` (the bits
    /// past the width are zero).
    #[inline]
    pub(crate) fn words32(bits: u16) -> usize {
        usize::from(bits.div_ceil(32))
    }
    /// The key's `i`-th 32-bit word, most significant first (`i <
    /// Key::words32(bits)`): the packed form of
    /// [`crate::message::Contacts`].
    #[inline]
    pub(crate) fn word32(&self, i: usize) -> u32 {
        (self.words[i / 2] >> (32 * (1 - i % 2))) as u32
    }
    /// The key of width `bits` whose 32-bit words, most significant first,
    /// are `w` (`w.len() == Key::words32(bits)`, the bits past the width
    /// zero; `valid_width(bits)` must hold).
    #[inline]
    pub(crate) fn from_words32(w: &[u32], bits: u16) -> Key {
        debug_assert!(valid_width(bits) && w.len() == Key::words32(bits));
        let mut words = [0u64; 4];
        for (i, &x) in w.iter().enumerate() {
            words[i / 2] |= u64::from(x) << (32 * (1 - i % 2));
        }
        Key { words, bits }
    }
    /// Width in bits.
    pub fn bits(&self) -> u16 {
        self.bits
    }
    /// The first 64 bits (for display and cheap hashing).
    pub fn prefix64(&self) -> u64 {
        self.words[0]
    }
    /// The XOR distance to `other` (both must have the same width).
    #[inline]
    pub fn distance(&self, other: &Key) -> Distance {
        debug_assert_eq!(self.bits, other.bits);
        Distance([
            self.words[0] ^ other.words[0],
            self.words[1] ^ other.words[1],
            self.words[2] ^ other.words[2],
            self.words[3] ^ other.words[3],
        ])
    }
    /// The bucket `other` falls in, seen from `self`: `i` such that the
    /// distance is in `[2^i, 2^(i+1))`, or None for the same key.
    #[inline]
    pub fn bucket_index(&self, other: &Key) -> Option<u16> {
        bucket_of(self.distance(other), self.bits)
    }
    /// A uniformly random key in bucket `index` as seen from `self`
    /// (`index < bits`).
    pub fn random_in_bucket<R: Rng + ?Sized>(&self, index: u16, rng: &mut R) -> Key {
        assert!(index < self.bits, "bucket {index} out of range");
        // The distance's highest set bit is `index` (counted from the least
        // significant bit of the width), the bits below it are random.
        let top = (self.bits - 1 - index) as u32; // position from the top
        let mut d = [0u64; 4];
        for (i, w) in d.iter_mut().enumerate() {
            let lo = i as u32 * 64;
            let mut v = rng.next_u64() & mask_word(self.bits, i);
            // Clear positions < top, set position top.
            for p in lo..lo + 64 {
                if p < top {
                    v &= !(1u64 << (63 - (p - lo)));
                } else {
                    break;
                }
            }
            if (lo..lo + 64).contains(&top) {
                v |= 1u64 << (63 - (top - lo));
            }
            *w = v;
        }
        Key {
            words: [
                self.words[0] ^ d[0],
                self.words[1] ^ d[1],
                self.words[2] ^ d[2],
                self.words[3] ^ d[3],
            ],
            bits: self.bits,
        }
    }
}

impl Key {
    /// Bit `pos` (counted from the top, `pos < bits`).
    pub fn bit(&self, pos: u16) -> bool {
        (self.words[pos as usize / 64] >> (63 - pos % 64)) & 1 == 1
    }
    /// A uniformly random key in bucket `index` as seen from `self` whose
    /// distance to `self` has the `n` bits below the bucket's defining bit
    /// equal to `slot` (see [`Distance::bits_after`]; `n` is cut to the
    /// bits that exist below it).
    pub fn random_in_slot<R: Rng + ?Sized>(
        &self,
        index: u16,
        n: u16,
        slot: u32,
        rng: &mut R,
    ) -> Key {
        let mut k = self.random_in_bucket(index, rng);
        let top = self.bits - 1 - index;
        let n = n.min(index);
        for j in 0..n {
            let pos = top + 1 + j;
            let want = self.bit(pos) ^ ((slot >> (n - 1 - j)) & 1 == 1);
            if k.bit(pos) != want {
                k = k.flip_bit(pos);
            }
        }
        k
    }
    /// This key with bit `pos` (counted from the top, `pos < bits`) flipped.
    pub fn flip_bit(&self, pos: u16) -> Key {
        let mut k = *self;
        k.words[pos as usize / 64] ^= 1u64 << (63 - pos % 64);
        k
    }
    /// This key with every bit from position `plen` (from the top) on set
    /// to `one`: the smallest (`false`) or largest (`true`) key sharing the
    /// first `plen` bits.
    pub fn with_suffix(&self, plen: u16, one: bool) -> Key {
        let mut k = *self;
        for (i, w) in k.words.iter_mut().enumerate() {
            let keep = mask_word(plen.min(self.bits), i);
            let width = mask_word(self.bits, i);
            *w = if one {
                (*w & keep) | (width & !keep)
            } else {
                *w & keep
            };
        }
        k
    }
}

/// The bucket index of a distance for keys of width `bits`.
#[inline]
pub fn bucket_of(d: Distance, bits: u16) -> Option<u16> {
    let lz = d.leading_zeros();
    if lz >= 256 {
        None
    } else {
        Some(bits - 1 - lz as u16)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}…/{}", self.words[0], self.bits)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The same bytes as `to_bytes`, from a stack buffer: messages are
        // sized (and so serialised) on every send, and a heap allocation per
        // key was a fifth of a lookup's cost.
        let n = self.bits as usize / 8;
        let mut buf = [0u8; 32];
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = (self.words[i / 8] >> (56 - 8 * (i % 8))) as u8;
        }
        s.serialize_bytes(&buf[..n])
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let bytes: Vec<u8> = Deserialize::deserialize(d)?;
        Key::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

/// The id of every node of a simulation, stored once.
///
/// A contact in a routing table is a [`NodeId`] (the simulated network
/// address), a last-seen time and a failure counter, 12 bytes; its Kademlia
/// id (20 bytes at 160 bits, up to 32) is looked up here, so a contact
/// costs 12 bytes whatever the key width, against 24–36 bytes with the id
/// inline. The table costs 40 bytes per node of the simulation, once. This
/// is an interning of data the node holds legitimately: every
/// message carries the full id of its sender and of every contact it lists,
/// and a receiver accepts a contact only if the carried id equals the
/// interned one (see `Kademlia`'s validation). A deployment on real sockets
/// would keep an address book per node instead; the routing logic is the
/// same.
#[derive(Debug, Clone)]
pub struct IdTable {
    ids: Vec<Key>,
    bits: u16,
    /// The ids sorted, with their nodes: built on first use by the oracle
    /// (experiment side), never by the protocol.
    sorted: std::sync::OnceLock<std::sync::Arc<[(Key, NodeId)]>>,
}

impl IdTable {
    /// `n` distinct random ids of width `bits`, drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(n: usize, bits: u16, rng: &mut R) -> IdTable {
        let mut ids = Vec::with_capacity(n);
        let mut seen = std::collections::BTreeSet::new();
        // Collisions are rare below 2^(bits/2) ids; redraw them (bounded).
        let draws_max = n.saturating_mul(4).max(64);
        let mut draws = 0;
        while ids.len() < n && draws < draws_max {
            draws += 1;
            let k = Key::random(bits, rng);
            if seen.insert(k) {
                ids.push(k);
            }
        }
        assert_eq!(ids.len(), n, "could not draw {n} distinct {bits}-bit ids");
        IdTable {
            ids,
            bits,
            sorted: Default::default(),
        }
    }
    /// From explicit ids (all of the same width, distinct).
    pub fn from_ids(ids: Vec<Key>) -> IdTable {
        let bits = ids.first().map_or(KEY_BITS_DEFAULT, |k| k.bits);
        assert!(ids.iter().all(|k| k.bits == bits), "mixed key widths");
        IdTable {
            ids,
            bits,
            sorted: Default::default(),
        }
    }
    /// Every id with its node, sorted by id (built once, on first call;
    /// 40 bytes per node). Ids sharing a prefix form one contiguous range.
    pub fn sorted(&self) -> &[(Key, NodeId)] {
        self.sorted.get_or_init(|| {
            let mut v: Vec<(Key, NodeId)> = self
                .ids
                .iter()
                .enumerate()
                .map(|(i, k)| (*k, NodeId(i as u32)))
                .collect();
            v.sort_unstable();
            v.into()
        })
    }
    /// Node `n`'s id.
    #[inline]
    pub fn get(&self, n: NodeId) -> Option<&Key> {
        self.ids.get(n.index())
    }
    /// Node `n`'s id (`n` must exist).
    #[inline]
    pub fn id(&self, n: NodeId) -> &Key {
        &self.ids[n.index()]
    }
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// Key width.
    pub fn bits(&self) -> u16 {
        self.bits
    }
    /// All ids, indexed by node.
    pub fn ids(&self) -> &[Key] {
        &self.ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    /// A key drawn in a slot lies in the bucket, in that slot; the slot
    /// bits are what a fresh random key in the bucket would not fix (over
    /// 64 draws in slot 5 of 16, a plain random key misses it; control).
    #[test]
    fn random_in_slot_lands_in_the_slot() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        for bits in [32u16, 160, 256] {
            let me = Key::random(bits, &mut r);
            for idx in [bits - 1, bits / 2, 4, 2] {
                let n = 4u16.min(idx);
                let slot = 5 & ((1 << n) - 1);
                let mut plain_hits = 0;
                for _ in 0..64 {
                    let k = me.random_in_slot(idx, 4, slot, &mut r);
                    assert_eq!(me.bucket_index(&k), Some(idx));
                    assert_eq!(me.distance(&k).bits_after(u32::from(n)), slot);
                    let p = me.random_in_bucket(idx, &mut r);
                    plain_hits += (me.distance(&p).bits_after(u32::from(n)) == slot) as u32;
                }
                assert!(plain_hits < 64, "bits {bits} bucket {idx}");
            }
        }
    }

    /// `bits_after` reads the same bits as a bit-by-bit walk, at every
    /// highest-bit position (including the last bits of the 256, where the
    /// missing bits read as zero, and the zero distance).
    #[test]
    fn bits_after_matches_a_bit_walk() {
        let walk = |d: &Distance, n: u32| {
            let lz = d.leading_zeros();
            let mut v = 0u32;
            for j in 0..n.min(16) {
                let pos = lz + 1 + j;
                let bit = pos < 256 && (d.0[pos as usize / 64] >> (63 - pos % 64)) & 1 == 1;
                v = (v << 1) | bit as u32;
            }
            v
        };
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let mut checked = 0;
        for top in 0..=256u32 {
            for _ in 0..8 {
                let mut d = Distance([r.next_u64(), r.next_u64(), r.next_u64(), r.next_u64()]);
                // Clear the bits above `top`, set bit `top` (256: zero).
                for (w, x) in d.0.iter_mut().enumerate() {
                    for b in 0..64u32 {
                        let pos = w as u32 * 64 + b;
                        let mask = 1u64 << (63 - b);
                        if pos < top {
                            *x &= !mask;
                        } else if pos == top {
                            *x |= mask;
                        }
                    }
                }
                for n in 0..=17 {
                    assert_eq!(d.bits_after(n), walk(&d, n), "top {top} n {n}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 257 * 8 * 18);
    }

    fn key(bits: u16, seed: u64) -> Key {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        Key::random(bits, &mut r)
    }

    fn widths() -> impl Strategy<Value = u16> {
        (4u16..=32).prop_map(|b| b * 8)
    }

    proptest! {
        #[test]
        fn xor_is_a_metric(bits in widths(), a in any::<u64>(), b in any::<u64>(), c in any::<u64>()) {
            let (x, y, z) = (key(bits, a), key(bits, b), key(bits, c));
            prop_assert_eq!(x.distance(&x), Distance::ZERO);
            prop_assert_eq!(x.distance(&y), y.distance(&x));
            prop_assert_eq!(x.distance(&y) == Distance::ZERO, x == y);
            // XOR triangle inequality: d(x,z) <= d(x,y) xor-sum d(y,z) <= d(x,y)+d(y,z);
            // checked on the 128 top bits with u128 (no overflow).
            let top = |d: Distance| ((d.0[0] as u128) << 64 | d.0[1] as u128) >> 1;
            prop_assert!(top(x.distance(&z)) <= top(x.distance(&y)) + top(y.distance(&z)));
            // Unidirectionality: for a given x and distance there is one y.
            let d = x.distance(&y);
            let back = Key { words: [x.words[0]^d.0[0], x.words[1]^d.0[1], x.words[2]^d.0[2], x.words[3]^d.0[3]], bits };
            prop_assert_eq!(back, y);
        }

        #[test]
        fn bucket_index_matches_the_distance_range(bits in widths(), a in any::<u64>(), b in any::<u64>(), shift in 0u16..256) {
            let x = key(bits, a);
            let idx = shift % bits;
            let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(b);
            let y = x.random_in_bucket(idx, &mut r);
            prop_assert_eq!(x.bucket_index(&y), Some(idx));
            prop_assert_eq!(y.bits(), bits);
            // Independently: the first differing bit, counted from the top.
            let xb = x.to_bytes();
            let yb = y.to_bytes();
            let first = (0..bits as usize).find(|&p| (xb[p / 8] ^ yb[p / 8]) & (0x80 >> (p % 8)) != 0);
            prop_assert_eq!(first.map(|p| bits - 1 - p as u16), Some(idx));
        }

        #[test]
        fn bytes_round_trip(bits in widths(), a in any::<u64>()) {
            let x = key(bits, a);
            let b = x.to_bytes();
            prop_assert_eq!(b.len(), bits as usize / 8);
            prop_assert_eq!(Key::from_bytes(&b).unwrap(), x);
            let enc = postcard::to_stdvec(&x).unwrap();
            prop_assert_eq!(postcard::from_bytes::<Key>(&enc).unwrap(), x);
        }
    }

    /// Distances order as their word arrays do.
    #[test]
    fn distance_order_is_the_array_order() {
        let words = [0u64, 1, u64::MAX - 1, u64::MAX];
        let mut all = Vec::new();
        for a in words {
            for b in words {
                for c in words {
                    for d in [0u64, u64::MAX] {
                        all.push([a, b, c, d]);
                    }
                }
            }
        }
        for x in &all {
            for y in &all {
                assert_eq!(Distance(*x).cmp(&Distance(*y)), x.cmp(y));
                assert_eq!(Distance(*x).partial_cmp(&Distance(*y)), x.partial_cmp(y));
            }
        }
    }

    #[test]
    fn bad_widths_are_rejected() {
        assert!(Key::from_bytes(&[0; 3]).is_err());
        assert!(Key::from_bytes(&[0; 33]).is_err());
        assert!(Key::from_bytes(&[0; 20]).is_ok());
        let enc = postcard::to_stdvec(&vec![1u8, 2, 3]).unwrap();
        assert!(postcard::from_bytes::<Key>(&enc).is_err());
    }

    #[test]
    fn suffix_and_flip() {
        let k = Key::from_u64(0xF0F0_0000_0000_0000, 32);
        assert_eq!(
            k.with_suffix(4, false),
            Key::from_u64(0xF000_0000_0000_0000, 32)
        );
        assert_eq!(
            k.with_suffix(4, true),
            Key::from_u64(0xFFFF_FFFF_0000_0000, 32)
        );
        assert_eq!(k.flip_bit(0), Key::from_u64(0x70F0_0000_0000_0000, 32));
    }

    #[test]
    fn same_key_has_no_bucket() {
        let x = key(160, 1);
        assert_eq!(x.bucket_index(&x), None);
        assert_eq!(
            Key::from_u64(0, 32).bucket_index(&Key::from_u64(1 << 32, 32)),
            Some(0)
        );
        assert_eq!(
            Key::from_u64(0, 32).bucket_index(&Key::from_u64(1 << 63, 32)),
            Some(31)
        );
    }
}
