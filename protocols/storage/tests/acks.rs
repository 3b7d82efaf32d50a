//! A writer whose `Put` was delivered but whose acknowledgement never
//! comes (a lost datagram, or a receiver that went down first) gives the
//! fragment to the next candidate one RPC timeout after the delivery,
//! instead of waiting for the whole operation's timeout. Driven by hand,
//! sans-IO: the machine's outputs are read and its inputs written here.

use sim_core::rng::{NodeRng, Purpose, node_rng};
use sim_core::{NodeId, Time};
use std::sync::Arc;
use storage::protocol::Bulk;
use storage::{Command, Config, Event, Input, ObjectId, Output, Scheme, Storage, StoreMsg, Timer};

const SEC: u64 = 1_000_000_000;

/// A `Put` sent: receiver, fragment, the bulk to report back.
type Put = (NodeId, u16, Bulk);

/// Everything the machine asked for since the last call.
fn drain(s: &mut Storage) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// The `Put`s sent: (receiver, fragment, the bulk to report back).
fn puts(out: &[Output]) -> Vec<Put> {
    out.iter()
        .filter_map(|o| match o {
            Output::SendBulk {
                to,
                msg: StoreMsg::Put { index, .. },
                bulk,
            } => Some((*to, *index, *bulk)),
            _ => None,
        })
        .collect()
}

fn written(out: &[Output]) -> Option<Vec<NodeId>> {
    out.iter().find_map(|o| match o {
        Output::Event(Event::Written { result, .. }) => Some(
            result
                .as_ref()
                .map(|h| h.iter().map(|x| x.node).collect())
                .unwrap_or_default(),
        ),
        _ => None,
    })
}

/// A writer with 2 replicas and a 5 s RPC timeout (the operation's own
/// timeout an hour) puts its object on nodes 1 and 2; both transfers are
/// delivered at 10 s; node 2 acknowledges at once, node 1 `ack_from_1`
/// (or never). Returns the outputs of the timer firing at `fire_at`
/// seconds and then the holders once the write ended.
fn write_with(ack_from_1: Option<u64>, fire_at: u64) -> (Vec<Put>, Option<Vec<NodeId>>) {
    let cfg = Config {
        scheme: Scheme::Replicate { r: 2 },
        rpc_timeout: sim_core::Duration::from_secs(5),
        op_timeout: sim_core::Duration::from_secs(3600),
        key_bits: 64,
        ..Config::default()
    };
    let me = NodeId(0);
    let mut s = Storage::new(Arc::new(cfg), me);
    let mut rng = node_rng(1, Purpose::Custom(0), 0, 0);
    s.handle(Time::ZERO, &mut rng, Input::Start);
    drain(&mut s);
    let object = ObjectId::synthetic(1, 1);
    s.handle(
        Time::ZERO,
        &mut rng,
        Input::Command(Command::Write {
            tag: 7,
            object,
            len: 1000,
        }),
    );
    let tag = drain(&mut s)
        .iter()
        .find_map(|o| match o {
            Output::FindPlacement { tag, .. } => Some(*tag),
            _ => None,
        })
        .expect("asks for placement");
    s.handle(
        Time::ZERO,
        &mut rng,
        Input::Placement {
            tag,
            nodes: vec![NodeId(1), NodeId(2), NodeId(3)],
        },
    );
    let first = puts(&drain(&mut s));
    assert_eq!(
        first.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![NodeId(1), NodeId(2)]
    );
    let delivered = Time(10 * SEC);
    for &(_, _, bulk) in &first {
        s.handle(
            delivered,
            &mut rng,
            Input::BulkDone {
                bulk,
                delivered: true,
                bytes: 1028,
            },
        );
    }
    drain(&mut s);
    let ack = |s: &mut Storage, rng: &mut NodeRng, at: u64, from: u32, p: &Put| {
        s.handle(
            Time(at * SEC),
            rng,
            Input::Message {
                from: NodeId(from),
                msg: StoreMsg::PutAck {
                    rid: p.2.rid,
                    index: p.1,
                    ok: true,
                },
            },
        );
    };
    ack(&mut s, &mut rng, 10, 2, &first[1]);
    let mut out = drain(&mut s);
    if let Some(t) = ack_from_1.filter(|&t| t < fire_at) {
        ack(&mut s, &mut rng, t, 1, &first[0]);
        out.extend(drain(&mut s));
    }
    s.handle(Time(fire_at * SEC), &mut rng, Input::Timer(Timer::Acks));
    let fired = drain(&mut s);
    out.extend(fired.iter().cloned());
    let again = puts(&fired);
    // The next candidate, if asked, stores and acknowledges.
    for p in &again {
        s.handle(
            Time((fire_at + 1) * SEC),
            &mut rng,
            Input::BulkDone {
                bulk: p.2,
                delivered: true,
                bytes: 1028,
            },
        );
        ack(&mut s, &mut rng, fire_at + 1, p.0.0, p);
        out.extend(drain(&mut s));
    }
    (again, written(&out))
}

#[test]
fn a_missing_acknowledgement_moves_the_fragment_on_after_the_rpc_timeout() {
    // Node 1 never answers: at 10 s + 5 s its fragment goes to node 3.
    let (again, holders) = write_with(None, 15);
    assert_eq!(
        again.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        vec![(NodeId(3), 0)]
    );
    assert_eq!(holders, Some(vec![NodeId(3), NodeId(2)]));
}

#[test]
fn an_acknowledgement_in_time_keeps_its_holder() {
    // Control: node 1 answers at 12 s, before the deadline; the timer
    // firing at 15 s moves nothing, and the write ended with nodes 1 and 2.
    let (again, holders) = write_with(Some(12), 15);
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(holders, Some(vec![NodeId(1), NodeId(2)]));
}

#[test]
fn the_deadline_is_the_rpc_timeout_after_delivery_not_before() {
    // Control: the timer fired early (at 14 s, before 10 s + 5 s) moves
    // nothing, and the write has not ended.
    let (again, holders) = write_with(None, 14);
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(holders, None);
}
