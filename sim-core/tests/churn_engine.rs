//! Churn driven by the engine: equilibrium start, incarnations, departures
//! and replacements, trace replay, correlated outages, identical client
//! churn in two systems.

use serde::{Deserialize, Serialize};
use sim_core::churn::{
    Alternating, Dist, Group, Mapping, PermanentPolicy, Start, Trace, TraceReplay,
};
use sim_core::prelude::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Note(u32);
impl Message for Note {}

/// Records its lifecycle: (time, "start"/"stop", incarnation).
#[derive(Default)]
struct Life {
    log: Vec<(u64, &'static str, u32)>,
    got: Vec<(u64, u32)>,
}
impl Node for Life {
    type Msg = Note;
    type Timer = ();
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.log.push((cx.now().0, "start", cx.incarnation()));
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, _: NodeId, m: Note) {
        self.got.push((cx.now().0, m.0));
    }
    fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: ()) {}
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        let what = match how {
            Stop::Transient => "stop",
            Stop::Permanent => "depart",
        };
        self.log.push((cx.now().0, what, cx.incarnation()));
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
fn net() -> SimpleNet {
    SimpleNet::constant(Duration::from_millis(10), "10Mbit/s".parse().unwrap())
}

/// Fraction of nodes up, sampled every 15 min over the first 4 h, compared
/// with the availability `pi`: pass iff every sample is within 4 standard
/// errors of a binomial proportion over `n` nodes. (Samples 15 min apart are
/// correlated with each other, but each is checked on its own: the band is
/// for a single sample's deviation.)
fn stationary_from_start(start: Start, n: u32, seed: u64) -> (bool, f64) {
    let up = Dist::weibull(secs(3_600), 0.5).unwrap();
    let down = Dist::weibull(secs(7_200), 0.5).unwrap();
    let model = Alternating::new(up, down).with_start(start);
    let pi = 1.0 / 3.0;
    let mut cfg = SimConfig::new(seed, net());
    cfg.sample_every = Some(secs(900));
    let mut sim = Sim::new(cfg);
    sim.set_churn(model).unwrap();
    for _ in 0..n {
        sim.add_node(Life::default());
    }
    sim.run(RunLimits::until(Time(4 * 3_600 * 1_000_000_000)))
        .unwrap();
    let se = (pi * (1.0 - pi) / n as f64).sqrt();
    let mut worst: f64 = 0.0;
    for &(t, name, v) in sim.metrics().samples() {
        // The sample at t = 0 is taken before the start events run.
        if name == "nodes_up" && t > 0 {
            worst = worst.max((v / n as f64 - pi).abs() / se);
        }
    }
    (worst <= 4.0, worst)
}

#[test]
fn equilibrium_start_is_stationary_and_fresh_start_is_not() {
    let (ok, worst) = stationary_from_start(Start::Equilibrium, 3_000, 1);
    eprintln!("equilibrium start: worst sample {worst:.2} SE from 1/3");
    assert!(ok, "equilibrium start deviates by {worst:.1} SE");
    // Negative control: every node on a fresh up session at time zero.
    let (ok, worst) = stationary_from_start(Start::Fresh, 3_000, 1);
    eprintln!("fresh start: worst sample {worst:.2} SE from 1/3");
    assert!(
        !ok,
        "fresh start passed the stationarity check ({worst:.1} SE)"
    );
}

#[test]
fn transient_failures_restart_as_new_incarnations_and_drop_stale_messages() {
    // Exponential sessions of 10 s up and 10 s down for 10 minutes.
    let model = Alternating::new(
        Dist::exponential(secs(10)).unwrap(),
        Dist::exponential(secs(10)).unwrap(),
    );
    let mut sim = Sim::new(SimConfig::new(3, net()));
    sim.set_churn(model).unwrap();
    for _ in 0..20 {
        sim.add_node(Life::default());
    }
    sim.run(RunLimits::until(Time(600 * 1_000_000_000)))
        .unwrap();
    for i in 0..20 {
        let log = &sim.node(NodeId(i)).log;
        // Alternating start/stop, incarnations rising by one per restart.
        let mut expect_inc = None::<u32>;
        for w in log.windows(2) {
            assert_ne!(w[0].1, w[1].1, "node {i}: two {} in a row", w[0].1);
        }
        for &(_, what, inc) in log {
            if what == "start" {
                if let Some(e) = expect_inc {
                    assert_eq!(inc, e, "node {i}");
                }
                expect_inc = Some(inc + 1);
            }
        }
        assert!(log.len() > 20, "node {i} barely churned: {log:?}");
    }
    assert!(
        sim.metrics()
            .histogram("churn.up_session_ns")
            .unwrap()
            .count()
            > 300
    );
}

#[test]
fn a_message_to_a_node_that_crashed_and_came_back_is_not_delivered() {
    // Node 1's trace: up 0-1 s, down, up again from 1.005 s. A message sent
    // by node 0 at 0.999 s arrives at 1.009 s (10 ms latency) — after the
    // restart — and must be discarded; one sent at 1.006 s is delivered.
    let trace = Trace::parse_csv(
        "node,up_at,down_at\n0,0,1000\n1,0,1\n1,1.005,1000\n",
        "two-nodes.csv",
    )
    .unwrap();
    let mut sim = Sim::new(SimConfig::new(1, net()));
    sim.set_churn(TraceReplay::new(trace, Mapping::Modulo))
        .unwrap();
    sim.add_node(Life::default());
    sim.add_node(Life::default());
    sim.run(RunLimits::until(Time(999_000_000))).unwrap();
    sim.with_node(NodeId(0), |_, cx| cx.send(NodeId(1), Note(1)))
        .unwrap();
    sim.run(RunLimits::until(Time(1_006_000_000))).unwrap();
    assert_eq!(sim.incarnation(NodeId(1)), 1);
    sim.with_node(NodeId(0), |_, cx| cx.send(NodeId(1), Note(2)))
        .unwrap();
    sim.run(RunLimits::until(Time(2_000_000_000))).unwrap();
    assert_eq!(sim.node(NodeId(1)).got, vec![(1_016_000_000, 2)]);
}

#[test]
fn trace_replays_exactly_through_the_engine() {
    let trace = Trace::parse_csv(
        "node,up_at,down_at\n0,1h,2h\n0,3h,4h\n1,0,30min\n",
        "pattern.csv",
    )
    .unwrap();
    let mut sim = Sim::new(SimConfig::new(9, net()));
    sim.set_churn(TraceReplay::new(trace, Mapping::Modulo))
        .unwrap();
    for _ in 0..3 {
        sim.add_node(Life::default());
    }
    sim.run(RunLimits::until(Time(5 * 3_600 * 1_000_000_000)))
        .unwrap();
    let h = 3_600_000_000_000u64;
    assert_eq!(
        sim.node(NodeId(0)).log,
        vec![
            (h, "start", 0),
            (2 * h, "stop", 0),
            (3 * h, "start", 1),
            (4 * h, "stop", 1)
        ]
    );
    assert_eq!(
        sim.node(NodeId(1)).log,
        vec![(0, "start", 0), (h / 2, "stop", 0)]
    );
    // Node 2 follows trace node 0 (2 % 2).
    assert_eq!(sim.node(NodeId(2)).log, sim.node(NodeId(0)).log);
}

#[test]
fn nodes_the_trace_does_not_cover_can_stay_up() {
    let trace = Trace::parse_csv("node,up_at,down_at\n0,1h,2h\n", "one-host.csv").unwrap();
    let mut sim = Sim::new(SimConfig::new(9, net()));
    sim.set_churn(TraceReplay::new(trace, Mapping::ExplicitOrUp(vec![0])))
        .unwrap();
    for _ in 0..3 {
        sim.add_node(Life::default());
    }
    sim.run(RunLimits::until(Time(5 * 3_600 * 1_000_000_000)))
        .unwrap();
    let h = 3_600_000_000_000u64;
    assert_eq!(
        sim.node(NodeId(0)).log,
        vec![(h, "start", 0), (2 * h, "stop", 0)]
    );
    for i in [1, 2] {
        assert_eq!(sim.node(NodeId(i)).log, vec![(0, "start", 0)], "node {i}");
    }
}

#[test]
fn permanent_departures_are_replaced_by_new_ids() {
    // Every failure is permanent: each node departs once, and a new node
    // with a new id takes its place.
    let model = Alternating::new(
        Dist::exponential(secs(60)).unwrap(),
        Dist::exponential(secs(60)).unwrap(),
    )
    .with_permanent(PermanentPolicy::probability_per_failure(1.0).unwrap());
    let mut sim = Sim::new(SimConfig::new(4, net()));
    sim.set_churn(model).unwrap();
    sim.set_replacement(|_| Life::default());
    for _ in 0..50 {
        sim.add_node(Life::default());
    }
    sim.run(RunLimits::until(Time(600 * 1_000_000_000)))
        .unwrap();
    let departures = sim.metrics().counter("churn.departures");
    let replacements = sim.metrics().counter("churn.replacements");
    assert!(departures > 50, "{departures}");
    assert_eq!(departures, replacements);
    assert_eq!(sim.nodes().len() as u64, 50 + replacements);
    for n in sim.nodes() {
        // Nobody ever restarts: a departed node never comes back.
        assert!(n.log.iter().all(|&(_, _, inc)| inc == 0), "{:?}", n.log);
        assert!(n.log.iter().filter(|e| e.1 == "start").count() <= 1);
    }
}

#[test]
fn a_group_outage_takes_its_members_down_together() {
    let groups = [Group {
        name: "region".into(),
        members: vec![0, 1, 2],
        mtbf: secs(600),
        mttr: secs(60),
    }];
    let mut sim = Sim::new(SimConfig::new(2, net()));
    sim.set_outage_groups(&groups).unwrap();
    for _ in 0..4 {
        sim.add_stable_node(Life::default());
    }
    sim.run(RunLimits::until(Time(6 * 3_600 * 1_000_000_000)))
        .unwrap();
    let outs = sim.metrics().counter("churn.group_out");
    assert!(outs >= 10, "only {outs} outages in 6 h with a 10 min MTBF");
    let l0 = &sim.node(NodeId(0)).log;
    // Every outage stops the member, except one in progress at time zero
    // (groups start in equilibrium too), which delays its first start.
    let stops = l0.iter().filter(|e| e.1 == "stop").count();
    assert!(stops + 1 >= outs as usize, "{outs} outages, log {l0:?}");
    for m in 1..3 {
        let lm = &sim.node(NodeId(m)).log;
        let times =
            |l: &Vec<(u64, &'static str, u32)>| l.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>();
        assert_eq!(times(lm), times(l0), "member {m} not in step");
    }
    // Node 3 is in no group: started once, never stopped.
    assert_eq!(sim.node(NodeId(3)).log, vec![(0, "start", 0)]);
}

#[test]
fn two_systems_see_identical_client_churn() {
    fn lifecycle<N: Node<Request = ()>>(
        mk: impl Fn() -> N,
        log: impl Fn(&N) -> Vec<(u64, &'static str, u32)>,
    ) -> Vec<Vec<(u64, &'static str, u32)>> {
        let model = Alternating::new(
            Dist::log_normal(secs(300), 1.0).unwrap(),
            Dist::pareto(secs(200), 1.5).unwrap(),
        );
        let mut sim = Sim::new(SimConfig::new(42, net()));
        sim.set_churn(model).unwrap();
        for _ in 0..30 {
            sim.add_node(mk());
        }
        sim.run(RunLimits::until(Time(7_200 * 1_000_000_000)))
            .unwrap();
        sim.nodes().iter().map(log).collect()
    }
    // Life, and a variant that sends messages on every start: churn must not
    // depend on what the nodes do.
    #[derive(Default)]
    struct Chatty(Life);
    impl Node for Chatty {
        type Msg = Note;
        type Timer = ();
        type Request = ();
        fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
            self.0.log.push((cx.now().0, "start", cx.incarnation()));
            for i in 0..5 {
                cx.send(NodeId(i), Note(i));
            }
        }
        fn on_message(&mut self, _: &mut Cx<'_, Self>, _: NodeId, _: Note) {}
        fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: ()) {}
        fn on_stop(&mut self, cx: &mut Cx<'_, Self>, _: Stop) {
            self.0.log.push((cx.now().0, "stop", cx.incarnation()));
        }
    }
    let a = lifecycle(Life::default, |n| n.log.clone());
    let b = lifecycle(Chatty::default, |n| n.0.log.clone());
    assert_eq!(a, b);
    assert!(a.iter().map(|l| l.len()).sum::<usize>() > 200);
}
