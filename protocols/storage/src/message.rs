//! The wire vocabulary of the storage layer.
//!
//! Fragments move as bulk transfers ([`StoreMsg::Put`], [`StoreMsg::Data`])
//! whose payload is phantom: the fragment's length is charged to the
//! network without the bytes being carried. Everything else is a datagram.
//! Every message has a real postcard encoding; [`StoreMsg::decode`] turns
//! bytes from the wire back into a message or a [`Malformed`] verdict and
//! never panics.

use crate::scheme::{ObjectId, Scheme};
use serde::{Deserialize, Serialize};
use sim_core::node::class;
use sim_core::{Message, NodeId};

/// The most holders an object's metadata may list (fragments plus
/// reintegrated copies); longer lists are malformed.
pub const MAX_HOLDERS: usize = 1024;

/// The longest stored object (and so fragment) the wire accepts, bytes
/// (1 PiB). Longer lengths are malformed: they would overflow the sizes
/// computed from them.
pub const MAX_STORED_LEN: u64 = 1 << 50;

/// One holder of one fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its address.
    pub node: NodeId,
    /// The fragment (or replica) it holds.
    pub index: u16,
}

/// What every holder stores beside its fragment: how the object is coded
/// and who holds the other fragments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjMeta {
    /// The redundancy scheme.
    pub scheme: Scheme,
    /// Length of the stored form (ciphertext when encrypted).
    pub stored_len: u64,
    /// Bumped by every change of `holders`; the higher version wins.
    pub version: u32,
    /// Holders in rank order: the first one not presumed gone leads the
    /// object's maintenance.
    pub holders: Vec<Holder>,
}

impl ObjMeta {
    /// Bytes of one fragment.
    pub fn fragment_len(&self) -> u64 {
        self.scheme.fragment_len(self.stored_len)
    }
}

/// Why a repair transfer moves bytes (for the repair accounting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Cause {
    /// A holder presumed gone after the detection timeout. If that holder
    /// is later heard from again, the repair was a false alarm.
    Loss {
        /// The presumed-gone holder.
        ghost: NodeId,
    },
    /// An audit found the fragment missing on a live holder.
    Audit,
}

/// A storage-layer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreMsg {
    /// Store fragment `index` of `object` (bulk; phantom payload of
    /// `meta.fragment_len()` bytes). `cause` is set for repairs.
    Put {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
        /// The fragment.
        index: u16,
        /// Metadata, with the receiver listed.
        meta: ObjMeta,
        /// Repair cause (None: a client write).
        cause: Option<Cause>,
    },
    /// Answer to `Put`: stored, or refused (disk full or already holding a
    /// fragment of the object).
    PutAck {
        /// Request id.
        rid: u32,
        /// The fragment.
        index: u16,
        /// Stored.
        ok: bool,
    },
    /// The object's holder list changed.
    Commit {
        /// The object.
        object: ObjectId,
        /// The new metadata.
        meta: ObjMeta,
    },
    /// Liveness probe from a maintenance leader.
    Ping,
    /// Answer to `Ping`.
    Pong,
    /// Do you hold a fragment of `object`?
    Query {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
    },
    /// Answer to `Query`.
    Have {
        /// Request id.
        rid: u32,
        /// The fragment held, if any.
        index: Option<u16>,
        /// Fragments needed to read.
        m: u16,
    },
    /// Send fragment `index` of `object`.
    Get {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
        /// Repair cause (None: a client read).
        cause: Option<Cause>,
    },
    /// A fragment (bulk; phantom payload of `len` bytes).
    Data {
        /// Request id.
        rid: u32,
        /// The fragment.
        index: u16,
        /// Its length.
        len: u64,
        /// Repair cause (None: a client read).
        cause: Option<Cause>,
    },
    /// Answer to `Get` when the fragment is not here.
    Missing {
        /// Request id.
        rid: u32,
    },
    /// Delete `object` everywhere (holders forward it to the other holders).
    Delete {
        /// The object.
        object: ObjectId,
    },
    /// Prove you still hold fragments of these objects.
    Audit {
        /// Request id.
        rid: u32,
        /// The objects.
        objects: Vec<ObjectId>,
    },
    /// Answer to `Audit`: the objects whose fragment is not here.
    AuditReply {
        /// Request id.
        rid: u32,
        /// Missing objects.
        missing: Vec<ObjectId>,
    },
}

/// Why a message was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The bytes do not decode (truncated, corrupted or trailing bytes).
    #[error("does not decode")]
    Decode,
    /// The scheme is invalid, an index or a length is out of range, the
    /// holder list is too long, or a holder list contradicts the object it
    /// is about.
    #[error("invalid contents")]
    Contents,
}

impl Malformed {
    /// The counter this verdict adds to.
    pub fn counter(self) -> &'static str {
        match self {
            Malformed::Decode => "storage.malformed.decode",
            Malformed::Contents => "storage.malformed.contents",
        }
    }
}

impl StoreMsg {
    /// Encode for the wire.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }
    /// Decode bytes from the wire, checking the contents.
    pub fn decode(bytes: &[u8]) -> Result<StoreMsg, Malformed> {
        let (msg, rest): (StoreMsg, &[u8]) =
            postcard::take_from_bytes(bytes).map_err(|_| Malformed::Decode)?;
        if !rest.is_empty() {
            return Err(Malformed::Decode);
        }
        msg.check()?;
        Ok(msg)
    }
    /// Check what decoding cannot: valid schemes, indices in range, bounded
    /// lengths and holder lists.
    pub fn check(&self) -> Result<(), Malformed> {
        match self {
            StoreMsg::Put { index, meta, .. } => {
                check_meta(meta)?;
                if *index >= meta.scheme.n() {
                    return Err(Malformed::Contents);
                }
                Ok(())
            }
            StoreMsg::Commit { meta, .. } => check_meta(meta),
            StoreMsg::Data { len, .. } => {
                if *len > MAX_STORED_LEN {
                    Err(Malformed::Contents)
                } else {
                    Ok(())
                }
            }
            StoreMsg::Have { m, index, .. } => {
                if *m == 0 || index.is_some_and(|i| i >= Scheme::MAX_FRAGMENTS) {
                    Err(Malformed::Contents)
                } else {
                    Ok(())
                }
            }
            StoreMsg::Audit { objects, .. }
            | StoreMsg::AuditReply {
                missing: objects, ..
            } => {
                if objects.len() > MAX_HOLDERS * 64 {
                    Err(Malformed::Contents)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

fn check_meta(meta: &ObjMeta) -> Result<(), Malformed> {
    meta.scheme.validate().map_err(|_| Malformed::Contents)?;
    let n = meta.scheme.n();
    if meta.stored_len > MAX_STORED_LEN
        || meta.holders.len() > MAX_HOLDERS
        || meta.holders.iter().any(|h| h.index >= n)
    {
        return Err(Malformed::Contents);
    }
    Ok(())
}

impl Message for StoreMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            StoreMsg::Put { meta, .. } => meta.fragment_len(),
            StoreMsg::Data { len, .. } => *len,
            _ => 0,
        }
    }
    fn class(&self) -> u8 {
        match self {
            StoreMsg::Put { cause, .. } | StoreMsg::Data { cause, .. } => {
                if cause.is_some() {
                    class::REPAIR
                } else {
                    class::STORAGE
                }
            }
            _ => class::CONTROL,
        }
    }
}
