//! mod_rust_amd: answering machine detection for FreeSWITCH.
//!
//! The detector ([`Detector`]) is pure Rust: 16-bit PCM frames in, talking events and one
//! [`Decision`] out. The `amd` analyzer, the benchmarks and the FreeSWITCH module all drive it.

pub mod analyze;
pub mod answered_by;
pub mod app_amd;
pub mod decision;
pub mod detector;
pub mod eval;
mod fft;
mod frontend;
mod mains_hum;
mod median;
mod message_end;
mod noise_floor;
pub mod params;
mod ringback;
pub mod tools;
mod swing;
mod talk;
mod talker_pitch;
mod tone;
mod v21;
pub mod trace;
mod voicing;
pub mod wav;
mod wide;

pub use decision::{Beep, Cause, Decision, Event, Evidence, MessageEnd, MessageEndKind, Status};
pub use detector::{Detector, UnsupportedRate};
pub use params::{ParamError, Params};
pub use trace::BlockTrace;

/// Raw FreeSWITCH bindings (generated).
pub mod ffi;
/// The small safe layer over them.
pub mod freeswitch;
/// The FreeSWITCH module itself (mod_rust_amd.so).
pub mod module;
