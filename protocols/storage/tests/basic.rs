//! Writes, reads, deletes, placement and disk capacity without churn.

use kademlia::Key;
use sim_core::{Duration, NodeId};
use std::collections::BTreeSet;
use storage::harness::{Harness, Setup};
use storage::{Command, Event, ObjectId, ReadFailure, Scheme, WriteFailure};

fn closest_peers(h: &Harness, key: &Key, n: usize) -> BTreeSet<NodeId> {
    let mut p: Vec<NodeId> = h.peers.clone();
    p.sort_by_key(|x| h.ids.id(*x).distance(key));
    p.into_iter().take(n).collect()
}

fn written(h: &Harness) -> Vec<(ObjectId, Vec<NodeId>)> {
    h.events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Written {
                object,
                result: Ok(holders),
                ..
            } => Some((*object, holders.iter().map(|x| x.node).collect())),
            _ => None,
        })
        .collect()
}

#[test]
fn placement_is_the_true_closest_and_reads_succeed() {
    for scheme in [Scheme::Replicate { r: 3 }, Scheme::Erasure { m: 6, n: 10 }] {
        let mut s = Setup::small(200, 11);
        s.store.scheme = scheme;
        let mut h = Harness::new(s).unwrap();
        let objects: Vec<ObjectId> = (0..200).map(|i| ObjectId::synthetic(11, i)).collect();
        for (i, &object) in objects.iter().enumerate() {
            let c = h.clients[i % h.clients.len()];
            h.request(
                c,
                Command::Write {
                    tag: i as u64,
                    object,
                    len: 10_000 + i as u64,
                },
            );
            h.run_for(Duration::from_millis(500));
        }
        h.run_for(Duration::from_secs(120));
        let w = written(&h);
        if w.len() != objects.len() {
            for (_, n, e) in h.events().iter() {
                if let Event::Written { result: Err(f), .. } = e {
                    eprintln!("{n}: {f:?}");
                }
            }
            eprintln!("{:?}", h.sim.metrics().counter("storage.puts_refused"));
        }
        assert_eq!(w.len(), objects.len(), "{scheme}: every write succeeds");
        let mut exact = 0;
        for (object, holders) in &w {
            let key = object.key(64);
            let truth = closest_peers(&h, &key, usize::from(scheme.n()));
            let got: BTreeSet<NodeId> = holders.iter().copied().collect();
            exact += usize::from(got == truth);
            assert_eq!(h.ledger().distinct(object), usize::from(scheme.n()));
        }
        assert!(
            exact * 100 >= 99 * w.len(),
            "{scheme}: {exact} of {} objects on the true closest peers",
            w.len()
        );
        for (i, &object) in objects.iter().enumerate() {
            let c = h.clients[(i + 1) % h.clients.len()];
            h.request(
                c,
                Command::Read {
                    tag: 1000 + i as u64,
                    object,
                },
            );
            h.run_for(Duration::from_millis(500));
        }
        h.run_for(Duration::from_secs(120));
        let reads: Vec<_> = h
            .events()
            .iter()
            .filter_map(|(_, _, e)| match e {
                Event::Read { result, .. } => Some(*result),
                _ => None,
            })
            .collect();
        assert_eq!(reads.len(), objects.len());
        assert!(reads.iter().all(|r| r.is_ok()), "{scheme}: {reads:?}");
        // Bytes read: m fragments of the object's stored size.
        let m = u64::from(scheme.m());
        let bytes: u64 = reads.iter().map(|r| r.unwrap()).sum();
        let expect: u64 = (0..200u64)
            .map(|i| m * scheme.fragment_len(storage::stored_len(10_000 + i, true)))
            .sum();
        assert_eq!(bytes, expect);
        // Deletes remove every fragment.
        for (i, &object) in objects.iter().enumerate().take(50) {
            h.request(
                h.clients[0],
                Command::Delete {
                    tag: 5000 + i as u64,
                    object,
                },
            );
        }
        h.run_for(Duration::from_secs(60));
        for object in objects.iter().take(50) {
            assert_eq!(h.ledger().copies(object), 0, "{scheme}: deleted");
        }
        assert_eq!(h.ledger().copies(&objects[60]), usize::from(scheme.n()));
    }
}

#[test]
fn full_disks_refuse_and_the_writer_moves_on() {
    let mut s = Setup::small(30, 5);
    // Room for two fragments of 10 KB (plus the cipher's overhead).
    s.store.capacity = 2 * 10_100;
    let mut h = Harness::new(s).unwrap();
    let objects: Vec<ObjectId> = (0..25).map(|i| ObjectId::synthetic(5, i)).collect();
    for (i, &object) in objects.iter().enumerate() {
        h.request(
            h.clients[0],
            Command::Write {
                tag: i as u64,
                object,
                len: 10_000,
            },
        );
        h.run_for(Duration::from_secs(5));
    }
    let ok = written(&h).len();
    // 30 peers × 2 slots = 60 fragments = 20 objects of 3 replicas.
    assert_eq!(ok, 20, "20 objects fit");
    let failures: Vec<WriteFailure> = h
        .events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Written { result: Err(f), .. } => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 5);
    assert!(
        failures
            .iter()
            .all(|f| matches!(f, WriteFailure::NoSpace { need: 3, .. }))
    );
    let refused = h.sim.metrics().counter("storage.puts_refused");
    assert!(refused > 0, "full nodes refused");
    for p in h.peers.clone() {
        assert!(h.sim.node(p).store.used() <= 2 * 10_100);
    }
    // A failed write leaves nothing behind.
    let failed_objects: Vec<ObjectId> = h
        .events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Written {
                object,
                result: Err(_),
                ..
            } => Some(*object),
            _ => None,
        })
        .collect();
    h.run_for(Duration::from_secs(5));
    for o in failed_objects {
        assert_eq!(h.ledger().copies(&o), 0);
    }
}

#[test]
fn a_read_of_an_unknown_object_fails_with_a_reason() {
    let mut h = Harness::new(Setup::small(30, 3)).unwrap();
    let object = ObjectId::synthetic(3, 99);
    h.request(h.clients[0], Command::Read { tag: 1, object });
    h.run_for(Duration::from_secs(30));
    let r: Vec<_> = h
        .events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Read { result, .. } => Some(*result),
            _ => None,
        })
        .collect();
    assert_eq!(r, vec![Err(ReadFailure::NotEnough { found: 0, need: 1 })]);
}

#[test]
fn summary_and_rows_report_what_happened() {
    for scheme in [Scheme::Replicate { r: 3 }, Scheme::Erasure { m: 6, n: 10 }] {
        let mut s = Setup::small(60, 21);
        s.store.scheme = scheme;
        s.rows = true;
        let mut h = Harness::new(s).unwrap();
        let objects: Vec<ObjectId> = (0..20).map(|i| ObjectId::synthetic(21, i)).collect();
        for (i, &object) in objects.iter().enumerate() {
            h.request(
                h.clients[0],
                Command::Write {
                    tag: i as u64,
                    object,
                    len: 50_001,
                },
            );
            h.run_for(Duration::from_millis(500));
        }
        for (i, &object) in objects.iter().enumerate() {
            h.request(
                h.clients[1],
                Command::Read {
                    tag: 100 + i as u64,
                    object,
                },
            );
            h.run_for(Duration::from_millis(500));
        }
        h.request(
            h.clients[1],
            Command::Read {
                tag: 999,
                object: ObjectId::synthetic(0, 0),
            },
        );
        h.run_for(Duration::from_secs(10));
        for _ in 0..5 {
            h.sample_availability();
            h.run_for(Duration::from_secs(60));
        }
        let sum = h.summary();
        assert_eq!(sum.objects, 20);
        assert_eq!(sum.placement, "dht");
        assert_eq!(sum.lost, 0);
        assert_eq!(
            (sum.reads, sum.reads_ok),
            (21, 20),
            "one read of an unknown object fails"
        );
        assert_eq!(sum.readable_fraction, Some(1.0));
        assert_eq!(sum.samples, 5);
        // Overhead: n fragments of ceil(stored / m) bytes, rounded up to an
        // even length, over the stored bytes (50,001 + 28 cipher bytes).
        let stored = 50_029u64;
        let m = u64::from(scheme.m());
        let frag = if scheme.is_replication() {
            stored
        } else {
            let f = stored.div_ceil(m);
            f + f % 2
        };
        let expect = u64::from(scheme.n()) as f64 * frag as f64 / stored as f64;
        assert!(
            (sum.storage_overhead.unwrap() - expect).abs() < 1e-12,
            "{scheme}"
        );
        assert!(sum.write_latency_mean_ns.unwrap() > 0);
        assert!(sum.read_latency_mean_ns.unwrap() > 0);
        let metrics = h.sim.metrics();
        assert_eq!(metrics.rows("storage_ops"), 41, "20 writes and 21 reads");
        assert_eq!(metrics.rows("storage_repairs"), 0, "nothing to repair");
    }
}

#[test]
fn concurrent_writes_ask_for_placement_again_when_a_lookup_falls_short() {
    // 200 writes of 10 fragments at once from 4 clients: some placement
    // lookups end with fewer than 10 answered candidates (before placement
    // was retried, 46 of these 200 writes failed).
    let mut s = Setup::small(200, 11);
    s.store.scheme = Scheme::Erasure { m: 6, n: 10 };
    let mut h = Harness::new(s).unwrap();
    for i in 0..200u64 {
        let c = h.clients[i as usize % 4];
        let object = ObjectId::synthetic(11, i);
        h.request(
            c,
            Command::Write {
                tag: i,
                object,
                len: 10_000,
            },
        );
    }
    h.run_for(Duration::from_secs(120));
    assert_eq!(written(&h).len(), 200);
    assert!(h.sim.metrics().counter("storage.placement_retries") > 0);
}

#[test]
fn an_oracle_placement_run_says_so() {
    let mut s = Setup::small(50, 8);
    s.placement = storage::Placement::Oracle;
    let mut h = Harness::new(s).unwrap();
    for i in 0..10u64 {
        let object = ObjectId::synthetic(8, i);
        h.request(
            h.clients[0],
            Command::Write {
                tag: i,
                object,
                len: 1000,
            },
        );
        h.run_for(Duration::from_millis(300));
    }
    h.run_for(Duration::from_secs(10));
    assert_eq!(h.sim.metrics().counter("storage.placement_oracle"), 10);
    let sum = h.summary();
    assert_eq!((sum.objects, sum.placement), (10, "oracle"));
    for (object, holders) in written(&h) {
        let truth = closest_peers(&h, &object.key(64), 3);
        assert_eq!(holders.into_iter().collect::<BTreeSet<_>>(), truth);
    }
}
