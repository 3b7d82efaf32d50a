//! The `[cost]` table through the command line: `validate` resolves it
//! with every default written out, and reports each bad value naming the
//! file and the key that fixes it.

use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Ten internet peers doing lookups, with a `[cost]` table.
const SMALL: &str = r#"
[scenario]
name = "small-cost"
warmup = "10s"
duration = "1min"

[topology]
kind = "internet"
nodes = 10

[workload]
clients = 5
mean_gap = "10s"

[cost]
home_idle_watts = 25
home_active_watts = 55
pue_preset = "hyperscale"
home_allocation = "marginal"
network_model = "baseline-per-byte"
dc_price_per_kwh = 0.09
"#;

/// Each bad `[cost]` value is an error of `validate` naming the file and
/// the key that fixes it.
#[test]
fn validate_reports_bad_cost_values() {
    let d = tmp("bad");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "negative-watts",
            SMALL.replace("home_idle_watts = 25", "home_idle_watts = -25"),
            vec!["cost.home_idle_watts", "-25", "from 0"],
        ),
        (
            "active-below-idle",
            SMALL.replace("home_active_watts = 55", "home_active_watts = 20"),
            vec!["cost.home_active_watts", "cost.home_idle_watts"],
        ),
        (
            "pue-below-one",
            SMALL.replace("pue_preset = \"hyperscale\"", "pue = 0.95"),
            vec!["cost.pue", "0.95", "from 1"],
        ),
        (
            "unknown-preset",
            SMALL.replace("\"hyperscale\"", "\"efficient\""),
            vec!["cost.pue_preset", "efficient", "average", "hyperscale"],
        ),
        (
            "unknown-allocation",
            SMALL.replace("\"marginal\"", "\"amortised\""),
            vec!["cost.home_allocation", "amortised", "marginal", "full"],
        ),
        (
            "unknown-network-model",
            SMALL.replace("\"baseline-per-byte\"", "\"per-byte\""),
            vec!["cost.network_model", "flat", "baseline-per-byte"],
        ),
        (
            "negative-price",
            SMALL.replace("dc_price_per_kwh = 0.09", "dc_price_per_kwh = -0.09"),
            vec!["cost.dc_price_per_kwh", "USD"],
        ),
        (
            "misspelt-key",
            SMALL.replace("dc_price_per_kwh", "dc_price_kwh"),
            vec!["cost", "dc_price_kwh", "did you mean `dc_price_per_kwh`?"],
        ),
    ];
    for (name, text, wants) in cases {
        assert_ne!(text, SMALL, "{name}: the case changed nothing");
        let file = d.join(format!("{name}.toml"));
        std::fs::write(&file, &text).unwrap();
        let o = bin()
            .args(["validate"])
            .arg(&file)
            .current_dir(&d)
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(
            e.contains(&format!("{name}.toml")),
            "{name}: no file in {e}"
        );
        for w in wants {
            assert!(e.contains(w), "{name}: expected {w:?} in {e}");
        }
        assert!(!e.contains("panicked"), "{name}: {e}");
    }
    // The good scenario resolves with every key written out; a `--set`
    // reaches the table like any other.
    let good = d.join("good.toml");
    std::fs::write(&good, SMALL).unwrap();
    let o = bin().arg("validate").arg(&good).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[cost]")
            && out.contains("pue_preset = \"hyperscale\"")
            && out.contains("server_idle_watts = 100.0")
            && out.contains("router_allocation = \"none\""),
        "{out}"
    );
    let o = bin()
        .arg("validate")
        .arg(&good)
        .args(["--set", "cost.pue=0.5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cost.pue"), "{}", stderr(&o));
    assert!(!d.join("out").exists());
    let _ = std::fs::remove_dir_all(&d);
}
