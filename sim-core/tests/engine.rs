//! Engine behaviour: delivery times, ordering, timers, lifecycle, transfers,
//! workloads, errors. Expected values are worked out by hand in comments.

use serde::{Deserialize, Serialize};
use sim_core::node::check_wire_size;
use sim_core::prelude::*;
use sim_core::testbed::{Gossip, GossipMsg, GossipReq, GossipTimer};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}
fn at_ms(v: u64) -> Time {
    Time(v * 1_000_000)
}
fn net(latency_ms: u64) -> SimpleNet {
    SimpleNet::constant(ms(latency_ms), "8Mbit/s".parse().unwrap())
}

#[test]
fn ping_round_trips_take_twice_the_latency() {
    // Every node ticks every 100 ms and pings a random peer; with 20 ms
    // one-way latency every answer arrives 40 ms after its ping, so answers
    // arrive at k*100 + 40 ms.
    let mut sim = Sim::new(SimConfig::new(1, net(20)));
    for _ in 0..5 {
        sim.add_node(Gossip::new(ms(100)));
    }
    sim.run(RunLimits::until(at_ms(1_000))).unwrap();
    let h = sim.metrics().histogram("rtt_ns").unwrap();
    // Ticks at 100..=1000 ms; the ping sent at 1000 ms is not answered by
    // then, and the one at 1000 is not sent before the end... 9 answered
    // rounds (100..=900) per node = 45 round trips.
    assert_eq!(h.count(), 45);
    assert_eq!(h.min(), Some(40_000_000));
    assert_eq!(h.max(), Some(40_000_000));
    let csv = sim.metrics_mut().to_csv_files().unwrap();
    let pings = String::from_utf8(csv["pings.csv"].clone()).unwrap();
    for line in pings.lines().skip(1) {
        let t: u64 = line.split(',').next().unwrap().parse().unwrap();
        assert_eq!(t % 100_000_000, 40_000_000, "answer at {t} ns");
    }
}

/// Sends two messages to node 1 at the same instant; they must arrive in
/// send order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Num(u32);
impl Message for Num {}

#[derive(Default)]
struct Recorder {
    got: Vec<(Time, u32)>,
    fired: Vec<(Time, u8)>,
}
impl Node for Recorder {
    type Msg = Num;
    type Timer = u8;
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        if cx.me() == NodeId(0) {
            for i in 0..10 {
                cx.send(NodeId(1), Num(i));
            }
            // Three timers at the same deadline fire in the order set.
            cx.set_timer(ms(5), 3);
            cx.set_timer(ms(5), 1);
            cx.set_timer(ms(5), 2);
        }
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, _from: NodeId, m: Num) {
        self.got.push((cx.now(), m.0));
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: u8) {
        self.fired.push((cx.now(), t));
    }
}

#[test]
fn simultaneous_events_are_fifo() {
    let mut sim = Sim::new(SimConfig::new(1, net(10)));
    sim.add_node(Recorder::default());
    sim.add_node(Recorder::default());
    sim.run(RunLimits::default()).unwrap();
    let got = &sim.node(NodeId(1)).got;
    assert_eq!(got.len(), 10);
    for (i, (t, v)) in got.iter().enumerate() {
        assert_eq!(*t, at_ms(10));
        assert_eq!(*v, i as u32);
    }
    assert_eq!(
        sim.node(NodeId(0)).fired,
        vec![(at_ms(5), 3), (at_ms(5), 1), (at_ms(5), 2)]
    );
}

/// A node that, every millisecond, re-arms a far-away timeout and cancels
/// the previous one (the pattern of RPC timeouts).
struct Rearm {
    pending: Option<TimerId>,
    ticks: u32,
}
impl Node for Rearm {
    type Msg = Num;
    type Timer = bool; // true = tick, false = timeout
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        cx.set_timer(ms(1), true);
    }
    fn on_message(&mut self, _: &mut Cx<'_, Self>, _: NodeId, _: Num) {}
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, tick: bool) {
        assert!(tick, "a cancelled timeout fired");
        if let Some(id) = self.pending.take() {
            assert!(cx.cancel_timer(id));
            assert!(!cx.cancel_timer(id), "cancelling twice must report false");
        }
        self.pending = Some(cx.set_timer(Duration::from_secs(3_600), false));
        self.ticks += 1;
        if self.ticks < 100_000 {
            cx.set_timer(ms(1), true);
        }
    }
}

#[test]
fn cancelled_timers_do_not_accumulate() {
    let mut sim = Sim::new(SimConfig::new(1, net(1)));
    sim.add_node(Rearm {
        pending: None,
        ticks: 0,
    });
    let mut peak_seen = 0;
    for k in 1..=100u64 {
        sim.run(RunLimits::until(at_ms(k * 1_000))).unwrap();
        peak_seen = peak_seen.max(sim.pending_events());
    }
    assert_eq!(sim.node(NodeId(0)).ticks, 100_000);
    // 100,000 timeouts were cancelled; without compaction the queue would
    // hold all of them. Compaction keeps it below 2 * 1024 + live events.
    assert!(peak_seen < 2_100, "queue grew to {peak_seen}");
    assert!(sim.run_info().peak_queue < 2_100);
}

#[test]
fn lifecycle_incarnations_discard_stale_messages_and_timers() {
    // Node 1 crashes at 5 ms and restarts at 8 ms. Node 0 sends to node 1 at
    // t=0 (arrives at 10 ms, addressed to incarnation 0): it must not reach
    // incarnation 1. Node 0's 5 ms timers fire normally.
    let mut sim = Sim::new(SimConfig::new(1, net(10)));
    sim.add_node(Recorder::default());
    sim.add_node(Recorder::default());
    sim.stop_at(NodeId(1), at_ms(5), Stop::Transient).unwrap();
    sim.start_at(NodeId(1), at_ms(8)).unwrap();
    sim.run(RunLimits::default()).unwrap();
    assert_eq!(sim.incarnation(NodeId(1)), 1);
    assert!(sim.is_up(NodeId(1)));
    assert!(sim.node(NodeId(1)).got.is_empty());
    assert_eq!(sim.node(NodeId(0)).fired.len(), 3);
    sim.finish_metrics();
    assert_eq!(sim.metrics().counter("engine.lost_receiver_down"), 10);
}

#[test]
fn timers_of_an_old_incarnation_never_fire() {
    // Gossip ticks every 100 ms; crash at 150 ms, restart at 160 ms. The
    // old incarnation's tick due at 200 ms must not fire; the new
    // incarnation ticks at 260, 360, ...
    let mut sim = Sim::new(SimConfig::new(3, net(1)));
    sim.add_node(Gossip::new(ms(100)));
    sim.add_node(Gossip::new(ms(100)));
    sim.stop_at(NodeId(0), at_ms(150), Stop::Transient).unwrap();
    sim.start_at(NodeId(0), at_ms(160)).unwrap();
    sim.run(RunLimits::until(at_ms(400))).unwrap();
    // Node 0 pinged at 100 (inc 0), then 260 and 360 (inc 1): 3 probes.
    assert_eq!(sim.node(NodeId(0)).next_seq, 3);
    assert_eq!(sim.node(NodeId(1)).next_seq, 4);
}

#[test]
fn bulk_transfer_time_is_latency_plus_size_over_rate() {
    // 1 MB phantom + 4 encoded bytes (postcard: variant 3, varint of
    // 1_000_000 takes 3 bytes) at 8 Mbit/s = 1_000_004 * 8 / 8e6 s =
    // 1.000004 s, plus 10 ms latency = 1.010004 s.
    struct Sender;
    impl Node for Sender {
        type Msg = GossipMsg;
        type Timer = GossipTimer;
        type Request = GossipReq;
        fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
            if cx.me() == NodeId(0) {
                cx.send_bulk(NodeId(1), GossipMsg::Blob { len: 1_000_000 });
            }
        }
        fn on_message(&mut self, cx: &mut Cx<'_, Self>, _: NodeId, m: GossipMsg) {
            assert_eq!(m, GossipMsg::Blob { len: 1_000_000 });
            cx.count("arrived_at_ns", cx.now().0);
        }
        fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: GossipTimer) {}
        fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, _: TransferId, o: TransferOutcome) {
            match o {
                TransferOutcome::Completed { bytes, .. } => {
                    cx.count("completed_bytes", bytes.0);
                    cx.count("completed_at_ns", cx.now().0);
                }
                TransferOutcome::Failed { .. } => panic!("no failure expected"),
            }
        }
    }
    assert_eq!(GossipMsg::Blob { len: 1_000_000 }.wire_size(), 1_000_004);
    let mut sim = Sim::new(SimConfig::new(1, net(10)));
    sim.add_node(Sender);
    sim.add_node(Sender);
    sim.run(RunLimits::default()).unwrap();
    assert_eq!(sim.metrics().counter("arrived_at_ns"), 1_010_004_000);
    assert_eq!(sim.metrics().counter("completed_at_ns"), 1_010_004_000);
    assert_eq!(sim.metrics().counter("completed_bytes"), 1_000_004);
}

#[test]
fn a_transfer_to_a_crashing_node_fails_and_reports_bytes_moved() {
    // 1 MB blob at 8 Mbit/s = 1 byte per microsecond. The receiver crashes
    // at 250 ms: 250_000 bytes moved.
    let mut sim = Sim::new(SimConfig::new(1, net(10)));
    sim.add_node(Gossip::new(Duration::from_secs(1_000)));
    sim.add_node(Gossip::new(Duration::from_secs(1_000)));
    sim.run(RunLimits::until(Time(1))).unwrap();
    let id = sim
        .with_node(NodeId(0), |_, cx| {
            cx.send_bulk(NodeId(1), GossipMsg::Blob { len: 1_000_000 })
        })
        .unwrap();
    sim.stop_at(NodeId(1), at_ms(250), Stop::Transient).unwrap();
    sim.run(RunLimits::until(at_ms(2_000))).unwrap();
    let tr = &sim.node(NodeId(0)).transfers;
    assert_eq!(tr.len(), 1);
    assert_eq!(tr[0].0, id);
    match tr[0].1 {
        TransferOutcome::Failed { to, moved, started } => {
            assert_eq!(to, NodeId(1));
            assert_eq!(started, Time(1));
            // (250 ms - 1 ns) at 1 byte/us = 249_999 whole bytes.
            assert_eq!(moved, Bytes(249_999));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    sim.finish_metrics();
    assert_eq!(sim.metrics().counter("blob_bytes_received"), 0);
    assert_eq!(sim.metrics().counter("engine.transfer_bytes"), 249_999);
}

/// A second system fed by the same workload: it only logs.
struct Silent;
impl Node for Silent {
    type Msg = GossipMsg;
    type Timer = GossipTimer;
    type Request = GossipReq;
    fn on_start(&mut self, _: &mut Cx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Cx<'_, Self>, _: NodeId, _: GossipMsg) {}
    fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: GossipTimer) {}
}

fn workload() -> Poisson<impl FnMut(NodeId, &mut NodeRng) -> GossipReq> {
    Poisson::new(ms(300), |_, _: &mut NodeRng| GossipReq::Infect).unwrap()
}

#[test]
fn two_systems_get_byte_identical_request_sequences() {
    let mut cfg = SimConfig::new(77, net(5));
    cfg.log_requests = true;
    let clients: Vec<NodeId> = (0..20).map(NodeId).collect();

    let mut a = Sim::new(cfg.clone());
    for _ in 0..20 {
        a.add_node(Gossip::new(ms(50)));
    }
    a.add_workload(&clients, workload()).unwrap();
    // Client churn, identical on both sides.
    a.stop_at(NodeId(3), at_ms(1_000), Stop::Transient).unwrap();
    a.start_at(NodeId(3), at_ms(2_000)).unwrap();
    a.run(RunLimits::until(at_ms(5_000))).unwrap();

    let mut b = Sim::new(cfg);
    for _ in 0..20 {
        b.add_node(Silent);
    }
    b.add_workload(&clients, workload()).unwrap();
    b.stop_at(NodeId(3), at_ms(1_000), Stop::Transient).unwrap();
    b.start_at(NodeId(3), at_ms(2_000)).unwrap();
    b.run(RunLimits::until(at_ms(5_000))).unwrap();

    let ra = a
        .metrics_mut()
        .to_csv_files()
        .unwrap()
        .remove("requests.csv")
        .unwrap();
    let rb = b
        .metrics_mut()
        .to_csv_files()
        .unwrap()
        .remove("requests.csv")
        .unwrap();
    let text = String::from_utf8(ra.clone()).unwrap();
    // 20 clients, 5 s at one request per 300 ms: about 333 requests.
    let n = text.lines().count() - 1;
    assert!((250..420).contains(&n), "{n} requests");
    assert!(
        text.contains(",3,") && text.contains("false"),
        "client 3 missed some while down"
    );
    assert_eq!(ra, rb, "request logs differ between the two systems");
    // The gossip system did spread the rumor: the workload reached it.
    assert!(a.metrics().rows("infections") >= 19);
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut sim: Sim<Gossip> = Sim::new(SimConfig::new(1, net(1)));
    sim.add_node(Gossip::new(ms(10)));
    let e = sim
        .run(RunLimits {
            max_events: Some(0),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(e, SimError::ZeroBudget), "{e}");
    sim.run(RunLimits::until(at_ms(100))).unwrap();
    let e = sim.start_at(NodeId(0), at_ms(50)).unwrap_err();
    assert!(e.to_string().contains("in the past"), "{e}");
    let e = sim
        .stop_at(NodeId(9), at_ms(500), Stop::Transient)
        .unwrap_err();
    assert!(e.to_string().contains("no node n9"), "{e}");
    let e = sim.run(RunLimits::until(at_ms(10))).unwrap_err();
    assert!(e.to_string().contains("in the past"), "{e}");
    assert!(SimpleNet::uniform(ms(5), ms(1), "1Mbit/s".parse().unwrap()).is_err());
    assert!(
        Poisson::new(Duration::ZERO, |_: NodeId, _: &mut NodeRng| {
            GossipReq::Infect
        })
        .is_err()
    );
    assert!("0bit/s".parse::<Rate>().is_err());
}

#[test]
fn stop_conditions_budget_and_abort_are_exact() {
    let mk = || {
        let mut sim = Sim::new(SimConfig::new(5, net(3)));
        for _ in 0..10 {
            sim.add_node(Gossip::new(ms(10)));
        }
        sim
    };
    let mut a = mk();
    let out = a
        .run(RunLimits {
            max_events: Some(1_234),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.reason, StopReason::Budget);
    assert_eq!(out.events, 1_234);
    let mut b = mk();
    let out = b
        .run(RunLimits {
            abort_after: Some(1_234),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.reason, StopReason::Aborted);
    assert_eq!(out.events, 1_234);
    assert_eq!(a.trace_hash(), b.trace_hash());
    // A run continued after a budget stop matches one run straight through.
    a.run(RunLimits::until(at_ms(500))).unwrap();
    let mut c = mk();
    c.run(RunLimits::until(at_ms(500))).unwrap();
    assert_eq!(a.trace_hash(), c.trace_hash());
}

#[test]
fn wire_size_matches_postcard_encoding() {
    for m in [
        GossipMsg::Ping { seq: 0 },
        GossipMsg::Ping { seq: u32::MAX },
        GossipMsg::Pong { seq: 300 },
        GossipMsg::Rumor { hops: 7 },
        GossipMsg::Blob { len: 4 << 20 },
    ] {
        check_wire_size(&m).unwrap();
    }
    // A hand-written wire_size that lies is caught.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Liar(u64);
    impl Message for Liar {
        fn wire_size(&self) -> u64 {
            8
        }
    }
    let e = check_wire_size(&Liar(3)).unwrap_err();
    assert_eq!((e.declared, e.encoded), (8, 1));
}
