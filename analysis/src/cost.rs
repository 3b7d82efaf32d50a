//! The cost and energy model: usage figures of both sides (P2P on home
//! machines, and the data center) to energy (kWh) and money (USD), in
//! total, by service and per unit of service.
//!
//! Pure arithmetic: the experiment measures usage ([`P2pUsage`],
//! [`DcUsage`]) and [`CostModel::bills`] turns it into one [`Bill`] per
//! side. Every parameter of [`CostModel`] is a key of the scenario's
//! `[cost]` table; its default and the source of the default are in
//! `docs/scenario-reference.md` (section `[cost]`).
//!
//! # Units
//! Energy in kWh, money in US dollars, time in hours, a month is
//! [`HOURS_PER_MONTH`] = 730 h (8 760 h / 12), a GB is 10^9 bytes and a TB
//! 10^12 bytes. A stored GB-month is one GB kept for one month.
//!
//! # Energy
//! Per side, energy has three parts: **devices** (home machines and their
//! disks; the data center's servers and disks), **network** (moving bytes)
//! and **overhead** (the data center's facility: cooling, power
//! distribution, `(PUE − 1) ×` its devices' energy; homes have none).
//!
//! P2P devices:
//! - compute: `busy_cpu_hours × (home_active_watts − home_idle_watts)`:
//!   the extra power of a machine while it runs a job copy;
//! - storage: raw `stored_gb_months × home_disk_watts_per_tb × 730 h`;
//! - baseline, with `home_allocation = "full"` only:
//!   `host_up_hours × home_idle_watts`, the machines' whole up time at idle
//!   power, as if they had been bought and left on for this. With
//!   `"marginal"` (the default) a machine that is on anyway is charged only
//!   what its work adds.
//!
//! Data-center devices:
//! - baseline: `servers × hours × server_idle_watts` (the site's servers
//!   are dedicated and always on, so their idle power is always charged);
//! - compute: `busy_server_hours × (server_active_watts − server_idle_watts)`;
//! - storage: raw `stored_gb_months × dc_disk_watts_per_tb × 730 h`.
//!
//! Network, either model (`network_model`):
//! - `"flat"`: `GB moved × network_kwh_per_gb` per service, an average
//!   intensity that already includes the equipment's baseline;
//! - `"baseline-per-byte"` (default): `GB moved ×
//!   network_marginal_kwh_per_gb` per service, plus the mesh routers'
//!   baseline `routers × hours × router_watts` allocated by
//!   `router_allocation`: `"none"` (default: the routers run anyway for the
//!   community network, neither side is charged), `"p2p"` (all of it to the
//!   P2P side, as if the mesh had been built for it) or `"by-bytes"` (split
//!   between the sides in proportion to the bytes each moved; equal halves
//!   when neither moved any). The routers and hours are the P2P usage's.
//!
//! Published network intensities span orders of magnitude (from about
//! 0.001 to more than 1 kWh/GB, by year, boundary and method); see the
//! reference page. The flat model is kept for comparison with studies that
//! use one.
//!
//! # Attribution to services
//! Energy that a service causes is its own: job CPU → compute, disks →
//! storage, each service's bytes → that service. A *shared baseline* (the
//! homes' idle power under `"full"`, the servers' idle power, the routers'
//! baseline) is split between the three services in proportion to the
//! energy attributed to each directly on that side, or in equal thirds
//! when none was. Facility overhead follows the devices' energy of each
//! service. So, for instance, the data center's lookups, which move bytes
//! but use little server time, carry a share of the idle servers in
//! proportion to their network energy.
//!
//! # Money
//! `energy_cost` = energy × the side's electricity price
//! (`home_price_per_kwh`, `dc_price_per_kwh`). `fees` (data center only):
//! `logical_gb_months × dc_storage_price_per_gb_month` for storage, and
//! each service's egress GB × `dc_egress_price_per_gb`. `cost` per service:
//! a service with a list price is costed at it, one without at its
//! electricity: the data center's storage costs its storage fee plus its
//! egress (the list price already pays the provider's energy, hardware and
//! margin) when `dc_storage_price_per_gb_month > 0`, else its energy cost
//! plus egress; compute and lookups cost their energy plus their egress.
//! The P2P side's cost is its electricity: the homes' hardware is not
//! costed (it is owned anyway), nor is the data center's beyond the list
//! price.
//!
//! # Per unit
//! Per logical stored GB-month (storage), per job (compute) and per lookup
//! (lookups), each side: energy and cost of the service divided by its
//! units. With no unit the figure is `None` (blank in CSV, `—` in
//! markdown), never NaN or infinite.
//!
//! # `cost.csv`
//! Tidy rows `side,service,quantity,unit,value` ([`cost_csv`]): `side` is
//! `p2p` or `datacenter`; `service` is `storage`, `compute`, `lookups` or
//! `all` (the side's total); `quantity` is one of `energy_devices`,
//! `energy_network`, `energy_overhead`, `energy` (kWh), `energy_cost`,
//! `fees`, `cost` (USD), `units` (the service's units: `GB-month` of
//! logical data, `job`, `lookup`; per service only), `energy_per_unit`
//! (`kWh/GB-month`, `kWh/job`, `kWh/lookup`) and `cost_per_unit`
//! (`USD/…`), blank without units, and `shared_baseline` (kWh, `all`
//! only: the part of the side's energy split by the baseline rule). Values
//! are written in full (shortest exact decimal form), never NaN.
//! [`Side`], [`Service`], [`ALL_SERVICES`] and [`Quantity`] (names and
//! units) are the file's vocabulary, for its readers too.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

/// Hours in a month: 8 760 / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Bytes in a GB.
pub const BYTES_PER_GB: f64 = 1e9;
/// The largest watts a device parameter may have.
pub const WATTS_MAX: f64 = 100_000.0;
/// The largest PUE accepted (total facility power over IT power).
pub const PUE_MAX: f64 = 10.0;
/// The largest network intensity accepted, kWh/GB.
pub const KWH_PER_GB_MAX: f64 = 100.0;
/// The largest price accepted (USD per kWh, per GB-month or per GB).
pub const PRICE_MAX: f64 = 1_000.0;

/// The three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Backups: stored bytes.
    Storage,
    /// Jobs.
    Compute,
    /// DHT (or directory) lookups.
    Lookups,
}

impl Service {
    /// Every service, in output order.
    pub const ALL: [Service; 3] = [Service::Storage, Service::Compute, Service::Lookups];

    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Storage => "storage",
            Service::Compute => "compute",
            Service::Lookups => "lookups",
        }
    }

    /// The unit of service of per-unit figures.
    pub fn unit(self) -> &'static str {
        match self {
            Service::Storage => "GB-month",
            Service::Compute => "job",
            Service::Lookups => "lookup",
        }
    }
}

/// One value per service.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Services<T> {
    /// Storage.
    pub storage: T,
    /// Compute.
    pub compute: T,
    /// Lookups.
    pub lookups: T,
}

impl<T> Services<T> {
    /// The value of service `s`.
    pub fn get(&self, s: Service) -> &T {
        match s {
            Service::Storage => &self.storage,
            Service::Compute => &self.compute,
            Service::Lookups => &self.lookups,
        }
    }

    /// `f` of every service's value.
    pub fn map<U>(&self, mut f: impl FnMut(Service, &T) -> U) -> Services<U> {
        Services {
            storage: f(Service::Storage, &self.storage),
            compute: f(Service::Compute, &self.compute),
            lookups: f(Service::Lookups, &self.lookups),
        }
    }
}

impl Services<f64> {
    /// The sum over the services.
    pub fn total(&self) -> f64 {
        self.storage + self.compute + self.lookups
    }
}

impl Services<u64> {
    /// The sum over the services, in GB.
    fn gb(&self) -> Services<f64> {
        self.map(|_, b| *b as f64 / BYTES_PER_GB)
    }
}

/// The `service` of a side's total rows in `cost.csv`: all three services
/// together.
pub const ALL_SERVICES: &str = "all";

/// The two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// Home machines on the mesh.
    P2p,
    /// The data center.
    Datacenter,
}

impl Side {
    /// Both sides, in output order (the order of the `p2p` and
    /// `datacenter` columns of every summary).
    pub const ALL: [Side; 2] = [Side::P2p, Side::Datacenter];

    /// Name in outputs (the `system` names of the other CSV files).
    pub fn name(self) -> &'static str {
        match self {
            Side::P2p => "p2p",
            Side::Datacenter => "datacenter",
        }
    }
}

/// `cost.pue_preset`: the data center's PUE when `cost.pue` is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PuePreset {
    /// 1.58: the industry average of the Uptime Institute Global Data
    /// Center Survey 2023.
    #[default]
    Average,
    /// 1.10: Google's fleet average for 2023 (2024 Environmental Report).
    Hyperscale,
}

impl PuePreset {
    /// The preset's PUE.
    pub fn pue(self) -> f64 {
        match self {
            PuePreset::Average => 1.58,
            PuePreset::Hyperscale => 1.10,
        }
    }
}

/// `cost.home_allocation`: how the always-on power of home machines is
/// charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocation {
    /// Only what the work adds: active minus idle watts while busy, disks
    /// and bytes.
    #[default]
    Marginal,
    /// Also every up hour at idle power, as if the machines were bought
    /// and left on for this.
    Full,
}

/// `cost.router_allocation`: who is charged the mesh routers' baseline
/// (network model `baseline-per-byte`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouterAllocation {
    /// Nobody: the routers run anyway for the community network.
    #[default]
    None,
    /// The P2P side, all of it.
    P2p,
    /// Both sides, in proportion to the bytes each moved.
    ByBytes,
}

/// `cost.network_model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkModel {
    /// A flat average intensity, kWh per GB moved.
    Flat,
    /// The routers' baseline power (allocated by `router_allocation`) plus
    /// a marginal energy per GB moved.
    #[default]
    BaselinePerByte,
}

/// Every parameter of the model; `Default` is the documented defaults.
/// Also the `[cost]` table of a scenario (every key optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostModel {
    /// A home machine's power when on and idle, W.
    pub home_idle_watts: f64,
    /// A home machine's power while it runs a job, W.
    pub home_active_watts: f64,
    /// Home disks' power per TB of raw stored data, W/TB.
    pub home_disk_watts_per_tb: f64,
    /// How the homes' always-on power is charged.
    pub home_allocation: Allocation,
    /// A mesh router's power, W.
    pub router_watts: f64,
    /// Who is charged the routers' baseline (`baseline-per-byte` only).
    pub router_allocation: RouterAllocation,
    /// A data-center server's idle power, W.
    pub server_idle_watts: f64,
    /// A data-center server's power while it runs a job, W.
    pub server_active_watts: f64,
    /// The data center's disks' power per TB of raw stored data, W/TB.
    pub dc_disk_watts_per_tb: f64,
    /// The data center's PUE when `pue` is not given.
    pub pue_preset: PuePreset,
    /// An explicit PUE, overriding the preset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pue: Option<f64>,
    /// How network energy is computed.
    pub network_model: NetworkModel,
    /// `flat`: kWh per GB moved.
    pub network_kwh_per_gb: f64,
    /// `baseline-per-byte`: marginal kWh per GB moved.
    pub network_marginal_kwh_per_gb: f64,
    /// Electricity price of homes, USD/kWh.
    pub home_price_per_kwh: f64,
    /// Electricity price of the data center, USD/kWh.
    pub dc_price_per_kwh: f64,
    /// The data center's list price of storage, USD per logical GB-month
    /// (0: none; storage is then costed at its electricity).
    pub dc_storage_price_per_gb_month: f64,
    /// The data center's list price of egress, USD per GB.
    pub dc_egress_price_per_gb: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            home_idle_watts: 30.0,
            home_active_watts: 60.0,
            home_disk_watts_per_tb: 0.5,
            home_allocation: Allocation::Marginal,
            router_watts: 10.0,
            router_allocation: RouterAllocation::None,
            server_idle_watts: 100.0,
            server_active_watts: 300.0,
            dc_disk_watts_per_tb: 0.5,
            pue_preset: PuePreset::Average,
            pue: None,
            network_model: NetworkModel::BaselinePerByte,
            network_kwh_per_gb: 0.06,
            network_marginal_kwh_per_gb: 0.0001,
            home_price_per_kwh: 0.2225,
            dc_price_per_kwh: 0.0895,
            dc_storage_price_per_gb_month: 0.023,
            dc_egress_price_per_gb: 0.09,
        }
    }
}

/// A parameter or usage value that the model refuses: the key (`cost.pue`,
/// `p2p.hours`) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostError {
    /// The key.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for CostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for CostError {}

fn refuse(key: &str, message: String) -> CostError {
    CostError {
        key: key.to_string(),
        message,
    }
}

/// `v` is finite and within `[min, max]`.
fn within(key: &str, v: f64, min: f64, max: f64, what: &str) -> Result<(), CostError> {
    if v.is_finite() && v >= min && v <= max {
        Ok(())
    } else {
        Err(refuse(
            key,
            format!("{v} is out of range: expected {what} from {min} to {max}"),
        ))
    }
}

/// Usage of the P2P side over a run. Plain numbers, filled by the
/// experiment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct P2pUsage {
    /// Simulated span, h.
    pub hours: f64,
    /// Home machines (carried for reports; the arithmetic uses
    /// `host_up_hours`).
    pub hosts: u32,
    /// Up time summed over the home machines, h.
    pub host_up_hours: f64,
    /// Wall-clock hours during which a home machine ran a job copy, summed
    /// over machines and copies (redundant and wasted copies included).
    pub busy_cpu_hours: f64,
    /// Mesh routers.
    pub routers: u32,
    /// Bytes moved over the network, per service.
    pub bytes_by_service: Services<u64>,
    /// Raw stored data × time (every replica or fragment), GB-months.
    pub stored_gb_months: f64,
    /// Users' data × time, GB-months (the per-unit denominator).
    pub logical_gb_months: f64,
    /// Jobs done.
    pub jobs: u64,
    /// Lookups served.
    pub lookups: u64,
}

/// Usage of the data-center side over a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DcUsage {
    /// Simulated span, h.
    pub hours: f64,
    /// Servers at the site (always on).
    pub servers: u32,
    /// Hours during which a server ran a job, summed over servers.
    pub busy_server_hours: f64,
    /// Bytes through the gateways and the WAN, per service.
    pub bytes_by_service: Services<u64>,
    /// Bytes leaving the site, per service (billed as egress).
    pub egress_bytes: Services<u64>,
    /// Raw stored data × time (internal replicas included), GB-months.
    pub stored_gb_months: f64,
    /// Users' data × time, GB-months.
    pub logical_gb_months: f64,
    /// Jobs done.
    pub jobs: u64,
    /// Lookups served.
    pub lookups: u64,
}

/// Energy of one service on one side, kWh.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Energy {
    /// Machines and disks (with their share of the shared baseline).
    pub devices: f64,
    /// Moving bytes (with a share of the routers' baseline, if charged).
    pub network: f64,
    /// Facility overhead: `(PUE − 1) × devices` (data center only).
    pub overhead: f64,
}

impl Energy {
    /// Devices + network + overhead.
    pub fn total(&self) -> f64 {
        self.devices + self.network + self.overhead
    }
}

/// What one side's usage costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    /// The side.
    pub side: Side,
    /// Energy by service and part, kWh.
    pub energy: Services<Energy>,
    /// The part of the side's energy that is shared baseline split by the
    /// attribution rule (included in `energy`), kWh.
    pub shared_baseline_kwh: f64,
    /// Energy × the side's electricity price, USD.
    pub energy_cost: Services<f64>,
    /// List-price fees (data center only), USD.
    pub fees: Services<f64>,
    /// Cost by the costing rule of the module docs, USD.
    pub cost: Services<f64>,
    /// Units of service: logical GB-months, jobs, lookups.
    pub units: Services<f64>,
    /// kWh per unit; `None` without units.
    pub energy_per_unit: Services<Option<f64>>,
    /// USD per unit; `None` without units.
    pub cost_per_unit: Services<Option<f64>>,
}

impl Bill {
    /// The side's energy, kWh.
    pub fn total_energy(&self) -> f64 {
        self.energy.map(|_, e| e.total()).total()
    }

    /// The side's cost, USD.
    pub fn total_cost(&self) -> f64 {
        self.cost.total()
    }
}

/// `total` split in proportion to `weights`, or in equal thirds when the
/// weights sum to 0.
fn split(total: f64, weights: &Services<f64>) -> Services<f64> {
    let sum = weights.total();
    if sum > 0.0 {
        weights.map(|_, w| total * w / sum)
    } else {
        weights.map(|_, _| total / 3.0)
    }
}

fn per_unit(value: f64, units: f64) -> Option<f64> {
    let v = value / units;
    (units > 0.0 && v.is_finite()).then_some(v)
}

impl CostModel {
    /// The data center's PUE: `pue` if given, else the preset's.
    pub fn effective_pue(&self) -> f64 {
        self.pue.unwrap_or(self.pue_preset.pue())
    }

    /// Check every parameter; the error names the key (`cost.<key>`).
    pub fn check(&self) -> Result<(), CostError> {
        let watts = [
            ("cost.home_idle_watts", self.home_idle_watts),
            ("cost.home_active_watts", self.home_active_watts),
            ("cost.router_watts", self.router_watts),
            ("cost.server_idle_watts", self.server_idle_watts),
            ("cost.server_active_watts", self.server_active_watts),
            ("cost.home_disk_watts_per_tb", self.home_disk_watts_per_tb),
            ("cost.dc_disk_watts_per_tb", self.dc_disk_watts_per_tb),
        ];
        for (k, v) in watts {
            within(k, v, 0.0, WATTS_MAX, "watts")?;
        }
        if self.home_active_watts < self.home_idle_watts {
            return Err(refuse(
                "cost.home_active_watts",
                format!(
                    "{} W is below cost.home_idle_watts ({} W): a busy machine draws at least its idle power",
                    self.home_active_watts, self.home_idle_watts
                ),
            ));
        }
        if self.server_active_watts < self.server_idle_watts {
            return Err(refuse(
                "cost.server_active_watts",
                format!(
                    "{} W is below cost.server_idle_watts ({} W): a busy server draws at least its idle power",
                    self.server_active_watts, self.server_idle_watts
                ),
            ));
        }
        if let Some(p) = self.pue {
            within(
                "cost.pue",
                p,
                1.0,
                PUE_MAX,
                "a PUE (total facility power / IT power)",
            )?;
        }
        within(
            "cost.network_kwh_per_gb",
            self.network_kwh_per_gb,
            0.0,
            KWH_PER_GB_MAX,
            "kWh/GB",
        )?;
        within(
            "cost.network_marginal_kwh_per_gb",
            self.network_marginal_kwh_per_gb,
            0.0,
            KWH_PER_GB_MAX,
            "kWh/GB",
        )?;
        let prices = [
            ("cost.home_price_per_kwh", self.home_price_per_kwh),
            ("cost.dc_price_per_kwh", self.dc_price_per_kwh),
            (
                "cost.dc_storage_price_per_gb_month",
                self.dc_storage_price_per_gb_month,
            ),
            ("cost.dc_egress_price_per_gb", self.dc_egress_price_per_gb),
        ];
        for (k, v) in prices {
            within(k, v, 0.0, PRICE_MAX, "USD")?;
        }
        Ok(())
    }

    /// Each side's bill: `[p2p, datacenter]`. Refuses a model that
    /// [`CostModel::check`] refuses, a negative or non-finite usage value
    /// (named `p2p.<field>` or `datacenter.<field>`), and a result that is
    /// not finite (usage too large).
    pub fn bills(&self, p2p: &P2pUsage, dc: &DcUsage) -> Result<[Bill; 2], CostError> {
        self.check()?;
        let usage = [
            ("p2p.hours", p2p.hours),
            ("p2p.host_up_hours", p2p.host_up_hours),
            ("p2p.busy_cpu_hours", p2p.busy_cpu_hours),
            ("p2p.stored_gb_months", p2p.stored_gb_months),
            ("p2p.logical_gb_months", p2p.logical_gb_months),
            ("datacenter.hours", dc.hours),
            ("datacenter.busy_server_hours", dc.busy_server_hours),
            ("datacenter.stored_gb_months", dc.stored_gb_months),
            ("datacenter.logical_gb_months", dc.logical_gb_months),
        ];
        for (k, v) in usage {
            if !(v.is_finite() && v >= 0.0) {
                return Err(refuse(k, format!("{v}: expected a finite value ≥ 0")));
            }
        }
        let p2p_gb = p2p.bytes_by_service.gb();
        let dc_gb = dc.bytes_by_service.gb();
        let per_gb = match self.network_model {
            NetworkModel::Flat => self.network_kwh_per_gb,
            NetworkModel::BaselinePerByte => self.network_marginal_kwh_per_gb,
        };
        // The routers' baseline and each side's share of it.
        let routers_kwh = match self.network_model {
            NetworkModel::Flat => 0.0,
            NetworkModel::BaselinePerByte => {
                f64::from(p2p.routers) * p2p.hours * self.router_watts / 1000.0
            }
        };
        let (p2p_share, dc_share) = match self.router_allocation {
            RouterAllocation::None => (0.0, 0.0),
            RouterAllocation::P2p => (1.0, 0.0),
            RouterAllocation::ByBytes => {
                let (a, b) = (p2p_gb.total(), dc_gb.total());
                if a + b > 0.0 {
                    (a / (a + b), b / (a + b))
                } else {
                    (0.5, 0.5)
                }
            }
        };

        // P2P.
        let home_disk_kwh =
            p2p.stored_gb_months / 1000.0 * self.home_disk_watts_per_tb * HOURS_PER_MONTH / 1000.0;
        let p2p_devices = Services {
            storage: home_disk_kwh,
            compute: p2p.busy_cpu_hours * (self.home_active_watts - self.home_idle_watts) / 1000.0,
            lookups: 0.0,
        };
        let p2p_baseline_devices = match self.home_allocation {
            Allocation::Marginal => 0.0,
            Allocation::Full => p2p.host_up_hours * self.home_idle_watts / 1000.0,
        };
        let p2p_bill = self.bill(
            Side::P2p,
            p2p_devices,
            p2p_gb.map(|_, g| g * per_gb),
            p2p_baseline_devices,
            routers_kwh * p2p_share,
            1.0,
            self.home_price_per_kwh,
            Services::default(),
            Services {
                storage: p2p.logical_gb_months,
                compute: p2p.jobs as f64,
                lookups: p2p.lookups as f64,
            },
            false,
        )?;

        // Data center.
        let dc_disk_kwh =
            dc.stored_gb_months / 1000.0 * self.dc_disk_watts_per_tb * HOURS_PER_MONTH / 1000.0;
        let dc_devices = Services {
            storage: dc_disk_kwh,
            compute: dc.busy_server_hours * (self.server_active_watts - self.server_idle_watts)
                / 1000.0,
            lookups: 0.0,
        };
        let servers_kwh = f64::from(dc.servers) * dc.hours * self.server_idle_watts / 1000.0;
        let egress = dc
            .egress_bytes
            .gb()
            .map(|_, g| g * self.dc_egress_price_per_gb);
        let fees = Services {
            storage: dc.logical_gb_months * self.dc_storage_price_per_gb_month + egress.storage,
            compute: egress.compute,
            lookups: egress.lookups,
        };
        let dc_bill = self.bill(
            Side::Datacenter,
            dc_devices,
            dc_gb.map(|_, g| g * per_gb),
            servers_kwh,
            routers_kwh * dc_share,
            self.effective_pue(),
            self.dc_price_per_kwh,
            fees,
            Services {
                storage: dc.logical_gb_months,
                compute: dc.jobs as f64,
                lookups: dc.lookups as f64,
            },
            self.dc_storage_price_per_gb_month > 0.0,
        )?;
        Ok([p2p_bill, dc_bill])
    }

    /// One side's bill from its directly attributed energy and its shared
    /// baselines.
    #[allow(clippy::too_many_arguments)]
    fn bill(
        &self,
        side: Side,
        devices: Services<f64>,
        network: Services<f64>,
        baseline_devices: f64,
        baseline_network: f64,
        pue: f64,
        price: f64,
        fees: Services<f64>,
        units: Services<f64>,
        storage_list_price: bool,
    ) -> Result<Bill, CostError> {
        let direct = devices.map(|s, d| d + network.get(s));
        let dev_share = split(baseline_devices, &direct);
        let net_share = split(baseline_network, &direct);
        let energy = devices.map(|s, d| {
            let devices = d + dev_share.get(s);
            Energy {
                devices,
                network: network.get(s) + net_share.get(s),
                overhead: (pue - 1.0) * devices,
            }
        });
        let energy_cost = energy.map(|_, e| e.total() * price);
        let cost = energy_cost.map(|s, c| match s {
            Service::Storage if storage_list_price => fees.storage,
            _ => c + fees.get(s),
        });
        let bill = Bill {
            side,
            energy,
            shared_baseline_kwh: baseline_devices * pue + baseline_network,
            energy_cost,
            fees,
            cost,
            units,
            energy_per_unit: energy.map(|s, e| per_unit(e.total(), *units.get(s))),
            cost_per_unit: cost.map(|s, c| per_unit(*c, *units.get(s))),
        };
        let finite = Service::ALL.iter().all(|&s| {
            let e = bill.energy.get(s);
            [
                e.devices,
                e.network,
                e.overhead,
                *bill.energy_cost.get(s),
                *bill.fees.get(s),
                *bill.cost.get(s),
                *bill.units.get(s),
            ]
            .iter()
            .all(|v| v.is_finite())
        }) && bill.shared_baseline_kwh.is_finite();
        if finite {
            Ok(bill)
        } else {
            Err(refuse(
                side.name(),
                "the usage is too large: the energy or cost is not a finite number".to_string(),
            ))
        }
    }
}

/// A `quantity` of `cost.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quantity {
    /// Machines and disks, kWh.
    EnergyDevices,
    /// Moving bytes, kWh.
    EnergyNetwork,
    /// Facility overhead, kWh.
    EnergyOverhead,
    /// Devices + network + overhead, kWh.
    Energy,
    /// Energy × the side's electricity price, USD.
    EnergyCost,
    /// List-price fees, USD.
    Fees,
    /// Cost by the costing rule, USD.
    Cost,
    /// Units of service (per service only).
    Units,
    /// kWh per unit of service (per service only; blank without units).
    EnergyPerUnit,
    /// USD per unit of service (per service only; blank without units).
    CostPerUnit,
    /// The part of the side's energy split by the baseline rule, kWh
    /// ([`ALL_SERVICES`] only).
    SharedBaseline,
}

impl Quantity {
    /// Every quantity, in the order of the rows of one service (or of the
    /// side's total) in `cost.csv`.
    pub const ALL: [Quantity; 11] = [
        Quantity::EnergyDevices,
        Quantity::EnergyNetwork,
        Quantity::EnergyOverhead,
        Quantity::Energy,
        Quantity::EnergyCost,
        Quantity::Fees,
        Quantity::Cost,
        Quantity::Units,
        Quantity::EnergyPerUnit,
        Quantity::CostPerUnit,
        Quantity::SharedBaseline,
    ];

    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::EnergyDevices => "energy_devices",
            Quantity::EnergyNetwork => "energy_network",
            Quantity::EnergyOverhead => "energy_overhead",
            Quantity::Energy => "energy",
            Quantity::EnergyCost => "energy_cost",
            Quantity::Fees => "fees",
            Quantity::Cost => "cost",
            Quantity::Units => "units",
            Quantity::EnergyPerUnit => "energy_per_unit",
            Quantity::CostPerUnit => "cost_per_unit",
            Quantity::SharedBaseline => "shared_baseline",
        }
    }

    /// The unit of its rows for `service` (`None`: the side's total, the
    /// [`ALL_SERVICES`] rows), or `None` when `cost.csv` has no such row
    /// (units and per-unit figures of the total, a shared baseline per
    /// service).
    pub fn unit(self, service: Option<Service>) -> Option<String> {
        match (self, service) {
            (Quantity::Units | Quantity::EnergyPerUnit | Quantity::CostPerUnit, None) => None,
            (Quantity::SharedBaseline, Some(_)) => None,
            (Quantity::Units, Some(s)) => Some(s.unit().to_string()),
            (Quantity::EnergyPerUnit, Some(s)) => Some(format!("kWh/{}", s.unit())),
            (Quantity::CostPerUnit, Some(s)) => Some(format!("USD/{}", s.unit())),
            (Quantity::EnergyCost | Quantity::Fees | Quantity::Cost, _) => Some("USD".to_string()),
            (
                Quantity::EnergyDevices
                | Quantity::EnergyNetwork
                | Quantity::EnergyOverhead
                | Quantity::Energy
                | Quantity::SharedBaseline,
                _,
            ) => Some("kWh".to_string()),
        }
    }

    /// A per-unit figure: blank in `cost.csv` when the service has no
    /// units.
    pub fn per_unit(self) -> bool {
        matches!(self, Quantity::EnergyPerUnit | Quantity::CostPerUnit)
    }

    /// The value of its row for `service` (`None`: the side's total) in
    /// `bill`, `None` when blank or when there is no such row.
    pub fn of(self, bill: &Bill, service: Option<Service>) -> Option<f64> {
        let sum = |f: fn(&Energy) -> f64| bill.energy.map(|_, e| f(e)).total();
        match (self, service) {
            (Quantity::EnergyDevices, Some(s)) => Some(bill.energy.get(s).devices),
            (Quantity::EnergyDevices, None) => Some(sum(|e| e.devices)),
            (Quantity::EnergyNetwork, Some(s)) => Some(bill.energy.get(s).network),
            (Quantity::EnergyNetwork, None) => Some(sum(|e| e.network)),
            (Quantity::EnergyOverhead, Some(s)) => Some(bill.energy.get(s).overhead),
            (Quantity::EnergyOverhead, None) => Some(sum(|e| e.overhead)),
            (Quantity::Energy, Some(s)) => Some(bill.energy.get(s).total()),
            (Quantity::Energy, None) => Some(bill.total_energy()),
            (Quantity::EnergyCost, Some(s)) => Some(*bill.energy_cost.get(s)),
            (Quantity::EnergyCost, None) => Some(bill.energy_cost.total()),
            (Quantity::Fees, Some(s)) => Some(*bill.fees.get(s)),
            (Quantity::Fees, None) => Some(bill.fees.total()),
            (Quantity::Cost, Some(s)) => Some(*bill.cost.get(s)),
            (Quantity::Cost, None) => Some(bill.total_cost()),
            (Quantity::Units, Some(s)) => Some(*bill.units.get(s)),
            (Quantity::EnergyPerUnit, Some(s)) => *bill.energy_per_unit.get(s),
            (Quantity::CostPerUnit, Some(s)) => *bill.cost_per_unit.get(s),
            (Quantity::SharedBaseline, None) => Some(bill.shared_baseline_kwh),
            (Quantity::Units | Quantity::EnergyPerUnit | Quantity::CostPerUnit, None)
            | (Quantity::SharedBaseline, Some(_)) => None,
        }
    }
}

/// The `service` name of a `cost.csv` row: the service's, or
/// [`ALL_SERVICES`] for the side's total (`None`).
pub fn service_name(service: Option<Service>) -> &'static str {
    service.map_or(ALL_SERVICES, Service::name)
}

/// A value in full (shortest exact decimal form); blank when there is none.
fn value(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => String::new(),
    }
}

/// `cost.csv` text: the header `side,service,quantity,unit,value` and the
/// rows of every bill (see the module docs): per bill, each service in
/// [`Service::ALL`] order then the side's total ([`ALL_SERVICES`]), each
/// with the quantities of [`Quantity::ALL`] that it has, in that order.
pub fn cost_csv(bills: &[Bill]) -> String {
    let mut s = String::from("side,service,quantity,unit,value\n");
    for b in bills {
        let services = Service::ALL.map(Some).into_iter().chain([None]);
        for sv in services {
            for q in Quantity::ALL {
                if let Some(unit) = q.unit(sv) {
                    let _ = writeln!(
                        s,
                        "{},{},{},{unit},{}",
                        b.side.name(),
                        service_name(sv),
                        q.name(),
                        value(q.of(b, sv))
                    );
                }
            }
        }
    }
    s
}

/// A number for a report: 4 significant digits (in scientific notation
/// below 0.001), `—` without one.
fn short(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            if v == 0.0 {
                "0".to_string()
            } else if v.abs() < 1e-3 {
                format!("{v:.3e}")
            } else {
                let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
                format!("{v:.digits$}")
            }
        }
        _ => "—".to_string(),
    }
}

/// A markdown table of the bills for a report: per side and service, the
/// energy, the cost and the per-unit figures.
pub fn cost_markdown(bills: &[Bill]) -> String {
    let mut s = String::from(
        "| side | service | energy (kWh) | cost (USD) | units | kWh per unit | USD per unit |\n|---|---|---|---|---|---|---|\n",
    );
    for b in bills {
        for sv in Service::ALL {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} {} | {} | {} |",
                b.side.name(),
                sv.name(),
                short(Some(b.energy.get(sv).total())),
                short(Some(*b.cost.get(sv))),
                short(Some(*b.units.get(sv))),
                sv.unit(),
                short(*b.energy_per_unit.get(sv)),
                short(*b.cost_per_unit.get(sv)),
            );
        }
        let _ = writeln!(
            s,
            "| {} | all | {} | {} | | | |",
            b.side.name(),
            short(Some(b.total_energy())),
            short(Some(b.total_cost())),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round numbers, so that every figure can be worked out by hand.
    fn model() -> CostModel {
        CostModel {
            home_idle_watts: 20.0,
            home_active_watts: 50.0,
            home_disk_watts_per_tb: 1.0,
            home_allocation: Allocation::Marginal,
            router_watts: 10.0,
            router_allocation: RouterAllocation::None,
            server_idle_watts: 100.0,
            server_active_watts: 300.0,
            dc_disk_watts_per_tb: 2.0,
            pue_preset: PuePreset::Average,
            pue: None,
            network_model: NetworkModel::BaselinePerByte,
            network_kwh_per_gb: 0.05,
            network_marginal_kwh_per_gb: 0.001,
            home_price_per_kwh: 0.20,
            dc_price_per_kwh: 0.10,
            dc_storage_price_per_gb_month: 0.02,
            dc_egress_price_per_gb: 0.05,
        }
    }

    fn p2p() -> P2pUsage {
        P2pUsage {
            hours: 100.0,
            hosts: 10,
            host_up_hours: 800.0,
            busy_cpu_hours: 40.0,
            routers: 5,
            bytes_by_service: Services {
                storage: 2_000_000_000,
                compute: 1_000_000_000,
                lookups: 500_000_000,
            },
            stored_gb_months: 3_000.0,
            logical_gb_months: 1_000.0,
            jobs: 20,
            lookups: 1_000,
        }
    }

    fn dc() -> DcUsage {
        DcUsage {
            hours: 100.0,
            servers: 2,
            busy_server_hours: 10.0,
            bytes_by_service: Services {
                storage: 1_000_000_000,
                compute: 1_000_000_000,
                lookups: 0,
            },
            egress_bytes: Services {
                storage: 1_000_000_000,
                compute: 500_000_000,
                lookups: 0,
            },
            stored_gb_months: 2_000.0,
            logical_gb_months: 1_000.0,
            jobs: 20,
            lookups: 1_000,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    macro_rules! near {
        ($a:expr, $b:expr) => {{
            let (a, b): (f64, f64) = ($a, $b);
            assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
        }};
    }

    /// P2P, marginal allocation, routers not charged:
    /// - compute devices: 40 h × (50 − 20) W = 1 200 Wh = 1.2 kWh;
    /// - storage devices: 3 000 GB-months = 3 TB-months × 1 W/TB × 730 h
    ///   = 2 190 Wh = 2.19 kWh;
    /// - network: 2 GB, 1 GB, 0.5 GB × 0.001 kWh/GB = 0.002, 0.001, 0.0005;
    /// - totals: storage 2.192, compute 1.201, lookups 0.0005 kWh; at
    ///   0.20 USD/kWh: 0.4384, 0.2402, 0.0001 USD;
    /// - per unit: 2.192 / 1 000 = 0.002192 kWh and 0.0004384 USD per
    ///   GB-month; 1.201 / 20 = 0.06005 kWh and 0.01201 USD per job;
    ///   0.0005 / 1 000 = 5e-7 kWh and 1e-7 USD per lookup.
    #[test]
    fn p2p_marginal_by_hand() {
        let [b, _] = model().bills(&p2p(), &dc()).unwrap();
        near!(b.energy.compute.devices, 1.2);
        near!(b.energy.storage.devices, 2.19);
        near!(b.energy.lookups.devices, 0.0);
        near!(b.energy.storage.network, 0.002);
        near!(b.energy.compute.network, 0.001);
        near!(b.energy.lookups.network, 0.0005);
        near!(b.energy.storage.overhead, 0.0);
        near!(b.total_energy(), 3.3935);
        near!(b.shared_baseline_kwh, 0.0);
        near!(b.cost.storage, 0.4384);
        near!(b.cost.compute, 0.2402);
        near!(b.cost.lookups, 0.0001);
        near!(b.fees.total(), 0.0);
        near!(b.energy_per_unit.storage.unwrap(), 0.002192);
        near!(b.cost_per_unit.storage.unwrap(), 0.0004384);
        near!(b.energy_per_unit.compute.unwrap(), 0.06005);
        near!(b.cost_per_unit.compute.unwrap(), 0.01201);
        near!(b.energy_per_unit.lookups.unwrap(), 5e-7);
        near!(b.cost_per_unit.lookups.unwrap(), 1e-7);
    }

    /// Data center, PUE 1.58:
    /// - idle servers: 2 × 100 h × 100 W = 20 kWh, shared;
    /// - compute: 10 h × (300 − 100) W = 2 kWh; storage: 2 TB-months ×
    ///   2 W/TB × 730 h = 2.92 kWh; network: 1 GB × 0.001 = 0.001 kWh for
    ///   storage and for compute, 0 for lookups;
    /// - direct energy, the weights of the shared baseline: storage 2.921,
    ///   compute 2.001, lookups 0 (sum 4.922);
    /// - devices: storage 2.92 + 20 × 2.921 / 4.922, compute
    ///   2 + 20 × 2.001 / 4.922, lookups 0; all devices 24.92 kWh,
    ///   overhead 0.58 × 24.92 = 14.4536 kWh, total 24.92 + 14.4536 +
    ///   0.002 = 39.3756 kWh;
    /// - fees: storage 1 000 GB-months × 0.02 + 1 GB × 0.05 = 20.05 USD,
    ///   compute 0.5 GB × 0.05 = 0.025 USD; storage costs its fees (a list
    ///   price), compute its energy × 0.10 USD/kWh + 0.025.
    #[test]
    fn datacenter_by_hand() {
        let [_, b] = model().bills(&p2p(), &dc()).unwrap();
        let storage_dev = 2.92 + 20.0 * 2.921 / 4.922;
        let compute_dev = 2.0 + 20.0 * 2.001 / 4.922;
        near!(b.energy.storage.devices, storage_dev);
        near!(b.energy.compute.devices, compute_dev);
        near!(b.energy.lookups.devices, 0.0);
        near!(b.energy.storage.overhead, 0.58 * storage_dev);
        near!(b.energy.compute.network, 0.001);
        near!(b.total_energy(), 39.3756);
        near!(b.shared_baseline_kwh, 20.0 * 1.58);
        near!(b.fees.storage, 20.05);
        near!(b.fees.compute, 0.025);
        near!(b.cost.storage, 20.05);
        let compute_kwh = compute_dev * 1.58 + 0.001;
        near!(b.energy_cost.compute, compute_kwh * 0.10);
        near!(b.cost.compute, compute_kwh * 0.10 + 0.025);
        near!(b.cost_per_unit.storage.unwrap(), 20.05 / 1000.0);
        near!(b.energy_per_unit.compute.unwrap(), compute_kwh / 20.0);
        near!(b.energy_per_unit.lookups.unwrap(), 0.0);
    }

    /// Without a storage list price, the data center's storage costs its
    /// electricity plus its egress: (2.92 + 20 × 2.921 / 4.922) × 1.58 +
    /// 0.001 kWh × 0.10 USD/kWh + 0.05 USD.
    #[test]
    fn storage_without_list_price_costs_its_energy() {
        let m = CostModel {
            dc_storage_price_per_gb_month: 0.0,
            ..model()
        };
        let [_, b] = m.bills(&p2p(), &dc()).unwrap();
        let kwh = (2.92 + 20.0 * 2.921 / 4.922) * 1.58 + 0.001;
        near!(b.cost.storage, kwh * 0.10 + 0.05);
    }

    /// The PUE preset changes the data center's bill only: the P2P bill is
    /// identical, and the data center's total goes from 39.3756 kWh (PUE
    /// 1.58) to 24.92 × 1.10 + 0.002 = 27.414 kWh (PUE 1.10); an explicit
    /// `pue` of 2 gives 24.92 × 2 + 0.002 = 49.842 kWh.
    #[test]
    fn the_pue_preset_changes_only_the_datacenter() {
        let avg = model();
        let hyper = CostModel {
            pue_preset: PuePreset::Hyperscale,
            ..model()
        };
        let [p_avg, d_avg] = avg.bills(&p2p(), &dc()).unwrap();
        let [p_hyp, d_hyp] = hyper.bills(&p2p(), &dc()).unwrap();
        assert_eq!(p_avg, p_hyp);
        near!(d_avg.total_energy(), 39.3756);
        near!(d_hyp.total_energy(), 27.414);
        assert_ne!(d_avg.cost.compute, d_hyp.cost.compute);
        let explicit = CostModel {
            pue: Some(2.0),
            ..hyper
        };
        let [p_exp, d_exp] = explicit.bills(&p2p(), &dc()).unwrap();
        assert_eq!(p_exp, p_avg);
        near!(d_exp.total_energy(), 49.842);
    }

    /// `"full"` adds every up hour at idle power: 800 h × 20 W = 16 kWh,
    /// split by the direct energies 2.192 / 1.201 / 0.0005 (sum 3.3935);
    /// the data center's bill does not change.
    #[test]
    fn full_allocation_adds_exactly_the_idle_energy() {
        let full = CostModel {
            home_allocation: Allocation::Full,
            ..model()
        };
        let [pm, dm] = model().bills(&p2p(), &dc()).unwrap();
        let [pf, df] = full.bills(&p2p(), &dc()).unwrap();
        near!(pf.total_energy() - pm.total_energy(), 16.0);
        near!(pf.shared_baseline_kwh, 16.0);
        near!(pf.total_cost() - pm.total_cost(), 16.0 * 0.20);
        near!(pf.energy.storage.devices, 2.19 + 16.0 * 2.192 / 3.3935);
        near!(pf.energy.compute.devices, 1.2 + 16.0 * 1.201 / 3.3935);
        near!(pf.energy.lookups.devices, 16.0 * 0.0005 / 3.3935);
        assert_eq!(dm, df);
    }

    /// Flat network intensity: 3.5 GB × 0.05 kWh/GB = 0.175 kWh on the P2P
    /// side, 2 GB × 0.05 = 0.1 kWh on the data center's; no router
    /// baseline whatever `router_allocation` says.
    #[test]
    fn flat_network_by_hand() {
        let m = CostModel {
            network_model: NetworkModel::Flat,
            router_allocation: RouterAllocation::P2p,
            ..model()
        };
        let [p, d] = m.bills(&p2p(), &dc()).unwrap();
        near!(p.energy.map(|_, e| e.network).total(), 0.175);
        near!(p.energy.storage.network, 0.1);
        near!(d.energy.map(|_, e| e.network).total(), 0.1);
        near!(p.shared_baseline_kwh, 0.0);
    }

    /// Routers: 5 × 100 h × 10 W = 5 kWh. `p2p`: all 5 to the P2P side;
    /// `by-bytes`: 3.5 / 5.5 of it to P2P and 2 / 5.5 to the data center;
    /// `none`: nothing.
    #[test]
    fn router_baseline_by_hand() {
        let net = |b: &Bill| b.energy.map(|_, e| e.network).total();
        let [p0, d0] = model().bills(&p2p(), &dc()).unwrap();
        for (alloc, p_extra, d_extra) in [
            (RouterAllocation::P2p, 5.0, 0.0),
            (RouterAllocation::ByBytes, 5.0 * 3.5 / 5.5, 5.0 * 2.0 / 5.5),
        ] {
            let m = CostModel {
                router_allocation: alloc,
                ..model()
            };
            let [p, d] = m.bills(&p2p(), &dc()).unwrap();
            near!(net(&p) - net(&p0), p_extra);
            near!(net(&d) - net(&d0), d_extra);
            near!(p.shared_baseline_kwh, p_extra);
        }
        // No bytes at all: equal halves, 2.5 kWh each.
        let quiet_p = P2pUsage {
            bytes_by_service: Services::default(),
            ..p2p()
        };
        let quiet_d = DcUsage {
            bytes_by_service: Services::default(),
            ..dc()
        };
        let m = CostModel {
            router_allocation: RouterAllocation::ByBytes,
            ..model()
        };
        let [p, d] = m.bills(&quiet_p, &quiet_d).unwrap();
        near!(net(&p), 2.5);
        near!(net(&d), 2.5);
    }

    /// No jobs, no lookups, no stored data, nothing at all: no per-unit
    /// figure, and no NaN or infinity anywhere in the outputs. The idle
    /// servers (2 × 100 h × 100 W × 1.58 = 31.6 kWh) are split in thirds.
    #[test]
    fn zero_units_give_no_per_unit_figure() {
        let p = P2pUsage {
            hours: 100.0,
            ..P2pUsage::default()
        };
        let d = DcUsage {
            hours: 100.0,
            servers: 2,
            ..DcUsage::default()
        };
        let bills = model().bills(&p, &d).unwrap();
        for b in &bills {
            for s in Service::ALL {
                assert_eq!(*b.energy_per_unit.get(s), None, "{:?} {s:?}", b.side);
                assert_eq!(*b.cost_per_unit.get(s), None, "{:?} {s:?}", b.side);
            }
        }
        near!(bills[1].energy.lookups.total(), 31.6 / 3.0);
        let csv = cost_csv(&bills);
        let md = cost_markdown(&bills);
        for text in [&csv, &md] {
            let lower = text.to_lowercase();
            assert!(!lower.contains("nan") && !lower.contains("inf"), "{text}");
        }
        assert!(
            csv.contains("p2p,compute,energy_per_unit,kWh/job,\n"),
            "{csv}"
        );
    }

    /// The vocabulary of `cost.csv`, as the module docs give it.
    #[test]
    fn quantities_have_the_documented_names_and_units() {
        let names: Vec<&str> = Quantity::ALL.iter().map(|q| q.name()).collect();
        assert_eq!(
            names,
            [
                "energy_devices",
                "energy_network",
                "energy_overhead",
                "energy",
                "energy_cost",
                "fees",
                "cost",
                "units",
                "energy_per_unit",
                "cost_per_unit",
                "shared_baseline"
            ]
        );
        let unit = |q: Quantity, s: Option<Service>| q.unit(s);
        let some = |u: &str| Some(u.to_string());
        assert_eq!(unit(Quantity::Energy, None), some("kWh"));
        assert_eq!(
            unit(Quantity::EnergyOverhead, Some(Service::Lookups)),
            some("kWh")
        );
        assert_eq!(unit(Quantity::Fees, None), some("USD"));
        assert_eq!(unit(Quantity::Cost, Some(Service::Compute)), some("USD"));
        assert_eq!(
            unit(Quantity::Units, Some(Service::Storage)),
            some("GB-month")
        );
        assert_eq!(unit(Quantity::Units, None), None);
        assert_eq!(
            unit(Quantity::EnergyPerUnit, Some(Service::Storage)),
            some("kWh/GB-month")
        );
        assert_eq!(
            unit(Quantity::CostPerUnit, Some(Service::Compute)),
            some("USD/job")
        );
        assert_eq!(
            unit(Quantity::EnergyPerUnit, Some(Service::Lookups)),
            some("kWh/lookup")
        );
        assert_eq!(unit(Quantity::CostPerUnit, None), None);
        assert_eq!(unit(Quantity::SharedBaseline, None), some("kWh"));
        assert_eq!(unit(Quantity::SharedBaseline, Some(Service::Storage)), None);
        assert_eq!(service_name(None), "all");
        assert_eq!(service_name(Some(Service::Lookups)), "lookups");
        assert_eq!(Side::ALL.map(Side::name), ["p2p", "datacenter"]);
        assert!(Quantity::CostPerUnit.per_unit() && !Quantity::Units.per_unit());
    }

    #[test]
    fn csv_rows_are_tidy() {
        let bills = model().bills(&p2p(), &dc()).unwrap();
        let csv = cost_csv(&bills);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("side,service,quantity,unit,value"));
        // 10 rows per service, 8 per side's total.
        assert_eq!(lines.clone().count(), 2 * (3 * 10 + 8));
        for l in lines {
            assert_eq!(l.split(',').count(), 5, "{l}");
        }
        assert!(
            csv.contains("p2p,compute,energy_devices,kWh,1.2\n"),
            "{csv}"
        );
        assert!(csv.contains("datacenter,storage,fees,USD,20.05\n"), "{csv}");
        assert!(csv.contains("p2p,storage,units,GB-month,1000\n"), "{csv}");
        let md = cost_markdown(&bills);
        assert!(
            md.contains("| p2p | compute | 1.201 | 0.2402 | 20.00 job | 0.06005 | 0.01201 |"),
            "{md}"
        );
        assert!(md.contains("| p2p | lookups | 5.000e-4 |"), "{md}");
    }

    /// The worked example of `docs/scenario-reference.md` (section
    /// `[cost]`), every default, figures as written there:
    /// - P2P `marginal`: compute 500 h × 30 W + 50 GB × 0.0001 kWh/GB =
    ///   15.005 kWh; storage 3 TB-months × 0.5 W/TB × 730 h + 0.05 =
    ///   1.145 kWh; per GB-month 1.145 / 1 000 kWh, 1.145 × 0.2225 / 1 000
    ///   USD;
    /// - `full`: plus 72 000 h × 30 W = 2 160 kWh, 480.60 USD;
    /// - data center: IT 288 + 50 + 1.095 = 339.095 kWh, × 1.58 + 0.0555 =
    ///   535.8256 kWh (× 1.10: 373.06); storage 1 000 × 0.023 + 100 × 0.09
    ///   = 32 USD.
    #[test]
    fn the_reference_pages_worked_example() {
        let gb = |s: u64, c: u64, l: u64| Services {
            storage: s * 1_000_000_000,
            compute: c * 1_000_000_000,
            lookups: l * 1_000_000_000,
        };
        let p = P2pUsage {
            hours: 720.0,
            hosts: 100,
            host_up_hours: 72_000.0,
            busy_cpu_hours: 500.0,
            routers: 100,
            bytes_by_service: gb(500, 50, 5),
            stored_gb_months: 3_000.0,
            logical_gb_months: 1_000.0,
            jobs: 2_000,
            lookups: 1_000_000,
        };
        let d = DcUsage {
            hours: 720.0,
            servers: 4,
            busy_server_hours: 250.0,
            bytes_by_service: gb(500, 50, 5),
            egress_bytes: gb(100, 50, 5),
            stored_gb_months: 3_000.0,
            logical_gb_months: 1_000.0,
            jobs: 2_000,
            lookups: 1_000_000,
        };
        let m = CostModel::default();
        let [pb, db] = m.bills(&p, &d).unwrap();
        near!(pb.energy.compute.total(), 15.005);
        near!(pb.energy.storage.total(), 1.145);
        near!(pb.energy.lookups.total(), 0.0005);
        near!(pb.energy_per_unit.storage.unwrap(), 0.001145);
        near!(pb.cost_per_unit.storage.unwrap(), 1.145 * 0.2225 / 1000.0);
        near!(pb.energy_per_unit.compute.unwrap(), 15.005 / 2000.0);
        near!(pb.energy_per_unit.lookups.unwrap(), 5e-10);
        near!(db.total_energy(), 535.8256);
        near!(db.cost.storage, 32.0);
        near!(db.cost_per_unit.storage.unwrap(), 0.032);
        let full = CostModel {
            home_allocation: Allocation::Full,
            ..CostModel::default()
        };
        let [pf, _] = full.bills(&p, &d).unwrap();
        near!(pf.total_energy() - pb.total_energy(), 2160.0);
        near!(pf.total_cost() - pb.total_cost(), 480.6);
        let hyper = CostModel {
            pue_preset: PuePreset::Hyperscale,
            ..CostModel::default()
        };
        let [_, dh] = hyper.bills(&p, &d).unwrap();
        near!(dh.total_energy(), 373.06);
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let m = CostModel::default();
        m.check().unwrap();
        assert_eq!(m.effective_pue(), 1.58);
        assert_eq!(PuePreset::Hyperscale.pue(), 1.10);
        assert_eq!(m.home_allocation, Allocation::Marginal);
        assert_eq!(m.router_allocation, RouterAllocation::None);
        assert_eq!(m.network_model, NetworkModel::BaselinePerByte);
        assert_eq!(m.home_price_per_kwh, 0.2225);
        assert_eq!(m.dc_price_per_kwh, 0.0895);
        assert_eq!(m.dc_storage_price_per_gb_month, 0.023);
        assert_eq!(m.dc_egress_price_per_gb, 0.09);
        assert_eq!(m.network_kwh_per_gb, 0.06);
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let cases: Vec<(CostModel, &str)> = vec![
            (
                CostModel {
                    home_idle_watts: -1.0,
                    ..model()
                },
                "cost.home_idle_watts",
            ),
            (
                CostModel {
                    router_watts: f64::NAN,
                    ..model()
                },
                "cost.router_watts",
            ),
            (
                CostModel {
                    pue: Some(0.9),
                    ..model()
                },
                "cost.pue",
            ),
            (
                CostModel {
                    home_active_watts: 10.0,
                    ..model()
                },
                "cost.home_active_watts",
            ),
            (
                CostModel {
                    server_active_watts: 50.0,
                    ..model()
                },
                "cost.server_active_watts",
            ),
            (
                CostModel {
                    network_kwh_per_gb: f64::INFINITY,
                    ..model()
                },
                "cost.network_kwh_per_gb",
            ),
            (
                CostModel {
                    dc_egress_price_per_gb: -0.01,
                    ..model()
                },
                "cost.dc_egress_price_per_gb",
            ),
        ];
        for (m, key) in cases {
            let e = m.check().unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(m.bills(&p2p(), &dc()).is_err());
        }
    }

    #[test]
    fn bad_usage_is_refused() {
        let e = model()
            .bills(
                &P2pUsage {
                    hours: -1.0,
                    ..p2p()
                },
                &dc(),
            )
            .unwrap_err();
        assert_eq!(e.key, "p2p.hours");
        let e = model()
            .bills(
                &p2p(),
                &DcUsage {
                    stored_gb_months: f64::NAN,
                    ..dc()
                },
            )
            .unwrap_err();
        assert_eq!(e.key, "datacenter.stored_gb_months");
        // Finite inputs whose product overflows.
        let e = model()
            .bills(
                &P2pUsage {
                    busy_cpu_hours: 1e307,
                    ..p2p()
                },
                &dc(),
            )
            .unwrap_err();
        assert_eq!(e.key, "p2p", "{e}");
    }

    /// The model reads from TOML with every key optional, and refuses
    /// unknown keys and values.
    #[test]
    fn reads_from_toml() {
        let m: CostModel =
            toml::from_str("pue_preset = \"hyperscale\"\nhome_allocation = \"full\"\n").unwrap();
        assert_eq!(m.effective_pue(), 1.10);
        assert_eq!(m.home_allocation, Allocation::Full);
        assert_eq!(m.home_idle_watts, CostModel::default().home_idle_watts);
        assert!(toml::from_str::<CostModel>("pue_preset = \"best\"\n").is_err());
        assert!(toml::from_str::<CostModel>("home_watts = 3\n").is_err());
        let m: CostModel =
            toml::from_str("network_model = \"flat\"\nrouter_allocation = \"by-bytes\"\n").unwrap();
        assert_eq!(m.network_model, NetworkModel::Flat);
        assert_eq!(m.router_allocation, RouterAllocation::ByBytes);
        let back: CostModel = toml::from_str(&toml::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
