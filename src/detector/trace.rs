//! What the detector saw in each 10 ms block, for `amd plot`: an operator tuning
//! silent_threshold and the background margin needs the level the detector judged, not the
//! raw waveform. Off unless asked for ([`crate::Detector::keep_trace`]); the module never asks.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockTrace {
    /// End of the block, ms of audio from the start.
    pub end_ms: u64,
    /// Mean |sample| after the 200 Hz high-pass, at 8 kHz: silent_threshold's scale.
    pub level: f32,
    /// The line's tracked background the block was judged against, dB of mean |sample| (0 dB = 1).
    pub floor_db: f32,
    /// Whether the block counted as sound (threshold, background margin and foreground rules).
    pub sound: bool,
}
