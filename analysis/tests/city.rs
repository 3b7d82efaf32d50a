//! The flagship report on a real-format result directory
//! (`tests/fixtures/city`: the three parts are the CSV inputs of short runs
//! of the bundled lookup, backup and volunteer-compute scenarios;
//! `gateways.csv` is written by hand and `cost.csv` is the cost model's
//! output for hand-chosen usage ([`fixture_usage`]); their figures are
//! worked out below).

use analysis::city::{self, CityNotes, GLANCE, Verdict, Winner, verdict};
use analysis::cost::{self, CostModel, DcUsage, P2pUsage, Quantity, Service, Services, Side};
use analysis::report::SummaryRow;
use std::path::{Path, PathBuf};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/city");

/// A fresh copy of the fixture under the system's temporary folder,
/// removed when dropped.
struct Copy(PathBuf);

impl Copy {
    fn new(name: &str) -> Copy {
        let d = std::env::temp_dir().join(format!("pc-city-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        copy_dir(Path::new(FIXTURE), &d);
        Copy(d)
    }

    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }

    /// Replace line `line` (1-based) of file `f` by `text`.
    fn set_line(&self, f: &str, line: usize, text: &str) {
        let p = self.path(f);
        let old = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<&str> = old.lines().collect();
        lines[line - 1] = text;
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    }

    /// Remove line `line` (1-based) of file `f`.
    fn remove_line(&self, f: &str, line: usize) {
        let p = self.path(f);
        let old = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<&str> = old.lines().collect();
        lines.remove(line - 1);
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    }

    /// Append `text` (one line) to file `f`.
    fn append(&self, f: &str, text: &str) {
        let p = self.path(f);
        let old = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, old + text + "\n").unwrap();
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        if std::env::var_os("PC_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn notes() -> CityNotes<'static> {
    CityNotes {
        top: "top notes",
        lookups: "lookup notes",
        storage: "storage notes",
        compute: "compute notes",
    }
}

/// The fields of `metric`'s line of `d/summary.csv` after `metric,unit,`.
fn fields(d: &Path, metric: &str) -> Vec<String> {
    let text = std::fs::read_to_string(d.join("summary.csv")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{metric},")))
        .unwrap_or_else(|| panic!("no {metric} in {text}"));
    line.split(',').skip(2).map(String::from).collect()
}

/// `metric`'s P2P and data-center values.
fn values(d: &Path, metric: &str) -> (f64, f64) {
    let f = fields(d, metric);
    (f[0].parse().unwrap(), f[1].parse().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Every text file under `d` (CSV, markdown, SVG), recursively.
fn text_files(d: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            text_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "csv" || x == "md" || x == "svg")
        {
            out.push(p);
        }
    }
}

/// No file under `d` holds NaN or an infinity.
fn assert_no_nan(d: &Path) {
    let mut files = Vec::new();
    text_files(d, &mut files);
    assert!(files.len() > 20, "too few files: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let words = text.split(|c: char| !c.is_ascii_alphanumeric());
        for w in words {
            assert!(
                !w.eq_ignore_ascii_case("nan")
                    && !w.eq_ignore_ascii_case("inf")
                    && !w.eq_ignore_ascii_case("infinity"),
                "{} holds {w:?}",
                f.display()
            );
        }
    }
}

/// The at-a-glance row of `label` in `report.md`, split into its cells.
fn glance_row(report: &str, label: &str) -> Vec<String> {
    let line = report
        .lines()
        .find(|l| l.starts_with(&format!("| {label} (")))
        .unwrap_or_else(|| panic!("no at-a-glance row {label:?} in\n{report}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn the_report_has_every_at_a_glance_row_for_both_sides() {
    let d = Copy::new("full");
    let a = city::write(&d.0, "City mesh", &notes(), true).unwrap();
    let report = std::fs::read_to_string(d.path("report.md")).unwrap();
    // The table comes first, after the title and notes.
    let glance_at = report.find("## At a glance").unwrap();
    assert!(report.starts_with("# City mesh\n\ntop notes\n"));
    assert!(glance_at < report.find("## Plots").unwrap());
    assert!(report.find("## Plots").unwrap() < report.find("## Parts").unwrap());
    assert_eq!(a.glance.len(), GLANCE.len());
    for (label, metric, _) in GLANCE {
        let cells = glance_row(&report, label);
        assert_eq!(cells.len(), 5, "{label}: {cells:?}");
        // Both sides have a value, and a verdict is given.
        assert_ne!(cells[1], "—", "{label}: no P2P value");
        assert_ne!(cells[2], "—", "{label}: no data-center value");
        assert!(
            !cells[4].is_empty() && cells[4] != "— (no value)",
            "{label}"
        );
        // The row is in summary.csv too.
        fields(&d.0, metric);
    }
    // Paired rows show their interval; unpaired ones say so.
    let lookup_latency = glance_row(&report, "Lookup latency (mean)");
    // From lookups/summary.csv of the fixture run: latency_mean 416.275323
    // against 98.020372, difference 318.254951 [273.005275, 363.504627]:
    // the interval is above 0 and lower is better, so the data center wins.
    assert_eq!(
        lookup_latency,
        [
            "Lookup latency (mean) (ms; lower is better)",
            "416.28",
            "98.02",
            "318.25 [273.01, 363.50]",
            "data center"
        ]
    );
    // Read success 89.320388 % on both sides, difference 0 [-10.71, 10.71]:
    // no clear difference.
    assert_eq!(
        glance_row(&report, "Read success")[4],
        "no clear difference"
    );
    // Cost per lookup from cost.csv (worked out in
    // `the_cost_rows_are_the_hand_worked_figures`): 4.45e-9 against
    // 1.8006e-5 USD, lower is better, unpaired: P2P by value.
    assert_eq!(
        glance_row(&report, "Cost per lookup"),
        [
            "Cost per lookup (USD/lookup; lower is better)",
            "4.450e-9",
            "1.801e-5",
            "— (unpaired)",
            "P2P (by value; unpaired)"
        ]
    );
    // Plots, each with SVG and PNG, and a sentence after each.
    for p in [
        "read_latency_cdf",
        "completion_time_cdf",
        "availability_over_time",
        "gateway_load_over_time",
        "energy_by_service",
        "cost_by_service",
    ] {
        for ext in ["svg", "png"] {
            let f = d.path(&format!("plots/{p}.{ext}"));
            assert!(std::fs::metadata(&f).unwrap().len() > 1_000, "{f:?}");
        }
        let at = report
            .find(&format!("(plots/{p}.svg)\n\n"))
            .unwrap_or_else(|| panic!("{p} not in the report"));
        let sentence = report[at..].lines().nth(2).unwrap();
        assert!(
            sentence.len() > 30 && sentence.ends_with('.'),
            "{p}: {sentence:?}"
        );
    }
    // The parts were written, each with its own notes, and are linked.
    for (part, note) in [
        ("lookups", "lookup notes"),
        ("storage", "storage notes"),
        ("compute", "compute notes"),
    ] {
        let md = std::fs::read_to_string(d.path(&format!("{part}/report.md"))).unwrap();
        assert!(md.starts_with(&format!("# City mesh — {part}\n\n{note}\n")));
        assert!(d.path(&format!("{part}/summary.csv")).is_file());
        assert!(report.contains(&format!("]({part}/report.md)")));
    }
    assert_no_nan(&d.0);
}

#[test]
fn the_summary_holds_every_part_row_prefixed_then_gateways_and_costs() {
    let d = Copy::new("summary");
    let a = city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    let top = std::fs::read_to_string(d.path("summary.csv")).unwrap();
    assert!(
        top.starts_with("metric,unit,p2p,datacenter,difference,diff_ci95_low,diff_ci95_high,n\n")
    );
    // Every line of each part's summary appears, prefixed, unchanged.
    for part in ["lookups", "storage", "compute"] {
        let text = std::fs::read_to_string(d.path(&format!("{part}/summary.csv"))).unwrap();
        for line in text.lines().skip(1) {
            assert!(
                top.contains(&format!("\n{part}.{line}\n")),
                "{part}: {line} missing from\n{top}"
            );
        }
    }
    // 9 lookup rows, 16 storage rows, 12 compute rows, 5 gateway rows and
    // 17 of the 38 rows per side of cost.csv: 4 per service (energy, cost,
    // energy_per_unit, cost_per_unit) and 5 of `all` (energy_devices,
    // energy_network, energy_overhead, energy, cost).
    assert_eq!(a.summary.len(), 9 + 16 + 12 + 5 + 17);
    assert_eq!(top.lines().count(), 1 + a.summary.len());
    let cost_metrics: Vec<&str> = a
        .summary
        .iter()
        .map(|r| r.metric.as_ref())
        .filter(|m| m.starts_with("cost."))
        .collect();
    assert_eq!(
        cost_metrics,
        [
            "cost.storage_energy",
            "cost.storage_cost",
            "cost.storage_energy_per_unit",
            "cost.storage_cost_per_unit",
            "cost.compute_energy",
            "cost.compute_cost",
            "cost.compute_energy_per_unit",
            "cost.compute_cost_per_unit",
            "cost.lookups_energy",
            "cost.lookups_cost",
            "cost.lookups_energy_per_unit",
            "cost.lookups_cost_per_unit",
            "cost.all_energy_devices",
            "cost.all_energy_network",
            "cost.all_energy_overhead",
            "cost.all_energy",
            "cost.all_cost",
        ]
    );
    // A tiny value keeps its digits: 0.5 GB × 0.0001 kWh/GB / 2 500
    // lookups = 2e-8 kWh per P2P lookup.
    assert_eq!(fields(&d.0, "cost.lookups_energy_per_unit")[0], "2e-8");
    // A cost row keeps its unit: 0.077 / 50 = 0.00154 kWh per P2P
    // GB-month, (1.58 × (0.05475 + 19.2 × 0.05875 / 12.059) + 0.004) / 50
    // = 0.004766 in the data center (see
    // `the_cost_rows_are_the_hand_worked_figures`).
    let unit_line = top
        .lines()
        .find(|l| l.starts_with("cost.storage_energy_per_unit,"))
        .unwrap();
    assert_eq!(
        unit_line,
        "cost.storage_energy_per_unit,kWh/GB-month,0.001540,0.004766,,,,1"
    );
    assert_eq!(
        fields(&d.0, "cost.all_energy_overhead")[..2],
        ["0.000000", "18.127755"]
    );
}

#[test]
fn gateway_utilisation_is_the_hand_worked_figure() {
    // gateways.csv, P2P, samples at 0, 1 h, 2 h and 3 h:
    //   gw-1→internet (1 Gbit/s): 0, 45e9, 135e9, 180e9 bytes
    //   gw-3→internet (0.5 Gbit/s): 0, 67.5e9, 112.5e9, 202.5e9 bytes
    // 1 Gbit/s for 1 h is 3.6e12 bits = 450e9 bytes, so gw-1 ran at 10 %,
    // 20 %, 10 % and gw-3 (225e9 bytes per hour at full rate) at 30 %,
    // 20 %, 40 %.
    // Mean of all links: 8 × (180e9 + 202.5e9) bits / ((1e9 + 0.5e9) bit/s
    // × 10,800 s) = 3.06e12 / 1.62e13 = 18.888889 %. Peak: 40 % (gw-3, third
    // hour). Busiest link: gw-3, 8 × 202.5e9 / (0.5e9 × 10,800) = 30 %
    // (gw-1: 1.44e12 / 1.08e13 = 13.33 %), its peak 40 %. Bytes carried:
    // 382.5e9.
    // Data center: gw-1→dc (1 Gbit/s) 0, 90e9, 180e9, 270e9 (20 % each
    // hour); gw-3→dc (1 Gbit/s) 0, 22.5e9, 45e9, 67.5e9 (5 % each hour).
    // Mean: 8 × 337.5e9 / (2e9 × 10,800) = 2.7e12 / 2.16e13 = 12.5 %; peak
    // 20 %; busiest gw-1→dc at 20 % mean and peak; bytes 337.5e9.
    let d = Copy::new("util");
    let a = city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    let expect = [
        ("gateways.utilisation_mean", 18.888_888_9, 12.5),
        ("gateways.utilisation_peak", 40.0, 20.0),
        ("gateways.busiest_link_utilisation_mean", 30.0, 20.0),
        ("gateways.busiest_link_utilisation_peak", 40.0, 20.0),
        ("gateways.bytes_carried", 382.5e9, 337.5e9),
    ];
    for (metric, p2p, dc) in expect {
        let (a, b) = values(&d.0, metric);
        assert!(close(a, p2p) && close(b, dc), "{metric}: {a}, {b}");
        // Intervals: 3; no paired difference.
        assert_eq!(fields(&d.0, metric)[5], "3", "{metric}");
        assert_eq!(fields(&d.0, metric)[2], "", "{metric}");
    }
    assert_eq!(a.gateways[0].busiest, "gw-3→internet");
    assert_eq!(a.gateways[1].busiest, "gw-1→dc");
    // Per-interval curve of all P2P links: (45e9 + 67.5e9) × 8 / (1.5e9 ×
    // 3,600) = 16.67 %, then 20 %, then 20 %.
    let curve: Vec<f64> = a.gateways[0].total_over_time.iter().map(|p| p.1).collect();
    assert_eq!(curve.len(), 3);
    for (got, want) in curve.iter().zip([16.666_666_7, 20.0, 20.0]) {
        assert!(close(*got, want), "{curve:?}");
    }
    let report = std::fs::read_to_string(d.path("report.md")).unwrap();
    assert!(report.contains("- Busiest gateway link, P2P: `gw-3→internet` (mean 30.00 %, peak 40.00 %).\n- Busiest gateway link, data center: `gw-1→dc` (mean 20.00 %, peak 20.00 %).\n"));
    let row = glance_row(&report, "Gateway-link utilisation (mean)");
    assert_eq!(
        row[1..],
        [
            "18.89",
            "12.50",
            "— (unpaired)",
            "data center (by value; unpaired)"
        ]
    );
}

fn row(p2p: f64, dc: f64, difference: Option<(f64, f64, f64)>) -> SummaryRow {
    SummaryRow {
        metric: "m".into(),
        unit: "ms".into(),
        p2p,
        datacenter: dc,
        difference,
        n: 100,
    }
}

#[test]
fn which_wins_follows_the_interval_then_the_values() {
    let v = |winner, paired| Verdict { winner, paired };
    // Latency (lower is better): P2P 80 ms against 100 ms, difference −20
    // [−30, −10]: the interval is below 0, P2P wins.
    assert_eq!(
        verdict(&row(80.0, 100.0, Some((-20.0, -30.0, -10.0))), true),
        v(Winner::P2p, true)
    );
    // P2P 130 against 100, +30 [12, 48]: above 0, the data center wins.
    assert_eq!(
        verdict(&row(130.0, 100.0, Some((30.0, 12.0, 48.0))), true),
        v(Winner::Datacenter, true)
    );
    // +5 [−2, 12]: 0 inside, no clear difference, though P2P is slower.
    let unclear = verdict(&row(105.0, 100.0, Some((5.0, -2.0, 12.0))), true);
    assert_eq!(unclear, v(Winner::Neither, true));
    assert_eq!(unclear.text(), "no clear difference");
    // A success rate (higher is better): +3 [1, 5] favours P2P; −3 [−5,
    // −1] the data center.
    assert_eq!(
        verdict(&row(99.0, 96.0, Some((3.0, 1.0, 5.0))), false),
        v(Winner::P2p, true)
    );
    assert_eq!(
        verdict(&row(96.0, 99.0, Some((-3.0, -5.0, -1.0))), false),
        v(Winner::Datacenter, true)
    );
    // An interval touching 0 is not a win.
    assert_eq!(
        verdict(&row(96.0, 99.0, Some((-3.0, -6.0, 0.0))), false).winner,
        Winner::Neither
    );
    // Unpaired: by value, and said so.
    let by_value = verdict(&row(3.0, 5.0, None), true);
    assert_eq!(by_value, v(Winner::P2p, false));
    assert_eq!(by_value.text(), "P2P (by value; unpaired)");
    assert_eq!(
        verdict(&row(3.0, 5.0, None), false).text(),
        "data center (by value; unpaired)"
    );
    assert_eq!(
        verdict(&row(4.0, 4.0, None), true).text(),
        "equal (unpaired)"
    );
    // A difference without an interval is judged by value.
    assert_eq!(
        verdict(&row(3.0, 5.0, Some((-2.0, f64::NAN, f64::NAN))), true),
        v(Winner::P2p, false)
    );
    // A side without a value: no verdict.
    assert_eq!(
        verdict(&row(f64::NAN, 5.0, None), true).winner,
        Winner::NoValue
    );
}

/// `city::write` on the fixture with `mutate` applied fails with an error
/// whose text holds every one of `want`; the flagship's own outputs are
/// not written.
fn refused(name: &str, mutate: impl Fn(&Copy), want: &[&str]) {
    let d = Copy::new(name);
    mutate(&d);
    let e = city::write(&d.0, "t", &CityNotes::same("n"), false)
        .err()
        .unwrap_or_else(|| panic!("{name}: accepted"))
        .to_string();
    for w in want {
        assert!(e.contains(w), "{name}: {w:?} not in {e:?}");
    }
    assert!(!d.path("summary.csv").exists(), "{name}: summary written");
    assert!(!d.path("report.md").exists(), "{name}: report written");
}

#[test]
fn bad_gateways_csv_is_refused_naming_file_line_and_column() {
    let g = "gateways.csv";
    // Line 14: p2p gw-1→internet at 3 h; 100e9 bytes after 135e9 on line 10.
    refused(
        "decreasing",
        |d| {
            d.set_line(
                g,
                14,
                "p2p,10800000000000,gw-1→internet,1000000000,100000000000",
            )
        },
        &[g, "line 14, column 5 (bytes)", "decrease", "line 10"],
    );
    refused(
        "system",
        |d| d.set_line(g, 3, "cloud,0,gw-3→internet,500000000,0"),
        &[
            g,
            "line 3, column 1 (system)",
            "\"cloud\"",
            "p2p or datacenter",
        ],
    );
    refused(
        "capacity",
        |d| d.set_line(g, 3, "p2p,0,gw-3→internet,fast,0"),
        &[
            g,
            "line 3, column 4 (capacity_bps)",
            "\"fast\"",
            "a number > 0",
        ],
    );
    refused(
        "zero capacity",
        |d| d.set_line(g, 3, "p2p,0,gw-3→internet,0,0"),
        &[g, "line 3, column 4 (capacity_bps)", "a number > 0"],
    );
    refused(
        "bytes",
        |d| d.set_line(g, 6, "p2p,3600000000000,gw-1→internet,1000000000,lots"),
        &[g, "line 6, column 5 (bytes)", "\"lots\"", "an integer ≥ 0"],
    );
    // The data center's gw-1→dc sampled 1 s late at 1 h: P2P has no sample
    // then.
    refused(
        "instants",
        |d| {
            d.set_line(
                g,
                8,
                "datacenter,3601000000000,gw-1→dc,1000000000,90000000000",
            )
        },
        &[
            g,
            "line 8, column 2 (time_ns)",
            "p2p has no sample at 3601000000000",
            "same instants",
        ],
    );
    // gw-3→dc's row at 2 h removed: the link misses an instant of its side.
    refused(
        "missing link row",
        |d| d.remove_line(g, 13),
        &[
            g,
            "line 5, column 3 (link)",
            "gw-3→dc",
            "no row at 7200000000000",
        ],
    );
    // A repeated row: not later than the previous sample of its link.
    refused(
        "repeated",
        |d| {
            d.append(
                g,
                "datacenter,10800000000000,gw-3→dc,1000000000,67500000000",
            )
        },
        &[
            g,
            "line 18, column 2 (time_ns)",
            "not later than",
            "line 17",
        ],
    );
    refused(
        "empty link",
        |d| d.set_line(g, 2, "p2p,0,,1000000000,0"),
        &[g, "line 2, column 3 (link)", "a link label"],
    );
    refused(
        "missing column",
        |d| d.set_line(g, 1, "system,time_ns,link,capacity,bytes"),
        &[g, "no column \"capacity_bps\""],
    );
    refused(
        "missing file",
        |d| std::fs::remove_file(d.path(g)).unwrap(),
        &[g],
    );
}

/// Lines of the fixture's `cost.csv` (the writer's order: per side, p2p
/// then datacenter, the services storage, compute, lookups then `all`,
/// each with its quantities in order): line 1 is the header, P2P's rows
/// are lines 2–39 (storage 2–11, compute 12–21, lookups 22–31, all
/// 32–39), the data center's 40–77 (storage 40–49, compute 50–59, lookups
/// 60–69, all 70–77).
const COST: &str = "cost.csv";

#[test]
fn bad_cost_csv_is_refused_naming_file_line_and_column() {
    let c = COST;
    // Line 2: p2p,storage,energy_devices,kWh,0.073.
    refused(
        "cost side",
        |d| d.set_line(c, 2, "cloud,storage,energy_devices,kWh,0.073"),
        &[
            c,
            "line 2, column 1 (side)",
            "\"cloud\"",
            "p2p or datacenter",
        ],
    );
    refused(
        "service",
        |d| d.set_line(c, 2, "p2p,backup,energy_devices,kWh,0.073"),
        &[
            c,
            "line 2, column 2 (service)",
            "\"backup\"",
            "storage, compute, lookups or all",
        ],
    );
    // The side's total is `all`, not `total` (line 35: p2p,all,energy).
    refused(
        "total",
        |d| d.set_line(c, 35, "p2p,total,energy,kWh,3.67725"),
        &[
            c,
            "line 35, column 2 (service)",
            "\"total\" is not storage, compute, lookups or all",
        ],
    );
    refused(
        "quantity",
        |d| d.set_line(c, 2, "p2p,storage,power,kWh,0.073"),
        &[
            c,
            "line 2, column 3 (quantity)",
            "\"power\" is not energy_devices, energy_network, energy_overhead, energy, energy_cost, fees, cost, units, energy_per_unit, cost_per_unit or shared_baseline",
        ],
    );
    // Units of `all`, a shared baseline of one service: no such rows.
    refused(
        "units of all",
        |d| d.append(c, "p2p,all,units,GB-month,50"),
        &[
            c,
            "line 78, column 3 (quantity)",
            "\"units\" is given per service only, not for all",
        ],
    );
    refused(
        "shared baseline of a service",
        |d| d.set_line(c, 2, "p2p,storage,shared_baseline,kWh,0.073"),
        &[
            c,
            "line 2, column 3 (quantity)",
            "\"shared_baseline\" is given for all only",
        ],
    );
    refused(
        "value",
        |d| d.set_line(c, 2, "p2p,storage,energy_devices,kWh,twelve"),
        &[
            c,
            "line 2, column 5 (value)",
            "\"twelve\" is not a number ≥ 0",
        ],
    );
    refused(
        "infinite value",
        |d| d.set_line(c, 2, "p2p,storage,energy_devices,kWh,inf"),
        &[c, "line 2, column 5 (value)", "a number ≥ 0"],
    );
    refused(
        "negative value",
        |d| d.set_line(c, 2, "p2p,storage,energy_devices,kWh,-0.073"),
        &[c, "line 2, column 5 (value)", "a number ≥ 0"],
    );
    // Only a per-unit figure may be blank (line 5: p2p,storage,energy).
    refused(
        "blank energy",
        |d| d.set_line(c, 5, "p2p,storage,energy,kWh,"),
        &[c, "line 5, column 5 (value)", "\"\" is not a number ≥ 0"],
    );
    refused(
        "per-unit value",
        |d| d.set_line(c, 10, "p2p,storage,energy_per_unit,kWh/GB-month,x"),
        &[
            c,
            "line 10, column 5 (value)",
            "a number ≥ 0, or blank (no units)",
        ],
    );
    // Units other than the writer's: the data center's storage energy
    // (line 43) in MWh, P2P's storage energy per unit (line 10) per GB,
    // a cost in EUR (line 8), an empty unit.
    refused(
        "unit MWh",
        |d| {
            d.set_line(
                c,
                43,
                "datacenter,storage,energy,MWh,0.00023829834936561906",
            )
        },
        &[
            c,
            "line 43, column 4 (unit)",
            "\"MWh\" is not kWh, the unit of storage energy",
        ],
    );
    refused(
        "unit per GB",
        |d| d.set_line(c, 10, "p2p,storage,energy_per_unit,kWh/GB,0.00154"),
        &[
            c,
            "line 10, column 4 (unit)",
            "\"kWh/GB\" is not kWh/GB-month, the unit of storage energy_per_unit",
        ],
    );
    refused(
        "unit EUR",
        |d| d.set_line(c, 8, "p2p,storage,cost,EUR,0.0171325"),
        &[c, "line 8, column 4 (unit)", "is not USD"],
    );
    refused(
        "unit empty",
        |d| d.set_line(c, 8, "p2p,storage,cost,,0.0171325"),
        &[c, "line 8, column 4 (unit)", "\"\" is not USD"],
    );
    refused(
        "duplicate",
        |d| d.append(c, "p2p,storage,energy_devices,kWh,0.073"),
        &[
            c,
            "line 78, column 1 (side)",
            "a second row for p2p storage energy_devices",
            "line 2",
        ],
    );
    // P2P's lookup cost per unit (line 31) removed: the data center's row
    // (line 69, then 68) has no partner.
    refused(
        "one side only",
        |d| d.remove_line(c, 31),
        &[
            c,
            "line 68, column 1 (side)",
            "no p2p row for lookups cost_per_unit",
        ],
    );
    // Both rows of all cost (lines 38 and 76) removed: a required row is
    // missing.
    refused(
        "required",
        |d| {
            d.remove_line(c, 76);
            d.remove_line(c, 38);
        },
        &[
            c,
            "no row for all cost",
            "every service needs energy, cost, energy_per_unit and cost_per_unit, and all needs energy_devices, energy_network, energy_overhead, energy and cost",
        ],
    );
    // Both rows of all energy_overhead (lines 34 and 72), needed for the
    // energy table.
    refused(
        "required overhead",
        |d| {
            d.remove_line(c, 72);
            d.remove_line(c, 34);
        },
        &[c, "no row for all energy_overhead"],
    );
    // The column is `side`, as the writer names it.
    refused(
        "old header",
        |d| d.set_line(c, 1, "system,service,quantity,unit,value"),
        &[c, "no column \"side\""],
    );
}

#[test]
fn an_undefined_cost_is_blank_and_has_no_verdict() {
    let d = Copy::new("undefined");
    // No lookups measured on the data center side: no cost per lookup
    // (line 69), blank as the writer leaves it.
    d.set_line(COST, 69, "datacenter,lookups,cost_per_unit,USD/lookup,");
    city::write(&d.0, "t", &CityNotes::same("n"), true).unwrap();
    assert_eq!(
        fields(&d.0, "cost.lookups_cost_per_unit")[..2],
        ["4.45e-9", ""]
    );
    let report = std::fs::read_to_string(d.path("report.md")).unwrap();
    let row = glance_row(&report, "Cost per lookup");
    assert_eq!(row[2], "—");
    assert_eq!(row[4], "— (no value)");
    assert_no_nan(&d.0);
}

#[test]
fn a_part_summary_without_a_needed_row_is_named() {
    let d = Copy::new("missing part row");
    city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    let summary = std::fs::read_to_string(d.path("summary.csv")).unwrap();
    let mut rows = Vec::new();
    for l in summary.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f[0] == "compute.wrong_accepted" {
            continue;
        }
        rows.push(SummaryRow {
            metric: f[0].to_string().into(),
            unit: f[1].to_string().into(),
            p2p: f[2].parse().unwrap_or(f64::NAN),
            datacenter: f[3].parse().unwrap_or(f64::NAN),
            difference: None,
            n: 1,
        });
    }
    let e = city::glance(&d.0, &rows).unwrap_err().to_string();
    assert!(e.contains("compute/summary.csv"), "{e}");
    assert!(e.contains("\"wrong_accepted\""), "{e}");
    assert!(e.contains("Wrong results accepted"), "{e}");
}

#[test]
fn the_analysis_command_rebuilds_a_flagship_directory_and_combines_seeds() {
    // In a folder of their own: across-seeds.csv goes beside the first.
    let a = Copy::new("cmd/a");
    let b = Copy::new("cmd/b");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_analysis"))
        .arg("--allow-mixed")
        .arg(&a.0)
        .arg(&b.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in [&a, &b] {
        let report = std::fs::read_to_string(d.path("report.md")).unwrap();
        assert!(report.contains("## At a glance"));
        assert!(d.path("lookups/report.md").is_file());
        assert!(d.path("plots/gateway_load_over_time.svg").is_file());
    }
    let across = std::fs::read_to_string(a.0.parent().unwrap().join("across-seeds.csv")).unwrap();
    // Two identical runs: the mean is the run's figure, over 2 runs.
    assert!(
        across.contains("\ngateways.utilisation_mean,%,2,2,18.888889,"),
        "{across}"
    );
    assert!(across.contains("\nstorage.availability,%,2,2,"), "{across}");
    assert!(!across.contains("\navailability,"), "{across}");
    let parent = a.0.parent().unwrap().to_path_buf();
    drop((a, b));
    let _ = std::fs::remove_dir_all(parent);
}

/// The usage behind the fixture's `cost.csv`, chosen by hand for the
/// fixture's 60 homes over two days:
/// - P2P: 48 h, 60 homes up 2 400 h in all, 120 h of job copies, 60
///   routers; 40 GB moved for storage, 2 GB for compute, 0.5 GB for
///   lookups; 200 GB-months stored raw for 50 logical; 200 jobs, 2 500
///   lookups;
/// - data center: 48 h, 4 servers, 60 busy server hours; the same bytes
///   through the gateways, of which 10, 1 and 0.5 GB leave the site;
///   150 GB-months stored raw for 50 logical; 200 jobs, 2 500 lookups.
fn fixture_usage() -> (P2pUsage, DcUsage) {
    let gb = |s: f64, c: f64, l: f64| Services {
        storage: (s * 1e9) as u64,
        compute: (c * 1e9) as u64,
        lookups: (l * 1e9) as u64,
    };
    let p2p = P2pUsage {
        hours: 48.0,
        hosts: 60,
        host_up_hours: 2_400.0,
        busy_cpu_hours: 120.0,
        routers: 60,
        bytes_by_service: gb(40.0, 2.0, 0.5),
        stored_gb_months: 200.0,
        logical_gb_months: 50.0,
        jobs: 200,
        lookups: 2_500,
    };
    let dc = DcUsage {
        hours: 48.0,
        servers: 4,
        busy_server_hours: 60.0,
        bytes_by_service: gb(40.0, 2.0, 0.5),
        egress_bytes: gb(10.0, 1.0, 0.5),
        stored_gb_months: 150.0,
        logical_gb_months: 50.0,
        jobs: 200,
        lookups: 2_500,
    };
    (p2p, dc)
}

/// The fixture's `cost.csv` is what the cost model writes for
/// [`fixture_usage`] with every default. `PC_WRITE_FIXTURE=1` rewrites it
/// (after a change of the writer; the hand-worked tests below then say
/// whether the new figures are right).
#[test]
fn the_fixture_cost_csv_is_the_cost_models_output() {
    let (p2p, dc) = fixture_usage();
    let bills = CostModel::default().bills(&p2p, &dc).unwrap();
    let text = cost::cost_csv(&bills);
    let path = Path::new(FIXTURE).join("cost.csv");
    if std::env::var_os("PC_WRITE_FIXTURE").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// `a` within a relative 1e-9 of `b` (values read back from `cost.csv`,
/// in full).
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

/// The fixture's cost rows, worked out by hand from [`fixture_usage`] and
/// the documented defaults (home 30 W idle, 60 W busy; disks 0.5 W/TB;
/// 0.0001 kWh per GB moved, the routers charged to neither side; servers
/// 100 W idle, 300 W busy; PUE 1.58; 0.2225 USD/kWh at home, 0.0895 in the
/// data center; storage 0.023 USD per GB-month, egress 0.09 USD/GB):
/// - P2P storage: 0.2 TB-months × 0.5 W/TB × 730 h = 0.073 kWh + 40 GB ×
///   0.0001 = 0.077 kWh, × 0.2225 = 0.0171325 USD; per GB-month (50):
///   0.00154 kWh, 0.00034265 USD;
/// - P2P compute: 120 h × 30 W = 3.6 kWh + 0.0002 = 3.6002 kWh, 0.8010445
///   USD; per job (200): 0.018001 kWh, 0.0040052225 USD;
/// - P2P lookups: 0.5 GB × 0.0001 = 0.00005 kWh, 1.1125e-5 USD; per
///   lookup (2 500): 2e-8 kWh, 4.45e-9 USD;
/// - P2P all: devices 3.673, network 0.00425, overhead 0, energy 3.67725
///   kWh, cost 0.818188125 USD;
/// - data center: idle servers 4 × 48 h × 100 W = 19.2 kWh, split by the
///   direct energies storage 0.05475 (0.15 TB-months of disk) + 0.004,
///   compute 60 h × 200 W = 12 + 0.0002, lookups 0.00005 (sum 12.059);
///   each service's energy is 1.58 × its devices + its network;
/// - data-center fees: storage 50 × 0.023 + 10 GB × 0.09 = 2.05 USD (its
///   cost: a list price), compute 1 GB × 0.09 = 0.09, lookups 0.5 × 0.09 =
///   0.045 USD, added to their energy × 0.0895;
/// - data center all: devices 0.05475 + 12 + 19.2 = 31.25475 kWh, network
///   0.00425, overhead 0.58 × 31.25475 = 18.127755, energy 49.386755.
#[test]
fn the_cost_rows_are_the_hand_worked_figures() {
    let c = city::costs(&Path::new(FIXTURE).join("cost.csv")).unwrap();
    let dev_s = 0.05475 + 19.2 * 0.05875 / 12.059;
    let dev_c = 12.0 + 19.2 * 12.0002 / 12.059;
    let dev_l = 19.2 * 0.00005 / 12.059;
    let e_s = 1.58 * dev_s + 0.004;
    let e_c = 1.58 * dev_c + 0.0002;
    let e_l = 1.58 * dev_l + 0.00005;
    let cost_c = e_c * 0.0895 + 0.09;
    let cost_l = e_l * 0.0895 + 0.045;
    let s = Some(Service::Storage);
    let j = Some(Service::Compute);
    let l = Some(Service::Lookups);
    use Quantity::*;
    let expect: [(Option<Service>, Quantity, f64, f64); 17] = [
        (s, Energy, 0.077, e_s),
        (s, Cost, 0.0171325, 2.05),
        (s, EnergyPerUnit, 0.00154, e_s / 50.0),
        (s, CostPerUnit, 0.00034265, 0.041),
        (j, Energy, 3.6002, e_c),
        (j, Cost, 0.8010445, cost_c),
        (j, EnergyPerUnit, 0.018001, e_c / 200.0),
        (j, CostPerUnit, 0.0040052225, cost_c / 200.0),
        (l, Energy, 0.00005, e_l),
        (l, Cost, 1.1125e-5, cost_l),
        (l, EnergyPerUnit, 2e-8, e_l / 2500.0),
        (l, CostPerUnit, 4.45e-9, cost_l / 2500.0),
        (None, EnergyDevices, 3.673, 31.25475),
        (None, EnergyNetwork, 0.00425, 0.00425),
        (None, EnergyOverhead, 0.0, 18.127755),
        (None, Energy, 3.67725, 49.386755),
        (None, Cost, 0.818188125, 2.05 + cost_c + cost_l),
    ];
    for (service, quantity, p2p, dc) in expect {
        let [a, b] = c.get(service, quantity).unwrap();
        assert!(
            near(a, p2p) && near(b, dc),
            "{service:?} {quantity:?}: {a}, {b}; expected {p2p}, {dc}"
        );
    }
    // The same figures in the report: the per-unit ones at a glance, the
    // energy by part in its own table.
    let d = Copy::new("cost figures");
    city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    let report = std::fs::read_to_string(d.path("report.md")).unwrap();
    assert_eq!(
        glance_row(&report, "Energy per job")[1..3],
        ["0.0180", "0.2457"]
    );
    assert_eq!(
        glance_row(&report, "Cost per job")[1..3],
        ["0.0040", "0.0224"]
    );
    assert!(
        report.contains(
            "| | P2P | data center |\n|---|---:|---:|\n\
             | devices: machines and disks (kWh) | 3.67 | 31.25 |\n\
             | network: moving bytes (kWh) | 0.0042 | 0.0042 |\n\
             | facility overhead (kWh) | 0 | 18.13 |\n\
             | energy (kWh) | 3.68 | 49.39 |\n\
             | cost (USD) | 0.8182 | 6.58 |\n"
        ),
        "{report}"
    );
}

/// A `cost.csv` in the writer's form with only the rows the report needs,
/// written by hand with round figures: it is enough, and the summary and
/// the report show exactly those figures.
#[test]
fn a_cost_csv_with_only_the_needed_rows_is_enough() {
    let d = Copy::new("needed rows");
    let rows = [
        ("storage", "energy", "kWh", "10", "20"),
        ("storage", "cost", "USD", "2", "4"),
        ("storage", "energy_per_unit", "kWh/GB-month", "0.5", "1"),
        ("storage", "cost_per_unit", "USD/GB-month", "0.1", "0.2"),
        ("compute", "energy", "kWh", "30", "60"),
        ("compute", "cost", "USD", "6", "5"),
        ("compute", "energy_per_unit", "kWh/job", "3", "6"),
        ("compute", "cost_per_unit", "USD/job", "0.6", "0.5"),
        ("lookups", "energy", "kWh", "0.001", "0.002"),
        ("lookups", "cost", "USD", "0.0002", "0.05"),
        (
            "lookups",
            "energy_per_unit",
            "kWh/lookup",
            "0.000001",
            "0.000002",
        ),
        (
            "lookups",
            "cost_per_unit",
            "USD/lookup",
            "0.0000002",
            "0.00005",
        ),
        ("all", "energy_devices", "kWh", "36", "70"),
        ("all", "energy_network", "kWh", "4.001", "2.002"),
        ("all", "energy_overhead", "kWh", "0", "8"),
        ("all", "energy", "kWh", "40.001", "80.002"),
        ("all", "cost", "USD", "8.0002", "9.05"),
    ];
    let mut text = String::from("side,service,quantity,unit,value\n");
    for (k, side) in ["p2p", "datacenter"].iter().enumerate() {
        for r in rows {
            let v = if k == 0 { r.3 } else { r.4 };
            text += &format!("{side},{},{},{},{v}\n", r.0, r.1, r.2);
        }
    }
    std::fs::write(d.path("cost.csv"), text).unwrap();
    let a = city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    assert_eq!(a.summary.len(), 9 + 16 + 12 + 5 + 17);
    let top = std::fs::read_to_string(d.path("summary.csv")).unwrap();
    for line in [
        "cost.storage_energy,kWh,10.000000,20.000000,,,,1",
        "cost.compute_cost_per_unit,USD/job,0.600000,0.500000,,,,1",
        "cost.lookups_cost_per_unit,USD/lookup,2e-7,5e-5,,,,1",
        "cost.all_energy_overhead,kWh,0.000000,8.000000,,,,1",
        "cost.all_cost,USD,8.000200,9.050000,,,,1",
    ] {
        assert!(top.contains(&format!("\n{line}\n")), "{line} not in\n{top}");
    }
    let report = std::fs::read_to_string(d.path("report.md")).unwrap();
    // 0.6 against 0.5 USD per job: the data center, by value.
    assert_eq!(
        glance_row(&report, "Cost per job")[1..],
        [
            "0.6000",
            "0.5000",
            "— (unpaired)",
            "data center (by value; unpaired)"
        ]
    );
    assert!(
        report.contains(
            "| devices: machines and disks (kWh) | 36.00 | 70.00 |\n\
             | network: moving bytes (kWh) | 4.00 | 2.00 |\n\
             | facility overhead (kWh) | 0 | 8.00 |\n\
             | energy (kWh) | 40.00 | 80.00 |\n\
             | cost (USD) | 8.00 | 9.05 |\n"
        ),
        "{report}"
    );
}

/// What `cost::cost_csv` writes, the report reads: every row, with the
/// per-unit figures (blank without units) and the totals as in the bills.
#[test]
fn cost_csv_round_trips_through_the_reader() {
    let (p2p, dc) = fixture_usage();
    let idle = P2pUsage {
        jobs: 0,
        busy_cpu_hours: 0.0,
        ..p2p.clone()
    };
    let no_lookups = DcUsage {
        lookups: 0,
        ..dc.clone()
    };
    let other = CostModel {
        home_allocation: cost::Allocation::Full,
        router_allocation: cost::RouterAllocation::ByBytes,
        pue_preset: cost::PuePreset::Hyperscale,
        ..CostModel::default()
    };
    let cases = [
        CostModel::default().bills(&p2p, &dc).unwrap(),
        other.bills(&idle, &no_lookups).unwrap(),
    ];
    // The second case has per-unit figures without units.
    assert_eq!(cases[1][0].cost_per_unit.compute, None);
    assert_eq!(cases[1][1].energy_per_unit.lookups, None);
    let dir = std::env::temp_dir().join(format!("pc-city-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (n, bills) in cases.iter().enumerate() {
        let path = dir.join(format!("cost-{n}.csv"));
        std::fs::write(&path, cost::cost_csv(bills)).unwrap();
        let c = city::costs(&path).unwrap_or_else(|e| panic!("case {n}: {e}"));
        for services in [Service::ALL.map(Some).to_vec(), vec![None]] {
            for sv in services {
                for q in Quantity::ALL {
                    assert_eq!(c.get(sv, q).is_some(), q.unit(sv).is_some(), "{sv:?} {q:?}");
                }
            }
        }
        for (k, b) in bills.iter().enumerate() {
            assert_eq!(b.side, Side::ALL[k]);
            for sv in Service::ALL {
                for (q, want) in [
                    (Quantity::EnergyPerUnit, *b.energy_per_unit.get(sv)),
                    (Quantity::CostPerUnit, *b.cost_per_unit.get(sv)),
                ] {
                    let got = c.get(Some(sv), q).unwrap()[k];
                    match want {
                        Some(v) => assert_eq!(got, v, "case {n} {:?} {sv:?} {q:?}", b.side),
                        None => assert!(got.is_nan(), "case {n} {:?} {sv:?} {q:?}", b.side),
                    }
                }
            }
            assert_eq!(c.get(None, Quantity::Energy).unwrap()[k], b.total_energy());
            assert_eq!(c.get(None, Quantity::Cost).unwrap()[k], b.total_cost());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every metric of the flagship's summary can name a file: no space, no
/// colon, the prefix and the name joined by a dot.
#[test]
fn summary_metric_names_are_file_safe() {
    let d = Copy::new("names");
    let a = city::write(&d.0, "t", &CityNotes::same("n"), false).unwrap();
    for r in &a.summary {
        let m = r.metric.as_ref();
        assert!(
            m.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'),
            "{m:?}"
        );
        let prefix = m.split('.').next().unwrap();
        assert!(
            ["lookups", "storage", "compute", "gateways", "cost"].contains(&prefix),
            "{m:?}"
        );
    }
    for (_, metric, _) in GLANCE {
        assert!(!metric.contains(':') && !metric.contains(' '), "{metric}");
    }
    assert!(a.summary.iter().any(|r| r.metric == "lookups.latency_mean"));
    assert!(
        a.summary
            .iter()
            .any(|r| r.metric == "gateways.utilisation_mean")
    );
    assert!(
        a.summary
            .iter()
            .any(|r| r.metric == "cost.storage_energy_per_unit")
    );
}
