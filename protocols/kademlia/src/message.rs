//! The wire vocabulary: four RPCs with request ids, sent as datagrams.

use crate::key::Key;
use serde::{Deserialize, Serialize};
use sim_core::{Message, NodeId, Time};

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
        peers: Vec<WireContact>,
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
                    Response::Nodes { peers } => {
                        varint_len(peers.len() as u64)
                            + peers
                                .iter()
                                .map(|c| varint_len(u64::from(c.node.0)) + key_len(&c.id))
                                .sum::<u64>()
                    }
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
                    ],
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
                    Response::Nodes { peers },
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
