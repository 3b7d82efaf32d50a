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

impl Message for KadMsg {
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
}
