//! The detector: pure Rust, no FFI and no I/O. Frames of 16-bit PCM in, talking events and one
//! [`Decision`] out. The analyzer, the benchmarks and the FreeSWITCH module all drive it through
//! the items re-exported here; everything else in this folder is private to it.
//!
//! How one frame flows through it:
//! 1. `frontend`: frames of any size and rate become 10 ms blocks of telephone-band audio at
//!    8 kHz (high-passed, levels measured).
//! 2. `sound/`: is the block somebody at the phone? The line's background level
//!    (`sound::noise_floor`), how periodic the block is (`sound::voicing`, through a
//!    `sound::mains_hum` notch where the line hums).
//! 3. `talk`: sound becomes words and talk segments with mod_com_amd's timers
//!    (the Start and Stop Talking edges).
//! 4. `tones/`: steady tones followed alongside talk: beeps, fax CED/CNG and SIT
//!    (`tones::tone`), the fax's V.21 control channel (`tones::v21`), a ring tone still on
//!    the line after the answer (`tones::ringback`).
//! 5. `pipeline`: the [`Detector`] itself turns timers and tone evidence into one
//!    [`Decision`] (`decision`), under the [`Params`] of `params`; with `decision=model` a
//!    timer's `machine` verdict stands only once the learned `model` agrees, judging the call's
//!    `timeline` so far.
//! 6. `message_end`: after `machine`, where the greeting ends (its beep or a long silence);
//!    `late_machine`: after `person`, a beep, fax or SIT that shows a machine after all.
//!
//! The decision is also given in other products' vocabularies: Asterisk app_amd's `AMDCAUSE`
//! (`app_amd`) and the hosted APIs' AnsweredBy (`answered_by`). `dsp/` holds the numeric
//! building blocks the stages share; `trace` is what `amd plot` draws.

mod answered_by;
mod app_amd;
mod beep_features;
mod beep_model;
mod decision;
mod dsp;
mod forest;
mod frontend;
mod late_machine;
mod message_end;
mod model;
mod params;
mod pipeline;
mod sound;
mod talk;
mod timeline;
mod tones;
mod trace;

pub use answered_by::{answered_by, ANSWERED_BY_VALUES};
pub use app_amd::amd_cause;
pub use beep_features::{BEEP_FEATURE_COUNT, BEEP_FEATURE_NAMES};
pub use beep_model::{may_be_beep, BeepContext, BeepModel, BeepPolicy, Models, BEEP_MODEL_FORMAT};
pub use decision::{Beep, Cause, Decision, Event, Evidence, LateKind, LateMachine, MessageEnd, MessageEndKind, Status};
pub use forest::{sigmoid, Node};
pub use model::{DecisionModel, Policy, FORMAT as MODEL_FORMAT};
pub use params::{settings_from_xml, DecisionMode, ParamError, Params, CONFIG_NAME, RULE_TIMERS};
pub use pipeline::{Detector, ToneCandidate, UnsupportedRate, SUPPORTED_RATES};
pub use timeline::{feature_index as timeline_feature_index, TimelinePoint, FEATURE_COUNT, FEATURE_NAMES, STEP_MS as TIMELINE_STEP_MS};
pub use trace::BlockTrace;
