//! Repair bytes counted by the storage layer equal the repair-class bytes
//! the network model carried, exactly: with churn (transient failures and
//! permanent departures, repairs cut by either end going down) and in the
//! two ways a transfer can be cut short.

use kademlia::Key;
use sim_core::churn::{Alternating, Dist, PermanentPolicy};
use sim_core::net::{Access, AccessOnly};
use sim_core::{Duration, NodeId, Rate, Stop};
use storage::harness::{Harness, Setup};
use storage::{Command, Event, Holder, ObjectId, Placement, RepairBytes, Scheme};

fn mbit(m: u64) -> Rate {
    Rate::new(m * 1_000_000).unwrap()
}

/// One node per id (peers, clients, spares), each on its own access
/// links, 10 ms each way: peers (and their replacements) have 1 Mbit/s up
/// and 10 Mbit/s down, so fragments take seconds to move and churn cuts
/// some transfers short; the clients have 100 Mbit/s both ways. Every pair
/// has a route of finite capacity.
fn topology(s: &Setup) -> AccessOnly {
    let access = |up, down| Access {
        up: mbit(up),
        down: mbit(down),
        latency: Duration::from_millis(10),
    };
    let mut links = vec![access(1, 10); s.peers + s.clients + s.spare];
    for a in &mut links[s.peers..s.peers + s.clients] {
        *a = access(100, 100);
    }
    AccessOnly::new(&links, None)
}

/// Write `count` objects from the clients, half a second apart.
fn write_objects(h: &mut Harness, seed: u64, count: u64, len: u64) -> Vec<ObjectId> {
    let objects: Vec<ObjectId> = (0..count).map(|i| ObjectId::synthetic(seed, i)).collect();
    for (i, &object) in objects.iter().enumerate() {
        let c = h.clients[i % h.clients.len()];
        h.request(
            c,
            Command::Write {
                tag: i as u64,
                object,
                len: len + 1_000 * i as u64,
            },
        );
        h.run_for(Duration::from_millis(500));
    }
    objects
}

/// 60 churning peers (up 6 h, down 1 h on average, exponential; 30 % of
/// failures permanent, each departed peer replaced), eager repair after a
/// 20-minute detection timeout, 100 objects of about 2 MB written at the
/// start and read back once, then two simulated days.
fn churned(scheme: Scheme, seed: u64) -> Harness {
    let mut s = Setup::small(60, seed);
    s.spare = 300;
    s.topology = Some(Box::new(topology(&s)));
    s.store.scheme = scheme;
    s.store.detection_timeout = Duration::from_secs(20 * 60);
    s.store.heartbeat = Duration::from_secs(5 * 60);
    let churn = Alternating::new(
        Dist::exponential(Duration::from_secs(6 * 3600)).unwrap(),
        Dist::exponential(Duration::from_secs(3600)).unwrap(),
    )
    .with_permanent(PermanentPolicy::probability_per_failure(0.3).unwrap());
    s.churn = Some(Box::new(churn));
    let mut h = Harness::new(s).unwrap();
    let objects = write_objects(&mut h, seed, 100, 2_000_000);
    h.run_for(Duration::from_secs(600));
    for (i, &object) in objects.iter().enumerate() {
        let c = h.clients[(i + 1) % h.clients.len()];
        h.request(
            c,
            Command::Read {
                tag: 1_000 + i as u64,
                object,
            },
        );
        h.run_for(Duration::from_millis(500));
    }
    h.run_for(Duration::from_secs(2 * 86_400));
    h.sim.finish_metrics();
    h
}

fn check_churned(scheme: Scheme, seed: u64) {
    let h = churned(scheme, seed);
    let m = h.sim.metrics();
    let repair = m.counter("storage.repair_bytes");
    let class2 = m.counter("net.class2_bytes");
    let tally = RepairBytes::tally(h.sim.nodes().iter().map(|n| &n.store));
    eprintln!(
        "{scheme}: repair bytes {repair}, class 2 {class2}, {tally:?}; class 1 {} = written {} \
         + read {}; {} fragments repaired, {} writes ok, {} reads ok of {}, {} transfers \
         failed, {} peers replaced",
        m.counter("net.class1_bytes"),
        m.counter("storage.write_bytes"),
        m.counter("storage.read_bytes"),
        m.counter("storage.fragments_repaired"),
        m.counter("storage.writes_ok"),
        m.counter("storage.reads_ok"),
        m.counter("storage.reads"),
        m.counter("engine.transfers_failed"),
        h.replaced.borrow().len(),
    );
    // Repairs happened, some transfers were cut short (in both runs some by
    // their sender going down, which the sender is not told of: a layer
    // counting only reported outcomes misses those bytes), and both sides
    // counted the same bytes.
    assert!(m.counter("storage.fragments_repaired") > 0, "{scheme}");
    assert!(repair > 0, "{scheme}");
    assert!(m.counter("engine.transfers_failed") > 0, "{scheme}");
    assert_eq!(repair, class2, "{scheme}: crate vs network");
    assert_eq!(tally.total(), repair, "{scheme}: tally vs counter");
    assert!(tally.true_loss > 0 && tally.false_alarm > 0, "{scheme}");
    // The control: client data is not repair traffic. Writes and reads are
    // in class 1, which equals the crate's write and read bytes, and class 2
    // would not match if they had been counted in it.
    let (write, read) = (
        m.counter("storage.write_bytes"),
        m.counter("storage.read_bytes"),
    );
    assert!(write > 0 && read > 0, "{scheme}");
    assert_eq!(
        m.counter("net.class1_bytes"),
        write + read,
        "{scheme}: class 1"
    );
    assert_ne!(class2, repair + write, "{scheme}");
    assert_ne!(class2, repair + read, "{scheme}");
    // Classes 1 and 2 are all the bulk bytes; the rest is control.
    assert_eq!(
        m.counter("engine.transfer_bytes"),
        write + read + repair,
        "{scheme}"
    );
    assert_eq!(
        m.counter("net.class0_bytes"),
        m.counter("engine.datagram_bytes"),
        "{scheme}"
    );
}

#[test]
fn repair_bytes_equal_class_2_bytes_with_replication() {
    check_churned(Scheme::Replicate { r: 3 }, 21);
}

#[test]
fn repair_bytes_equal_class_2_bytes_with_erasure_coding() {
    check_churned(Scheme::Erasure { m: 4, n: 6 }, 22);
}

// ------------------------------------------------------------ cut transfers

/// Which end of a repair transfer goes down in the middle of it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    /// The new holder (the sender is told how many bytes moved).
    Receiver,
    /// The leader sending it (it is not told; it learns as it stops).
    Sender,
}

fn peers_by_distance(h: &Harness, key: &Key) -> Vec<NodeId> {
    let mut p = h.peers.clone();
    p.sort_by_key(|x| h.ids.id(*x).distance(key));
    p
}

/// One object of 3 replicas (2 MB, 16 s per copy on a 1 Mbit/s uplink);
/// a holder departs, the leader repairs, and `cut` goes down 5 s into the
/// repair transfer.
fn cut_repair(cut: Cut) {
    let mut s = Setup::small(20, 5);
    s.placement = Placement::Oracle;
    s.topology = Some(Box::new(topology(&s)));
    s.store.detection_timeout = Duration::from_secs(600);
    s.store.heartbeat = Duration::from_secs(60);
    let mut h = Harness::new(s).unwrap();
    let object = ObjectId::synthetic(5, 0);
    h.request(
        h.clients[0],
        Command::Write {
            tag: 0,
            object,
            len: 2_000_000,
        },
    );
    h.run_for(Duration::from_secs(120));
    let holders: Vec<Holder> = h
        .events()
        .iter()
        .find_map(|(_, _, e)| match e {
            Event::Written {
                result: Ok(holders),
                ..
            } => Some(holders.clone()),
            _ => None,
        })
        .expect("written");
    let leader = holders[0].node;
    let fragment = h.sim.node(leader).store.disk()[&object].meta.fragment_len();
    // The last holder departs; the leader presumes it gone after the
    // timeout and sends a copy to the closest peer that holds none.
    let departed = holders[2].node;
    let now = h.sim.now();
    h.sim
        .stop_at(departed, now + Duration(1), Stop::Permanent)
        .unwrap();
    let target = peers_by_distance(&h, &object.key(64))
        .into_iter()
        .find(|p| holders.iter().all(|x| x.node != *p))
        .unwrap();
    let deadline = h.sim.now() + Duration::from_secs(3600);
    while h.sim.node(leader).store.ops_running() == 0 {
        assert!(h.sim.now() < deadline, "the repair starts");
        h.run_for(Duration::from_secs(1));
    }
    h.run_for(Duration::from_secs(5));
    h.sim.finish_metrics();
    let m = h.sim.metrics();
    assert_eq!(m.counter("net.class2_bytes"), 0, "the copy is on its way");
    assert_eq!(m.counter("storage.repair_bytes"), 0);
    let victim = match cut {
        Cut::Receiver => target,
        Cut::Sender => leader,
    };
    let now = h.sim.now();
    h.sim
        .stop_at(victim, now + Duration(1), Stop::Transient)
        .unwrap();
    h.run_for(Duration::from_secs(2));
    h.sim.finish_metrics();
    let m = h.sim.metrics();
    let class2 = m.counter("net.class2_bytes");
    let repair = m.counter("storage.repair_bytes");
    eprintln!(
        "{cut:?} down: class 2 {class2}, repair bytes {repair}, fragment {fragment}, {} transfers failed",
        m.counter("engine.transfers_failed")
    );
    assert_eq!(m.counter("engine.transfers_failed"), 1, "{cut:?}");
    assert!(
        class2 > 0 && class2 < fragment,
        "{cut:?}: part of the copy moved"
    );
    assert_eq!(repair, class2, "{cut:?}: the same partial bytes");
    let tally = RepairBytes::tally(h.sim.nodes().iter().map(|n| &n.store));
    assert_eq!(tally.total(), class2, "{cut:?}");
    assert_eq!(tally.true_loss, class2, "{cut:?}: the departed holder");
    // Let the repair finish (the leader moves on to the next peer, or
    // repairs again once it is back): still equal.
    if cut == Cut::Sender {
        let now = h.sim.now();
        h.sim
            .start_at(leader, now + Duration::from_secs(60))
            .unwrap();
    }
    h.run_for(Duration::from_secs(3600));
    assert_eq!(h.ledger().copies(&object), 3, "{cut:?}: repaired");
    h.sim.finish_metrics();
    let m = h.sim.metrics();
    assert!(m.counter("storage.fragments_repaired") >= 1, "{cut:?}");
    let class2_end = m.counter("net.class2_bytes");
    assert!(class2_end > class2 + fragment, "{cut:?}: a full copy more");
    assert_eq!(m.counter("storage.repair_bytes"), class2_end, "{cut:?}");
    let tally = RepairBytes::tally(h.sim.nodes().iter().map(|n| &n.store));
    assert_eq!(tally.total(), class2_end, "{cut:?}");
}

#[test]
fn a_repair_cut_by_its_receiver_counts_the_same_partial_bytes() {
    cut_repair(Cut::Receiver);
}

#[test]
fn a_repair_cut_by_its_sender_counts_the_same_partial_bytes() {
    cut_repair(Cut::Sender);
}
