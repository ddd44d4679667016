//! Custom events.

use super::{c_string, core, Channel, Status};
use crate::{c_lit, ffi};

/// Registers a CUSTOM event subclass in our name (switch_event_reserve_subclass).
pub fn reserve_subclass(owner: &str, subclass: &str) -> Status {
    let o = c_string(owner);
    let s = c_string(subclass);
    // SAFETY: the core copies both strings.
    Status::from_raw(unsafe { (core().switch_event_reserve_subclass_detailed)(o.as_ptr(), s.as_ptr()) })
}

pub fn free_subclass(owner: &str, subclass: &str) -> Status {
    let o = c_string(owner);
    let s = c_string(subclass);
    // SAFETY: as above.
    Status::from_raw(unsafe { (core().switch_event_free_subclass_detailed)(o.as_ptr(), s.as_ptr()) })
}

/// Fires a CUSTOM event of `subclass` with `headers`, followed by the channel's own data
/// (Unique-ID, Channel-Name, variable_* ...) when a channel is given.
pub fn fire_custom(subclass: &str, channel: Option<&Channel>, headers: &[(&str, &str)]) -> Status {
    let c = core();
    let sub = c_string(subclass);
    let mut event: *mut ffi::switch_event_t = std::ptr::null_mut();
    // SAFETY: `event` receives a new event owned by us until fired or destroyed.
    let st = unsafe {
        (c.switch_event_create_subclass_detailed)(
            c_lit!("mod_rust_amd"),
            c_lit!("fire_custom"),
            0,
            &mut event,
            ffi::SWITCH_EVENT_CUSTOM,
            sub.as_ptr(),
        )
    };
    if !Status::from_raw(st).is_ok() || event.is_null() {
        return Status::from_raw(st);
    }
    for (name, value) in headers {
        let n = c_string(name);
        let v = c_string(value);
        // SAFETY: a live event; the core copies both strings.
        unsafe { (c.switch_event_add_header_string)(event, ffi::SWITCH_STACK_BOTTOM, n.as_ptr(), v.as_ptr()) };
    }
    if let Some(ch) = channel {
        // SAFETY: a live channel and event.
        unsafe { (c.switch_channel_event_set_data)(ch.as_ptr(), event) };
    }
    // SAFETY: firing hands the event to the core (which clears our pointer); destroy it if not.
    let st = unsafe {
        (c.switch_event_fire_detailed)(c_lit!("mod_rust_amd"), c_lit!("fire_custom"), 0, &mut event, std::ptr::null_mut())
    };
    if !event.is_null() {
        // SAFETY: still ours.
        unsafe { (c.switch_event_destroy)(&mut event) };
    }
    Status::from_raw(st)
}
