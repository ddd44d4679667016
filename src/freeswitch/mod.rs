//! A small safe layer over the raw bindings in [`crate::ffi`]: the module's logic (src/module/)
//! sees sessions, channels, streams, events and media bugs as Rust values and strings, never raw
//! pointers. C strings are converted here, once.
//!
//! Every entry point FreeSWITCH calls (module load and shutdown, applications, API commands, the
//! media bug callback) goes through a trampoline in this layer that checks its pointers, catches
//! any panic and turns it into a logged error and a sane return value.

pub mod entry;
pub mod event;
pub mod log;
pub mod media_bug;
pub mod pin;
pub mod session;
pub mod stream;
pub mod xml;

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::sync::OnceLock;

use crate::ffi;

pub use log::Level;
pub use session::{Channel, Session};
pub use stream::Stream;

static CORE: OnceLock<ffi::FsCore> = OnceLock::new();

/// Resolves the core's functions in the process's global symbol scope (where FreeSWITCH's own
/// symbols are). Fails with the name of the first missing function.
pub fn init_core() -> Result<(), String> {
    if CORE.get().is_some() {
        return Ok(());
    }
    let this = libloading::os::unix::Library::this();
    // SAFETY: the symbols are looked up by their FreeSWITCH names and given the declared types.
    let core = unsafe { ffi::FsCore::from_library(this) }
        .map_err(|e| format!("FreeSWITCH core function not found in this process: {e}"))?;
    let _ = CORE.set(core);
    Ok(())
}

/// The resolved core, if [`init_core`] succeeded.
pub(crate) fn try_core() -> Option<&'static ffi::FsCore> {
    CORE.get()
}

pub(crate) fn core() -> &'static ffi::FsCore {
    CORE.get().expect("FreeSWITCH core functions used before the module was loaded")
}

/// A C string from Rust text; interior NULs (which C cannot carry) become spaces.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NULs were replaced")
}

/// Rust text from a C string the core owns; `None` for NULL. Invalid UTF-8 is replaced.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string alive for the duration of the call.
pub(crate) unsafe fn from_c(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// A static C string literal.
#[macro_export]
macro_rules! c_lit {
    ($s:expr) => {
        concat!($s, "\0").as_ptr() as *const ::std::os::raw::c_char
    };
}

/// A status returned to FreeSWITCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    False,
    GenErr,
    Break,
    NotFound,
    /// Any other value the core returned.
    Other(u32),
}

impl Status {
    pub(crate) fn from_raw(v: ffi::switch_status_t) -> Status {
        #[allow(non_upper_case_globals)]
        match v {
            ffi::SWITCH_STATUS_SUCCESS => Status::Success,
            ffi::SWITCH_STATUS_FALSE => Status::False,
            ffi::SWITCH_STATUS_GENERR => Status::GenErr,
            ffi::SWITCH_STATUS_BREAK => Status::Break,
            ffi::SWITCH_STATUS_NOTFOUND => Status::NotFound,
            other => Status::Other(other),
        }
    }

    pub(crate) fn to_raw(self) -> ffi::switch_status_t {
        match self {
            Status::Success => ffi::SWITCH_STATUS_SUCCESS,
            Status::False => ffi::SWITCH_STATUS_FALSE,
            Status::GenErr => ffi::SWITCH_STATUS_GENERR,
            Status::Break => ffi::SWITCH_STATUS_BREAK,
            Status::NotFound => ffi::SWITCH_STATUS_NOTFOUND,
            Status::Other(v) => v,
        }
    }

    pub fn is_ok(self) -> bool {
        self == Status::Success
    }
}

/// The text of a caught panic's payload.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
