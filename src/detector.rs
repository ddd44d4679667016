//! The per-call detector: frames of any size in, talking events and one decision out.

use crate::decision::{Decision, Event};
use crate::params::Params;

/// Sample rates the detector accepts.
pub const SUPPORTED_RATES: [u32; 4] = [8000, 16000, 32000, 48000];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedRate(pub u32);

impl std::fmt::Display for UnsupportedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unsupported sample rate {} Hz (use 8000, 16000, 32000 or 48000)", self.0)
    }
}

impl std::error::Error for UnsupportedRate {}

pub struct Detector {
    params: Params,
    rate: u32,
    decision: Option<Decision>,
    samples_seen: u64,
}

impl Detector {
    pub fn new(params: &Params, sample_rate: u32) -> Result<Detector, UnsupportedRate> {
        if !SUPPORTED_RATES.contains(&sample_rate) {
            return Err(UnsupportedRate(sample_rate));
        }
        Ok(Detector { params: params.clone(), rate: sample_rate, decision: None, samples_seen: 0 })
    }

    /// Changes the rate of the frames that follow (a codec change mid-call); time carries on.
    pub fn set_sample_rate(&mut self, sample_rate: u32) -> Result<(), UnsupportedRate> {
        if !SUPPORTED_RATES.contains(&sample_rate) {
            return Err(UnsupportedRate(sample_rate));
        }
        self.rate = sample_rate;
        Ok(())
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Feeds one frame of mono 16-bit PCM (any length, may be empty); events go to `on_event`
    /// in audio order.
    pub fn push(&mut self, samples: &[i16], on_event: &mut dyn FnMut(Event)) {
        let _ = on_event;
        self.samples_seen += samples.len() as u64;
        todo!("detector implementation in progress")
    }

    /// The decision, once there is one.
    pub fn decision(&self) -> Option<Decision> {
        self.decision
    }

    /// Milliseconds of audio fed so far.
    pub fn elapsed_ms(&self) -> u64 {
        self.samples_seen * 1000 / u64::from(self.rate)
    }

    /// True when the detector wants no more audio (it has decided, and nothing else is pending).
    pub fn is_finished(&self) -> bool {
        self.decision.is_some()
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
}
