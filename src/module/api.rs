//! The API commands: amd_info, amd_available, amd_count (mod_com_amd's shapes),
//! uuid_voice_start / uuid_voice_stop for dialers driving calls over the event socket, and
//! amd_stats for monitoring.

use super::detection::{self, DataPolicy};
use super::{fault, slots, stats};
use crate::freeswitch::entry::{cstr, Api};
use crate::freeswitch::session::LocatedSession;
use crate::freeswitch::{Session, Status, Stream};

/// mod_com_amd's lines, word for word (`AMD license available => N` / `AMD license allocated =>
/// M`), so scripts and monitoring that parse them keep working; here a "license" is a channel slot.
pub fn info_text(available: usize, allocated: usize) -> String {
    format!("AMD license available => {available}\nAMD license allocated => {allocated}\n")
}

pub struct AmdInfo;

impl Api for AmdInfo {
    const NAME: &'static std::ffi::CStr = cstr(b"amd_info\0");
    const DESC: &'static std::ffi::CStr = cstr(b"AMD channel slots: available and allocated\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"\0");

    fn run(_cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        fault::point("api", || std::env::var(fault::ENVIRONMENT_VARIABLE).ok());
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

/// `<uuid> [rest]` → the uuid and the rest (trimmed); `None` without a uuid.
fn split_uuid(cmd: &str) -> Option<(&str, &str)> {
    let cmd = cmd.trim();
    if cmd.is_empty() {
        return None;
    }
    Some(match cmd.split_once(char::is_whitespace) {
        Some((uuid, rest)) => (uuid, rest.trim()),
        None => (cmd, ""),
    })
}

pub struct UuidVoiceStart;

impl Api for UuidVoiceStart {
    const NAME: &'static std::ffi::CStr = cstr(b"uuid_voice_start\0");
    const DESC: &'static std::ffi::CStr = cstr(b"Start answering machine detection on a live channel\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"<uuid> [k=v,k=v,...]\0");

    fn run(cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        let Some((uuid, data)) = split_uuid(cmd) else {
            out.write("-ERR usage: uuid_voice_start <uuid> [k=v,k=v,...]\n");
            return Status::Success;
        };
        let Some(located) = LocatedSession::find(uuid) else {
            out.write(&format!("-ERR no such channel {uuid}\n"));
            return Status::Success;
        };
        match detection::start(&located.session(), data, DataPolicy::RefuseBad) {
            Ok(()) => out.write("+OK\n"),
            Err(e) => out.write(&format!("-ERR {e}\n")),
        };
        Status::Success
    }
}

pub struct UuidVoiceStop;

impl Api for UuidVoiceStop {
    const NAME: &'static std::ffi::CStr = cstr(b"uuid_voice_stop\0");
    const DESC: &'static std::ffi::CStr = cstr(b"Stop answering machine detection on a live channel\0");
    const SYNTAX: &'static std::ffi::CStr = cstr(b"<uuid>\0");

    fn run(cmd: &str, _session: Option<Session>, out: &mut Stream) -> Status {
        let Some((uuid, rest)) = split_uuid(cmd) else {
            out.write("-ERR usage: uuid_voice_stop <uuid>\n");
            return Status::Success;
        };
        if !rest.is_empty() {
            out.write(&format!("-ERR unexpected argument after the uuid: {rest}\n"));
            return Status::Success;
        }
        let Some(located) = LocatedSession::find(uuid) else {
            out.write(&format!("-ERR no such channel {uuid}\n"));
            return Status::Success;
        };
        if detection::stop(&located.session()) {
            out.write("+OK\n");
        } else {
            out.write(&format!("-ERR no AMD running on {uuid}\n"));
        }
        Status::Success
    }
}

#[cfg(test)]
mod tests {
    use super::split_uuid;

    #[test]
    fn uuid_and_data() {
        assert_eq!(split_uuid("  "), None);
        assert_eq!(split_uuid("abc"), Some(("abc", "")));
        assert_eq!(split_uuid(" abc  silent_initial=3000,\n debug=1 "), Some(("abc", "silent_initial=3000,\n debug=1")));
    }
}
