//! Reading router graphs from networkx node-link JSON and NetJSON
//! NetworkGraph files, under explicit policies for the defects of real data.

use super::error::{Item, LISTED_IDS_MAX, TopoError};
use super::graph::{GraphLink, LatLon, LoadReport, Router, RouterGraph};
use super::kind::LinkKind;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// networkx node-link JSON: `{"nodes": [{"id": ...}], "links": [{"source": ..., "target": ...}]}`
    /// (`edges` is accepted for `links`). Node fields read: `id`, `name`,
    /// `role`, `x` = latitude, `y` = longitude. Link fields read: `source`,
    /// `target`, `type` (the kind label), `source_tq`, `target_tq`. Links
    /// are undirected whatever `directed` says: a file listing both
    /// directions of a link gives two parallel links.
    NodeLink,
    /// NetJSON NetworkGraph (netjson.org): `{"type": "NetworkGraph",
    /// "metric": ..., "nodes": [{"id", "label"?, "properties"?}], "links":
    /// [{"source", "target", "cost", "properties"?}]}`. `cost` is read as an
    /// ETX when `metric` is `etx` (case-insensitive) and must then be >= 1;
    /// under other metrics it is checked to be a non-negative number and not
    /// used. The kind label is `properties.type`; `properties.role` is the
    /// role. NetJSON has no standard coordinates: every router gets `None`.
    NetJson,
}

/// What to do with link endpoints that no node record declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ImplicitPolicy {
    /// Only the ids in [`LoadOptions::implicit_nodes`] may be undeclared;
    /// any other is an error (default).
    #[default]
    Listed,
    /// Every undeclared endpoint becomes a router without coordinates,
    /// flagged [`Router::implicit`] and listed in the report (the Freifunk
    /// files' `ic-0` interconnect, for one).
    Add,
}

/// What to do with node records that share an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Reject the file, listing the duplicated ids (default).
    #[default]
    Error,
    /// Keep the first record of each id, drop the later ones (reported).
    KeepFirst,
    /// Keep every record; the second occurrence of id `x` becomes `x~2`, the
    /// third `x~3` (reported). Links name ids, so they attach to the first
    /// record; renamed records have no links and are usually dropped again
    /// by [`ComponentPolicy::KeepLargest`].
    Rename,
}

/// What to do with a graph of several connected components.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ComponentPolicy {
    /// Reject it, with the component sizes (default).
    #[default]
    Error,
    /// Keep the largest component (ties: the one with the first router in
    /// file order) and report the counts and ids dropped.
    KeepLargest,
    /// Keep every component, for analysis ([`RouterGraph::components`]);
    /// a [`MeshTopology`](super::MeshTopology) still needs a connected graph.
    KeepAll,
}

/// How to read a file. The defaults reject every defect, except links from
/// a router to itself, which carry no traffic: they are skipped and listed
/// in [`LoadReport::self_loops`](super::LoadReport).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// The format; detected from content when `None` (`"type":
    /// "NetworkGraph"` is NetJSON, an object with `nodes` is node-link).
    pub format: Option<Format>,
    /// Ids that links may use without a node record; each becomes a router
    /// without coordinates, flagged [`Router::implicit`].
    pub implicit_nodes: Vec<String>,
    /// Other undeclared ids.
    pub implicit: ImplicitPolicy,
    /// Duplicate ids.
    pub duplicates: DuplicatePolicy,
    /// Disconnected graphs.
    pub components: ComponentPolicy,
    /// Extra link labels and their kind, consulted before the standard
    /// labels (for example `("tunnel", LinkKind::Vpn)`).
    pub kind_map: Vec<(String, LinkKind)>,
    /// Kind of links without a label; `None` makes a missing label an error.
    pub default_kind: Option<LinkKind>,
}

impl RouterGraph {
    /// Read a topology file (format and policies in `opts`).
    pub fn load(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<RouterGraph, TopoError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TopoError::Io {
            file: file.clone(),
            source,
        })?;
        RouterGraph::from_json_str(&text, &file, opts)
    }

    /// Read a topology from JSON text; `file` names it in errors.
    pub fn from_json_str(
        text: &str,
        file: &str,
        opts: &LoadOptions,
    ) -> Result<RouterGraph, TopoError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| TopoError::Json {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Parser { file, opts }.parse(&doc)
    }
}

struct Parser<'a> {
    file: &'a str,
    opts: &'a LoadOptions,
}

/// Normalise an id: integers to their decimal text, strings as written.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// An id or label for an error message, cut to 60 characters.
fn short(s: &str) -> String {
    match s.char_indices().nth(57) {
        Some((cut, _)) if s.chars().count() > 60 => format!("{}...", &s[..cut]),
        _ => s.to_string(),
    }
}

/// JSON text of a value, shortened for error messages.
fn show(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 40 {
        let mut cut = 37;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

impl Parser<'_> {
    fn missing(&self, item: Item, field: &'static str) -> TopoError {
        TopoError::MissingField {
            file: self.file.to_string(),
            item,
            field,
        }
    }
    fn bad(&self, item: Item, field: &'static str, expected: &'static str, v: &Value) -> TopoError {
        TopoError::BadField {
            file: self.file.to_string(),
            item,
            field,
            expected,
            found: show(v),
        }
    }

    fn parse(&self, doc: &Value) -> Result<RouterGraph, TopoError> {
        let Some(top) = doc.as_object() else {
            return Err(TopoError::Format {
                file: self.file.into(),
                problem: format!(
                    "the document is {}, not an object with `nodes` and `links` (node-link) or a NetJSON NetworkGraph",
                    show(doc)
                ),
            });
        };
        let detected = if top.get("type").and_then(Value::as_str) == Some("NetworkGraph") {
            Some(Format::NetJson)
        } else if top.contains_key("nodes") {
            Some(Format::NodeLink)
        } else {
            None
        };
        let format = match (self.opts.format, detected) {
            (Some(f), _) => f,
            (None, Some(f)) => f,
            (None, None) => {
                return Err(TopoError::Format {
                    file: self.file.into(),
                    problem: "neither a NetJSON NetworkGraph (`\"type\": \"NetworkGraph\"`) nor networkx node-link JSON (an object with `nodes`)".into(),
                });
            }
        };
        if format == Format::NetJson && detected != Some(Format::NetJson) {
            return Err(TopoError::Format {
                file: self.file.into(),
                problem: "NetJSON was asked for but `type` is not \"NetworkGraph\"".into(),
            });
        }
        let etx = format == Format::NetJson
            && top
                .get("metric")
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case("etx"));

        let nodes = match top.get("nodes") {
            None => return Err(self.missing(Item::Document, "nodes")),
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(self.bad(Item::Document, "nodes", "an array of node records", v));
            }
        };
        let links = match top.get("links").or_else(|| top.get("edges")) {
            None => return Err(self.missing(Item::Document, "links")),
            Some(Value::Array(a)) => a,
            Some(v) => {
                return Err(self.bad(Item::Document, "links", "an array of link records", v));
            }
        };
        if nodes.is_empty() {
            return Err(TopoError::Empty {
                file: self.file.into(),
            });
        }
        let mut report = LoadReport::default();
        let mut routers = Vec::with_capacity(nodes.len());
        for (index, v) in nodes.iter().enumerate() {
            routers.push(self.node(index, v, format)?);
        }
        let routers = self.dedup(routers, &mut report)?;
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        for (i, r) in routers.iter().enumerate() {
            index.entry(r.id.clone()).or_insert(i as u32);
        }
        let mut routers = routers;
        let mut out_links = Vec::with_capacity(links.len());
        for (li, v) in links.iter().enumerate() {
            let item = Item::Link { index: li };
            let Some(obj) = v.as_object() else {
                return Err(self.bad(item, "(record)", "an object", v));
            };
            let mut end = |field: &'static str| -> Result<u32, TopoError> {
                let raw = obj
                    .get(field)
                    .ok_or_else(|| self.missing(item.clone(), field))?;
                let id = id_of(raw).ok_or_else(|| {
                    self.bad(item.clone(), field, "an integer or a string id", raw)
                })?;
                if let Some(&i) = index.get(&id) {
                    return Ok(i);
                }
                if self.opts.implicit == ImplicitPolicy::Add
                    || self.opts.implicit_nodes.contains(&id)
                {
                    let i = routers.len() as u32;
                    routers.push(Router {
                        id: id.clone(),
                        name: None,
                        role: None,
                        coords: None,
                        implicit: true,
                    });
                    index.insert(id.clone(), i);
                    report.implicit.push(id);
                    return Ok(i);
                }
                Err(TopoError::DanglingId {
                    file: self.file.into(),
                    link: li,
                    end: field,
                    id: short(&id),
                })
            };
            let a = end("source")?;
            let b = end("target")?;
            let props = if format == Format::NetJson {
                obj.get("properties").and_then(Value::as_object)
            } else {
                Some(obj)
            };
            let kind = self.kind(li, props.and_then(|p| p.get("type")))?;
            let tq = |field: &'static str| -> Result<Option<f64>, TopoError> {
                match obj.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => match v.as_f64() {
                        Some(q) if (0.0..=1.0).contains(&q) => Ok(Some(q)),
                        _ => Err(self.bad(item.clone(), field, "a link quality in [0, 1]", v)),
                    },
                }
            };
            let (tq_ab, tq_ba) = (tq("source_tq")?, tq("target_tq")?);
            let mut link_etx = None;
            if format == Format::NetJson {
                let c = obj
                    .get("cost")
                    .ok_or_else(|| self.missing(item.clone(), "cost"))?;
                match c.as_f64() {
                    Some(x) if etx && x.is_finite() && x >= 1.0 => link_etx = Some(x),
                    Some(x) if !etx && x.is_finite() && x >= 0.0 => {}
                    _ if etx => return Err(self.bad(item, "cost", "an ETX (a number >= 1)", c)),
                    _ => return Err(self.bad(item, "cost", "a non-negative number", c)),
                }
            }
            if a == b {
                report.self_loops.push(li);
                continue;
            }
            out_links.push(GraphLink {
                a,
                b,
                kind,
                tq_ab,
                tq_ba,
                etx: link_etx,
            });
        }
        let mut g = RouterGraph {
            name: self.file.to_string(),
            routers,
            links: out_links,
            report,
        };
        let comps = g.components(|_, _| true, |_| true);
        if comps.len() > 1 {
            match self.opts.components {
                ComponentPolicy::Error => {
                    return Err(TopoError::Disconnected {
                        file: self.file.into(),
                        components: comps.len(),
                        sizes: comps.iter().take(10).map(Vec::len).collect(),
                    });
                }
                ComponentPolicy::KeepLargest => {
                    g.keep_largest_component();
                }
                ComponentPolicy::KeepAll => {}
            }
        }
        Ok(g)
    }

    fn node(&self, index: usize, v: &Value, format: Format) -> Result<Router, TopoError> {
        let item = Item::Node { index, id: None };
        let Some(obj) = v.as_object() else {
            return Err(self.bad(item, "(record)", "an object", v));
        };
        let raw = obj
            .get("id")
            .ok_or_else(|| self.missing(item.clone(), "id"))?;
        let id = id_of(raw).ok_or_else(|| self.bad(item, "id", "an integer or a string", raw))?;
        let item = Item::Node {
            index,
            id: Some(short(&id)),
        };
        let text = |o: &Map<String, Value>, f: &str| -> Option<String> {
            match o.get(f)? {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }
        };
        let (name, role, coords) = match format {
            Format::NetJson => {
                let props = obj.get("properties").and_then(Value::as_object);
                (
                    text(obj, "label"),
                    props.and_then(|p| text(p, "role")),
                    None,
                )
            }
            Format::NodeLink => {
                let coord = |field: &'static str, range: f64, expected: &'static str| match obj
                    .get(field)
                {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => match v.as_f64() {
                        Some(x) if x.abs() <= range => Ok(Some(x)),
                        _ => Err(self.bad(item.clone(), field, expected, v)),
                    },
                };
                let x = coord("x", 90.0, "a latitude in degrees, a number in [-90, 90]")?;
                let y = coord(
                    "y",
                    180.0,
                    "a longitude in degrees, a number in [-180, 180]",
                )?;
                let coords = match (x, y) {
                    (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
                    (None, None) => None,
                    (Some(_), None) => return Err(self.missing(item, "y")),
                    (None, Some(_)) => return Err(self.missing(item, "x")),
                };
                (text(obj, "name"), text(obj, "role"), coords)
            }
        };
        Ok(Router {
            id,
            name,
            role,
            coords,
            implicit: false,
        })
    }

    fn kind(&self, link: usize, label: Option<&Value>) -> Result<LinkKind, TopoError> {
        let label = match label {
            None | Some(Value::Null) => {
                return self.opts.default_kind.ok_or_else(|| TopoError::Unlabelled {
                    file: self.file.into(),
                    link,
                });
            }
            Some(Value::String(s)) => s,
            Some(v) => {
                return Err(self.bad(Item::Link { index: link }, "type", "a link kind label", v));
            }
        };
        if let Some((_, k)) = self.opts.kind_map.iter().find(|(l, _)| l == label) {
            return Ok(*k);
        }
        LinkKind::from_label(label).ok_or_else(|| TopoError::UnknownKind {
            file: self.file.into(),
            link,
            label: short(label),
        })
    }

    fn dedup(
        &self,
        routers: Vec<Router>,
        report: &mut LoadReport,
    ) -> Result<Vec<Router>, TopoError> {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut dup_ids: Vec<String> = Vec::new();
        for r in &routers {
            let n = seen.entry(r.id.clone()).or_insert(0);
            *n += 1;
            if *n == 2 {
                dup_ids.push(r.id.clone());
            }
        }
        if dup_ids.is_empty() {
            return Ok(routers);
        }
        match self.opts.duplicates {
            DuplicatePolicy::Error => Err(TopoError::DuplicateIds {
                file: self.file.into(),
                count: dup_ids.len(),
                ids: dup_ids
                    .iter()
                    .take(LISTED_IDS_MAX)
                    .map(|i| short(i))
                    .collect(),
            }),
            DuplicatePolicy::KeepFirst => {
                let mut count: BTreeMap<String, usize> = BTreeMap::new();
                let mut out = Vec::with_capacity(routers.len());
                for r in routers {
                    let n = count.entry(r.id.clone()).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        out.push(r);
                    } else {
                        report.duplicates_dropped.push(r.id);
                    }
                }
                Ok(out)
            }
            DuplicatePolicy::Rename => {
                let mut count: BTreeMap<String, usize> = BTreeMap::new();
                let mut out = Vec::with_capacity(routers.len());
                for mut r in routers {
                    let n = count.entry(r.id.clone()).or_insert(0);
                    *n += 1;
                    if *n > 1 {
                        let mut k = *n;
                        // Skip names that a record already uses.
                        while seen.contains_key(&format!("{}~{k}", r.id)) {
                            k += 1;
                        }
                        let new = format!("{}~{k}", r.id);
                        seen.insert(new.clone(), 1);
                        report.renamed.push((r.id.clone(), new.clone()));
                        r.id = new;
                    }
                    out.push(r);
                }
                Ok(out)
            }
        }
    }
}
