//! Where ONNX Runtime is found, and loading it once per process.
//!
//! The runtime is a shared library shipped with Continuo, never downloaded: on Linux
//! `libonnxruntime.so.1.31.1`, on Windows `onnxruntime.dll`. It is looked for, in order,
//! 1. beside the binary this code runs in (the plugin's own file, found from the plugin's address
//!    in memory, not from the DAW's working directory; or the CLI's executable),
//! 2. in `onnxruntime/` beside the binary's folder, where `cargo xtask` puts the runtime it fetched
//!    (`target/onnxruntime/` for a binary in `target/release/`), so a CLI built from source finds it,
//! 3. at `CONTINUO_ORT_PATH`.
//!
//! It is loaded by its full path, so another plugin's copy of the runtime in the same process is
//! never picked up by name. On Windows it is loaded so that the DLLs in its own folder are found
//! (`LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR`); it needs the Visual C++ runtime, which the user installs.
//! Before it initialises, its telemetry is switched off with its own opt-out.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::neural::Unavailable;

/// The file name of the ONNX Runtime library shipped with Continuo on this platform.
#[cfg(not(windows))]
pub const RUNTIME_FILE: &str = "libonnxruntime.so.1.31.1";
/// The file name of the ONNX Runtime library shipped with Continuo on this platform.
#[cfg(windows)]
pub const RUNTIME_FILE: &str = "onnxruntime.dll";

/// The environment variable with which ONNX Runtime 1.31's Linux and macOS builds skip their 1DS
/// telemetry entirely: no device id under `$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime`,
/// no offline event queue (`onnxruntime.db`), no uploader. It is read once, when the runtime's
/// first environment is created; `with_telemetry(false)` alone only mutes events after that.
/// (Windows builds use ETW, which records nothing without a listener and is muted by
/// `with_telemetry(false)`.)
pub const TELEMETRY_OPT_OUT: &str = "ORT_DISABLE_TELEMETRY";

/// The directory of the binary (plugin library or executable) this code is running from.
#[cfg(unix)]
pub fn own_directory() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;

    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let address = own_directory as *const () as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables for an address inside this binary.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let bytes = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_bytes();
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(bytes));
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    path.parent().map(Path::to_path_buf)
}

/// The directory of the binary (plugin DLL or executable) this code is running from.
#[cfg(windows)]
pub fn own_directory() -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::Foundation::HMODULE;
    use windows_sys::Win32::System::LibraryLoader::{
        GetModuleFileNameW, GetModuleHandleExW, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
        GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
    };

    let mut module: HMODULE = std::ptr::null_mut();
    // SAFETY: asks which loaded module contains this function's address; the handle is not
    // reference-counted, so nothing has to be released.
    let found = unsafe {
        GetModuleHandleExW(
            GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            own_directory as *const () as *const u16,
            &mut module,
        )
    };
    if found == 0 {
        return None;
    }
    let mut buffer = vec![0u16; 32_768];
    // SAFETY: the buffer is as long as the length passed.
    let length =
        unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), buffer.len() as u32) } as usize;
    if length == 0 || length >= buffer.len() {
        return None;
    }
    let path = PathBuf::from(std::ffi::OsString::from_wide(&buffer[..length]));
    path.parent().map(Path::to_path_buf)
}

/// Where ONNX Runtime is looked for, in order.
pub fn runtime_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(directory) = own_directory() {
        candidates.push(directory.join(RUNTIME_FILE));
        if let Some(parent) = directory.parent() {
            candidates.push(parent.join("onnxruntime").join(RUNTIME_FILE));
        }
    }
    if let Some(path) = std::env::var_os("CONTINUO_ORT_PATH") {
        candidates.push(PathBuf::from(path));
    }
    candidates
}

/// Makes sure ONNX Runtime's telemetry opt-out is set before the runtime initialises.
///
/// Continuo lives in someone else's process, so this is done as narrowly as possible: once per
/// process (inside the `OnceLock` that creates the environment), only when the variable is not
/// already set, on the thread that loads the model and before the runtime library is loaded. The
/// variable is one the runtime itself defines for this purpose; nothing else in the host's
/// environment is touched. (Changing the environment can race with another thread of the host
/// reading it at that very moment; that is the price of the only opt-out this runtime has, and
/// it is paid once, long before any audio runs.)
fn opt_out_of_runtime_telemetry() {
    if std::env::var_os(TELEMETRY_OPT_OUT).is_none() {
        std::env::set_var(TELEMETRY_OPT_OUT, "1");
    }
}

/// Loads the runtime DLL by its full path so that Windows looks for its dependencies in its own
/// folder first, then in the system's; ort's own load of the same path then finds it loaded.
/// The module stays loaded for the life of the process, as ort keeps it.
#[cfg(windows)]
fn preload(path: &Path) -> Result<(), Unavailable> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::System::LibraryLoader::{
        LoadLibraryExW, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR,
    };

    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let wide: Vec<u16> = absolute
        .as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect();
    // SAFETY: a NUL-terminated absolute path; the flags only widen where dependencies are found.
    let module = unsafe {
        LoadLibraryExW(
            wide.as_ptr(),
            std::ptr::null_mut(),
            LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS,
        )
    };
    if module.is_null() {
        let error = std::io::Error::last_os_error();
        return Err(Unavailable(format!(
            "ONNX Runtime at {} could not be loaded ({error}); it needs the Microsoft Visual C++ \
             Redistributable (x64), which Windows may be missing",
            absolute.display()
        )));
    }
    Ok(())
}

#[cfg(not(windows))]
fn preload(_path: &Path) -> Result<(), Unavailable> {
    Ok(())
}

/// The process's ONNX Runtime environment, created on first use.
pub(crate) fn environment() -> Result<&'static Environment, Unavailable> {
    static ENVIRONMENT: OnceLock<Result<Environment, Unavailable>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let candidates = runtime_candidates();
            let Some(path) = candidates.iter().find(|p| p.is_file()) else {
                let beside = own_directory().map_or_else(
                    || "beside the plugin".to_string(),
                    |d| format!("in {}", d.display()),
                );
                return Err(Unavailable(format!(
                    "ONNX Runtime ({RUNTIME_FILE}) was not found {beside}{}",
                    if std::env::var_os("CONTINUO_ORT_PATH").is_some() {
                        " nor at CONTINUO_ORT_PATH"
                    } else {
                        " and CONTINUO_ORT_PATH is not set"
                    }
                )));
            };
            opt_out_of_runtime_telemetry();
            preload(path)?;
            let builder = ort::init_from(path).map_err(|e| {
                Unavailable(format!(
                    "ONNX Runtime at {} could not be loaded: {e}",
                    path.display()
                ))
            })?;
            builder
                .with_name("continuo")
                .with_telemetry(false)
                .build()
                .map_err(|e| Unavailable(format!("ONNX Runtime could not start: {e}")))
        })
        .as_ref()
        .map_err(Clone::clone)
}
