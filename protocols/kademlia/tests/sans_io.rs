//! The protocol crates never read a clock, a socket, global randomness or
//! hash-map order: their sources contain none of the forbidden names.

use std::path::Path;

/// Forbidden names, assembled so that this file does not contain them.
fn forbidden() -> Vec<String> {
    [
        ["Instant", "::now"],
        ["System", "Time"],
        ["thread", "_rng"],
        ["rand::", "rng()"],
        ["std::", "net"],
        ["Hash", "Map"],
        ["Hash", "Set"],
    ]
    .iter()
    .map(|p| p.concat())
    .collect()
}

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            scan(&p, hits);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for f in forbidden() {
                if text.contains(&f) {
                    hits.push(format!("{}: {f}", p.display()));
                }
            }
        }
    }
}

#[test]
fn protocol_sources_use_no_clock_socket_global_rng_or_hash_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut hits = Vec::new();
    scan(&root.join("src"), &mut hits);
    scan(&root.join("../datacenter/src"), &mut hits);
    assert!(hits.is_empty(), "{hits:#?}");
    // The scan itself works: it finds a name planted in a temporary file.
    let dir = std::env::temp_dir().join(format!("kad-sans-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("x.rs"),
        format!("fn f() {{ {}(); }}", forbidden()[0]),
    )
    .unwrap();
    let mut planted = Vec::new();
    scan(&dir, &mut planted);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(planted.len(), 1);
}
