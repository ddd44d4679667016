//! The API commands: amd_info, amd_available, amd_count (mod_com_amd's shapes) and amd_stats.

use super::{slots, stats};
use crate::freeswitch::entry::{cstr, Api};
use crate::freeswitch::{Session, Status, Stream};

/// `AMD channels available => N` / `AMD channels allocated => M`.
pub fn info_text(available: usize, allocated: usize) -> String {
    format!("AMD channels available => {available}\nAMD channels allocated => {allocated}\n")
}

pub struct AmdInfo;

impl Api for AmdInfo {
    const NAME: &'static std::ffi::CStr = cstr(b"amd_info\0");
    const DESC: &'static std::ffi::CStr = cstr(b"AMD channel slots: available and allocated\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"\0");

    fn run(_cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        out.write(&info_text(slots().available(), slots().allocated()));
        Status::Success
    }
}

pub struct AmdAvailable;

impl Api for AmdAvailable {
    const NAME: &'static std::ffi::CStr = cstr(b"amd_available\0");
    const DESC: &'static std::ffi::CStr = cstr(b"true if an AMD channel slot is free, else false\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"\0");

    fn run(_cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        out.write(if slots().available() > 0 { "true" } else { "false" });
        Status::Success
    }
}

pub struct AmdCount;

impl Api for AmdCount {
    const NAME: &'static std::ffi::CStr = cstr(b"amd_count\0");
    const DESC: &'static std::ffi::CStr = cstr(b"How many AMD channel slots there are (max_channels)\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"\0");

    fn run(_cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        out.write(&slots().max().to_string());
        Status::Success
    }
}

pub struct AmdStats;

impl Api for AmdStats {
    const NAME: &'static std::ffi::CStr = cstr(b"amd_stats\0");
    const DESC: &'static std::ffi::CStr =
        cstr(b"AMD decisions since load: per status and result, decision time p50/p90, channels detecting\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"[json]\0");

    fn run(cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        let snap = super::stats().snapshot();
        let (detecting, max) = (slots().allocated(), slots().max());
        let text = match cmd.trim() {
            "" => snap.to_text(detecting, max),
            f if f.eq_ignore_ascii_case("json") => snap.to_json(detecting, max, stats::calls_in_memory()),
            other => format!("-ERR unknown argument {other:?}: usage amd_stats [json]\n"),
        };
        out.write(&text);
        Status::Success
    }
}
