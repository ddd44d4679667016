//! Runs the detector over a whole recording, as a call would feed it frame by frame.

use crate::analyzer::wav::Audio;
use std::borrow::Cow;
use std::sync::Arc;

use crate::detector::{
    Decision, DecisionModel, Detector, Event, LateMachine, MessageEnd, MessageEndKind, Models, Params, UnsupportedRate, SUPPORTED_RATES,
};
use crate::analyzer::wav::WavStream;
use crate::module::resample::{target_rate, Resampler};

/// Frame length the analyzer feeds, as FreeSWITCH does at ptime 20.
pub const FRAME_MS: u32 = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// None when the recording ended before the detector decided.
    pub decision: Option<Decision>,
    /// The end of a machine's greeting (with `detect_message_end`), if found before the audio
    /// ended; or a late machine's beep (with `detect_late_machine`).
    pub message_end: Option<MessageEnd>,
    /// A machine that showed itself after a `person` (or `unsure`) decision (with `detect_late_machine`).
    pub late: Option<LateMachine>,
    /// When the beep that ended the greeting stopped.
    pub beep_end_ms: Option<u64>,
    /// The SIT code of a `sit` decision, when known.
    pub sit: Option<&'static str>,
    /// `amd_answered_by` for this outcome.
    pub answered_by: &'static str,
    /// `amd_cause` in app_amd's form, once decided.
    pub app_amd_cause: Option<String>,
    /// Talking edges, the decision and the message end, in order.
    pub events: Vec<Event>,
    /// Length of the recording in ms.
    pub duration_ms: u64,
    /// How sure the detector is of its decision (0 to 1), once decided.
    pub confidence: Option<f32>,
}

/// `audio` at a rate the detector takes, brought there as the module brings a channel's audio:
/// frame by frame, with the module's resampler (`module/resample.rs`), to the nearest lower rate
/// the detector takes. Refused outside the read rates the module takes (8 to 192 kHz).
pub fn at_detector_rate(audio: &Audio) -> Result<Cow<'_, Audio>, UnsupportedRate> {
    if SUPPORTED_RATES.contains(&audio.sample_rate) {
        return Ok(Cow::Borrowed(audio));
    }
    let target = target_rate(audio.sample_rate).ok_or(UnsupportedRate(audio.sample_rate))?;
    let mut resampler = Resampler::new(audio.sample_rate, target);
    let frame = (audio.sample_rate * FRAME_MS / 1000) as usize;
    let mut samples = Vec::with_capacity(audio.samples.len() / (audio.sample_rate / target).max(1) as usize + 1);
    let mut out = Vec::new();
    for chunk in audio.samples.chunks(frame.max(1)) {
        resampler.process(chunk, &mut out);
        samples.extend_from_slice(&out);
    }
    Ok(Cow::Owned(Audio { sample_rate: target, samples, encoding: audio.encoding }))
}

/// Feeds `audio` to a fresh detector in FRAME_MS frames until it is finished or the audio ends.
pub fn analyze(audio: &Audio, params: &Params) -> Result<Outcome, UnsupportedRate> {
    analyze_with(audio, params, None)
}

/// As [`analyze_with`] on a file read a frame at a time ([`WavStream`]), deciding with `models`:
/// a long recording is read only as far as the detector needs it, in constant memory.
pub fn analyze_stream(stream: &mut WavStream, params: &Params, models: &Models) -> Result<Outcome, String> {
    let target = detector_rate(stream.sample_rate())?;
    let mut detector = Detector::with_models(params, target, models).map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    feed_stream(stream, &mut detector, &mut |e| events.push(e), Detector::is_finished)?;
    Ok(outcome(&detector, events, params, stream.duration_ms()))
}

/// The rate the detector runs at for audio at `rate`: the module's choice (module/resample.rs).
pub fn detector_rate(rate: u32) -> Result<u32, String> {
    target_rate(rate).ok_or_else(|| UnsupportedRate(rate).to_string())
}

/// Feeds `stream` to `detector` a FRAME_MS frame at a time, resampled to the detector's rate as
/// the module does, until the file ends or `done` says so.
pub fn feed_stream(
    stream: &mut WavStream,
    detector: &mut Detector,
    on_event: &mut dyn FnMut(Event),
    done: impl Fn(&Detector) -> bool,
) -> Result<(), String> {
    let (rate, target) = (stream.sample_rate(), detector.sample_rate());
    let mut resampler = (target != rate).then(|| Resampler::new(rate, target));
    let frame = (rate * FRAME_MS / 1000).max(1) as usize;
    let (mut input, mut resampled) = (Vec::new(), Vec::new());
    while stream.read(frame, &mut input).map_err(|e| e.to_string())? > 0 {
        let pcm: &[i16] = match resampler.as_mut() {
            Some(r) => {
                r.process(&input, &mut resampled);
                &resampled
            }
            None => &input,
        };
        detector.push(pcm, on_event);
        if done(detector) {
            break;
        }
    }
    Ok(())
}

/// As [`analyze`], deciding with `model` (the built-in one when `None`) where `params` say
/// `decision=model`.
pub fn analyze_with(audio: &Audio, params: &Params, model: Option<Arc<DecisionModel>>) -> Result<Outcome, UnsupportedRate> {
    let audio = at_detector_rate(audio)?;
    let audio = audio.as_ref();
    let mut detector = Detector::with_model(params, audio.sample_rate, model.unwrap_or_else(DecisionModel::builtin))?;
    let frame = (audio.sample_rate * FRAME_MS / 1000) as usize;
    let mut events = Vec::new();
    for chunk in audio.samples.chunks(frame) {
        detector.push(chunk, &mut |e| events.push(e));
        if detector.is_finished() {
            break;
        }
    }
    Ok(outcome(&detector, events, params, audio.samples.len() as u64 * 1000 / u64::from(audio.sample_rate)))
}

/// What the detector said about a whole call, once fed.
fn outcome(detector: &Detector, events: Vec<Event>, params: &Params, duration_ms: u64) -> Outcome {
    let decision = detector.decision();
    let late = events.iter().find_map(|e| if let Event::LateMachine(l) = e { Some(*l) } else { None });
    let late_beep = late.filter(|l| l.beep.is_some()).map(|l| MessageEnd { kind: MessageEndKind::Beep, at_ms: l.at_ms, beep: l.beep });
    let message_end = events.iter().find_map(|e| if let Event::MessageEnd(m) = e { Some(*m) } else { None }).or(late_beep);
    let beep_end_ms = events.iter().find_map(|e| if let Event::BeepEnd { at_ms } = e { Some(*at_ms) } else { None });
    Outcome {
        decision,
        message_end,
        late,
        beep_end_ms,
        sit: detector.sit_code(),
        app_amd_cause: decision.map(|d| crate::detector::amd_cause(&d, &detector.evidence(), params)),
        answered_by: crate::detector::answered_by(decision.as_ref(), params.detect_message_end, message_end.as_ref()),
        events,
        duration_ms,
        confidence: detector.confidence(),
    }
}
