//! mod_rust_amd: answering machine detection for FreeSWITCH.
//!
//! Three layers, one folder each:
//! - [`detector`]: the pure-Rust engine, 16-bit PCM frames in, talking events and one
//!   [`Decision`] out; no FFI, no I/O. Its public items are re-exported here.
//! - [`analyzer`]: the detector over WAV recordings (reading, analysing, scoring), for the `amd`
//!   command line, and [`tools`] built on it (plot, tune, bench).
//! - the FreeSWITCH module: [`ffi`] (raw bindings), [`freeswitch`] (the small safe layer over
//!   them) and [`module`] (mod_rust_amd.so's logic), which reaches the detector only through
//!   its public items.

pub mod analyzer;
pub mod detector;
pub mod tools;

pub use detector::{
    amd_cause, answered_by, settings_from_xml, Beep, BlockTrace, Cause, Decision, DecisionMode, DecisionModel, Detector, Event,
    Evidence, LateKind, LateMachine, MessageEnd, MessageEndKind, Node, ParamError, Params, Status, TimelinePoint,
    UnsupportedRate, ANSWERED_BY_VALUES, CONFIG_NAME, FEATURE_NAMES, SUPPORTED_RATES,
};

/// Raw FreeSWITCH bindings (generated).
pub mod ffi;
/// The small safe layer over them.
pub mod freeswitch;
/// The FreeSWITCH module itself (mod_rust_amd.so).
pub mod module;
