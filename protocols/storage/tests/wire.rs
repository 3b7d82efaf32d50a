//! The wire encoding of the storage layer: every message round-trips
//! through postcard with the size the network is charged, damaged bytes
//! are rejected (never a panic), and the machine counts what it rejects.

use proptest::prelude::*;
use proptest::sample::Index;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sim_core::node::{check_wire_size, class, encoded_len};
use sim_core::{Message, NodeId, Time};
use std::sync::Arc;
use storage::message::{MAX_HOLDERS, MAX_STORED_LEN};
use storage::{
    Cause, Config, Holder, Input, Malformed, Msg, ObjMeta, ObjectId, Output, Scheme, Storage,
    StoreMsg,
};

// ------------------------------------------------------------ strategies

fn object() -> impl Strategy<Value = ObjectId> {
    any::<[u8; 32]>().prop_map(ObjectId)
}

fn node() -> impl Strategy<Value = NodeId> {
    any::<u32>().prop_map(NodeId)
}

/// Any valid scheme, small ones more often.
fn scheme() -> impl Strategy<Value = Scheme> {
    let n = prop_oneof![3 => 1u16..=16, 1 => 1u16..=Scheme::MAX_FRAGMENTS];
    prop_oneof![
        n.clone().prop_map(|r| Scheme::Replicate { r }),
        n.prop_flat_map(|n| (1..=n, Just(n)))
            .prop_map(|(m, n)| Scheme::Erasure { m, n }),
    ]
    .prop_map(|s| s.validate().expect("valid by construction"))
}

/// Lengths up to the largest one the wire accepts, edges included.
fn length() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..100_000,
        0..=MAX_STORED_LEN,
        Just(0),
        Just(1),
        Just(MAX_STORED_LEN - 1),
        Just(MAX_STORED_LEN),
    ]
}

/// Valid metadata: holder indices below n, up to 30 holders.
fn meta() -> impl Strategy<Value = ObjMeta> {
    scheme().prop_flat_map(|scheme| {
        let holder = (node(), 0..scheme.n()).prop_map(|(node, index)| Holder { node, index });
        (
            length(),
            any::<u32>(),
            proptest::collection::vec(holder, 0..=30),
        )
            .prop_map(move |(stored_len, version, holders)| ObjMeta {
                scheme,
                stored_len,
                version,
                holders,
            })
    })
}

fn cause() -> impl Strategy<Value = Option<Cause>> {
    proptest::option::of(prop_oneof![
        node().prop_map(|ghost| Cause::Loss { ghost }),
        Just(Cause::Audit),
    ])
}

/// Every `StoreMsg` variant, with arbitrary valid fields.
fn store_msg() -> impl Strategy<Value = StoreMsg> {
    let objects = || proptest::collection::vec(object(), 0..8);
    prop_oneof![
        (any::<u32>(), object(), meta(), cause()).prop_flat_map(|(rid, object, meta, cause)| {
            (0..meta.scheme.n()).prop_map(move |index| StoreMsg::Put {
                rid,
                object,
                index,
                meta: meta.clone(),
                cause,
            })
        }),
        (any::<u32>(), any::<u16>(), any::<bool>()).prop_map(|(rid, index, ok)| StoreMsg::PutAck {
            rid,
            index,
            ok
        }),
        (object(), meta()).prop_map(|(object, meta)| StoreMsg::Commit { object, meta }),
        Just(StoreMsg::Ping),
        Just(StoreMsg::Pong),
        (any::<u32>(), object()).prop_map(|(rid, object)| StoreMsg::Query { rid, object }),
        (
            any::<u32>(),
            proptest::option::of(0..Scheme::MAX_FRAGMENTS),
            1..=u16::MAX
        )
            .prop_map(|(rid, index, m)| StoreMsg::Have { rid, index, m }),
        (any::<u32>(), object(), cause()).prop_map(|(rid, object, cause)| StoreMsg::Get {
            rid,
            object,
            cause
        }),
        (any::<u32>(), any::<u16>(), length(), cause()).prop_map(|(rid, index, len, cause)| {
            StoreMsg::Data {
                rid,
                index,
                len,
                cause,
            }
        }),
        any::<u32>().prop_map(|rid| StoreMsg::Missing { rid }),
        object().prop_map(|object| StoreMsg::Delete { object }),
        (any::<u32>(), objects()).prop_map(|(rid, objects)| StoreMsg::Audit { rid, objects }),
        (any::<u32>(), objects()).prop_map(|(rid, missing)| StoreMsg::AuditReply { rid, missing }),
    ]
}

// ------------------------------------------------------------ helpers

/// The class a message must have, by its variant.
fn expected_class(msg: &StoreMsg) -> u8 {
    match msg {
        StoreMsg::Put { cause: Some(_), .. } | StoreMsg::Data { cause: Some(_), .. } => {
            class::REPAIR
        }
        StoreMsg::Put { cause: None, .. } | StoreMsg::Data { cause: None, .. } => class::STORAGE,
        _ => class::CONTROL,
    }
}

/// The phantom payload a message must carry, by its variant.
fn expected_phantom(msg: &StoreMsg) -> u64 {
    match msg {
        StoreMsg::Put { meta, .. } => meta.scheme.fragment_len(meta.stored_len),
        StoreMsg::Data { len, .. } => *len,
        _ => 0,
    }
}

/// A started machine of node 0.
fn machine() -> (Storage, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut s = Storage::new(Arc::new(Config::default()), NodeId(0));
    s.handle(Time::ZERO, &mut rng, Input::Start);
    while s.poll_output().is_some() {}
    (s, rng)
}

/// Feed one input and return every output.
fn feed(s: &mut Storage, rng: &mut ChaCha8Rng, input: Input) -> Vec<Output> {
    s.handle(Time(1_000_000_000), rng, input);
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// The malformed counts among `out`.
fn malformed(out: &[Output]) -> Vec<(&'static str, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Count(name, n) if name.starts_with("storage.malformed") => Some((*name, *n)),
            _ => None,
        })
        .collect()
}

/// Bytes from the wire that must be rejected with `verdict`: the machine
/// counts exactly that and does nothing else.
fn assert_rejected(bytes: Vec<u8>, verdict: Malformed) -> Result<(), TestCaseError> {
    let (mut s, mut rng) = machine();
    let out = feed(
        &mut s,
        &mut rng,
        Input::Wire {
            from: NodeId(7),
            bytes,
        },
    );
    prop_assert_eq!(out.len(), 1, "one output: {:?}", out);
    prop_assert_eq!(malformed(&out), vec![(verdict.counter(), 1)]);
    prop_assert!(s.disk().is_empty());
    prop_assert_eq!(s.ops_running(), 0);
    prop_assert_eq!(s.peers_tracked(), 0);
    Ok(())
}

/// Bytes from the wire that decode: the machine takes the message without a
/// malformed count.
fn assert_accepted(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let (mut s, mut rng) = machine();
    let out = feed(
        &mut s,
        &mut rng,
        Input::Wire {
            from: NodeId(7),
            bytes,
        },
    );
    prop_assert_eq!(malformed(&out), vec![]);
    Ok(())
}

/// Flip the bytes at `flips` (positions taken modulo the length).
fn corrupt(bytes: &[u8], flips: &[(Index, u8)]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for (at, mask) in flips {
        let i = at.index(b.len());
        b[i] ^= mask;
    }
    b
}

// ------------------------------------------------------------ properties

proptest! {
    // A fixed seed keeps the run reproducible; no failure-persistence files.
    #![proptest_config(ProptestConfig {
        cases: 5_000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0057_0a9e_0001),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_message_round_trips_at_its_wire_size(msg in store_msg()) {
        prop_assert_eq!(msg.check(), Ok(()));
        // Postcard round trip, and wire size = encoding + phantom payload.
        prop_assert_eq!(check_wire_size(&msg), Ok(()));
        let bytes = msg.encode();
        prop_assert_eq!(bytes.len() as u64, encoded_len(&msg));
        prop_assert_eq!(msg.wire_size(), bytes.len() as u64 + msg.phantom_len());
        prop_assert_eq!(StoreMsg::decode(&bytes), Ok(msg.clone()));
        // Class and phantom payload by variant.
        prop_assert_eq!(msg.class(), expected_class(&msg));
        prop_assert_eq!(msg.phantom_len(), expected_phantom(&msg));
        // The same through the stacked node's message.
        let stacked = Msg::Store(msg.clone());
        prop_assert_eq!(check_wire_size(&stacked), Ok(()));
        prop_assert_eq!(stacked.wire_size(), 1 + msg.wire_size());
        prop_assert_eq!(stacked.class(), msg.class());
        prop_assert_eq!(stacked.phantom_len(), msg.phantom_len());
        // And the machine takes it without complaint.
        assert_accepted(bytes)?;
    }

    #[test]
    fn every_strict_prefix_is_rejected(msg in store_msg(), cut in any::<Index>()) {
        let bytes = msg.encode();
        // Postcard is prefix-free: the decoder reads forward without
        // lookahead, so a strict prefix that decoded would make the whole
        // encoding decode with trailing bytes. Every prefix fails.
        for k in 0..bytes.len() {
            prop_assert_eq!(StoreMsg::decode(&bytes[..k]), Err(Malformed::Decode), "prefix {}", k);
        }
        let k = cut.index(bytes.len());
        assert_rejected(bytes[..k].to_vec(), Malformed::Decode)?;
    }

    #[test]
    fn trailing_bytes_are_rejected(
        msg in store_msg(),
        tail in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let mut bytes = msg.encode();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(StoreMsg::decode(&bytes), Err(Malformed::Decode));
        assert_rejected(bytes, Malformed::Decode)?;
    }

    #[test]
    fn corrupted_bytes_never_panic(
        msg in store_msg(),
        flips in proptest::collection::vec((any::<Index>(), 1u8..=255), 1..4),
    ) {
        let bytes = corrupt(&msg.encode(), &flips);
        match StoreMsg::decode(&bytes) {
            Ok(other) => {
                // A flip can land on another valid message; it is then a
                // message like any other.
                prop_assert_eq!(other.check(), Ok(()));
                prop_assert_eq!(check_wire_size(&other), Ok(()));
                prop_assert_eq!(StoreMsg::decode(&other.encode()), Ok(other.clone()));
                assert_accepted(bytes)?;
            }
            Err(verdict) => assert_rejected(bytes, verdict)?,
        }
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        match StoreMsg::decode(&bytes) {
            Ok(msg) => {
                prop_assert_eq!(msg.check(), Ok(()));
                assert_accepted(bytes)?;
            }
            Err(verdict) => assert_rejected(bytes, verdict)?,
        }
    }
}

// ------------------------------------------------------------ semantic malformation

fn put(index: u16, meta: ObjMeta) -> StoreMsg {
    StoreMsg::Put {
        rid: 1,
        object: ObjectId([9; 32]),
        index,
        meta,
        cause: None,
    }
}

fn meta_of(scheme: Scheme, holders: usize) -> ObjMeta {
    let n = scheme.n().max(1);
    ObjMeta {
        scheme,
        stored_len: 1_000,
        version: 0,
        holders: (0..holders)
            .map(|i| Holder {
                node: NodeId(i as u32),
                index: (i % usize::from(n)) as u16,
            })
            .collect(),
    }
}

/// Puts (and one Commit, Have, Data) that decode but must be refused.
fn bad_messages() -> Vec<(&'static str, StoreMsg)> {
    let r3 = Scheme::Replicate { r: 3 };
    let e46 = Scheme::Erasure { m: 4, n: 6 };
    let mut bad_holder = meta_of(e46, 1);
    bad_holder.holders[0].index = 6;
    let mut huge = meta_of(r3, 1);
    huge.stored_len = MAX_STORED_LEN + 1;
    let mut huge_erasure = meta_of(Scheme::Erasure { m: 1, n: 1 }, 1);
    huge_erasure.stored_len = u64::MAX;
    vec![
        ("index = n (replicas)", put(3, meta_of(r3, 1))),
        ("index = n (erasure)", put(6, meta_of(e46, 1))),
        ("index far above n", put(u16::MAX, meta_of(e46, 1))),
        ("m > n", put(0, meta_of(Scheme::Erasure { m: 7, n: 6 }, 1))),
        ("m = 0", put(0, meta_of(Scheme::Erasure { m: 0, n: 6 }, 1))),
        ("r = 0", put(0, meta_of(Scheme::Replicate { r: 0 }, 0))),
        (
            "n above the coder's limit",
            put(0, meta_of(Scheme::Erasure { m: 4, n: 256 }, 1)),
        ),
        ("a holder index = n", put(0, bad_holder.clone())),
        ("too many holders", put(0, meta_of(e46, MAX_HOLDERS + 1))),
        ("stored length too large", put(0, huge.clone())),
        ("stored length u64::MAX", put(0, huge_erasure)),
        (
            "commit with too many holders",
            StoreMsg::Commit {
                object: ObjectId([9; 32]),
                meta: meta_of(r3, MAX_HOLDERS + 1),
            },
        ),
        (
            "commit with m > n",
            StoreMsg::Commit {
                object: ObjectId([9; 32]),
                meta: meta_of(Scheme::Erasure { m: 7, n: 6 }, 1),
            },
        ),
        (
            "have with m = 0",
            StoreMsg::Have {
                rid: 1,
                index: Some(0),
                m: 0,
            },
        ),
        (
            "data longer than any object",
            StoreMsg::Data {
                rid: 1,
                index: 0,
                len: u64::MAX,
                cause: None,
            },
        ),
    ]
}

#[test]
fn semantically_malformed_messages_are_counted_and_store_nothing() {
    // The limit itself is accepted.
    assert_eq!(
        put(0, meta_of(Scheme::Erasure { m: 4, n: 6 }, MAX_HOLDERS)).check(),
        Ok(())
    );
    for (what, msg) in bad_messages() {
        assert_eq!(msg.check(), Err(Malformed::Contents), "{what}");
        let bytes = msg.encode();
        assert!(!bytes.is_empty(), "{what}: encodes");
        assert_eq!(StoreMsg::decode(&bytes), Err(Malformed::Contents), "{what}");
        let inputs = [
            Input::Wire {
                from: NodeId(7),
                bytes,
            },
            Input::Message {
                from: NodeId(7),
                msg: msg.clone(),
            },
        ];
        for input in inputs {
            let (mut s, mut rng) = machine();
            let out = feed(&mut s, &mut rng, input);
            assert_eq!(
                malformed(&out),
                vec![("storage.malformed.contents", 1)],
                "{what}: {out:?}"
            );
            assert_eq!(out.len(), 1, "{what}: nothing but the count: {out:?}");
            assert!(s.disk().is_empty(), "{what}: nothing stored");
            assert_eq!(s.used(), 0, "{what}");
            assert_eq!(s.peers_tracked(), 0, "{what}: the sender is not heard");
        }
    }
}

#[test]
fn a_good_put_from_the_wire_is_stored() {
    // The control for the test above: the same put with a valid index is
    // stored and acknowledged.
    let msg = put(2, meta_of(Scheme::Replicate { r: 3 }, 1));
    let (mut s, mut rng) = machine();
    let out = feed(
        &mut s,
        &mut rng,
        Input::Wire {
            from: NodeId(7),
            bytes: msg.encode(),
        },
    );
    assert_eq!(malformed(&out), vec![]);
    assert_eq!(s.disk().len(), 1);
    assert_eq!(s.used(), 1_000);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Send {
            to: NodeId(7),
            msg: StoreMsg::PutAck { ok: true, .. }
        }
    )));
}

#[test]
fn a_commit_cannot_recode_a_held_object() {
    // A holder list that changes the scheme or the length of an object this
    // node holds contradicts the object (ids are content addresses); taking
    // it would also break the disk accounting (the fragment's size changes
    // under it). It is malformed; a list that only moves holders is taken.
    let object = ObjectId([9; 32]);
    let meta = meta_of(Scheme::Replicate { r: 3 }, 1);
    let recoded = |scheme: Scheme, stored_len: u64| StoreMsg::Commit {
        object,
        meta: ObjMeta {
            scheme,
            stored_len,
            version: 5,
            holders: vec![Holder {
                node: NodeId(0),
                index: 0,
            }],
        },
    };
    for (what, commit) in [
        ("longer", recoded(Scheme::Replicate { r: 3 }, 5_000)),
        ("shorter", recoded(Scheme::Replicate { r: 3 }, 10)),
        ("erasure", recoded(Scheme::Erasure { m: 1, n: 3 }, 1_000)),
    ] {
        for wire in [false, true] {
            let (mut s, mut rng) = machine();
            let out = feed(
                &mut s,
                &mut rng,
                Input::Message {
                    from: NodeId(7),
                    msg: put(0, meta.clone()),
                },
            );
            assert_eq!(malformed(&out), vec![]);
            assert_eq!(s.used(), 1_000);
            let input = if wire {
                Input::Wire {
                    from: NodeId(7),
                    bytes: commit.encode(),
                }
            } else {
                Input::Message {
                    from: NodeId(7),
                    msg: commit.clone(),
                }
            };
            let out = feed(&mut s, &mut rng, input);
            assert_eq!(
                malformed(&out),
                vec![("storage.malformed.contents", 1)],
                "{what}"
            );
            assert_eq!(s.disk()[&object].meta, meta, "{what}: unchanged");
            assert_eq!(s.used(), 1_000, "{what}");
            // Deleting it frees exactly what it took.
            feed(
                &mut s,
                &mut rng,
                Input::Message {
                    from: NodeId(7),
                    msg: StoreMsg::Delete { object },
                },
            );
            assert!(s.disk().is_empty());
            assert_eq!(s.used(), 0, "{what}");
        }
    }
    // The control: a list that moves this node to fragment 2 is taken.
    let (mut s, mut rng) = machine();
    feed(
        &mut s,
        &mut rng,
        Input::Message {
            from: NodeId(7),
            msg: put(0, meta.clone()),
        },
    );
    let mut moved = meta.clone();
    moved.version = 5;
    moved.holders = vec![Holder {
        node: NodeId(0),
        index: 2,
    }];
    let out = feed(
        &mut s,
        &mut rng,
        Input::Wire {
            from: NodeId(7),
            bytes: StoreMsg::Commit {
                object,
                meta: moved.clone(),
            }
            .encode(),
        },
    );
    assert_eq!(malformed(&out), vec![]);
    assert_eq!(s.disk()[&object].index, 2);
    assert_eq!(s.disk()[&object].meta, moved);
    assert_eq!(s.used(), 1_000);
}
