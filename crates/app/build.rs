//! Release builds for `x86_64` Linux pass `link-order.txt` (`link-order-kafka.txt` with the
//! `kafka` feature, whose build names its functions differently) to the linker: the functions a
//! resync runs, placed together at the start of the code, so that the kernel maps less of the
//! binary (issue 18: peak RSS of the medium bench 33 → 27 MiB; `link-order.sh` regenerates the
//! files and says why). Only where rustc links with its own lld (x86_64-unknown-linux-gnu
//! since Rust 1.90), which takes `--symbol-ordering-file`; `OCEAN_LINK_ORDER=off` leaves it out
//! (another linker). Names the linker does not find are skipped silently: the order then helps
//! less, and nothing else changes.
//!
//! The same builds pack their relative relocations (`-z pack-relative-relocs`, `DT_RELR`): a
//! position-independent binary lists every pointer the loader must adjust, and the table
//! (0.7 MB, 24 bytes a pointer) was read at every start and stayed in RSS; packed, it takes
//! 14 KB. The loader needs glibc 2.36 (the image's Debian 12); medium bench over HTTPS, three
//! runs each: peak RSS 31.3–31.7 → 30.0–30.2 MiB first, 34.5–35.3 → 32.7–33.8 second.
//! `OCEAN_LINK_ORDER=off` leaves this option out as well (a linker without either).

#[expect(
    clippy::disallowed_methods,
    reason = "a build script's input is cargo's environment"
)]
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn main() {
    println!("cargo::rerun-if-changed=link-order.txt");
    println!("cargo::rerun-if-changed=link-order-kafka.txt");
    println!("cargo::rerun-if-env-changed=OCEAN_LINK_ORDER");
    let wanted = var("PROFILE") == "release"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu";
    match var("OCEAN_LINK_ORDER").as_str() {
        "off" => return,
        "" | "on" => {}
        other => panic!("OCEAN_LINK_ORDER is `{other}`: set it to `off` (or `on`, the default)"),
    }
    if !wanted {
        return;
    }
    // Packed relative relocations (see the module's documentation).
    println!("cargo::rustc-link-arg-bin=ocean-azure-devops=-Wl,-z,pack-relative-relocs");
    let file = if var("CARGO_FEATURE_KAFKA").is_empty() {
        "link-order.txt"
    } else {
        "link-order-kafka.txt"
    };
    let order = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join(file);
    if !order.exists() {
        println!(
            "cargo::warning={file} is missing: linked without a link order (see link-order.sh)"
        );
        return;
    }
    println!(
        "cargo::rustc-link-arg-bin=ocean-azure-devops=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo::rustc-link-arg-bin=ocean-azure-devops=-Wl,--no-warn-symbol-ordering");
}
