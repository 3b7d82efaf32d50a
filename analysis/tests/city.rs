//! The flagship report on a real-format result directory
//! (`tests/fixtures/city`: the three parts are the CSV inputs of short runs
//! of the bundled lookup, backup and volunteer-compute scenarios;
//! `gateways.csv` and `cost.csv` are written by hand, their figures worked
//! out below).

use analysis::city::{self, CityNotes, GLANCE, Verdict, Winner, verdict};
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
    // Cost per lookup from cost.csv: 1.9e-7 against 3e-7 USD, lower is
    // better, unpaired: P2P by value.
    assert_eq!(
        glance_row(&report, "Cost per lookup"),
        [
            "Cost per lookup (USD/lookup; lower is better)",
            "1.900e-7",
            "3.000e-7",
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
                top.contains(&format!("\n{part}: {line}\n")),
                "{part}: {line} missing from\n{top}"
            );
        }
    }
    // 9 lookup rows, 16 storage rows, 12 compute rows, 5 gateway rows and
    // the 28 rows of cost.csv paired into 14.
    assert_eq!(a.summary.len(), 9 + 16 + 12 + 5 + 14);
    assert_eq!(top.lines().count(), 1 + a.summary.len());
    // A tiny value keeps its digits; a cost row keeps its unit.
    assert_eq!(
        fields(&d.0, "cost: lookups_energy_per_unit"),
        ["7.5e-7", "1.9e-6", "", "", "", "1"]
    );
    let unit_line = top
        .lines()
        .find(|l| l.starts_with("cost: storage_cost_per_unit,"))
        .unwrap();
    assert_eq!(
        unit_line,
        "cost: storage_cost_per_unit,USD/GB-month,0.012400,0.024000,,,,1"
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
        ("gateways: utilisation_mean", 18.888_888_9, 12.5),
        ("gateways: utilisation_peak", 40.0, 20.0),
        ("gateways: busiest_link_utilisation_mean", 30.0, 20.0),
        ("gateways: busiest_link_utilisation_peak", 40.0, 20.0),
        ("gateways: bytes_carried", 382.5e9, 337.5e9),
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

#[test]
fn bad_cost_csv_is_refused_naming_file_line_and_column() {
    let c = "cost.csv";
    refused(
        "cost system",
        |d| d.set_line(c, 2, "cloud,storage,energy,kWh,12.5"),
        &[c, "line 2, column 1 (system)", "p2p or datacenter"],
    );
    refused(
        "service",
        |d| d.set_line(c, 2, "p2p,backup,energy,kWh,12.5"),
        &[
            c,
            "line 2, column 2 (service)",
            "\"backup\"",
            "storage, compute, lookups or total",
        ],
    );
    refused(
        "quantity",
        |d| d.set_line(c, 2, "p2p,storage,power,kWh,12.5"),
        &[
            c,
            "line 2, column 3 (quantity)",
            "\"power\"",
            "energy, cost, energy_per_unit or cost_per_unit",
        ],
    );
    refused(
        "value",
        |d| d.set_line(c, 2, "p2p,storage,energy,kWh,twelve"),
        &[c, "line 2, column 5 (value)", "\"twelve\"", "a number"],
    );
    refused(
        "infinite value",
        |d| d.set_line(c, 2, "p2p,storage,energy,kWh,inf"),
        &[c, "line 2, column 5 (value)", "a number"],
    );
    refused(
        "unit",
        |d| d.set_line(c, 2, "p2p,storage,energy,,12.5"),
        &[c, "line 2, column 4 (unit)", "a unit"],
    );
    // The data center's storage energy (line 16) in MWh, P2P's in kWh.
    refused(
        "units differ",
        |d| d.set_line(c, 16, "datacenter,storage,energy,MWh,0.03"),
        &[c, "line 16, column 4 (unit)", "\"MWh\"", "line 2"],
    );
    refused(
        "duplicate",
        |d| d.append(c, "p2p,storage,energy,kWh,13"),
        &[c, "line 30, column 1 (system)", "a second row", "line 2"],
    );
    // P2P's lookup cost per unit (line 13) removed: the data center's row
    // (line 27, then 26) has no partner.
    refused(
        "one side only",
        |d| d.remove_line(c, 13),
        &[
            c,
            "line 26, column 1 (system)",
            "no p2p row for lookups cost_per_unit",
        ],
    );
    // Both rows of the total cost removed: a required row is missing.
    refused(
        "required",
        |d| {
            d.remove_line(c, 29);
            d.remove_line(c, 15);
        },
        &[c, "no row for total cost"],
    );
}

#[test]
fn an_undefined_cost_is_blank_and_has_no_verdict() {
    let d = Copy::new("undefined");
    // No lookups measured on the data center side: no cost per lookup.
    d.set_line(
        "cost.csv",
        27,
        "datacenter,lookups,cost_per_unit,USD/lookup,",
    );
    city::write(&d.0, "t", &CityNotes::same("n"), true).unwrap();
    assert_eq!(
        fields(&d.0, "cost: lookups_cost_per_unit")[..2],
        ["1.9e-7", ""]
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
        if f[0] == "compute: wrong_accepted" {
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
        across.contains("\ngateways: utilisation_mean,%,2,2,18.888889,"),
        "{across}"
    );
    assert!(
        across.contains("\nstorage: availability,%,2,2,"),
        "{across}"
    );
    assert!(!across.contains("\navailability,"), "{across}");
    let parent = a.0.parent().unwrap().to_path_buf();
    drop((a, b));
    let _ = std::fs::remove_dir_all(parent);
}
