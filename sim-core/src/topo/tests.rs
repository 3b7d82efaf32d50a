//! Tests of the topologies. Expected numbers are computed by hand in the
//! comments or taken from `data/topologies/README.md`.

use super::*;
use crate::net::route::Access;
use crate::net::{FlowNet, LatencyModel, LinkId, MatrixError, PathModel, Topology};
use crate::units::{Bytes, Duration, Rate, Time};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn mbit(m: u64) -> Rate {
    Rate::new(m * 1_000_000).unwrap()
}
fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}
fn parse(text: &str) -> Result<RouterGraph, TopoError> {
    RouterGraph::from_json_str(text, "inline.json", &LoadOptions::default())
}
fn route(t: &impl Topology, a: u32, b: u32) -> Vec<LinkId> {
    let mut r = Vec::new();
    t.route(a, b, &mut r).unwrap();
    r
}

/// Wifi 2 ms / 50 Mbit/s / airtime 80 Mbit/s, loss 1 - tq; fiber 1 ms /
/// 1 Gbit/s lossless; vpn 10 ms / 20 Mbit/s lossless. Hosts: 100 up /
/// 200 down, 0.5 ms.
fn small_config(metric: Metric) -> MeshConfig {
    let mut kinds = KindTable::default();
    kinds.set(
        LinkKind::Wifi,
        LinkKindParams {
            latency: ms(2),
            capacity: mbit(50),
            loss: LossModel::FromQuality {
                floor: 0.0,
                cap: 0.5,
                missing: 0.0,
            },
            airtime: Some(mbit(80)),
        },
    );
    kinds.set(
        LinkKind::Fiber,
        LinkKindParams {
            latency: ms(1),
            capacity: mbit(1_000),
            loss: LossModel::Fixed(0.0),
            airtime: None,
        },
    );
    kinds.set(
        LinkKind::Vpn,
        LinkKindParams {
            latency: ms(10),
            capacity: mbit(20),
            loss: LossModel::Fixed(0.0),
            airtime: None,
        },
    );
    MeshConfig {
        kinds,
        metric,
        host_access: Access {
            up: mbit(100),
            down: mbit(200),
            latency: Duration::from_micros(500),
        },
        ..MeshConfig::default()
    }
}

const CHAIN: &str = r#"{"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
 "links": [{"source": "a", "target": "b", "type": "wifi", "source_tq": 0.9, "target_tq": 0.8},
           {"source": "b", "target": "c", "type": "fiber"}]}"#;

#[test]
fn chain_latency_loss_bottleneck_by_hand() {
    let t = MeshTopology::new(parse(CHAIN).unwrap(), &small_config(Metric::Hops)).unwrap();
    assert_eq!(t.node_count(), 3);
    // Layout: 3 hosts -> access links 0..6; link a-b -> 6 (a->b), 7 (b->a);
    // link b-c -> 8, 9; airtime of a = 10, of b = 11 (first wifi link, a then b).
    let r = route(&t, 0, 2);
    assert_eq!(r, [0, 10, 6, 8, 5].map(LinkId));
    let m = PathModel::new(t.links());
    // 0.5 + 2 + 1 + 0.5 ms.
    assert_eq!(m.path_latency(&r), ms(4));
    // Only a->b loses: 1 - 0.9.
    assert!((m.path_loss(&r) - 0.1).abs() < 1e-12);
    // min(100, 80, 50, 1000, 200) Mbit/s.
    assert_eq!(m.bottleneck(&r), Some(mbit(50)));
    let back = route(&t, 2, 0);
    assert_eq!(back, [4, 9, 11, 7, 1].map(LinkId));
    assert!((m.path_loss(&back) - 0.2).abs() < 1e-12);
    assert_eq!(m.path_latency(&back), ms(4));
    assert_eq!(t.airtime(2, LinkKind::Wifi), None, "c has no radio");
    assert_eq!(t.latency(0, 2), Duration::ZERO);
    assert!(route(&t, 1, 1).is_empty());
    assert!(t.route(0, 3, &mut Vec::new()).is_err());
}

#[test]
fn radio_hops_of_one_router_share_its_airtime() {
    // Hub h with wifi links to x, y, z.
    let text = r#"{"nodes": [{"id": "h"}, {"id": "x"}, {"id": "y"}, {"id": "z"}],
      "links": [{"source": "h", "target": "x", "type": "wifi"},
                {"source": "h", "target": "y", "type": "wifi"},
                {"source": "h", "target": "z", "type": "wifi"}]}"#;
    let t = MeshTopology::new(parse(text).unwrap(), &small_config(Metric::Hops)).unwrap();
    let air_h = t.airtime(0, LinkKind::Wifi).unwrap();
    let xy = route(&t, 1, 2);
    let zx = route(&t, 3, 1);
    assert!(xy.contains(&air_h) && zx.contains(&air_h));
    assert_eq!(t.airtime_count(), 4);
    // Both flows cross h's 80 Mbit/s airtime; every other link is >= 50.
    let mut net = FlowNet::from_links(t.links());
    let f1 = net.start(Time::ZERO, &xy, Bytes(1_000_000), 0).unwrap();
    let f2 = net.start(Time::ZERO, &zx, Bytes(1_000_000), 0).unwrap();
    assert_eq!(net.rate(f1), Some(mbit(40)));
    assert_eq!(net.rate(f2), Some(mbit(40)));
}

/// a is one vpn hop (10 ms, lossless) from gateway g1 and two wifi hops
/// (2 ms each, tq 0.5 both ways) from gateway g2.
const TWO_GATEWAYS: &str = r#"{"nodes": [{"id": "a"}, {"id": "g1", "role": "gw"}, {"id": "m"}, {"id": "g2", "role": "gw"}],
 "links": [{"source": "a", "target": "g1", "type": "vpn"},
           {"source": "a", "target": "m", "type": "wifi", "source_tq": 0.5, "target_tq": 0.5},
           {"source": "m", "target": "g2", "type": "wifi", "source_tq": 0.5, "target_tq": 0.5}]}"#;

#[test]
fn nearest_gateway_follows_the_metric() {
    // hops: g1 (1) < g2 (2); latency: g2 (4 ms) < g1 (10 ms);
    // etx: g1 (1) < g2 (2 x 1/(0.5 x 0.5) = 8).
    for (metric, want) in [(Metric::Hops, 1), (Metric::Latency, 3), (Metric::Etx, 1)] {
        let mut cfg = small_config(metric);
        cfg.gateways.select = vec![NodeSelector::Role("gw".into())];
        cfg.internet_hosts = vec![Access {
            up: mbit(1_000),
            down: mbit(1_000),
            latency: ms(30),
        }];
        let t = MeshTopology::new(parse(TWO_GATEWAYS).unwrap(), &cfg).unwrap();
        assert_eq!(t.gateways(), [1, 3]);
        assert_eq!(t.nearest_gateway(0), Some(want), "{metric:?}");
        let dc = t.internet_host(0);
        assert_eq!(dc, 4);
        let up = route(&t, 0, dc);
        assert_eq!(up.first(), Some(&t.uplink(0)));
        assert_eq!(up.last(), Some(&t.downlink(dc)));
        assert!(up.contains(&t.gateway_egress(want).unwrap()), "{metric:?}");
        let down = route(&t, dc, 0);
        assert!(
            down.contains(&t.gateway_ingress(want).unwrap()),
            "{metric:?}"
        );
        let lat = PathModel::new(t.links()).path_latency(&up);
        // access 0.5 + mesh + gateway uplink 5 + internet host 30 ms.
        let mesh = if want == 1 { ms(10) } else { ms(4) };
        let want_lat = Duration::from_micros(500) + mesh + ms(5) + ms(30);
        assert_eq!(lat, want_lat, "{metric:?}");
        assert_eq!(PathModel::new(t.links()).path_latency(&down), want_lat);
    }
}

#[test]
fn links_to_gateway_servers_become_tunnels() {
    let text = r#"{"nodes": [{"id": 1, "name": "r1"}, {"id": 2, "name": "vpn01"}, {"id": 3, "name": "r3"}],
      "links": [{"source": 1, "target": 2, "type": "wifi"}, {"source": "2", "target": "3", "type": "other"},
                {"source": 1, "target": 3, "type": "wifi"}]}"#;
    let mut cfg = small_config(Metric::Hops);
    cfg.gateways.select = vec![NodeSelector::Name("vpn*".into())];
    cfg.gateways.servers = true;
    let t = MeshTopology::new(parse(text).unwrap(), &cfg).unwrap();
    assert_eq!(t.gateways(), [1]);
    // One wifi and one other link touched vpn01.
    assert_eq!(t.reclassified(), [1, 0, 0, 0, 1]);
    let kinds: Vec<LinkKind> = t.graph().links().iter().map(|l| l.kind).collect();
    assert_eq!(kinds, [LinkKind::Vpn, LinkKind::Vpn, LinkKind::Wifi]);
    // No host on the gateway server: hosts 0, 1 on routers 0 and 2.
    assert_eq!(t.mesh_hosts(), 2);
    assert_eq!(t.host_router(1), Some(2));
    // Router 0's tunnel to vpn01 carries no airtime.
    assert_eq!(t.nearest_gateway(0), Some(1));
}

#[test]
fn host_placement_and_cache_bound() {
    let g = generate::grid(5, 4, 100.0, LinkKind::Wifi).unwrap();
    let mut cfg = small_config(Metric::Hops);
    cfg.hosts = HostPlacement::Count(45);
    cfg.cache_bytes_max = 3 * 4 * 20; // three trees of 20 routers
    let t = MeshTopology::new(g, &cfg).unwrap();
    assert_eq!(t.node_count(), 45);
    assert_eq!(t.host_router(44), Some(4)); // 44 % 20
    assert_eq!(t.cache_trees_max(), 3);
    // Router 0 to router 19 (corner to corner): 4 + 3 hops of 2 ms.
    let r = route(&t, 0, 19);
    assert_eq!(PathModel::new(t.links()).path_latency(&r), ms(15));
    // Hosts 20 and 40 sit on router 0 too: same tree, no new computation.
    route(&t, 20, 19);
    route(&t, 40, 19);
    assert_eq!(t.trees_computed(), 1);
    for src in 1..5 {
        route(&t, src, 0);
    }
    assert_eq!(t.trees_computed(), 5);
    // Router 0's tree was evicted first (FIFO): routing from it recomputes,
    // and gives the same route.
    assert_eq!(route(&t, 0, 19), r);
    assert_eq!(t.trees_computed(), 6);
}

// ------------------------------------------------------------ shipped data

fn keep_all() -> LoadOptions {
    LoadOptions {
        components: ComponentPolicy::KeepAll,
        ..LoadOptions::default()
    }
}

#[test]
fn nycmesh_counts_match_the_readme() {
    let g = bundled::load("nycmesh", &keep_all()).unwrap();
    assert_eq!(g.routers().len(), 949);
    // 1,314 links, of which 7 wifi records link a node to itself (checked
    // independently on the file); self-loops are skipped and reported.
    assert_eq!(g.report().self_loops.len(), 7);
    assert_eq!(g.links().len() + 7, 1_314);
    // wifi 1,239 (7 of them self-loops); wifi-60ghz 56; vpn 16; fiber 3.
    assert_eq!(g.kind_counts(), [1_239 - 7, 56, 16, 3, 0]);
    assert_eq!(
        g.routers().iter().filter(|r| r.coords.is_none()).count(),
        80
    );
    let comps = g.components(|_, _| true, |_| true);
    assert_eq!(comps.len(), 6);
    assert_eq!(comps[0].len(), 938);
    let radio = g.components(|_, _| true, |l| l.kind.is_radio());
    assert_eq!(radio[0].len(), 905);
    let supers: Vec<&str> = g
        .select(&[NodeSelector::Role("supernode".into())])
        .iter()
        .map(|&i| g.routers()[i as usize].id.as_str())
        .collect();
    let mut supers = supers;
    supers.sort_unstable();
    assert_eq!(supers, ["1934", "227", "584", "713"]);
    assert_eq!(g.select(&[NodeSelector::Role("hub".into())]).len(), 56);

    // By default a disconnected file is an error naming the sizes.
    let e = bundled::load("nycmesh", &LoadOptions::default()).unwrap_err();
    match &e {
        TopoError::Disconnected {
            components, sizes, ..
        } => {
            assert_eq!(*components, 6);
            assert_eq!(sizes[0], 938);
        }
        e => panic!("{e}"),
    }
    assert!(e.to_string().contains("nycmesh.json"), "{e}");
}

#[test]
fn nycmesh_recommended_topology_routes() {
    let (g, gw) = bundled::load_recommended("nycmesh", &MeshConfig::default().gateways).unwrap();
    assert_eq!(g.routers().len(), 938);
    assert_eq!(g.report().dropped_components, 5);
    assert_eq!(g.report().dropped_routers.len(), 11);
    assert_eq!(
        g.links().len() + g.report().dropped_links + g.report().self_loops.len(),
        1_314
    );
    let cfg = MeshConfig {
        gateways: gw,
        internet_hosts: vec![Access {
            up: mbit(10_000),
            down: mbit(10_000),
            latency: ms(20),
        }],
        ..MeshConfig::default()
    };
    let t = MeshTopology::new(g, &cfg).unwrap();
    assert_eq!(t.gateways().len(), 4);
    assert_eq!(t.mesh_hosts(), 938);
    let dc = t.internet_host(0);
    let mut r = Vec::new();
    for h in (0..938).step_by(37) {
        t.route(h, dc, &mut r).unwrap();
        let g = t.nearest_gateway(t.host_router(h).unwrap()).unwrap();
        assert!(r.contains(&t.gateway_egress(g).unwrap()));
        t.route(h, (h * 7 + 3) % 938, &mut r).unwrap();
        let mut sorted = r.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), r.len(), "no link twice");
    }
}

fn bremen() -> RouterGraph {
    let opts = LoadOptions {
        implicit_nodes: vec!["ic-0".into()],
        ..LoadOptions::default()
    };
    bundled::load("freifunk-bremen", &opts).unwrap()
}

#[test]
fn bremen_counts_gateways_and_radio_islands() {
    let mut g = bremen();
    // 833 nodes plus the interconnect, one component.
    assert_eq!(g.routers().len(), 834);
    assert_eq!(g.report().implicit, ["ic-0"]);
    assert_eq!(g.links().len(), 1_512);
    assert_eq!(g.kind_counts(), [1_082, 0, 269, 0, 161]);
    assert_eq!(g.components(|_, _| true, |_| true).len(), 1);
    assert_eq!(
        g.routers().iter().filter(|r| r.coords.is_none()).count(),
        119 + 1
    );
    let zero_tq = g
        .links()
        .iter()
        .filter(|l| l.tq_ab == Some(0.0) || l.tq_ba == Some(0.0))
        .count();
    assert_eq!(zero_tq, 106);
    let gws = g.select(&[NodeSelector::Name("vpn*".into())]);
    let ids: Vec<&str> = gws
        .iter()
        .map(|&i| g.routers()[i as usize].id.as_str())
        .collect();
    // The README's four tunnel ends (vpn01, 02, 03, 05) ...
    for id in ["77", "747", "549", "288"] {
        assert!(ids.contains(&id), "{id}");
    }
    // ... plus vpn04 (id 196, linked only to ic-0) and vpn06 (id 368, linked
    // only to other gateway servers), checked on the file.
    assert_eq!(gws.len(), 6);
    let changed = g.mark_gateway_servers(&gws);
    assert_eq!(changed[LinkKind::Wifi as usize], 574);
    assert_eq!(g.kind_counts()[0], 1_082 - 574);
    let islands = g.radio_islands(&gws);
    assert_eq!(islands.len(), 119);
    assert_eq!(islands[0].len(), 36);
}

#[test]
fn bremen_needs_its_interconnect_declared() {
    let e = bundled::load("freifunk-bremen", &LoadOptions::default()).unwrap_err();
    match &e {
        TopoError::DanglingId { id, .. } => assert_eq!(id, "ic-0"),
        e => panic!("{e}"),
    }
    assert!(e.to_string().contains("\"ic-0\""), "{e}");
    assert!(e.to_string().contains("freifunk-bremen.json"), "{e}");
}

#[test]
fn bremen_recommended_topology_reclassifies_and_routes() {
    let (g, gw) =
        bundled::load_recommended("freifunk-bremen", &MeshConfig::default().gateways).unwrap();
    let t = MeshTopology::new(
        g,
        &MeshConfig {
            gateways: gw,
            ..MeshConfig::default()
        },
    )
    .unwrap();
    assert_eq!(t.reclassified()[0], 574);
    // Hosts on the 833 - 6 routers that are neither gateway servers nor ic-0.
    assert_eq!(t.mesh_hosts(), 827);
    let mut r = Vec::new();
    for h in (0..827).step_by(41) {
        t.route(h, 826 - h, &mut r).unwrap();
    }
}

#[test]
fn bielefeld_counts() {
    let g = bundled::load("freifunk-bielefeld", &keep_all()).unwrap();
    assert_eq!(g.routers().len(), 246);
    assert_eq!(g.links().len(), 483);
    assert_eq!(g.kind_counts(), [206, 0, 245, 0, 32]);
    assert_eq!(
        g.routers().iter().filter(|r| r.coords.is_none()).count(),
        55
    );
}

#[test]
fn berlin_duplicates_are_reported() {
    let opts = LoadOptions {
        implicit_nodes: vec!["ic-0".into()],
        ..LoadOptions::default()
    };
    let e = bundled::load("freifunk-berlin", &opts).unwrap_err();
    match &e {
        TopoError::DuplicateIds { count, ids, .. } => {
            assert_eq!(*count, 132);
            assert_eq!(ids.len(), LISTED_IDS_MAX);
        }
        e => panic!("{e}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("132 ids") && msg.contains("freifunk-berlin.json"),
        "{msg}"
    );
    let keep = LoadOptions {
        duplicates: DuplicatePolicy::KeepFirst,
        components: ComponentPolicy::KeepAll,
        ..opts
    };
    let g = bundled::load("freifunk-berlin", &keep).unwrap();
    // 760 distinct ids plus ic-0; 976 - 760 records dropped.
    assert_eq!(g.routers().len(), 761);
    assert_eq!(g.report().duplicates_dropped.len(), 976 - 760);
    assert_eq!(g.links().len(), 1_123);
    assert_eq!(g.kind_counts(), [274, 0, 849, 0, 0]);
    let ic0 = g.router_index("ic-0").unwrap();
    let to_ic0 = g
        .links()
        .iter()
        .filter(|l| l.a == ic0 || l.b == ic0)
        .count();
    assert_eq!(to_ic0, 305);
}

#[test]
fn every_bundled_mesh_builds_with_recommended_options() {
    for name in bundled::NAMES {
        let (g, gw) = bundled::load_recommended(name, &MeshConfig::default().gateways).unwrap();
        let t = MeshTopology::new(
            g,
            &MeshConfig {
                gateways: gw,
                ..MeshConfig::default()
            },
        );
        assert!(t.is_ok(), "{name}: {:?}", t.err());
    }
    assert!(bundled::text("atlantis").is_none());
    assert!(bundled::load("atlantis", &LoadOptions::default()).is_err());
}

// ---------------------------------------------------------------- bad input

#[test]
fn ids_as_numbers_or_strings_are_one_id() {
    let g = parse(r#"{"nodes": [{"id": 12}, {"id": "x"}], "links": [{"source": "12", "target": "x", "type": "fiber"}]}"#)
        .unwrap();
    // No coordinates: no length.
    assert_eq!(g.link_length_m(0), None);
    assert_eq!(g.routers()[0].id, "12");
    assert_eq!((g.links()[0].a, g.links()[0].b), (0, 1));
    let e = parse(r#"{"nodes": [{"id": 1.5}], "links": []}"#).unwrap_err();
    assert!(matches!(e, TopoError::BadField { field: "id", .. }), "{e}");
}

#[test]
fn missing_fields_name_the_item() {
    let e = parse(r#"{"nodes": [{"id": 1}, {"name": "no id"}], "links": []}"#).unwrap_err();
    match &e {
        TopoError::MissingField { item, field, .. } => {
            assert_eq!(*item, Item::Node { index: 1, id: None });
            assert_eq!(*field, "id");
        }
        e => panic!("{e}"),
    }
    assert_eq!(e.to_string(), "inline.json: node 1: missing field `id`");
    let e = parse(r#"{"nodes": [{"id": 1}, {"id": 2}], "links": [{"source": 1, "type": "wifi"}]}"#)
        .unwrap_err();
    assert!(
        matches!(
            &e,
            TopoError::MissingField {
                item: Item::Link { index: 0 },
                field: "target",
                ..
            }
        ),
        "{e}"
    );
    let e = parse(r#"{"nodes": [{"id": 1}, {"id": 2}], "links": [{"source": 1, "target": 2}]}"#)
        .unwrap_err();
    assert!(matches!(&e, TopoError::Unlabelled { link: 0, .. }), "{e}");
    assert!(
        e.to_string()
            .contains("set topology.unlabelled_links = \"wifi\""),
        "{e}"
    );
    let e = parse(r#"{"nodes": [{"id": 1}]}"#).unwrap_err();
    assert!(
        matches!(
            &e,
            TopoError::MissingField {
                item: Item::Document,
                field: "links",
                ..
            }
        ),
        "{e}"
    );
    // Latitude without longitude.
    let e = parse(r#"{"nodes": [{"id": 1, "x": 52.1}], "links": []}"#).unwrap_err();
    assert!(
        matches!(&e, TopoError::MissingField { field: "y", .. }),
        "{e}"
    );
}

#[test]
fn dangling_ids_are_errors_unless_implicit() {
    let text = r#"{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b", "type": "vpn"}, {"source": "b", "target": "zz", "type": "vpn"}]}"#;
    let e = parse(text).unwrap_err();
    match &e {
        TopoError::DanglingId { link, end, id, .. } => {
            assert_eq!((*link, *end, id.as_str()), (1, "target", "zz"));
        }
        e => panic!("{e}"),
    }
    let opts = LoadOptions {
        implicit_nodes: vec!["zz".into()],
        ..LoadOptions::default()
    };
    let g = RouterGraph::from_json_str(text, "inline.json", &opts).unwrap();
    assert_eq!(g.routers().len(), 3);
    assert!(g.routers()[2].implicit && g.routers()[2].coords.is_none());
}

#[test]
fn bad_coordinates_are_errors_naming_node_and_field() {
    let e = parse(r#"{"nodes": [{"id": "a", "x": 1, "y": 2}, {"id": "b", "x": "north", "y": 2}], "links": []}"#)
        .unwrap_err();
    match &e {
        TopoError::BadField {
            item, field, found, ..
        } => {
            assert_eq!(
                *item,
                Item::Node {
                    index: 1,
                    id: Some("b".into())
                }
            );
            assert_eq!(*field, "x");
            assert_eq!(found, "\"north\"");
        }
        e => panic!("{e}"),
    }
    assert!(e.to_string().contains("node 1 (id \"b\")"), "{e}");
    let e = parse(r#"{"nodes": [{"id": "a", "x": 95, "y": 2}], "links": []}"#).unwrap_err();
    assert!(matches!(&e, TopoError::BadField { field: "x", .. }), "{e}");
    let e = parse(r#"{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b", "type": "wifi", "source_tq": 1.5}]}"#)
        .unwrap_err();
    assert!(
        matches!(
            &e,
            TopoError::BadField {
                field: "source_tq",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn empty_and_non_graph_documents() {
    assert!(matches!(
        parse(r#"{"nodes": [], "links": []}"#).unwrap_err(),
        TopoError::Empty { .. }
    ));
    assert!(matches!(
        parse("[1, 2]").unwrap_err(),
        TopoError::Format { .. }
    ));
    assert!(matches!(
        parse(r#"{"vertices": []}"#).unwrap_err(),
        TopoError::Format { .. }
    ));
}

#[test]
fn unknown_link_kind_unless_mapped() {
    let text = r#"{"nodes": [{"id": 1}, {"id": 2}], "links": [{"source": 1, "target": 2, "type": "laser"}]}"#;
    let e = parse(text).unwrap_err();
    match &e {
        TopoError::UnknownKind { link, label, .. } => {
            assert_eq!((*link, label.as_str()), (0, "laser"))
        }
        e => panic!("{e}"),
    }
    let opts = LoadOptions {
        kind_map: vec![("laser".into(), LinkKind::Fiber)],
        ..LoadOptions::default()
    };
    let g = RouterGraph::from_json_str(text, "inline.json", &opts).unwrap();
    assert_eq!(g.links()[0].kind, LinkKind::Fiber);
}

#[test]
fn invalid_json_gives_line_and_column() {
    // The stray `@` is line 2, column 13.
    let text = "{\"nodes\": [{\"id\": 1}],\n \"links\": [ @ ]}";
    match parse(text).unwrap_err() {
        TopoError::Json {
            file, line, column, ..
        } => {
            assert_eq!(file, "inline.json");
            assert_eq!((line, column), (2, 13));
        }
        e => panic!("{e}"),
    }
    let e = RouterGraph::load("/nonexistent-dir/mesh.json", &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(e, TopoError::Io { .. }) && e.to_string().contains("mesh.json"),
        "{e}"
    );
}

#[test]
fn duplicate_policies() {
    let text = r#"{"nodes": [{"id": 1, "name": "first"}, {"id": 2}, {"id": "1", "name": "second"}],
      "links": [{"source": 1, "target": 2, "type": "fiber"}]}"#;
    let e = parse(text).unwrap_err();
    assert!(
        matches!(&e, TopoError::DuplicateIds { count: 1, ids, .. } if ids == &["1"]),
        "{e}"
    );
    let load = |duplicates, components| {
        RouterGraph::from_json_str(
            text,
            "inline.json",
            &LoadOptions {
                duplicates,
                components,
                ..LoadOptions::default()
            },
        )
    };
    let g = load(DuplicatePolicy::KeepFirst, ComponentPolicy::Error).unwrap();
    assert_eq!(g.routers().len(), 2);
    assert_eq!(g.routers()[0].name.as_deref(), Some("first"));
    assert_eq!(g.report().duplicates_dropped, ["1"]);
    // Renamed record has no link: disconnected unless allowed.
    assert!(matches!(
        load(DuplicatePolicy::Rename, ComponentPolicy::Error).unwrap_err(),
        TopoError::Disconnected { components: 2, .. }
    ));
    let g = load(DuplicatePolicy::Rename, ComponentPolicy::KeepAll).unwrap();
    assert_eq!(g.routers()[2].id, "1~2");
    assert_eq!(g.report().renamed, [("1".to_string(), "1~2".to_string())]);
    let g = load(DuplicatePolicy::Rename, ComponentPolicy::KeepLargest).unwrap();
    assert_eq!(g.routers().len(), 2);
    assert_eq!(g.report().dropped_routers, ["1~2"]);
}

const NETJSON: &str = r#"{"type": "NetworkGraph", "protocol": "olsr", "version": "0.8", "metric": "ETX",
  "nodes": [{"id": "10.0.0.1", "label": "one"}, {"id": "10.0.0.2"}, {"id": "10.0.0.3", "properties": {"role": "gw"}}],
  "links": [{"source": "10.0.0.1", "target": "10.0.0.2", "cost": 2.0},
            {"source": "10.0.0.2", "target": "10.0.0.3", "cost": 1.0, "properties": {"type": "fiber"}}]}"#;

#[test]
fn netjson_with_etx_costs() {
    let opts = LoadOptions {
        default_kind: Some(LinkKind::Wifi),
        ..LoadOptions::default()
    };
    let g = RouterGraph::from_json_str(NETJSON, "mesh.netjson", &opts).unwrap();
    assert_eq!(g.routers()[0].name.as_deref(), Some("one"));
    assert_eq!(g.routers()[2].role.as_deref(), Some("gw"));
    assert_eq!(g.links()[0].etx, Some(2.0));
    assert_eq!(g.links()[1].kind, LinkKind::Fiber);
    let t = MeshTopology::new(g, &small_config(Metric::Etx)).unwrap();
    let r = route(&t, 0, 2);
    // ETX 2 -> delivery 1/sqrt(2) = 0.70710678 each way -> loss 0.29289322
    // on the wifi hop; the fiber hop (ETX 1) is lossless.
    let m = PathModel::new(t.links());
    assert!((m.path_loss(&r) - 0.292_893_22).abs() < 1e-8);
    // Missing type without a default kind is an error; so is an ETX below 1.
    assert!(matches!(
        RouterGraph::from_json_str(NETJSON, "mesh.netjson", &LoadOptions::default()).unwrap_err(),
        TopoError::Unlabelled { .. }
    ));
    let bad = NETJSON.replace("\"cost\": 2.0", "\"cost\": 0.5");
    let e = RouterGraph::from_json_str(&bad, "mesh.netjson", &opts).unwrap_err();
    assert!(
        matches!(
            &e,
            TopoError::BadField {
                item: Item::Link { index: 0 },
                field: "cost",
                ..
            }
        ),
        "{e}"
    );
    // Asking for NetJSON on a node-link file.
    let nl = LoadOptions {
        format: Some(Format::NetJson),
        ..LoadOptions::default()
    };
    assert!(matches!(
        RouterGraph::from_json_str(CHAIN, "x.json", &nl).unwrap_err(),
        TopoError::Format { .. }
    ));
}

#[test]
fn bad_configurations_are_errors() {
    let mut cfg = small_config(Metric::Hops);
    cfg.gateways.select = vec![NodeSelector::Name("nothing*".into())];
    assert!(matches!(
        MeshTopology::new(parse(CHAIN).unwrap(), &cfg),
        Err(TopoError::Config { .. })
    ));
    let mut cfg = small_config(Metric::Hops);
    cfg.kinds.set(
        LinkKind::Other,
        LinkKindParams {
            loss: LossModel::Fixed(1.0),
            ..*cfg.kinds.get(LinkKind::Other)
        },
    );
    assert!(matches!(
        MeshTopology::new(parse(CHAIN).unwrap(), &cfg),
        Err(TopoError::Config { .. })
    ));
    let two = generate::grid(2, 1, 1.0, LinkKind::Wifi).unwrap();
    let mut apart = RouterGraph::from_parts("apart", two.routers().to_vec(), Vec::new());
    assert!(matches!(
        MeshTopology::new(apart.clone(), &MeshConfig::default()),
        Err(TopoError::Disconnected { components: 2, .. })
    ));
    assert_eq!(apart.keep_largest_component(), 1);
    assert_eq!(apart.routers().len(), 1);
}

#[test]
fn glob_patterns() {
    use super::graph::glob;
    assert!(glob("vpn*", "vpn01") && glob("*vpn*", "a.bbb-vpn") && glob("v?n", "vpn"));
    assert!(!glob("vpn*", "xvpn") && !glob("v?n", "vpn1") && glob("*", ""));
}

// ---------------------------------------------------------------- matrix

#[test]
fn matrix_that_is_neither_square_nor_triangular() {
    let dir = std::env::temp_dir().join(format!("peoplescloud-topo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("synthetic-bad-matrix.txt");
    std::fs::write(&path, "0 1\n1 0\n2 2\n").unwrap();
    let access = Access {
        up: mbit(10),
        down: mbit(10),
        latency: Duration::ZERO,
    };
    let e = MatrixTopology::load(&path, 4, access, 0, 1).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        matches!(e, TopoError::Matrix(MatrixError::Shape { line: 1, .. })),
        "{e}"
    );
    assert!(e.to_string().contains("synthetic-bad-matrix.txt"), "{e}");
}

#[test]
fn matrix_nodes_reuse_hosts_with_pair_jitter() {
    let m =
        crate::net::Matrix::from_reader("0 10 20\n10 0 30\n20 30 4\n".as_bytes(), "synthetic.txt")
            .unwrap();
    let access = Access {
        up: mbit(10),
        down: mbit(20),
        latency: ms(1),
    };
    // 10 % jitter.
    let t = MatrixTopology::new(m.clone(), 8, access, 100_000, 7).unwrap();
    assert_eq!(t.node_count(), 8);
    assert_eq!(route(&t, 1, 6), [LinkId(2), LinkId(13)]);
    // Original hosts: exact.
    assert_eq!(t.latency(0, 1), ms(10));
    assert_eq!(t.latency(2, 1), ms(30));
    // Node 4 is host 1, node 5 host 2: 30 ms +- 10 %, symmetric, stable.
    let d = t.latency(4, 5);
    assert!(d >= ms(27) && d <= ms(33), "{d:?}");
    assert_eq!(t.latency(5, 4), d);
    let again = MatrixTopology::new(m.clone(), 8, access, 100_000, 7).unwrap();
    assert_eq!(again.latency(4, 5), d);
    // Replicas of one host use the diagonal: node 2 and 5 are host 2 (4 ms).
    let diag = t.latency(2, 5);
    assert!(diag >= Duration::from_micros(3_600) && diag <= Duration::from_micros(4_400));
    // Jitter varies between replica pairs (12 pairs, 10 % spread).
    let values: std::collections::BTreeSet<u64> = (3..8)
        .flat_map(|a| (0..3).map(move |b| (a, b)))
        .map(|(a, b)| t.latency(a, b).as_nanos())
        .collect();
    assert!(values.len() > 3, "{values:?}");
    let exact = MatrixTopology::new(m, 8, access, 0, 7).unwrap();
    assert_eq!(exact.latency(4, 5), ms(30));
    assert!(
        MatrixTopology::new(
            crate::net::Matrix::from_reader("0\n".as_bytes(), "x").unwrap(),
            2,
            access,
            1_000_001,
            0
        )
        .is_err()
    );
}

// ---------------------------------------------------------------- coordinates

#[test]
fn coordinates_propagation_by_hand() {
    // 1 degree of the equator: 6 371 008.8 m x pi / 180 = 111 195.08 m;
    // at 2/3 c = 199 861 638.7 m/s that is 556 360.3 ns.
    let a = LatLon { lat: 0.0, lon: 0.0 };
    let b = LatLon { lat: 0.0, lon: 1.0 };
    assert_eq!(
        Coordinates::propagation(a, b),
        Duration::from_nanos(556_360)
    );
    let c = Coordinates::from_positions(vec![a, b], &[ms(3), ms(5)], mbit(20), mbit(100));
    assert_eq!(route(&c, 0, 1), [LinkId(0), LinkId(3)]);
    let one_way = PathModel::new(c.links()).path_latency(&route(&c, 0, 1)) + c.latency(0, 1);
    assert_eq!(one_way, Duration::from_nanos(8_556_360));
    assert_eq!(c.latency(1, 1), Duration::ZERO);
}

/// The latency of a pair, computed with each node's latitude in radians
/// and its cosine looked up, is `Coordinates::propagation` of their
/// positions to the nanosecond, for every ordered pair of 300 nodes.
#[test]
fn coordinates_latency_is_the_propagation_of_the_positions() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 300u32;
    let c = Coordinates::generate(n as usize, &CoordinatesConfig::default(), &mut rng).unwrap();
    let mut nonzero = 0;
    for a in 0..n {
        for b in 0..n {
            let want = if a == b {
                Duration::ZERO
            } else {
                Coordinates::propagation(c.position(a), c.position(b))
            };
            assert_eq!(c.latency(a, b), want, "{a} -> {b}");
            nonzero += (want > Duration::ZERO) as u32;
        }
    }
    assert!(nonzero > n * (n - 1) / 2);
}

#[test]
fn coordinates_median_rtt_in_king_range() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let n = 2_000;
    let c = Coordinates::generate(n, &CoordinatesConfig::default(), &mut rng).unwrap();
    let m = PathModel::new(c.links());
    let mut rtts: Vec<u64> = (0..n as u32 / 2)
        .map(|i| {
            let (a, b) = (2 * i, 2 * i + 1);
            let go = m.path_latency(&route(&c, a, b)) + c.latency(a, b);
            let back = m.path_latency(&route(&c, b, a)) + c.latency(b, a);
            (go + back).as_nanos()
        })
        .collect();
    rtts.sort_unstable();
    let median = Duration::from_nanos(rtts[rtts.len() / 2]);
    assert!(
        median >= ms(100) && median <= ms(150),
        "median RTT {median:?}"
    );
    // Deterministic per seed.
    let again = Coordinates::generate(
        n,
        &CoordinatesConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(2024),
    )
    .unwrap();
    assert_eq!(again.position(17), c.position(17));
    assert_eq!(again.access_delay(17), c.access_delay(17));
    let other = Coordinates::generate(
        n,
        &CoordinatesConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(2025),
    )
    .unwrap();
    assert_ne!(other.position(17), c.position(17));
}

// ---------------------------------------------------------------- star

#[test]
fn star_routes_share_the_site_links() {
    let client = Access {
        up: mbit(20),
        down: mbit(100),
        latency: ms(5),
    };
    let site = Site {
        servers: 2,
        server_access: Access {
            up: mbit(10_000),
            down: mbit(10_000),
            latency: Duration::from_micros(100),
        },
        uplink: mbit(100),
        downlink: mbit(30),
        wan_latency: ms(20),
    };
    let s = Star::new(&[client, client], &site).unwrap();
    assert_eq!(s.node_count(), 4);
    assert_eq!((s.server(0), s.server(1)), (2, 3));
    // Links: 4 nodes x 2, then site up 8, site down 9, core 10.
    assert_eq!(route(&s, 0, 2), [LinkId(0), LinkId(9), LinkId(5)]);
    assert_eq!(route(&s, 3, 1), [LinkId(6), LinkId(8), LinkId(3)]);
    assert_eq!(route(&s, 2, 3), [LinkId(4), LinkId(7)]);
    assert_eq!(route(&s, 0, 1), [LinkId(0), LinkId(10), LinkId(3)]);
    let m = PathModel::new(s.links());
    // 5 + 20 + 0.1 ms.
    assert_eq!(
        m.path_latency(&route(&s, 0, 2)),
        Duration::from_micros(25_100)
    );
    // Two clients upload to two servers: the 30 Mbit/s site downlink is
    // shared, 15 each (below their 20 Mbit/s uplinks).
    let mut net = FlowNet::from_links(s.links());
    let a = net
        .start(Time::ZERO, &route(&s, 0, 2), Bytes(1_000), 0)
        .unwrap();
    let b = net
        .start(Time::ZERO, &route(&s, 1, 3), Bytes(1_000), 0)
        .unwrap();
    assert_eq!((net.rate(a), net.rate(b)), (Some(mbit(15)), Some(mbit(15))));
    assert!(Star::new(&[client], &Site { servers: 0, ..site }).is_err());
}

// ---------------------------------------------------------------- generators

#[test]
fn generators_are_deterministic_per_seed() {
    let rng = |s| ChaCha8Rng::seed_from_u64(s);
    let k = LinkKind::Wifi;
    let rgg = |s| generate::random_geometric(300, 2_000.0, 200.0, k, &mut rng(s)).unwrap();
    assert_eq!(rgg(1), rgg(1));
    assert_ne!(rgg(1), rgg(2));
    let wax = |s| generate::waxman(100, 2_000.0, 0.2, 0.4, k, &mut rng(s)).unwrap();
    assert_eq!(wax(1), wax(1));
    assert_ne!(wax(1), wax(2));
    let ba = |s| generate::barabasi_albert(200, 3, 2_000.0, k, &mut rng(s)).unwrap();
    assert_eq!(ba(1), ba(1));
    assert_ne!(ba(1).links(), ba(2).links());
}

#[test]
fn barabasi_albert_properties() {
    let (n, m) = (500, 3);
    let g = generate::barabasi_albert(
        n,
        m,
        1_000.0,
        LinkKind::Wifi,
        &mut ChaCha8Rng::seed_from_u64(9),
    )
    .unwrap();
    // m(m+1)/2 + (n - m - 1) m = 6 + 496 x 3 = 1494.
    assert_eq!(g.links().len(), 1_494);
    let deg = g.degrees();
    assert_eq!(deg.iter().sum::<usize>(), 2 * 1_494);
    assert!(deg.iter().all(|&d| d >= m));
    assert_eq!(g.components(|_, _| true, |_| true).len(), 1);
    // Preferential attachment gives a power-law tail, P(K >= k) =
    // m(m+1)/(k(k+1)) for large n: about 5000 x 12/2550 = 23.5 routers of
    // degree 50 or more among 5000. Uniform attachment gives an exponential
    // tail (router i ends with about m + m ln(n/i) links, the largest about
    // 3 + 3 ln 1250 = 24 give or take a few), so none; the generator
    // without preferential choice must fail this check.
    let tail = |a: generate::Attachment, seed: u64| {
        let g = generate::grown(
            5_000,
            m,
            1_000.0,
            LinkKind::Wifi,
            a,
            &mut ChaCha8Rng::seed_from_u64(seed),
        )
        .unwrap();
        g.degrees().iter().filter(|&&d| d >= 50).count()
    };
    for seed in [9, 10] {
        let pref = tail(generate::Attachment::Preferential, seed);
        assert!((10..=50).contains(&pref), "{pref} routers of degree >= 50");
        let unif = tail(generate::Attachment::Uniform, seed);
        assert_eq!(
            unif, 0,
            "uniform attachment: {unif} routers of degree >= 50"
        );
    }
    // Preferential is barabasi_albert itself.
    assert_eq!(
        generate::grown(
            n,
            m,
            1_000.0,
            LinkKind::Wifi,
            generate::Attachment::Preferential,
            &mut ChaCha8Rng::seed_from_u64(9)
        )
        .unwrap(),
        g
    );
    assert!(
        generate::barabasi_albert(3, 3, 1.0, LinkKind::Wifi, &mut ChaCha8Rng::seed_from_u64(0))
            .is_err()
    );
}

#[test]
fn grid_properties_and_routes() {
    let g = generate::grid(4, 3, 100.0, LinkKind::Fiber).unwrap();
    // Neighbours are 100 m apart (equirectangular placement: within 0.1 %).
    let len = g.link_length_m(0).unwrap();
    assert!((len - 100.0).abs() < 0.1, "{len}");
    assert_eq!(g.link_length_m(99), None);
    // 4 x 2 vertical + 3 x 3 horizontal.
    assert_eq!(g.links().len(), 17);
    let mut deg = g.degrees();
    deg.sort_unstable();
    // 4 corners of degree 2, 6 border routers of degree 3, 2 inner of 4.
    assert_eq!(deg, [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4]);
    let t = MeshTopology::new(g, &small_config(Metric::Hops)).unwrap();
    // Corner to corner: 3 + 2 fiber hops of 1 ms plus two 0.5 ms accesses.
    let r = route(&t, 0, 11);
    assert_eq!(r.len(), 7);
    assert_eq!(PathModel::new(t.links()).path_latency(&r), ms(6));
}

#[test]
fn random_geometric_links_exactly_the_close_pairs() {
    let radius = 150.0;
    let g = generate::random_geometric(
        400,
        1_500.0,
        radius,
        LinkKind::Wifi,
        &mut ChaCha8Rng::seed_from_u64(3),
    )
    .unwrap();
    let pos: Vec<LatLon> = g.routers().iter().map(|r| r.coords.unwrap()).collect();
    let linked: std::collections::BTreeSet<(u32, u32)> =
        g.links().iter().map(|l| (l.a, l.b)).collect();
    assert_eq!(linked.len(), g.links().len());
    let mut checked = 0;
    for a in 0..pos.len() {
        for b in a + 1..pos.len() {
            // Lat/lon is an approximate projection of the plane: skip pairs
            // within 1 % of the radius.
            let d = pos[a].distance_m(pos[b]);
            if d < radius * 0.99 {
                assert!(linked.contains(&(a as u32, b as u32)), "{a}-{b} at {d} m");
                checked += 1;
            } else if d > radius * 1.01 {
                assert!(!linked.contains(&(a as u32, b as u32)), "{a}-{b} at {d} m");
            }
        }
    }
    // 400 points, pi r^2 / side^2 = 3.1 % of pairs (less at borders).
    assert!(checked > 1_000, "{checked}");
    let r = generate::radius_for_degree(1_000, 10_000.0, 6.0);
    assert!((r - 437.0).abs() < 1.0, "{r}");
}

#[test]
fn waxman_extremes() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let none = generate::waxman(30, 1_000.0, 0.5, 0.0, LinkKind::Wifi, &mut rng).unwrap();
    assert!(none.links().is_empty());
    let all = generate::waxman(20, 1_000.0, 1e12, 1.0, LinkKind::Wifi, &mut rng).unwrap();
    assert_eq!(all.links().len(), 20 * 19 / 2);
}

// ---------------------------------------------------------------- NAT

#[test]
fn nat_flags_relays_and_relay_routes() {
    let build = |seed| {
        let g = generate::grid(3, 3, 100.0, LinkKind::Wifi).unwrap();
        let t = MeshTopology::new(g, &small_config(Metric::Hops)).unwrap();
        Nat::new(t, 1.0 / 3.0, 4, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap()
    };
    let nat = build(11);
    assert_eq!(nat.nat_count(), 3);
    let flags: Vec<bool> = (0..9).map(|v| nat.is_nat(v)).collect();
    assert_eq!(flags.iter().filter(|&&f| f).count(), 3);
    let again = build(11);
    assert_eq!(flags, (0..9).map(|v| again.is_nat(v)).collect::<Vec<_>>());
    let differs = (12..40).any(|s| {
        let o = build(s);
        (0..9).any(|v| o.is_nat(v) != flags[v as usize])
    });
    assert!(differs);
    // Each relay is the nearest of its node's candidates.
    let delay = |a, b| PathModel::new(nat.links()).path_latency(&route(nat.inner(), a, b));
    for v in (0..9).filter(|&v| nat.is_nat(v)) {
        let r = nat.relay(v).unwrap();
        let cands = nat.relay_candidates(v, 4);
        assert!(cands.contains(&r));
        assert!(
            cands
                .iter()
                .all(|&c| !nat.is_nat(c) && delay(v, r) <= delay(v, c))
        );
    }
    let target = (0..9).find(|&v| nat.is_nat(v)).unwrap();
    let relay = nat.relay(target).unwrap();
    assert!(!nat.is_nat(relay));
    assert_eq!(again.relay(target), Some(relay));
    // From a public node other than the relay: route to the relay, then on.
    let from = (0..9).find(|&v| !nat.is_nat(v) && v != relay).unwrap();
    let mut via = Vec::new();
    nat.route_via_relay(from, target, &mut via).unwrap();
    let first = route(nat.inner(), from, relay);
    assert_eq!(via[..first.len()], first[..]);
    let mut rest: Vec<LinkId> = route(nat.inner(), relay, target);
    rest.retain(|l| !first.contains(l));
    assert_eq!(via[first.len()..], rest[..]);
    let mut sorted = via.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), via.len());
    // A public target is reached directly.
    nat.route_via_relay(target, from, &mut via).unwrap();
    assert_eq!(via, route(nat.inner(), target, from));
    let g = generate::grid(2, 1, 1.0, LinkKind::Wifi).unwrap();
    let t = MeshTopology::new(g, &small_config(Metric::Hops)).unwrap();
    assert!(Nat::new(t, 1.0, 4, &mut ChaCha8Rng::seed_from_u64(0)).is_err());
}

#[test]
fn route_trees_agree_with_petgraph_dijkstra() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let ba = generate::barabasi_albert(300, 2, 1_000.0, LinkKind::Wifi, &mut rng).unwrap();
    let mut rgg =
        generate::random_geometric(400, 2_000.0, 180.0, LinkKind::Wifi, &mut rng).unwrap();
    rgg.keep_largest_component();
    let grid = generate::grid(9, 7, 50.0, LinkKind::Wifi).unwrap();
    // Bremen under ETX: real, uneven link qualities.
    let (bremen, gw) =
        bundled::load_recommended("freifunk-bremen", &MeshConfig::default().gateways).unwrap();
    let cases = [
        (ba, Metric::Hops, MeshConfig::default()),
        (rgg, Metric::Hops, MeshConfig::default()),
        (grid, Metric::Hops, MeshConfig::default()),
        (
            bremen,
            Metric::Etx,
            MeshConfig {
                gateways: gw,
                ..MeshConfig::default()
            },
        ),
    ];
    for (g, metric, cfg) in cases {
        let name = g.name().to_string();
        let t = MeshTopology::new(g, &MeshConfig { metric, ..cfg }).unwrap();
        for src in (0..t.router_count() as u32).step_by(37) {
            let pg: Vec<u64> = t.distances(src).into_iter().map(|d| d.unwrap()).collect();
            assert_eq!(t.tree_distances(src), pg, "{name} from {src}");
        }
        if metric == Metric::Hops {
            // A host-to-host route has 2 access links plus, per hop, one
            // directed link and one airtime (all links are wifi here).
            for h in (0..t.mesh_hosts() as u32).step_by(23) {
                let (ra, rb) = (t.host_router(0).unwrap(), t.host_router(h).unwrap());
                let r = route(&t, 0, h);
                let hops = t.distances(ra)[rb as usize].unwrap() as usize;
                let want = if h == 0 { 0 } else { 2 + 2 * hops };
                assert_eq!(r.len(), want, "{name} 0 -> {h}");
            }
        }
    }
}

#[test]
fn routes_do_not_depend_on_the_cache() {
    let (g, gw) = bundled::load_recommended("nycmesh", &MeshConfig::default().gateways).unwrap();
    let big = MeshTopology::new(
        g.clone(),
        &MeshConfig {
            gateways: gw.clone(),
            ..MeshConfig::default()
        },
    )
    .unwrap();
    let tiny = MeshTopology::new(
        g,
        &MeshConfig {
            gateways: gw,
            cache_bytes_max: 0,
            ..MeshConfig::default()
        },
    )
    .unwrap();
    assert_eq!(tiny.cache_trees_max(), 1);
    let n = big.mesh_hosts() as u32;
    for k in 0..400u32 {
        // Seven sources in turn: the one-tree cache keeps evicting.
        let (a, b) = ((k % 7) * 131 % n, (k * 211 + 5) % n);
        assert_eq!(route(&tiny, a, b), route(&big, a, b), "{a} -> {b}");
    }
    assert_eq!(big.trees_computed(), 7);
    assert_eq!(tiny.trees_computed(), 400);
}

#[test]
fn generated_routers_are_numbered_along_a_z_curve() {
    use super::generate::morton;
    // x bits in even positions, y bits in odd ones.
    assert_eq!(morton(1, 0), 1);
    assert_eq!(morton(0, 1), 2);
    assert_eq!(morton(3, 3), 15);
    assert_eq!(morton(0xffff, 0), 0x5555_5555);
    assert_eq!(morton(0, 0xffff), 0xaaaa_aaaa);
    // The first and the last quarter of the routers lie in opposite
    // quadrants of the square (south-west and north-east).
    let g = generate::random_geometric(
        400,
        1_000.0,
        100.0,
        LinkKind::Wifi,
        &mut ChaCha8Rng::seed_from_u64(8),
    )
    .unwrap();
    let mid = generate::ORIGIN;
    let half_lat = (500.0 / EARTH_RADIUS_M).to_degrees();
    for (i, r) in g.routers().iter().enumerate() {
        let c = r.coords.unwrap();
        if i < 80 {
            assert!(c.lat < mid.lat + half_lat, "{i}");
        }
        if i >= 320 {
            assert!(c.lat > mid.lat + half_lat, "{i}");
        }
    }
}

#[test]
fn etx_metric_uses_the_file_etx() {
    // Direct a-c costs ETX 2.2; a-b-c costs 1.2 + 1.2 = 2.4: the direct link
    // wins (squaring the ETX would prefer the two hops: 4.84 > 2.88).
    let text = r#"{"type": "NetworkGraph", "metric": "etx",
      "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
      "links": [{"source": "a", "target": "c", "cost": 2.2},
                {"source": "a", "target": "b", "cost": 1.2},
                {"source": "b", "target": "c", "cost": 1.2}]}"#;
    let opts = LoadOptions {
        default_kind: Some(LinkKind::Wifi),
        ..LoadOptions::default()
    };
    let g = RouterGraph::from_json_str(text, "triangle.json", &opts).unwrap();
    let t = MeshTopology::new(g, &small_config(Metric::Etx)).unwrap();
    let d = t.distances(0);
    assert_eq!(d[2], Some(2_200_000));
    assert_eq!(d[1], Some(1_200_000));
    // up, airtime of a, a->c (link 0, id 6 + 0), down.
    assert_eq!(
        route(&t, 0, 2),
        [
            t.uplink(0),
            t.airtime(0, LinkKind::Wifi).unwrap(),
            LinkId(6),
            t.downlink(2)
        ]
    );
    // Under hops the direct link wins too; under latency (2 ms per hop) as well.
    let t = MeshTopology::new(
        RouterGraph::from_json_str(text, "triangle.json", &opts).unwrap(),
        &small_config(Metric::Hops),
    )
    .unwrap();
    assert_eq!(route(&t, 0, 2).len(), 4);
}

/// Decode a host-to-host route and check it is a walk from the sender's
/// router to the receiver's, each radio hop preceded by the transmitting
/// router's airtime, no link twice.
fn check_walk(t: &MeshTopology, a: u32, b: u32, r: &[LinkId]) {
    let base = 2 * t.node_count() as u32;
    let e = t.graph().links().len() as u32;
    assert_eq!(r[0], t.uplink(a));
    assert_eq!(*r.last().unwrap(), t.downlink(b));
    let mut at = t.host_router(a).unwrap();
    let mut i = 1;
    while i < r.len() - 1 {
        let mut id = r[i];
        let pending_air = (id.0 >= base + 2 * e).then_some(id);
        if pending_air.is_some() {
            i += 1;
            id = r[i];
        }
        assert!(
            id.0 >= base && id.0 < base + 2 * e,
            "{id:?} is not a mesh link"
        );
        let li = (id.0 - base) / 2;
        let l = &t.graph().links()[li as usize];
        let (from, to) = if (id.0 - base).is_multiple_of(2) {
            (l.a, l.b)
        } else {
            (l.b, l.a)
        };
        assert_eq!(from, at, "walk breaks at {id:?}");
        assert_eq!(pending_air, t.airtime(from, l.kind));
        at = to;
        i += 1;
    }
    assert_eq!(at, t.host_router(b).unwrap());
    let mut sorted = r.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), r.len());
}

#[test]
fn routes_are_walks_on_generated_and_real_meshes() {
    for seed in 0..4 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = generate::waxman(150, 3_000.0, 0.15, 0.5, LinkKind::Wifi, &mut rng).unwrap();
        g.keep_largest_component();
        let t = MeshTopology::new(g, &MeshConfig::default()).unwrap();
        let n = t.mesh_hosts() as u32;
        for k in 0..200 {
            let (a, b) = ((k * 37 + seed as u32) % n, (k * 101 + 7) % n);
            if a != b {
                check_walk(&t, a, b, &route(&t, a, b));
            }
        }
    }
    let (g, gw) =
        bundled::load_recommended("freifunk-bremen", &MeshConfig::default().gateways).unwrap();
    let t = MeshTopology::new(
        g,
        &MeshConfig {
            gateways: gw,
            ..MeshConfig::default()
        },
    )
    .unwrap();
    let n = t.mesh_hosts() as u32;
    for k in 0..300 {
        let (a, b) = ((k * 53) % n, (k * 29 + 11) % n);
        if a != b {
            check_walk(&t, a, b, &route(&t, a, b));
        }
    }
}

/// A small synthetic node-link file in the Freifunk style (made up for
/// these tests, not a real network): two radio islands (1-2-3 and 4-5),
/// gateway servers `vpn01` (10) and `vpn02` (11) reached by four links
/// labelled `wifi`, an undeclared interconnect `ic-0` behind the servers,
/// id 3 declared twice, and a separate two-router island (20-21).
const FREIFUNK_STYLE: &str = include_str!("testdata/synthetic-freifunk-style.json");

/// The policies a scenario uses by default (`implicit_nodes = "add"`,
/// `duplicate_ids = "keep-first"`, `components = "largest"`).
fn scenario_defaults() -> LoadOptions {
    LoadOptions {
        implicit: ImplicitPolicy::Add,
        duplicates: DuplicatePolicy::KeepFirst,
        components: ComponentPolicy::KeepLargest,
        ..LoadOptions::default()
    }
}

#[test]
fn freifunk_style_file_loads_unedited_with_the_scenario_defaults() {
    let g = RouterGraph::from_json_str(FREIFUNK_STYLE, "ff.json", &scenario_defaults()).unwrap();
    // 9 distinct declared ids + ic-0 = 10; the island 20-21 is dropped.
    assert_eq!(g.routers().len(), 8);
    assert_eq!(g.report().implicit, vec!["ic-0".to_string()]);
    assert_eq!(g.report().duplicates_dropped, vec!["3".to_string()]);
    assert_eq!(g.report().dropped_routers.len(), 2);
    // The first record of id 3 is kept.
    let r3 = g.router_index("3").unwrap();
    assert_eq!(g.routers()[r3 as usize].name.as_deref(), Some("roof-c"));
    // 7 wifi as labelled (the island's link is gone), 2 vpn.
    assert_eq!(g.kind_counts(), [7, 0, 2, 0, 0]);

    let rec = bundled::detect_gateways(&g).unwrap();
    assert!(rec.servers);
    let mut cfg = MeshConfig::default();
    cfg.gateways.select = rec.gateways;
    cfg.gateways.servers = rec.servers;
    cfg.internet_hosts = vec![cfg.host_access];
    let t = MeshTopology::new(g, &cfg).unwrap();
    // The four `wifi` links to vpn01/vpn02 are tunnels; 3 radio links stay.
    assert_eq!(t.reclassified()[LinkKind::Wifi as usize], 4);
    assert_eq!(t.graph().kind_counts(), [3, 0, 6, 0, 0]);
    let names: Vec<_> = t
        .gateways()
        .iter()
        .map(|&g| t.graph().routers()[g as usize].name.clone().unwrap())
        .collect();
    assert_eq!(names, ["vpn01", "vpn02"]);
    // Hosts on 1..5 only (not on the servers, not on ic-0).
    assert_eq!(t.mesh_hosts(), 5);
    // Island 4-5 reaches island 1-2-3 only through a server: host of
    // router 4 to host of router 1 goes 4 -> vpn01 -> 1 over tunnels.
    let h = |id: &str| {
        let r = t.graph().router_index(id).unwrap();
        (0..t.mesh_hosts() as u32)
            .find(|&h| t.host_router(h) == Some(r))
            .unwrap()
    };
    let p = PathModel::new(t.links());
    let lat = p.path_latency(&route(&t, h("4"), h("1")));
    // 2 x 0.1 ms LAN + 2 x 10 ms tunnels.
    assert_eq!(lat, Duration::from_micros(20_200));
}

#[test]
fn freifunk_style_file_errors_name_the_scenario_key_of_each_policy() {
    let strict = |o: LoadOptions| {
        RouterGraph::from_json_str(FREIFUNK_STYLE, "ff.json", &o)
            .unwrap_err()
            .to_string()
    };
    let e = strict(LoadOptions {
        implicit: ImplicitPolicy::Listed,
        ..scenario_defaults()
    });
    assert!(e.contains("\"ic-0\""), "{e}");
    assert!(e.contains("set topology.implicit_nodes = \"add\""), "{e}");
    let e = strict(LoadOptions {
        duplicates: DuplicatePolicy::Error,
        ..scenario_defaults()
    });
    assert!(
        e.contains("1 ids are declared more than once (first ones: 3)"),
        "{e}"
    );
    assert!(
        e.contains("set topology.duplicate_ids = \"keep-first\""),
        "{e}"
    );
    let e = strict(LoadOptions {
        components: ComponentPolicy::Error,
        ..scenario_defaults()
    });
    assert!(e.contains("2 components of sizes [8, 2]"), "{e}");
    assert!(e.contains("set topology.components = \"largest\""), "{e}");
}

#[test]
fn undeclared_ids_and_labels_are_shortened_in_errors() {
    let long = "x".repeat(5_000);
    let text = format!(
        r#"{{"nodes": [{{"id": 1}}], "links": [{{"source": 1, "target": "{long}", "type": "wifi"}}]}}"#
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.len() < 400, "{} chars", e.len());
    let text = format!(
        r#"{{"nodes": [{{"id": 1}}, {{"id": 2}}], "links": [{{"source": 1, "target": 2, "type": "{long}"}}]}}"#
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(matches!(parse(&text), Err(TopoError::UnknownKind { .. })));
    assert!(e.len() < 400, "{} chars", e.len());
}

#[test]
fn scenario_defaults_load_every_bundled_mesh_like_its_recommendation() {
    for name in bundled::NAMES {
        let rec = bundled::recommended(name).unwrap();
        let a = bundled::load(name, &rec.options).unwrap();
        let b = bundled::load(name, &scenario_defaults()).unwrap();
        assert_eq!(a.routers(), b.routers(), "{name}");
        assert_eq!(a.links(), b.links(), "{name}");
        assert_eq!(a.report(), b.report(), "{name}");
        // A copy of the bytes is recognised as the bundled mesh.
        assert_eq!(bundled::identify(bundled::text(name).unwrap()), Some(name));
        // Detected gateways: the recommended ones, except Bielefeld's
        // interconnect (245), which only the recommendation names.
        let det = bundled::detect_gateways(&b).unwrap();
        assert_eq!(det.servers, rec.servers, "{name}");
        let mut want = b.select(&rec.gateways);
        if name == "freifunk-bielefeld" {
            want.retain(|&g| b.routers()[g as usize].id != "245");
        }
        assert_eq!(b.select(&det.gateways), want, "{name}");
    }
    assert_eq!(bundled::identify("{}"), None);
}

#[test]
fn coordinates_refuse_more_nodes_than_they_hold() {
    // u32::MAX nodes would allocate tens of GiB before this bound.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let e = Coordinates::generate(u32::MAX as usize, &CoordinatesConfig::default(), &mut rng)
        .unwrap_err();
    assert!(e.to_string().contains("set topology.nodes lower"), "{e}");
}
