//! Numeric building blocks the detector's stages share.

pub mod fft;
pub mod median;
pub mod swing;
pub mod wide;
