//! `scenarios check` end to end: cases from a folder, a case whose control
//! cannot tell it apart caught, bad case files refused, results written.
//! (The quick set itself runs in `.ci/run`: `scenarios check --quick`.)

mod common;
use common::{bin, text, tmp};

fn repro(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../repro/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn every_bundled_case_parses_and_is_listed() {
    let o = bin().args(["check", "--list"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    let dir = format!("{}/../repro", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(out.contains(&name), "{name} not listed: {out}");
            n += 1;
        }
    }
    assert!(n >= 6, "{n} cases");
}

/// A real case passes; the same case with a control that changes only the
/// seed (so the claim still holds on it) fails, and the run exits 1.
#[test]
fn a_control_that_cannot_tell_fails_the_case() {
    let d = tmp("cannot-tell");
    let cases = d.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let good = repro("churn-equilibrium-weibull");
    std::fs::write(cases.join("good.toml"), &good).unwrap();
    let (head, _) = good.split_once("[control]").unwrap();
    let blind = format!(
        "{head}[control]\ndescription = \"another seed: the same system\"\n[control.params]\nseed = 2\n"
    );
    std::fs::write(cases.join("blind.toml"), blind).unwrap();
    let o = bin()
        .args(["check", "--repro"])
        .arg(&cases)
        .arg("--out")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("the case cannot tell"), "{out}");
    let csv = std::fs::read_to_string(d.join("out/check/check.csv")).unwrap();
    let passed = |case: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| l.starts_with(&format!("{case},")))
            .map(|l| l.split(',').nth(15).unwrap().to_string())
            .collect()
    };
    assert!(passed("good").iter().all(|p| p == "true"), "{csv}");
    assert!(passed("blind").iter().all(|p| p == "false"), "{csv}");
    assert!(!csv.contains("NaN"));
    assert!(d.join("out/check/report.md").is_file());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_case_files_and_names_are_clear_errors() {
    let d = tmp("bad");
    let good = repro("maxmin-shares");
    for (name, body, wants) in [
        (
            "unknown-driver",
            good.replace("driver = \"maxmin-shares\"", "driver = \"maxmin\""),
            vec!["unknown-driver.toml", "`driver`", "maxmin-shares"],
        ),
        (
            "unchanged-control",
            good.replace(
                "capacities_mbps = [12, 4, 6]",
                "capacities_mbps = [12, 4, 2]",
            ),
            vec!["unchanged-control.toml", "control.params.capacities_mbps"],
        ),
        (
            "typo",
            good.replace("citation", "citaton"),
            vec!["typo.toml", "citaton"],
        ),
    ] {
        assert_ne!(body, good, "{name}: nothing changed");
        let cases = d.join(name);
        std::fs::create_dir_all(&cases).unwrap();
        std::fs::write(cases.join(format!("{name}.toml")), body).unwrap();
        let o = bin()
            .args(["check", "--repro"])
            .arg(&cases)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        for w in wants {
            assert!(text(&o).contains(w), "{name}: {w:?} not in {}", text(&o));
        }
    }
    // A bad parameter is the case's error, not a panic: the case fails.
    let cases = d.join("param");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::write(
        cases.join("param.toml"),
        good.replace("paths = ", "pathz = "),
    )
    .unwrap();
    let o = bin()
        .args(["check", "--repro"])
        .arg(&cases)
        .arg("--out")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("pathz"), "{}", text(&o));
    assert!(!text(&o).contains("panicked"));
    let o = bin().args(["check", "no-such-case"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("no case \"no-such-case\""),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&d);
}
