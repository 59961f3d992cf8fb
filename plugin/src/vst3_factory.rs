//! Continuo's VST3 entry points: nice-plug's factory, declaring the VST3 SDK generation whose
//! interfaces the wrapper implements.
//!
//! nice-plug's `nice_export_vst3!` labels every class "VST 3.6.14". Hosts and Steinberg's
//! validator read that label as "older than 3.7" and then ignore `IProcessContextRequirements`,
//! which nice-plug's wrapper does implement (tempo, time signature, musical position, bar
//! position, cycle and transport state: what Continuo's clock needs). This factory is nice-plug's
//! with one difference: its classes say "VST 3.7.0", the first SDK with that interface. Everything
//! else (class info, instance creation, module entry points) is what the macro generates.

use std::ffi::c_void;

use nice_plug::wrapper::vst3::vst3::Steinberg::{
    int32, kInvalidArgument, kResultOk, tresult, FIDString, FUnknown, IPluginFactory,
    IPluginFactory2, IPluginFactory2Trait, IPluginFactory3, IPluginFactory3Trait,
    IPluginFactoryTrait, PClassInfo, PClassInfo2, PClassInfoW, PFactoryInfo, TUID,
};
use nice_plug::wrapper::vst3::vst3::{Class, ComWrapper};
use nice_plug::wrapper::vst3::{PluginInfo, Wrapper};

use crate::Continuo;

/// The SDK generation Continuo's VST3 classes declare.
pub const VST3_SDK_VERSION: &str = "VST 3.7.0";

/// Copies `text` into a fixed, NUL-terminated C string field.
fn copy_c_string(field: &mut [std::ffi::c_char], text: &str) {
    field.fill(0);
    let room = field.len() - 1;
    for (slot, byte) in field.iter_mut().zip(text.bytes().take(room)) {
        *slot = byte as std::ffi::c_char;
    }
}

/// Copies `text` into a fixed, NUL-terminated UTF-16 field.
fn copy_utf16(field: &mut [u16], text: &str) {
    field.fill(0);
    let room = field.len() - 1;
    for (slot, unit) in field.iter_mut().zip(text.encode_utf16().take(room)) {
        *slot = unit;
    }
}

/// The VST3 plugin factory: one class, Continuo.
pub struct Factory {
    /// What the host is told about Continuo (name, vendor, class id, categories).
    info: PluginInfo,
}

impl Class for Factory {
    type Interfaces = (IPluginFactory, IPluginFactory2, IPluginFactory3);
}

impl Factory {
    fn new() -> Self {
        Factory {
            info: PluginInfo::for_plugin::<Continuo>(),
        }
    }
}

impl IPluginFactoryTrait for Factory {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        if info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_factory_info() };
        kResultOk
    }

    unsafe fn countClasses(&self) -> int32 {
        1
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info() };
        kResultOk
    }

    unsafe fn createInstance(
        &self,
        cid: FIDString,
        iid: FIDString,
        obj: *mut *mut c_void,
    ) -> tresult {
        if cid.is_null() || obj.is_null() {
            return kInvalidArgument;
        }
        unsafe {
            if &*(cid as *const [u8; 16]) != self.info.cid {
                return kInvalidArgument;
            }
            let wrapper = ComWrapper::new(Wrapper::<Continuo>::new());
            let Some(unknown) = wrapper.as_com_ref::<FUnknown>() else {
                return kInvalidArgument;
            };
            let ptr = unknown.as_ptr();
            ((*(*ptr).vtbl).queryInterface)(ptr, iid as *const TUID, obj)
        }
    }
}

impl IPluginFactory2Trait for Factory {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        let mut class = self.info.create_class_info_2();
        copy_c_string(&mut class.sdkVersion, VST3_SDK_VERSION);
        unsafe { *info = class };
        kResultOk
    }
}

impl IPluginFactory3Trait for Factory {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        let mut class = self.info.create_class_info_unicode();
        copy_utf16(&mut class.sdkVersion, VST3_SDK_VERSION);
        unsafe { *info = class };
        kResultOk
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        kResultOk
    }
}

/// The VST3 plugin factory entry point.
#[unsafe(no_mangle)]
pub extern "system" fn GetPluginFactory() -> *mut c_void {
    crate::pin::keep_loaded();
    match ComWrapper::new(Factory::new()).to_com_ptr::<IPluginFactory>() {
        Some(factory) => factory.into_raw() as *mut c_void,
        None => std::ptr::null_mut(),
    }
}

/// Called by Linux hosts when they load the module (the VST3 SDK's `linuxmain.cpp`).
#[unsafe(no_mangle)]
#[cfg(all(target_family = "unix", not(target_os = "macos")))]
pub extern "C" fn ModuleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<Continuo>();
    true
}

/// Called by Linux hosts before they unload the module.
#[unsafe(no_mangle)]
#[cfg(all(target_family = "unix", not(target_os = "macos")))]
pub extern "C" fn ModuleExit() -> bool {
    true
}

/// Called by macOS hosts when they load the bundle (the VST3 SDK's `macmain.cpp`).
#[unsafe(no_mangle)]
#[cfg(target_os = "macos")]
pub extern "C" fn bundleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<Continuo>();
    true
}

/// Called by macOS hosts before they unload the bundle.
#[unsafe(no_mangle)]
#[cfg(target_os = "macos")]
pub extern "C" fn bundleExit() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::wrapper::vst3::vst3::ComPtr;

    fn factory() -> ComPtr<IPluginFactory> {
        unsafe { ComPtr::from_raw(GetPluginFactory() as *mut IPluginFactory) }.expect("a factory")
    }

    #[test]
    fn one_class_that_declares_the_sdk_of_process_context_requirements() {
        let factory = factory();
        assert_eq!(unsafe { factory.countClasses() }, 1);
        let second = factory.cast::<IPluginFactory2>().expect("IPluginFactory2");
        let mut info: PClassInfo2 = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { second.getClassInfo2(0, &mut info) }, kResultOk);
        let version: Vec<u8> = info
            .sdkVersion
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        assert_eq!(version, VST3_SDK_VERSION.as_bytes());
        let name: Vec<u8> = info
            .name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        assert_eq!(name, b"Continuo");
        assert_eq!(
            unsafe { second.getClassInfo2(1, &mut info) },
            kInvalidArgument
        );

        let third = factory.cast::<IPluginFactory3>().expect("IPluginFactory3");
        let mut wide: PClassInfoW = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { third.getClassInfoUnicode(0, &mut wide) },
            kResultOk
        );
        let version = String::from_utf16_lossy(
            &wide
                .sdkVersion
                .iter()
                .copied()
                .take_while(|c| *c != 0)
                .collect::<Vec<_>>(),
        );
        assert_eq!(version, VST3_SDK_VERSION);
    }

    #[test]
    fn an_unknown_class_id_creates_nothing() {
        let factory = factory();
        let mut object: *mut c_void = std::ptr::null_mut();
        let cid = [0u8; 16];
        let result = unsafe {
            factory.createInstance(
                cid.as_ptr() as FIDString,
                cid.as_ptr() as FIDString,
                &mut object,
            )
        };
        assert_eq!(result, kInvalidArgument);
        assert!(object.is_null());
    }
}
