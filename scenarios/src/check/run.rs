//! Running cases: selection, the case and control runs, the terminal
//! table, `check.csv`, `report.md` and one plot per case with x values.

use super::case::{Case, Set};
use super::{CheckError, Measurement, Point, drivers};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The cases compiled into the binary: the `repro/` folder's files, as
/// (name, text).
pub const BUNDLED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/repro_cases.rs"));

/// Every case of the compiled-in `repro/` folder, parsed.
pub fn bundled() -> Result<Vec<Case>, CheckError> {
    BUNDLED
        .iter()
        .map(|(name, text)| Case::parse(name, text, &format!("repro/{name}.toml")))
        .collect()
}

/// Every `*.toml` case of folder `dir`, parsed, by name.
pub fn from_dir(dir: &Path) -> Result<Vec<Case>, CheckError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CheckError(format!("{}: cannot be read: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CheckError(format!(
            "{}: no case file (*.toml) in this folder",
            dir.display()
        )));
    }
    files
        .iter()
        .map(|p| {
            let shown = p.display().to_string();
            let meta = std::fs::metadata(p)
                .map_err(|e| CheckError(format!("{shown}: cannot be read: {e}")))?;
            if meta.len() > 1 << 20 {
                return Err(CheckError(format!(
                    "{shown}: {} bytes; a case file has at most 1 MiB",
                    meta.len()
                )));
            }
            let text = std::fs::read_to_string(p)
                .map_err(|e| CheckError(format!("{shown}: cannot be read: {e}")))?;
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Case::parse(&name, &text, &shown)
        })
        .collect()
}

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Every set (`--all`); otherwise the quick set.
    pub all: bool,
    /// Named cases (any set); empty: by set.
    pub names: Vec<String>,
}

/// The cases `sel` picks from `cases`, in name order.
pub fn select(mut cases: Vec<Case>, sel: &Selection) -> Result<Vec<Case>, CheckError> {
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    if sel.names.is_empty() {
        return Ok(cases
            .into_iter()
            .filter(|c| sel.all || c.set == Set::Quick)
            .collect());
    }
    let mut out = Vec::new();
    for n in &sel.names {
        let n = n.strip_suffix(".toml").unwrap_or(n);
        match cases.iter().find(|c| c.name == n) {
            Some(c) => out.push(c.clone()),
            None => {
                let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
                return Err(CheckError(format!(
                    "no case {n:?}; the cases are {} (`scenarios check --list`)",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// One run (the case's, or its control's) of a case.
#[derive(Debug, Clone)]
pub struct Run {
    /// What the driver measured, or why it could not.
    pub result: Result<Measurement, CheckError>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Run {
    /// Whether every point agrees.
    pub fn agrees(&self, sigmas: f64) -> bool {
        self.result.as_ref().is_ok_and(|m| m.agrees(sigmas))
    }
}

/// A case with its two runs.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// The claim's run.
    pub main: Run,
    /// The control's run.
    pub control: Run,
}

impl Outcome {
    /// The control measured something, and it disagrees with the claim.
    pub fn control_rejected(&self) -> bool {
        self.control.result.is_ok() && !self.control.agrees(self.case.sigmas)
    }
    /// The claim holds and its control is rejected.
    pub fn passed(&self) -> bool {
        self.main.agrees(self.case.sigmas) && self.control_rejected()
    }
    /// Why it failed, in a few words (empty when it passed).
    pub fn why(&self) -> String {
        let s = self.case.sigmas;
        match (&self.main.result, &self.control.result) {
            (Err(e), _) => format!("error: {e}"),
            (_, Err(e)) => format!("control error: {e}"),
            (Ok(m), _) if !m.agrees(s) => {
                let bad = m.points.iter().filter(|p| !p.agrees(s)).count();
                format!("{bad} of {} points outside the band", m.points.len())
            }
            _ if !self.control_rejected() => {
                "the control agrees with the claim: the case cannot tell".to_string()
            }
            _ => String::new(),
        }
    }
}

fn timed(case: &Case, control: bool) -> Run {
    let t = Instant::now();
    let driver = drivers::find(&case.driver);
    let params = if control {
        case.control_params()
    } else {
        case.params()
    };
    let result = match driver {
        Some(d) => d(&params),
        None => Err(CheckError(format!("no driver {:?}", case.driver))),
    };
    Run {
        result,
        seconds: t.elapsed().as_secs_f64(),
    }
}

/// Run every case and its control, `jobs` cases at a time (the results in
/// the cases' order); `progress` is called as each case ends.
pub fn run_all(cases: &[Case], jobs: usize, progress: &(dyn Fn(&Outcome) + Sync)) -> Vec<Outcome> {
    let one = |c: &Case| {
        let o = Outcome {
            case: c.clone(),
            main: timed(c, false),
            control: timed(c, true),
        };
        progress(&o);
        o
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| cases.par_iter().map(one).collect()),
        Err(_) => cases.iter().map(one).collect(),
    }
}

/// A number for tables: 4 significant digits, plain or scientific.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "—".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.3e}")
    } else {
        let digits = if a == 0.0 {
            3
        } else {
            (3 - a.log10().floor() as i32).clamp(0, 6) as usize
        };
        format!("{v:.digits$}")
    }
}

/// A z score for tables: one decimal, `∞` when a difference has no error.
pub fn zfmt(z: f64) -> String {
    if z.is_infinite() {
        if z > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        }
    } else {
        format!("{z:.1}")
    }
}

/// The worst point of a run, for the one-line table.
fn worst(run: &Run) -> Option<&Point> {
    run.result.as_ref().ok().and_then(Measurement::worst)
}

/// The terminal table: one line per case.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut rows = vec![[
        "case".to_string(),
        "set".into(),
        "measured".into(),
        "expected".into(),
        "band (±)".into(),
        "z".into(),
        "control rejected".into(),
        "result".into(),
        "time (s)".into(),
    ]];
    for o in outcomes {
        let s = o.case.sigmas;
        let (m, e, b, z) = match worst(&o.main) {
            Some(p) => (
                num(p.measured),
                num(p.expected),
                num(p.half_width(s)),
                zfmt(p.z()),
            ),
            None => ("—".into(), "—".into(), "—".into(), "—".into()),
        };
        let control = match (&o.control.result, worst(&o.control)) {
            (Err(_), _) => "error".to_string(),
            (Ok(_), Some(p)) => format!(
                "{} (z = {})",
                if o.control_rejected() { "yes" } else { "NO" },
                zfmt(p.z())
            ),
            (Ok(_), None) => "NO (no point)".into(),
        };
        rows.push([
            o.case.name.clone(),
            o.case.set.name().into(),
            m,
            e,
            b,
            z,
            control,
            if o.passed() {
                "pass".into()
            } else {
                format!("FAIL: {}", o.why())
            },
            format!("{:.1}", o.main.seconds + o.control.seconds),
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i] - c.chars().count();
                if (2..6).contains(&i) || i == 8 {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `check.csv`: one row per point of every run (and one per run that could
/// not measure, with its error).
pub const CSV_HEADER: &str = "case,set,run,point,x,measured,se,expected,expected_se,allowance,sigmas,low,high,z,agrees,case_passed,seconds,error";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A float for the CSV: plain, empty when not finite (never NaN).
fn cell(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// The rows of `check.csv`.
pub fn csv(outcomes: &[Outcome]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for o in outcomes {
        let s = o.case.sigmas;
        for (which, run) in [("case", &o.main), ("control", &o.control)] {
            let head = format!("{},{},{which}", csv_field(&o.case.name), o.case.set.name());
            match &run.result {
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "{head},,,,,,,,{s},,,,false,{},{:.3},{}",
                        o.passed(),
                        run.seconds,
                        csv_field(&e.0)
                    );
                }
                Ok(m) => {
                    for p in &m.points {
                        let h = p.half_width(s);
                        let z = p.z();
                        let _ = writeln!(
                            out,
                            "{head},{},{},{},{},{},{},{},{s},{},{},{},{},{},{:.3},",
                            csv_field(&p.label),
                            p.x.map(cell).unwrap_or_default(),
                            cell(p.measured),
                            cell(p.se),
                            cell(p.expected),
                            cell(p.expected_se),
                            cell(p.allowance),
                            cell(p.expected - h),
                            cell(p.expected + h),
                            cell(z),
                            p.agrees(s),
                            o.passed(),
                            run.seconds
                        );
                    }
                }
            }
        }
    }
    out
}

/// Write `check.csv`, `report.md` and the plots into `dir` (created).
pub fn write(dir: &Path, outcomes: &[Outcome], plots: bool) -> Result<(), CheckError> {
    let io = |p: &Path, e: std::io::Error| CheckError(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let csv_path = dir.join("check.csv");
    std::fs::write(&csv_path, csv(outcomes)).map_err(|e| io(&csv_path, e))?;
    let mut md = String::from("# Reproduction cases\n\n");
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let _ = writeln!(
        md,
        "{passed} of {} cases passed. A case passes when every point it measures lies within its band (the expected value ± `sigmas` standard errors, plus any stated allowance) and its negative control does not: the control changes the system, not the prediction, so the claim must fail on it.\n",
        outcomes.len()
    );
    md.push_str("```\n");
    md.push_str(&table(outcomes));
    md.push_str("```\n");
    if plots {
        let pd = dir.join("plots");
        std::fs::create_dir_all(&pd).map_err(|e| io(&pd, e))?;
    }
    for o in outcomes {
        let c = &o.case;
        let _ = write!(
            md,
            "\n## {}: {}\n\n**{}**{}. Set: {}. Driver: `{}`.\n\n- Source: {}\n- Expected: {}\n- Tolerance: {} Band: ± {} standard errors{}.\n- Control: {}\n",
            c.name,
            c.title,
            if o.passed() { "Pass" } else { "FAIL" },
            if o.passed() {
                String::new()
            } else {
                format!(" ({})", o.why())
            },
            c.set.name(),
            c.driver,
            c.citation,
            c.expected,
            c.tolerance,
            c.sigmas,
            c.sigmas_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            c.control.description
        );
        for (which, run) in [("Case", &o.main), ("Control", &o.control)] {
            match &run.result {
                Err(e) => {
                    let _ = writeln!(md, "\n{which}: could not run: {e}\n");
                }
                Ok(m) => {
                    let _ = writeln!(
                        md,
                        "\n{which} ({:.1} s){}\n\n| point | measured | SE | expected | band | z | agrees |\n|---|---:|---:|---:|---:|---:|---|",
                        run.seconds,
                        if m.note.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", m.note)
                        }
                    );
                    for p in &m.points {
                        let _ = writeln!(
                            md,
                            "| {} | {} | {} | {} | ± {} | {} | {} |",
                            p.label,
                            num(p.measured),
                            num(p.se),
                            num(p.expected),
                            num(p.half_width(c.sigmas)),
                            zfmt(p.z()),
                            if p.agrees(c.sigmas) { "yes" } else { "no" }
                        );
                    }
                }
            }
        }
        if plots && let Some(base) = plot(dir, o)? {
            let _ = writeln!(
                md,
                "\n![{}](plots/{base}.svg)\n\nThe expected value (line) and what the case and its control measured, with whiskers of ± the band's half-width.",
                c.name
            );
        }
    }
    let md_path = dir.join("report.md");
    std::fs::write(&md_path, md).map_err(|e| io(&md_path, e))?;
    Ok(())
}

/// The case's plot when its points have x values; returns the file base.
fn plot(dir: &Path, o: &Outcome) -> Result<Option<String>, CheckError> {
    let Ok(m) = &o.main.result else {
        return Ok(None);
    };
    if m.points.len() < 2 || m.points.iter().any(|p| p.x.is_none()) {
        return Ok(None);
    }
    let s = o.case.sigmas;
    let expected: Vec<(f64, f64)> = if m.curve.is_empty() {
        let mut e: Vec<(f64, f64)> = m
            .points
            .iter()
            .filter_map(|p| p.x.map(|x| (x, p.expected)))
            .collect();
        e.sort_by(|a, b| a.0.total_cmp(&b.0));
        e
    } else {
        m.curve.clone()
    };
    let pts = |m: &Measurement| -> Vec<(f64, f64, f64)> {
        m.points
            .iter()
            .filter_map(|p| p.x.map(|x| (x, p.measured, p.half_width(s))))
            .collect()
    };
    let mut runs = vec![("case".to_string(), pts(m))];
    if let Ok(c) = &o.control.result
        && c.points.iter().all(|p| p.x.is_some())
    {
        runs.push(("control".to_string(), pts(c)));
    }
    let (xl, yl) = m
        .axes
        .clone()
        .unwrap_or_else(|| ("x".to_string(), "value".to_string()));
    let base = o.case.name.clone();
    analysis::plot::agreement(
        &dir.join("plots").join(&base),
        &o.case.title,
        &xl,
        &yl,
        &expected,
        &runs,
    )
    .map_err(|e| CheckError(e.to_string()))?;
    Ok(Some(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        let text = r#"
title = "A test claim"
set = "quick"
driver = "any"
citation = "c"
expected = "e"
tolerance = "t"
[control]
description = "d"
[control.params]
a = 2
"#;
        let mut c: Case = toml::from_str(text).unwrap();
        c.name = "claim".into();
        c
    }

    fn run_of(points: &[(f64, f64, f64)]) -> Run {
        Run {
            result: Ok(Measurement {
                points: points
                    .iter()
                    .enumerate()
                    .map(|(i, &(m, se, e))| Point::analytic(format!("p{i}"), m, se, e).at(i as f64))
                    .collect(),
                axes: Some(("i".into(), "value".into())),
                ..Measurement::default()
            }),
            seconds: 0.5,
        }
    }

    #[test]
    fn a_case_passes_only_when_its_control_is_rejected() {
        let good = run_of(&[(1.0, 0.1, 1.2), (2.0, 0.1, 2.0)]);
        let off = run_of(&[(1.0, 0.1, 1.2), (3.0, 0.1, 2.0)]);
        let o = |main: &Run, control: &Run| Outcome {
            case: case(),
            main: main.clone(),
            control: control.clone(),
        };
        assert!(o(&good, &off).passed());
        let same = o(&good, &good);
        assert!(!same.passed());
        assert!(same.why().contains("cannot tell"), "{}", same.why());
        let wrong = o(&off, &off);
        assert!(!wrong.passed());
        assert!(wrong.why().contains("1 of 2 points"), "{}", wrong.why());
        let broken = Run {
            result: Err(CheckError("boom".into())),
            seconds: 0.0,
        };
        let e = o(&good, &broken);
        assert!(!e.passed() && !e.control_rejected());
        assert!(e.why().contains("control error: boom"));
        let empty = Run {
            result: Ok(Measurement::default()),
            seconds: 0.0,
        };
        assert!(
            !o(&empty, &off).passed(),
            "a case with no point cannot pass"
        );
    }

    #[test]
    fn outputs_have_every_point_and_no_nan() {
        let d = std::env::temp_dir().join(format!("pc-check-run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let outcomes = vec![
            Outcome {
                case: case(),
                main: run_of(&[(1.0, 0.1, 1.2), (2.0, 0.1, 2.0)]),
                control: run_of(&[(1.0, 0.0, 1.2), (3.0, 0.1, 2.0)]),
            },
            Outcome {
                case: Case {
                    name: "broken".into(),
                    ..case()
                },
                main: Run {
                    result: Err(CheckError("parameter `a`: bad, \"quoted\"".into())),
                    seconds: 0.0,
                },
                control: run_of(&[(f64::NAN, f64::INFINITY, 1.0)]),
            },
        ];
        write(&d, &outcomes, true).unwrap();
        let csv = std::fs::read_to_string(d.join("check.csv")).unwrap();
        assert!(!csv.contains("NaN") && !csv.contains("inf"), "{csv}");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        // 2 + 2 points, one error row, one control point.
        assert_eq!(lines.len(), 1 + 4 + 1 + 1, "{csv}");
        let cols = CSV_HEADER.split(',').count();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        for rec in r.records() {
            assert_eq!(rec.unwrap().len(), cols);
        }
        assert!(
            csv.contains("claim,quick,case,p1,1,2,0.1,2,0,0,4,1.6,2.4,0,true,true,0.500,"),
            "{csv}"
        );
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(md.contains("1 of 2 cases passed"), "{md}");
        assert!(
            md.contains("## claim: A test claim") && md.contains("**Pass**"),
            "{md}"
        );
        assert!(md.contains("could not run: parameter `a`"), "{md}");
        assert!(d.join("plots/claim.svg").is_file() && d.join("plots/claim.png").is_file());
        let t = table(&outcomes);
        assert!(t.contains("pass") && t.contains("FAIL: error"), "{t}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn numbers_for_tables() {
        assert_eq!(num(1.23456), "1.235");
        assert_eq!(num(123.456), "123.5");
        assert_eq!(num(0.0), "0.000");
        assert_eq!(num(1.5e-5), "1.500e-5");
        assert_eq!(num(f64::INFINITY), "∞");
        assert_eq!(num(f64::NAN), "—");
    }
}
