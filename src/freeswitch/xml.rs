//! Configuration files (conf/autoload_configs/*.conf.xml), fetched through the core's XML
//! registry and handed over as text.

use super::{c_string, core, from_c};
use crate::ffi;

/// The `<configuration name="NAME">` element as XML text, or `None` when there is none.
pub fn config_text(name: &str) -> Option<String> {
    let c = core();
    let n = c_string(name);
    let mut node: ffi::switch_xml_t = std::ptr::null_mut();
    // SAFETY: open_cfg returns the root we must free, and points `node` into it.
    let root = unsafe { (c.switch_xml_open_cfg)(n.as_ptr(), &mut node, std::ptr::null_mut()) };
    if root.is_null() {
        return None;
    }
    let text = if node.is_null() {
        None
    } else {
        // SAFETY: a live node; the result is malloc'd and ours to free.
        let p = unsafe { (c.switch_xml_toxml_ex)(node, ffi::SWITCH_FALSE, ffi::SWITCH_TRUE) };
        // SAFETY: NULL or a NUL-terminated string.
        let s = unsafe { from_c(p) };
        if !p.is_null() {
            // SAFETY: allocated with malloc by the core.
            unsafe { libc::free(p as *mut libc::c_void) };
        }
        s
    };
    // SAFETY: the root returned by open_cfg.
    unsafe { (c.switch_xml_free)(root) };
    text
}
