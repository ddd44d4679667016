//! Fault injection, compiled only with the `fault-injection` feature (the tests' build, never a
//! module to install): a panic on demand at a named place, to prove that a bug of ours there is
//! caught before the FFI edge, and that the call still gets a result and gives back its slot.
//! In a normal build `point` is empty and the closure that would look up the request never runs.

/// The channel variable that asks for a fault in that call's voice_start (`start`) or detection
/// (`detection`).
pub const CHANNEL_VARIABLE: &str = "amd_fault_injection";
/// The environment variable that asks for a fault in the API commands (`api`).
pub const ENVIRONMENT_VARIABLE: &str = "AMD_FAULT_INJECTION";

/// Panics if `asked` names `place` (a comma-separated list).
#[cfg(feature = "fault-injection")]
pub fn point(place: &str, asked: impl FnOnce() -> Option<String>) {
    if asked().is_some_and(|a| a.split(',').any(|p| p.trim() == place)) {
        panic!("fault injected at {place}");
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_place: &str, _asked: impl FnOnce() -> Option<String>) {}

/// Whether this build can inject faults (logged loudly at load: such a module is for tests).
pub const ENABLED: bool = cfg!(feature = "fault-injection");
