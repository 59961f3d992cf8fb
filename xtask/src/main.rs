//! `cargo xtask`: build, bundle, install, demo and test Continuo.
//!
//! - `cargo xtask demo`: bundles the plugin (CLAP + VST3) and runs the engine headless on the
//!   example melody in `assets/`, printing the continuation and writing it as a .mid file.
//! - `cargo xtask test`: runs every test of the workspace (what `.ci/run` calls).
//! - `cargo xtask install`: bundles and copies the plugin into `~/.clap` and `~/.vst3`.
//! - `cargo xtask train [--steps N]`: creates `models/.venv` and runs corpus extraction, training,
//!   evaluation and ONNX export (each step caches or checkpoints, so a rerun resumes).
//! - `cargo xtask eval`: `continuo eval` on the model's test split (exported as MIDI) for the
//!   neural model, the Markov generator and "repeat the last bar"; writes
//!   `models/eval-continuation.json` and prints the table (`models/card.py` puts it in the card).
//! - `cargo xtask fuzz [seconds]`: each cargo-fuzz target (the engine's MIDI import and token
//!   decoding, the plugin's saved state) for a while (default 60 s) with nightly Rust; crash
//!   inputs are copied into the `tests/fuzz-regressions/` folder of their crate, which the test
//!   suite replays.
//! - `cargo xtask screenshot`: opens the real editor in the standalone build under Xvfb with a
//!   dummy JACK server, plays eight bars into it, asks for four variations and saves
//!   `assets/editor.png` (needs Debian's xvfb, xdotool, imagemagick, jackd2, libasound2-dev and
//!   libjack-jackd2-dev).
//! - `cargo xtask daw-check`: Continuo in headless Ardour 7 at buffer sizes 64, 256 and 1,024
//!   (installs Debian's `ardour` when run as root), with assertions on the MIDI it logs (see
//!   `daw_check.rs`).
//! - `cargo xtask stress`: the stuck-note property test with 10,000 cases, 32 instances at once.
//! - `cargo xtask test-models`: the model pipeline's Python tests (tokenizer and export parity)
//!   in `models/.venv`.
//! - `cargo xtask bundle continuo --release`: nice-plug-xtask's bundles, plus ONNX Runtime copied
//!   into them (fetched once from PyPI's onnxruntime wheel by `cargo xtask fetch-runtime`).
//! - anything else goes to nice-plug-xtask.

mod daw_check;

use std::path::{Path, PathBuf};
use std::process::Command;

use nice_plug_xtask::Result;

const EXAMPLE: &str = "assets/ode-to-joy.mid";
/// ONNX Runtime comes from the PyPI wheel of this version (`onnxruntime/capi/` in the wheel).
const ORT_VERSION: &str = "1.31.1";
const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";
const ORT_DIR: &str = "target/onnxruntime";
const DEMO_OUTPUT: &str = "target/demo/ode-to-joy-continued.mid";

fn main() -> Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(&args[1..]),
        Some("install") => install(),
        Some("train") => train(&args[1..]),
        Some("test-models") => test_models(),
        Some("stress") => stress(),
        Some("eval") => eval(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("screenshot") => screenshot(),
        Some("daw-check") => {
            bundle_release()?;
            daw_check::daw_check(Path::new("target/bundled/Continuo.vst3"))
        }
        Some("fetch-runtime") => fetch_runtime().map(|path| println!("{}", path.display())),
        Some("bundle") => bundle(&args),
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
    bundle(&["bundle", "continuo", "--release"].map(String::from))
}

/// nice-plug's bundler, then ONNX Runtime copied into the bundles: inside the VST3 bundle next
/// to the plugin binary, and beside the .clap file.
fn bundle(args: &[String]) -> Result<()> {
    nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned())?;
    let runtime = fetch_runtime()?;
    let vst3 = Path::new("target/bundled/Continuo.vst3/Contents/x86_64-linux");
    if vst3.is_dir() {
        std::fs::copy(&runtime, vst3.join(ORT_LIBRARY))?;
    }
    if Path::new("target/bundled/Continuo.clap").exists() {
        std::fs::copy(&runtime, Path::new("target/bundled").join(ORT_LIBRARY))?;
    }
    Ok(())
}

/// Downloads the onnxruntime wheel from PyPI with pip (once) and extracts the shared library
/// into `target/onnxruntime/`. Returns its path.
fn fetch_runtime() -> Result<PathBuf> {
    let library = std::env::current_dir()?.join(ORT_DIR).join(ORT_LIBRARY);
    if library.is_file() {
        return Ok(library);
    }
    let wheels = Path::new(ORT_DIR).join("wheel");
    std::fs::create_dir_all(&wheels)?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let downloaded = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
        ])
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .arg("-d")
        .arg(&wheels)
        .status();
    if !matches!(downloaded, Ok(status) if status.success()) {
        return Err(std::io::Error::other(format!(
            "could not download onnxruntime=={ORT_VERSION} with `{python} -m pip download`: \
             install Python 3 with pip (on Debian: apt-get install python3 python3-pip)"
        ))
        .into());
    }
    // Extract the one member with Python's zipfile (no unzip tool needed).
    let script = format!(
        "import glob, zipfile, sys\n\
         wheel = sorted(glob.glob(sys.argv[1] + '/onnxruntime-{ORT_VERSION}-*.whl'))[0]\n\
         data = zipfile.ZipFile(wheel).read('onnxruntime/capi/{ORT_LIBRARY}')\n\
         open(sys.argv[2], 'wb').write(data)\n"
    );
    run(Command::new(&python)
        .args(["-c", &script])
        .arg(&wheels)
        .arg(&library))?;
    Ok(library)
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
    run(cargo().env("CONTINUO_ORT_PATH", fetch_runtime()?).args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "continuo-cli",
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

fn eval() -> Result<()> {
    let folder = Path::new("target/eval");
    let midi = folder.join("test-midi");
    run(Command::new("python3")
        .arg("models/export_midi.py")
        .args(["--split", "test", "--out"])
        .arg(&midi))?;
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "continuo-cli",
        "--bin",
        "continuo",
    ]))?;
    let runtime = fetch_runtime()?;
    for generator in ["neural", "markov", "repeat"] {
        let out = std::fs::File::create(folder.join(format!("{generator}.json")))?;
        run(Command::new("target/release/continuo")
            .env("CONTINUO_ORT_PATH", &runtime)
            .arg("eval")
            .arg(&midi)
            .args(["--prompt-bars", "4", "--bars", "4", "--seed", "1", "--json"])
            .args(["--generator", generator])
            .stdout(out))?;
    }
    run(Command::new("python3")
        .arg("models/eval_table.py")
        .arg(folder))?;
    println!("models/eval-continuation.json written; `models/.venv/bin/python models/card.py` puts the table in the model card");
    Ok(())
}

/// The cargo-fuzz targets: the engine's (untrusted MIDI files and token ids) and the plugin's
/// (a host's saved state), each in its own fuzz workspace, and where their reproducers go.
const FUZZ_TARGETS: [(&str, &str, &str); 3] = [
    (
        "plugin/engine/fuzz",
        "midi_import",
        "plugin/engine/tests/fuzz-regressions",
    ),
    (
        "plugin/engine/fuzz",
        "token_decode",
        "plugin/engine/tests/fuzz-regressions",
    ),
    (
        "plugin/fuzz",
        "session_state",
        "plugin/tests/fuzz-regressions",
    ),
];

fn fuzz(extra: &[String]) -> Result<()> {
    let seconds: u64 = extra.first().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut crashes = 0;
    for (dir, target, regressions) in FUZZ_TARGETS {
        let fuzz_dir = std::env::current_dir()?.join(dir);
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        if target == "midi_import" {
            std::fs::copy(EXAMPLE, corpus.join("ode-to-joy.mid"))?;
        }
        // Through rustup: cargo-fuzz needs the nightly toolchain (sanitizer coverage flags).
        let status = Command::new("rustup")
            .args(["run", "nightly", "cargo", "fuzz", "run", "-O", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(target)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .current_dir(&fuzz_dir)
            .status()?;
        let artifacts = fuzz_dir.join("artifacts").join(target);
        let regressions = PathBuf::from(regressions).join(target);
        for entry in std::fs::read_dir(&artifacts)
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("crash-")
                || name.starts_with("oom-")
                || name.starts_with("timeout-")
            {
                std::fs::copy(entry.path(), regressions.join(&name))?;
                println!("{target}: {name} copied to {}", regressions.display());
                crashes += 1;
            }
        }
        println!("{target}: {seconds} s, {status}");
        if !status.success() && crashes == 0 {
            return Err(std::io::Error::other(format!(
                "cargo fuzz failed for {target} without a crash input (is nightly Rust with cargo-fuzz installed?)"
            ))
            .into());
        }
    }
    if crashes > 0 {
        return Err(std::io::Error::other(format!(
            "{crashes} crash inputs found (now regression tests)"
        ))
        .into());
    }
    Ok(())
}

/// The real editor in nice-plug's standalone host, under Xvfb with a dummy JACK server: a
/// player plays eight bars into it, then four variations are asked for by clicking, as a
/// musician would, and the window is captured.
fn screenshot() -> Result<()> {
    let target = "target/standalone";
    run(cargo().args([
        "build",
        "--release",
        "--manifest-path",
        "plugin/standalone/Cargo.toml",
        "--target-dir",
        target,
    ]))?;
    let venv = python_venv(
        Path::new("target/pyvenv-screenshot"),
        "xtask/screenshot-requirements.txt",
    )?;
    let display = ":97";
    let mut children = Vec::new();
    let result = (|| -> Result<()> {
        let pause = |ms: u64| std::thread::sleep(std::time::Duration::from_millis(ms));
        children.push(
            Command::new("Xvfb")
                .args([display, "-screen", "0", "1024x700x24"])
                .spawn()?,
        );
        children.push(
            Command::new("jackd")
                .args(["-d", "dummy", "-r", "48000", "-p", "512"])
                .spawn()?,
        );
        pause(2000);
        children.push(
            Command::new(format!("{target}/release/continuo-standalone"))
                .args(["--backend", "jack"])
                .env("DISPLAY", display)
                .env("CONTINUO_ORT_PATH", fetch_runtime()?)
                .spawn()?,
        );
        pause(5000);
        run(Command::new(venv.join("bin/python"))
            .arg("xtask/screenshot_player.py")
            .arg("continuo:midi_input"))?;
        let xdotool = |args: &str| {
            run(Command::new("xdotool")
                .args(args.split_whitespace())
                .env("DISPLAY", display))
        };
        // Variations slider to 4, Loop, then Suggest (positions of the default 820 × 600 layout).
        xdotool("mousemove 450 405 mousedown 1 sleep 0.2 mousemove 480 405 sleep 0.2 mousemove 492 405 sleep 0.2 mouseup 1")?;
        xdotool("mousemove 521 18 click 1")?;
        xdotool("mousemove 68 18 click 1")?;
        pause(3000);
        xdotool("mousemove 1000 690")?;
        pause(2500);
        run(Command::new("import")
            .args([
                "-window",
                "root",
                "-crop",
                "820x600+0+0",
                "assets/editor.png",
            ])
            .env("DISPLAY", display))
    })();
    for mut child in children.into_iter().rev() {
        let _ = child.kill();
        let _ = child.wait();
    }
    result?;
    println!("assets/editor.png written");
    Ok(())
}

fn test(extra: &[String]) -> Result<()> {
    // Unit tests, the CLI, the CLAP host tests (which load the plugin binary built with the
    // allocation checker armed) and the benchmarks in test mode (each run once).
    let runtime = fetch_runtime()?;
    run(cargo()
        .args(["test", "--workspace", "--all-targets"])
        .args(extra)
        .env("CONTINUO_ORT_PATH", &runtime))?;
    // The engine's public API is documented: rustdoc with warnings as errors.
    run(cargo()
        .args(["doc", "-p", "continuo-engine", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    // The tokenizer and extraction tests of the model pipeline, in a small venv without torch.
    let venv = python_venv(
        Path::new("target/pyvenv-test"),
        "models/requirements-test.txt",
    )?;
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pytest", "-q", "tests/test_tokens.py"])
        .current_dir("models"))
}

/// Creates (once) a virtual environment with `requirements` installed; returns its folder.
fn python_venv(venv: &Path, requirements: &str) -> Result<PathBuf> {
    let venv = std::env::current_dir()?.join(venv);
    let stamp = venv.join(".installed");
    let wanted = std::fs::read_to_string(requirements)?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let created = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status();
    if !matches!(created, Ok(status) if status.success()) {
        return Err(std::io::Error::other(format!(
            "could not create a Python virtual environment with `{python} -m venv`: install Python 3 \
             with its venv module (on Debian: apt-get install python3 python3-venv)"
        ))
        .into());
    }
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "-q",
        "--upgrade",
        "pip",
    ]))?;
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "-q",
        "-r",
        requirements,
    ]))?;
    std::fs::write(stamp, wanted)?;
    Ok(venv)
}

fn train(extra: &[String]) -> Result<()> {
    let venv = python_venv(Path::new("models/.venv"), "models/requirements.txt")?;
    let python = venv.join("bin/python");
    run(Command::new(&python)
        .arg("extract.py")
        .current_dir("models"))?;
    run(Command::new(&python)
        .arg("train.py")
        .args(extra)
        .current_dir("models"))?;
    run(Command::new(&python)
        .arg("evaluate.py")
        .current_dir("models"))?;
    run(Command::new(&python).arg("export.py").current_dir("models"))
}

/// The stuck-note property test with 10,000 cases and the load test with 32 instances (a
/// smaller version of each runs in `cargo xtask test`).
fn stress() -> Result<()> {
    let runtime = fetch_runtime()?;
    run(cargo()
        .args(["test", "--release", "-p", "continuo-host-tests"])
        .args(["--test", "stuck_notes"])
        .env("PROPTEST_CASES", "10000"))?;
    run(cargo()
        .args(["test", "--release", "-p", "continuo-host-tests"])
        .args(["--test", "load", "--", "--nocapture"])
        .env("CONTINUO_INSTANCES", "32")
        .env("CONTINUO_ORT_PATH", &runtime))
}

fn test_models() -> Result<()> {
    let venv = python_venv(Path::new("models/.venv"), "models/requirements.txt")?;
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pytest", "-q", "tests"])
        .current_dir("models"))
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
