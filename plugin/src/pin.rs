//! Keeps the plugin's DLL loaded for the rest of the host's process on Windows.
//!
//! Rust's standard library for windows-gnu allocates thread-local storage slots when a DLL first
//! uses them and never frees them when the DLL unloads, and a process has only about a thousand.
//! A host that loads and unloads Continuo over and over (rescans, closing and reopening projects)
//! would run out after some 150–190 cycles ("out of TLS indexes"). Pinning the DLL when the first
//! instance is created makes every later load the same module, so the slots are taken once.
//! Elsewhere this does nothing.

/// Pins the module that contains this code (once per process; cheap afterwards).
#[cfg(windows)]
pub fn keep_loaded() {
    use std::sync::Once;
    use windows_sys::Win32::Foundation::HMODULE;
    use windows_sys::Win32::System::LibraryLoader::{
        GetModuleHandleExW, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_PIN,
    };

    static PINNED: Once = Once::new();
    PINNED.call_once(|| {
        let mut module: HMODULE = std::ptr::null_mut();
        // SAFETY: asks for the module containing this function and pins it; the handle needs
        // no release (a pinned module is never unloaded).
        unsafe {
            GetModuleHandleExW(
                GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                keep_loaded as *const () as *const u16,
                &mut module,
            );
        }
    });
}

/// Pins the module that contains this code (nothing to do off Windows).
#[cfg(not(windows))]
pub fn keep_loaded() {}
