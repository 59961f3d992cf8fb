//! Windows only (run under Wine by `cargo xtask test-windows`): the plugin finds
//! `onnxruntime.dll` beside its own DLL, whatever the host's working directory, and nowhere else.
//! (Its own process, because ONNX Runtime is loaded once per process.)
#![cfg(windows)]

use std::path::{Path, PathBuf};

use continuo_host_tests::{ask_the_model, plugin_path, Daw};

/// The full path of the loaded module called `name`, if it is loaded.
fn loaded_module(name: &str) -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::System::LibraryLoader::{GetModuleFileNameW, GetModuleHandleW};

    let wide: Vec<u16> = name.encode_utf16().chain(Some(0)).collect();
    // SAFETY: a NUL-terminated name; the handle is not reference-counted.
    let module = unsafe { GetModuleHandleW(wide.as_ptr()) };
    if module.is_null() {
        return None;
    }
    let mut buffer = vec![0u16; 32_768];
    // SAFETY: the buffer is as long as the length passed.
    let length = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), buffer.len() as u32) };
    Some(PathBuf::from(std::ffi::OsString::from_wide(
        &buffer[..length as usize],
    )))
}

fn same_folder(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .to_string_lossy()
            .to_lowercase()
    };
    canonical(a) == canonical(b)
}

#[test]
fn the_runtime_beside_the_plugin_is_found_from_any_working_directory() {
    let runtime = PathBuf::from(
        std::env::var_os("CONTINUO_ORT_PATH").expect("cargo xtask test-windows sets it"),
    );
    let root = std::env::temp_dir().join(format!("continuo-windows-{}", std::process::id()));
    // Process ids come round again (under Wine, often): start from an empty folder.
    let _ = std::fs::remove_dir_all(&root);
    let (installed, elsewhere) = (root.join("CLAP"), root.join("project"));
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(plugin_path(), installed.join("Continuo.clap")).unwrap();
    std::fs::copy(&runtime, installed.join("onnxruntime.dll")).unwrap();
    // The only test in this binary, so no other thread reads the environment meanwhile: the
    // runtime can only be found beside the plugin, and the host works in another folder.
    std::env::set_var(
        "CONTINUO_ORT_PATH",
        root.join("nowhere").join("onnxruntime.dll"),
    );
    std::env::set_var("CONTINUO_CLAP", installed.join("Continuo.clap"));
    std::env::set_current_dir(&elsewhere).unwrap();

    let mut daw = Daw::new(512);
    ask_the_model(&mut daw);
    let loaded = loaded_module("onnxruntime.dll").expect("ONNX Runtime was loaded");
    assert!(
        same_folder(loaded.parent().unwrap(), &installed),
        "loaded from {}, not beside the plugin in {}",
        loaded.display(),
        installed.display()
    );
    drop(daw);
    let _ = std::env::set_current_dir(std::env::temp_dir());
}
