//! Link kinds of a mesh and the parameters the caller gives each kind.

use super::error::TopoError;
use crate::units::{Duration, Rate};

/// What a mesh link physically is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKind {
    /// A 5 GHz (or 2.4 GHz) radio hop; label `wifi`.
    Wifi,
    /// A 60 GHz radio hop; label `wifi-60ghz`.
    Wifi60GHz,
    /// A tunnel over the internet; label `vpn`.
    Vpn,
    /// A fibre; label `fiber`.
    Fiber,
    /// Cable or unknown; label `other`.
    Other,
}

impl LinkKind {
    /// Every kind, in table order.
    pub const ALL: [LinkKind; 5] = [
        LinkKind::Wifi,
        LinkKind::Wifi60GHz,
        LinkKind::Vpn,
        LinkKind::Fiber,
        LinkKind::Other,
    ];

    /// The label used in files (`wifi`, `wifi-60ghz`, `vpn`, `fiber`, `other`).
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::Wifi => "wifi",
            LinkKind::Wifi60GHz => "wifi-60ghz",
            LinkKind::Vpn => "vpn",
            LinkKind::Fiber => "fiber",
            LinkKind::Other => "other",
        }
    }

    /// The kind with this label (exact, lower case), if any.
    pub fn from_label(label: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.label() == label)
    }

    /// Radio kinds (`wifi`, `wifi-60ghz`).
    pub fn is_radio(self) -> bool {
        matches!(self, LinkKind::Wifi | LinkKind::Wifi60GHz)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How a link's datagram loss probability is derived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossModel {
    /// The same loss probability in both directions, in `[0, 1)`.
    Fixed(f64),
    /// From the link's measured quality, per direction:
    /// - with a transmit quality `tq` in `[0, 1]` (Freifunk `source_tq` for
    ///   source → target, `target_tq` for target → source):
    ///   `loss = 1 - tq`;
    /// - else with a NetJSON ETX `cost`: ETX is `1 / (d_f d_r)` for the
    ///   delivery ratios of the two directions (De Couto et al., 2003);
    ///   assuming a symmetric link, `d = 1 / sqrt(ETX)` each way, so
    ///   `loss = 1 - 1 / sqrt(ETX)` both ways and the [`Metric::Etx`] weight
    ///   of the link is the file's ETX again;
    /// - else `missing`;
    ///
    /// then clamped to `[floor, cap]`. `cap` must be below 1: a link of
    /// quality 0 ("currently unusable") then loses `cap` of its datagrams
    /// and is very expensive under the ETX metric, but stays a link.
    FromQuality {
        /// Smallest loss given to any link.
        floor: f64,
        /// Largest loss given to any link (below 1).
        cap: f64,
        /// Loss of a link without a quality value.
        missing: f64,
    },
}

impl LossModel {
    /// Check the probabilities (all in `[0, 1)`, `floor <= cap`).
    pub fn validate(&self) -> Result<(), TopoError> {
        let ok = |p: f64| (0.0..1.0).contains(&p);
        match *self {
            LossModel::Fixed(p) if ok(p) => Ok(()),
            LossModel::FromQuality {
                floor,
                cap,
                missing,
            } if ok(floor) && ok(cap) && ok(missing) && floor <= cap => Ok(()),
            other => Err(TopoError::config(format!(
                "loss model {other:?}: probabilities must be in [0, 1) and floor <= cap"
            ))),
        }
    }

    /// Loss of one direction given its transmit quality and the link's ETX.
    pub fn loss(&self, tq: Option<f64>, etx: Option<f64>) -> f64 {
        match *self {
            LossModel::Fixed(p) => p,
            LossModel::FromQuality {
                floor,
                cap,
                missing,
            } => {
                let raw = match (tq, etx) {
                    (Some(tq), _) => 1.0 - tq,
                    (None, Some(etx)) => 1.0 - 1.0 / etx.sqrt(),
                    (None, None) => return missing,
                };
                raw.clamp(floor, cap)
            }
        }
    }
}

/// Latency, capacity, loss and airtime of one link kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkKindParams {
    /// One-way latency of a hop (propagation, MAC and forwarding).
    pub latency: Duration,
    /// Capacity of each direction of a link.
    pub capacity: Rate,
    /// Datagram loss.
    pub loss: LossModel,
    /// For radio kinds: the airtime of one router's radio of this kind,
    /// shared by every hop the router transmits on a link of this kind.
    /// `None` for wired links and tunnels.
    pub airtime: Option<Rate>,
}

fn mbit(m: u64) -> Rate {
    Rate::new(m * 1_000_000).expect("positive")
}

/// Parameters for every [`LinkKind`].
///
/// # Defaults
/// Assumptions, not measurements; scenarios should set their own:
///
/// | kind | latency | capacity | airtime per router | loss |
/// |---|---|---|---|---|
/// | wifi | 1 ms | 100 Mbit/s | 150 Mbit/s | from quality, clamped to [0, 0.9], 1 % if unknown |
/// | wifi-60ghz | 0.5 ms | 1 Gbit/s | 1 Gbit/s | from quality, clamped to [0, 0.9], 0.1 % if unknown |
/// | vpn | 10 ms | 100 Mbit/s | — | from quality, clamped to [0, 0.9], 0 if unknown |
/// | fiber | 0.1 ms | 1 Gbit/s | — | 0 |
/// | other | 0.5 ms | 100 Mbit/s | — | from quality, clamped to [0, 0.9], 0 if unknown |
#[derive(Clone, Debug, PartialEq)]
pub struct KindTable {
    params: [LinkKindParams; 5],
}

impl Default for KindTable {
    fn default() -> Self {
        let q = |missing| LossModel::FromQuality {
            floor: 0.0,
            cap: 0.9,
            missing,
        };
        KindTable {
            params: [
                LinkKindParams {
                    latency: Duration::from_millis(1),
                    capacity: mbit(100),
                    loss: q(0.01),
                    airtime: Some(mbit(150)),
                },
                LinkKindParams {
                    latency: Duration::from_micros(500),
                    capacity: mbit(1_000),
                    loss: q(0.001),
                    airtime: Some(mbit(1_000)),
                },
                LinkKindParams {
                    latency: Duration::from_millis(10),
                    capacity: mbit(100),
                    loss: q(0.0),
                    airtime: None,
                },
                LinkKindParams {
                    latency: Duration::from_micros(100),
                    capacity: mbit(1_000),
                    loss: LossModel::Fixed(0.0),
                    airtime: None,
                },
                LinkKindParams {
                    latency: Duration::from_micros(500),
                    capacity: mbit(100),
                    loss: q(0.0),
                    airtime: None,
                },
            ],
        }
    }
}

impl KindTable {
    /// The parameters of `kind`.
    pub fn get(&self, kind: LinkKind) -> &LinkKindParams {
        &self.params[kind.index()]
    }
    /// Replace the parameters of `kind`.
    pub fn set(&mut self, kind: LinkKind, params: LinkKindParams) -> &mut Self {
        self.params[kind.index()] = params;
        self
    }
    /// Check every loss model.
    pub fn validate(&self) -> Result<(), TopoError> {
        self.params.iter().try_for_each(|p| p.loss.validate())
    }
}

/// The routing metric shortest paths minimise. Weights are integers, so
/// that ties and comparisons are exact; ties between equal-cost paths are
/// broken towards the lower router index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Every link costs 1.
    Hops,
    /// A link costs its one-way latency in nanoseconds (at least 1).
    Latency,
    /// A link costs its expected transmission count
    /// `ETX = 1 / ((1 - loss_ab) (1 - loss_ba))` (De Couto et al., 2003),
    /// in millionths, from the losses of [`LossModel`].
    Etx,
}

impl Metric {
    /// Parse `hops`, `latency` or `etx`.
    pub fn from_name(name: &str) -> Option<Metric> {
        match name {
            "hops" => Some(Metric::Hops),
            "latency" => Some(Metric::Latency),
            "etx" => Some(Metric::Etx),
            _ => None,
        }
    }
}
