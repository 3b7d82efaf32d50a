//! Errors of topology loading and construction.

use crate::net::MatrixError;
use std::fmt;

/// The record of an input file an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The document as a whole (a missing top-level array, a wrong type).
    Document,
    /// The `index`-th record (0-based) of the `nodes` array, with its id
    /// when it could be read.
    Node {
        /// 0-based position in `nodes`.
        index: usize,
        /// The node's id, normalised to a string, if known.
        id: Option<String>,
    },
    /// The `index`-th record (0-based) of the `links` array.
    Link {
        /// 0-based position in `links`.
        index: usize,
    },
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Document => write!(f, "top level"),
            Item::Node {
                index,
                id: Some(id),
            } => write!(f, "node {index} (id {id:?})"),
            Item::Node { index, id: None } => write!(f, "node {index}"),
            Item::Link { index } => write!(f, "link {index}"),
        }
    }
}

/// How many duplicated ids [`TopoError::DuplicateIds`] lists.
pub const LISTED_IDS_MAX: usize = 10;

/// Error for a topology that cannot be loaded or built. File errors name
/// the file (its path, or the bundled name) and the item and field.
#[derive(Debug, thiserror::Error)]
pub enum TopoError {
    /// The file cannot be read.
    #[error("{file}: cannot read topology file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{file}:{line}:{column}: invalid JSON: {message}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser reported.
        message: String,
    },
    /// Valid JSON but neither networkx node-link nor NetJSON NetworkGraph
    /// (or not the format that was asked for).
    #[error("{file}: {problem}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// The `nodes` array is empty.
    #[error("{file}: the graph has no nodes")]
    Empty {
        /// The file.
        file: String,
    },
    /// A required field is absent.
    #[error("{file}: {item}: missing field `{field}`")]
    MissingField {
        /// The file.
        file: String,
        /// The record.
        item: Item,
        /// The field name.
        field: &'static str,
    },
    /// A field has a value of the wrong type or out of range.
    #[error("{file}: {item}: field `{field}` is {found}; expected {expected}")]
    BadField {
        /// The file.
        file: String,
        /// The record.
        item: Item,
        /// The field name.
        field: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
        /// The value found (JSON text, shortened).
        found: String,
    },
    /// A link refers to an id that no node declares.
    #[error(
        "{file}: link {link}: {end} {id:?} is not declared in `nodes`; set topology.implicit_nodes = \"add\" to add it as a router without coordinates (the Freifunk files use `ic-0` for the internet side of their gateways)"
    )]
    DanglingId {
        /// The file.
        file: String,
        /// 0-based link index.
        link: usize,
        /// `"source"` or `"target"`.
        end: &'static str,
        /// The undeclared id.
        id: String,
    },
    /// Several node records share an id.
    #[error(
        "{file}: {count} ids are declared more than once (first ones: {}); set topology.duplicate_ids = \"keep-first\" (or \"rename\") to load it anyway",
        ids.join(", ")
    )]
    DuplicateIds {
        /// The file.
        file: String,
        /// Number of distinct ids that occur more than once.
        count: usize,
        /// The first [`LISTED_IDS_MAX`] of them, in file order.
        ids: Vec<String>,
    },
    /// A link's kind label is not known and not mapped by the caller.
    #[error(
        "{file}: link {link}: unknown link kind {label:?}; known kinds are wifi, wifi-60ghz, vpn, fiber, other (fix the label in the file named by topology.file)"
    )]
    UnknownKind {
        /// The file.
        file: String,
        /// 0-based link index.
        link: usize,
        /// The label.
        label: String,
    },
    /// A link has no kind label and no default kind was given.
    #[error(
        "{file}: link {link} has no kind label (`type`, in NetJSON `properties.type`); set topology.unlabelled_links = \"wifi\" (or another kind) to give such links a kind"
    )]
    Unlabelled {
        /// The file.
        file: String,
        /// 0-based link index.
        link: usize,
    },
    /// The graph has more than one connected component.
    #[error(
        "{file}: the graph is not connected: {components} components of sizes {sizes:?}{}; set topology.components = \"largest\" to drop the smaller ones",
        if *components > sizes.len() { " ..." } else { "" }
    )]
    Disconnected {
        /// The file.
        file: String,
        /// Number of components.
        components: usize,
        /// Their sizes in routers, largest first (at most ten).
        sizes: Vec<usize>,
    },
    /// A latency-matrix file is unusable.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    /// The options do not fit the topology (no router matches a gateway
    /// selector, zero hosts, an invalid loss model ...).
    #[error("invalid topology configuration: {problem}")]
    Config {
        /// What is wrong.
        problem: String,
    },
}

impl TopoError {
    pub(crate) fn config(problem: impl Into<String>) -> TopoError {
        TopoError::Config {
            problem: problem.into(),
        }
    }
}
