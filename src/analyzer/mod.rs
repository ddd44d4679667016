//! The analyzer: the detector over recordings. Reads WAV files ([`wav`]), runs the detector over
//! a whole call as the module would feed it ([`analyze`]) and scores it against labels
//! ([`eval`]). The `amd` command line and the tools are built on it.

pub mod analyze;
pub mod eval;
pub mod wav;
