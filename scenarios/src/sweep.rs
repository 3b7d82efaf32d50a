//! Parameter sweeps: a grid of runs over lists of values and seeds, run in
//! parallel, resumable, sharded, merged.
//!
//! A scenario's `[sweep]` table gives lists of values for dotted keys and a
//! number (or list) of seeds:
//!
//! ```toml
//! [sweep]
//! seeds = 3                       # seeds 1, 2, 3 (from scenario.seed), or a list
//! kademlia.k = [8, 20]
//! kademlia.rpc_timeout = ["500ms", "1s"]
//! ```
//!
//! The grid is the product of the value lists (in key order, the last key
//! varying fastest), each point run once per seed. Every run is an ordinary
//! run ([`crate::runner::run_one`]) with its own result directory, so a run
//! that already has a complete result is skipped (resume), and runs are
//! independent (parallel, sharded). The sweep directory
//! `<out>/<name>/sweep-<hash>/` holds the manifest (`sweep.toml`,
//! `provenance.toml`, `runs.csv`) and, once every run is complete, the
//! combined tables, plots and `report.md`. Its hash covers the run ids,
//! which cover the resolved scenarios and the build.

use crate::experiment;
use crate::load::{Origin, Override, load};
use crate::output::{OutputError, Provenance, Staging, hash_pair, io};
use crate::runner::{Identity, RunOptions, RunStatus, identity, is_complete, run_one};
use crate::schema::Scenario;
use analysis::plot;
use analysis::report::Table;
use analysis::stats::{bounded_half_width, summarize};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most seeds per sweep point.
pub const SEEDS_MAX: u64 = 10_000;
/// Most runs in a sweep (points × seeds).
pub const RUNS_MAX: u64 = 100_000;
/// Most bytes of scenario text a sweep parses to check its points (the
/// text once per point).
pub const SWEEP_TEXT_BYTES_MAX: u64 = 1 << 30;
/// Most runs a sweep runs at a time (`--jobs`).
pub const JOBS_MAX: usize = 256;

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted key (`kademlia.k`).
    pub key: String,
    /// Its values, in the order given.
    pub values: Vec<toml::Value>,
}

/// A checked `[sweep]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The seeds each point runs with.
    pub seeds: Vec<u64>,
    /// The swept keys, sorted by key.
    pub axes: Vec<Axis>,
}

/// A `[sweep]` error: the key and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The key, `sweep.…`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn spec_err(key: &str, message: impl Into<String>) -> SpecError {
    SpecError {
        key: format!("sweep.{key}"),
        message: message.into(),
    }
}

/// A value as it appears in tables and labels: strings bare, everything
/// else as TOML.
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut Vec<Axis>,
) -> std::result::Result<(), SpecError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out)?,
            toml::Value::Array(values) => {
                if values.is_empty() {
                    return Err(spec_err(&key, "an empty list: give at least one value"));
                }
                if values.len() as u64 > RUNS_MAX {
                    return Err(spec_err(
                        &key,
                        format!(
                            "{} values: more than {RUNS_MAX}, the most runs a sweep may have",
                            values.len()
                        ),
                    ));
                }
                let mut seen = std::collections::BTreeSet::new();
                for a in values {
                    if !seen.insert(a.to_string()) {
                        return Err(spec_err(
                            &key,
                            format!(
                                "the value {} is listed twice",
                                crate::bounds::clip(&show(a), 60)
                            ),
                        ));
                    }
                }
                out.push(Axis {
                    key,
                    values: values.clone(),
                });
            }
            other => {
                return Err(spec_err(
                    &key,
                    format!(
                        "expected a list of values, e.g. [8, 20], found a {} ({})",
                        other.type_str(),
                        crate::bounds::clip(&show(other), 60)
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl SweepSpec {
    /// Check a `[sweep]` table (`None`: a single point). `base_seed` is the
    /// scenario's seed, the first of `seeds = N`.
    pub fn parse(
        table: Option<&toml::Table>,
        base_seed: u64,
    ) -> std::result::Result<SweepSpec, SpecError> {
        let empty = toml::Table::new();
        let table = table.unwrap_or(&empty);
        let seeds = match table.get("seeds") {
            None => vec![base_seed],
            Some(toml::Value::Integer(n)) if *n >= 1 => {
                if *n as u64 > SEEDS_MAX {
                    return Err(spec_err(
                        "seeds",
                        format!("{n} seeds: at most {SEEDS_MAX} per sweep"),
                    ));
                }
                let last = base_seed.checked_add(*n as u64 - 1);
                if last.is_none_or(|l| l > crate::bounds::SEED_MAX) {
                    return Err(spec_err(
                        "seeds",
                        format!(
                            "{n} seeds from scenario.seed {base_seed} go past the largest seed, {}",
                            crate::bounds::SEED_MAX
                        ),
                    ));
                }
                (0..*n as u64).map(|i| base_seed + i).collect()
            }
            Some(toml::Value::Integer(n)) => {
                return Err(spec_err(
                    "seeds",
                    format!("{n}: expected a number of seeds ≥ 1, or a list of seeds"),
                ));
            }
            Some(toml::Value::Array(list)) => {
                if list.len() as u64 > SEEDS_MAX {
                    return Err(spec_err(
                        "seeds",
                        format!("{} seeds: at most {SEEDS_MAX} per sweep", list.len()),
                    ));
                }
                let mut seeds = Vec::new();
                for v in list {
                    match v {
                        toml::Value::Integer(s) if *s >= 0 => {
                            if seeds.contains(&(*s as u64)) {
                                return Err(spec_err("seeds", format!("seed {s} is listed twice")));
                            }
                            seeds.push(*s as u64)
                        }
                        other => {
                            return Err(spec_err(
                                "seeds",
                                format!(
                                    "{}: expected a non-negative integer seed",
                                    crate::bounds::clip(&show(other), 60)
                                ),
                            ));
                        }
                    }
                }
                if seeds.is_empty() {
                    return Err(spec_err("seeds", "an empty list: give at least one seed"));
                }
                if seeds.len() as u64 > SEEDS_MAX {
                    return Err(spec_err(
                        "seeds",
                        format!("{} seeds: at most {SEEDS_MAX} per sweep", seeds.len()),
                    ));
                }
                seeds
            }
            Some(other) => {
                return Err(spec_err(
                    "seeds",
                    format!(
                        "expected a number of seeds or a list of seeds, found a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let mut rest = table.clone();
        rest.remove("seeds");
        let mut axes = Vec::new();
        flatten("", &rest, &mut axes)?;
        axes.sort_by(|a, b| a.key.cmp(&b.key));
        for w in axes.windows(2) {
            if w[0].key == w[1].key {
                return Err(spec_err(&w[0].key, "swept twice"));
            }
        }
        let mut runs = seeds.len() as u64;
        for a in &axes {
            runs = runs.saturating_mul(a.values.len() as u64);
        }
        if runs > RUNS_MAX {
            let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
            return Err(spec_err(
                if axes.is_empty() {
                    "seeds"
                } else {
                    &axes[0].key
                },
                format!(
                    "{} values × {} seeds make more than {RUNS_MAX} runs, the most a sweep may have",
                    sizes.join(" × "),
                    seeds.len()
                ),
            ));
        }
        for a in &axes {
            if a.key == "scenario.seed" {
                return Err(spec_err(
                    &a.key,
                    "sweep seeds with `seeds = N` or `seeds = [..]`",
                ));
            }
            if a.key == "scenario.name" {
                return Err(spec_err(
                    &a.key,
                    "the name names the sweep; it cannot be swept",
                ));
            }
        }
        Ok(SweepSpec { seeds, axes })
    }

    /// Number of runs.
    pub fn runs(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product::<usize>() * self.seeds.len()
    }

    /// "3 values of kademlia.k × 2 seeds = 6 runs".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .axes
            .iter()
            .map(|a| format!("{} values of {}", a.values.len(), a.key))
            .collect();
        parts.push(format!(
            "{} seed{}",
            self.seeds.len(),
            if self.seeds.len() == 1 { "" } else { "s" }
        ));
        format!("{} = {} runs", parts.join(" × "), self.runs())
    }

    /// The table as TOML, keys quoted (`"kademlia.k" = [8, 20]`).
    fn to_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert(
            "seeds".into(),
            toml::Value::Array(
                self.seeds
                    .iter()
                    .map(|s| toml::Value::Integer(*s as i64))
                    .collect(),
            ),
        );
        for a in &self.axes {
            t.insert(a.key.clone(), toml::Value::Array(a.values.clone()));
        }
        t
    }
}

/// One run of the grid.
#[derive(Debug, Clone)]
pub struct Point {
    /// Position in the grid (points in order, seeds fastest).
    pub index: usize,
    /// One value per axis.
    pub values: Vec<toml::Value>,
    /// The seed.
    pub seed: u64,
    /// The resolved scenario of this run.
    pub scenario: Scenario,
    /// Its run id and directory.
    pub id: Identity,
}

impl Point {
    /// `kademlia.k=8, seed 2`.
    pub fn label(&self, axes: &[Axis]) -> String {
        let values: Vec<String> = self.values.iter().map(show).collect();
        let keys = axes.iter().map(|a| a.key.as_str());
        let mut s = assignments(keys, &values);
        if !s.is_empty() {
            s.push_str(", ");
        }
        s + &format!("seed {}", self.seed)
    }
}

/// `kademlia.k=8, kademlia.alpha=3`.
fn assignments<'a>(keys: impl Iterator<Item = &'a str>, values: &[String]) -> String {
    keys.zip(values)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What identifies a sweep and its runs: written into the sweep directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The scenario's name (`<out>/<name>/sweep-<hash>/`).
    pub name: String,
    /// A scenario file that reproduces the sweep: the resolved base
    /// scenario and its `[sweep]` table.
    pub sweep_toml: String,
    /// The build that ran it.
    pub provenance: String,
    /// `index,<axes…>,seed,run`.
    pub runs_csv: String,
}

impl Manifest {
    /// Hex SHA-256 of the runs (whose ids cover scenarios and build) and
    /// the provenance.
    pub fn hash(&self) -> String {
        hash_pair(&self.runs_csv, &self.provenance)
    }
    /// The sweep directory relative to the output root.
    pub fn rel_dir(&self) -> PathBuf {
        Path::new(&self.name).join(format!("sweep-{}", &self.hash()[..12]))
    }

    /// Read the manifest of sweep directory `dir`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let get = |f: &str| {
            let p = dir.join(f);
            std::fs::read_to_string(&p).with_context(|| {
                format!("{}: not a sweep directory (cannot read {f})", dir.display())
            })
        };
        let sweep_toml = get("sweep.toml")?;
        let s: Scenario = load(
            &sweep_toml,
            &Origin::File(dir.join("sweep.toml").display().to_string()),
            &[],
        )
        .map_err(|e| anyhow!("{e}"))?;
        Ok(Manifest {
            name: s.scenario.name,
            sweep_toml,
            provenance: get("provenance.toml")?,
            runs_csv: get("runs.csv")?,
        })
    }

    /// The rows of `runs.csv`: (axis names, rows of (index, values, seed,
    /// run directory)).
    fn rows(&self) -> Result<(Vec<String>, Vec<RunRow>)> {
        let mut r = csv::Reader::from_reader(self.runs_csv.as_bytes());
        let headers: Vec<String> = r.headers()?.iter().map(String::from).collect();
        let n = headers.len();
        if n < 3 || headers[0] != "index" || headers[n - 2] != "seed" || headers[n - 1] != "run" {
            bail!(
                "runs.csv: unexpected columns {} (expected index,<swept keys…>,seed,run)",
                analysis::cut(&headers.join(","))
            );
        }
        let axes = headers[1..n - 2].to_vec();
        let mut rows = Vec::new();
        for (line, rec) in r.records().enumerate() {
            let rec = rec.with_context(|| format!("runs.csv: line {}", line + 2))?;
            let f: Vec<String> = rec.iter().map(String::from).collect();
            rows.push(RunRow {
                values: f[1..n - 2].to_vec(),
                seed: f[n - 2].clone(),
                run: PathBuf::from(&f[n - 1]),
            });
        }
        Ok((axes, rows))
    }
}

struct RunRow {
    values: Vec<String>,
    seed: String,
    run: PathBuf,
}

/// A scenario's sweep, resolved: every run's scenario and id.
pub struct Grid {
    /// The checked `[sweep]` table.
    pub spec: SweepSpec,
    /// The runs, in grid order.
    pub points: Vec<Point>,
    /// What identifies the sweep.
    pub manifest: Manifest,
}

/// Resolve the sweep of a scenario text: load it with `sets` (command-line
/// overrides, applied to every run), then every point with its values.
/// Every point is checked before anything runs.
pub fn grid(
    text: &str,
    origin: &Origin,
    sets: &[Override],
    seed: Option<u64>,
) -> Result<Grid, String> {
    let mut base: Scenario = load(text, origin, sets).map_err(|e| e.to_string())?;
    if let Some(seed) = seed {
        base.scenario.seed = seed;
    }
    let spec = SweepSpec::parse(base.sweep.as_ref(), base.scenario.seed).map_err(|e| {
        format!(
            "{origin}: key `{}`: {}",
            crate::bounds::clip(&e.key, 100),
            crate::load::clip_message(&e.message)
        )
    })?;
    for o in sets {
        let k = o.path.join(".");
        if spec.axes.iter().any(|a| a.key == k) {
            return Err(format!(
                "--set {}: `{}` is swept in {origin}'s [sweep] table; change the list there",
                crate::bounds::clip(&o.text, 100),
                crate::bounds::clip(&k, 100)
            ));
        }
    }
    // Every point parses the scenario text again: bound the total.
    let points = spec.runs() / spec.seeds.len().max(1);
    if (points as u64).saturating_mul(text.len() as u64) > SWEEP_TEXT_BYTES_MAX {
        return Err(format!(
            "{origin}: key `sweep`: {points} points of a {}-byte scenario are more than {SWEEP_TEXT_BYTES_MAX} bytes to check; shorten the file or the grid",
            text.len()
        ));
    }
    let prov = Provenance::current();
    let mut combos: Vec<Vec<toml::Value>> = vec![Vec::new()];
    for a in &spec.axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                a.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let mut resolver = Resolver::default();
    let mut points = Vec::with_capacity(spec.runs());
    for values in combos {
        let mut overrides = sets.to_vec();
        for (a, v) in spec.axes.iter().zip(&values) {
            overrides.push(Override {
                path: a.key.split('.').map(String::from).collect(),
                value: v.clone(),
                text: format!("{}={}", a.key, show(v)),
            });
        }
        let shown: Vec<String> = values.iter().map(show).collect();
        let label = assignments(spec.axes.iter().map(|a| a.key.as_str()), &shown);
        let s: Scenario = load(text, origin, &overrides)
            .map_err(|e| format!("sweep point {}: {e}", crate::bounds::clip(&label, 200)))?;
        for &seed in &spec.seeds {
            let (scenario, id) = resolver.resolve(&s, seed, origin, &label, &prov)?;
            points.push(Point {
                index: points.len(),
                values: values.clone(),
                seed,
                scenario,
                id,
            });
        }
    }
    let mut seen = BTreeMap::new();
    for p in &points {
        if let Some(q) = seen.insert(p.id.run_id.clone(), p.index) {
            return Err(format!(
                "{origin}: sweep points {} and {} are the same scenario (some values mean the same thing)",
                crate::bounds::clip(&points[q].label(&spec.axes), 200),
                crate::bounds::clip(&p.label(&spec.axes), 200)
            ));
        }
    }
    let mut runs = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["index".to_string()];
    header.extend(spec.axes.iter().map(|a| a.key.clone()));
    header.extend(["seed".to_string(), "run".to_string()]);
    runs.write_record(&header).map_err(|e| e.to_string())?;
    for p in &points {
        let mut rec = vec![p.index.to_string()];
        rec.extend(p.values.iter().map(show));
        rec.push(p.seed.to_string());
        rec.push(path_str(&p.id.rel_dir));
        runs.write_record(&rec).map_err(|e| e.to_string())?;
    }
    let runs_csv = String::from_utf8(runs.into_inner().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let mut b = base.clone();
    b.sweep = None;
    let mut sweep_toml = String::from(
        "# The resolved base scenario and its sweep: `scenarios sweep` on this file reruns it.\n",
    );
    sweep_toml.push_str(&toml::to_string(&b).map_err(|e| e.to_string())?);
    let mut wrap = toml::Table::new();
    wrap.insert("sweep".into(), toml::Value::Table(spec.to_table()));
    sweep_toml.push('\n');
    sweep_toml.push_str(&toml::to_string(&wrap).map_err(|e| e.to_string())?);
    let manifest = Manifest {
        name: base.scenario.name.clone(),
        sweep_toml,
        provenance: prov.to_toml(),
        runs_csv,
    };
    Ok(Grid {
        spec,
        points,
        manifest,
    })
}

/// Resolves the runs of a grid as `validate` does, building each distinct
/// network and reading each distinct churn trace once.
#[derive(Default)]
pub struct Resolver {
    networks: BTreeMap<String, (u32, crate::schema::TopologySpec)>,
    churns: BTreeMap<String, Option<crate::schema::ChurnSpec>>,
}

impl Resolver {
    /// The run of the loaded point `s` (values set, `[sweep]` and `[tune]`
    /// dropped) with `seed`: checked and resolved, with its identity.
    /// `label` names the point in errors.
    pub fn resolve(
        &mut self,
        s: &Scenario,
        seed: u64,
        origin: &Origin,
        label: &str,
        prov: &Provenance,
    ) -> Result<(Scenario, Identity), String> {
        let mut s = s.clone();
        s.scenario.seed = seed;
        s.sweep = None;
        s.tune = None;
        let named = |e: experiment::BuildError| {
            format!(
                "{origin}: sweep point {}: key `{}`: {}",
                crate::bounds::clip(label, 200),
                e.field,
                crate::load::clip_message(&e.message)
            )
        };
        experiment::check(&s).map_err(named)?;
        // The checks of `validate`: the network is built once per
        // distinct network (the seed does not change whether it can be
        // built), what depends on its size is checked for every run.
        let net_key = format!("{:?}", (&s.topology, &s.access, &s.datacenter));
        let (peers, topology) = match self.networks.get(&net_key) {
            Some(known) => known.clone(),
            None => {
                let peers = experiment::topology_peers(&s).map_err(named)?;
                let topology = experiment::resolved_topology(&s.topology).map_err(named)?;
                self.networks.insert(net_key, (peers, topology.clone()));
                (peers, topology)
            }
        };
        // A churn trace is read once per distinct `[churn]`, network
        // size and simulated time (its checks do not depend on the
        // seed; its random mapping does, and is drawn at run time).
        let churn_key = format!(
            "{:?}",
            (
                &s.churn,
                peers,
                s.scenario.warmup,
                s.scenario.duration,
                experiment::clients(&s, peers)
            )
        );
        let churn = match self.churns.get(&churn_key) {
            Some(known) => known.clone(),
            None => {
                let churn = experiment::check_peers(&s, peers).map_err(named)?;
                self.churns.insert(churn_key, churn.clone());
                churn
            }
        };
        // As `validate` resolves it: a point run on its own is the same
        // scenario, with the same run id.
        s.topology = topology;
        s.churn = churn;
        experiment::resolve_clients(&mut s, peers);
        let id = identity(&s, prov).map_err(|e| e.to_string())?;
        Ok((s, id))
    }
}

/// Paths in manifests use `/` on every platform.
fn path_str(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `i/n`, 1-based: shard `i` of `n` runs the points whose index is
/// `i − 1` modulo `n` (round robin, so each shard gets a share of every
/// part of the grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub i: usize,
    /// Number of shards.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("--shard {s:?}: expected I/N with 1 ≤ I ≤ N, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { i, n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.i, self.n)
    }
}

impl Shard {
    /// Whether point `index` belongs to this shard.
    pub fn has(&self, index: usize) -> bool {
        index % self.n == self.i - 1
    }
}

/// Options of a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The output root.
    pub out: PathBuf,
    /// Runs at a time.
    pub jobs: usize,
    /// Only this slice of the grid (then no combined output: see [`merge`]).
    pub shard: Option<Shard>,
    /// Rerun runs that have complete results.
    pub force: bool,
    /// No progress bar, no per-run lines.
    pub quiet: bool,
    /// Kill the process (abort) while writing the run that starts after
    /// this many runs of this invocation have finished (tests).
    pub die_after_runs: Option<usize>,
}

/// What a sweep did.
#[derive(Debug)]
pub struct SweepOutcome {
    /// Runs simulated now.
    pub ran: usize,
    /// Runs skipped because complete results existed.
    pub skipped: usize,
    /// The sweep directory.
    pub dir: PathBuf,
    /// Whether the combined output was written (not for a shard).
    pub combined: bool,
}

/// Write `bytes` to `path` atomically (a unique temporary file beside it,
/// then a rename), unless it already holds exactly these bytes. Safe when
/// several processes (shards) write the same manifest at once.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    if std::fs::read(path).is_ok_and(|b| b == bytes) {
        return Ok(());
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    // Unique among processes on several machines sharing the folder: the
    // process id alone may repeat across machines, the clock's nanoseconds
    // make a collision of both negligible.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = parent.join(format!(
        ".{}.{}-{nanos}-{}.tmp",
        path.file_name().map_or("f".into(), |n| n.to_string_lossy()),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes).map_err(io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("renaming", &tmp))
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), OutputError> {
    write_atomic(&dir.join("sweep.toml"), m.sweep_toml.as_bytes())?;
    write_atomic(&dir.join("provenance.toml"), m.provenance.as_bytes())?;
    write_atomic(&dir.join("runs.csv"), m.runs_csv.as_bytes())
}

/// Run the grid (or one shard of it), skipping complete runs; then, for a
/// whole sweep, write the combined output.
pub fn run_sweep(grid: &Grid, opts: &SweepOptions) -> Result<SweepOutcome> {
    let sweep_dir = crate::output::inside(&opts.out, &grid.manifest.rel_dir())?;
    write_manifest(&sweep_dir, &grid.manifest)?;
    let selected: Vec<&Point> = grid
        .points
        .iter()
        .filter(|p| opts.shard.is_none_or(|s| s.has(p.index)))
        .collect();
    let (ran, skipped) = run_points(&selected, &grid.spec.axes, opts)?;
    if opts.shard.is_some() {
        return Ok(SweepOutcome {
            ran,
            skipped,
            dir: sweep_dir,
            combined: false,
        });
    }
    let dir = combine(&grid.manifest, std::slice::from_ref(&opts.out), &opts.out)?;
    Ok(SweepOutcome {
        ran,
        skipped,
        dir,
        combined: true,
    })
}

/// Run `selected` (with `opts.jobs` at a time), skipping those with a
/// complete result unless `opts.force`; `axes` label them. Returns (runs
/// simulated, runs skipped). A failed run fails the whole call once the
/// others have finished.
pub fn run_points(
    selected: &[&Point],
    axes: &[Axis],
    opts: &SweepOptions,
) -> Result<(usize, usize)> {
    let (pending, done): (Vec<&Point>, Vec<&Point>) = selected.iter().partition(|p| {
        opts.force
            || !crate::output::inside(&opts.out, &p.id.rel_dir).is_ok_and(|d| is_complete(&d))
    });
    let skipped = done.len();

    let bar = if opts.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(selected.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:40}] {pos}/{len} runs (elapsed {elapsed}, eta {eta}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b.set_prefix("sweep");
        b.set_position(skipped as u64);
        b
    };
    let say = |line: String| {
        if opts.quiet {
        } else if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    };
    if skipped > 0 {
        say(format!(
            "{skipped} of {} runs already complete (same scenario and build): skipped",
            selected.len()
        ));
    }
    let finished = AtomicUsize::new(0);
    let failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let total = selected.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.clamp(1, pending.len().max(1)).min(JOBS_MAX))
        .build()
        .context("starting the worker threads")?;
    pool.install(|| {
        pending.par_iter().for_each(|p| {
            let die = opts
                .die_after_runs
                .is_some_and(|k| finished.load(Ordering::SeqCst) >= k);
            let ro = RunOptions {
                out: opts.out.clone(),
                force: opts.force,
                abort_after_events: None,
                die_while_writing: die,
                row_buffer: None,
            };
            let wall = std::time::Instant::now();
            match run_one(&p.scenario, &ro, &mut |_, _, _, _| {}) {
                Ok(status) => {
                    let n = finished.fetch_add(1, Ordering::SeqCst) + 1 + skipped;
                    let what = match status {
                        RunStatus::Done { .. } => "done",
                        RunStatus::Existing { .. } => "complete already",
                    };
                    say(format!(
                        "[{n}/{total}] {}: {what} in {:.1} s",
                        p.label(axes),
                        wall.elapsed().as_secs_f64()
                    ));
                }
                Err(e) => {
                    say(format!("{}: failed: {e:#}", p.label(axes)));
                    failures
                        .lock()
                        .expect("no panics while locked")
                        .push((p.index, format!("{e:#}")));
                }
            }
            bar.inc(1);
        })
    });
    bar.finish_and_clear();
    let mut failures = failures.into_inner().expect("no panics while locked");
    if !failures.is_empty() {
        failures.sort();
        let (i, e) = &failures[0];
        bail!(
            "{} of {} runs failed (the others are complete; rerun to resume); first: {}: {e}",
            failures.len(),
            pending.len(),
            selected
                .iter()
                .find(|p| p.index == *i)
                .map_or(String::new(), |p| p.label(axes))
        );
    }
    Ok((pending.len(), skipped))
}

/// Combine the shard outputs in sweep directories `dirs` (all of the same
/// sweep and build) into `out` (default: the output root of the first):
/// copy runs found elsewhere into it, and write the combined output.
pub fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<PathBuf> {
    let Some(first) = dirs.first() else {
        bail!("merge: no sweep directories given");
    };
    let m = Manifest::read(first)?;
    for d in &dirs[1..] {
        let other = Manifest::read(d)?;
        if other.provenance != m.provenance {
            bail!(
                "refusing to merge: {} and {} were produced by different builds\n  {}: {}\n  {}: {}",
                first.display(),
                d.display(),
                first.display(),
                m.provenance.replace('\n', "; ").trim_end_matches("; "),
                d.display(),
                other.provenance.replace('\n', "; ").trim_end_matches("; ")
            );
        }
        if other.runs_csv != m.runs_csv || other.sweep_toml != m.sweep_toml {
            bail!(
                "refusing to merge: {} and {} are different sweeps (their sweep.toml or runs.csv differ)",
                first.display(),
                d.display()
            );
        }
    }
    // A sweep directory is `<root>/<name>/sweep-<hash>`.
    let root_of = |d: &Path| -> Result<PathBuf> {
        let abs = d
            .canonicalize()
            .with_context(|| format!("{}: cannot resolve", d.display()))?;
        abs.parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .ok_or_else(|| anyhow!("{}: not inside an output root", d.display()))
    };
    let roots: Vec<PathBuf> = dirs.iter().map(|d| root_of(d)).collect::<Result<_>>()?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => roots[0].clone(),
    };
    combine(&m, &roots, &out)
}

/// Check that every run of `m` is complete under one of `roots`, and made
/// by the manifest's scenario and build; copy it into `out` if it is not
/// there; write the combined output into `out`'s sweep directory.
fn combine(m: &Manifest, roots: &[PathBuf], out: &Path) -> Result<PathBuf> {
    let (axes, rows) = m.rows()?;
    let base: Scenario =
        load(&m.sweep_toml, &Origin::File("sweep.toml".into()), &[]).map_err(|e| anyhow!("{e}"))?;
    let mut missing = Vec::new();
    let mut found = Vec::with_capacity(rows.len());
    for r in &rows {
        match roots
            .iter()
            .filter_map(|root| crate::output::inside(root, &r.run).ok())
            .find(|d| is_complete(d))
        {
            Some(d) => found.push(d),
            None => missing.push(r),
        }
    }
    if let Some(r) = missing.first() {
        bail!(
            "{} of {} runs have no complete result (first: {}, seed {} → {}); run the missing shards, then merge again",
            missing.len(),
            rows.len(),
            assignments(axes.iter().map(String::as_str), &r.values),
            r.seed,
            r.run.display()
        );
    }
    let prov_text = &m.provenance;
    let sweep_axes = SweepSpec::parse(base.sweep.as_ref(), base.scenario.seed)
        .map_err(|e| anyhow!("sweep.toml: key `{}`: {}", e.key, e.message))?
        .axes;
    for (r, d) in rows.iter().zip(&found) {
        let read = |f: &str| {
            std::fs::read_to_string(d.join(f))
                .with_context(|| format!("{}: cannot read {f}", d.display()))
        };
        let prov = read("provenance.toml")?;
        if &prov != prov_text {
            bail!(
                "refusing to merge: {} was produced by a different build than the sweep",
                d.display()
            );
        }
        let scenario = read("scenario.toml")?;
        let hash = hash_pair(&scenario, &prov);
        let id = r.run.file_name().map(|n| n.to_string_lossy().into_owned());
        if !id.is_some_and(|id| id.ends_with(&hash[..12])) {
            bail!(
                "refusing to merge: {}'s scenario.toml is not the scenario its run id names",
                d.display()
            );
        }
        analysis::manifest::verify(d).map_err(|e| anyhow!("refusing to merge: {e}"))?;
        check_row(r, &axes, &sweep_axes, &scenario, d)?;
    }
    // Bring every run under `out`.
    for (r, d) in rows.iter().zip(&found) {
        let target = crate::output::inside(out, &r.run)?;
        if !is_complete(&target) {
            let stage = Staging::new(target)?;
            copy_tree(d, stage.dir())?;
            stage.commit()?;
        }
    }
    let stage = Staging::new(crate::output::inside(out, &m.rel_dir())?)?;
    stage.write("sweep.toml", &m.sweep_toml)?;
    stage.write("provenance.toml", &m.provenance)?;
    stage.write("runs.csv", &m.runs_csv)?;
    write_combined(&stage, &base, &axes, &rows, out)?;
    Ok(stage.commit()?)
}

/// A `runs.csv` row must name a run of its own point and seed: setting the
/// row's values and seed on the run's `scenario.toml` must change nothing.
/// (The run id covers the scenario and the build, and the manifest the
/// files, so this ties every combined value to the point it is shown at.)
fn check_row(
    r: &RunRow,
    axes: &[String],
    sweep_axes: &[Axis],
    scenario: &str,
    dir: &Path,
) -> Result<()> {
    // Values read back from runs.csv may be anything: quoted cut short.
    use analysis::cut;
    let label = || {
        let values: Vec<String> = r.values.iter().map(|v| cut(v)).collect();
        let mut l = assignments(axes.iter().map(String::as_str), &values);
        if !l.is_empty() {
            l.push_str(", ");
        }
        l + &format!("seed {}", cut(&r.seed))
    };
    let mut overrides = Vec::with_capacity(axes.len() + 1);
    for (key, v) in axes.iter().zip(&r.values) {
        let typed = sweep_axes
            .iter()
            .find(|a| &a.key == key)
            .and_then(|a| a.values.iter().find(|x| show(x) == *v))
            .ok_or_else(|| {
                anyhow!(
                    "refusing to merge: runs.csv row {}: {key}={} is not a value the sweep's [sweep] table lists",
                    label(),
                    cut(v)
                )
            })?;
        overrides.push(Override {
            path: key.split('.').map(String::from).collect(),
            value: typed.clone(),
            text: format!("{key}={v}"),
        });
    }
    let seed: i64 = r.seed.parse().map_err(|_| {
        anyhow!(
            "refusing to merge: runs.csv row {}: seed {:?} is not an integer",
            label(),
            cut(&r.seed)
        )
    })?;
    overrides.push(Override {
        path: vec!["scenario".into(), "seed".into()],
        value: toml::Value::Integer(seed),
        text: format!("scenario.seed={seed}"),
    });
    let origin = Origin::File(dir.join("scenario.toml").display().to_string());
    let expected = load::<Scenario>(scenario, &origin, &overrides)
        .map_err(|e| anyhow!("{e}"))
        .and_then(|s| Ok(toml::to_string(&s)?))
        .with_context(|| format!("refusing to merge: runs.csv row {}", label()))?;
    if expected != scenario {
        let key = cut(&first_difference(&expected, scenario).unwrap_or_default());
        bail!(
            "refusing to merge: runs.csv names {} for {}, but that run's scenario.toml is another point or seed (key `{key}` differs)",
            dir.display(),
            label()
        );
    }
    Ok(())
}

/// The first dotted key (in key order) whose value differs between two
/// TOML texts.
fn first_difference(a: &str, b: &str) -> Option<String> {
    let flat = |text: &str| analysis::toml_leaves(text).unwrap_or_default();
    let (fa, fb) = (flat(a), flat(b));
    fa.keys()
        .chain(fb.keys())
        .filter(|k| fa.get(*k) != fb.get(*k))
        .min()
        .cloned()
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

const SUMMARY_COLS: [&str; 6] = [
    "p2p",
    "datacenter",
    "difference",
    "diff_ci95_low",
    "diff_ci95_high",
    "n",
];

fn fmt6(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        String::new()
    }
}

/// The summaries over the seeds of `[p2p, datacenter, difference]`. A rate
/// (`%`) is bounded: an interval that would leave [0, 100] (±100 for the
/// difference) is dropped (NaN: too few seeds for a symmetric interval).
fn seed_summaries(v: &[Vec<f64>; 3], unit: &str) -> Vec<analysis::stats::Summary> {
    v.iter()
        .enumerate()
        .map(|(k, x)| {
            let mut s = summarize(x);
            if unit == "%" {
                let lo = if k == 2 { -100.0 } else { 0.0 };
                s.ci95 = bounded_half_width(s.mean, s.ci95, lo, 100.0);
            }
            s
        })
        .collect()
}

fn csv_text(records: &[Vec<String>]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r)?;
    }
    Ok(String::from_utf8(
        w.into_inner().map_err(|e| anyhow!("{e}"))?,
    )?)
}

/// The combined tables, plots and report of a complete sweep.
fn write_combined(
    stage: &Staging,
    base: &Scenario,
    axes: &[String],
    rows: &[RunRow],
    out: &Path,
) -> Result<()> {
    // metric → unit, and rows of (run row, summary values).
    let mut metrics: Vec<(String, String)> = Vec::new();
    let mut long: Vec<Vec<String>> = Vec::new();
    let mut head: Vec<String> = axes.to_vec();
    head.extend(["seed", "metric", "unit"].map(String::from));
    head.extend(SUMMARY_COLS.map(String::from));
    long.push(head);
    let mut per_metric: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    // (point values, metric) → per-seed [p2p, datacenter, difference].
    let mut by_point: BTreeMap<(Vec<String>, String), [Vec<f64>; 3]> = BTreeMap::new();
    let mut point_order: Vec<Vec<String>> = Vec::new();
    for r in rows {
        if !point_order.contains(&r.values) {
            point_order.push(r.values.clone());
        }
        let t = Table::read(&out.join(&r.run).join("summary.csv"))?;
        let (cm, cu) = (t.col("metric")?, t.col("unit")?);
        let cols: Vec<usize> = SUMMARY_COLS
            .iter()
            .map(|c| t.col(c))
            .collect::<Result<_, _>>()?;
        for row in t.rows() {
            let (metric, unit) = (row[cm].clone(), row[cu].clone());
            if !metrics.iter().any(|(m, _)| *m == metric) {
                metrics.push((metric.clone(), unit.clone()));
            }
            let vals: Vec<String> = cols.iter().map(|&c| row[c].clone()).collect();
            let mut rec = r.values.clone();
            rec.extend([r.seed.clone(), metric.clone(), unit.clone()]);
            rec.extend(vals.iter().cloned());
            long.push(rec);
            let mut rec = r.values.clone();
            rec.push(r.seed.clone());
            rec.push(unit.clone());
            rec.extend(vals.iter().cloned());
            per_metric.entry(metric.clone()).or_default().push(rec);
            let num = |s: &String| s.parse::<f64>().unwrap_or(f64::NAN);
            let e = by_point
                .entry((r.values.clone(), metric.clone()))
                .or_default();
            for (k, v) in vals.iter().take(3).enumerate() {
                e[k].push(num(v));
            }
        }
    }
    stage.write("summary.csv", csv_text(&long)?)?;
    for (metric, recs) in &per_metric {
        let mut head: Vec<String> = axes.to_vec();
        head.extend(["seed", "unit"].map(String::from));
        head.extend(SUMMARY_COLS.map(String::from));
        let mut all = vec![head];
        all.extend(recs.iter().cloned());
        stage.write(&format!("metrics/{metric}.csv"), csv_text(&all)?)?;
    }
    let mut across = vec![{
        let mut h: Vec<String> = axes.to_vec();
        h.extend(
            [
                "metric",
                "unit",
                "seeds",
                "p2p_mean",
                "p2p_ci95",
                "datacenter_mean",
                "datacenter_ci95",
                "difference_mean",
                "difference_ci95",
            ]
            .map(String::from),
        );
        h
    }];
    for (metric, unit) in &metrics {
        for p in &point_order {
            let Some(v) = by_point.get(&(p.clone(), metric.clone())) else {
                continue;
            };
            let s = seed_summaries(v, unit);
            let mut rec = p.clone();
            rec.extend([metric.clone(), unit.clone(), v[0].len().to_string()]);
            for x in &s {
                rec.push(fmt6(x.mean));
                rec.push(fmt6(x.ci95));
            }
            across.push(rec);
        }
    }
    stage.write("across-seeds.csv", csv_text(&across)?)?;

    // The report, and a bar chart per metric across the grid.
    let seeds = rows.len() / point_order.len().max(1);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Sweep: {}\n\n{}\n",
        base.scenario.name, base.scenario.description
    );
    let _ = writeln!(
        md,
        "{} points × {} seed{} = {} runs. Swept: {}. Each value is the mean over the seeds, with its 95 % confidence interval (Student t over seeds) when there are at least two; for rates (%), only when it stays within bounds (else too few seeds for it). A blank has no measured value; (n = …) counts the seeds with one when some have none.\n",
        point_order.len(),
        seeds,
        if seeds == 1 { "" } else { "s" },
        rows.len(),
        if axes.is_empty() {
            "nothing (seeds only)".to_string()
        } else {
            axes.iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let label = |p: &[String]| -> String {
        if p.is_empty() {
            "all seeds".to_string()
        } else {
            axes.iter()
                .zip(p)
                .map(|(a, v)| format!("{}={v}", a.rsplit('.').next().unwrap_or(a)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    // Blank without a value; the count of seeds with a value when some
    // seeds measured nothing.
    let ci = |s: &analysis::stats::Summary| {
        let v = if !s.mean.is_finite() {
            String::new()
        } else if s.ci95.is_finite() {
            format!("{:.3} ± {:.3}", s.mean, s.ci95)
        } else {
            format!("{:.3}", s.mean)
        };
        if s.n < seeds {
            format!("{v} (n = {})", s.n).trim_start().to_string()
        } else {
            v
        }
    };
    let systems: Vec<String> = ["P2P (Kademlia)", "data center"].map(String::from).to_vec();
    for (metric, unit) in &metrics {
        let _ = writeln!(md, "## {metric} ({unit})\n");
        let _ = writeln!(md, "| point | P2P | data center | difference |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        let mut groups: Vec<plot::BarGroup> = Vec::new();
        for p in &point_order {
            let Some(v) = by_point.get(&(p.clone(), metric.clone())) else {
                continue;
            };
            let s = seed_summaries(v, unit);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                label(p),
                ci(&s[0]),
                ci(&s[1]),
                ci(&s[2])
            );
            let bar = |s: &analysis::stats::Summary| {
                (
                    s.mean,
                    s.ci95
                        .is_finite()
                        .then_some((s.mean - s.ci95, s.mean + s.ci95)),
                )
            };
            groups.push((label(p), vec![bar(&s[0]), bar(&s[1])]));
        }
        if base.output.plots {
            let path = stage.dir().join("plots").join(metric);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            plot::bars(
                &path,
                &format!("{metric} across the sweep"),
                &format!("{metric} ({unit})"),
                &systems,
                &groups,
            )?;
            let _ = writeln!(md, "\n![{metric}](plots/{metric}.svg)\n");
        } else {
            let _ = writeln!(md);
        }
    }
    let _ = writeln!(md, "## Runs\n");
    let _ = writeln!(md, "| point | seed | result |");
    let _ = writeln!(md, "|---|---:|---|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | [`{}`](../../{}/report.md) |",
            label(&r.values),
            r.seed,
            path_str(&r.run),
            path_str(&r.run)
        );
    }
    let _ = writeln!(
        md,
        "\n## Files\n\n- `summary.csv`: every run's summary, with the swept values and the seed as columns.\n- `metrics/<metric>.csv`: the same, one file per metric.\n- `across-seeds.csv`: mean and 95 % interval over the seeds, per point and metric.\n- `runs.csv`: the grid: each run's values, seed and result directory.\n- `sweep.toml`: the resolved base scenario and its `[sweep]`; `scenarios sweep` on it reruns the sweep.\n- `provenance.toml`: the build.\n"
    );
    stage.write("report.md", md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn seeds_count_or_list() {
        let s = SweepSpec::parse(Some(&table("seeds = 3")), 5).unwrap();
        assert_eq!(s.seeds, vec![5, 6, 7]);
        let s = SweepSpec::parse(Some(&table("seeds = [9, 2]")), 5).unwrap();
        assert_eq!(s.seeds, vec![9, 2]);
        let s = SweepSpec::parse(None, 4).unwrap();
        assert_eq!(s.seeds, vec![4]);
        assert_eq!(s.runs(), 1);
        for bad in ["seeds = 0", "seeds = [1, 1]", "seeds = []", "seeds = \"x\""] {
            let e = SweepSpec::parse(Some(&table(bad)), 1).unwrap_err();
            assert_eq!(e.key, "sweep.seeds", "{bad}");
        }
    }

    #[test]
    fn nested_and_quoted_keys_are_the_same_axis() {
        let a = SweepSpec::parse(Some(&table("kademlia.k = [8, 20]\nseeds = 2")), 1).unwrap();
        let b = SweepSpec::parse(Some(&table("\"kademlia.k\" = [8, 20]\nseeds = 2")), 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.axes[0].key, "kademlia.k");
        assert_eq!(a.runs(), 4);
        assert_eq!(a.describe(), "2 values of kademlia.k × 2 seeds = 4 runs");
        // Written back, it reads the same.
        let again = SweepSpec::parse(Some(&a.to_table()), 1).unwrap();
        assert_eq!(again, a);
    }

    #[test]
    fn bad_axes_name_the_key() {
        for (text, key, what) in [
            ("kademlia.k = 8", "sweep.kademlia.k", "expected a list"),
            ("kademlia.k = []", "sweep.kademlia.k", "empty"),
            ("kademlia.k = [8, 8]", "sweep.kademlia.k", "twice"),
            ("scenario.seed = [1, 2]", "sweep.scenario.seed", "seeds"),
        ] {
            let e = SweepSpec::parse(Some(&table(text)), 1).unwrap_err();
            assert_eq!(e.key, key, "{text}");
            assert!(e.message.contains(what), "{text}: {}", e.message);
        }
    }

    #[test]
    fn intervals_of_rates_over_seeds_stay_within_bounds() {
        // Two seeds, P2P answered 0 % and 100 %: mean 50, Student t half
        // width 12.706 × 70.7 / √2 = 635 points. No interval, rather than
        // one reaching −585 %; a latency keeps its interval.
        let v = [vec![0.0, 100.0], vec![100.0, 100.0], vec![-100.0, 0.0]];
        let s = seed_summaries(&v, "%");
        assert_eq!(s[0].mean, 50.0);
        assert!(s[0].ci95.is_nan() && s[2].ci95.is_nan(), "{s:?}");
        assert_eq!(s[1].ci95, 0.0);
        let s = seed_summaries(&v, "ms");
        assert!((s[0].ci95 - 12.706 * 50.0).abs() < 1e-6, "{s:?}");
        // No value in any seed: NaN, written as a blank.
        let none = [vec![f64::NAN; 2], vec![f64::NAN; 2], vec![f64::NAN; 2]];
        let s = seed_summaries(&none, "%");
        assert!(s[0].mean.is_nan() && s[0].n == 0);
        assert_eq!(fmt6(s[0].mean), "");
    }

    #[test]
    fn shards_partition_the_grid() {
        assert!("0/2".parse::<Shard>().is_err());
        assert!("3/2".parse::<Shard>().is_err());
        assert!("1-2".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { i, n: 3 }).collect();
        for idx in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.has(idx)).count(), 1);
        }
        assert_eq!("2/3".parse::<Shard>().unwrap(), shards[1]);
    }
}
