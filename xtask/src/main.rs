//! `cargo xtask`: build, bundle, install, demo and test Continuo.
//!
//! - `cargo xtask demo`: bundles the plugin (CLAP + VST3) and runs the engine headless on the
//!   example melody in `assets/`, printing the continuation and writing it as a .mid file.
//! - `cargo xtask test`: runs every test of the workspace (what `.ci/run` calls), then the
//!   Windows build's tests under Wine (`--no-windows` leaves them out, and says so).
//! - `cargo xtask install`: bundles and copies the plugin into `~/.clap` and `~/.vst3`.
//! - `cargo xtask train [train.py options]`: creates `models/.venv` and runs corpus extraction,
//!   training (the shipped model's schedule, or one run with the options given), evaluation and
//!   ONNX export (each step caches or checkpoints, so a rerun resumes).
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
//! - `cargo xtask bundle-windows` (or `bundle continuo --release --target x86_64-pc-windows-gnu`):
//!   the Windows bundles, `onnxruntime.dll` and `continuo.exe` in `target/bundled-windows/`
//!   (needs `rustup target add x86_64-pc-windows-gnu` and Debian's `gcc-mingw-w64-x86-64`).
//! - `cargo xtask test-windows`: the Windows build of the engine, plugin and host tests, run
//!   under Wine (see `test_windows`).
//! - anything else goes to nice-plug-xtask.

mod daw_check;

use std::path::{Path, PathBuf};
use std::process::Command;

use nice_plug_xtask::Result;

const EXAMPLE: &str = "assets/ode-to-joy.mid";
/// ONNX Runtime comes from the PyPI wheel of this version (`onnxruntime/capi/` in the wheel).
const ORT_VERSION: &str = "1.31.1";
const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";
/// The Windows runtime's file name (in the win_amd64 wheel at `onnxruntime/capi/`).
const ORT_WINDOWS_LIBRARY: &str = "onnxruntime.dll";
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
        Some("test-windows") => test_windows(&args[1..]),
        Some("bundle-windows") => bundle(
            &[
                "bundle",
                "continuo",
                "--release",
                "--target",
                WINDOWS_TARGET,
            ]
            .map(String::from),
        ),
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

/// The Windows target Continuo is cross-built for from Linux (MinGW).
const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";
/// Where the Windows bundles, runtime and CLI are gathered (the Linux ones stay in target/bundled).
const WINDOWS_BUNDLES: &str = "target/bundled-windows";

/// nice-plug's bundler, then ONNX Runtime copied into the bundles: inside the VST3 bundle next
/// to the plugin binary, and beside the .clap file. With `--target x86_64-pc-windows-gnu` the
/// Windows bundles, `onnxruntime.dll` and `continuo.exe` go to `target/bundled-windows/`.
fn bundle(args: &[String]) -> Result<()> {
    let windows = args
        .windows(2)
        .any(|pair| pair[0] == "--target" && pair[1] == WINDOWS_TARGET)
        || args
            .iter()
            .any(|a| *a == format!("--target={WINDOWS_TARGET}"));
    if windows {
        return bundle_windows(args);
    }
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

/// The Windows bundles (cross-built with MinGW): nice-plug's bundler writes into target/bundled,
/// where its Continuo.clap would replace the Linux one, so the Windows files are moved to
/// target/bundled-windows/ (with onnxruntime.dll beside the .clap and inside the VST3 bundle, and
/// continuo.exe with its own copy) and the Linux .clap is put back.
fn bundle_windows(args: &[String]) -> Result<()> {
    let bundled = Path::new("target/bundled");
    let linux_clap = bundled.join("Continuo.clap");
    let kept = Path::new("target/bundled/.linux-Continuo.clap");
    if linux_clap.exists() {
        std::fs::rename(&linux_clap, kept)?;
    }
    let built = nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned());
    let out = Path::new(WINDOWS_BUNDLES);
    let moved = (|| -> Result<()> {
        built?;
        let _ = std::fs::remove_dir_all(out);
        let vst3 = out.join("Continuo.vst3/Contents/x86_64-win");
        std::fs::create_dir_all(&vst3)?;
        std::fs::rename(&linux_clap, out.join("Continuo.clap"))?;
        let windows_vst3 = bundled.join("Continuo.vst3/Contents/x86_64-win");
        for entry in std::fs::read_dir(&windows_vst3)? {
            let entry = entry?;
            std::fs::rename(entry.path(), vst3.join(entry.file_name()))?;
        }
        std::fs::remove_dir(&windows_vst3)?;
        let runtime = fetch_windows_runtime()?;
        std::fs::copy(&runtime, out.join(ORT_WINDOWS_LIBRARY))?;
        std::fs::copy(&runtime, vst3.join(ORT_WINDOWS_LIBRARY))?;
        run(cargo().args([
            "build",
            "--release",
            "-p",
            "continuo-cli",
            "--target",
            WINDOWS_TARGET,
        ]))?;
        let cli = out.join("cli");
        std::fs::create_dir_all(&cli)?;
        std::fs::copy(
            format!("target/{WINDOWS_TARGET}/release/continuo.exe"),
            cli.join("continuo.exe"),
        )?;
        std::fs::copy(&runtime, cli.join(ORT_WINDOWS_LIBRARY))?;
        Ok(())
    })();
    if kept.exists() {
        std::fs::rename(kept, &linux_clap)?;
    }
    // nice-plug's bundler also copies a Windows binary named like the package (the CLI, when it
    // was built): the CLI lives in bundled-windows/cli/.
    let _ = std::fs::remove_file(bundled.join("Continuo.exe"));
    moved?;
    for path in ["Continuo.clap", "Continuo.vst3", "cli/continuo.exe"] {
        println!(
            "{WINDOWS_BUNDLES}/{path}: {:.1} MB",
            size_of(&out.join(path)) as f64 / 1e6
        );
    }
    Ok(())
}

/// The Windows runtime, `onnxruntime.dll` from PyPI's win_amd64 wheel of the same version
/// (fetched once into target/onnxruntime/windows/). It needs the VC++ Redistributable, which
/// the wheel does not ship and this project may not redistribute.
fn fetch_windows_runtime() -> Result<PathBuf> {
    fetch_from_wheel(
        &Path::new(ORT_DIR).join("windows"),
        &["--platform", "win_amd64", "--python-version", "3.11"],
        "win_amd64.whl",
        ORT_WINDOWS_LIBRARY,
    )
}

/// Downloads the onnxruntime wheel from PyPI with pip (once) and extracts the shared library
/// into `target/onnxruntime/`. Returns its path.
fn fetch_runtime() -> Result<PathBuf> {
    fetch_from_wheel(Path::new(ORT_DIR), &[], ".whl", ORT_LIBRARY)
}

/// Downloads (once) the onnxruntime wheel whose name ends in `wheel_suffix` into `folder/wheel`
/// with pip (`platform` picks another platform's wheel), and extracts `onnxruntime/capi/LIBRARY`
/// into `folder`. Returns the library's path.
fn fetch_from_wheel(
    folder: &Path,
    platform: &[&str],
    wheel_suffix: &str,
    library_name: &str,
) -> Result<PathBuf> {
    let folder = std::env::current_dir()?.join(folder);
    let library = folder.join(library_name);
    if library.is_file() {
        return Ok(library);
    }
    let wheels = folder.join("wheel");
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
        .args(platform)
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
         wheel = sorted(glob.glob(sys.argv[1] + '/onnxruntime-{ORT_VERSION}-*{wheel_suffix}'))[0]\n\
         data = zipfile.ZipFile(wheel).read('onnxruntime/capi/{library_name}')\n\
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
    // `--no-windows` leaves out the Windows build's tests under Wine (said so at the end).
    let windows = !extra.iter().any(|a| a == "--no-windows");
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--no-windows").collect();
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
        .current_dir("models"))?;
    // The Windows build of the same tests, under Wine.
    if windows {
        test_windows(&[])
    } else {
        println!("cargo xtask test: the Windows tests were NOT run (--no-windows)");
        Ok(())
    }
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

/// The shipped model's training, as it was run: legs on one checkpoint, each resuming where the
/// one before stopped on a schedule of its own (a finished leg does nothing when rerun). The first
/// was interrupted at step 2,233 of a 2,400-step cosine schedule; the next two took the learning
/// rate back up (to 1.7e-4, then 1.1e-4) and down again while the validation loss kept falling,
/// the last stopped at step 4,400 of 4,800 (the learning rate within 17 % of its floor) to leave
/// time for measuring the model.
const SCHEDULE: &[&[&str]] = &[
    &["--steps", "2400", "--stop-at", "2233"],
    &["--steps", "3400", "--lr", "6e-4", "--register", "0.35"],
    &[
        "--steps",
        "4800",
        "--stop-at",
        "4400",
        "--lr",
        "4e-4",
        "--register",
        "0.35",
        "--eval-every",
        "200",
    ],
];

/// `cargo xtask train`: extraction, the shipped model's schedule (or one run of `train.py` with
/// `extra`), evaluation and export.
fn train(extra: &[String]) -> Result<()> {
    let venv = python_venv(Path::new("models/.venv"), "models/requirements.txt")?;
    let python = venv.join("bin/python");
    run(Command::new(&python)
        .arg("extract.py")
        .current_dir("models"))?;
    let legs: Vec<Vec<&str>> = if extra.is_empty() {
        SCHEDULE.iter().map(|leg| leg.to_vec()).collect()
    } else {
        vec![extra.iter().map(String::as_str).collect()]
    };
    for leg in legs {
        run(Command::new(&python)
            .arg("train.py")
            .args(leg)
            .current_dir("models"))?;
    }
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

/// Whether `program --version` runs.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Windows build's tests under Wine: the engine's unit and fuzz-regression tests, the CLI tests, the
/// plugin's unit tests, and the CLAP host tests (the plugin DLL loaded by the Windows test host,
/// the fallback and corrupt-input tests, the load test and the stuck-note property test, which
/// loads and unloads the DLL for every case). Installs MinGW and Wine from Debian when run as
/// root, else says what is missing. The Wine-only shims in `xtask/wine-shims/` are built from
/// source here; they are test infrastructure and never ship.
fn test_windows(extra: &[String]) -> Result<()> {
    run(Command::new("rustup").args(["target", "add", WINDOWS_TARGET]))?;
    if !installed("x86_64-w64-mingw32-gcc") || !installed("wine") {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !root {
            return Err(std::io::Error::other(
                "cargo xtask test-windows needs Debian's gcc-mingw-w64-x86-64 and wine64: \
                 apt-get install gcc-mingw-w64-x86-64 wine64 (as root)",
            )
            .into());
        }
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "gcc-mingw-w64-x86-64",
                "wine64",
                "gcc",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let root = std::env::current_dir()?;
    let shims = root.join("target/wine-shims");
    std::fs::create_dir_all(&shims)?;
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(shims.join("bcryptprimitives.dll"))
        .arg("xtask/wine-shims/bcryptprimitives.c")
        .arg("xtask/wine-shims/bcryptprimitives.def")
        .arg("-ladvapi32"))?;
    run(Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(shims.join("amx_permission.so"))
        .arg("xtask/wine-shims/amx_permission.c"))?;
    // A stand-in for onnxruntime.dll whose own dependency is missing (no VC++ Redistributable).
    run(Command::new("x86_64-w64-mingw32-dlltool")
        .args(["-d", "xtask/wine-shims/missing_dependency.def", "-l"])
        .arg(shims.join("libabsent.a")))?;
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(shims.join("missing_dependency.dll"))
        .arg("xtask/wine-shims/missing_dependency.c")
        .arg(shims.join("libabsent.a")))?;
    let runtime = fetch_windows_runtime()?;
    // Where a CLI built from source looks for the runtime the xtask fetched (../onnxruntime/).
    let beside_builds = root.join(format!("target/{WINDOWS_TARGET}/onnxruntime"));
    std::fs::create_dir_all(&beside_builds)?;
    std::fs::copy(&runtime, beside_builds.join(ORT_WINDOWS_LIBRARY))?;
    let packages = [
        "continuo-engine",
        "continuo",
        "continuo-cli",
        "continuo-host-tests",
    ];
    let mut build = cargo();
    build.args(["test", "--no-run", "--target", WINDOWS_TARGET]);
    for package in packages {
        build.args(["-p", package]);
    }
    run(&mut build)?;
    // Wine 8.0 lacks bcryptprimitives.dll: the stand-in goes where the test executables are.
    for folder in ["debug/deps", "debug"] {
        std::fs::copy(
            shims.join("bcryptprimitives.dll"),
            root.join(format!(
                "target/{WINDOWS_TARGET}/{folder}/bcryptprimitives.dll"
            )),
        )?;
    }
    let started = std::time::Instant::now();
    let mut test = cargo();
    test.args(["test", "--no-fail-fast", "--target", WINDOWS_TARGET]);
    for package in packages {
        test.args(["-p", package]);
    }
    run(test
        .args(extra)
        .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", "wine")
        .env("WINEPREFIX", root.join("target/wine-prefix"))
        .env("WINEDEBUG", "-all")
        .env("LD_PRELOAD", shims.join("amx_permission.so"))
        .env("CONTINUO_ORT_PATH", windows_path(&runtime))
        .env(
            "CONTINUO_TEST_MISSING_DEPENDENCY_DLL",
            windows_path(&shims.join("missing_dependency.dll")),
        ))?;
    println!(
        "test-windows: the Windows tests passed under Wine in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A Linux path as Wine's programs see it (drive Z: is the Linux root).
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}
