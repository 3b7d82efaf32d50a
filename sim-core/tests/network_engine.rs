//! The routed network through the engine: datagrams beside bulk flows,
//! max-min shared transfers, failures, loss and byte accounting. Expected
//! times are worked out by hand in the comments.

use serde::{Deserialize, Serialize};
use sim_core::net::{Access, AccessOnly, LinkId, LinkSpec};
use sim_core::prelude::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum M {
    Ping(u32),
    Data { len: u64 },
}
impl Message for M {
    fn phantom_len(&self) -> u64 {
        match self {
            M::Data { len } => *len,
            M::Ping(_) => 0,
        }
    }
    fn class(&self) -> u8 {
        match self {
            M::Ping(_) => sim_core::node::class::CONTROL,
            M::Data { .. } => sim_core::node::class::STORAGE,
        }
    }
}

#[derive(Default)]
struct Host {
    got: Vec<(u64, M)>,
    outcomes: Vec<(u64, TransferOutcome)>,
}
impl Node for Host {
    type Msg = M;
    type Timer = ();
    type Request = ();
    fn on_start(&mut self, _: &mut Cx<'_, Self>) {}
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, _: NodeId, m: M) {
        self.got.push((cx.now().0, m));
    }
    fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: ()) {}
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, _: TransferId, o: TransferOutcome) {
        self.outcomes.push((cx.now().0, o));
    }
}

fn rate(s: &str) -> Rate {
    s.parse().unwrap()
}
const MS: u64 = 1_000_000;

/// `n` hosts with 8 Mbit/s up, 80 Mbit/s down, 5 ms access latency each, and
/// a 10 ms core link of 1 Gbit/s (loss `core_loss`).
fn star(n: usize, core_loss: f64) -> Sim<Host> {
    let access = Access {
        up: rate("8Mbit/s"),
        down: rate("80Mbit/s"),
        latency: Duration::from_millis(5),
    };
    let core = LinkSpec::new(Duration::from_millis(10), rate("1Gbit/s"), core_loss).unwrap();
    let topo = AccessOnly::uniform(n, access, Some(core));
    let mut sim = Sim::new(SimConfig::new(
        1,
        SimpleNet::constant(Duration::ZERO, rate("1Mbit/s")),
    ));
    sim.set_topology(Box::new(topo), Duration::ZERO).unwrap();
    for _ in 0..n {
        sim.add_node(Host::default());
    }
    sim.run(RunLimits::until(Time(1))).unwrap();
    sim
}

fn send(sim: &mut Sim<Host>, from: u32, to: u32, m: M) {
    sim.with_node(NodeId(from), |_, cx| cx.send(NodeId(to), m))
        .unwrap();
}
fn bulk(sim: &mut Sim<Host>, from: u32, to: u32, len: u64) -> TransferId {
    sim.with_node(NodeId(from), |_, cx| {
        cx.send_bulk(NodeId(to), M::Data { len })
    })
    .unwrap()
}

#[test]
fn a_datagram_takes_serialisation_plus_path_latency() {
    let mut sim = star(2, 0.0);
    // Ping(7) encodes in 2 bytes: 16 bits at 8 Mbit/s = 2 us. Path latency:
    // 5 (uplink) + 10 (core) + 5 (downlink) = 20 ms. Sent at t = 1 ns.
    send(&mut sim, 0, 1, M::Ping(7));
    sim.run(RunLimits::default()).unwrap();
    assert_eq!(
        sim.node(NodeId(1)).got,
        vec![(1 + 20 * MS + 2_000, M::Ping(7))]
    );
}

#[test]
fn a_ping_is_not_queued_behind_a_flow_on_the_same_uplink() {
    let mut sim = star(3, 0.0);
    // 8 MB from node 0 saturates its 8 Mbit/s uplink for 8 s.
    bulk(&mut sim, 0, 2, 8_000_000);
    send(&mut sim, 0, 1, M::Ping(1));
    sim.run(RunLimits::until(Time(100 * MS))).unwrap();
    assert_eq!(
        sim.node(NodeId(1)).got,
        vec![(1 + 20 * MS + 2_000, M::Ping(1))]
    );
}

#[test]
fn transfers_share_a_bottleneck_max_min_fairly() {
    let mut sim = star(3, 0.0);
    // Node 0 sends 1 MB to node 1 and 2 MB to node 2 at once; both share
    // node 0's 8 Mbit/s uplink (the bottleneck): 4 Mbit/s each.
    // Wire sizes: M::Data{len} encodes as 1 (variant) + varint(len) bytes:
    // 1_000_000 -> 3 bytes, 2_000_000 -> 3 bytes, so 1_000_004 and 2_000_004.
    // Flow A: 8_000_032 bits at 4 Mbit/s = 2.000008 s; then B alone at
    // 8 Mbit/s for its remaining 16_000_032 - 8_000_032 = 8_000_000 bits = 1 s.
    // Data arrives one path latency (20 ms) after its last bit leaves.
    bulk(&mut sim, 0, 1, 1_000_000);
    bulk(&mut sim, 0, 2, 2_000_000);
    sim.run(RunLimits::default()).unwrap();
    let a_end = 1 + 2_000_008_000;
    let b_end = a_end + 1_000_000_000;
    assert_eq!(
        sim.node(NodeId(1)).got,
        vec![(a_end + 20 * MS, M::Data { len: 1_000_000 })]
    );
    assert_eq!(
        sim.node(NodeId(2)).got,
        vec![(b_end + 20 * MS, M::Data { len: 2_000_000 })]
    );
    let o = &sim.node(NodeId(0)).outcomes;
    assert_eq!(o.len(), 2);
    assert!(matches!(
        o[0].1,
        TransferOutcome::Completed {
            bytes: Bytes(1_000_004),
            ..
        }
    ));
    assert!(matches!(
        o[1].1,
        TransferOutcome::Completed {
            bytes: Bytes(2_000_004),
            ..
        }
    ));
}

#[test]
fn a_flow_to_a_crashing_node_fails_with_the_bytes_moved() {
    let mut sim = star(2, 0.0);
    // 10 MB at 8 Mbit/s = 1 byte per microsecond; the receiver crashes at
    // 500 ms + 1 ns: exactly 500_000 bytes have left by then.
    bulk(&mut sim, 0, 1, 10_000_000);
    sim.stop_at(NodeId(1), Time(500 * MS + 1), Stop::Transient)
        .unwrap();
    sim.run(RunLimits::default()).unwrap();
    let o = &sim.node(NodeId(0)).outcomes;
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].0, 500 * MS + 1);
    match o[0].1 {
        TransferOutcome::Failed { moved, .. } => assert_eq!(moved, Bytes(500_000)),
        other => panic!("{other:?}"),
    }
    assert!(sim.node(NodeId(1)).got.is_empty());
}

#[test]
fn cutting_a_link_fails_the_flows_crossing_it() {
    let mut sim = star(2, 0.0);
    bulk(&mut sim, 0, 1, 10_000_000);
    // The core link of AccessOnly::uniform(2, ..) is link 2 * 2 = 4.
    sim.cut_link_at(LinkId(4), Time(250 * MS + 1), true)
        .unwrap();
    sim.run(RunLimits::until(Time(300 * MS))).unwrap();
    send(&mut sim, 0, 1, M::Ping(3));
    sim.run(RunLimits::until(Time(400 * MS))).unwrap();
    match sim.node(NodeId(0)).outcomes[..] {
        [(t, TransferOutcome::Failed { moved, .. })] => {
            assert_eq!(t, 250 * MS + 1);
            assert_eq!(moved, Bytes(250_000));
        }
        ref other => panic!("{other:?}"),
    }
    assert!(
        sim.node(NodeId(1)).got.is_empty(),
        "a ping crossed a cut link"
    );
    assert!(sim.cut_link_at(LinkId(99), Time(500 * MS), true).is_err());
}

/// Fraction of 20,000 pings lost over a core link of loss `p`, checked
/// against `expected` within 4 standard errors.
fn loss_matches(p: f64, expected: f64) -> bool {
    let mut sim = star(2, p);
    let n = 20_000u32;
    for i in 0..n {
        send(&mut sim, 0, 1, M::Ping(i));
    }
    sim.run(RunLimits::default()).unwrap();
    let got = sim.node(NodeId(1)).got.len() as f64;
    let lost = 1.0 - got / n as f64;
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    (lost - expected).abs() <= 4.0 * se
}

#[test]
fn datagram_loss_follows_the_link_loss() {
    assert!(loss_matches(0.2, 0.2));
    // Negative control: a link losing 10 % fails the 20 % check.
    assert!(!loss_matches(0.1, 0.2));
}

#[test]
fn byte_counters_equal_the_transferred_sizes() {
    let mut sim = star(4, 0.0);
    let mut expected_sent = [0u64; 4];
    let mut expected_received = [0u64; 4];
    let sizes = [
        (0, 1, 30_000u64),
        (1, 2, 123_456),
        (2, 3, 7),
        (3, 0, 999_999),
        (0, 2, 50_000),
    ];
    for &(f, t, len) in &sizes {
        bulk(&mut sim, f, t, len);
        let wire = M::Data { len }.wire_size();
        expected_sent[f as usize] += wire;
        expected_received[t as usize] += wire;
    }
    for i in 0..4u32 {
        send(&mut sim, i, (i + 1) % 4, M::Ping(i));
        let wire = M::Ping(i).wire_size();
        expected_sent[i as usize] += wire;
        expected_received[((i + 1) % 4) as usize] += wire;
    }
    sim.run(RunLimits::default()).unwrap();
    sim.finish_metrics();
    let files = sim.metrics_mut().to_csv_files().unwrap();
    let text = String::from_utf8(files["node_bytes.csv"].clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("node,sent_bytes,received_bytes"));
    for (i, line) in lines.enumerate() {
        assert_eq!(
            line,
            format!("{i},{},{}", expected_sent[i], expected_received[i])
        );
    }
    let storage: u64 = sizes
        .iter()
        .map(|&(_, _, l)| M::Data { len: l }.wire_size())
        .sum();
    assert_eq!(sim.metrics().counter("net.class1_bytes"), storage);
    assert_eq!(sim.metrics().counter("engine.transfer_bytes"), storage);
}

#[test]
fn unsolicited_messages_to_a_node_behind_nat_go_through_its_relay() {
    use rand::SeedableRng;
    use sim_core::net::{LatencyModel, Topology};
    use sim_core::topo::Nat;
    let access = Access {
        up: rate("8Mbit/s"),
        down: rate("80Mbit/s"),
        latency: Duration::from_millis(5),
    };
    let core = LinkSpec::new(Duration::from_millis(10), rate("1Gbit/s"), 0.0).unwrap();
    let inner = AccessOnly::uniform(4, access, Some(core));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let nat = Nat::new(inner, 0.25, 3, &mut rng).unwrap();
    let natted = (0..4).find(|&i| nat.is_nat(i)).unwrap();
    let relay = nat.relay(natted).unwrap();
    let other = (0..4).find(|&i| i != natted && i != relay).unwrap();
    // Direct: 20 ms + 2 us serialisation (2-byte Ping at 8 Mbit/s). Via the
    // relay: the links of the relayed route (other -> relay -> natted; the
    // shared core link counted once) plus its latency-model part.
    let mut via = Vec::new();
    nat.route_via_relay(other, natted, &mut via).unwrap();
    let links = nat.links().to_vec();
    let via_latency: u64 = via
        .iter()
        .map(|l| links[l.index()].latency().0)
        .sum::<u64>()
        + nat.relay_latency(other, natted).0;
    assert!(via_latency > 20 * MS, "the relay adds latency");
    assert_eq!(nat.latency(other, natted), Duration::ZERO);
    let mut sim = Sim::new(SimConfig::new(
        1,
        SimpleNet::constant(Duration::ZERO, rate("1Mbit/s")),
    ));
    sim.set_topology(Box::new(nat), Duration::ZERO).unwrap();
    for _ in 0..4 {
        sim.add_node(Host::default());
    }
    sim.run(RunLimits::until(Time(1))).unwrap();
    // Unsolicited: through the relay.
    send(&mut sim, other, natted, M::Ping(1));
    sim.run(RunLimits::until(Time(200 * MS))).unwrap();
    assert_eq!(
        sim.node(NodeId(natted)).got,
        vec![(1 + via_latency + 2_000, M::Ping(1))]
    );
    // The NAT node answers: from now on the peer's messages are solicited
    // and travel directly.
    send(&mut sim, natted, other, M::Ping(2));
    sim.run(RunLimits::until(Time(400 * MS))).unwrap();
    send(&mut sim, other, natted, M::Ping(3));
    sim.run(RunLimits::until(Time(600 * MS))).unwrap();
    assert_eq!(
        sim.node(NodeId(natted)).got[1],
        (400 * MS + 20 * MS + 2_000, M::Ping(3))
    );
    // A third node's unsolicited message is lost while the relay is down.
    let third = (0..4)
        .find(|&i| i != natted && i != relay && i != other)
        .unwrap();
    sim.stop_at(NodeId(relay), Time(700 * MS), Stop::Transient)
        .unwrap();
    sim.run(RunLimits::until(Time(800 * MS))).unwrap();
    send(&mut sim, third, natted, M::Ping(4));
    sim.run(RunLimits::until(Time(1_000 * MS))).unwrap();
    assert_eq!(sim.node(NodeId(natted)).got.len(), 2);
    sim.finish_metrics();
    assert_eq!(sim.metrics().counter("net.nat_unreachable"), 1);
}
