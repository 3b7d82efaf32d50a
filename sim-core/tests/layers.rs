//! Composition: two layers stacked in one node behave as each does alone.
//!
//! Layer `Ticker` pings a fixed peer on a timer and records the round-trip
//! times; layer `Pusher` sends bulk transfers to a peer on its own timer
//! and records each transfer's outcome. Run alone (each through
//! `impl_node_for_layer!`) and stacked (one node type whose messages and
//! timers wrap both layers'), each layer must see exactly the same events
//! at the same times: its own messages, its own timers and its own
//! transfers, none of the other layer's. The stacked node draws nothing
//! from the shared random stream, so the layers' histories can match.

use serde::{Deserialize, Serialize};
use sim_core::prelude::*;
use sim_core::{Context, Layer};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum TickMsg {
    Ping(u64),
    Pong(u64),
}
impl Message for TickMsg {}

#[derive(Default)]
struct Ticker {
    rtts: Vec<(Time, u64)>,
    foreign: u32,
}

impl Layer for Ticker {
    type Msg = TickMsg;
    type Timer = u8;
    type Request = ();
    fn start(&mut self, cx: &mut impl Context<TickMsg, u8>) {
        cx.set_timer(ms(100), 1);
    }
    fn message(&mut self, cx: &mut impl Context<TickMsg, u8>, from: NodeId, msg: TickMsg) {
        match msg {
            TickMsg::Ping(t) => cx.send(from, TickMsg::Pong(t)),
            TickMsg::Pong(t) => self.rtts.push((cx.now(), cx.now().0 - t)),
        }
    }
    fn timer(&mut self, cx: &mut impl Context<TickMsg, u8>, timer: u8) {
        if timer != 1 {
            self.foreign += 1;
        }
        let peer = NodeId((cx.me().0 + 1) % 3);
        let now = cx.now().0;
        cx.send(peer, TickMsg::Ping(now));
        cx.set_timer(ms(100), 1);
    }
    fn request(&mut self, _cx: &mut impl Context<TickMsg, u8>, _req: ()) {}
    fn transfer(
        &mut self,
        _cx: &mut impl Context<TickMsg, u8>,
        _id: TransferId,
        _outcome: TransferOutcome,
    ) -> bool {
        // Starts none: every outcome offered here is another layer's.
        false
    }
    fn stop(&mut self, _cx: &mut impl Context<TickMsg, u8>, _how: Stop) {}
}
sim_core::impl_node_for_layer!(Ticker);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Chunk {
    n: u32,
}
impl Message for Chunk {
    fn phantom_len(&self) -> u64 {
        50_000
    }
}

#[derive(Default)]
struct Pusher {
    started: Vec<TransferId>,
    ended: Vec<(Time, bool)>,
    got: Vec<(Time, u32)>,
    sent: u32,
}

impl Layer for Pusher {
    type Msg = Chunk;
    type Timer = u16;
    type Request = ();
    fn start(&mut self, cx: &mut impl Context<Chunk, u16>) {
        cx.set_timer(ms(150), 7);
    }
    fn message(&mut self, cx: &mut impl Context<Chunk, u16>, _from: NodeId, msg: Chunk) {
        self.got.push((cx.now(), msg.n));
    }
    fn timer(&mut self, cx: &mut impl Context<Chunk, u16>, timer: u16) {
        assert_eq!(timer, 7, "a timer of another layer reached the pusher");
        self.sent += 1;
        let peer = NodeId((cx.me().0 + 2) % 3);
        let id = cx.send_bulk(peer, Chunk { n: self.sent });
        self.started.push(id);
        cx.set_timer(ms(150), 7);
    }
    fn request(&mut self, _cx: &mut impl Context<Chunk, u16>, _req: ()) {}
    fn transfer(
        &mut self,
        cx: &mut impl Context<Chunk, u16>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool {
        let Some(i) = self.started.iter().position(|x| *x == id) else {
            return false;
        };
        self.started.remove(i);
        let ok = matches!(outcome, TransferOutcome::Completed { .. });
        self.ended.push((cx.now(), ok));
        true
    }
    fn stop(&mut self, _cx: &mut impl Context<Chunk, u16>, _how: Stop) {}
}
sim_core::impl_node_for_layer!(Pusher);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Both {
    Tick(TickMsg),
    Push(Chunk),
}
impl From<TickMsg> for Both {
    fn from(m: TickMsg) -> Both {
        Both::Tick(m)
    }
}
impl From<Chunk> for Both {
    fn from(m: Chunk) -> Both {
        Both::Push(m)
    }
}
impl Message for Both {
    fn phantom_len(&self) -> u64 {
        match self {
            Both::Tick(m) => m.phantom_len(),
            Both::Push(m) => m.phantom_len(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum BothTimer {
    Tick(u8),
    Push(u16),
}
impl From<u8> for BothTimer {
    fn from(t: u8) -> BothTimer {
        BothTimer::Tick(t)
    }
}
impl From<u16> for BothTimer {
    fn from(t: u16) -> BothTimer {
        BothTimer::Push(t)
    }
}

#[derive(Default)]
struct Stacked {
    tick: Ticker,
    push: Pusher,
    unclaimed: u32,
}

impl Node for Stacked {
    type Msg = Both;
    type Timer = BothTimer;
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.tick.start(cx);
        self.push.start(cx);
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Both) {
        match msg {
            Both::Tick(m) => self.tick.message(cx, from, m),
            Both::Push(m) => self.push.message(cx, from, m),
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, timer: BothTimer) {
        match timer {
            BothTimer::Tick(t) => self.tick.timer(cx, t),
            BothTimer::Push(t) => self.push.timer(cx, t),
        }
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        if !self.tick.transfer(cx, id, outcome) && !self.push.transfer(cx, id, outcome) {
            self.unclaimed += 1;
        }
    }
}

fn config() -> SimConfig {
    // 5 ms one way; 8 Mbit/s uplinks.
    SimConfig::new(
        3,
        SimpleNet::constant(ms(5), "8Mbit/s".parse().expect("rate")),
    )
}

#[test]
fn stacked_layers_see_what_each_sees_alone() {
    let end = Time(ms(2_000).0);
    let mut stacked: Sim<Stacked> = Sim::new(config());
    let mut ticks: Sim<Ticker> = Sim::new(config());
    let mut pushes: Sim<Pusher> = Sim::new(config());
    for _ in 0..3 {
        stacked.add_node(Stacked::default());
        ticks.add_node(Ticker::default());
        pushes.add_node(Pusher::default());
    }
    stacked.run(RunLimits::until(end)).expect("stacked run");
    ticks.run(RunLimits::until(end)).expect("ticker run");
    pushes.run(RunLimits::until(end)).expect("pusher run");
    for i in 0..3 {
        let s = stacked.node(NodeId(i));
        let (t, p) = (ticks.node(NodeId(i)), pushes.node(NodeId(i)));
        // Ticks at 100, 200, …, 2000 ms; each pong is back 10 ms later, so
        // the 19 pings sent by 1900 ms are answered by 2000 ms.
        assert_eq!(t.rtts.len(), 19, "node {i}");
        assert!(t.rtts.iter().all(|&(_, rtt)| rtt == ms(10).0));
        assert_eq!(s.tick.rtts, t.rtts, "node {i}: the ticker's history");
        assert_eq!(s.tick.foreign, 0);
        // Pushes at 150, 300, …, 1950 ms (13); each lands 5 ms + 50,001
        // bytes (the phantom 50,000 and a 1-byte encoding) / 8 Mbit/s =
        // 50.001 ms later, so the last (at 2005.001 ms) has not ended by
        // 2000 ms.
        assert_eq!(p.ended.len(), 12, "node {i}");
        assert_eq!(p.ended[0], (Time(205_001_000), true), "node {i}");
        // Stacked, every message carries one more byte (the layer's tag in
        // `Both`): 1 µs more per transfer at 8 Mbit/s.
        let later = |v: &[(Time, bool)]| -> Vec<(Time, bool)> {
            v.iter().map(|&(t, ok)| (Time(t.0 + 1_000), ok)).collect()
        };
        assert_eq!(
            s.push.ended,
            later(&p.ended),
            "node {i}: the pusher's transfers"
        );
        let got: Vec<(Time, u32)> = p.got.iter().map(|&(t, n)| (Time(t.0 + 1_000), n)).collect();
        assert_eq!(s.push.got, got, "node {i}: the pusher's deliveries");
        assert_eq!(s.unclaimed, 0, "node {i}: a transfer no layer claimed");
    }
}
