//! The city meshes shipped in `data/topologies/`, embedded in the binary so
//! that it runs from any directory. See that folder's README for sources,
//! licences (MIT; attribution kept in the LICENSE files) and quirks.

use super::error::TopoError;
use super::file::{ComponentPolicy, DuplicatePolicy, LoadOptions};
use super::graph::{NodeSelector, RouterGraph};
use super::mesh::GatewaySpec;

/// Names of the bundled meshes; the first, `nycmesh`, is the default.
pub const NAMES: [&str; 4] = [
    "nycmesh",
    "freifunk-bremen",
    "freifunk-bielefeld",
    "freifunk-berlin",
];

/// The default city mesh.
pub const DEFAULT: &str = "nycmesh";

/// The JSON text of a bundled mesh.
pub fn text(name: &str) -> Option<&'static str> {
    Some(match name {
        "nycmesh" => include_str!("../../../data/topologies/nycmesh.json"),
        "freifunk-bremen" => include_str!("../../../data/topologies/freifunk-bremen.json"),
        "freifunk-bielefeld" => include_str!("../../../data/topologies/freifunk-bielefeld.json"),
        "freifunk-berlin" => include_str!("../../../data/topologies/freifunk-berlin.json"),
        _ => return None,
    })
}

/// A bundled mesh loaded with explicit options; errors name it `<name>.json`.
pub fn load(name: &str, opts: &LoadOptions) -> Result<RouterGraph, TopoError> {
    let text = text(name).ok_or_else(|| {
        TopoError::config(format!(
            "no bundled topology {name:?}; bundled: {}",
            NAMES.join(", ")
        ))
    })?;
    RouterGraph::from_json_str(text, &format!("{name}.json"), opts)
}

/// How to read a bundled mesh and where its gateways are.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommended {
    /// Load options (implicit nodes, duplicate and component policies).
    pub options: LoadOptions,
    /// Gateway selectors.
    pub gateways: Vec<NodeSelector>,
    /// Whether the gateways are servers reached by tunnels
    /// ([`GatewaySpec::servers`]).
    pub servers: bool,
}

/// The documented way to read each bundled mesh, with its gateways:
///
/// - `nycmesh`: keep the largest component (938 of 949 nodes); gateways are
///   the `supernode`s, ordinary routers with an internet uplink.
/// - `freifunk-bremen`: `ic-0` is an implicit node (the internet side of the
///   gateways); gateway servers `vpn*` (tunnels whatever the label).
/// - `freifunk-bielefeld`: gateway servers `vpn*` and node 245 (named `-`,
///   which carries every vpn link: the interconnect); largest component.
/// - `freifunk-berlin`: 132 duplicated ids, kept first; `ic-0` implicit;
///   gateway servers `*vpn*`; largest component.
pub fn recommended(name: &str) -> Option<Recommended> {
    let ic = vec!["ic-0".to_string()];
    let name_sel = |p: &str| NodeSelector::Name(p.to_string());
    let r = |options, gateways, servers| Recommended {
        options,
        gateways,
        servers,
    };
    Some(match name {
        "nycmesh" => r(
            LoadOptions {
                components: ComponentPolicy::KeepLargest,
                ..LoadOptions::default()
            },
            vec![NodeSelector::Role("supernode".into())],
            false,
        ),
        "freifunk-bremen" => r(
            LoadOptions {
                implicit_nodes: ic,
                ..LoadOptions::default()
            },
            vec![name_sel("vpn*")],
            true,
        ),
        "freifunk-bielefeld" => r(
            LoadOptions {
                components: ComponentPolicy::KeepLargest,
                ..LoadOptions::default()
            },
            vec![name_sel("vpn*"), NodeSelector::Id("245".into())],
            true,
        ),
        "freifunk-berlin" => r(
            LoadOptions {
                implicit_nodes: ic,
                duplicates: DuplicatePolicy::KeepFirst,
                components: ComponentPolicy::KeepLargest,
                ..LoadOptions::default()
            },
            vec![name_sel("*vpn*")],
            true,
        ),
        _ => return None,
    })
}

/// Load a bundled mesh with [`recommended`] options; also returns the
/// gateway spec to put into a [`MeshConfig`](super::MeshConfig) (with
/// `uplink` taken from `uplink_from`).
pub fn load_recommended(
    name: &str,
    uplink_from: &GatewaySpec,
) -> Result<(RouterGraph, GatewaySpec), TopoError> {
    let rec = recommended(name).ok_or_else(|| {
        TopoError::config(format!(
            "no bundled topology {name:?}; bundled: {}",
            NAMES.join(", ")
        ))
    })?;
    let g = load(name, &rec.options)?;
    Ok((
        g,
        GatewaySpec {
            select: rec.gateways,
            servers: rec.servers,
            uplink: uplink_from.uplink,
        },
    ))
}

/// The bundled mesh whose JSON text is exactly `text`, if any: a copy of a
/// bundled file can then be read exactly like its name.
pub fn identify(text: &str) -> Option<&'static str> {
    NAMES
        .into_iter()
        .find(|name| self::text(name).is_some_and(|t| t.len() == text.len() && t == text))
}

/// Gateways of a file that is not a bundled mesh, found by the conventions
/// of the bundled ones: the routers with role `supernode`, ordinary routers
/// with an internet uplink (NYC Mesh; `servers` is `false`), if there are
/// any; else the routers whose name contains `vpn` (lower case), gateway
/// servers reached by tunnels (Freifunk's `vpn01`, `a.bbb-vpn`; `servers`
/// is `true`). `None` when the graph has neither.
///
/// On the bundled files this selects the same routers as [`recommended`],
/// except in `freifunk-bielefeld`, whose interconnect (node 245, named
/// `-`) the recommendation adds by id.
pub fn detect_gateways(graph: &RouterGraph) -> Option<Recommended> {
    let supernode = NodeSelector::Role("supernode".into());
    let vpn = NodeSelector::Name("*vpn*".into());
    let (sel, servers) = if graph.routers().iter().any(|r| supernode.matches(r)) {
        (supernode, false)
    } else if graph.routers().iter().any(|r| vpn.matches(r)) {
        (vpn, true)
    } else {
        return None;
    };
    Some(Recommended {
        options: LoadOptions::default(),
        gateways: vec![sel],
        servers,
    })
}
