//! The report of the flagship experiment (`city-mesh`): one node stack per
//! home of a city mesh running lookups, storage and compute together,
//! against a data center reached through the mesh's gateways, both with the
//! same paired workload.
//!
//! # Input
//!
//! A flagship result directory holds three part folders, each a complete
//! result directory of an existing experiment, and two files of its own:
//! - `lookups/`: a lookup result (see [`crate::report`]);
//! - `storage/`: a storage result (see [`crate::storage`]);
//! - `compute/`: a compute result (see [`crate::compute`]);
//! - `gateways.csv`: `system,time_ns,link,capacity_bps,bytes`, one row per
//!   sampled instant per gateway link per system. `system` is `p2p` or
//!   `datacenter`; `time_ns` the instant (an integer ≥ 0); `link` a
//!   non-empty label without control characters, such as `gw-3→internet`;
//!   `capacity_bps` the link's capacity in bits per second (a number > 0);
//!   `bytes` the bytes the link carried since the run's start (an integer
//!   ≥ 0, non-decreasing per link). Both systems are sampled at the same
//!   instants, and every link of a system has a row at every instant of
//!   that system;
//! - `cost.csv`: `side,service,quantity,unit,value`, exactly as
//!   [`crate::cost::cost_csv`] writes it (its vocabulary is that module's:
//!   [`Side`], [`Service`], [`cost::ALL_SERVICES`], [`Quantity`]). `side` is
//!   `p2p` or `datacenter`; `service` one of `storage`, `compute`,
//!   `lookups`, or `all` (the side's total); `quantity` one of
//!   `energy_devices`, `energy_network`, `energy_overhead`, `energy`
//!   (unit `kWh`), `energy_cost`, `fees`, `cost` (`USD`), `units`,
//!   `energy_per_unit`, `cost_per_unit` (per service only; units
//!   `GB-month`, `job`, `lookup`, and `kWh/` or `USD/` one of them) and
//!   `shared_baseline` (`kWh`, `all` only); `unit` exactly the one just
//!   given for the row's service and quantity; `value` a finite number
//!   ≥ 0, or blank for a per-unit figure (no units to divide by). Each
//!   (service, quantity) has at most one row per side, and a row on one
//!   side needs its partner on the other. Required ([`COST_SUMMARY`]):
//!   `energy`, `cost`, `energy_per_unit` and `cost_per_unit` of `storage`,
//!   `compute` and `lookups`, and `energy_devices`, `energy_network`,
//!   `energy_overhead`, `energy` and `cost` of `all`; the other rows the
//!   writer gives are checked and otherwise unused.
//!
//! Input is checked strictly, as in [`crate::report`]: a value of the wrong
//! form, an unknown system, side, service or quantity, a quantity given
//! for a service that has none (`units` of `all`), a unit other than the
//! writer's, a second row for the same link and instant (or the same side,
//! service and quantity), cumulative bytes that decrease, instants of one
//! system that the other lacks, a link without a row at one of its
//! system's instants, a cost row without its other side, or a required
//! row that is missing is an error naming the file, line and column and
//! the expected form. Columns not named above are ignored.
//!
//! # Gateway-link utilisation
//!
//! Between two consecutive instants *t₀* < *t₁*, a link that carried
//! *b₁* − *b₀* bytes had a utilisation of 8 (*b₁* − *b₀*) / (capacity ×
//! (*t₁* − *t₀*)) × 100 %, with the capacity of its row at *t₁*. Per side:
//! - `gateways.utilisation_mean`: all gateway links together over the
//!   sampled period, Σ bits / Σ (capacity × interval) × 100 (n: intervals);
//! - `gateways.utilisation_peak`: the highest utilisation of one link in
//!   one interval;
//! - `gateways.busiest_link_utilisation_mean` and `…_peak`: the same for the
//!   busiest link alone (the one with the highest mean; ties go to the first
//!   label in byte order), whose label the report names;
//! - `gateways.bytes_carried`: the bytes carried by all gateway links
//!   between the first and the last instant.
//!
//! None is paired: the two sides load different links in different ways.
//!
//! # Output
//!
//! [`write()`] first runs the three part writers ([`crate::report::write`] on
//! `lookups/`, [`crate::storage::write`] on `storage/`,
//! [`crate::compute::write`] on `compute/`), which write each part's
//! `summary.csv`, `report.md` and `plots/`. Then, in the directory itself:
//! - `summary.csv`: the form of every other summary (`metric,unit,p2p,
//!   datacenter,difference,diff_ci95_low,diff_ci95_high,n`): every part's
//!   rows with the metric prefixed by the part and a dot
//!   ([`METRIC_SEPARATOR`]: `lookups.latency_mean`, `storage.availability`,
//!   `compute.success_rate`), then the gateway rows above, then the
//!   required rows of `cost.csv` in [`COST_SUMMARY`] order, each named
//!   `cost.<service>_<quantity>` (`cost.storage_energy_per_unit`,
//!   `cost.all_energy_devices`, `cost.all_cost`) with its unit and n = 1.
//!   A value is written with 6 decimals, or in exponent form (`2.5e-7`)
//!   when smaller than 0.001 and not 0, so that a cost per lookup does not
//!   round to 0; a blank has no value. Metric names hold no space or colon:
//!   they may name files (a sweep's plots).
//! - `report.md`: the at-a-glance table ([`GLANCE`]: one row per figure,
//!   P2P, data center, the paired difference with its 95 % interval where
//!   the part has one, and which side wins by [`verdict`]'s rule), the
//!   busiest gateway link of each side, each side's energy by part
//!   (devices, network, facility overhead) with its total and its cost
//!   (the `all` rows of `cost.csv`), the plots with one sentence each,
//!   links to the three part reports, the full summary table and the list
//!   of files.
//! - `plots/` (when asked; SVG and PNG, see [`crate::plot`]):
//!   `read_latency_cdf` (successful reads, from the storage part),
//!   `completion_time_cdf` (accepted jobs, from the compute part),
//!   `availability_over_time` (objects readable as a share of objects
//!   written, from `storage/over-time.csv`), `gateway_load_over_time` (per
//!   side, all gateway links together and the busiest link alone, per
//!   interval), `energy_by_service` and `cost_by_service` (bars per side
//!   for each service and for `all`, from the `energy` and `cost` rows of
//!   `cost.csv`).
//!
//! A value without observations is blank (in `summary.csv`) or `—` (in
//! `report.md`): never NaN.

use crate::cost::{self, Quantity, Service, Side};
use crate::plot;
use crate::report::{self, ReportError, SYSTEMS, SummaryRow, Table};
use crate::{compute, storage};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Display names of the two systems, in [`SYSTEMS`] order.
const LABELS: [&str; 2] = ["P2P", "data center"];

/// Nanoseconds in an hour.
const NS_PER_HOUR: f64 = 3.6e12;

/// Between a summary metric's prefix (a part, `gateways` or `cost`) and its
/// name: `lookups.latency_mean`. File-safe, as metric names become file
/// names (a sweep's plots).
pub const METRIC_SEPARATOR: char = '.';

/// The rows of `cost.csv` that the report uses and requires, in summary
/// order: per service ([`Service::ALL`]) its energy, cost and per-unit
/// figures; for the side's total ([`cost::ALL_SERVICES`], `None` here) its
/// energy by part (devices, network, overhead), its energy and its cost.
pub const COST_SUMMARY: [(Option<Service>, Quantity); 17] = [
    (Some(Service::Storage), Quantity::Energy),
    (Some(Service::Storage), Quantity::Cost),
    (Some(Service::Storage), Quantity::EnergyPerUnit),
    (Some(Service::Storage), Quantity::CostPerUnit),
    (Some(Service::Compute), Quantity::Energy),
    (Some(Service::Compute), Quantity::Cost),
    (Some(Service::Compute), Quantity::EnergyPerUnit),
    (Some(Service::Compute), Quantity::CostPerUnit),
    (Some(Service::Lookups), Quantity::Energy),
    (Some(Service::Lookups), Quantity::Cost),
    (Some(Service::Lookups), Quantity::EnergyPerUnit),
    (Some(Service::Lookups), Quantity::CostPerUnit),
    (None, Quantity::EnergyDevices),
    (None, Quantity::EnergyNetwork),
    (None, Quantity::EnergyOverhead),
    (None, Quantity::Energy),
    (None, Quantity::Cost),
];

/// The three parts: folder name (and metric prefix).
pub const PARTS: [&str; 3] = ["lookups", "storage", "compute"];

/// The notes that head each report (markdown).
#[derive(Clone, Copy, Debug)]
pub struct CityNotes<'a> {
    /// The flagship's own `report.md`.
    pub top: &'a str,
    /// `lookups/report.md`.
    pub lookups: &'a str,
    /// `storage/report.md`.
    pub storage: &'a str,
    /// `compute/report.md`.
    pub compute: &'a str,
}

impl<'a> CityNotes<'a> {
    /// The same notes for every report.
    pub fn same(notes: &'a str) -> CityNotes<'a> {
        CityNotes {
            top: notes,
            lookups: notes,
            storage: notes,
            compute: notes,
        }
    }
}

/// Which side a figure favours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Winner {
    /// The P2P side is better.
    P2p,
    /// The data center is better.
    Datacenter,
    /// Neither: the interval holds 0, or the values are equal.
    Neither,
    /// A side has no value.
    NoValue,
}

/// The verdict on one figure: who wins, and whether by a paired interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Who wins.
    pub winner: Winner,
    /// Decided by the 95 % interval of a paired difference (else by value).
    pub paired: bool,
}

impl Verdict {
    /// The report's words for it.
    pub fn text(&self) -> &'static str {
        match (self.winner, self.paired) {
            (Winner::P2p, true) => "P2P",
            (Winner::Datacenter, true) => "data center",
            (Winner::Neither, true) => "no clear difference",
            (Winner::P2p, false) => "P2P (by value; unpaired)",
            (Winner::Datacenter, false) => "data center (by value; unpaired)",
            (Winner::Neither, false) => "equal (unpaired)",
            (Winner::NoValue, _) => "— (no value)",
        }
    }
}

/// Which side `row` favours. With a paired difference (P2P − data center)
/// whose 95 % interval is finite: the side the interval favours when it
/// excludes 0 (entirely below 0 favours P2P when lower is better, the data
/// center when higher is better; entirely above 0 the reverse), otherwise
/// neither ("no clear difference"). Without one: the better value, marked
/// unpaired (equal values: neither). A side without a value: no verdict.
pub fn verdict(row: &SummaryRow, lower_is_better: bool) -> Verdict {
    if !row.p2p.is_finite() || !row.datacenter.is_finite() {
        return Verdict {
            winner: Winner::NoValue,
            paired: false,
        };
    }
    if let Some((d, lo, hi)) = row.difference
        && d.is_finite()
        && lo.is_finite()
        && hi.is_finite()
    {
        let winner = if hi < 0.0 {
            if lower_is_better {
                Winner::P2p
            } else {
                Winner::Datacenter
            }
        } else if lo > 0.0 {
            if lower_is_better {
                Winner::Datacenter
            } else {
                Winner::P2p
            }
        } else {
            Winner::Neither
        };
        return Verdict {
            winner,
            paired: true,
        };
    }
    let (a, b) = (row.p2p, row.datacenter);
    let winner = if a == b {
        Winner::Neither
    } else if (a < b) == lower_is_better {
        Winner::P2p
    } else {
        Winner::Datacenter
    };
    Verdict {
        winner,
        paired: false,
    }
}

/// One row of the at-a-glance table: its label, the metric of the
/// flagship's `summary.csv` it shows, and whether lower is better.
pub type GlanceSpec = (&'static str, &'static str, bool);

/// The at-a-glance table, in order.
pub const GLANCE: [GlanceSpec; 21] = [
    ("Read success", "storage.read_success_rate", false),
    ("Read availability", "storage.availability", false),
    ("Objects lost", "storage.objects_lost", true),
    ("Read latency p50", "storage.read_latency_p50", true),
    ("Read latency p99", "storage.read_latency_p99", true),
    ("Job success", "compute.success_rate", false),
    ("Job completion p50", "compute.completion_time_p50", true),
    ("Job completion p99", "compute.completion_time_p99", true),
    ("Wrong results accepted", "compute.wrong_accepted", true),
    ("Lookup success", "lookups.correct_rate", false),
    ("Lookup latency (mean)", "lookups.latency_mean", true),
    ("Lookup latency p99", "lookups.latency_p99", true),
    (
        "Gateway-link utilisation (mean)",
        "gateways.utilisation_mean",
        true,
    ),
    (
        "Gateway-link utilisation (peak)",
        "gateways.utilisation_peak",
        true,
    ),
    (
        "Busiest gateway link (mean)",
        "gateways.busiest_link_utilisation_mean",
        true,
    ),
    (
        "Energy per stored GB-month",
        "cost.storage_energy_per_unit",
        true,
    ),
    (
        "Cost per stored GB-month",
        "cost.storage_cost_per_unit",
        true,
    ),
    ("Energy per job", "cost.compute_energy_per_unit", true),
    ("Cost per job", "cost.compute_cost_per_unit", true),
    ("Energy per lookup", "cost.lookups_energy_per_unit", true),
    ("Cost per lookup", "cost.lookups_cost_per_unit", true),
];

/// One row of the at-a-glance table, as computed.
#[derive(Clone, Debug, PartialEq)]
pub struct GlanceRow {
    /// What it shows.
    pub label: &'static str,
    /// The summary row it comes from.
    pub row: SummaryRow,
    /// Lower is better.
    pub lower_is_better: bool,
    /// Who wins.
    pub verdict: Verdict,
}

/// One side's gateway links: utilisation figures and curves.
#[derive(Clone, Debug, Default)]
pub struct GatewayLoad {
    /// All links together over the sampled period (%).
    pub mean: f64,
    /// The highest utilisation of one link in one interval (%).
    pub peak: f64,
    /// The busiest link's label (empty without links).
    pub busiest: String,
    /// The busiest link's mean utilisation (%).
    pub busiest_mean: f64,
    /// The busiest link's highest utilisation in one interval (%).
    pub busiest_peak: f64,
    /// Bytes carried by all links between the first and the last instant.
    pub bytes: f64,
    /// Intervals between instants.
    pub intervals: usize,
    /// All links together per interval: (hours at the interval's end, %).
    pub total_over_time: Vec<(f64, f64)>,
    /// The busiest link per interval: (hours at the interval's end, %).
    pub busiest_over_time: Vec<(f64, f64)>,
}

/// One (service, quantity) of `cost.csv` for both sides.
#[derive(Clone, Debug)]
struct CostEntry {
    /// In [`Side::ALL`] order; NaN when blank.
    value: [f64; 2],
    /// The row index of each side, when read.
    row: [Option<usize>; 2],
}

/// `cost.csv` as read and checked by [`costs`].
#[derive(Clone, Debug, Default)]
pub struct Costs {
    rows: BTreeMap<(Option<Service>, Quantity), CostEntry>,
}

impl Costs {
    /// The value of `quantity` for `service` (`None`: the side's total,
    /// [`cost::ALL_SERVICES`]) on each side, in [`Side::ALL`] order (NaN
    /// when blank); `None` when the file has no such row.
    pub fn get(&self, service: Option<Service>, quantity: Quantity) -> Option<[f64; 2]> {
        self.rows.get(&(service, quantity)).map(|e| e.value)
    }

    /// The value of a required row ([`COST_SUMMARY`]): [`costs`] has
    /// checked that it is there.
    fn required(&self, service: Option<Service>, quantity: Quantity) -> [f64; 2] {
        self.get(service, quantity).unwrap_or([f64::NAN; 2])
    }
}

/// What the flagship report computed.
pub struct CityAnalysis {
    /// The flagship's `summary.csv` rows.
    pub summary: Vec<SummaryRow>,
    /// The at-a-glance table.
    pub glance: Vec<GlanceRow>,
    /// Each side's gateway-link load, in [`SYSTEMS`] order.
    pub gateways: [GatewayLoad; 2],
    /// The lookup part.
    pub lookups: report::Analysis,
    /// The storage part.
    pub storage: storage::StorageAnalysis,
    /// The compute part.
    pub compute: compute::ComputeAnalysis,
}

/// One side's gateway links by label: each one's samples `(time_ns,
/// capacity_bps, bytes, row)`, in time order.
type Links = BTreeMap<String, Vec<(u64, f64, u64, usize)>>;

/// Read and check `gateways.csv`; each side's load.
pub fn gateways(path: &Path) -> Result<[GatewayLoad; 2], ReportError> {
    let t = Table::read(path)?;
    let (cs, ct, cl, cc, cb) = (
        t.col("system")?,
        t.col("time_ns")?,
        t.col("link")?,
        t.col("capacity_bps")?,
        t.col("bytes")?,
    );
    // Per side, per link (by label): (time, capacity, bytes, row).
    let mut links: [Links; 2] = Default::default();
    for i in 0..t.rows().len() {
        let s = t.system(i, cs)?;
        let time = t.unsigned(i, ct)?;
        let label = &t.rows()[i][cl];
        if label.is_empty() || label.chars().any(char::is_control) {
            return Err(t.bad(i, cl, "a link label (not empty, no control characters)"));
        }
        let cap = t
            .non_negative(i, cc)
            .ok()
            .filter(|c| *c > 0.0)
            .ok_or_else(|| t.bad(i, cc, "a number > 0 (bits per second)"))?;
        let bytes = t.unsigned(i, cb)?;
        let samples = links[s].entry(label.clone()).or_default();
        if let Some(&(t0, _, b0, r0)) = samples.last() {
            if time <= t0 {
                return Err(t.error_at(
                    i,
                    ct,
                    &format!(
                        "{time} is not later than the previous sample of link {} on {} ({t0}, line {})",
                        t.quoted(i, cl),
                        SYSTEMS[s],
                        t.line(r0)
                    ),
                ));
            }
            if bytes < b0 {
                return Err(t.error_at(
                    i,
                    cb,
                    &format!(
                        "cumulative bytes decrease: {bytes} after {b0} (line {}) on link {} of {}",
                        t.line(r0),
                        t.quoted(i, cl),
                        SYSTEMS[s]
                    ),
                ));
            }
        }
        samples.push((time, cap, bytes, i));
    }
    let instants: [std::collections::BTreeSet<u64>; 2] =
        [0, 1].map(|s| links[s].values().flatten().map(|x| x.0).collect());
    for i in 0..t.rows().len() {
        let s = t.system(i, cs)?;
        let time = t.unsigned(i, ct)?;
        if !instants[1 - s].contains(&time) {
            return Err(t.error_at(
                i,
                ct,
                &format!(
                    "{} has no sample at {time}: both systems are sampled at the same instants",
                    SYSTEMS[1 - s]
                ),
            ));
        }
    }
    for s in 0..2 {
        for samples in links[s].values() {
            if samples.len() != instants[s].len() {
                let missing = instants[s]
                    .iter()
                    .find(|x| !samples.iter().any(|y| y.0 == **x))
                    .copied()
                    .unwrap_or(0);
                let r = samples[0].3;
                return Err(t.error_at(
                    r,
                    cl,
                    &format!(
                        "link {} of {} (first row here) has no row at {missing}, an instant of {}: every link is sampled at every instant",
                        t.quoted(r, cl),
                        SYSTEMS[s],
                        SYSTEMS[s]
                    ),
                ));
            }
        }
    }
    Ok([0, 1].map(|s| load(&links[s], &instants[s].iter().copied().collect::<Vec<_>>())))
}

/// One side's load from its links' samples, each aligned with `instants`.
fn load(links: &Links, instants: &[u64]) -> GatewayLoad {
    let intervals = instants.len().saturating_sub(1);
    let util = |bits: f64, cap_s: f64| {
        if cap_s > 0.0 {
            100.0 * bits / cap_s
        } else {
            f64::NAN
        }
    };
    let mut all = (0.0, 0.0);
    let mut peak = f64::NAN;
    let mut per_interval = vec![(0.0, 0.0); intervals];
    // (mean, label) of the busiest link so far.
    let mut busiest: Option<(f64, &String)> = None;
    for (label, v) in links {
        let mut own = (0.0, 0.0);
        for k in 1..v.len() {
            let dt = (v[k].0 - v[k - 1].0) as f64 / 1e9;
            let bits = 8.0 * (v[k].2 - v[k - 1].2) as f64;
            let cap_s = v[k].1 * dt;
            own.0 += bits;
            own.1 += cap_s;
            per_interval[k - 1].0 += bits;
            per_interval[k - 1].1 += cap_s;
            peak = peak.max(util(bits, cap_s));
        }
        all.0 += own.0;
        all.1 += own.1;
        let m = util(own.0, own.1);
        if m.is_finite() && busiest.is_none_or(|(b, _)| m > b) {
            busiest = Some((m, label));
        }
    }
    let hours = |k: usize| instants[k] as f64 / NS_PER_HOUR;
    let mut out = GatewayLoad {
        mean: util(all.0, all.1),
        peak,
        intervals,
        bytes: all.0 / 8.0,
        total_over_time: per_interval
            .iter()
            .enumerate()
            .map(|(k, &(b, c))| (hours(k + 1), util(b, c)))
            .filter(|p| p.1.is_finite())
            .collect(),
        busiest_mean: f64::NAN,
        busiest_peak: f64::NAN,
        ..Default::default()
    };
    if intervals == 0 {
        out.bytes = f64::NAN;
    }
    if let Some((m, label)) = busiest {
        let v = &links[label];
        out.busiest = label.clone();
        out.busiest_mean = m;
        out.busiest_over_time = (1..v.len())
            .map(|k| {
                let dt = (v[k].0 - v[k - 1].0) as f64 / 1e9;
                (
                    hours(k),
                    util(8.0 * (v[k].2 - v[k - 1].2) as f64, v[k].1 * dt),
                )
            })
            .collect();
        out.busiest_peak = out
            .busiest_over_time
            .iter()
            .map(|p| p.1)
            .fold(f64::NAN, f64::max);
    }
    out
}

/// `names` as `a, b, c <last> d` (`last`: `or`, `and`).
fn listed(names: &[&str], last: &str) -> String {
    match names.split_last() {
        Some((n, [])) => n.to_string(),
        Some((n, rest)) => format!("{} {last} {n}", rest.join(", ")),
        None => String::new(),
    }
}

/// `names` as `a, b, c or d`.
fn one_of(names: &[&str]) -> String {
    listed(names, "or")
}

/// Read and check `cost.csv`, as [`cost::cost_csv`] writes it (see the
/// module doc).
pub fn costs(path: &Path) -> Result<Costs, ReportError> {
    let t = Table::read(path)?;
    let (cs, csv_, cq, cu, cv) = (
        t.col("side")?,
        t.col("service")?,
        t.col("quantity")?,
        t.col("unit")?,
        t.col("value")?,
    );
    let sides = one_of(&Side::ALL.map(Side::name));
    let mut services: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
    services.push(cost::ALL_SERVICES);
    let services = one_of(&services);
    let quantities = one_of(&Quantity::ALL.map(Quantity::name));
    let mut out = Costs::default();
    for i in 0..t.rows().len() {
        let row = &t.rows()[i];
        let s = Side::ALL
            .iter()
            .position(|x| x.name() == row[cs])
            .ok_or_else(|| t.bad(i, cs, &sides))?;
        let service = if row[csv_] == cost::ALL_SERVICES {
            None
        } else {
            let s = Service::ALL
                .into_iter()
                .find(|x| x.name() == row[csv_])
                .ok_or_else(|| t.bad(i, csv_, &services))?;
            Some(s)
        };
        let service_name = cost::service_name(service);
        let quantity = Quantity::ALL
            .into_iter()
            .find(|x| x.name() == row[cq])
            .ok_or_else(|| t.bad(i, cq, &quantities))?;
        let Some(unit) = quantity.unit(service) else {
            let why = if service.is_none() {
                format!("per service only, not for {}", cost::ALL_SERVICES)
            } else {
                format!("for {} only, not per service", cost::ALL_SERVICES)
            };
            return Err(t.error_at(i, cq, &format!("{} is given {why}", t.quoted(i, cq))));
        };
        if row[cu] != unit {
            return Err(t.bad(
                i,
                cu,
                &format!("{unit}, the unit of {service_name} {}", quantity.name()),
            ));
        }
        let value = if row[cv].is_empty() && quantity.per_unit() {
            f64::NAN
        } else {
            let expected = if quantity.per_unit() {
                "a number ≥ 0, or blank (no units)"
            } else {
                "a number ≥ 0"
            };
            t.non_negative(i, cv).map_err(|_| t.bad(i, cv, expected))?
        };
        let e = out
            .rows
            .entry((service, quantity))
            .or_insert_with(|| CostEntry {
                value: [f64::NAN; 2],
                row: [None; 2],
            });
        if let Some(r) = e.row[s] {
            return Err(t.error_at(
                i,
                cs,
                &format!(
                    "a second row for {} {service_name} {} (the first is on line {})",
                    Side::ALL[s].name(),
                    quantity.name(),
                    t.line(r)
                ),
            ));
        }
        e.value[s] = value;
        e.row[s] = Some(i);
    }
    for (&(service, quantity), e) in &out.rows {
        for (s, side) in Side::ALL.iter().enumerate() {
            if e.row[s].is_none() {
                let r = e.row[1 - s].unwrap_or(0);
                return Err(t.error_at(
                    r,
                    cs,
                    &format!(
                        "no {} row for {} {}: both sides need one",
                        side.name(),
                        cost::service_name(service),
                        quantity.name()
                    ),
                ));
            }
        }
    }
    let needed = |total: bool| {
        let names: Vec<&str> = COST_SUMMARY
            .iter()
            .filter(|(s, _)| s.is_none() == total && s.is_none_or(|s| s == Service::ALL[0]))
            .map(|(_, q)| q.name())
            .collect();
        listed(&names, "and")
    };
    for (service, quantity) in COST_SUMMARY {
        if out.get(service, quantity).is_none() {
            return Err(ReportError::Input {
                path: path.display().to_string(),
                message: format!(
                    "no row for {} {} (column 2, service; column 3, quantity): every service needs {}, and {} needs {}",
                    cost::service_name(service),
                    quantity.name(),
                    needed(false),
                    cost::ALL_SERVICES,
                    needed(true)
                ),
            });
        }
    }
    Ok(out)
}

/// A value of the flagship's `summary.csv`: blank without a value, in
/// exponent form below 0.001 (not 0), else 6 decimals.
fn csv_num(v: f64) -> String {
    if !v.is_finite() {
        String::new()
    } else if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:e}")
    } else {
        format!("{v:.6}")
    }
}

/// The flagship's `summary.csv` text (the form of
/// [`crate::report::summary_csv`], with the values described in the
/// module doc).
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    crate::report::summary_csv_with(rows, csv_num)
}

/// A value for the at-a-glance table: `—` without one, else with a
/// precision that suits its size.
fn show(v: f64) -> String {
    if !v.is_finite() {
        "—".to_string()
    } else if v == 0.0 {
        "0".to_string()
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else if v.abs() >= 1e-3 {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// `rows` prefixed by `part`.
fn prefixed(part: &str, rows: &[SummaryRow]) -> Vec<SummaryRow> {
    rows.iter()
        .map(|r| SummaryRow {
            metric: Cow::Owned(format!("{part}{METRIC_SEPARATOR}{}", r.metric)),
            ..r.clone()
        })
        .collect()
}

/// The gateway rows of the summary.
fn gateway_rows(g: &[GatewayLoad; 2]) -> Vec<SummaryRow> {
    let n = g[0].intervals.min(g[1].intervals);
    let row = |metric: &'static str, unit: &'static str, f: fn(&GatewayLoad) -> f64| SummaryRow {
        metric: metric.into(),
        unit: unit.into(),
        p2p: f(&g[0]),
        datacenter: f(&g[1]),
        difference: None,
        n,
    };
    vec![
        row("gateways.utilisation_mean", "%", |g| g.mean),
        row("gateways.utilisation_peak", "%", |g| g.peak),
        row("gateways.busiest_link_utilisation_mean", "%", |g| {
            g.busiest_mean
        }),
        row("gateways.busiest_link_utilisation_peak", "%", |g| {
            g.busiest_peak
        }),
        row("gateways.bytes_carried", "bytes", |g| g.bytes),
    ]
}

/// The cost rows of the summary: [`COST_SUMMARY`], each named
/// `cost.<service>_<quantity>`, with n = 1.
fn cost_rows(c: &Costs) -> Vec<SummaryRow> {
    COST_SUMMARY
        .iter()
        .map(|&(service, quantity)| {
            let [p2p, datacenter] = c.required(service, quantity);
            SummaryRow {
                metric: format!(
                    "cost{METRIC_SEPARATOR}{}_{}",
                    cost::service_name(service),
                    quantity.name()
                )
                .into(),
                unit: quantity.unit(service).unwrap_or_default().into(),
                p2p,
                datacenter,
                difference: None,
                n: 1,
            }
        })
        .collect()
}

/// The at-a-glance rows of `summary`; a missing metric is an error naming
/// the file it should have come from under `dir`.
pub fn glance(dir: &Path, summary: &[SummaryRow]) -> Result<Vec<GlanceRow>, ReportError> {
    GLANCE
        .iter()
        .map(|&(label, metric, lower_is_better)| {
            let row = summary.iter().find(|r| r.metric == metric).ok_or_else(|| {
                let (part, name) = metric.split_once(METRIC_SEPARATOR).unwrap_or(("", metric));
                let file = match part {
                    "gateways" => dir.join("gateways.csv"),
                    "cost" => dir.join("cost.csv"),
                    p => dir.join(p).join("summary.csv"),
                };
                ReportError::Input {
                    path: file.display().to_string(),
                    message: format!(
                        "no metric {name:?}, needed for the row {label:?} of the at-a-glance table"
                    ),
                }
            })?;
            Ok(GlanceRow {
                label,
                row: row.clone(),
                lower_is_better,
                verdict: verdict(row, lower_is_better),
            })
        })
        .collect()
}

/// The at-a-glance table as markdown.
fn glance_markdown(md: &mut String, rows: &[GlanceRow]) {
    let _ = writeln!(
        md,
        "| | P2P | data center | difference P2P − data center (95 % CI) | which wins |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|---|");
    for g in rows {
        let r = &g.row;
        let better = if g.lower_is_better { "lower" } else { "higher" };
        let diff = match r.difference {
            Some((d, lo, hi)) if d.is_finite() && lo.is_finite() && hi.is_finite() => {
                format!("{} [{}, {}]", show(d), show(lo), show(hi))
            }
            Some((d, _, _)) if d.is_finite() => format!("{} (no interval)", show(d)),
            _ => "— (unpaired)".to_string(),
        };
        let _ = writeln!(
            md,
            "| {} ({}; {better} is better) | {} | {} | {diff} | {} |",
            g.label,
            r.unit,
            show(r.p2p),
            show(r.datacenter),
            g.verdict.text()
        );
    }
}

/// Each side's energy over the run by part, and its cost (all services,
/// from `cost.csv`), as markdown.
fn energy_markdown(md: &mut String, costs: &Costs) {
    let _ = writeln!(
        md,
        "Energy of each side over the run, all services together, by part (from `cost.csv`):\n"
    );
    let _ = writeln!(md, "| | P2P | data center |");
    let _ = writeln!(md, "|---|---:|---:|");
    for (label, quantity) in [
        ("devices: machines and disks (kWh)", Quantity::EnergyDevices),
        ("network: moving bytes (kWh)", Quantity::EnergyNetwork),
        ("facility overhead (kWh)", Quantity::EnergyOverhead),
        ("energy (kWh)", Quantity::Energy),
        ("cost (USD)", Quantity::Cost),
    ] {
        let v = costs.required(None, quantity);
        let _ = writeln!(md, "| {label} | {} | {} |", show(v[0]), show(v[1]));
    }
    let _ = writeln!(md);
}

/// The full summary as markdown, values as in the at-a-glance table.
fn summary_markdown(md: &mut String, rows: &[SummaryRow]) {
    let _ = writeln!(
        md,
        "| metric | unit | P2P | data center | difference (95 % CI) | n |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---|---:|");
    for r in rows {
        let diff = match r.difference {
            Some((d, lo, hi)) if d.is_finite() && lo.is_finite() && hi.is_finite() => {
                format!("{} [{}, {}]", show(d), show(lo), show(hi))
            }
            Some((d, _, _)) if d.is_finite() => show(d),
            Some(_) => String::new(),
            None => "—".to_string(),
        };
        let blank = |v: f64| {
            if v.is_finite() {
                show(v)
            } else {
                String::new()
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {diff} | {} |",
            r.metric,
            r.unit,
            blank(r.p2p),
            blank(r.datacenter),
            r.n
        );
    }
}

/// The files of a flagship result directory, with what each holds.
const FILES: [(&str, &str); 10] = [
    (
        "lookups/",
        "the lookup part: its inputs, summary, report and plots",
    ),
    (
        "storage/",
        "the storage part: its inputs, summary, report and plots",
    ),
    (
        "compute/",
        "the compute part: its inputs, summary, report and plots",
    ),
    (
        "gateways.csv",
        "one row per sampled instant per gateway link per system: capacity and cumulative bytes",
    ),
    (
        "cost.csv",
        "energy and cost per service and system, in total and per unit of work",
    ),
    (
        "summary.csv",
        "every figure of the parts, the gateways and the costs",
    ),
    ("plots/", "the plots above, as SVG and PNG"),
    ("scenario.toml", "what ran"),
    ("provenance.toml", "what built it"),
    (
        "run-info.csv",
        "wall-clock figures (they differ between identical runs)",
    ),
];

/// Write the three parts' reports, then the flagship's `summary.csv`,
/// `plots/` (when `plots`) and `report.md` into `dir` (see the module doc).
/// `title` heads the report (each part's title is `title — part`), each
/// report its notes. Nothing of the flagship's own is written when an
/// input is refused.
pub fn write(
    dir: &Path,
    title: &str,
    notes: &CityNotes<'_>,
    plots: bool,
) -> Result<CityAnalysis, ReportError> {
    // The flagship's own inputs first: a refused one stops before any part
    // is rewritten.
    let gateways = gateways(&dir.join("gateways.csv"))?;
    let costs = costs(&dir.join("cost.csv"))?;
    let part_title = |p: &str| format!("{title} — {p}");
    let lookups = report::write(
        &dir.join("lookups"),
        &part_title("lookups"),
        notes.lookups,
        plots,
    )?;
    let storage = storage::write(
        &dir.join("storage"),
        &part_title("storage"),
        notes.storage,
        plots,
    )?;
    let compute = compute::write(
        &dir.join("compute"),
        &part_title("compute"),
        notes.compute,
        plots,
    )?;
    let mut summary = prefixed(PARTS[0], &lookups.summary);
    summary.extend(prefixed(PARTS[1], &storage.summary));
    summary.extend(prefixed(PARTS[2], &compute.summary));
    summary.extend(gateway_rows(&gateways));
    summary.extend(cost_rows(&costs));
    let glance = glance(dir, &summary)?;

    let out = |p: PathBuf, e: String| ReportError::Output {
        path: p.display().to_string(),
        message: e,
    };
    let summary_path = dir.join("summary.csv");
    std::fs::write(&summary_path, summary_csv(&summary))
        .map_err(|e| out(summary_path.clone(), e.to_string()))?;

    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n\n{}\n", notes.top);
    let _ = writeln!(md, "## At a glance\n");
    let _ = writeln!(
        md,
        "Both sides served the same workload: every lookup, read, write and job was issued to the People's Cloud (P2P: one node stack per home of the mesh) and to the data center (reached through the mesh's gateways). Difference = P2P − data center, with its 95 % confidence interval, for the figures the parts pair request by request (see each part's report for how the interval is made). **Which wins:** when the interval excludes 0 in the better direction, that side wins; when it holds 0, there is no clear difference. A figure without a paired difference (a percentile, a count, a utilisation, a cost) is one number per side: the better value is named, marked *unpaired*, with no claim that the difference is beyond chance. — marks a figure without a value (nothing measured).\n"
    );
    glance_markdown(&mut md, &glance);
    let sources: Vec<String> = GLANCE
        .iter()
        .map(|(label, metric, _)| format!("{label}: `{metric}`"))
        .collect();
    let _ = writeln!(
        md,
        "\nEach row is a figure of the summary below ({}); each part's report defines its own figures.\n",
        sources.join("; ")
    );
    for s in 0..2 {
        let g = &gateways[s];
        if g.busiest.is_empty() {
            let _ = writeln!(
                md,
                "- Busiest gateway link, {}: none (no interval measured).",
                LABELS[s]
            );
        } else {
            let _ = writeln!(
                md,
                "- Busiest gateway link, {}: `{}` (mean {} %, peak {} %).",
                LABELS[s],
                g.busiest,
                show(g.busiest_mean),
                show(g.busiest_peak)
            );
        }
    }
    let _ = writeln!(
        md,
        "\nGateway-link utilisation is the bits a link carried between two samples over its capacity times the interval; the mean takes all gateway links together over the sampled period, the peak is the highest of one link in one interval. Energy and cost per unit come from `cost.csv`: per stored GB-month, per job and per lookup.\n"
    );
    energy_markdown(&mut md, &costs);

    if plots {
        let pdir = dir.join("plots");
        std::fs::create_dir_all(&pdir).map_err(|e| out(pdir.clone(), e.to_string()))?;
        let plot_err = |e: plot::PlotError| ReportError::Output {
            path: e.path,
            message: e.message,
        };
        let _ = writeln!(md, "## Plots\n");
        let series: Vec<plot::Series> = (0..2)
            .map(|i| (LABELS[i].to_string(), storage.read_latencies()[i].clone()))
            .collect();
        plot::cdf_labelled(
            &pdir.join("read_latency_cdf"),
            "Read latency (successful reads)",
            "latency (ms)",
            "fraction of reads ≤ x",
            &series,
        )
        .map_err(plot_err)?;
        let _ = writeln!(
            md,
            "![Read latency CDF](plots/read_latency_cdf.svg)\n\nThe fraction of each side's successful reads that finished within a given latency.\n"
        );
        let series: Vec<plot::Series> = (0..2)
            .map(|i| (LABELS[i].to_string(), compute.completion_times()[i].clone()))
            .collect();
        plot::cdf_labelled(
            &pdir.join("completion_time_cdf"),
            "Job completion time (accepted jobs)",
            "completion time (s)",
            "fraction of jobs ≤ x",
            &series,
        )
        .map_err(plot_err)?;
        let _ = writeln!(
            md,
            "![Job completion time CDF](plots/completion_time_cdf.svg)\n\nThe fraction of each side's accepted jobs completed within a given time of their submission.\n"
        );
        let lines: Vec<(String, Vec<(f64, f64)>)> = (0..2)
            .map(|i| (LABELS[i].to_string(), storage.readable_over_time(i)))
            .collect();
        plot::lines_zoomed(
            &pdir.join("availability_over_time"),
            "Objects readable over time",
            "simulated time (days)",
            "readable (% of objects written)",
            &lines,
        )
        .map_err(plot_err)?;
        let _ = writeln!(
            md,
            "![Availability over time](plots/availability_over_time.svg)\n\nThe objects readable at each sampled instant, as a share of the objects written by then.\n"
        );
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for s in 0..2 {
            lines.push((
                format!("{}: all gateway links", LABELS[s]),
                gateways[s].total_over_time.clone(),
            ));
        }
        for s in 0..2 {
            if !gateways[s].busiest.is_empty() {
                lines.push((
                    format!(
                        "{}: busiest, {}",
                        LABELS[s],
                        crate::cut(&gateways[s].busiest)
                    ),
                    gateways[s].busiest_over_time.clone(),
                ));
            }
        }
        plot::lines(
            &pdir.join("gateway_load_over_time"),
            "Gateway-link load",
            "simulated time (h)",
            "utilisation (% of capacity)",
            &lines,
        )
        .map_err(plot_err)?;
        let _ = writeln!(
            md,
            "![Gateway-link load over time](plots/gateway_load_over_time.svg)\n\nThe share of gateway capacity in use within each interval between samples, for all gateway links together and for each side's busiest link.\n"
        );
        let systems: Vec<String> = LABELS.iter().map(|s| s.to_string()).collect();
        for (quantity, file, title, what) in [
            (
                Quantity::Energy,
                "energy_by_service",
                "Energy by service",
                "energy",
            ),
            (Quantity::Cost, "cost_by_service", "Cost by service", "cost"),
        ] {
            let unit = quantity.unit(None).unwrap_or_default();
            let groups: Vec<plot::BarGroup> = Service::ALL
                .map(Some)
                .into_iter()
                .chain([None])
                .map(|service| {
                    let v = costs.required(service, quantity);
                    let label = service.map_or("all services", Service::name);
                    (label.to_string(), vec![(v[0], None), (v[1], None)])
                })
                .collect();
            plot::bars(
                &pdir.join(file),
                title,
                &format!("{what} ({unit})"),
                &systems,
                &groups,
            )
            .map_err(plot_err)?;
            let _ = writeln!(
                md,
                "![{title}](plots/{file}.svg)\n\nThe {what} of each side over the run, per service and for all services together, from `cost.csv`.\n"
            );
        }
    }

    let _ = writeln!(md, "## Parts\n");
    for (part, what) in [
        ("lookups", "DHT lookups against the data center's directory"),
        (
            "storage",
            "backup storage: reads, writes, durability, repair",
        ),
        (
            "compute",
            "jobs on the homes' machines against the data center's servers",
        ),
    ] {
        let _ = writeln!(md, "- [{part}]({part}/report.md): {what}.");
    }
    let _ = writeln!(md, "\n## Summary\n");
    let _ = writeln!(
        md,
        "Every figure of the parts (prefixed by the part; defined in each part's report), of the gateway links and of `cost.csv`. Difference = P2P − data center with its 95 % confidence interval; — marks a figure without a paired difference. A blank value has no observation behind it.\n"
    );
    summary_markdown(&mut md, &summary);
    let _ = writeln!(md, "\n## Files\n");
    for (file, what) in FILES {
        let present = match file {
            "plots/" => plots,
            "summary.csv" => true,
            _ => dir.join(file).exists(),
        };
        if present {
            let _ = writeln!(md, "- `{file}`: {what}.");
        }
    }
    let report = dir.join("report.md");
    std::fs::write(&report, md).map_err(|e| out(report.clone(), e.to_string()))?;
    Ok(CityAnalysis {
        summary,
        glance,
        gateways,
        lookups,
        storage,
        compute,
    })
}

#[cfg(test)]
mod tests {
    //! Strict reading never panics, and no value is written as NaN.

    use super::*;

    /// The fixture's two files with one cell replaced by each of a set of
    /// odd values: each read is an error or a result, never a panic.
    #[test]
    fn mutated_inputs_give_an_error_or_a_result_never_a_panic() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/city");
        let d = std::env::temp_dir().join(format!("pc-city-unit-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let odd = [
            "",
            "-1",
            "0",
            "1e400",
            "inf",
            "NaN",
            "x",
            "p2p",
            "datacenter",
            "total",
            "all",
            "energy",
            "shared_baseline",
            "kWh",
            "18446744073709551616",
            "3600000000000",
            "é→",
        ];
        let (mut errors, mut results) = (0, 0);
        for file in ["gateways.csv", "cost.csv"] {
            let text = std::fs::read_to_string(fixture.join(file)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (l, line) in lines.iter().enumerate() {
                let cells: Vec<&str> = line.split(',').collect();
                for c in 0..cells.len() {
                    for v in odd {
                        let mut cells = cells.clone();
                        cells[c] = v;
                        let mut out = lines.clone();
                        let changed = cells.join(",");
                        out[l] = &changed;
                        let p = d.join(file);
                        std::fs::write(&p, out.join("\n") + "\n").unwrap();
                        let ok = if file == "gateways.csv" {
                            gateways(&p).map(|_| ()).is_ok()
                        } else {
                            costs(&p).map(|_| ()).is_ok()
                        };
                        if ok {
                            results += 1;
                        } else {
                            errors += 1;
                        }
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&d);
        assert!(
            errors > 100 && results > 10,
            "{errors} errors, {results} results"
        );
    }

    /// The summary's `p2p` and `datacenter` columns take the sides of
    /// `cost.csv` in [`Side::ALL`] order.
    #[test]
    fn the_sides_of_cost_csv_are_the_systems_in_order() {
        assert_eq!(Side::ALL.map(Side::name), SYSTEMS);
    }

    #[test]
    fn values_without_a_finite_value_are_blank_or_a_dash() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(csv_num(v), "");
            assert_eq!(show(v), "—");
        }
        assert_eq!(csv_num(2.5e-7), "2.5e-7");
        assert_eq!(csv_num(0.0), "0.000000");
        assert_eq!(csv_num(1234.5), "1234.500000");
        assert_eq!(show(0.0), "0");
        assert_eq!(show(2.5e-7), "2.500e-7");
        assert_eq!(show(0.0124), "0.0124");
        assert_eq!(show(18.888_888_9), "18.89");
        assert_eq!(show(2908.88), "2909");
    }
}
