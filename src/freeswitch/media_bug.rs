//! A media bug on a session's read audio, delivered to a Rust handler.
//!
//! The bug is a read stream (SMBF_READ_STREAM): on every frame the session reads, the core copies
//! the decoded audio into the bug's buffer and calls us with SWITCH_ABC_TYPE_READ; we take it
//! back out with `switch_core_media_bug_read`. The core runs every READ_REPLACE bug on a frame
//! before any READ_STREAM bug, so the detector hears the audio as the session ends up with it,
//! after whatever those bugs did to it (uuid_displace mixing in a file, for instance), whatever
//! order the bugs were attached in. A READ_REPLACE bug of our own would hear the frame before any
//! READ_REPLACE bug attached after it.

use std::borrow::Cow;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::log::{log, Level};
use super::{c_string, core, panic_text, Session, Status};
use crate::ffi;

/// What a media bug calls. Runs in whichever thread reads the session's audio (the session's
/// own thread during playback or sleep, a bridge's thread...): keep it short and never block.
pub trait BugHandler: Send + Sync + 'static {
    /// One frame of decoded read audio. Return `false` to have the bug detached.
    fn on_frame(&self, session: Session, frame: &AudioFrame<'_>) -> bool;
    /// The bug is gone: detached by us, by the core at hangup, or after `on_frame` said so.
    /// Called once; the handler is dropped right after.
    fn on_close(&self, session: Option<Session>);
}

/// Decoded 16-bit PCM, interleaved when `channels` > 1.
pub struct AudioFrame<'a> {
    pub pcm: Cow<'a, [i16]>,
    pub channels: u32,
    /// The frame's own rate field (for G.722 this is the RTP clock, not the audio rate: prefer
    /// [`Session::read_format`]).
    pub rate: u32,
}

/// Attaches `handler` to the session's read audio. On failure the handler is dropped unused.
pub fn attach<H: BugHandler>(session: &Session, function: &str, handler: Arc<H>) -> Result<(), Status> {
    let name = c_string(function);
    let user = Arc::into_raw(handler) as *mut c_void;
    let mut bug: *mut ffi::switch_media_bug_t = std::ptr::null_mut();
    // SAFETY: `user` stays valid until the CLOSE callback takes it back; the core copies `name`.
    let st = unsafe {
        (core().switch_core_media_bug_add)(
            session.as_ptr(),
            name.as_ptr(),
            std::ptr::null(),
            Some(trampoline::<H>),
            user,
            0,
            ffi::SMBF_READ_STREAM as ffi::switch_media_bug_flag_t,
            &mut bug,
        )
    };
    let st = Status::from_raw(st);
    if st.is_ok() {
        Ok(())
    } else {
        // The core never called CLOSE for a bug it did not add: the reference is still ours.
        // SAFETY: made by Arc::into_raw above and not handed out.
        drop(unsafe { Arc::from_raw(user as *const H) });
        Err(st)
    }
}

/// Detaches every bug of handler type `H` from the session (its `on_close` runs before this
/// returns). Safe to call when there is none.
pub fn detach<H: BugHandler>(session: &Session) -> bool {
    // SAFETY: removal by callback identity; the core never touches a bug that is already gone.
    let st = unsafe { (core().switch_core_media_bug_remove_callback)(session.as_ptr(), Some(trampoline::<H>)) };
    Status::from_raw(st).is_ok()
}

extern "C" fn trampoline<H: BugHandler>(
    bug: *mut ffi::switch_media_bug_t,
    user_data: *mut c_void,
    abc_type: ffi::switch_abc_type_t,
) -> ffi::switch_bool_t {
    if user_data.is_null() {
        log(Level::Error, "media bug callback without its handler: detaching");
        return ffi::SWITCH_FALSE;
    }
    let session = if bug.is_null() {
        None
    } else {
        // SAFETY: a live bug handed to its own callback.
        Session::from_raw(unsafe { (core().switch_core_media_bug_get_session)(bug) })
    };
    #[allow(non_upper_case_globals)]
    match abc_type {
        ffi::SWITCH_ABC_TYPE_CLOSE => {
            // SAFETY: the reference made in `attach`; CLOSE comes once, last.
            let handler = unsafe { Arc::from_raw(user_data as *const H) };
            let r = catch_unwind(AssertUnwindSafe(|| {
                handler.on_close(session);
                drop(handler);
            }));
            if let Err(p) = r {
                log(Level::Error, &format!("panic while closing a media bug: {}", panic_text(&*p)));
            }
            ffi::SWITCH_TRUE
        }
        ffi::SWITCH_ABC_TYPE_READ => {
            let Some(session) = session else {
                return ffi::SWITCH_FALSE;
            };
            // SAFETY: the handler lives until CLOSE.
            let handler = unsafe { &*(user_data as *const H) };
            let r = catch_unwind(AssertUnwindSafe(|| drain(bug, session, handler)));
            match r {
                Ok(true) => ffi::SWITCH_TRUE,
                Ok(false) => ffi::SWITCH_FALSE,
                Err(p) => {
                    log(Level::Error, &format!("panic in the media bug: {}: detaching it", panic_text(&*p)));
                    ffi::SWITCH_FALSE
                }
            }
        }
        _ => ffi::SWITCH_TRUE,
    }
}

/// At most this many packets are taken out of the bug's buffer per callback: the core adds one
/// frame's audio before each call, so one is the usual case; the rest only catches up.
const MAX_PACKETS_PER_CALLBACK: usize = 4;

/// Hands the audio buffered in the bug to the handler, one packet at a time. `false` when the
/// handler asks to be detached.
fn drain<H: BugHandler>(bug: *mut ffi::switch_media_bug_t, session: Session, handler: &H) -> bool {
    if bug.is_null() {
        return true;
    }
    // The core refuses a packet larger than the buffer we lend it, and the recommended 8 KiB is
    // less than 48 kHz stereo at 60 ms or more: three times it holds 120 ms of that.
    const BUF_BYTES: usize = 3 * ffi::SWITCH_RECOMMENDED_BUFFER_SIZE as usize;
    // i16 storage keeps the samples aligned for a borrowed slice.
    let mut buf = [0i16; BUF_BYTES / 2];
    for _ in 0..MAX_PACKETS_PER_CALLBACK {
        let mut frame = ffi::switch_frame_t {
            data: buf.as_mut_ptr() as *mut c_void,
            buflen: BUF_BYTES as u32,
            ..Default::default()
        };
        // `fill` set: without it the core answers an empty buffer with SUCCESS and a packet of
        // filler bytes (0xff) instead of saying there is nothing; with it, any status but
        // SUCCESS means less than one packet is buffered.
        // SAFETY: a live bug in its READ callback; `frame.data` holds `buflen` writable bytes.
        let st = unsafe { (core().switch_core_media_bug_read)(bug, &mut frame, ffi::SWITCH_TRUE) };
        if !Status::from_raw(st).is_ok() || frame.datalen == 0 {
            break;
        }
        frame.datalen = frame.datalen.min(BUF_BYTES as u32);
        // SAFETY: `data` is our buffer, `datalen` clamped to its size.
        let Some(f) = (unsafe { read_frame(&mut frame) }) else { break };
        if !handler.on_frame(session, &f) {
            return false;
        }
    }
    true
}

/// # Safety
/// `frame` is NULL or a live frame whose `data` holds `datalen` bytes.
unsafe fn read_frame<'a>(frame: *mut ffi::switch_frame_t) -> Option<AudioFrame<'a>> {
    let f = frame.as_ref()?;
    if f.data.is_null() || f.datalen < 2 {
        return None;
    }
    let n = (f.datalen / 2) as usize;
    let pcm = if (f.data as usize).is_multiple_of(std::mem::align_of::<i16>()) {
        Cow::Borrowed(std::slice::from_raw_parts(f.data as *const i16, n))
    } else {
        let bytes = std::slice::from_raw_parts(f.data as *const u8, n * 2);
        Cow::Owned(bytes.chunks_exact(2).map(|b| i16::from_ne_bytes([b[0], b[1]])).collect())
    };
    Some(AudioFrame { pcm, channels: f.channels.max(1), rate: f.rate })
}
