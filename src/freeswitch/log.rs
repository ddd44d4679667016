//! switch_log_printf, always with a "%s" format and one string.

use std::os::raw::c_char;

use super::{c_string, try_core, Session};
use crate::{c_lit, ffi};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Crit,
    Console,
}

impl Level {
    fn raw(self) -> ffi::switch_log_level_t {
        match self {
            Level::Debug => ffi::SWITCH_LOG_DEBUG,
            Level::Info => ffi::SWITCH_LOG_INFO,
            Level::Notice => ffi::SWITCH_LOG_NOTICE,
            Level::Warning => ffi::SWITCH_LOG_WARNING,
            Level::Error => ffi::SWITCH_LOG_ERROR,
            Level::Crit => ffi::SWITCH_LOG_CRIT,
            Level::Console => ffi::SWITCH_LOG_CONSOLE,
        }
    }
}

fn emit(
    channel: ffi::switch_text_channel_t,
    userdata: *const c_char,
    level: Level,
    msg: &str,
    at: &std::panic::Location<'_>,
) {
    let mut text = msg.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match try_core() {
        Some(core) => {
            let text = c_string(&text);
            let file = c_string(at.file());
            // SAFETY: every pointer is a valid NUL-terminated string (or NULL userdata) for the
            // duration of the call; the format consumes exactly one string argument.
            unsafe {
                (core.switch_log_printf)(
                    channel,
                    file.as_ptr(),
                    c_lit!("mod_rust_amd"),
                    at.line() as std::os::raw::c_int,
                    userdata,
                    level.raw(),
                    c_lit!("%s"),
                    text.as_ptr(),
                )
            }
        }
        None => eprint!("mod_rust_amd: {text}"),
    }
}

/// A module-wide log line.
#[track_caller]
pub fn log(level: Level, msg: &str) {
    emit(ffi::SWITCH_CHANNEL_ID_LOG, std::ptr::null(), level, msg, std::panic::Location::caller());
}

/// A log line tagged with a session (FreeSWITCH shows the call's UUID with it).
#[track_caller]
pub fn log_session(session: &Session, level: Level, msg: &str) {
    let at = std::panic::Location::caller();
    emit(ffi::SWITCH_CHANNEL_ID_SESSION, session.as_ptr() as *const c_char, level, msg, at);
}
