//! `cargo xtask`: build, bundle, install, demo and test Continuo.
//!
//! - `cargo xtask demo`: bundles the plugin (CLAP + VST3) and runs the engine headless on the
//!   example melody in `assets/`, printing the continuation and writing it as a .mid file.
//! - `cargo xtask test`: runs every test of the workspace (what `.ci/run` calls).
//! - `cargo xtask install`: bundles and copies the plugin into `~/.clap` and `~/.vst3`.
//! - anything else (`bundle continuo --release`, ...) goes to nice-plug-xtask.

use std::path::{Path, PathBuf};
use std::process::Command;

use nice_plug_xtask::Result;

const EXAMPLE: &str = "assets/ode-to-joy.mid";
const DEMO_OUTPUT: &str = "target/demo/ode-to-joy-continued.mid";

fn main() -> Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(&args[1..]),
        Some("install") => install(),
        _ => nice_plug_xtask::main_with_args("cargo xtask", args),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("{command:?} failed with {status}")).into());
    }
    Ok(())
}

fn bundle_release() -> Result<()> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "continuo", "--release"].map(String::from),
    )
}

fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| size_of(&e.path())).sum())
            .unwrap_or(0)
    } else {
        path.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

fn demo() -> Result<()> {
    bundle_release()?;
    for bundle in [
        "target/bundled/Continuo.clap",
        "target/bundled/Continuo.vst3",
    ] {
        let path = PathBuf::from(bundle);
        println!("{bundle}: {:.1} MB", size_of(&path) as f64 / 1e6);
    }
    std::fs::create_dir_all("target/demo")?;
    run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "continuo",
        "--bin",
        "continuo",
        "--",
        "continue",
        EXAMPLE,
        "--bars",
        "4",
        "--seed",
        "7",
        "-o",
        DEMO_OUTPUT,
    ]))
}

fn test(extra: &[String]) -> Result<()> {
    // Unit tests, the CLI, the CLAP host tests (which load the plugin binary built with the
    // allocation checker armed) and the benchmarks in test mode (each run once).
    run(cargo()
        .args(["test", "--workspace", "--all-targets"])
        .args(extra))
}

fn install() -> Result<()> {
    bundle_release()?;
    let home = PathBuf::from(std::env::var_os("HOME").ok_or_else(|| {
        std::io::Error::other("HOME is not set: cannot find ~/.clap and ~/.vst3")
    })?);
    let clap_dir = home.join(".clap");
    let vst3_dir = home.join(".vst3");
    std::fs::create_dir_all(&clap_dir)?;
    std::fs::create_dir_all(&vst3_dir)?;
    std::fs::copy(
        "target/bundled/Continuo.clap",
        clap_dir.join("Continuo.clap"),
    )?;
    copy_dir(
        Path::new("target/bundled/Continuo.vst3"),
        &vst3_dir.join("Continuo.vst3"),
    )?;
    println!(
        "Installed Continuo.clap into {} and Continuo.vst3 into {}",
        clap_dir.display(),
        vst3_dir.display()
    );
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
