//! The output stream of an API command.

use std::ptr::NonNull;

use super::{c_string, Status};
use crate::{c_lit, ffi};

pub struct Stream(NonNull<ffi::switch_stream_handle_t>);

impl Stream {
    pub(crate) fn from_raw(p: *mut ffi::switch_stream_handle_t) -> Option<Stream> {
        NonNull::new(p).map(Stream)
    }

    /// Appends text to the command's output.
    pub fn write(&mut self, text: &str) -> Status {
        let h = self.0.as_ptr();
        // SAFETY: the core hands API commands a live stream handle.
        let write = unsafe { (*h).write_function };
        match write {
            Some(w) => {
                let t = c_string(text);
                // SAFETY: "%s" consumes exactly the one string passed.
                Status::from_raw(unsafe { w(h, c_lit!("%s"), t.as_ptr()) })
            }
            None => Status::False,
        }
    }
}
