//! `amd_answered_by`: the verdict in the vocabulary hosted voice APIs use (AnsweredBy), so an
//! application moving from one keeps its branches one to one.

use crate::detector::decision::{Cause, Decision, MessageEnd, MessageEndKind, Status};

/// Every value `answered_by` can give.
pub const ANSWERED_BY_VALUES: [&str; 7] = ["human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"];

/// The AnsweredBy value for a decision and, with `detect_message_end`, the end of the greeting.
/// While a voicemail's greeting is still going on it is `machine_start`, as hosted APIs say
/// before they report the end.
pub fn answered_by(decision: Option<&Decision>, detect_message_end: bool, message_end: Option<&MessageEnd>) -> &'static str {
    let Some(d) = decision else { return "unknown" };
    match (d.status, d.cause) {
        (Status::Person, _) => "human",
        (Status::Unsure, _) => "unknown",
        (Status::Machine, Cause::Fax) => "fax",
        // An intercept message is a recording with no beep to wait for.
        (Status::Machine, Cause::Sit) => {
            if detect_message_end {
                "machine_end_other"
            } else {
                "machine_start"
            }
        }
        (Status::Machine, _) => match message_end.map(|m| m.kind) {
            _ if !detect_message_end => "machine_start",
            None => "machine_start",
            Some(MessageEndKind::Beep) => "machine_end_beep",
            Some(MessageEndKind::Silence) => "machine_end_silence",
            Some(MessageEndKind::Timeout) => "machine_end_other",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_maps_to_one_value() {
        let d = |status, cause| Decision { status, cause, at_ms: 1000 };
        let end = |kind| MessageEnd { kind, at_ms: 4000, beep: None };
        assert_eq!(answered_by(None, false, None), "unknown");
        assert_eq!(answered_by(Some(&d(Status::Person, Cause::SilentAfterIntro)), true, None), "human");
        assert_eq!(answered_by(Some(&d(Status::Unsure, Cause::TooLong)), true, None), "unknown");
        assert_eq!(answered_by(Some(&d(Status::Machine, Cause::Fax)), true, None), "fax");
        assert_eq!(answered_by(Some(&d(Status::Machine, Cause::Sit)), false, None), "machine_start");
        assert_eq!(answered_by(Some(&d(Status::Machine, Cause::Sit)), true, None), "machine_end_other");
        let m = d(Status::Machine, Cause::MaxIntro);
        assert_eq!(answered_by(Some(&m), false, None), "machine_start");
        assert_eq!(answered_by(Some(&m), true, None), "machine_start");
        assert_eq!(answered_by(Some(&m), true, Some(&end(MessageEndKind::Beep))), "machine_end_beep");
        assert_eq!(answered_by(Some(&m), true, Some(&end(MessageEndKind::Silence))), "machine_end_silence");
        assert_eq!(answered_by(Some(&m), true, Some(&end(MessageEndKind::Timeout))), "machine_end_other");
        for v in ["human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"] {
            assert!(ANSWERED_BY_VALUES.contains(&v));
        }
    }
}
