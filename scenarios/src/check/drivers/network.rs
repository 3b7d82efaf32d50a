//! `maxmin-shares` and `ba-degree-tail`: the network model's bandwidth
//! sharing and the Barabási–Albert generator's degree tail.
//!
//! **maxmin-shares.** Long flows are started together on a small network of
//! the flow model ([`sim_core::net::flow::FlowNet`], the model bulk
//! transfers use); each flow's measured rate is the bytes it moved in the
//! first second. The expected shares are the max-min fair allocation
//! (Bertsekas & Gallager, Data Networks, 2nd ed., §6.5.2), computed by hand
//! for the case's network and given in the case file (`expected_mbps`), so
//! a control that changes the network (a capacity, a path) keeps the
//! claim. The model floors each rate to whole bits per second (at most
//! flows − 1 bit/s below the exact share on a bottleneck) and bytes moved
//! are whole bytes: the allowance is 8 bit/s plus one bit/s per flow.
//!
//! **ba-degree-tail.** The tail exponent of the degree distribution of
//! graphs grown by preferential attachment ([`generate::grown`]), by the
//! discrete maximum-likelihood estimator of Clauset, Shalizi & Newman
//! (SIAM Review 51, 2009, eq. 3.7): α̂ = 1 + n / Σ ln(k_i/(k_min − ½)) over
//! the n degrees k_i ≥ k_min. The value is averaged over independent
//! graphs, its standard error across them. Expected: Barabási–Albert's
//! degree law for large graphs, P(K = k) = 2m(m+1)/(k(k+1)(k+2)) for k ≥ m
//! (Dorogovtsev, Mendes & Samukhin 2000; Bollobás et al. 2001), a tail of
//! exponent 3; the estimator's limit on that law, 1 + 1/E[ln(K/(k_min −
//! ½)) | K ≥ k_min], is computed by summing the law (2.8905 at k_min = 12,
//! 2.934 at 20, tending to 3). Allowance 0.02: the law is the limit of
//! infinite graphs, and graphs of 20 000 to 50 000 routers read about 0.01
//! below it (2.877 ± 0.003 and 2.882 ± 0.003 over 100 graphs of 20 000
//! with two seeds; 2.878 ± 0.002 over 40 graphs of 50 000).

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use sim_core::net::LinkId;
use sim_core::net::flow::FlowNet;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use sim_core::topo::{LinkKind, generate};

// ------------------------------------------------------------ maxmin-shares

/// The `maxmin-shares` driver.
pub fn maxmin(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&["capacities_mbps", "paths", "expected_mbps"])?;
    let caps = p.f64s("capacities_mbps", &[12.0, 4.0, 2.0])?;
    let paths_text = p.str("paths", "0+1, 1, 0, 0+2")?;
    let expected = p.f64s("expected_mbps", &[2.0, 2.0, 8.0, 2.0])?;
    let mut capacities = Vec::new();
    for &c in &caps {
        let bps = (c * 1e6).round();
        if !(1.0..=1e15).contains(&bps) {
            return Err(CheckError::param(
                "capacities_mbps",
                format!("{c}: out of range"),
            ));
        }
        capacities
            .push(Rate::new(bps as u64).map_err(|e| CheckError::param("capacities_mbps", e))?);
    }
    let mut paths: Vec<Vec<LinkId>> = Vec::new();
    for f in paths_text.split(',') {
        let path: Vec<LinkId> = f
            .split('+')
            .map(|l| {
                l.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|&i| (i as usize) < caps.len())
                    .map(LinkId)
                    .ok_or_else(|| {
                        CheckError::param(
                            "paths",
                            format!(
                                "{f:?}: expected link numbers below {} joined by +",
                                caps.len()
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        paths.push(path);
    }
    if paths.len() != expected.len() {
        return Err(CheckError::param(
            "expected_mbps",
            format!("{} shares for {} flows", expected.len(), paths.len()),
        ));
    }
    let mut net = FlowNet::new(capacities);
    // Big enough not to finish within the second measured.
    let size = Bytes(u64::MAX / 1_000_000_000);
    let ids = paths
        .iter()
        .map(|path| net.start(Time::ZERO, path, size, 0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CheckError::param("paths", e))?;
    let one = Time::ZERO + Duration::from_secs(1);
    if net.next_completion().is_some_and(|(t, _)| t <= one) {
        return Err(CheckError(
            "a flow finished within the measured second".into(),
        ));
    }
    let allowance = (8.0 + ids.len() as f64) / 1e6;
    let points = ids
        .iter()
        .zip(&expected)
        .enumerate()
        .map(|(i, (&id, &e))| {
            let moved = net.bytes_moved(id, one).map_or(f64::NAN, |b| b.0 as f64);
            Point {
                allowance,
                ..Point::analytic(
                    format!(
                        "flow {i} ({}) Mbit/s",
                        paths_text.split(',').nth(i).unwrap_or("").trim()
                    ),
                    moved * 8.0 / 1e6,
                    0.0,
                    e,
                )
            }
        })
        .collect();
    Ok(Measurement {
        points,
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{} long flows started at once on links of {caps:?} Mbit/s; rates from the bytes \
             moved in the first second (deterministic: no standard error, an allowance for \
             the model's whole bits and bytes)",
            paths.len()
        ),
    })
}

// ------------------------------------------------------------ ba-degree-tail

/// The discrete power-law MLE (Clauset, Shalizi & Newman 2009, eq. 3.7)
/// over the degrees ≥ `kmin`, and the number of them.
pub fn power_law_mle(degrees: &[usize], kmin: usize) -> (f64, usize) {
    let base = kmin as f64 - 0.5;
    let (mut sum, mut n) = (0.0, 0usize);
    for &k in degrees.iter().filter(|&&k| k >= kmin) {
        sum += (k as f64 / base).ln();
        n += 1;
    }
    (1.0 + n as f64 / sum, n)
}

/// The MLE's limit on the Barabási–Albert law P(K = k) ∝ 1/(k(k+1)(k+2))
/// above `kmin`: 1 + 1/E[ln(K/(kmin − ½)) | K ≥ kmin], summed to 10⁷ (the
/// rest, below k^−2 ln k, is negligible).
pub fn ba_law_mle_limit(kmin: usize) -> f64 {
    let base = kmin as f64 - 0.5;
    let (mut w, mut wl) = (0.0, 0.0);
    for k in (kmin..10_000_000).rev() {
        let kf = k as f64;
        let p = 1.0 / (kf * (kf + 1.0) * (kf + 2.0));
        w += p;
        wl += p * (kf / base).ln();
    }
    1.0 + w / wl
}

/// The `ba-degree-tail` driver.
pub fn ba_tail(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "routers",
        "links_per_router",
        "graphs",
        "kmin",
        "attachment",
        "seed",
    ])?;
    let n = p.u64("routers", 20_000)? as usize;
    let m = p.u64("links_per_router", 3)? as usize;
    let graphs = p.u64("graphs", 40)?;
    let kmin = p.u64("kmin", 12)? as usize;
    let seed = p.u64("seed", 1)?;
    let attachment = match p.str("attachment", "preferential")?.as_str() {
        "preferential" => generate::Attachment::Preferential,
        "uniform" => generate::Attachment::Uniform,
        s => {
            return Err(CheckError::param(
                "attachment",
                format!("{s:?}: expected \"preferential\" or \"uniform\""),
            ));
        }
    };
    if kmin <= m || graphs < 2 || n > 10_000_000 {
        return Err(CheckError::param(
            "kmin",
            "need kmin > links_per_router, 2 or more graphs, at most 10⁷ routers",
        ));
    }
    let mut alphas = Vec::new();
    let mut tail = 0;
    for g in 0..graphs {
        // One independent stream per graph.
        let mut rng = node_rng(seed, Purpose::Custom(31), g as u32, 0);
        let graph = generate::grown(n, m, 1_000.0, LinkKind::Fiber, attachment, &mut rng)
            .map_err(|e| CheckError(e.to_string()))?;
        let (a, k) = power_law_mle(&graph.degrees(), kmin);
        if k < 10 {
            return Err(CheckError(format!(
                "graph {g}: only {k} routers of degree ≥ {kmin}: no tail to fit"
            )));
        }
        alphas.push(a);
        tail += k;
    }
    let (a, se) = mean_se(&alphas);
    let e = ba_law_mle_limit(kmin);
    Ok(Measurement {
        points: vec![Point {
            allowance: 0.02,
            ..Point::analytic(format!("alpha (k >= {kmin})"), a, se, e)
        }],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{graphs} graphs of {n} routers, {m} links per new router, {} attachment; {} \
             degrees ≥ {kmin} per graph on average; SE across graphs",
            if attachment == generate::Attachment::Uniform {
                "uniform"
            } else {
                "preferential"
            },
            tail / graphs as usize
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: degrees 2, 4, 8 above k_min = 2 (base 1.5): Σ ln(k/1.5) =
    /// ln(2·4·8/1.5³) = ln(64/3.375), α̂ = 1 + 3/ln(18.963).
    #[test]
    fn the_mle_by_hand() {
        let (a, n) = power_law_mle(&[1, 2, 4, 8], 2);
        assert_eq!(n, 3);
        assert!((a - (1.0 + 3.0 / (64.0f64 / 3.375).ln())).abs() < 1e-12);
    }

    /// The BA law's CCDF is P(K ≥ k) = m(m+1)/(k(k+1)); the MLE's limit
    /// on it, summed independently (in double precision to k = 2·10⁶),
    /// is 2.89049 at k_min = 12, 2.93390 at 20 and 2.97342 at 50: below 3
    /// and rising to it.
    #[test]
    fn the_ba_limit_rises_to_three() {
        assert!((ba_law_mle_limit(12) - 2.89049).abs() < 1e-4);
        assert!((ba_law_mle_limit(20) - 2.93390).abs() < 1e-4);
        assert!((ba_law_mle_limit(50) - 2.97342).abs() < 1e-4);
    }

    /// The network of the quick case by hand: links 0, 1, 2 of 12, 4 and 2
    /// Mbit/s; flows 0+1, 1, 0, 0+2. Link 1 has the lowest fair level (4/2
    /// = 2, tied with link 2's 2/1; link 0's is 12/3 = 4): flows 0 and 1 get
    /// 2, flow 3 gets 2 on link 2, and flow 2 the 12 − 2 − 2 = 8 left on
    /// link 0.
    #[test]
    fn the_hand_computed_shares_are_measured() {
        let m = maxmin(&Params::default()).unwrap();
        assert!(m.agrees(4.0), "{:?}", m.points);
    }
}
