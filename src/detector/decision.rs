//! What the detector tells its caller: talking edges as they happen, and one decision.

use std::fmt;

/// `amd_status`: what answered. Anything but `Machine` is to be treated as a live person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Person,
    Machine,
    Unsure,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Person, Status::Machine, Status::Unsure];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Person => "person",
            Status::Machine => "machine",
            Status::Unsure => "unsure",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `amd_result`: why the detector decided what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// No decision within `total_analysis_time`.
    TooLong,
    /// More than `noise_max_count` words in the greeting.
    MaxCount,
    /// A word as long as `noise_max_word_length` or longer (off unless set; app_amd's maximum_word_length).
    MaxWordLength,
    /// The greeting lasted `noise_max_intro` or longer.
    MaxIntro,
    /// Nothing heard for `silent_initial` after answer (`person`, or `machine` with
    /// `silent_initial_machine`).
    SilentInitial,
    /// A short greeting followed by `silent_after_intro` of silence: someone waiting for a reply.
    SilentAfterIntro,
    /// A steady tone (a voicemail beep) right after the greeting. Our addition to mod_com_amd's causes.
    Beep,
    /// A fax answer (CED) or calling (CNG) tone. Our addition.
    Fax,
    /// A special information tone: an intercept or network announcement. Our addition.
    Sit,
}

impl Cause {
    pub const ALL: [Cause; 9] = [
        Cause::TooLong,
        Cause::MaxCount,
        Cause::MaxWordLength,
        Cause::MaxIntro,
        Cause::SilentInitial,
        Cause::SilentAfterIntro,
        Cause::Beep,
        Cause::Fax,
        Cause::Sit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::TooLong => "too-long",
            Cause::MaxCount => "max-count",
            Cause::MaxWordLength => "max-word-length",
            Cause::MaxIntro => "max-intro",
            Cause::SilentInitial => "silent-initial",
            Cause::SilentAfterIntro => "silent-after-intro",
            Cause::Beep => "beep",
            Cause::Fax => "fax",
            Cause::Sit => "sit",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one verdict a call gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    pub cause: Cause,
    /// Milliseconds of audio from the start of detection to the decision.
    pub at_ms: u64,
}

/// What the detector had measured when it decided: the figures behind the cause (app_amd's
/// `amd_cause` quotes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Words counted in the greeting.
    pub words: u32,
    /// From the greeting's start (its first word, or the syllables leading into it) to the end of
    /// the last word, ms (0 before any word).
    pub greeting_ms: u64,
    /// Quiet since the last sound (since the start when nothing was heard), ms.
    pub silence_ms: u64,
    /// The longest word, ms.
    pub longest_word_ms: u64,
}

/// How the end of a machine's greeting was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageEndKind {
    /// The voicemail beep: recording starts when it stops.
    Beep,
    /// `message_end_silence` of quiet after the greeting (a machine with no beep).
    Silence,
    /// `message_end_timeout` came first.
    Timeout,
}

impl MessageEndKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageEndKind::Beep => "beep",
            MessageEndKind::Silence => "silence",
            MessageEndKind::Timeout => "timeout",
        }
    }
}

impl fmt::Display for MessageEndKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A beep as heard: where it started and its pitch (two pitches for a two-tone beep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beep {
    pub start_ms: u64,
    pub freq_hz: u32,
    pub freq2_hz: Option<u32>,
}

/// The end of a machine's greeting (with `detect_message_end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageEnd {
    pub kind: MessageEndKind,
    /// Milliseconds of audio from the start of detection to the moment the end was established.
    pub at_ms: u64,
    /// The beep, when the greeting ended with one.
    pub beep: Option<Beep>,
}

/// What showed a call decided `person` to be a machine after all (with `detect_late_machine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LateKind {
    /// A voicemail beep: the greeting is over and recording starts when the beep stops.
    Beep,
    /// A fax tone (CED, CNG) or a fax's V.21 channel.
    Fax,
    /// Special information tones.
    Sit,
}

impl LateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LateKind::Beep => "beep",
            LateKind::Fax => "fax",
            LateKind::Sit => "sit",
        }
    }
}

/// A machine that showed itself after a `person` (or `unsure`) decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateMachine {
    pub kind: LateKind,
    /// Milliseconds of audio from the start of detection to the moment it was established.
    pub at_ms: u64,
    /// The beep, for [`LateKind::Beep`].
    pub beep: Option<Beep>,
}

/// Everything the detector reports, in the order it was established. Talk edges carry the time
/// they happened, which is earlier: a start is known only once the sound has lasted
/// `noise_min_length`, a stop once the quiet has lasted `silent_max_session`. So a `Decided` can
/// come before a `StartTalking` or `StopTalking` dated earlier than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Speech (or other sound above the silence threshold) began at `at_ms`.
    StartTalking { at_ms: u64 },
    /// The talk segment that began earlier ended at `at_ms` (after `silent_max_session` of quiet).
    StopTalking { at_ms: u64 },
    /// The decision; sent once.
    Decided(Decision),
    /// The end of a machine's greeting; sent at most once, after the decision.
    MessageEnd(MessageEnd),
    /// The beep that ended the greeting has stopped: a message played now starts after it.
    BeepEnd { at_ms: u64 },
    /// After a `person` decision, a beep, fax or SIT showed the call to be a machine; sent at
    /// most once, within `late_machine_window` of the decision. A late beep's end follows as
    /// [`Event::BeepEnd`].
    LateMachine(LateMachine),
}
