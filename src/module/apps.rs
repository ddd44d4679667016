//! The dialplan applications: voice_start, voice_stop, waitforresult.

use super::detection::{self, DataPolicy, StartError};
use super::call::report_error_result;
use super::registry;
use crate::freeswitch::entry::{cstr, App};
use crate::freeswitch::log::{log_session, Level};
use crate::freeswitch::{Session, Status};

pub struct VoiceStart;

impl App for VoiceStart {
    const NAME: &'static std::ffi::CStr = cstr(b"voice_start\0");
    const SHORT_DESC: &'static std::ffi::CStr = cstr(b"Start answering machine detection\0");
    const LONG_DESC: &'static std::ffi::CStr = cstr(
        b"Starts answering machine detection on the channel's read audio and returns at once. \
The optional data (k=v,k=v; mod_com_amd's or Asterisk app_amd's names) overrides amd.conf.xml for \
this call. The result lands in amd_status, amd_result, amd_result_ms and amd_cause (app_amd's form), \
and runs amd_execute_on_machine/person/unsure.\0",
    );
    const SYNTAX: &'static std::ffi::CStr = cstr(b"[silent_threshold=256,total_analysis_time=5000,debug=1,...]\0");

    fn run(session: Session, data: &str) {
        let uuid = session.uuid();
        match detection::start(&session, data, DataPolicy::SkipBad) {
            Ok(()) => {}
            // The detection already running gives the result.
            Err(StartError::AlreadyRunning) => {
                log_session(&session, Level::Warning, &format!("[{uuid}] voice_start: {}; ignored", StartError::AlreadyRunning));
            }
            // No detection, but the call must still get a result: otherwise a dialplan that
            // branches on amd_status, or relies on amd_execute_on_*, is left with nothing.
            Err(e) => {
                log_session(&session, Level::Error, &format!("[{uuid}] voice_start: {e}"));
                report_error_result(&session, &uuid, Level::Info, "detection could not start", &e.to_string());
                // Run the queued unsure action (e.g. a transfer) now, as waitforresult would.
                session.parse_all_events();
            }
        }
    }
}

pub struct VoiceStop;

impl App for VoiceStop {
    const NAME: &'static std::ffi::CStr = cstr(b"voice_stop\0");
    const SHORT_DESC: &'static std::ffi::CStr = cstr(b"Stop answering machine detection\0");
    const LONG_DESC: &'static std::ffi::CStr =
        cstr(b"Stops answering machine detection on the channel (no result if none was reached) and frees its slot.\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"\0");
    const FLAGS: u32 = crate::ffi::SAF_SUPPORT_NOMEDIA;

    fn run(session: Session, _data: &str) {
        if !detection::stop(&session) {
            log_session(&session, Level::Debug, &format!("[{}] voice_stop: no AMD running on this channel", session.uuid()));
        }
    }
}

pub struct WaitForResult;

/// How long one wait lasts without a file; a decision breaks it early.
const WAIT_SLICE_MS: u32 = 100;

impl App for WaitForResult {
    const NAME: &'static std::ffi::CStr = cstr(b"waitforresult\0");
    const SHORT_DESC: &'static std::ffi::CStr = cstr(b"Wait for the answering machine detection result\0");
    const LONG_DESC: &'static std::ffi::CStr = cstr(
        b"Blocks until voice_start's detection has a result (or the call ends), playing the file \
meanwhile (looped); with detect_message_end on a machine, until the end of its greeting (after \
the beep). Returns at once when detection is over already or none is running. With \
detect_late_machine, listening for a late machine goes on after it returns.\0",
    );
    const SYNTAX: &'static std::ffi::CStr = cstr(b"[<file to play while waiting>]\0");

    fn run(session: Session, data: &str) {
        let uuid = session.uuid();
        let Some(call) = registry::get(&uuid) else {
            log_session(&session, Level::Debug, &format!("[{uuid}] waitforresult: no AMD running on this channel"));
            return;
        };
        let channel = session.channel();
        let mut file = Some(data.trim()).filter(|f| !f.is_empty()).map(str::to_string);
        call.set_waiting(true);
        while !call.settled() && !call.ended() && channel.ready() {
            match &file {
                Some(f) => {
                    let frames_before = call.frames_taken();
                    let st = session.play_file(f);
                    if !matches!(st, Status::Success | Status::Break) && channel.ready() {
                        log_session(&session, Level::Warning, &format!("[{uuid}] waitforresult: cannot play {f} ({st:?}); waiting in silence"));
                        file = None;
                    } else if st == Status::Success && call.frames_taken() == frames_before {
                        // The core returns at once from a file with no audio (a bare header),
                        // before reading a frame: looping it would spin this thread while no
                        // audio reaches the detector.
                        log_session(&session, Level::Warning, &format!("[{uuid}] waitforresult: {f} has no audio; waiting in silence"));
                        file = None;
                    }
                }
                None => {
                    session.sleep(WAIT_SLICE_MS);
                }
            }
        }
        call.set_waiting(false);
        if call.take_break_raised() {
            channel.clear_break();
        }
        // Run the queued action (e.g. a transfer) now, in this thread.
        session.parse_all_events();
        if call.debug() {
            log_session(&session, Level::Info, &format!("[{uuid}] waitforresult: done"));
        }
    }
}
