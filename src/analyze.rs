//! Runs the detector over a whole recording, as a call would feed it frame by frame.

use crate::decision::{Decision, Event};
use crate::detector::{Detector, UnsupportedRate};
use crate::params::Params;
use crate::wav::Audio;

/// Frame length the analyzer feeds, as FreeSWITCH does at ptime 20.
pub const FRAME_MS: u32 = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// None when the recording ended before the detector decided.
    pub decision: Option<Decision>,
    /// Talking edges and the decision, in order.
    pub events: Vec<Event>,
    /// Length of the recording in ms.
    pub duration_ms: u64,
}

/// Feeds `audio` to a fresh detector in FRAME_MS frames until it decides or the audio ends.
pub fn analyze(audio: &Audio, params: &Params) -> Result<Outcome, UnsupportedRate> {
    let mut detector = Detector::new(params, audio.sample_rate)?;
    let frame = (audio.sample_rate * FRAME_MS / 1000) as usize;
    let mut events = Vec::new();
    for chunk in audio.samples.chunks(frame) {
        detector.push(chunk, &mut |e| events.push(e));
        if detector.is_finished() {
            break;
        }
    }
    Ok(Outcome {
        decision: detector.decision(),
        events,
        duration_ms: audio.samples.len() as u64 * 1000 / u64::from(audio.sample_rate),
    })
}
