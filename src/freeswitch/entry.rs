//! The module's entry points: the exported function table, load and shutdown, and the
//! registration of applications and API commands, each behind a trampoline that checks its
//! pointers and catches panics.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::log::{log, Level};
use super::{core, from_c, init_core, panic_text, Session, Status, Stream};
use crate::ffi;

/// A loadable module: its name, what load registers, what shutdown releases.
pub trait Module: 'static {
    const NAME: &'static CStr;
    /// Reads configuration and registers applications and API commands.
    fn load(reg: &mut Registrar) -> Result<(), String>;
    /// Releases everything load and the calls since took. False when something may still call
    /// into the library (a media bug it could not detach): FreeSWITCH then keeps it mapped.
    fn shutdown() -> bool;
}

/// A dialplan application.
pub trait App: 'static {
    const NAME: &'static CStr;
    const SHORT_DESC: &'static CStr;
    const LONG_DESC: &'static CStr;
    const SYNTAX: &'static CStr;
    /// Application flags (`ffi::SAF_*`).
    const FLAGS: u32 = 0;
    fn run(session: Session, data: &str);
}

/// An API command (fs_cli, `${name(args)}` in the dialplan, ESL `api`).
pub trait Api: 'static {
    const NAME: &'static CStr;
    const DESC: &'static CStr;
    const SYNTAX: &'static CStr;
    fn run(cmd: &str, session: Option<Session>, out: &mut Stream) -> Status;
}

/// `CStr` from a NUL-terminated literal, at compile time.
pub const fn cstr(bytes: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(bytes) {
        Ok(c) => c,
        Err(_) => panic!("not a NUL-terminated string without interior NULs"),
    }
}

/// The table FreeSWITCH looks up as `<module>_module_interface`.
pub const fn function_table<M: Module>() -> ffi::switch_loadable_module_function_table_t {
    ffi::switch_loadable_module_function_table_t {
        switch_api_version: ffi::SWITCH_API_VERSION as i32,
        load: Some(load_trampoline::<M>),
        shutdown: Some(shutdown_trampoline::<M>),
        runtime: None,
        flags: 0,
    }
}

/// Registers interfaces on the module interface that load creates.
pub struct Registrar {
    module: *mut ffi::switch_loadable_module_interface_t,
}

impl Registrar {
    pub fn add_app<A: App>(&mut self) -> Result<(), String> {
        // SAFETY: a live module interface; the core allocates the interface from the module's pool.
        let p = unsafe { (core().switch_loadable_module_create_interface)(self.module, ffi::SWITCH_APPLICATION_INTERFACE) }
            as *mut ffi::switch_application_interface_t;
        // SAFETY: NULL or a zeroed application interface for us to fill; static strings outlive it.
        let app = unsafe { p.as_mut() }.ok_or_else(|| format!("cannot create application {:?}", A::NAME))?;
        app.interface_name = A::NAME.as_ptr();
        app.application_function = Some(app_trampoline::<A>);
        app.short_desc = A::SHORT_DESC.as_ptr();
        app.long_desc = A::LONG_DESC.as_ptr();
        app.syntax = A::SYNTAX.as_ptr();
        app.flags = A::FLAGS;
        Ok(())
    }

    pub fn add_api<A: Api>(&mut self) -> Result<(), String> {
        // SAFETY: as for applications.
        let p = unsafe { (core().switch_loadable_module_create_interface)(self.module, ffi::SWITCH_API_INTERFACE) }
            as *mut ffi::switch_api_interface_t;
        // SAFETY: NULL or a zeroed API interface for us to fill.
        let api = unsafe { p.as_mut() }.ok_or_else(|| format!("cannot create API {:?}", A::NAME))?;
        api.interface_name = A::NAME.as_ptr();
        api.desc = A::DESC.as_ptr();
        api.function = Some(api_trampoline::<A>);
        api.syntax = A::SYNTAX.as_ptr();
        Ok(())
    }
}

extern "C" fn load_trampoline<M: Module>(
    module_interface: *mut *mut ffi::switch_loadable_module_interface_t,
    pool: *mut ffi::switch_memory_pool_t,
) -> ffi::switch_status_t {
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        if module_interface.is_null() || pool.is_null() {
            return Err("load called without a module interface pointer or pool".into());
        }
        init_core()?;
        // SAFETY: a live pool; the core copies nothing, the name is static.
        let mi = unsafe { (core().switch_loadable_module_create_module_interface)(pool, M::NAME.as_ptr()) };
        if mi.is_null() {
            return Err("cannot create the module interface".into());
        }
        // SAFETY: checked non-NULL above.
        unsafe { *module_interface = mi };
        M::load(&mut Registrar { module: mi })
    }));
    let err = match r {
        Ok(Ok(())) => return ffi::SWITCH_STATUS_SUCCESS,
        Ok(Err(e)) => e,
        Err(p) => format!("panic: {}", panic_text(&*p)),
    };
    log(Level::Crit, &format!("{} failed to load: {err}", M::NAME.to_string_lossy()));
    ffi::SWITCH_STATUS_GENERR
}

extern "C" fn shutdown_trampoline<M: Module>() -> ffi::switch_status_t {
    match catch_unwind(M::shutdown) {
        Ok(true) => ffi::SWITCH_STATUS_SUCCESS,
        Ok(false) => ffi::SWITCH_STATUS_NOUNLOAD,
        Err(p) => {
            // Half shut down: unmapping the code could pull it from under a callback.
            log(Level::Error, &format!("panic during shutdown: {}; the library stays loaded", panic_text(&*p)));
            ffi::SWITCH_STATUS_NOUNLOAD
        }
    }
}

extern "C" fn app_trampoline<A: App>(session: *mut ffi::switch_core_session_t, data: *const c_char) {
    let Some(session) = Session::from_raw(session) else {
        log(Level::Error, &format!("{} called without a session", A::NAME.to_string_lossy()));
        return;
    };
    // SAFETY: NULL or the application's NUL-terminated argument.
    let data = unsafe { from_c(data) }.unwrap_or_default();
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| A::run(session, &data))) {
        super::log::log_session(
            &session,
            Level::Error,
            &format!("{} failed: panic: {}", A::NAME.to_string_lossy(), panic_text(&*p)),
        );
    }
}

extern "C" fn api_trampoline<A: Api>(
    cmd: *const c_char,
    session: *mut ffi::switch_core_session_t,
    stream: *mut ffi::switch_stream_handle_t,
) -> ffi::switch_status_t {
    let Some(mut out) = Stream::from_raw(stream) else {
        log(Level::Error, &format!("{} called without an output stream", A::NAME.to_string_lossy()));
        return ffi::SWITCH_STATUS_FALSE;
    };
    // SAFETY: NULL or the command's NUL-terminated arguments.
    let cmd = unsafe { from_c(cmd) }.unwrap_or_default();
    let session = Session::from_raw(session);
    match catch_unwind(AssertUnwindSafe(|| A::run(&cmd, session, &mut out))) {
        Ok(st) => st.to_raw(),
        Err(p) => {
            let msg = format!("{} failed: panic: {}", A::NAME.to_string_lossy(), panic_text(&*p));
            log(Level::Error, &msg);
            out.write(&format!("-ERR {msg}\n"));
            ffi::SWITCH_STATUS_SUCCESS
        }
    }
}
