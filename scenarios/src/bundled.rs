//! Scenarios compiled into the binary, runnable by name from anywhere.

/// Every bundled scenario: (name, TOML text).
pub const ALL: [(&str, &str); 11] = [
    ("backup", include_str!("../bundled/backup.toml")),
    ("backup-sweep", include_str!("../bundled/backup-sweep.toml")),
    ("city-mesh", include_str!("../bundled/city-mesh.toml")),
    (
        "city-mesh-lookups",
        include_str!("../bundled/city-mesh-lookups.toml"),
    ),
    (
        "city-mesh-sweep",
        include_str!("../bundled/city-mesh-sweep.toml"),
    ),
    (
        "freifunk-bremen",
        include_str!("../bundled/freifunk-bremen.toml"),
    ),
    (
        "kademlia-lookup",
        include_str!("../bundled/kademlia-lookup.toml"),
    ),
    (
        "kademlia-scale",
        include_str!("../bundled/kademlia-scale.toml"),
    ),
    ("tune-backup", include_str!("../bundled/tune-backup.toml")),
    ("tune-trace", include_str!("../bundled/tune-trace.toml")),
    (
        "volunteer-compute",
        include_str!("../bundled/volunteer-compute.toml"),
    ),
];

/// The names of the bundled scenarios.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|(n, _)| *n).collect()
}

/// The bundled scenario called `name` (a trailing `.toml` is ignored).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    let n = name.strip_suffix(".toml").unwrap_or(name);
    ALL.iter().copied().find(|(b, _)| *b == n)
}

/// The `description = "..."` line of a scenario's text.
pub fn description(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("description"))
        .and_then(|l| l.split_once('"'))
        .and_then(|(_, r)| r.rsplit_once('"'))
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}
