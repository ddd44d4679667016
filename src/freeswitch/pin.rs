//! Keeps this library mapped for the life of the process.
//!
//! `unload` and `reload` end with FreeSWITCH dlclose()-ing the module once its shutdown returns
//! (it refuses only while one of the module's applications is running, such as waitforresult).
//! Media bugs that voice_start attached still point at callbacks in this library; rather than
//! cut every running detection short at each `reload`, the module pins itself: dlopen with
//! RTLD_NODELETE marks the already-loaded library as never to be unmapped. The load after a
//! reload then gets this same copy back, statics and running calls included, and only reads the
//! configuration again. (A rebuilt .so therefore takes effect at the next FreeSWITCH start.)

use std::ffi::CStr;

/// Pins the library holding this function; `Err` says why it could not.
pub fn pin_this_library() -> Result<(), String> {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    let here = pin_this_library as *const () as *const libc::c_void;
    // SAFETY: dladdr fills `info` for an address inside a loaded object.
    if unsafe { libc::dladdr(here, &mut info) } == 0 || info.dli_fname.is_null() {
        return Err("dladdr found no library holding the module's code".into());
    }
    // SAFETY: dladdr's file name is NUL-terminated and lives as long as the library does.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    // RTLD_NOLOAD: only find the copy already loaded, never load a second one.
    // SAFETY: a plain dlopen by name; the handle is kept for ever on purpose (never dlclose'd).
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE) };
    if handle.is_null() {
        return Err(format!("dlopen(RTLD_NODELETE) of {} failed", name.to_string_lossy()));
    }
    Ok(())
}
