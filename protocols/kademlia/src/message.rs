//! The wire vocabulary: four RPCs with request ids, sent as datagrams.

use crate::key::Key;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_core::{Message, NodeId, Time};
use std::fmt;

/// A record's value. The payload is phantom: `len` bytes are charged to
/// the network without being carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// The node that published it.
    pub publisher: NodeId,
    /// When it was published (its expiry counts from here).
    pub published: Time,
    /// A version number chosen by the publisher.
    pub version: u64,
    /// Payload length in bytes.
    pub len: u32,
}

/// A contact as carried on the wire: address and full id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireContact {
    /// Address.
    pub node: NodeId,
    /// Kademlia id.
    pub id: Key,
}

/// The contacts of a [`Response::Nodes`] answer, packed.
///
/// On the wire (and in serde) this is exactly a `Vec<WireContact>`. In
/// memory each contact takes its address, its key width and its key in
/// 32-bit words: 12 bytes at 32-bit ids and 28 at 160 bits, against 48 for
/// a [`WireContact`]. An answer waits in the event queue for its whole
/// flight time, and while many nodes join at once hundreds of thousands of
/// them are in flight. The postcard length of the contacts is kept as they
/// are added, so sizing a message never reads them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Contacts {
    /// Per contact: address, key width in bits, then
    /// `Key::words32(width)` words of the key, most significant first.
    words: Vec<u32>,
    len: u32,
    /// Postcard bytes of the contacts, without the length prefix.
    encoded: u64,
}

impl Contacts {
    /// No contacts.
    pub fn new() -> Contacts {
        Contacts::default()
    }
    /// No contacts, with room for `n` contacts of width `bits`.
    pub fn with_capacity(n: usize, bits: u16) -> Contacts {
        Contacts {
            words: Vec::with_capacity(n * (2 + Key::words32(bits))),
            len: 0,
            encoded: 0,
        }
    }
    /// Append a contact.
    #[inline]
    pub fn push(&mut self, c: WireContact) {
        self.push_id(c.node, &c.id);
    }
    /// Append the contact `node` of id `id` (no `WireContact` built).
    #[inline]
    pub(crate) fn push_id(&mut self, node: NodeId, id: &Key) {
        let bits = id.bits();
        self.words.push(node.0);
        self.words.push(u32::from(bits));
        for i in 0..Key::words32(bits) {
            self.words.push(id.word32(i));
        }
        self.len += 1;
        self.encoded += varint_len(u64::from(node.0)) + key_len(id);
    }
    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// No contacts.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The contacts, in order.
    pub fn iter(&self) -> ContactsIter<'_> {
        ContactsIter {
            words: &self.words,
            left: self.len(),
        }
    }
    /// The postcard-encoded length (the length prefix and the contacts).
    pub fn encoded_len(&self) -> u64 {
        varint_len(u64::from(self.len)) + self.encoded
    }
    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * std::mem::size_of::<u32>()
    }
}

/// The contacts of a [`Contacts`], in order.
#[derive(Debug, Clone)]
pub struct ContactsIter<'a> {
    words: &'a [u32],
    left: usize,
}

impl Iterator for ContactsIter<'_> {
    type Item = WireContact;
    #[inline]
    fn next(&mut self) -> Option<WireContact> {
        let (&node, rest) = self.words.split_first()?;
        let bits = rest[0] as u16;
        let n = Key::words32(bits);
        let id = Key::from_words32(&rest[1..1 + n], bits);
        self.words = &rest[1 + n..];
        self.left -= 1;
        Some(WireContact {
            node: NodeId(node),
            id,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for ContactsIter<'_> {}

impl<'a> IntoIterator for &'a Contacts {
    type Item = WireContact;
    type IntoIter = ContactsIter<'a>;
    fn into_iter(self) -> ContactsIter<'a> {
        self.iter()
    }
}

impl FromIterator<WireContact> for Contacts {
    fn from_iter<I: IntoIterator<Item = WireContact>>(iter: I) -> Contacts {
        let mut c = Contacts::new();
        for x in iter {
            c.push(x);
        }
        c
    }
}

impl From<Vec<WireContact>> for Contacts {
    fn from(v: Vec<WireContact>) -> Contacts {
        v.into_iter().collect()
    }
}

impl From<Contacts> for Vec<WireContact> {
    fn from(c: Contacts) -> Vec<WireContact> {
        c.iter().collect()
    }
}

impl fmt::Debug for Contacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Contacts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A sequence with its length, as a `Vec<WireContact>` is written.
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Contacts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Contacts, D::Error> {
        Vec::<WireContact>::deserialize(d).map(Contacts::from)
    }
}

/// A request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Are you there?
    Ping,
    /// The k closest contacts you know to `target`.
    FindNode {
        /// The target.
        target: Key,
    },
    /// The value under `key`, or the k closest contacts you know to it.
    FindValue {
        /// The key.
        key: Key,
    },
    /// Store `value` under `key`.
    Store {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
        /// A cached copy (kept for the cache lifetime only).
        cached: bool,
    },
}

/// A response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Answer to `Ping`.
    Pong,
    /// Closest contacts (answer to `FindNode`, or `FindValue` without the
    /// value).
    Nodes {
        /// At most k contacts.
        peers: Contacts,
    },
    /// The value (answer to `FindValue`).
    Found {
        /// The value.
        value: Value,
    },
    /// Answer to `Store`: whether the record was kept.
    Stored {
        /// False when the store was full or the record invalid.
        ok: bool,
    },
}

/// A Kademlia datagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KadMsg {
    /// A request.
    Request {
        /// Request id, echoed in the response.
        rid: u32,
        /// The sender's id.
        sender: Key,
        /// The request.
        body: Request,
    },
    /// A response.
    Response {
        /// The request id.
        rid: u32,
        /// The responder's id.
        sender: Key,
        /// The response.
        body: Response,
    },
}

/// Bytes of a postcard varint holding `v`.
#[inline]
fn varint_len(v: u64) -> u64 {
    // 7 bits per byte, at least one byte.
    u64::from(64 - (v | 1).leading_zeros()).div_ceil(7)
}

/// Encoded bytes of a key: a length byte (at most 32 < 128) and the bytes.
#[inline]
fn key_len(k: &Key) -> u64 {
    1 + u64::from(k.bits() / 8)
}

/// Encoded bytes of a value: publisher, published, version and len, each a
/// varint.
#[inline]
fn value_len(v: &Value) -> u64 {
    varint_len(u64::from(v.publisher.0))
        + varint_len(v.published.0)
        + varint_len(v.version)
        + varint_len(u64::from(v.len))
}

impl KadMsg {
    /// The postcard-encoded length, computed field by field (messages are
    /// sized on every send and receive; a serde walk per message was a
    /// third of a run's instructions). Checked against postcard in the
    /// tests below.
    pub fn encoded_len(&self) -> u64 {
        // Variant indices below 128 take one byte.
        match self {
            KadMsg::Request { rid, sender, body } => {
                let body = 1 + match body {
                    Request::Ping => 0,
                    Request::FindNode { target } => key_len(target),
                    Request::FindValue { key } => key_len(key),
                    Request::Store { key, value, .. } => key_len(key) + value_len(value) + 1,
                };
                1 + varint_len(u64::from(*rid)) + key_len(sender) + body
            }
            KadMsg::Response { rid, sender, body } => {
                let body = 1 + match body {
                    Response::Pong => 0,
                    Response::Nodes { peers } => peers.encoded_len(),
                    Response::Found { value } => value_len(value),
                    Response::Stored { .. } => 1,
                };
                1 + varint_len(u64::from(*rid)) + key_len(sender) + body
            }
        }
    }
}

impl Message for KadMsg {
    fn wire_size(&self) -> u64 {
        self.encoded_len() + self.phantom_len()
    }

    fn phantom_len(&self) -> u64 {
        match self {
            KadMsg::Request {
                body: Request::Store { value, .. },
                ..
            }
            | KadMsg::Response {
                body: Response::Found { value },
                ..
            } => value.len as u64,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::node::check_wire_size;

    #[test]
    fn wire_sizes_match_the_encoding() {
        let k = Key::from_u64(0xdead_beef_0000_0000, 160);
        let v = Value {
            publisher: NodeId(3),
            published: Time(5),
            version: 1,
            len: 1000,
        };
        let msgs = [
            KadMsg::Request {
                rid: 1,
                sender: k,
                body: Request::Ping,
            },
            KadMsg::Request {
                rid: 300,
                sender: k,
                body: Request::Store {
                    key: k,
                    value: v,
                    cached: false,
                },
            },
            KadMsg::Response {
                rid: 2,
                sender: k,
                body: Response::Nodes {
                    peers: vec![
                        WireContact {
                            node: NodeId(9),
                            id: k
                        };
                        20
                    ]
                    .into(),
                },
            },
            KadMsg::Response {
                rid: 2,
                sender: k,
                body: Response::Found { value: v },
            },
        ];
        for m in &msgs {
            check_wire_size(m).unwrap();
        }
        // A 20-contact answer at 160 bits: 20 x (1 varint + 1 len + 20 id).
        assert!(msgs[2].wire_size() > 20 * 22);
        assert_eq!(msgs[1].phantom_len(), 1000);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The packed contacts hold exactly the contacts pushed, of any
        /// mix of widths, and encode exactly as the `Vec<WireContact>`
        /// they stand for.
        #[test]
        fn packed_contacts_match_a_vec(
            list in proptest::collection::vec(
                (proptest::prelude::any::<u32>(), 4u16..=32, proptest::prelude::any::<[u8; 32]>()),
                0..40,
            ),
        ) {
            let reference: Vec<WireContact> = list
                .iter()
                .map(|&(node, bytes, ref raw)| WireContact {
                    node: NodeId(node),
                    id: Key::from_bytes(&raw[..usize::from(bytes)]).unwrap(),
                })
                .collect();
            let packed = Contacts::from(reference.clone());
            proptest::prop_assert_eq!(packed.len(), reference.len());
            proptest::prop_assert_eq!(packed.is_empty(), reference.is_empty());
            let back: Vec<WireContact> = packed.iter().collect();
            proptest::prop_assert_eq!(&back, &reference);
            let bytes = postcard::to_stdvec(&packed).unwrap();
            proptest::prop_assert_eq!(&bytes, &postcard::to_stdvec(&reference).unwrap());
            proptest::prop_assert_eq!(packed.encoded_len(), bytes.len() as u64);
            let decoded: Contacts = postcard::from_bytes(&bytes).unwrap();
            proptest::prop_assert_eq!(&decoded, &packed);
            // Equal contact lists, and only those, compare equal.
            let mut other = reference.clone();
            if let Some(c) = other.first_mut() {
                c.node = NodeId(c.node.0 ^ 1);
                proptest::prop_assert_ne!(Contacts::from(other), packed.clone());
            }
            proptest::prop_assert_eq!(format!("{packed:?}"), format!("{reference:?}"));
        }
    }

    /// The hand-computed length equals postcard's over every variant, key
    /// width, and varint lengths from one to ten bytes.
    #[test]
    fn encoded_len_matches_postcard_everywhere() {
        let nums = [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            1 << 35,
            1 << 56,
            u64::MAX,
        ];
        let mut checked = 0;
        for bits in (4u16..=32).map(|b| b * 8) {
            let k = Key::from_u64(0x0123_4567_89ab_cdef, bits);
            for &n in &nums {
                let n32 = n as u32;
                let v = Value {
                    publisher: NodeId(n32),
                    published: Time(n),
                    version: n.rotate_left(7),
                    len: n32.rotate_left(3),
                };
                let peers: Vec<WireContact> = (0..(n % 23) as u32)
                    .map(|i| WireContact {
                        node: NodeId(n32.wrapping_mul(i + 1)),
                        id: k,
                    })
                    .collect();
                let reqs = [
                    Request::Ping,
                    Request::FindNode { target: k },
                    Request::FindValue { key: k },
                    Request::Store {
                        key: k,
                        value: v,
                        cached: n % 2 == 0,
                    },
                ];
                let resps = [
                    Response::Pong,
                    Response::Nodes {
                        peers: peers.into(),
                    },
                    Response::Found { value: v },
                    Response::Stored { ok: n % 2 == 1 },
                ];
                let msgs = reqs
                    .into_iter()
                    .map(|body| KadMsg::Request {
                        rid: n32,
                        sender: k,
                        body,
                    })
                    .chain(resps.into_iter().map(|body| KadMsg::Response {
                        rid: n32,
                        sender: k,
                        body,
                    }));
                for m in msgs {
                    let encoded = postcard::to_stdvec(&m).unwrap().len() as u64;
                    assert_eq!(m.encoded_len(), encoded, "{m:?}");
                    check_wire_size(&m).unwrap();
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 29 * 10 * 8);
    }
}
