//! Sessions and their channels.

use std::ptr::NonNull;

use super::{c_string, core, from_c, Status};
use crate::{c_lit, ffi};

/// A FreeSWITCH session the core handed us (to an application, an API command or a media bug).
/// It is only valid while the core keeps it alive: during that call, or while its media bug lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session(NonNull<ffi::switch_core_session_t>);

// SAFETY: FreeSWITCH sessions are shared between the session thread, media threads and API
// threads; the core functions used here lock what they touch.
unsafe impl Send for Session {}
unsafe impl Sync for Session {}

/// The read codec's rate and channel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFormat {
    pub rate: u32,
    pub channels: u32,
}

impl Session {
    /// `None` for NULL.
    pub(crate) fn from_raw(p: *mut ffi::switch_core_session_t) -> Option<Session> {
        NonNull::new(p).map(Session)
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::switch_core_session_t {
        self.0.as_ptr()
    }

    pub fn uuid(&self) -> String {
        // SAFETY: a live session; the UUID string lives as long as the session.
        unsafe { from_c((core().switch_core_session_get_uuid)(self.as_ptr())) }.unwrap_or_default()
    }

    pub fn channel(&self) -> Channel {
        // SAFETY: a live session always has a channel.
        let p = unsafe { (core().switch_core_session_get_channel)(self.as_ptr()) };
        Channel(NonNull::new(p).expect("a session without a channel"))
    }

    /// The rate and channel count of the audio the session reads (after decoding).
    pub fn read_format(&self) -> Option<ReadFormat> {
        let mut imp = ffi::switch_codec_implementation_t::default();
        // SAFETY: `imp` is a properly laid out implementation struct for the core to fill.
        let st = unsafe { (core().switch_core_session_get_read_impl)(self.as_ptr(), &mut imp) };
        if Status::from_raw(st).is_ok() && imp.actual_samples_per_second > 0 {
            Some(ReadFormat {
                rate: imp.actual_samples_per_second,
                channels: u32::from(imp.number_of_channels.max(1)),
            })
        } else {
            None
        }
    }

    /// Queues an application on the session's private event queue: it runs in the session's own
    /// thread the next time that thread parses its events (during playback, sleep, between
    /// dialplan applications).
    pub fn execute_async(&self, app: &str, arg: Option<&str>) -> Status {
        let app = c_string(app);
        let arg = arg.map(c_string);
        let arg_p = arg.as_ref().map_or(std::ptr::null(), |a| a.as_ptr());
        // SAFETY: valid strings for the duration of the call; the core copies them.
        Status::from_raw(unsafe {
            (core().switch_core_session_execute_application_async)(self.as_ptr(), app.as_ptr(), arg_p)
        })
    }

    /// Plays a file (a path, or one relative to the sound prefix) to the caller; blocks.
    pub fn play_file(&self, file: &str) -> Status {
        let file = c_string(file);
        // SAFETY: no file handle or input args: the core uses its defaults.
        Status::from_raw(unsafe {
            (core().switch_ivr_play_file)(self.as_ptr(), std::ptr::null_mut(), file.as_ptr(), std::ptr::null_mut())
        })
    }

    /// Reads (and discards) audio for `ms`, processing the session's events meanwhile; blocks.
    pub fn sleep(&self, ms: u32) -> Status {
        // SAFETY: no input args.
        Status::from_raw(unsafe {
            (core().switch_ivr_sleep)(self.as_ptr(), ms, ffi::SWITCH_FALSE, std::ptr::null_mut())
        })
    }

    /// Runs what is queued on the session's private event queue, in this (the session's) thread.
    pub fn parse_all_events(&self) -> Status {
        // SAFETY: called from the session's own thread.
        Status::from_raw(unsafe { (core().switch_ivr_parse_all_events)(self.as_ptr()) })
    }
}

/// A session found by UUID; holds the session's read lock until dropped.
pub struct LocatedSession(Session);

impl LocatedSession {
    pub fn find(uuid: &str) -> Option<LocatedSession> {
        let id = c_string(uuid);
        // SAFETY: a valid string; a non-NULL result is read-locked for us.
        let p = unsafe {
            (core().switch_core_session_perform_locate)(id.as_ptr(), c_lit!("mod_rust_amd"), c_lit!("locate"), 0)
        };
        Session::from_raw(p).map(LocatedSession)
    }

    pub fn session(&self) -> Session {
        self.0
    }
}

impl Drop for LocatedSession {
    fn drop(&mut self) {
        // SAFETY: releases the read lock taken by locate.
        unsafe { (core().switch_core_session_rwunlock)(self.0.as_ptr()) }
    }
}

/// A session's channel: its variables, flags and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel(NonNull<ffi::switch_channel_t>);

// SAFETY: channel functions lock the channel internally.
unsafe impl Send for Channel {}
unsafe impl Sync for Channel {}

impl Channel {
    pub(crate) fn as_ptr(&self) -> *mut ffi::switch_channel_t {
        self.0.as_ptr()
    }

    /// A channel variable (or a global one, as FreeSWITCH falls back to), copied.
    pub fn var(&self, name: &str) -> Option<String> {
        let n = c_string(name);
        // SAFETY: with dup the value is copied into the session's pool, alive as long as the session.
        unsafe { from_c((core().switch_channel_get_variable_dup)(self.as_ptr(), n.as_ptr(), ffi::SWITCH_TRUE, -1)) }
    }

    /// Sets a channel variable (as the dialplan's `set` would).
    pub fn set_var(&self, name: &str, value: &str) -> Status {
        let n = c_string(name);
        let v = c_string(value);
        // SAFETY: the core copies both strings.
        Status::from_raw(unsafe {
            (core().switch_channel_set_variable_var_check)(self.as_ptr(), n.as_ptr(), v.as_ptr(), ffi::SWITCH_TRUE)
        })
    }

    /// Up and not hung up, transferred or changing state.
    pub fn ready(&self) -> bool {
        // SAFETY: a live channel.
        unsafe { (core().switch_channel_test_ready)(self.as_ptr(), ffi::SWITCH_TRUE, ffi::SWITCH_FALSE) != 0 }
    }

    /// Asks whatever the session is doing (playback, sleep) to stop, as uuid_break does.
    pub fn raise_break(&self) {
        // SAFETY: a live channel.
        unsafe { (core().switch_channel_set_flag_value)(self.as_ptr(), ffi::CF_BREAK, 1) }
    }

    pub fn clear_break(&self) {
        // SAFETY: a live channel.
        unsafe { (core().switch_channel_clear_flag)(self.as_ptr(), ffi::CF_BREAK) }
    }
}
