//! The project's parsers as fuzz targets, with their seeds and generators.
//!
//! | target     | seeds                                      | runs through |
//! |------------|--------------------------------------------|--------------|
//! | `scenario` | bundled scenarios                          | `validate::validate_text` |
//! | `sweep`    | bundled scenarios with a `[sweep]` table   | `sweep::grid` |
//! | `override` | `--set` texts over bundled scenarios       | `Override` parsing, then `validate_text` |
//! | `topology` | bundled topologies, synthetic node-link and NetJSON | `RouterGraph::from_json_str`, then `validate_text` of a mesh scenario naming the file |
//! | `fta`      | a synthetic FTA `event_trace`              | `Trace::parse_fta` |
//! | `csv`      | a synthetic `node,up_at,down_at` trace     | `Trace::parse_csv` |
//!
//! Most scenario inputs use the internet topology (cheap to build); a
//! share use the bundled meshes, whose graphs take longer to build.

use super::mutate::{self, pick};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use scenarios::load::{Origin, Override, load};
use scenarios::schema::Scenario;
use sim_core::churn::trace::Trace;
use std::path::PathBuf;

/// Every target, in the order a run goes through them.
pub const NAMES: [&str; 6] = ["scenario", "sweep", "override", "topology", "fta", "csv"];

/// File extension of a target's inputs.
pub fn ext(name: &str) -> &'static str {
    match name {
        "scenario" | "sweep" => "toml",
        "override" => "set",
        "topology" => "json",
        "fta" => "tsv",
        _ => "csv",
    }
}

/// The largest input: a few megabytes reach every size limit a parser
/// should have, and keep a run's memory small.
pub const INPUT_MAX_BYTES: usize = 4 << 20;

/// The longest error message that does not count as echoing a huge value.
pub const MESSAGE_MAX_BYTES: usize = 4096;

const SEEDS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_seeds");

struct Base {
    name: &'static str,
    text: &'static str,
    table: toml::Table,
    /// Key paths of the file and of the fully resolved scenario (so keys
    /// with defaults are fuzzed too, including keys added later).
    paths: Vec<Vec<String>>,
}

fn base(name: &'static str) -> Base {
    let (_, text) = scenarios::bundled::find(name).expect("a bundled scenario");
    let table: toml::Table = toml::from_str(text).expect("bundled scenarios parse");
    let resolved: Scenario = load(text, &Origin::Bundled(name), &[]).expect("bundled loads");
    let full = toml::Table::try_from(&resolved).expect("a scenario serializes");
    let mut paths = Vec::new();
    mutate::toml_paths(&table, &mut Vec::new(), &mut paths);
    mutate::toml_paths(&full, &mut Vec::new(), &mut paths);
    paths.sort();
    paths.dedup();
    Base {
        name,
        text,
        table,
        paths,
    }
}

/// Shared state of the targets: parsed seeds, a scratch file.
pub struct Targets {
    internet: Base,
    /// The other experiments' bundled scenarios on the internet topology.
    experiments: Vec<Base>,
    meshes: Vec<Base>,
    sweep: Base,
    topologies: Vec<(String, serde_json::Value, Vec<Vec<mutate::PathPart>>, bool)>,
    topology_texts: Vec<Vec<u8>>,
    fta: Vec<u8>,
    csv: Vec<u8>,
    scratch: PathBuf,
    /// Share of scenario inputs on a bundled mesh (the rest: internet).
    pub mesh_share: f64,
}

impl Targets {
    /// Load the seeds; `scratch_dir` holds the topology file of the
    /// `topology` target.
    pub fn new(scratch_dir: &std::path::Path) -> Targets {
        let mut topologies = Vec::new();
        let mut topology_texts = Vec::new();
        let seeds = [
            ("synthetic-mesh.nodelink.json", false),
            ("synthetic-mesh.netjson.json", false),
        ];
        for (f, big) in seeds {
            let text = std::fs::read_to_string(format!("{SEEDS_DIR}/{f}")).expect("seed file");
            topologies.push((f.to_string(), text, big));
        }
        for name in sim_core::topo::bundled::NAMES {
            let text = sim_core::topo::bundled::text(name).expect("bundled topology");
            topologies.push((name.to_string(), text.to_string(), true));
        }
        let topologies = topologies
            .into_iter()
            .map(|(name, text, big)| {
                let doc: serde_json::Value = serde_json::from_str(&text).expect("seed JSON");
                let mut paths = Vec::new();
                mutate::json_paths(&doc, &mut Vec::new(), &mut paths);
                topology_texts.push(text.into_bytes());
                (name, doc, paths, big)
            })
            .collect();
        std::fs::create_dir_all(scratch_dir).expect("scratch directory");
        Targets {
            internet: base("kademlia-lookup"),
            experiments: vec![base("backup"), base("volunteer-compute")],
            meshes: vec![base("city-mesh"), base("freifunk-bremen")],
            sweep: base("city-mesh-sweep"),
            topologies,
            topology_texts,
            fta: std::fs::read(format!("{SEEDS_DIR}/synthetic-trace.fta.tsv")).expect("seed"),
            csv: std::fs::read(format!("{SEEDS_DIR}/synthetic-trace.csv")).expect("seed"),
            scratch: scratch_dir.join(format!("fuzz-topology-{}.json", std::process::id())),
            mesh_share: 0.05,
        }
    }

    /// Input of target `name` from a per-input seed.
    /// Inputs are cut to [`INPUT_MAX_BYTES`].
    pub fn generate(&self, name: &str, seed: u64) -> Vec<u8> {
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        let mut input = match name {
            "scenario" => self.gen_scenario(rng),
            "sweep" => self.gen_sweep(rng),
            "override" => self.gen_override(rng),
            "topology" => self.gen_topology(rng),
            "fta" => gen_trace(rng, &self.fta, b'\t'),
            "csv" => gen_trace(rng, &self.csv, b','),
            other => panic!("no fuzz target {other:?}"),
        };
        input.truncate(INPUT_MAX_BYTES);
        input
    }

    /// Run one input through target `name`. Besides panics, an error
    /// message longer than [`MESSAGE_MAX_BYTES`] is a failure: it echoes
    /// a huge value in full. (The message shown leads with the error up
    /// to its first quoted value, so the driver tells sources apart.)
    pub fn run(&self, name: &str, input: &[u8]) {
        if let Err(e) = self.outcome(name, input) {
            assert!(
                e.len() <= MESSAGE_MAX_BYTES,
                "an error message echoes a huge value ({} bytes, limit {MESSAGE_MAX_BYTES}): {}",
                e.len(),
                super::driver::shorten(&e, 200)
            );
        }
    }

    /// Run one input through target `name`: `Ok` or the error shown.
    pub fn outcome(&self, name: &str, input: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(input);
        let origin = Origin::File("fuzz.toml".into());
        match name {
            "scenario" => scenarios::validate::validate_text(&text, &origin, &[], None).map(drop),
            "sweep" => scenarios::sweep::grid(&text, &origin, &[], None).map(drop),
            "override" => self.run_override(&text),
            "topology" => self.run_topology(&text),
            "fta" => Trace::parse_fta(&text, "fuzz.tsv")
                .map(drop)
                .map_err(|e| e.to_string()),
            "csv" => Trace::parse_csv(&text, "fuzz.csv")
                .map(drop)
                .map_err(|e| e.to_string()),
            other => panic!("no fuzz target {other:?}"),
        }
    }

    fn pick_base(&self, rng: &mut ChaCha8Rng) -> &Base {
        if rng.random_bool(self.mesh_share) {
            pick(rng, &self.meshes)
        } else if rng.random_bool(0.2) {
            pick(rng, &self.experiments)
        } else {
            &self.internet
        }
    }

    fn gen_scenario(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let b = self.pick_base(rng);
        let mut text = if rng.random_bool(0.75) {
            mutate::mutate_toml(rng, &b.table, &b.paths).into_bytes()
        } else {
            b.text.as_bytes().to_vec()
        };
        if text.is_empty() || rng.random_bool(0.4) {
            let donors = [b.text.as_bytes(), self.sweep.text.as_bytes()];
            for _ in 0..rng.random_range(1..=4) {
                mutate::mutate_bytes(rng, &mut text, &donors);
            }
        }
        text
    }

    fn gen_sweep(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let b = if rng.random_bool(0.5) {
            &self.sweep
        } else {
            &self.internet
        };
        let mut t = b.table.clone();
        let sweep = t
            .entry("sweep")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !sweep.is_table() {
            *sweep = toml::Value::Table(toml::Table::new());
        }
        let mut raw = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let sweep = t["sweep"].as_table_mut().expect("a table");
            let m = mutate::marker(raw.len());
            match rng.random_range(0..6) {
                0 => {
                    raw.push(
                        pick(
                            rng,
                            &[
                                "0",
                                "-1",
                                "1",
                                "2",
                                "3",
                                "7",
                                "50",
                                "4294967295",
                                "4294967296",
                                "9223372036854775807",
                                "-9223372036854775808",
                                "18446744073709551615",
                                "1e308",
                                "nan",
                                "\"3\"",
                                "true",
                                "[]",
                                "[1, 1]",
                                "[1, 2, 3]",
                                "[-1]",
                                "[0, 18446744073709551615]",
                                "[9223372036854775807, 0]",
                                "[\"a\"]",
                                "[1.5]",
                                "{}",
                                "[[1]]",
                            ],
                        )
                        .to_string(),
                    );
                    sweep.insert("seeds".into(), m.into());
                }
                1 => {
                    sweep.remove(*pick(rng, &["seeds", "kademlia"]));
                }
                2..=4 => {
                    // An axis over a (resolved) key: a list of mutated values.
                    let path = pick(rng, &b.paths).clone();
                    let cur = mutate::toml_get(&b.table, &path).cloned();
                    let n = *pick(rng, &[0usize, 1, 2, 3, 5, 50]);
                    let values: Vec<String> = (0..n)
                        .map(|_| match &cur {
                            Some(toml::Value::String(s)) if rng.random_bool(0.6) => {
                                format!("\"{}\"", mutate::mutate_str(rng, s).replace('"', ""))
                            }
                            Some(v) if rng.random_bool(0.2) => v.to_string(),
                            _ => mutate::toml_token(rng),
                        })
                        .collect();
                    raw.push(format!("[{}]", values.join(", ")));
                    mutate::toml_parent(sweep, &path)
                        .insert(path.last().unwrap().clone(), m.into());
                }
                _ => {
                    let path = pick(rng, &b.paths).clone();
                    raw.push(mutate::toml_token(rng));
                    mutate::toml_parent(sweep, &path)
                        .insert(path.last().unwrap().clone(), m.into());
                }
            }
        }
        let mut text = toml::to_string(&t).unwrap_or_default();
        for (i, r) in raw.iter().enumerate() {
            text = text.replace(&format!("\"{}\"", mutate::marker(i)), r);
        }
        let mut bytes = text.into_bytes();
        if rng.random_bool(0.2) {
            mutate::mutate_bytes(rng, &mut bytes, &[b.text.as_bytes()]);
        }
        bytes
    }

    /// An override input: the base scenario's name, then 1 to 3 `--set`
    /// texts, separated by NUL bytes.
    fn gen_override(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let b = self.pick_base(rng);
        let mut out = b.name.as_bytes().to_vec();
        for _ in 0..rng.random_range(1..=3) {
            let path = pick(rng, &b.paths).clone();
            let mut key = path.join(".");
            match rng.random_range(0..12) {
                0 => key.push('.'),
                1 => key.insert(0, '.'),
                2 => key = key.replacen('.', "..", 1),
                3 => key = format!(" {key} "),
                4 => {
                    let tail: &&str = pick(rng, &["x", ".k", ".a.b", "é", "[0]", "\u{0}"]);
                    key.push_str(tail);
                }
                5 => key = "k".repeat(if rng.random_bool(0.3) { 1 << 20 } else { 300 }),
                6 => key.clear(),
                _ => {}
            }
            let value = match mutate::toml_get(&b.table, &path) {
                Some(toml::Value::String(s)) if rng.random_bool(0.5) => {
                    if rng.random_bool(0.5) {
                        mutate::mutate_str(rng, s)
                    } else {
                        format!("\"{}\"", mutate::mutate_str(rng, s))
                    }
                }
                _ => mutate::toml_token(rng),
            };
            let sep = *pick(rng, &["=", "=", "=", "=", " = ", "==", "", "=="]);
            out.push(0);
            out.extend_from_slice(format!("{key}{sep}{value}").as_bytes());
        }
        if rng.random_bool(0.1) {
            mutate::mutate_bytes(rng, &mut out, &[]);
        }
        out
    }

    fn run_override(&self, text: &str) -> Result<(), String> {
        let mut parts = text.split('\0');
        let name = parts.next().unwrap_or_default();
        let b = std::iter::once(&self.internet)
            .chain(&self.meshes)
            .chain(&self.experiments)
            .find(|b| b.name == name)
            .unwrap_or(&self.internet);
        let sets = parts
            .map(|p| p.parse::<Override>())
            .collect::<Result<Vec<_>, _>>()?;
        let origin = Origin::Bundled(b.name);
        scenarios::validate::validate_text(b.text, &origin, &sets, None).map(drop)
    }

    fn gen_topology(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        // Mostly the small synthetic seeds; the bundled graphs (thousands of
        // records) now and then.
        let i = if rng.random_bool(0.9) {
            rng.random_range(0..2)
        } else {
            rng.random_range(0..self.topologies.len())
        };
        let (_, doc, paths, _) = &self.topologies[i];
        let mut text = if rng.random_bool(0.7) {
            mutate::mutate_json(rng, doc, paths).into_bytes()
        } else {
            self.topology_texts[i].clone()
        };
        if text.is_empty() || rng.random_bool(0.4) {
            let donors: Vec<&[u8]> = self.topology_texts[..2].iter().map(|t| &t[..]).collect();
            for _ in 0..rng.random_range(1..=3) {
                mutate::mutate_bytes(rng, &mut text, &donors);
            }
        }
        text
    }

    /// The topology both directly and through a mesh scenario naming the
    /// file, as `validate` and `run` read it.
    fn run_topology(&self, text: &str) -> Result<(), String> {
        let opts = sim_core::topo::LoadOptions::default();
        if let Err(e) = sim_core::topo::RouterGraph::from_json_str(text, "fuzz.json", &opts) {
            // The message check of `run` applies to both paths.
            if e.to_string().len() > MESSAGE_MAX_BYTES {
                return Err(e.to_string());
            }
        }
        std::fs::write(&self.scratch, text).expect("write the scratch topology");
        let path = self.scratch.display().to_string().replace('\\', "/");
        let gateways = ["role:gateway", "name:gw*", "id:0", "id:gw"];
        let gw = gateways[text.len() % gateways.len()];
        let scenario = format!(
            "[scenario]\nname = \"fuzz-topology\"\nduration = \"1min\"\n\
             [topology]\nkind = \"mesh\"\nfile = \"{path}\"\ngateways = \"{gw}\"\n\
             [workload]\nclients = 2\nmean_gap = \"1min\"\n"
        );
        scenarios::validate::validate_text(
            &scenario,
            &Origin::File("fuzz-topology.toml".into()),
            &[],
            None,
        )
        .map(drop)
        // The scratch path as the name the direct parse uses, so messages
        // from both paths compare alike.
        .map_err(|e| e.replace(&path, "fuzz.json"))
    }
}

fn gen_trace(rng: &mut ChaCha8Rng, seed: &[u8], sep: u8) -> Vec<u8> {
    let mut text = seed.to_vec();
    let donors = [seed];
    for _ in 0..rng.random_range(1..=4) {
        mutate::mutate_trace(rng, &mut text, sep, &donors);
    }
    text
}
