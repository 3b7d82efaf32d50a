//! The scenario schema: every key, its unit and its default.
//!
//! Units are written as strings (`"250ms"`, `"20Mbit/s"`, `"4MiB"`);
//! unknown keys are errors. `docs/scenario-reference.md` documents every key
//! with an example; a test checks that the page mentions every key of this
//! schema.

use serde::{Deserialize, Deserializer, Serialize};
use sim_core::units::{Bytes, Duration, Rate};

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, description, seed, durations.
    pub scenario: Meta,
    /// The network the nodes live on.
    pub topology: TopologySpec,
    /// The nodes' access links.
    #[serde(default)]
    pub access: AccessSpec,
    /// How peers come and go (none: always up).
    #[serde(default)]
    pub churn: Option<ChurnSpec>,
    /// The DHT's parameters.
    #[serde(default)]
    pub kademlia: KademliaSpec,
    /// The lookup experiment: lookups both systems serve. A scenario has
    /// one experiment table: `[workload]`, `[storage]` or `[compute]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadSpec>,
    /// The storage experiment: objects written, read and kept by both
    /// systems (see [`StorageSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageSpec>,
    /// The compute experiment: jobs both systems run (see
    /// [`ComputeSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeSpec>,
    /// The central baseline.
    #[serde(default)]
    pub datacenter: DatacenterSpec,
    /// The cost and energy model (see [`CostSpec`]); every key's default
    /// when absent. Checked when the scenario is loaded.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "checked_cost"
    )]
    pub cost: Option<CostSpec>,
    /// What to write.
    #[serde(default)]
    pub output: OutputSpec,
    /// A parameter sweep (`scenarios sweep`): lists of values for dotted
    /// keys, and seeds. Checked by [`crate::sweep::SweepSpec::parse`]; not
    /// part of the resolved scenario of a single run.
    #[serde(default, skip_serializing)]
    pub sweep: Option<toml::Table>,
    /// A search for the cheapest storage parameters that keep a promise
    /// (`scenarios tune`): candidate values, constraints and an objective.
    /// Checked by [`crate::tune::TuneSpec::parse`]; not part of the
    /// resolved scenario of a single run.
    #[serde(default, skip_serializing)]
    pub tune: Option<toml::Table>,
}

impl Scenario {
    /// The cost and energy model: `[cost]` resolved, or every default
    /// without one.
    pub fn cost_model(&self) -> analysis::cost::CostModel {
        self.cost.clone().map(|c| c.0).unwrap_or_default()
    }
}

/// `[cost]`: the cost and energy model of both sides, every key optional
/// (unknown keys are errors). The keys, units, defaults and bounds are
/// those of [`analysis::cost::CostModel`], documented with their sources
/// in `docs/scenario-reference.md`. A scenario whose experiment does not
/// use it accepts it all the same.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CostSpec(pub analysis::cost::CostModel);

/// `[cost]` read and checked: a value out of bounds is an error naming its
/// key (`cost.pue`) and what was expected.
fn checked_cost<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CostSpec>, D::Error> {
    let spec = CostSpec::deserialize(d)?;
    spec.0
        .check()
        .map_err(|e| serde::de::Error::custom(format!("{e}")))?;
    Ok(Some(spec))
}

/// `[scenario]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short name; results go to `out/<name>/`.
    pub name: String,
    /// One line saying what the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Master seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time during which requests are issued and measured.
    pub duration: Duration,
    /// Simulated time before measurement starts (joins, churn settling).
    #[serde(default = "default_warmup")]
    pub warmup: Duration,
}

fn default_seed() -> u64 {
    1
}
fn default_warmup() -> Duration {
    Duration::from_secs(600)
}

/// `[topology]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// `internet` (a synthetic internet: peers on a sphere) or `mesh` (a
    /// city mesh from a file).
    pub kind: TopologyKind,
    /// Number of peers (internet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// `nycmesh`, `freifunk-bremen`, `freifunk-bielefeld`,
    /// `freifunk-berlin`, or a path to a node-link/NetJSON file (mesh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Gateways: `role:NAME`, `name:PATTERN` or `id:ID`, several separated
    /// by commas (mesh; when absent: a bundled mesh's documented gateways,
    /// else the routers with role `supernode`, else those whose name
    /// contains `vpn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<String>,
    /// Routing metric: `hops`, `latency` or `etx` (mesh).
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Link endpoints that no node record declares (Freifunk's `ic-0`):
    /// `add` them as routers without coordinates or `error` (mesh; default
    /// `add`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implicit_nodes: Option<ImplicitNodes>,
    /// Node records sharing an id: `keep-first`, `rename` or `error` (mesh;
    /// default `keep-first`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_ids: Option<DuplicateIds>,
    /// A graph of several connected components: keep the `largest`, `keep`
    /// all (then rejected when the mesh is built) or `error` (mesh; default
    /// `largest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Components>,
    /// Which links are tunnels: `gateway-links` (the gateways are servers;
    /// every link touching one is a tunnel whatever its label) or `labels`
    /// (the gateways are ordinary routers; the file's labels hold). Mesh;
    /// default `labels` for NYC-Mesh-style files (gateways with role
    /// `supernode`), `gateway-links` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnels: Option<Tunnels>,
    /// Kind of links without a kind label (NetJSON files usually have
    /// none): `wifi`, `wifi-60ghz`, `vpn`, `fiber`, `other`, or `error`
    /// (mesh; default `wifi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled_links: Option<UnlabelledLinks>,
    /// Mean time between outages of each gateway's link to the internet
    /// (exponential, each gateway on its own; mesh; none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_mtbf: Option<Duration>,
    /// Mean length of a gateway outage (mesh; default
    /// [`GATEWAY_MTTR_DEFAULT`], see [`TopologySpec::gateway_mttr`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_mttr: Option<Duration>,
}

/// `topology.gateway_mttr` when absent: 2 hours.
pub const GATEWAY_MTTR_DEFAULT: Duration = Duration(2 * 3_600 * 1_000_000_000);

impl TopologySpec {
    /// The mean gateway outage length in effect.
    pub fn gateway_mttr(&self) -> Duration {
        self.gateway_mttr.unwrap_or(GATEWAY_MTTR_DEFAULT)
    }
}

/// `topology.unlabelled_links`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnlabelledLinks {
    /// A radio hop.
    #[default]
    Wifi,
    /// A 60 GHz radio hop.
    #[serde(rename = "wifi-60ghz")]
    Wifi60Ghz,
    /// A tunnel.
    Vpn,
    /// A fibre.
    Fiber,
    /// Cable or unknown.
    Other,
    /// Reject the file.
    Error,
}

/// `topology.implicit_nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImplicitNodes {
    /// Add every undeclared endpoint as a router without coordinates.
    #[default]
    Add,
    /// Reject the file.
    Error,
}

/// `topology.duplicate_ids`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateIds {
    /// Keep the first record of each id.
    #[default]
    KeepFirst,
    /// Keep every record, renaming later ones `x~2`, `x~3`.
    Rename,
    /// Reject the file.
    Error,
}

/// `topology.components`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Components {
    /// Keep the largest connected component.
    #[default]
    Largest,
    /// Keep every component.
    Keep,
    /// Reject the file.
    Error,
}

/// `topology.tunnels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tunnels {
    /// Gateways are servers; every link touching one is a tunnel.
    GatewayLinks,
    /// Gateways are ordinary routers; links keep their labels.
    Labels,
}

/// The kinds of topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopologyKind {
    /// A synthetic internet.
    Internet,
    /// A city mesh from a file.
    Mesh,
}

fn default_metric() -> String {
    "etx".to_string()
}

/// `[access]`: every peer's home link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSpec {
    /// Upload capacity.
    #[serde(default = "default_up")]
    pub uplink: Rate,
    /// Download capacity.
    #[serde(default = "default_down")]
    pub downlink: Rate,
    /// One-way latency of the access link.
    #[serde(default = "default_access_latency")]
    pub latency: Duration,
    /// Datagram jitter, uniform in `[0, jitter]`.
    #[serde(default = "default_jitter")]
    pub jitter: Duration,
}

fn default_up() -> Rate {
    Rate::new(20_000_000).expect("positive")
}
fn default_down() -> Rate {
    Rate::new(100_000_000).expect("positive")
}
fn default_access_latency() -> Duration {
    Duration::from_millis(5)
}
fn default_jitter() -> Duration {
    Duration::from_millis(2)
}

impl Default for AccessSpec {
    fn default() -> Self {
        AccessSpec {
            uplink: default_up(),
            downlink: default_down(),
            latency: default_access_latency(),
            jitter: default_jitter(),
        }
    }
}

/// `[churn]`: alternating up/down sessions (`up` and `down`), or the
/// replay of an availability trace (`trace` and the `trace_*` keys); one
/// or the other. See [`crate::churn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnSpec {
    /// Up-session distribution, e.g. `"weibull(2h, 0.5)"` (sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<String>,
    /// Down-session distribution, e.g. `"exponential(1h)"` (sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
    /// Mean lifetime of a peer in the system (exponential): after it the
    /// peer departs for good and its disk is lost (sessions only; none when
    /// absent). See [`crate::churn`] for what replaces a departed peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Duration>,
    /// An availability trace file to replay instead of sessions (a path
    /// relative to the working folder, like `topology.file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The trace's format: `auto` (from its content; the resolved scenario
    /// names the format found), `fta` or `csv` (trace; default `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_format: Option<TraceFormat>,
    /// Which trace hosts the peers follow: the `first` in the trace's order
    /// or a `random` choice drawn with the scenario's seed (trace; default
    /// `first`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_hosts: Option<TraceHosts>,
    /// A trace with fewer hosts than peers: an `error`, the other peers
    /// `stable` (never fail), or the hosts reused in turn (`wrap`) (trace;
    /// default `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_short: Option<TraceShort>,
}

/// `churn.trace_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// Tell the format from the file's first line.
    #[default]
    Auto,
    /// A Failure Trace Archive `event_trace`.
    Fta,
    /// A `node,up_at,down_at` CSV.
    Csv,
}

/// `churn.trace_hosts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceHosts {
    /// Peer `i` follows the trace's `i`-th host (hosts in increasing id
    /// order).
    #[default]
    First,
    /// The peers follow hosts drawn without replacement with the scenario's
    /// seed.
    Random,
}

/// `churn.trace_short`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceShort {
    /// Refuse a trace with fewer hosts than peers.
    #[default]
    Error,
    /// The peers beyond the trace's hosts are up for the whole run.
    Stable,
    /// Peer `i` follows the `(i mod hosts)`-th host chosen.
    Wrap,
}

/// `[kademlia]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KademliaSpec {
    /// Bucket size and replication.
    #[serde(default = "default_k")]
    pub k: u32,
    /// Parallel requests per lookup.
    #[serde(default = "default_alpha")]
    pub alpha: u32,
    /// Id width in bits (32 to 256).
    #[serde(default = "default_bits")]
    pub id_bits: u32,
    /// Per-RPC timeout.
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout: Duration,
    /// `join` (cold start through bootstrap contacts) or `warm` (routing
    /// tables built from global knowledge; labelled in every output).
    #[serde(default = "default_start")]
    pub start: String,
    /// Keep full buckets spread over their sub-ranges (libtorrent's rule);
    /// false: the paper's rule.
    #[serde(default = "default_bucket_spread")]
    pub bucket_spread: bool,
    /// Refresh lookups per bucket when a node joins (1 in the paper).
    #[serde(default = "default_join_refresh_targets")]
    pub join_refresh_targets: u32,
    /// Most of a joining node's refresh lookups running at once (the next
    /// starts when one ends).
    #[serde(default = "default_join_refresh_parallel")]
    pub join_refresh_parallel: u32,
    /// Most peers one lookup keeps track of, closest first (the farthest
    /// are dropped): k to 10,000.
    #[serde(default = "default_lookup_peers_max")]
    pub lookup_peers_max: u32,
    /// When a lookup stops: `k-closest` (the paper's rule: the k closest
    /// known nodes have all answered) or `closest-answered` (the
    /// `termination_results` closest known nodes have answered, none closer
    /// is pending, and `termination_wait` has passed since).
    #[serde(default = "default_termination")]
    pub termination: String,
    /// With `closest-answered`: how long a lookup goes on after its closest
    /// known nodes answered (to hear from more of the k closest).
    #[serde(default = "default_termination_wait")]
    pub termination_wait: Duration,
    /// With `closest-answered`: how many of the closest known nodes must
    /// have answered (1 to k).
    #[serde(default = "default_termination_results")]
    pub termination_results: u32,
    /// Refresh every bucket not looked up for `refresh_interval` (the
    /// paper's hourly refresh); false: no periodic refresh.
    #[serde(default = "default_refresh")]
    pub refresh: bool,
    /// How long a bucket may go without a lookup before it is refreshed.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: Duration,
    /// A joining node refreshes its buckets (the paper's join); false: it
    /// only looks itself up.
    #[serde(default = "default_refresh_on_join")]
    pub refresh_on_join: bool,
    /// Fill the `exact` and `determined_ns` columns from global knowledge
    /// (an index over the ids, outside the protocol); false leaves them
    /// blank.
    #[serde(default = "default_oracle")]
    pub oracle: bool,
}

fn default_k() -> u32 {
    20
}
fn default_alpha() -> u32 {
    3
}
fn default_bits() -> u32 {
    160
}
fn default_rpc_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_start() -> String {
    "join".to_string()
}
fn default_bucket_spread() -> bool {
    kademlia::Config::default().bucket_spread
}
fn default_join_refresh_targets() -> u32 {
    kademlia::Config::default().join_refresh_targets as u32
}
fn default_join_refresh_parallel() -> u32 {
    kademlia::Config::default().join_refresh_parallel as u32
}
fn default_lookup_peers_max() -> u32 {
    kademlia::Config::default().lookup_peers_max as u32
}
fn default_termination() -> String {
    "closest-answered".to_string()
}
fn default_termination_wait() -> Duration {
    Duration::from_millis(100)
}
fn default_termination_results() -> u32 {
    1
}
fn default_oracle() -> bool {
    true
}
fn default_refresh() -> bool {
    kademlia::Config::default().refresh_interval.is_some()
}
fn default_refresh_interval() -> Duration {
    kademlia::Config::default()
        .refresh_interval
        .unwrap_or(Duration::from_secs(3_600))
}
fn default_refresh_on_join() -> bool {
    kademlia::Config::default().refresh_on_join
}

impl Default for KademliaSpec {
    fn default() -> Self {
        KademliaSpec {
            k: default_k(),
            alpha: default_alpha(),
            id_bits: default_bits(),
            rpc_timeout: default_rpc_timeout(),
            start: default_start(),
            bucket_spread: default_bucket_spread(),
            join_refresh_targets: default_join_refresh_targets(),
            join_refresh_parallel: default_join_refresh_parallel(),
            lookup_peers_max: default_lookup_peers_max(),
            termination: default_termination(),
            termination_wait: default_termination_wait(),
            termination_results: default_termination_results(),
            refresh: default_refresh(),
            refresh_interval: default_refresh_interval(),
            refresh_on_join: default_refresh_on_join(),
            oracle: default_oracle(),
        }
    }
}

/// `[workload]`: lookups of random keys, Poisson per client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Number of clients (the first peers).
    pub clients: u32,
    /// Mean time between a client's requests.
    pub mean_gap: Duration,
}

/// `[storage]`: the storage experiment. Households (the first `clients`
/// peers) write `objects` objects during the write phase, then read them
/// (Zipf popularity) until the end; every peer stores fragments. The data
/// center's side stores the same objects at one site (see
/// [`DatacenterSpec`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Objects written, over all clients (object `i` belongs to client
    /// `i mod clients`).
    #[serde(default = "default_objects")]
    pub objects: u32,
    /// Object sizes: a size (`"4MiB"`), `"uniform(MIN, MAX)"` or
    /// `"lognormal(MEDIAN, SIGMA)"`, drawn per object from the seed.
    #[serde(default = "default_size")]
    pub size: String,
    /// Households that own objects and issue requests (the first peers;
    /// default: every peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    /// Simulated time, from the end of the warm-up, over which the objects
    /// are written (each client's evenly, with a random offset each).
    #[serde(default = "default_write_phase")]
    pub write_phase: Duration,
    /// Reads per client per day after the write phase (Poisson; 0: none).
    #[serde(default = "default_read_rate")]
    pub read_rate: f64,
    /// Zipf exponent of object popularity for reads (0: uniform).
    #[serde(default = "default_zipf")]
    pub zipf: f64,
    /// Disk space each peer offers.
    #[serde(default = "default_capacity")]
    pub capacity: Bytes,
    /// Copies of each object (or `erasure`; default 3 replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u16>,
    /// m-of-n erasure-coded fragments, `"MofN"`, e.g. `"6of10"` (or
    /// `replicas`; `"none"`: replicas, so that a sweep can compare both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<String>,
    /// When lost redundancy is rebuilt: `eager`, `lazy` (below
    /// `repair_threshold`) or `none`.
    #[serde(default)]
    pub repair: RepairSpec,
    /// With `repair = "lazy"`: repair when fewer than this many fragments
    /// (copies) are live, between m and n.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_threshold: Option<u16>,
    /// Delay between noticing a loss and repairing it.
    #[serde(default = "default_repair_delay")]
    pub repair_delay: Duration,
    /// A holder not heard from for this long is presumed gone.
    #[serde(default = "default_detection_timeout")]
    pub detection_timeout: Duration,
    /// Interval between a leader's pings to the other holders.
    #[serde(default = "default_heartbeat")]
    pub heartbeat: Duration,
    /// Interval between audits of the holders' fragments (none when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_interval: Option<Duration>,
    /// Client-side encryption (objects grow by the cipher's 28 bytes; the
    /// holders never see plaintext).
    #[serde(default = "yes")]
    pub encryption: bool,
    /// Where placement answers come from: `dht` (Kademlia lookups) or
    /// `oracle` (global knowledge; labelled in every output).
    #[serde(default)]
    pub placement: PlacementSpec,
    /// How often availability, losses and repair traffic are sampled.
    #[serde(default = "default_storage_sample")]
    pub sample_every: Duration,
}

/// `storage.repair`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepairSpec {
    /// Rebuild every fragment presumed lost.
    #[default]
    Eager,
    /// Rebuild only below `repair_threshold`, then restore all n.
    Lazy,
    /// Never rebuild.
    None,
}

/// `storage.placement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementSpec {
    /// Kademlia lookups.
    #[default]
    Dht,
    /// Global knowledge.
    Oracle,
}

fn default_objects() -> u32 {
    1_000
}
fn default_size() -> String {
    "4MiB".to_string()
}
fn default_write_phase() -> Duration {
    Duration::from_secs(86_400)
}
fn default_read_rate() -> f64 {
    1.0
}
fn default_zipf() -> f64 {
    1.0
}
fn default_capacity() -> Bytes {
    Bytes(100 << 30)
}
fn default_repair_delay() -> Duration {
    Duration::ZERO
}
fn default_detection_timeout() -> Duration {
    ::storage::Config::default().detection_timeout
}
fn default_heartbeat() -> Duration {
    ::storage::Config::default().heartbeat
}
fn default_storage_sample() -> Duration {
    Duration::from_secs(3_600)
}

/// `[compute]`: the compute experiment. Households (the first `clients`
/// peers) submit jobs; every peer works on them with its idle CPU. The data
/// center's side runs the same jobs on `datacenter.servers` servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeSpec {
    /// Households that submit jobs (the first peers).
    #[serde(default = "default_compute_clients")]
    pub clients: u32,
    /// Mean time between a client's submissions (Poisson). Synthetic
    /// workload only (default 1h; not with `swf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_gap: Option<Duration>,
    /// Work of a job, CPU time on the reference machine:
    /// `"exponential(MEAN)"`, `"lognormal(MEAN, SIGMA)"`,
    /// `"constant(MEAN)"` (also `weibull`, `pareto`). Synthetic workload
    /// only (default `"exponential(10min)"`; not with `swf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
    /// A Standard Workload Format log to replay instead of the synthetic
    /// workload (path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swf: Option<String>,
    /// Which client submits an SWF job: `user` (user id modulo clients) or
    /// `round-robin`.
    #[serde(default)]
    pub swf_submitter: SwfSubmitterSpec,
    /// Input bytes of every job.
    #[serde(default = "default_job_input")]
    pub input: Bytes,
    /// Output bytes of every job.
    #[serde(default = "default_job_output")]
    pub output: Bytes,
    /// Time from submission after which a job that has not finished fails
    /// (none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Duration>,
    /// Placement of jobs on volunteers: `random`, `power-of-d`,
    /// `work-stealing` or `pull`.
    #[serde(default)]
    pub policy: PolicySpec,
    /// With `policy = "power-of-d"`: workers probed per job.
    #[serde(default = "default_d")]
    pub d: u32,
    /// Copies of each job run on different volunteers.
    #[serde(default = "default_redundancy")]
    pub redundancy: u16,
    /// Matching answers needed to accept a result.
    #[serde(default = "default_quorum")]
    pub quorum: u16,
    /// Interval between a worker's checkpoints (`"0s"`: none; a worker
    /// that goes down loses all the progress of its running copy).
    #[serde(default = "default_checkpoint")]
    pub checkpoint: Duration,
    /// Fraction of volunteers that return wrong answers.
    #[serde(default)]
    pub faulty: f64,
    /// Whether the faulty volunteers collude (all return the same wrong
    /// answer) or each returns its own.
    #[serde(default)]
    pub colluding: bool,
    /// Slowest volunteer, in multiples of the reference machine (speeds
    /// are drawn uniformly between `speed_min` and `speed_max`).
    #[serde(default = "one")]
    pub speed_min: f64,
    /// Fastest volunteer, in multiples of the reference machine.
    #[serde(default = "one")]
    pub speed_max: f64,
    /// Share of its CPU a volunteer gives (its idle time), 0 to 1.
    #[serde(default = "default_share")]
    pub share: f64,
    /// How often machines, queues and CPU time are sampled.
    #[serde(default = "default_compute_sample")]
    pub sample_every: Duration,
}

/// `compute.swf_submitter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwfSubmitterSpec {
    /// User id modulo the clients.
    #[default]
    User,
    /// Round-robin over the jobs in file order.
    RoundRobin,
}

/// `compute.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySpec {
    /// A random volunteer.
    Random,
    /// The shortest queue of `d` random volunteers.
    #[default]
    PowerOfD,
    /// A random volunteer; idle volunteers steal queued jobs.
    WorkStealing,
    /// Idle volunteers ask submitters for work (BOINC style).
    Pull,
}

/// `datacenter.dispatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DispatchSpec {
    /// One FIFO queue for all servers.
    #[default]
    Shared,
    /// One queue per server; a job joins the shortest.
    ShortestQueue,
}

fn default_compute_clients() -> u32 {
    10
}
fn default_job_input() -> Bytes {
    Bytes(1 << 20)
}
fn default_job_output() -> Bytes {
    Bytes(64 << 10)
}
fn default_d() -> u32 {
    2
}
fn default_redundancy() -> u16 {
    jobs::Config::default().redundancy
}
fn default_quorum() -> u16 {
    jobs::Config::default().quorum
}
fn default_checkpoint() -> Duration {
    jobs::Config::default().checkpoint.unwrap_or(Duration::ZERO)
}
fn one() -> f64 {
    1.0
}
fn default_share() -> f64 {
    1.0
}
fn default_compute_sample() -> Duration {
    Duration::from_secs(600)
}

/// `[datacenter]`: the central baseline (the directory of the lookup
/// experiment, the storage site of the storage experiment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatacenterSpec {
    /// Servers at the site.
    #[serde(default = "default_servers")]
    pub servers: u32,
    /// Time a server spends on one request.
    #[serde(default = "default_service")]
    pub service_time: Duration,
    /// One-way latency from the site to the internet side of the network.
    #[serde(default = "default_wan")]
    pub wan_latency: Duration,
    /// The site's link capacity (each direction).
    #[serde(default = "default_site_rate")]
    pub capacity: Rate,
    /// Mean time between site outages (none when absent).
    #[serde(default)]
    pub mtbf: Option<Duration>,
    /// Mean outage length.
    #[serde(default = "default_mttr")]
    pub mttr: Duration,
    /// How long a client waits for the reply to one attempt of a request.
    #[serde(default = "default_attempt_timeout")]
    pub attempt_timeout: Duration,
    /// How many times a client sends a request again after a silent
    /// attempt (0: never). A request fails after `retries + 1` silent
    /// attempts, `attempt_timeout × (retries + 1)` after it was first sent.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Storage experiment: disks at the site.
    #[serde(default = "default_disks")]
    pub disks: u32,
    /// Storage experiment: bytes each of the site's disks holds.
    #[serde(default = "default_disk_capacity")]
    pub disk_capacity: Bytes,
    /// Storage experiment: annualized failure rate of a disk (failures per
    /// drive-year; Backblaze's fleet in 2024).
    #[serde(default = "default_afr")]
    pub afr: f64,
    /// Storage experiment: time until a failed disk is back with its
    /// fragments.
    #[serde(default = "default_rebuild_time")]
    pub rebuild_time: Duration,
    /// Storage experiment: copies of each object inside the site (or
    /// `erasure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u16>,
    /// Storage experiment: m-of-n fragments inside the site, `"MofN"` (or
    /// `replicas`; default 3 replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<String>,
    /// Compute experiment: speed of each server, in multiples of the
    /// reference machine.
    #[serde(default = "one")]
    pub server_speed: f64,
    /// Compute experiment: `shared` (one FIFO queue) or `shortest-queue`
    /// (one queue per server, a job joins the shortest).
    #[serde(default)]
    pub dispatch: DispatchSpec,
    /// Compute experiment: most jobs waiting at the site; a job that would
    /// wait beyond it is refused.
    #[serde(default = "default_queue_max")]
    pub queue_max: u32,
}

fn default_queue_max() -> u32 {
    datacenter::compute::ComputeSiteConfig::default().queue_max as u32
}
fn default_servers() -> u32 {
    4
}
fn default_service() -> Duration {
    Duration::from_micros(200)
}
fn default_wan() -> Duration {
    Duration::from_millis(15)
}
fn default_site_rate() -> Rate {
    Rate::new(10_000_000_000).expect("positive")
}
fn default_mttr() -> Duration {
    Duration::from_secs(3_600)
}
/// The DHT's default per-RPC timeout: both sides wait as long for one
/// message exchange.
fn default_attempt_timeout() -> Duration {
    Duration::from_secs(1)
}
/// With 1 s attempts, a request is given up 4 s after it was first sent,
/// the deadline the baseline had before it retried (4 RPC timeouts).
fn default_retries() -> u32 {
    3
}
fn default_disks() -> u32 {
    datacenter::storage::StoreSiteConfig::default().disks
}
fn default_disk_capacity() -> Bytes {
    Bytes(datacenter::storage::StoreSiteConfig::default().disk_capacity)
}
fn default_afr() -> f64 {
    datacenter::storage::BACKBLAZE_AFR_2024
}
fn default_rebuild_time() -> Duration {
    Duration::from_secs(24 * 3_600)
}

impl Default for DatacenterSpec {
    fn default() -> Self {
        DatacenterSpec {
            servers: default_servers(),
            service_time: default_service(),
            wan_latency: default_wan(),
            capacity: default_site_rate(),
            mtbf: None,
            mttr: default_mttr(),
            attempt_timeout: default_attempt_timeout(),
            retries: default_retries(),
            disks: default_disks(),
            disk_capacity: default_disk_capacity(),
            afr: default_afr(),
            rebuild_time: default_rebuild_time(),
            replicas: None,
            erasure: None,
            server_speed: 1.0,
            dispatch: DispatchSpec::default(),
            queue_max: default_queue_max(),
        }
    }
}

/// `[output]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Draw plots and write `report.md`.
    #[serde(default = "yes")]
    pub plots: bool,
    /// Sample time series every this often.
    #[serde(default = "default_sample")]
    pub sample_every: Duration,
}

fn yes() -> bool {
    true
}
fn default_sample() -> Duration {
    Duration::from_secs(60)
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            plots: true,
            sample_every: default_sample(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Origin, load};

    const BASE: &str = "[scenario]\nname = \"t\"\nduration = \"1min\"\n\n[topology]\nkind = \"internet\"\nnodes = 10\n";

    fn read(cost: &str) -> Result<Scenario, String> {
        load::<Scenario>(
            &format!("{BASE}\n[cost]\n{cost}"),
            &Origin::File("t.toml".into()),
            &[],
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn cost_is_optional_and_resolves_to_the_model() {
        let s: Scenario = load(BASE, &Origin::File("t.toml".into()), &[]).unwrap();
        assert_eq!(s.cost, None);
        assert_eq!(s.cost_model(), analysis::cost::CostModel::default());
        assert!(!toml::to_string(&s).unwrap().contains("[cost]"));
        let s = read("pue_preset = \"hyperscale\"\nhome_idle_watts = 12\n").unwrap();
        let m = s.cost_model();
        assert_eq!(m.effective_pue(), 1.10);
        assert_eq!(m.home_idle_watts, 12.0);
        assert_eq!(m.home_active_watts, 60.0);
        // The resolved scenario writes every key out and reads back.
        let text = toml::to_string(&s).unwrap();
        assert!(
            text.contains("[cost]") && text.contains("dc_price_per_kwh = "),
            "{text}"
        );
        let again: Scenario = load(&text, &Origin::File("r.toml".into()), &[]).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn bad_cost_values_name_the_key() {
        for (text, words) in [
            (
                "home_idle_watts = -5",
                &["cost.home_idle_watts", "-5", "from 0"][..],
            ),
            ("pue = 0.8", &["cost.pue", "from 1"]),
            ("pue_preset = \"best\"", &["cost.pue_preset", "hyperscale"]),
            (
                "home_allocation = \"half\"",
                &["cost.home_allocation", "marginal", "full"],
            ),
            (
                "network_model = \"bytes\"",
                &["cost.network_model", "baseline-per-byte"],
            ),
            (
                "home_active_watts = 10",
                &["cost.home_active_watts", "cost.home_idle_watts"],
            ),
            ("dc_price_per_kwh = -0.1", &["cost.dc_price_per_kwh"]),
            ("hom_idle_watts = 3", &["cost", "home_idle_watts"]),
        ] {
            let e = read(text).expect_err(text);
            for w in words {
                assert!(e.contains(w), "{text}: {w:?} missing from {e}");
            }
        }
    }
}
