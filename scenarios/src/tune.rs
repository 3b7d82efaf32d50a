//! `scenarios tune`: the cheapest storage parameters that keep a promise.
//!
//! A storage scenario's `[tune]` table names candidate values of `storage.*`
//! keys (the search space), constraints on what the P2P side measures
//! (`max_loss`, `max_loss_per_year`, `min_availability`, at a
//! `confidence`) and an objective (`repair_bandwidth`, `overhead` or
//! `cost`). The search:
//!
//! 1. **Pruning** (before any simulation, a labelled heuristic): with the
//!    per-peer availability `a` of `[churn]` (sessions: mean up divided by
//!    mean up plus mean down; a trace: the measured up fraction of the hosts the peers
//!    follow over the run), a point whose independent-availability
//!    prediction (`1 − (1 − a)^r` for `r` replicas, `P[X ≥ m]` with
//!    `X ~ Bin(n, a)` for m-of-n) is below `min_availability − prune_margin`
//!    is not simulated. This is not an upper bound of what the system
//!    measures: repair can hold more than `n` live copies for a while (a
//!    holder presumed gone comes back beside its replacement), and holders
//!    are up when chosen; hence the margin. With a loss constraint, eager
//!    repair and exponential lifetimes, a point whose birth–death loss
//!    prediction ([`predicted_loss`]) exceeds its bound
//!    `loss_prune_factor` times is pruned too (the chain's repairs are
//!    faster than the system's, so it predicts less loss).
//! 2. **Sequential seeds**: the other points run with the first `seeds`
//!    seeds (`scenario.seed`, `+1`, …). A point is decided when the interval
//!    `mean ± t·s/√n` over its seeds (Student t at `confidence`, two-sided)
//!    of every constrained metric lies wholly on one side of its bound:
//!    feasible when every one is on the right side, infeasible as soon as
//!    one is wholly on the wrong side (the loss rate per object-year: the
//!    union of the exact Poisson interval of the pooled count and the
//!    Student interval of the seeds' rates). Undecided points get `seeds_step`
//!    more seeds per round, up to `max_seeds`; those still undecided are
//!    reported as such.
//! 3. **Dominance**: objective `overhead` (closed form: `r`, or `n/m`):
//!    once a point is feasible, undecided points of strictly larger
//!    overhead get no more seeds (they cannot be recommended); objective
//!    `repair_bandwidth` or `cost` (statistical): an undecided point whose
//!    interval lies wholly above that of the feasible point of least mean
//!    gets no more seeds.
//!
//! Every run is an ordinary run ([`crate::runner::run_one`] through
//! [`crate::sweep::run_points`]): `--jobs` runs in parallel, complete runs
//! are reused (resume), and the results are byte-identical whatever
//! `--jobs`; `--shard I/N` runs one slice of the first round with missing
//! runs and stops; `status_only` runs nothing (the Slurm loop asks it what
//! is pending). The tune directory `<out>/<name>/tune-<hash>/` holds
//! `points.csv`, `recommendation.toml`, `pareto.svg`/`.png` and `report.md`.

use crate::load::{Origin, Override, load};
use crate::output::{Provenance, Staging, hash_pair};
use crate::runner::Identity;
use crate::schema::{RepairSpec, Scenario, TraceHosts, TraceShort};
use crate::sweep::{Axis, Point, Resolver, SweepOptions, run_points, show};
use analysis::report::Table;
use anyhow::{Context, Result, anyhow};
use sim_core::churn::dist::ln_gamma;
use sim_core::units::Duration;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `storage.*` keys a `[tune]` table may search.
pub const SEARCH_KEYS: [&str; 6] = [
    "replicas",
    "erasure",
    "repair",
    "repair_threshold",
    "detection_timeout",
    "audit_interval",
];

/// The constraints a `[tune]` table may set.
pub const CONSTRAINTS: [&str; 3] = ["max_loss", "max_loss_per_year", "min_availability"];

/// Days in the year of `max_loss_per_year`.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// Columns of [`TunePoint::measured`].
const AVAIL: usize = 0;
const LOSS: usize = 1;
const REPAIR: usize = 2;
const OVERHEAD: usize = 3;
const LOST: usize = 4;
const OBJECT_YEARS: usize = 5;
const COST: usize = 6;

/// Most points in a tune grid.
pub const POINTS_MAX: usize = 10_000;

/// What the search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Repair bytes per peer per day (measured, mean over the seeds).
    RepairBandwidth,
    /// Bytes stored per byte of data: `r`, or `n/m` (closed form).
    Overhead,
    /// The P2P side's cost of storage in USD per year under the scenario's
    /// `[cost]` model: disks, and the network energy of the bytes storage
    /// moved (measured, mean over the seeds).
    Cost,
}

impl Objective {
    fn name(self) -> &'static str {
        match self {
            Objective::RepairBandwidth => "repair_bandwidth",
            Objective::Overhead => "overhead",
            Objective::Cost => "cost",
        }
    }
    fn unit(self) -> &'static str {
        match self {
            Objective::RepairBandwidth => "bytes per peer per day",
            Objective::Overhead => "stored bytes per data byte",
            Objective::Cost => "USD per year, P2P storage under [cost]",
        }
    }
}

/// The redundancy of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redundancy {
    /// `r` whole copies.
    Replicas(u16),
    /// Any `m` of `n` fragments.
    Erasure(u16, u16),
}

impl Redundancy {
    /// `m` and `n` (replicas: 1 of r).
    pub fn m_n(self) -> (u16, u16) {
        match self {
            Redundancy::Replicas(r) => (1, r),
            Redundancy::Erasure(m, n) => (m, n),
        }
    }
    /// Stored bytes per data byte.
    pub fn overhead(self) -> f64 {
        let (m, n) = self.m_n();
        n as f64 / m as f64
    }
    fn label(self) -> String {
        match self {
            Redundancy::Replicas(r) => format!("{r} replicas"),
            Redundancy::Erasure(m, n) => format!("{m}of{n}"),
        }
    }
}

/// A checked `[tune]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneSpec {
    /// Redundancy candidates (from `replicas` and `erasure`; the
    /// scenario's own when neither is listed).
    pub redundancy: Vec<Redundancy>,
    /// Other searched keys (`repair`, `repair_threshold`,
    /// `detection_timeout`, `audit_interval`) and their values, in
    /// [`SEARCH_KEYS`] order.
    pub axes: Vec<Axis>,
    /// Largest fraction of written objects lost by the run's end.
    pub max_loss: Option<f64>,
    /// Largest rate of loss: objects lost per object-year stored.
    pub max_loss_per_year: Option<f64>,
    /// Smallest time-average fraction of written objects readable.
    pub min_availability: Option<f64>,
    /// Two-sided confidence of the intervals over seeds.
    pub confidence: f64,
    /// What is minimised.
    pub objective: Objective,
    /// Seeds of the first round.
    pub seeds: u64,
    /// Seeds added per further round.
    pub seeds_step: u64,
    /// Most seeds per point.
    pub max_seeds: u64,
    /// Absolute margin under `min_availability` before a point is pruned.
    pub prune_margin: f64,
    /// How many times its loss bound the birth–death prediction of a
    /// point's loss must be before the point is pruned.
    pub loss_prune_factor: f64,
}

/// A `[tune]` error naming the key.
fn err(key: &str, message: impl std::fmt::Display) -> String {
    format!("key `tune.{key}`: {message}")
}

fn number(key: &str, v: &toml::Value) -> Result<f64, String> {
    match v {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(err(
            key,
            format!("expected a number, found a {}", other.type_str()),
        )),
    }
}

fn count(key: &str, v: &toml::Value, min: u64, max: u64) -> Result<u64, String> {
    match v {
        toml::Value::Integer(i) if *i >= min as i64 && *i <= max as i64 => Ok(*i as u64),
        other => Err(err(
            key,
            format!(
                "{}: expected a whole number from {min} to {max}",
                crate::bounds::clip(&show(other), 40)
            ),
        )),
    }
}

fn list<'a>(key: &str, v: &'a toml::Value) -> Result<&'a Vec<toml::Value>, String> {
    match v {
        toml::Value::Array(a) if a.is_empty() => Err(err(
            key,
            "an empty list: the search space needs at least one value",
        )),
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if a[..i].contains(x) {
                    return Err(err(
                        key,
                        format!(
                            "the value {} is listed twice",
                            crate::bounds::clip(&show(x), 40)
                        ),
                    ));
                }
            }
            Ok(a)
        }
        other => Err(err(
            key,
            format!(
                "expected a list of candidate values, e.g. [1, 2, 3], found a {}",
                other.type_str()
            ),
        )),
    }
}

fn parse_erasure(key: &str, v: &toml::Value) -> Result<Redundancy, String> {
    let toml::Value::String(s) = v else {
        return Err(err(
            key,
            format!("{}: expected \"MofN\", e.g. \"6of10\"", show(v)),
        ));
    };
    let parsed = s
        .split_once("of")
        .and_then(|(m, n)| Some((m.trim().parse::<u16>().ok()?, n.trim().parse::<u16>().ok()?)));
    match parsed {
        Some((m, n)) if m >= 1 && m <= n => Ok(Redundancy::Erasure(m, n)),
        _ => Err(err(
            key,
            format!(
                "{:?}: expected \"MofN\" with 1 ≤ M ≤ N, e.g. \"6of10\"",
                crate::bounds::clip(s, 40)
            ),
        )),
    }
}

impl TuneSpec {
    /// Check the `[tune]` table of `s` (a storage scenario).
    pub fn parse(s: &Scenario) -> Result<TuneSpec, String> {
        let Some(t) = &s.tune else {
            return Err("key `tune`: no [tune] table; `scenarios tune` needs one (see docs/scenario-reference.md, [tune])".into());
        };
        let Some(st) = &s.storage else {
            return Err("key `tune`: [tune] searches `storage.*` keys: the scenario needs a [storage] table".into());
        };
        let mut spec = TuneSpec {
            redundancy: Vec::new(),
            axes: Vec::new(),
            max_loss: None,
            max_loss_per_year: None,
            min_availability: None,
            confidence: 0.95,
            objective: Objective::RepairBandwidth,
            seeds: 3,
            seeds_step: 3,
            max_seeds: 12,
            prune_margin: 0.01,
            loss_prune_factor: 10.0,
        };
        for (k, v) in t {
            match k.as_str() {
                "replicas" => {
                    for x in list(k, v)? {
                        match x {
                            toml::Value::Integer(r) if (1..=255).contains(r) => {
                                spec.redundancy.push(Redundancy::Replicas(*r as u16))
                            }
                            other => {
                                return Err(err(
                                    k,
                                    format!(
                                        "{}: expected a number of replicas from 1 to 255",
                                        crate::bounds::clip(&show(other), 40)
                                    ),
                                ));
                            }
                        }
                    }
                }
                "erasure" => {
                    for x in list(k, v)? {
                        spec.redundancy.push(parse_erasure(k, x)?);
                    }
                }
                "repair" | "repair_threshold" | "detection_timeout" | "audit_interval" => {
                    let values = list(k, v)?;
                    for x in values {
                        let ok = match k.as_str() {
                            "repair" => x.clone().try_into::<RepairSpec>().is_ok(),
                            "repair_threshold" => {
                                matches!(x, toml::Value::Integer(i) if (1..=255).contains(i))
                            }
                            _ => x
                                .clone()
                                .try_into::<Duration>()
                                .is_ok_and(|d| d > Duration::ZERO),
                        };
                        if !ok {
                            let want = match k.as_str() {
                                "repair" => "\"eager\", \"lazy\" or \"none\"",
                                "repair_threshold" => "a number of live fragments from 1 to 255",
                                _ => "a positive duration, e.g. \"2h\"",
                            };
                            return Err(err(
                                k,
                                format!("{}: expected {want}", crate::bounds::clip(&show(x), 40)),
                            ));
                        }
                    }
                    spec.axes.push(Axis {
                        key: k.clone(),
                        values: values.clone(),
                    });
                }
                "max_loss" => {
                    let x = number(k, v)?;
                    if !(0.0..1.0).contains(&x) {
                        return Err(err(
                            k,
                            format!("{x}: a fraction of objects lost, from 0 to less than 1"),
                        ));
                    }
                    spec.max_loss = Some(x);
                }
                "max_loss_per_year" => {
                    let x = number(k, v)?;
                    if !(x > 0.0 && x.is_finite()) {
                        return Err(err(
                            k,
                            format!(
                                "{x}: objects lost per object-year stored, above 0 (1e-6, not 0.0001 %)"
                            ),
                        ));
                    }
                    spec.max_loss_per_year = Some(x);
                }
                "min_availability" => {
                    let x = number(k, v)?;
                    if !(x > 0.0 && x <= 1.0) {
                        return Err(err(
                            k,
                            format!(
                                "{x}: a fraction of objects readable, above 0 and at most 1 (0.999, not 99.9)"
                            ),
                        ));
                    }
                    spec.min_availability = Some(x);
                }
                "confidence" => {
                    let x = number(k, v)?;
                    if !(0.5..=0.999).contains(&x) {
                        return Err(err(k, format!("{x}: expected from 0.5 to 0.999")));
                    }
                    spec.confidence = x;
                }
                "objective" => {
                    spec.objective = match v.as_str() {
                        Some("repair_bandwidth") => Objective::RepairBandwidth,
                        Some("overhead") => Objective::Overhead,
                        Some("cost") => Objective::Cost,
                        _ => {
                            return Err(err(
                                k,
                                format!(
                                    "{}: expected \"repair_bandwidth\", \"overhead\" or \"cost\"",
                                    crate::bounds::clip(&show(v), 40)
                                ),
                            ));
                        }
                    }
                }
                "seeds" => spec.seeds = count(k, v, 2, 1000)?,
                "seeds_step" => spec.seeds_step = count(k, v, 1, 1000)?,
                "max_seeds" => spec.max_seeds = count(k, v, 2, 1000)?,
                "prune_margin" => {
                    let x = number(k, v)?;
                    if !(0.0..=1.0).contains(&x) {
                        return Err(err(k, format!("{x}: expected from 0 to 1")));
                    }
                    spec.prune_margin = x;
                }
                "loss_prune_factor" => {
                    let x = number(k, v)?;
                    if !(1.0..=1e6).contains(&x) {
                        return Err(err(k, format!("{x}: expected from 1 to 1000000")));
                    }
                    spec.loss_prune_factor = x;
                }
                other => {
                    if let Some(metric) = other
                        .strip_prefix("max_")
                        .or_else(|| other.strip_prefix("min_"))
                    {
                        return Err(err(
                            other,
                            format!(
                                "a constraint on an unknown metric `{}`: the constraints are {}",
                                crate::bounds::clip(metric, 40),
                                CONSTRAINTS.join(", ")
                            ),
                        ));
                    }
                    return Err(err(
                        other,
                        format!(
                            "not a key of [tune]: it searches the storage keys {}, with the constraints {} and confidence, objective, seeds, seeds_step, max_seeds, prune_margin, loss_prune_factor",
                            SEARCH_KEYS.join(", "),
                            CONSTRAINTS.join(", ")
                        ),
                    ));
                }
            }
        }
        if spec.max_loss.is_none()
            && spec.max_loss_per_year.is_none()
            && spec.min_availability.is_none()
        {
            return Err(err(
                "max_loss",
                "no constraint: set max_loss, max_loss_per_year and/or min_availability",
            ));
        }
        if spec.seeds > spec.max_seeds {
            return Err(err(
                "max_seeds",
                format!(
                    "{} is fewer than the first round's seeds = {}",
                    spec.max_seeds, spec.seeds
                ),
            ));
        }
        if s.scenario.seed.saturating_add(spec.max_seeds) > crate::bounds::SEED_MAX {
            return Err(err("max_seeds", "the seeds go past the largest seed"));
        }
        if let Some(b) = spec.max_loss_per_year {
            // With no loss at all, the most object-years the seeds can
            // hold bound the rate only so far.
            let years = s.scenario.duration.as_secs_f64() / 86_400.0 / DAYS_PER_YEAR;
            let most = st.objects as f64 * years * spec.max_seeds as f64;
            let (_, zero) = crate::theory::poisson_interval(0, spec.confidence);
            if !(most > 0.0 && zero / most <= b) {
                return Err(err(
                    "max_loss_per_year",
                    format!(
                        "{b} cannot be shown by simulation here: with no object lost at all, {} seeds of at most {} objects × {:.4} years = {most:.1} object-years bound the rate only below {:.3e} per object-year at confidence {}; {:.3e} object-years are needed. Raise storage.objects, scenario.duration or tune.max_seeds, or constrain max_loss (the fraction lost over the run) instead",
                        spec.max_seeds,
                        st.objects,
                        years,
                        zero / most.max(f64::MIN_POSITIVE),
                        spec.confidence,
                        zero / b
                    ),
                ));
            }
        }
        if spec.redundancy.is_empty() {
            // The scenario's own scheme.
            let r = match (&st.erasure, st.replicas) {
                (Some(e), _) if e.trim() != "none" => {
                    parse_erasure("erasure", &toml::Value::String(e.clone()))
                        .map_err(|_| format!("key `storage.erasure`: {e:?}: expected \"MofN\""))?
                }
                (_, Some(r)) => Redundancy::Replicas(r),
                _ => Redundancy::Replicas(3),
            };
            spec.redundancy.push(r);
        }
        let repairs: Vec<RepairSpec> = match spec.axes.iter().find(|a| a.key == "repair") {
            Some(a) => a
                .values
                .iter()
                .filter_map(|v| v.clone().try_into().ok())
                .collect(),
            None => vec![st.repair],
        };
        if spec.axes.iter().any(|a| a.key == "repair_threshold")
            && !repairs.contains(&RepairSpec::Lazy)
        {
            return Err(err(
                "repair_threshold",
                "only used with repair = \"lazy\", which neither storage.repair nor tune.repair names",
            ));
        }
        if spec.grid_size() > POINTS_MAX {
            return Err(err(
                "replicas",
                format!("{} points: more than {POINTS_MAX}", spec.grid_size()),
            ));
        }
        let runs = (spec.grid_size() as u64).saturating_mul(spec.max_seeds);
        if runs > crate::sweep::RUNS_MAX {
            return Err(err(
                "max_seeds",
                format!(
                    "{} points × {} seeds could make {runs} runs, more than {}",
                    spec.grid_size(),
                    spec.max_seeds,
                    crate::sweep::RUNS_MAX
                ),
            ));
        }
        Ok(spec)
    }

    /// Points in the full grid.
    pub fn grid_size(&self) -> usize {
        self.redundancy.len() * self.axes.iter().map(|a| a.values.len()).product::<usize>()
    }
}

/// The per-peer availability `a` that the pruning rule uses, and how it
/// was found. `None` without churn (a = 1).
pub fn peer_availability(s: &Scenario, peers: u32) -> Result<(f64, String), String> {
    let Some(c) = &s.churn else {
        return Ok((1.0, "no churn: every peer always up (a = 1)".into()));
    };
    if let Some(path) = &c.trace {
        let (trace, _) = crate::churn::load(path, c.trace_format.unwrap_or_default())
            .map_err(|e| format!("key `{}`: {}", e.field, e.message))?;
        let end = s.scenario.warmup.0.saturating_add(s.scenario.duration.0);
        let up = |i: usize| -> f64 {
            let n = &trace.nodes[i];
            let t: u64 =
                n.up.iter()
                    .map(|iv| iv.end.0.min(end).saturating_sub(iv.start.0.min(end)))
                    .sum();
            t as f64 / end.max(1) as f64
        };
        let hosts = trace.nodes.len();
        let peers = peers as usize;
        let used: Vec<f64> = if c.trace_hosts.unwrap_or_default() == TraceHosts::Random {
            (0..hosts).map(up).collect()
        } else if hosts >= peers {
            (0..peers).map(up).collect()
        } else if c.trace_short.unwrap_or_default() == TraceShort::Stable {
            (0..peers)
                .map(|i| if i < hosts { up(i) } else { 1.0 })
                .collect()
        } else {
            (0..peers).map(|i| up(i % hosts.max(1))).collect()
        };
        let a = used.iter().sum::<f64>() / used.len().max(1) as f64;
        return Ok((
            a,
            format!(
                "the trace's measured up fraction over the run (warm-up and duration) of the hosts the peers follow{}: a = {a:.6}",
                if c.trace_hosts.unwrap_or_default() == TraceHosts::Random {
                    " (all hosts: the random choice depends on the seed)"
                } else {
                    ""
                }
            ),
        ));
    }
    let dist = |k: &str, v: &Option<String>| -> Result<Duration, String> {
        let text = v
            .as_deref()
            .ok_or_else(|| format!("key `churn.{k}`: required"))?;
        let d: sim_core::churn::Dist = text.parse().map_err(|e| format!("key `churn.{k}`: {e}"))?;
        Ok(d.mean())
    };
    let (up, down) = (dist("up", &c.up)?, dist("down", &c.down)?);
    let a = up.as_secs_f64() / (up.as_secs_f64() + down.as_secs_f64());
    Ok((
        a,
        format!(
            "sessions: mean up {up} / (mean up + mean down {down}) = {a:.6}{}",
            if c.lifetime.is_some() {
                "; permanent departures (`lifetime`) are not in the prediction"
            } else {
                ""
            }
        ),
    ))
}

/// Loss per object-year of `red` in scenario `s` by the birth–death chain
/// ([`crate::theory::mttdl`]: `1 / MTTDL`), with holders leaving for good
/// at rate `λ = 1 / churn.lifetime` and a lost fragment rebuilt at rate
/// `μ = 1 / storage.detection_timeout` (a rebuild cannot start before the
/// holder is presumed gone; the transfer, the placement lookup and a
/// source being down all make it later). `None` where the chain does not
/// describe the system: no `lifetime`, or repair other than eager.
pub fn predicted_loss(s: &Scenario, red: Redundancy) -> Option<f64> {
    let life = s.churn.as_ref()?.lifetime?;
    let st = s.storage.as_ref()?;
    if st.repair != RepairSpec::Eager {
        return None;
    }
    let years = |d: Duration| d.as_secs_f64() / 86_400.0 / DAYS_PER_YEAR;
    let (m, n) = red.m_n();
    if years(life) <= 0.0 || years(st.detection_timeout) <= 0.0 {
        return None;
    }
    let t = crate::theory::mttdl(
        m as usize,
        n as usize,
        1.0 / years(life),
        1.0 / years(st.detection_timeout),
    );
    (t > 0.0).then(|| 1.0 / t)
}

/// `P[X ≥ m]` for `X ~ Bin(n, a)`: the availability of m-of-n fragments
/// on independent peers each up with probability `a` (replicas: m = 1).
pub fn predicted_availability(red: Redundancy, a: f64) -> f64 {
    let (m, n) = red.m_n();
    let (m, n) = (m as u32, n as u32);
    if let Redundancy::Replicas(r) = red {
        return 1.0 - (1.0 - a).powi(r as i32);
    }
    let mut p = 0.0;
    for k in m..=n {
        p += binom(n, k) * a.powi(k as i32) * (1.0 - a).powi((n - k) as i32);
    }
    p.min(1.0)
}

fn binom(n: u32, k: u32) -> f64 {
    let k = k.min(n - k);
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    c
}

/// `P[0 ≤ T ≤ x]` for Student's t with `df` degrees of freedom (Simpson's
/// rule on the density).
fn t_half_cdf(x: f64, df: f64) -> f64 {
    // df ≥ 1, so both arguments are positive.
    let c = (ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0)).exp()
        / (df * std::f64::consts::PI).sqrt();
    let f = |t: f64| c * (1.0 + t * t / df).powf(-(df + 1.0) / 2.0);
    let n = 4_000;
    let h = x / n as f64;
    let mut s = f(0.0) + f(x);
    for i in 1..n {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// The two-sided `confidence` quantile of Student's t with `df` degrees of
/// freedom: `P[|T| ≤ q] = confidence`.
pub fn t_quantile(confidence: f64, df: usize) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    // Memoised: the search asks for the same few quantiles many times.
    static KNOWN: std::sync::Mutex<std::collections::BTreeMap<(u64, usize), f64>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let key = (confidence.to_bits(), df);
    if let Some(q) = KNOWN.lock().ok().and_then(|m| m.get(&key).copied()) {
        return q;
    }
    let q = t_quantile_uncached(confidence, df);
    if let Ok(mut m) = KNOWN.lock() {
        m.insert(key, q);
    }
    q
}

fn t_quantile_uncached(confidence: f64, df: usize) -> f64 {
    let target = confidence / 2.0;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_half_cdf(hi, df as f64) < target {
        hi *= 2.0;
        if hi > 1e6 {
            return f64::INFINITY;
        }
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if t_half_cdf(mid, df as f64) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Mean and interval half-width over seeds (NaN half-width with one).
fn mean_half(xs: &[f64], confidence: f64) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    // A fixed order of summation: the seeds' order.
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    (
        mean,
        t_quantile(confidence, n - 1) * (var / n as f64).sqrt(),
    )
}

/// The status of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not simulated (the reason says why).
    Pruned,
    /// Every constraint met with the stated confidence.
    Feasible,
    /// A constraint violated with the stated confidence.
    Infeasible,
    /// Neither, with the seeds run.
    Undecided,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Pruned => "pruned",
            Status::Feasible => "feasible",
            Status::Infeasible => "infeasible",
            Status::Undecided => "undecided",
        }
    }
}

/// One point of the grid and what the search found.
#[derive(Debug, Clone)]
pub struct TunePoint {
    /// Position in the grid.
    pub index: usize,
    /// Its redundancy.
    pub redundancy: Redundancy,
    /// Its values of the other searched keys (in `spec.axes` order).
    pub values: Vec<toml::Value>,
    /// The loaded scenario with the point's values.
    scenario: Scenario,
    /// Predicted availability (independent peers).
    pub predicted: f64,
    /// Predicted loss per object-year (the birth–death chain), where the
    /// model applies (eager repair, exponential lifetimes).
    pub predicted_loss: Option<f64>,
    /// Status.
    pub status: Status,
    /// Why pruned.
    pub reason: String,
    /// Per seed: availability fraction, loss fraction, repair bytes per
    /// peer per day, measured storage overhead, objects lost, object-years
    /// stored, cost in USD per year (the `AVAIL` … `COST` columns).
    pub measured: Vec<[f64; 7]>,
}

impl TunePoint {
    fn label(&self, spec: &TuneSpec) -> String {
        let mut parts = vec![self.redundancy.label()];
        for (a, v) in spec.axes.iter().zip(&self.values) {
            parts.push(format!("{}={}", a.key, show(v)));
        }
        parts.join(", ")
    }
    fn column(&self, i: usize) -> Vec<f64> {
        self.measured.iter().map(|m| m[i]).collect()
    }
    fn objective(&self, spec: &TuneSpec) -> f64 {
        match spec.objective {
            Objective::Overhead => self.redundancy.overhead(),
            Objective::RepairBandwidth => mean_half(&self.column(REPAIR), spec.confidence).0,
            Objective::Cost => mean_half(&self.column(COST), spec.confidence).0,
        }
    }
    /// Loss per object-year over the seeds: (pooled rate, low, high). The
    /// interval is the union of the exact Poisson interval of the pooled
    /// count over the pooled object-years and the Student interval of the
    /// seeds' own rates (losses that strike objects together, as one
    /// departure can, spread the seeds more than a Poisson count would).
    fn loss_rate(&self, confidence: f64) -> (f64, f64, f64) {
        let lost: f64 = self.column(LOST).iter().sum();
        let years: f64 = self.column(OBJECT_YEARS).iter().sum();
        if years.is_nan() || years <= 0.0 || !lost.is_finite() {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let (pl, ph) = crate::theory::poisson_interval(lost.round() as u64, confidence);
        let (mut lo, mut hi) = (pl / years, ph / years);
        let rates: Vec<f64> = self
            .measured
            .iter()
            .filter(|m| m[OBJECT_YEARS] > 0.0)
            .map(|m| m[LOST] / m[OBJECT_YEARS])
            .collect();
        let (m, h) = mean_half(&rates, confidence);
        if h.is_finite() {
            lo = lo.min((m - h).max(0.0));
            hi = hi.max(m + h);
        }
        (lost / years, lo, hi)
    }
    /// Re-decide from the seeds measured.
    fn decide(&mut self, spec: &TuneSpec) {
        if self.status == Status::Pruned {
            return;
        }
        let mut all_ok = true;
        let mut any_bad = false;
        if let Some(b) = spec.min_availability {
            let (m, h) = mean_half(&self.column(AVAIL), spec.confidence);
            all_ok &= h.is_finite() && m - h >= b;
            any_bad |= h.is_finite() && m + h < b;
        }
        if let Some(b) = spec.max_loss {
            let (m, h) = mean_half(&self.column(LOSS), spec.confidence);
            all_ok &= h.is_finite() && m + h <= b;
            any_bad |= h.is_finite() && m - h > b;
        }
        if let Some(b) = spec.max_loss_per_year {
            let (_, lo, hi) = self.loss_rate(spec.confidence);
            all_ok &= hi.is_finite() && hi <= b;
            any_bad |= lo.is_finite() && lo > b;
        }
        self.status = if any_bad {
            Status::Infeasible
        } else if all_ok {
            Status::Feasible
        } else {
            Status::Undecided
        };
    }
    /// How far the measured means are from the constraints (fractions of
    /// objects; 0 for a point that meets them on average).
    fn shortfall(&self, spec: &TuneSpec) -> f64 {
        let mut s = 0.0;
        if let Some(b) = spec.min_availability {
            s += (b - mean_half(&self.column(AVAIL), spec.confidence).0).max(0.0);
        }
        if let Some(b) = spec.max_loss {
            s += (mean_half(&self.column(LOSS), spec.confidence).0 - b).max(0.0);
        }
        if let Some(b) = spec.max_loss_per_year {
            let rate = self.loss_rate(spec.confidence).0;
            if rate.is_finite() {
                s += (rate - b).max(0.0);
            }
        }
        s
    }
}

/// Options of `scenarios tune`.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// The output root.
    pub out: PathBuf,
    /// Runs at a time.
    pub jobs: usize,
    /// Rerun runs that have complete results.
    pub force: bool,
    /// No per-run lines.
    pub quiet: bool,
    /// Run only this shard's missing runs of the first round that has
    /// missing runs, then stop (see [`tune`]).
    pub shard: Option<crate::sweep::Shard>,
    /// Run nothing: decide the rounds whose runs are all complete, and stop
    /// at the first round with runs missing (as a shard with no runs of
    /// its own would); with none missing, the result is written.
    pub status_only: bool,
}

/// What `tune` found.
#[derive(Debug)]
pub struct TuneOutcome {
    /// The tune directory.
    pub dir: PathBuf,
    /// Points in the full grid.
    pub grid: usize,
    /// Points simulated (at least one seed).
    pub evaluated: usize,
    /// Runs simulated by this invocation.
    pub ran: usize,
    /// Runs whose complete results were reused.
    pub reused: usize,
    /// The recommended point's label, or `None`.
    pub recommended: Option<String>,
    /// Without a recommendation: why, naming the closest point.
    pub failure: Option<String>,
    /// Lines of the search (rounds), for the console.
    pub log: Vec<String>,
    /// With a shard: the round it ran part of, when it stopped there
    /// (nothing is decided or written then).
    pub shard_stopped: Option<String>,
}

/// Run the search of the scenario `text` (with `sets` and `seed`).
pub fn tune(
    text: &str,
    origin: &Origin,
    sets: &[Override],
    seed: Option<u64>,
    opts: &TuneOptions,
) -> Result<TuneOutcome, String> {
    let mut base: Scenario = load(text, origin, sets).map_err(|e| e.to_string())?;
    if let Some(seed) = seed {
        base.scenario.seed = seed;
    }
    let spec = TuneSpec::parse(&base).map_err(|e| format!("{origin}: {e}"))?;
    if base.storage.is_none() {
        return Err(format!("{origin}: key `tune`: needs a [storage] scenario"));
    }
    // The base checked as `validate` does (peers, churn).
    let checked = crate::validate::validate_text(text, origin, sets, seed)?;
    let peers = crate::experiment::topology_peers(&checked)
        .map_err(|e| format!("{origin}: key `{}`: {}", e.field, e.message))?;
    let (a, a_note) = peer_availability(&base, peers).map_err(|e| format!("{origin}: {e}"))?;
    let prov = Provenance::current();

    // The grid: redundancy × the other axes (last varying fastest).
    let mut combos: Vec<Vec<toml::Value>> = vec![Vec::new()];
    for ax in &spec.axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                ax.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let mut points = Vec::with_capacity(spec.grid_size());
    for &red in &spec.redundancy {
        for values in &combos {
            let mut s = base.clone();
            s.tune = None;
            s.sweep = None;
            let st = s.storage.as_mut().expect("checked above");
            match red {
                Redundancy::Replicas(r) => {
                    st.replicas = Some(r);
                    st.erasure = None;
                }
                Redundancy::Erasure(m, n) => {
                    st.replicas = None;
                    st.erasure = Some(format!("{m}of{n}"));
                }
            }
            let mut reason = String::new();
            for (ax, v) in spec.axes.iter().zip(values) {
                let bad = |e: toml::de::Error| err(&ax.key, e);
                match ax.key.as_str() {
                    "repair" => st.repair = v.clone().try_into().map_err(bad)?,
                    "repair_threshold" => {
                        st.repair_threshold = Some(v.clone().try_into().map_err(bad)?)
                    }
                    "detection_timeout" => {
                        st.detection_timeout = v.clone().try_into().map_err(bad)?
                    }
                    "audit_interval" => {
                        st.audit_interval = Some(v.clone().try_into().map_err(bad)?)
                    }
                    _ => unreachable!("checked keys"),
                }
            }
            if st.repair != RepairSpec::Lazy {
                // A threshold means nothing without lazy repair.
                if spec.axes.iter().any(|x| x.key == "repair_threshold") {
                    st.repair_threshold = None;
                }
            } else if let Some(t) = st.repair_threshold {
                let (m, n) = red.m_n();
                if t < m || t > n {
                    reason = format!("repair_threshold {t} outside [m, n] = [{m}, {n}]");
                }
            }
            let predicted = predicted_availability(red, a);
            if reason.is_empty()
                && let Some(b) = spec.min_availability
                && predicted < b - spec.prune_margin
            {
                reason = format!(
                    "predicted availability {predicted:.6} < min_availability {b} − prune_margin {}",
                    spec.prune_margin
                );
            }
            let predicted_loss = predicted_loss(&s, red);
            let factor = spec.loss_prune_factor;
            if reason.is_empty()
                && let Some(pl) = predicted_loss
            {
                let years = s.scenario.duration.as_secs_f64() / 86_400.0 / DAYS_PER_YEAR;
                let over_run = -(-pl * years).exp_m1();
                if let Some(b) = spec.max_loss_per_year
                    && pl > b * factor
                {
                    reason = format!(
                        "birth–death loss {pl:.3e} per object-year > max_loss_per_year {b} × loss_prune_factor {factor}"
                    );
                } else if let Some(b) = spec.max_loss
                    && over_run > b * factor
                {
                    reason = format!(
                        "birth–death loss over the run {over_run:.3e} > max_loss {b} × loss_prune_factor {factor}"
                    );
                }
            }
            points.push(TunePoint {
                index: points.len(),
                redundancy: red,
                values: values.clone(),
                scenario: s,
                predicted,
                predicted_loss,
                status: if reason.is_empty() {
                    Status::Undecided
                } else {
                    Status::Pruned
                },
                reason,
                measured: Vec::new(),
            });
        }
    }
    // Points that are the same once threshold-less repairs drop the
    // threshold: the later one is pruned as a duplicate.
    for i in 0..points.len() {
        if points[i].status == Status::Pruned {
            continue;
        }
        if let Some(j) = (0..i).find(|&j| {
            points[j].status != Status::Pruned && points[j].scenario == points[i].scenario
        }) {
            points[i].status = Status::Pruned;
            points[i].reason = format!(
                "the same scenario as point {} (repair_threshold is used only by lazy repair)",
                points[j].index
            );
        }
    }

    let hash = {
        let mut t = String::new();
        t.push_str(&checked_identity(&base, &prov)?);
        let _ = write!(t, "{spec:?}");
        hash_pair(&t, &prov.to_toml())
    };
    let axes: Vec<Axis> = std::iter::once(Axis {
        key: "redundancy".into(),
        values: Vec::new(),
    })
    .chain(spec.axes.iter().map(|a| Axis {
        key: a.key.clone(),
        values: Vec::new(),
    }))
    .collect();
    let mut resolver = Resolver::default();
    let (mut ran, mut reused) = (0, 0);
    let mut log = Vec::new();
    let mut have = 0u64;
    let mut target = spec.seeds;
    loop {
        // Dominance (overhead): no more seeds for points costlier than a
        // feasible one.
        if spec.objective == Objective::Overhead
            && let Some(best) = points
                .iter()
                .filter(|p| p.status == Status::Feasible)
                .map(|p| p.redundancy.overhead())
                .min_by(f64::total_cmp)
        {
            for p in points.iter_mut() {
                if p.status == Status::Undecided && p.redundancy.overhead() > best {
                    p.status = Status::Pruned;
                    p.reason = format!(
                        "dominated: overhead {:.3} > {best:.3} of a feasible point",
                        p.redundancy.overhead()
                    );
                }
            }
        }
        // Dominance (a measured objective, statistical): no more seeds for
        // a point whose objective interval lies wholly above that of the
        // feasible point of least mean objective.
        let measured = match spec.objective {
            Objective::RepairBandwidth => Some((REPAIR, "repair", "bytes per peer per day", false)),
            Objective::Cost => Some((COST, "cost", "USD per year", true)),
            Objective::Overhead => None,
        };
        if let Some((col, what, unit, sci)) = measured
            && let Some((bm, bh, bi)) = points
                .iter()
                .filter(|p| p.status == Status::Feasible)
                .map(|p| {
                    let (m, h) = mean_half(&p.column(col), spec.confidence);
                    (m, h, p.index)
                })
                .filter(|x| x.0.is_finite() && x.1.is_finite())
                .min_by(|x, y| x.0.total_cmp(&y.0).then(x.2.cmp(&y.2)))
        {
            for p in points.iter_mut() {
                let (m, h) = mean_half(&p.column(col), spec.confidence);
                if p.status == Status::Undecided && h.is_finite() && m - h > bm + bh {
                    p.status = Status::Pruned;
                    p.reason = format!(
                        "dominated: {what} {} ± {} {unit}, wholly above {} ± {} of feasible point {bi}",
                        show_num(m, sci),
                        show_num(h, sci),
                        show_num(bm, sci),
                        show_num(bh, sci)
                    );
                }
            }
        }
        let dominated = points
            .iter()
            .filter(|p| p.status == Status::Pruned && p.reason.starts_with("dominated"))
            .count();
        if dominated > 0
            && !log
                .iter()
                .any(|l: &String| l.starts_with(&format!("dominated: {dominated} ")))
        {
            log.push(format!(
                "dominated: {dominated} point(s) get no more seeds (a feasible point beats them on the objective)"
            ));
        }
        let todo: Vec<usize> = points
            .iter()
            .filter(|p| p.status == Status::Undecided)
            .map(|p| p.index)
            .collect();
        if todo.is_empty() || have >= spec.max_seeds {
            break;
        }
        let seeds: Vec<u64> = (have..target).map(|k| base.scenario.seed + k).collect();
        let mut runs: Vec<Point> = Vec::new();
        for &i in &todo {
            let p = &points[i];
            let label = p.label(&spec);
            for &seed in &seeds {
                let (scenario, id) = resolver.resolve(&p.scenario, seed, origin, &label, &prov)?;
                let mut values = vec![toml::Value::String(p.redundancy.label())];
                values.extend(p.values.iter().cloned());
                runs.push(Point {
                    index: runs.len(),
                    values,
                    seed,
                    scenario,
                    id,
                });
            }
        }
        // A shard runs its slice of the first round with missing runs and
        // stops; a round whose runs are all complete is decided as usual.
        // `status_only` is a shard without runs.
        if opts.shard.is_some() || opts.status_only {
            let missing = runs
                .iter()
                .filter(|r| {
                    !crate::output::inside(&opts.out, &r.id.rel_dir)
                        .is_ok_and(|d| crate::runner::is_complete(&d))
                })
                .count();
            if missing > 0 {
                let mine: Vec<&Point> = match opts.shard {
                    Some(shard) if !opts.status_only => {
                        runs.iter().filter(|r| shard.has(r.index)).collect()
                    }
                    _ => Vec::new(),
                };
                let sopts = SweepOptions {
                    out: opts.out.clone(),
                    jobs: opts.jobs,
                    shard: None,
                    force: false,
                    quiet: opts.quiet,
                    die_after_runs: None,
                };
                let (r, k) = if mine.is_empty() {
                    (0, 0)
                } else {
                    run_points(&mine, &axes, &sopts).map_err(|e| format!("{e:#}"))?
                };
                let stopped = match opts.shard {
                    Some(shard) if !opts.status_only => format!(
                        "shard {shard}: ran its part of the round with seeds {}..{} ({} of {} runs); when every shard has, run `tune` again (with or without --shard) for the next round",
                        seeds[0],
                        seeds[seeds.len() - 1],
                        mine.len(),
                        runs.len()
                    ),
                    _ => format!(
                        "pending: the round with seeds {}..{} has {missing} of {} runs missing (run them with `--shard I/N`, or `tune` without --status)",
                        seeds[0],
                        seeds[seeds.len() - 1],
                        runs.len()
                    ),
                };
                let rel = Path::new(&base.scenario.name).join(format!("tune-{}", &hash[..12]));
                return Ok(TuneOutcome {
                    dir: crate::output::inside(&opts.out, &rel).map_err(|e| e.to_string())?,
                    grid: points.len(),
                    evaluated: points.iter().filter(|p| !p.measured.is_empty()).count(),
                    ran: ran + r,
                    reused: reused + k,
                    recommended: None,
                    failure: None,
                    log,
                    shard_stopped: Some(stopped),
                });
            }
        }
        let sopts = SweepOptions {
            out: opts.out.clone(),
            jobs: opts.jobs,
            shard: None,
            force: opts.force,
            quiet: opts.quiet,
            die_after_runs: None,
        };
        let refs: Vec<&Point> = runs.iter().collect();
        let (r, k) = run_points(&refs, &axes, &sopts).map_err(|e| format!("{e:#}"))?;
        ran += r;
        reused += k;
        for (n, run) in runs.iter().enumerate() {
            let p = &mut points[todo[n / seeds.len()]];
            let dir =
                crate::output::inside(&opts.out, &run.id.rel_dir).map_err(|e| e.to_string())?;
            p.measured
                .push(read_metrics(&dir, &p.scenario).map_err(|e| format!("{e:#}"))?);
        }
        for &i in &todo {
            points[i].decide(&spec);
        }
        let count = |s: Status| points.iter().filter(|p| p.status == s).count();
        log.push(format!(
            "round with seeds {}..{}: {} points × {} seeds; feasible {}, infeasible {}, undecided {}",
            seeds[0],
            seeds[seeds.len() - 1],
            todo.len(),
            seeds.len(),
            count(Status::Feasible),
            count(Status::Infeasible),
            count(Status::Undecided)
        ));
        have = target;
        target = (target + spec.seeds_step).min(spec.max_seeds);
    }

    let evaluated = points.iter().filter(|p| !p.measured.is_empty()).count();
    let best = points
        .iter()
        .filter(|p| p.status == Status::Feasible)
        .min_by(|x, y| {
            // Ties (the same overhead): the less repair traffic, then the
            // first in the grid.
            let repair = |p: &TunePoint| mean_half(&p.column(REPAIR), spec.confidence).0;
            x.objective(&spec)
                .total_cmp(&y.objective(&spec))
                .then(repair(x).total_cmp(&repair(y)))
                .then(x.index.cmp(&y.index))
        });
    let failure = if best.is_some() {
        None
    } else {
        let closest = points
            .iter()
            .filter(|p| !p.measured.is_empty())
            .min_by(|x, y| {
                x.shortfall(&spec)
                    .total_cmp(&y.shortfall(&spec))
                    .then(x.index.cmp(&y.index))
            });
        let undecided = points
            .iter()
            .filter(|p| p.status == Status::Undecided)
            .count();
        Some(match closest {
            Some(c) => format!(
                "no point is feasible at confidence {} ({undecided} undecided after {} seeds); the closest is {} (point {}): {}",
                spec.confidence,
                spec.max_seeds,
                c.label(&spec),
                c.index,
                figures(c, &spec)
            ),
            None => format!(
                "no point is feasible: every one of the {} points was pruned (see points.csv); the highest predicted availability is {:.6}",
                points.len(),
                points.iter().map(|p| p.predicted).fold(0.0, f64::max)
            ),
        })
    };
    let rel = Path::new(&base.scenario.name).join(format!("tune-{}", &hash[..12]));
    let target_dir = crate::output::inside(&opts.out, &rel).map_err(|e| e.to_string())?;
    let dir = write_outputs(
        &target_dir,
        &base,
        &spec,
        &points,
        best,
        &a_note,
        failure.as_deref(),
        evaluated,
    )
    .map_err(|e| format!("{e:#}"))?;
    Ok(TuneOutcome {
        dir,
        grid: points.len(),
        evaluated,
        ran,
        reused,
        recommended: best.map(|b| b.label(&spec)),
        failure,
        log,
        shard_stopped: None,
    })
}

fn checked_identity(base: &Scenario, prov: &Provenance) -> Result<String, String> {
    let mut b = base.clone();
    b.tune = None;
    b.sweep = None;
    let id: Identity = crate::runner::identity(&b, prov).map_err(|e| e.to_string())?;
    Ok(id.resolved)
}

/// The `measured` row of a run: availability, loss fraction, repair bytes
/// per peer per day and storage overhead from the P2P side of its
/// `summary.csv`; objects lost at the end and object-years stored (the
/// written objects not yet lost, summed over the P2P rows of
/// `over-time.csv`, each sample's count held until the next); the cost per
/// year of the P2P side's storage ([`storage_cost_per_year`]).
fn read_metrics(dir: &Path, s: &Scenario) -> Result<[f64; 7]> {
    let t = Table::read(&dir.join("summary.csv"))?;
    let (cm, cp) = (t.col("metric")?, t.col("p2p")?);
    let get = |name: &str| -> Result<f64> {
        let row = t
            .rows()
            .iter()
            .find(|r| r[cm] == name)
            .ok_or_else(|| anyhow!("{}: no `{name}` row", dir.display()))?;
        Ok(row[cp].parse::<f64>().unwrap_or(f64::NAN))
    };
    let written = get("objects_written")?;
    let lost = get("objects_lost")?;
    let loss = if written > 0.0 {
        lost / written
    } else {
        f64::NAN
    };
    let over = OverTime::read(dir)?;
    Ok([
        get("availability")? / 100.0,
        loss,
        get("repair_bytes_per_peer_day")?,
        get("storage_overhead")?,
        lost,
        over.object_years,
        storage_cost_per_year(dir, s, &over)?,
    ])
}

/// What `tune` integrates from the P2P rows of a run's `over-time.csv`.
struct OverTime {
    /// Object-years stored (written and not lost).
    object_years: f64,
    /// Raw bytes on disks × time, GB-months.
    stored_gb_months: f64,
    /// Logical bytes × time, GB-months.
    logical_gb_months: f64,
    /// Peers up × time, hours.
    up_hours: f64,
    /// From the first sample to the last, hours.
    hours: f64,
}

impl OverTime {
    fn read(dir: &Path) -> Result<OverTime> {
        let path = dir.join("over-time.csv");
        let t = Table::read(&path)?;
        let cols = [
            "system",
            "time_ns",
            "objects_written",
            "objects_lost",
            "stored_bytes",
            "logical_bytes",
            "peers_up",
        ]
        .map(|c| t.col(c));
        let [sys, time, wr, lo, st, lg, up] = cols;
        let (sys, time, wr, lo, st, lg, up) = (sys?, time?, wr?, lo?, st?, lg?, up?);
        let num = |r: &Vec<String>, c: usize| -> Result<f64> {
            r[c].parse::<f64>()
                .with_context(|| format!("{}: `{}` is not a number", path.display(), r[c]))
        };
        let mut prev: Option<[f64; 5]> = None;
        let (mut first, mut last) = (None, 0.0);
        let mut o = OverTime {
            object_years: 0.0,
            stored_gb_months: 0.0,
            logical_gb_months: 0.0,
            up_hours: 0.0,
            hours: 0.0,
        };
        const NS_PER_YEAR: f64 = 86_400e9 * DAYS_PER_YEAR;
        const NS_PER_MONTH: f64 = NS_PER_YEAR / 12.0;
        for r in t.rows().iter().filter(|r| r[sys] == "p2p") {
            let now = [
                num(r, time)?,
                num(r, wr)? - num(r, lo)?,
                num(r, st)?,
                num(r, lg)?,
                num(r, up)?,
            ];
            if let Some(p) = prev {
                let dt = now[0] - p[0];
                o.object_years += p[1] * dt / NS_PER_YEAR;
                o.stored_gb_months += p[2] / 1e9 * dt / NS_PER_MONTH;
                o.logical_gb_months += p[3] / 1e9 * dt / NS_PER_MONTH;
                o.up_hours += p[4] * dt / 3.6e12;
            }
            first.get_or_insert(now[0]);
            last = now[0];
            prev = Some(now);
        }
        o.hours = (last - first.unwrap_or(last)) / 3.6e12;
        Ok(o)
    }
}

/// The P2P side's running cost of storage, USD per year, under the
/// scenario's `[cost]` model ([`analysis::cost`]): the homes' disks for
/// the raw bytes held (`stored_bytes` of `over-time.csv`), the network
/// energy of the bytes reads and repair moved (the `storage.read_bytes`
/// and `storage.repair_bytes` counters of `p2p/counters.csv`), and, with
/// `home_allocation = "full"`, the homes' up time; over the sampled span,
/// scaled to a year. The objects' first writes are a one-off and are not
/// counted; nor are mesh routers (the same for every point).
fn storage_cost_per_year(dir: &Path, s: &Scenario, over: &OverTime) -> Result<f64> {
    if over.hours.is_nan() || over.hours <= 0.0 {
        return Ok(f64::NAN);
    }
    let path = dir.join("p2p").join("counters.csv");
    let t = Table::read(&path)?;
    let (cn, cv) = (t.col("name")?, t.col("value")?);
    let mut bytes = 0u64;
    for r in t.rows() {
        if matches!(
            r[cn].as_str(),
            "storage.read_bytes" | "storage.repair_bytes"
        ) {
            bytes += r[cv]
                .parse::<u64>()
                .with_context(|| format!("{}: `{}` is not a byte count", path.display(), r[cv]))?;
        }
    }
    let usage = analysis::cost::P2pUsage {
        hours: over.hours,
        host_up_hours: over.up_hours,
        bytes_by_service: analysis::cost::Services {
            lookups: 0,
            storage: bytes,
            compute: 0,
        },
        stored_gb_months: over.stored_gb_months,
        logical_gb_months: over.logical_gb_months,
        ..Default::default()
    };
    let dc = analysis::cost::DcUsage {
        hours: over.hours,
        ..Default::default()
    };
    let [p2p, _] = s
        .cost_model()
        .bills(&usage, &dc)
        .map_err(|e| anyhow!("key `cost.{}`: {}", e.key, e.message))?;
    Ok(p2p.total_cost() * DAYS_PER_YEAR * 24.0 / over.hours)
}

/// `v` with no decimals, or in scientific notation.
fn show_num(v: f64, sci: bool) -> String {
    if sci { e(v) } else { f(v, 0) }
}

/// `v` in scientific notation, blank when not finite.
fn e(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6e}")
    } else {
        String::new()
    }
}

fn f(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        String::new()
    }
}

/// "availability 0.9991 ± 0.0004, loss 0 ± 0, repair … (n seeds)".
fn figures(p: &TunePoint, spec: &TuneSpec) -> String {
    let c = spec.confidence;
    let (am, ah) = mean_half(&p.column(AVAIL), c);
    let (lm, lh) = mean_half(&p.column(LOSS), c);
    let (rm, rh) = mean_half(&p.column(REPAIR), c);
    let (yr, ylo, yhi) = p.loss_rate(c);
    let (cm, ch) = mean_half(&p.column(COST), c);
    format!(
        "availability {} ± {}, loss {} ± {}, loss per object-year {} [{}, {}] ({} lost in {} object-years), repair {} ± {} bytes per peer per day, cost {} ± {} USD per year, overhead {:.3} ({} seeds, {} % intervals)",
        f(am, 6),
        f(ah, 6),
        f(lm, 6),
        f(lh, 6),
        e(yr),
        e(ylo),
        e(yhi),
        p.column(LOST).iter().sum::<f64>(),
        f(p.column(OBJECT_YEARS).iter().sum::<f64>(), 1),
        f(rm, 0),
        f(rh, 0),
        e(cm),
        e(ch),
        p.redundancy.overhead(),
        p.measured.len(),
        f(100.0 * c, 1)
    )
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    target: &Path,
    base: &Scenario,
    spec: &TuneSpec,
    points: &[TunePoint],
    best: Option<&TunePoint>,
    a_note: &str,
    failure: Option<&str>,
    evaluated: usize,
) -> Result<PathBuf> {
    let stage = Staging::new(target.to_path_buf())?;
    let c = spec.confidence;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["index".into(), "redundancy".into()];
    head.extend(spec.axes.iter().map(|x| x.key.clone()));
    head.extend(
        [
            "status",
            "reason",
            "predicted_availability",
            "overhead",
            "seeds",
            "availability_mean",
            "availability_half_width",
            "loss_mean",
            "loss_half_width",
            "repair_bytes_per_peer_day_mean",
            "repair_bytes_per_peer_day_half_width",
            "measured_storage_overhead_mean",
            "predicted_loss_per_year",
            "objects_lost",
            "object_years",
            "loss_per_year",
            "loss_per_year_low",
            "loss_per_year_high",
            "cost_usd_per_year_mean",
            "cost_usd_per_year_half_width",
            "objective",
        ]
        .map(String::from),
    );
    w.write_record(&head)?;
    for p in points {
        let (am, ah) = mean_half(&p.column(AVAIL), c);
        let (lm, lh) = mean_half(&p.column(LOSS), c);
        let (rm, rh) = mean_half(&p.column(REPAIR), c);
        let (om, _) = mean_half(&p.column(OVERHEAD), c);
        let (yr, ylo, yhi) = p.loss_rate(c);
        let (cm, ch) = mean_half(&p.column(COST), c);
        let sum = |col: usize| {
            if p.measured.is_empty() {
                String::new()
            } else {
                p.column(col).iter().sum::<f64>().to_string()
            }
        };
        let mut rec = vec![p.index.to_string(), p.redundancy.label()];
        rec.extend(p.values.iter().map(show));
        rec.extend([
            p.status.name().to_string(),
            p.reason.clone(),
            f(p.predicted, 6),
            f(p.redundancy.overhead(), 6),
            p.measured.len().to_string(),
            f(am, 6),
            f(ah, 6),
            f(lm, 6),
            f(lh, 6),
            f(rm, 1),
            f(rh, 1),
            f(om, 6),
            p.predicted_loss
                .map_or(String::new(), |x| format!("{x:.6e}")),
            sum(LOST),
            if p.measured.is_empty() {
                String::new()
            } else {
                f(p.column(OBJECT_YEARS).iter().sum::<f64>(), 3)
            },
            e(yr),
            e(ylo),
            e(yhi),
            e(cm),
            e(ch),
            if p.measured.is_empty() && spec.objective != Objective::Overhead {
                String::new()
            } else if spec.objective == Objective::Cost {
                e(p.objective(spec))
            } else {
                f(p.objective(spec), 6)
            },
        ]);
        w.write_record(&rec)?;
    }
    stage.write("points.csv", w.into_inner().map_err(|e| anyhow!("{e}"))?)?;

    if let Some(b) = best {
        let st = b.scenario.storage.as_ref().expect("storage scenario");
        let mut t = toml::Table::new();
        t.insert(
            "storage".into(),
            toml::Value::try_from(st).context("printing [storage]")?,
        );
        let snippet = toml::to_string(&t)?;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# `scenarios tune` recommendation for {}: {} (point {}).",
            base.scenario.name,
            b.label(spec),
            b.index
        );
        let _ = writeln!(text, "# Measured: {}.", figures(b, spec));
        let _ = writeln!(
            text,
            "# Objective {} = {} ({}). Constraints: {}.",
            spec.objective.name(),
            if spec.objective == Objective::Cost {
                e(b.objective(spec))
            } else {
                f(b.objective(spec), 3)
            },
            spec.objective.unit(),
            constraints(spec)
        );
        text.push_str(&snippet);
        stage.write("recommendation.toml", text)?;
    }

    // Pareto plots: the objective against availability, and repair
    // bandwidth against durability; each simulated point by its status.
    let whiskers = |xy: &dyn Fn(&TunePoint) -> (f64, f64, f64)| {
        let mut series: Vec<analysis::plot::Whiskers> = Vec::new();
        for s in [Status::Feasible, Status::Infeasible, Status::Undecided] {
            let pts: Vec<(f64, f64, f64)> = points
                .iter()
                .filter(|p| p.status == s && !p.measured.is_empty())
                .map(xy)
                .filter(|(x, y, _)| x.is_finite() && y.is_finite())
                .map(|(x, y, h)| (x, y, if h.is_finite() { h } else { 0.0 }))
                .collect();
            if !pts.is_empty() {
                series.push((s.name().to_string(), pts));
            }
        }
        series
    };
    let mut plotted = Vec::new();
    /// File, title, x label, y label, bound label, bound, (x, y, whisker).
    type Plot<'a> = (
        &'a str,
        &'a str,
        String,
        &'a str,
        &'a str,
        Option<f64>,
        &'a dyn Fn(&TunePoint) -> (f64, f64, f64),
    );
    let plots: [Plot; 2] = [
        (
            "pareto",
            "Candidates: objective against availability",
            format!("{} ({})", spec.objective.name(), spec.objective.unit()),
            "availability (fraction of objects readable)",
            "min_availability",
            spec.min_availability,
            &|p: &TunePoint| {
                let (am, ah) = mean_half(&p.column(AVAIL), c);
                (p.objective(spec), am, ah)
            },
        ),
        (
            "pareto-durability",
            "Candidates: repair bandwidth against durability",
            "repair bandwidth (bytes per peer per day)".to_string(),
            "durability (fraction of written objects not lost)",
            "1 − max_loss",
            spec.max_loss.map(|b| 1.0 - b),
            &|p: &TunePoint| {
                let (rm, _) = mean_half(&p.column(REPAIR), c);
                let (lm, lh) = mean_half(&p.column(LOSS), c);
                (rm, 1.0 - lm, lh)
            },
        ),
    ];
    for (file, title, xlabel, ylabel, line_label, bound, xy) in plots {
        let series = whiskers(xy);
        if !base.output.plots || series.is_empty() {
            continue;
        }
        let xs: Vec<f64> = series
            .iter()
            .flat_map(|(_, v)| v.iter().map(|p| p.0))
            .collect();
        let (x0, x1) = (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let line = match bound {
            Some(b) => vec![(x0, b), (x1.max(x0 + 1e-9), b)],
            None => Vec::new(),
        };
        analysis::plot::labelled_agreement(
            &stage.dir().join(file),
            title,
            &xlabel,
            ylabel,
            line_label,
            &line,
            &series,
        )?;
        plotted.push(file);
    }

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Tune: {}\n\n{}\n",
        base.scenario.name, base.scenario.description
    );
    let _ = writeln!(
        md,
        "Search: {} points in the grid, {} pruned before or during the search, {evaluated} simulated. Constraints: {}; objective: {} ({}), minimised.\n",
        points.len(),
        points.iter().filter(|p| p.status == Status::Pruned).count(),
        constraints(spec),
        spec.objective.name(),
        spec.objective.unit()
    );
    let _ = writeln!(
        md,
        "Per-peer availability used by the pruning heuristic: {a_note}. A point is pruned when its independent-availability prediction is below min_availability − {} (a heuristic, not a bound: see docs/scenario-reference.md, [tune]).\n",
        spec.prune_margin
    );
    if spec.max_loss.is_some() || spec.max_loss_per_year.is_some() {
        let _ = writeln!(
            md,
            "Loss prediction: the birth–death chain (holders leave for good at rate 1/churn.lifetime, a lost fragment is rebuilt at rate 1/storage.detection_timeout, rebuilds in parallel; loss per object-year = 1/MTTDL), where it applies: eager repair and a `churn.lifetime`. A point is pruned when the prediction exceeds a loss bound {} times (`loss_prune_factor`; a heuristic: false alarms of the failure detector add copies the chain does not have).\n",
            spec.loss_prune_factor
        );
    }
    match (best, failure) {
        (Some(b), _) => {
            let _ = writeln!(
                md,
                "**Recommendation**: {} — {}. The `[storage]` snippet is in `recommendation.toml`.\n",
                b.label(spec),
                figures(b, spec)
            );
        }
        (None, Some(why)) => {
            let _ = writeln!(md, "**No recommendation**: {why}.\n");
        }
        (None, None) => {}
    }
    let _ = writeln!(
        md,
        "| point | status | predicted availability | predicted loss per object-year | seeds | availability | loss | loss per object-year [interval] | repair (B/peer/day) | cost (USD/year) | overhead |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in points {
        let (am, ah) = mean_half(&p.column(AVAIL), c);
        let (lm, lh) = mean_half(&p.column(LOSS), c);
        let (rm, _) = mean_half(&p.column(REPAIR), c);
        let (cm, _) = mean_half(&p.column(COST), c);
        let (yr, ylo, yhi) = p.loss_rate(c);
        let rate = if yr.is_finite() {
            format!("{} [{}, {}]", e(yr), e(ylo), e(yhi))
        } else {
            String::new()
        };
        let st = if p.status == Status::Pruned {
            format!("pruned: {}", p.reason)
        } else {
            p.status.name().to_string()
        };
        let pm = |m: f64, h: f64, d: usize| {
            if !m.is_finite() {
                String::new()
            } else if h.is_finite() {
                format!("{} ± {}", f(m, d), f(h, d))
            } else {
                f(m, d)
            }
        };
        let _ = writeln!(
            md,
            "| {} | {st} | {} | {} | {} | {} | {} | {rate} | {} | {} | {:.3} |",
            p.label(spec),
            f(p.predicted, 6),
            p.predicted_loss.map_or(String::new(), e),
            p.measured.len(),
            pm(am, ah, 6),
            pm(lm, lh, 6),
            f(rm, 0),
            e(cm),
            p.redundancy.overhead()
        );
    }
    if plotted.contains(&"pareto") {
        let _ = writeln!(
            md,
            "\n![pareto](pareto.svg)\n\nEach simulated point: its objective against its mean availability, with the {} % interval over seeds as a whisker; the line is min_availability.",
            f(100.0 * c, 1)
        );
    }
    if plotted.contains(&"pareto-durability") {
        let _ = writeln!(
            md,
            "\n![pareto-durability](pareto-durability.svg)\n\nEach simulated point: its mean repair bandwidth against its mean durability (the fraction of written objects not lost by the run's end), with the {} % interval of the loss as a whisker; the line, if any, is 1 − max_loss. The cheap and durable points are at the top left.",
            f(100.0 * c, 1)
        );
    }
    let _ = writeln!(
        md,
        "\n## Files\n\n- `points.csv`: every point of the grid: parameters, status, the reason a point was pruned, the predicted availability, measured means and interval half-widths, seeds, objective.\n- `recommendation.toml`: the recommended `[storage]` table (only when a point is feasible).\n- `pareto.svg`, `pareto.png`, `pareto-durability.svg`, `pareto-durability.png`: the plots above.\n\nLoss is the fraction of written objects lost by the end of the run (objects_lost / objects_written of the P2P side); availability the time-average fraction of written objects readable (the storage summary's `availability`, / 100). Intervals: mean ± t·s/√n over seeds, Student t at the stated confidence; a point whose seeds all agree has a zero-width interval. Loss per object-year is the objects lost over the object-years stored (written and not yet lost, from `over-time.csv`), pooled over the seeds; its interval is the union of the exact Poisson (Garwood) interval of the pooled count and the Student interval of the seeds' own rates, so a run without any loss still bounds the rate from above. Cost is the P2P side's running cost of storage under the scenario's `[cost]` model (disks for the raw bytes held, network energy of reads and repair; first writes and routers not counted), scaled to a year."
    );
    stage.write("report.md", md)?;
    Ok(stage.commit()?)
}

fn constraints(spec: &TuneSpec) -> String {
    let mut c = Vec::new();
    if let Some(b) = spec.max_loss {
        c.push(format!("loss ≤ {b}"));
    }
    if let Some(b) = spec.max_loss_per_year {
        c.push(format!("loss per object-year ≤ {b}"));
    }
    if let Some(b) = spec.min_availability {
        c.push(format!("availability ≥ {b}"));
    }
    format!("{} at confidence {}", c.join(", "), spec.confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_table() {
        // Published two-sided 95 % quantiles (as analysis::stats::t975).
        for (df, q) in [
            (1, 12.706),
            (2, 4.303),
            (4, 2.776),
            (10, 2.228),
            (29, 2.045),
        ] {
            let x = t_quantile(0.95, df);
            assert!((x - q).abs() < 2e-3, "df {df}: {x} vs {q}");
        }
        // 99 %, df 5: 4.032 (tables).
        assert!((t_quantile(0.99, 5) - 4.032).abs() < 2e-3);
    }

    #[test]
    fn availability_of_sessions_and_of_a_trace() {
        let dir = std::env::temp_dir().join(format!("pc-tune-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Host 0 up for 1 h of the run's 2 h, host 1 for all of it, host 2
        // (not followed by either of the 2 peers) never: a = (0.5 + 1) / 2.
        let trace = dir.join("t.csv");
        std::fs::write(&trace, "node,up_at,down_at\n0,0,1h\n1,0,3h\n2,5h,6h\n").unwrap();
        let text = |churn: String| {
            format!(
                "[scenario]\nname = \"t\"\nwarmup = \"30min\"\nduration = \"90min\"\n[topology]\nkind = \"internet\"\nnodes = 2\n[churn]\n{churn}\n[storage]\n"
            )
        };
        let origin = Origin::File("t.toml".into());
        let s: Scenario = load(
            &text(format!("trace = {:?}", trace.display().to_string())),
            &origin,
            &[],
        )
        .unwrap();
        let (a, _) = peer_availability(&s, 2).unwrap();
        assert!((a - 0.75).abs() < 1e-12, "{a}");
        // Sessions: mean up 3 h, mean down 1 h.
        let s: Scenario = load(
            &text("up = \"exponential(3h)\"\ndown = \"exponential(1h)\"".into()),
            &origin,
            &[],
        )
        .unwrap();
        let (a, _) = peer_availability(&s, 2).unwrap();
        assert!((a - 0.75).abs() < 1e-12, "{a}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn point(measured: Vec<[f64; 7]>) -> TunePoint {
        let s: Scenario = load(
            "[scenario]\nname = \"t\"\nduration = \"1d\"\n[topology]\nkind = \"internet\"\nnodes = 2\n[storage]\n",
            &Origin::File("t.toml".into()),
            &[],
        )
        .unwrap();
        TunePoint {
            index: 0,
            redundancy: Redundancy::Replicas(3),
            values: Vec::new(),
            scenario: s,
            predicted: 1.0,
            predicted_loss: None,
            status: Status::Undecided,
            reason: String::new(),
            measured,
        }
    }

    fn seed(lost: f64, object_years: f64) -> [f64; 7] {
        let mut m = [0.0; 7];
        m[LOST] = lost;
        m[OBJECT_YEARS] = object_years;
        m
    }

    #[test]
    fn loss_per_object_year_is_pooled_with_a_poisson_bound() {
        // No loss in 3 × 100 object-years: the rate is 0 and the 95 %
        // upper bound −ln(0.025) / 300 (the seeds' rates all 0).
        let p = point(vec![seed(0.0, 100.0); 3]);
        let (r, lo, hi) = p.loss_rate(0.95);
        assert_eq!((r, lo), (0.0, 0.0));
        assert!((hi - 3.6889 / 300.0).abs() < 1e-5, "{hi}");
        // 10 lost in 200 object-years, evenly: 0.05; the Garwood limits
        // 4.795 and 18.39 over 200 are wider than the seeds' own spread.
        let p = point(vec![seed(5.0, 100.0), seed(5.0, 100.0)]);
        let (r, lo, hi) = p.loss_rate(0.95);
        assert!((r - 0.05).abs() < 1e-12);
        assert!((lo - 4.795 / 200.0).abs() < 1e-4 && (hi - 18.39 / 200.0).abs() < 1e-4);
        // Losses that come together (all in one seed): the seeds' rates
        // 0.1 and 0 have mean 0.05 and t(1) · 0.05 = 0.635 as half-width,
        // wider than the Poisson interval.
        let p = point(vec![seed(10.0, 100.0), seed(0.0, 100.0)]);
        let (_, lo, hi) = p.loss_rate(0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - (0.05 + 12.706 * 0.05)).abs() < 1e-3, "{hi}");
        // A constraint: decided feasible under 0.05, infeasible under 0.01,
        // undecided between.
        let spec = |b: f64| {
            let mut sp = TuneSpec::parse(&{
                let mut s = point(vec![]).scenario;
                s.tune = Some(toml::from_str(&format!("max_loss_per_year = {b}")).unwrap());
                s.storage.as_mut().unwrap().objects = 1000;
                s.scenario.duration = Duration::from_secs(365 * 86_400);
                s
            })
            .unwrap();
            sp.confidence = 0.95;
            sp
        };
        let mut p = point(vec![seed(5.0, 100.0), seed(5.0, 100.0)]);
        for (b, want) in [
            (0.1, Status::Feasible),
            (0.01, Status::Infeasible),
            (0.05, Status::Undecided),
        ] {
            p.decide(&spec(b));
            assert_eq!(p.status, want, "bound {b}");
        }
    }

    #[test]
    fn a_loss_rate_too_small_to_show_is_refused_with_the_exposure_needed() {
        let mut s = point(vec![]).scenario;
        s.storage.as_mut().unwrap().objects = 1000;
        s.scenario.duration = Duration::from_secs(365 * 86_400);
        // 12 seeds × 1000 object-years: 3.689 / 12000 ≈ 3.07e-4 at best.
        s.tune = Some(toml::from_str("max_loss_per_year = 1e-6").unwrap());
        let e = TuneSpec::parse(&s).unwrap_err();
        assert!(e.contains("tune.max_loss_per_year"), "{e}");
        assert!(e.contains("3.689e6 object-years are needed"), "{e}");
        s.tune = Some(toml::from_str("max_loss_per_year = 4e-4").unwrap());
        assert!(TuneSpec::parse(&s).is_ok());
    }

    #[test]
    fn object_years_and_cost_from_a_run_by_hand() {
        let dir = std::env::temp_dir().join(format!("pc-tune-cost-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("p2p")).unwrap();
        let h = 3_600_000_000_000u64;
        // Two days sampled: 100 objects (one lost at 24 h) of 10 GB each
        // (1 TB on disks, 0.5 TB logical), 3 of 4 peers up.
        let mut rows = String::from(
            "system,time_ns,peers,peers_up,objects_written,objects_readable,objects_lost,repair_bytes_true_loss,repair_bytes_false_alarm,repair_bytes_audit,stored_bytes,logical_bytes\n",
        );
        for (t, lost) in [(0, 0), (24, 1), (48, 1)] {
            rows += &format!(
                "p2p,{},4,3,100,100,{lost},0,0,0,1000000000000,500000000000\n",
                t * h
            );
        }
        rows += "datacenter,0,4,4,100,100,0,0,0,0,7,7\n";
        std::fs::write(dir.join("over-time.csv"), rows).unwrap();
        std::fs::write(
            dir.join("p2p/counters.csv"),
            "name,value\nstorage.read_bytes,3000000000\nstorage.repair_bytes,7000000000\nstorage.write_bytes,99\n",
        )
        .unwrap();
        let o = OverTime::read(&dir).unwrap();
        // 100 objects for a day, 99 for the next.
        assert!((o.object_years - 199.0 / 365.0).abs() < 1e-12);
        assert!((o.hours - 48.0).abs() < 1e-12);
        assert!((o.up_hours - 3.0 * 48.0).abs() < 1e-9);
        // Defaults: disks 0.5 W/TB, network 0.0001 kWh/GB, home power
        // marginal, 0.2225 USD/kWh. In 48 h: 1 TB × 0.5 W × 48 h = 0.024
        // kWh, and 10 GB moved × 0.0001 = 0.001 kWh; × 365 / 2 a year.
        let s = point(vec![]).scenario;
        let usd = storage_cost_per_year(&dir, &s, &o).unwrap();
        let want = (0.024 + 0.001) * 0.2225 * 365.0 / 2.0;
        assert!((usd - want).abs() < 1e-3 * want, "{usd} vs {want}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn predictions_in_closed_form() {
        // 3 replicas, a = 0.5: 1 − 0.125.
        assert!((predicted_availability(Redundancy::Replicas(3), 0.5) - 0.875).abs() < 1e-12);
        // 2 of 3, a = 0.5: P[X ≥ 2] = (3 + 1) / 8.
        assert!((predicted_availability(Redundancy::Erasure(2, 3), 0.5) - 0.5).abs() < 1e-12);
        // 1 of n is n replicas.
        let a = 0.8;
        assert!(
            (predicted_availability(Redundancy::Erasure(1, 4), a)
                - predicted_availability(Redundancy::Replicas(4), a))
            .abs()
                < 1e-12
        );
    }
}
