//! include/graphdb.h must be exactly what cbindgen 0.29.0 generates from src/ffi with
//! cbindgen.toml. `GRAPHDB_BLESS=1 cargo test --test header` (scripts/gen-header.sh) rewrites
//! it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The version macros, from the package version this test was built with.
fn version_macros() -> String {
    format!(
        "#define GRAPHDB_VERSION_MAJOR {}\n#define GRAPHDB_VERSION_MINOR {}\n\
         #define GRAPHDB_VERSION_PATCH {}\n#define GRAPHDB_VERSION_STRING \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}

fn generate() -> String {
    let root = root();
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed on src/ffi: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

fn header_path() -> PathBuf {
    root().join("include/graphdb.h")
}

#[test]
fn checked_in_header_matches_cbindgen() {
    let fresh = generate();
    let path = header_path();
    if std::env::var("GRAPHDB_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &fresh).expect("write include/graphdb.h");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let first_diff = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(fresh.lines().count()));
        panic!(
            "include/graphdb.h is out of date with src/ffi (first difference at line {}).\n\
             checked in: {:?}\ngenerated:  {:?}\nRun scripts/gen-header.sh and commit the header.",
            first_diff + 1,
            current.lines().nth(first_diff).unwrap_or("<end of file>"),
            fresh.lines().nth(first_diff).unwrap_or("<end of file>"),
        );
    }
}

/// The package version as Cargo.toml spells it (the `version` key of `[package]`).
fn cargo_toml_version(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).expect("read Cargo.toml");
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && line.starts_with("version") {
            if let Some(v) = line.split('"').nth(1) {
                return v.to_string();
            }
        }
    }
    panic!("no version in [package] of Cargo.toml")
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let version = cargo_toml_version(&root().join("Cargo.toml"));
    let parts: Vec<&str> = version.split(['.', '-', '+']).collect();
    let header = std::fs::read_to_string(header_path()).expect("read include/graphdb.h");
    for (name, want) in [
        ("MAJOR", parts[0]),
        ("MINOR", parts[1]),
        ("PATCH", parts[2]),
    ] {
        let line = format!("#define GRAPHDB_VERSION_{name} {want}\n");
        assert!(header.contains(&line), "header lacks `{}`", line.trim());
    }
    let string = format!("#define GRAPHDB_VERSION_STRING \"{version}\"\n");
    assert!(header.contains(&string), "header lacks `{}`", string.trim());
    assert!(header.contains("#define GRAPHDB_ABI_VERSION 1\n"));
}
