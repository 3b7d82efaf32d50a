//! Tests of the mesh branch of the scenario topology: the `[topology]` data
//! policies, user files versus bundled names, and the errors' key names.

use super::*;
use crate::load::Origin;
use crate::validate::validate_text;
use sim_core::net::Topology;
use std::path::PathBuf;

/// A small synthetic node-link file in the Freifunk style (made up for
/// tests, not a real network): radio islands 1-2-3 and 4-5, gateway servers
/// `vpn01` and `vpn02` reached by links labelled `wifi`, an undeclared
/// `ic-0` interconnect, id 3 declared twice, a separate island 20-21.
const FREIFUNK_STYLE: &str =
    include_str!("../../../sim-core/src/topo/testdata/synthetic-freifunk-style.json");

/// A fresh directory for one test's files.
fn temp_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pc-mesh-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A scenario on the mesh `file` with extra `[topology]` lines.
fn scenario_text(file: &str, extra: &str) -> String {
    format!(
        "[scenario]\nname = \"t\"\nduration = \"1min\"\n\n[topology]\nkind = \"mesh\"\nfile = {file:?}\n{extra}\n\n[workload]\nclients = 5\nmean_gap = \"10s\"\n"
    )
}

fn validate(text: &str) -> Result<Scenario, String> {
    validate_text(text, &Origin::File("t.toml".into()), &[], None)
}

/// The mesh a scenario builds (parsed, not validated: some of these meshes
/// are too small to run a scenario on).
fn mesh(file: &str, extra: &str) -> MeshTopology {
    let origin = Origin::File("t.toml".into());
    let s: Scenario = crate::load::load(&scenario_text(file, extra), &origin, &[]).unwrap();
    mesh_topology(&s, file).unwrap()
}

fn fixture(test: &str) -> (PathBuf, String) {
    let d = temp_dir(test);
    let f = d.join("synthetic-freifunk-style.json");
    std::fs::write(&f, FREIFUNK_STYLE).unwrap();
    let name = f.display().to_string();
    (d, name)
}

#[test]
fn a_freifunk_style_user_file_loads_unedited_and_its_gateway_links_are_tunnels() {
    let (d, f) = fixture("defaults");
    // Through the validate path (parse, check, build the topology).
    let s = validate(&scenario_text(&f, "")).unwrap();
    assert_eq!(check_topology(&s).unwrap(), 5);
    let t = mesh(&f, "");
    // vpn01 and vpn02 found by name; their four `wifi` links are tunnels.
    assert_eq!(t.gateways().len(), 2);
    assert_eq!(t.reclassified()[sim_core::topo::LinkKind::Wifi as usize], 4);
    assert_eq!(t.graph().kind_counts(), [3, 0, 6, 0, 0]);
    assert_eq!(t.graph().report().implicit, vec!["ic-0".to_string()]);
    // The scenario can still trust the labels.
    let t = mesh(&f, "tunnels = \"labels\"");
    assert_eq!(t.reclassified(), [0; 5]);
    assert_eq!(t.graph().kind_counts(), [7, 0, 2, 0, 0]);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn strict_policies_and_bad_gateways_name_their_keys() {
    let (d, f) = fixture("strict");
    let err = |extra: &str| validate(&scenario_text(&f, extra)).unwrap_err();
    let e = err("implicit_nodes = \"error\"");
    assert!(e.contains("key `topology.implicit_nodes`"), "{e}");
    assert!(e.contains("\"ic-0\" is not declared"), "{e}");
    assert!(e.contains("set topology.implicit_nodes = \"add\""), "{e}");
    let e = err("duplicate_ids = \"error\"");
    assert!(e.contains("key `topology.duplicate_ids`"), "{e}");
    assert!(
        e.contains("set topology.duplicate_ids = \"keep-first\""),
        "{e}"
    );
    for policy in ["error", "keep"] {
        let e = err(&format!("components = \"{policy}\""));
        assert!(e.contains("key `topology.components`"), "{e}");
        assert!(e.contains("sizes [8, 2]"), "{e}");
        assert!(e.contains("set topology.components = \"largest\""), "{e}");
    }
    let e = err("gateways = \"name:gw*\"");
    assert!(e.contains("key `topology.gateways`"), "{e}");
    assert!(e.contains("no router"), "{e}");
    let e = err("gateways = \"vpn01\"");
    assert!(e.contains("key `topology.gateways`"), "{e}");
    let e = err("duplicate_ids = \"merge\"");
    assert!(
        e.contains("duplicate_ids") && e.contains("keep-first"),
        "{e}"
    );
    // Several selectors, separated by commas.
    let t = mesh(&f, "gateways = \"name:vpn01, id:11\"");
    assert_eq!(t.gateways().len(), 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_file_without_known_gateways_asks_for_topology_gateways() {
    let d = temp_dir("nogw");
    let f = d.join("two.json");
    std::fs::write(
        &f,
        r#"{"nodes": [{"id": 1}, {"id": 2}], "links": [{"source": 1, "target": 2, "type": "wifi"}]}"#,
    )
    .unwrap();
    let f = f.display().to_string();
    let e = validate(&scenario_text(&f, "")).unwrap_err();
    assert!(e.contains("key `topology.gateways`"), "{e}");
    let t = mesh(&f, "gateways = \"id:2\"");
    assert_eq!(t.gateways().len(), 1);
    // Gateways given by id on a file without supernodes: servers.
    assert_eq!(t.mesh_hosts(), 1);
    let _ = std::fs::remove_dir_all(d);
}

/// A user's copy of a bundled file is read exactly like the bundled name.
#[test]
fn a_copy_of_a_bundled_file_behaves_like_the_bundled_name() {
    let d = temp_dir("copies");
    for name in sim_core::topo::bundled::NAMES {
        let f = d.join(format!("{name}.json"));
        std::fs::write(&f, sim_core::topo::bundled::text(name).unwrap()).unwrap();
        let f = f.display().to_string();
        let a = mesh(name, "");
        let b = mesh(&f, "");
        assert_eq!(a.mesh_hosts(), b.mesh_hosts(), "{name}");
        assert_eq!(a.gateways(), b.gateways(), "{name}");
        assert_eq!(a.reclassified(), b.reclassified(), "{name}");
        assert_eq!(a.graph().routers(), b.graph().routers(), "{name}");
        assert_eq!(a.graph().links(), b.graph().links(), "{name}");
        assert_eq!(a.links(), b.links(), "{name}");
        let n = a.mesh_hosts() as u32;
        let site = a.internet_host(0);
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        for (x, y) in [(0, n - 1), (1, n / 2), (n / 3, site), (site, n - 2)] {
            a.route(x, y, &mut ra).unwrap();
            b.route(x, y, &mut rb).unwrap();
            assert_eq!(ra, rb, "{name}: {x} -> {y}");
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn long_paths_and_values_are_shortened_in_errors() {
    let (d, f) = fixture("long");
    // A file that disappeared after validation, with a very long path.
    let s = validate(&scenario_text(&f, "")).unwrap();
    let long = format!("/no/such/{}/mesh.json", "d".repeat(5_000));
    let e = mesh_topology(&s, &long).unwrap_err().to_string();
    assert!(e.len() < 600, "{} chars", e.len());
    assert!(
        e.starts_with("topology.file: ...") && e.contains("/mesh.json"),
        "{e}"
    );
    let m = "m".repeat(5_000);
    for extra in [
        format!("metric = \"{m}\""),
        format!("gateways = \"name:{m}\""),
        format!("gateways = \"{m}\""),
    ] {
        let e = validate(&scenario_text(&f, &extra)).unwrap_err();
        assert!(e.len() < 600, "{} chars", e.len());
    }
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_mesh_of_gateway_servers_only_points_to_topology_tunnels() {
    let d = temp_dir("servers");
    let f = d.join("servers.json");
    std::fs::write(
        &f,
        r#"{"nodes": [{"id": 1, "name": "vpn1"}, {"id": 2, "name": "vpn2"}], "links": [{"source": 1, "target": 2, "type": "wifi"}]}"#,
    )
    .unwrap();
    let f = f.display().to_string();
    let e = validate(&scenario_text(&f, "")).unwrap_err();
    assert!(e.contains("set topology.tunnels = \"labels\""), "{e}");
    let t = mesh(&f, "tunnels = \"labels\"");
    assert_eq!(t.mesh_hosts(), 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn unlabelled_netjson_links_get_the_kind_of_topology_unlabelled_links() {
    let d = temp_dir("netjson");
    let f = d.join("city.netjson");
    std::fs::write(
        &f,
        r#"{"type": "NetworkGraph", "protocol": "olsr", "version": "0.8", "metric": "etx",
            "nodes": [{"id": "10.0.0.1", "properties": {"role": "supernode"}}, {"id": "10.0.0.2"}, {"id": "10.0.0.3"}],
            "links": [{"source": "10.0.0.1", "target": "10.0.0.2", "cost": 1.5},
                      {"source": "10.0.0.2", "target": "10.0.0.3", "cost": 1.0}]}"#,
    )
    .unwrap();
    let f = f.display().to_string();
    let t = mesh(&f, "");
    assert_eq!(t.graph().kind_counts(), [2, 0, 0, 0, 0]);
    assert_eq!(t.gateways().len(), 1);
    let t = mesh(&f, "unlabelled_links = \"fiber\"");
    assert_eq!(t.graph().kind_counts(), [0, 0, 0, 2, 0]);
    let e = validate(&scenario_text(&f, "unlabelled_links = \"error\"")).unwrap_err();
    assert!(e.contains("key `topology.unlabelled_links`"), "{e}");
    assert!(
        e.contains("set topology.unlabelled_links = \"wifi\""),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(d);
}
