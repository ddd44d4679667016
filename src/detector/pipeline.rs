//! The per-call [`Detector`]: wires the stages together one 10 ms block at a time and keeps the
//! call's state between frames. How a block flows through the stages: `src/detector/mod.rs`.

use std::sync::Arc;

use crate::detector::beep_features::{self, ToneContext, BEEP_FEATURE_COUNT};
use crate::detector::beep_model::{BeepContext, BeepModel, Models};
use crate::detector::decision::{Cause, Decision, Event, Evidence, LateKind, Status};
use crate::detector::dsp::median::median_of_three;
use crate::detector::dsp::swing::Swing;
use crate::detector::frontend::{BlockStats, FrontEnd, BLOCK, BLOCK_MS, HISTORY};
use crate::detector::late_machine::LateWatch;
use crate::detector::message_end::{in_beep_band, BlockView, MessageEndWatch};
use crate::detector::model::DecisionModel;
use crate::detector::params::{DecisionMode, Params};
use crate::detector::sound::noise_floor::{level_db, NoiseFloor, DIGITAL_SILENCE};
use crate::detector::sound::voicing::{BackgroundVoicing, Voicing};
use crate::detector::talk::{TalkEdge, TalkTracker};
use crate::detector::timeline::{Moment, Timeline, TimelinePoint, STEP_MS};
use crate::detector::tones::ringback::{self, RingbackTracker};
use crate::detector::tones::tone::{self, ToneRun, ToneTracker, ToneUpdate};
use crate::detector::tones::v21::V21Watch;
use crate::detector::trace::BlockTrace;

/// Sample rates the detector accepts.
pub const SUPPORTED_RATES: [u32; 4] = [8000, 16000, 32000, 48000];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedRate(pub u32);

impl std::fmt::Display for UnsupportedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unsupported sample rate {} Hz (the detector takes 8000, 16000, 32000 or 48000; the module and the analyzer bring 8000 to 192000 Hz to one of those)", self.0)
    }
}

impl std::error::Error for UnsupportedRate {}

/// Shortest steady tone taken for a beep.
const MIN_BEEP_MS: u64 = 100;
/// Tones shorter than this are passing blips, not signals.
const MIN_TONE_MS: u64 = 50;
/// A fax answer tone this long is a fax whatever came before it.
const MIN_CED_MS: u64 = 450;
/// A calling tone this long, with no speech before it, is a fax.
const MIN_CNG_MS: u64 = 400;
/// Longest gap between two SIT segments we still see as one sequence.
const SIT_GAP_MS: u64 = 150;
/// Share of the gap the talk envelope closes each block (about 30 ms to settle).
const ENVELOPE_SMOOTHING: f32 = 0.3;
/// Share of the gap the talker level closes per block of talk (about half a second of talk).
const TALKER_SMOOTHING: f32 = 0.05;
/// One talker rises and falls by syllables and words; the steadier mix of several voices, a TV
/// or traffic behind a caller does not: talk has to swing this much within about 400 ms.
const MODULATION_PART_BLOCKS: u32 = 9;
const MIN_MODULATION_DB: f32 = 14.0;
/// Talk that swings this much is a voice close to the phone even when quieter than the talker
/// was at first (a recorded greeting's later, softer phrases).
const STRONG_MODULATION_DB: f32 = 30.0;
/// ... but only down to this many times foreground_drop_db under it: comfort noise switching on
/// and off swings as much, far below any talker.
const STRONG_MODULATION_REACH: f32 = 2.0;
/// Periodicity from which a block as loud as the talker is the talker, however little it swings:
/// behind a greeting other voices fill its pauses, so its envelope no longer swings
/// MIN_MODULATION_DB, but a mix of voices is seldom this periodic, and seldom as loud as the
/// voice at the phone. On kit draws (seeds 101, 102, 112-117) the rule calls 13 more of 4,600
/// machines than going without it; anywhere from 0.75 to 0.9 the figures move by a few calls.
const TALKER_VOICED: f32 = 0.85;
/// Blocks of talk the talker level is learnt from.
const TALKER_LEARN_BLOCKS: u32 = 30;
/// Blocks a talker may stay under the foreground line and still count as talking.
const FOREGROUND_HANG_BLOCKS: u32 = 15;
/// Extra margin over the background for the very first word: before anyone has spoken, a busy
/// background (other voices, a TV) must not pass for the greeting.
const FIRST_WORD_EXTRA_DB: f32 = 3.0;
/// Hysteresis: once sounding, a block stays sound down to this many dB under the margin.
const HYSTERESIS_DB: f32 = 3.0;
/// Over steady noise a word's weak consonants and glides sink to a few dB over the floor for a
/// block or two (the /l/ of a "Hello" in white noise at 10 dB SNR), which split a short word into
/// pieces each too short for noise_min_length. There the hysteresis holds through this many
/// quiet blocks, fewer than noise_inter_silence's 30 ms, and a voiced block of the word owes no
/// first-word extra: that guards against other voices and a TV, which are not steady noise.
const NOISE_WORD_HOLD_BLOCKS: u32 = 2;
/// A block must stand this far above the floor before tone analysis is worth its cost.
const TONE_GATE_DB: f32 = 6.0;
/// How far the lag-1 and lag-2 correlations may move between blocks for a new tone to be looked
/// for. A tone holds them still; a beep a few dB over a car, a room of voices or a television
/// moves them by up to a tenth from block to block: with a bar of 0.05, such beeps passed it in
/// only 3 to 5 of their first 12 blocks, and most were not followed within 150 ms. On 14 kit
/// draws the beep model was not fit on, retrained each way and replayed at the same thresholds,
/// 0.1 against 0.05 found 6 more of 5,642 beeps and reported 5 fewer late machines on people;
/// 0.2 did no better than 0.1 and runs more FFTs in speech.
const STEADY_RHO_STEP: f32 = 0.1;
/// Periodicity (see voicing.rs) from which a block is taken for a voice.
const VOICED: f32 = 0.5;
/// Over a background of noise, a voiced block counts as sound this many dB nearer the floor.
const VOICE_IN_NOISE_RELIEF_DB: f32 = 2.0;
/// Blocks this close to the floor, and not sound, are the background the detector learns the
/// periodicity of. The floor is the background's lowest moment, and a background whose level
/// moves sits above it for much of the time: under a 60 Hz hum, whose period beats against the
/// 10 ms blocks, line noise runs up to 5 dB over its floor. A narrower band learns too few
/// blocks to judge the background before the greeting starts, and behind other talkers learns
/// only the quietest, least voiced moments. Much wider, it takes in weak syllables.
const BACKGROUND_BAND_DB: f32 = 5.0;
/// How a run began when it is not known (no run yet).
const NO_RUN: RunStart = RunStart { start_ms: u64::MAX, sound_before: 5, talk_end_ms: None, earlier_tones: 0 };
/// Mean |sample| under which a block holds no tone worth following (about -66 dBFS): the
/// high-pass filter's ringing after a tone stops in digital silence has a "pitch" of its own.
const MIN_TONE_LEVEL: f32 = 16.0;

/// Where a possible special information tone has got to.
#[derive(Debug, Clone, Copy, Default)]
struct SitProgress {
    first: Option<ToneRun>,
    second: Option<ToneRun>,
    /// How the first segment began: if no second segment follows, that first one is judged as a
    /// beep, and a later tone must not change what we knew.
    first_start: Option<RunStart>,
}

/// How a tone run began: how much sound the blocks before it held, and where the sound before
/// it (the greeting's words and the bits of it too short for a word) had ended then.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RunStart {
    start_ms: u64,
    /// Blocks of sound among the five before the tone showed.
    sound_before: u32,
    talk_end_ms: Option<u64>,
    /// Tones heard (and ended) before this one.
    earlier_tones: u16,
}

/// A tone judged as a possible beep, with its features (training only: see
/// [`Detector::collect_tone_candidates`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneCandidate {
    /// End of the block it was judged in (ms of audio).
    pub at_ms: u64,
    pub start_ms: u64,
    pub features: [f32; BEEP_FEATURE_COUNT],
}

struct State {
    params: Params,
    blocks: u64,
    floor: NoiseFloor,
    talk: TalkTracker,
    tones: ToneTracker,
    sit: SitProgress,
    /// A tone that could open a SIT, waiting for its end before it may count as a beep.
    held_tone: Option<ToneRun>,
    /// Blocks since the last one above the background: 0 while sounding.
    quiet_blocks: u32,
    /// One bit per recent block, newest lowest: was it sound?
    sound_history: u32,
    /// How the tone now being followed and the one before it began: a tone that ends as the
    /// next begins is judged in the block the next one starts in, by its own start.
    run_starts: [RunStart; 2],
    /// Tones of MIN_TONE_MS or more that have ended since the answer.
    tones_heard: u16,
    /// The last three block levels, for a click-proof envelope.
    recent_levels: [f32; 3],
    /// Smoothed level (dB) of the talk.
    envelope_db: f32,
    /// The talker's typical level (dB) while talking, learnt from the first words.
    talker_db: Option<f32>,
    foreground_hang: u32,
    talker_blocks: u32,
    /// How far the talk envelope swung lately.
    envelope_swing: Swing,
    prev_db: f32,
    prev_rho1: f32,
    prev_rho2: f32,
    voicing: Voicing,
    background_voicing: BackgroundVoicing,
    decision: Option<Decision>,
    evidence: Evidence,
    /// The beep that made a `beep` decision, and whether it was still sounding then.
    deciding_beep: Option<(ToneRun, bool)>,
    /// The SIT code of a `sit` decision, when the segments tell it.
    sit_code: Option<&'static str>,
    message_end: MessageEndWatch,
    /// After a `person` decision: a machine showing itself late.
    late: LateWatch,
    /// A fax answering with its V.21 control channel and no CED tone.
    v21: V21Watch,
    /// A ring tone still coming down the line after the answer.
    ringback: RingbackTracker,
    /// End of the last block heard ringing (0: none). Nobody has answered while the line
    /// rings, so silent_initial counts from here rather than from the answer.
    last_ring_ms: u64,
    /// Start of the first block that was not digital silence: where the line's media began.
    media_start_ms: Option<u64>,
    /// Where the learned decision times the call from: the answer, or the start of media that
    /// began late with the line's background (see noise_floor.rs).
    timed_from_ms: u64,
    /// Every block's figures, only when a caller asked for them (plots).
    trace: Option<Vec<BlockTrace>>,
    /// The call's figures since the greeting started, for the learned decision.
    timeline: Timeline,
    /// The learned model: it confirms the timers' `machine` verdicts with `decision=model`, and
    /// gives every timer's decision its confidence.
    model: Arc<DecisionModel>,
    /// The model's probability that the call is a machine, at the decision.
    machine_probability: Option<f32>,
    /// Training only: a point of the timeline every STEP_MS, and no decision by timing.
    collected: Option<Vec<TimelinePoint>>,
    /// Judges whether a tone is a greeting's beep.
    beep_model: Arc<BeepModel>,
    /// Training only: every tone judged as a possible beep, with its features.
    tone_candidates: Option<Vec<ToneCandidate>>,
}

pub struct Detector {
    rate: u32,
    front: FrontEnd,
    state: State,
}

impl Detector {
    /// A detector for one call; with `decision=model` it decides with the built-in model.
    pub fn new(params: &Params, sample_rate: u32) -> Result<Detector, UnsupportedRate> {
        Detector::with_model(params, sample_rate, DecisionModel::builtin())
    }

    /// A detector that decides with `models`: the decision model where `params` say
    /// `decision=model`, the beep model wherever a tone may be a beep.
    pub fn with_models(params: &Params, sample_rate: u32, models: &Models) -> Result<Detector, UnsupportedRate> {
        let mut detector = Detector::with_model(params, sample_rate, models.decision.clone())?;
        detector.set_beep_model(models.beep.clone());
        Ok(detector)
    }

    /// A detector that decides with `model` where `params` say `decision=model` (and the
    /// built-in beep model).
    pub fn with_model(params: &Params, sample_rate: u32, model: Arc<DecisionModel>) -> Result<Detector, UnsupportedRate> {
        check_rate(sample_rate)?;
        Ok(Detector {
            rate: sample_rate,
            front: FrontEnd::new(sample_rate),
            state: State {
                params: params.clone(),
                blocks: 0,
                floor: NoiseFloor::default(),
                talk: talk_tracker(params),
                tones: ToneTracker::default(),
                sit: SitProgress::default(),
                held_tone: None,
                quiet_blocks: u32::MAX,
                sound_history: 0,
                run_starts: [NO_RUN; 2],
                tones_heard: 0,
                recent_levels: [0.0; 3],
                envelope_db: 0.0,
                talker_db: None,
                foreground_hang: 0,
                talker_blocks: 0,
                envelope_swing: Swing::new(MODULATION_PART_BLOCKS),
                prev_db: 0.0,
                prev_rho1: 0.0,
                prev_rho2: 0.0,
                voicing: Voicing::default(),
                background_voicing: BackgroundVoicing::default(),
                decision: None,
                evidence: Evidence::default(),
                deciding_beep: None,
                sit_code: None,
                message_end: MessageEndWatch::off(),
                late: LateWatch::off(),
                v21: V21Watch::default(),
                ringback: RingbackTracker::default(),
                last_ring_ms: 0,
                media_start_ms: None,
                timed_from_ms: 0,
                trace: None,
                timeline: Timeline::default(),
                model,
                machine_probability: None,
                collected: None,
                beep_model: BeepModel::builtin(),
                tone_candidates: None,
            },
        })
    }

    /// Changes the rate of the frames that follow (a codec change mid-call); time carries on.
    pub fn set_sample_rate(&mut self, sample_rate: u32) -> Result<(), UnsupportedRate> {
        check_rate(sample_rate)?;
        self.rate = sample_rate;
        self.front.set_rate(sample_rate);
        Ok(())
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Feeds one frame of mono 16-bit PCM (any length, may be empty); events go to `on_event`
    /// as they are established (see [`Event`] for their times).
    pub fn push(&mut self, samples: &[i16], on_event: &mut dyn FnMut(Event)) {
        let state = &mut self.state;
        self.front.push(samples, &mut |front, stats| state.on_block(front, stats, on_event));
    }

    /// The decision, once there is one.
    pub fn decision(&self) -> Option<Decision> {
        self.state.decision
    }

    /// The figures behind the decision (all zero before it).
    pub fn evidence(&self) -> Evidence {
        self.state.evidence
    }

    /// Milliseconds of audio analysed so far (whole 10 ms blocks).
    pub fn elapsed_ms(&self) -> u64 {
        self.state.blocks * BLOCK_MS
    }

    /// True when the detector wants no more audio: it has decided, and found the end of the
    /// greeting too when `detect_message_end` asked for it.
    pub fn is_finished(&self) -> bool {
        self.state.decision.is_some() && !self.state.message_end.pending() && !self.state.late.pending()
    }

    /// True between a `person` decision and the end of `late_machine_window`, with
    /// `detect_late_machine`, until a late machine is reported (and its beep has stopped).
    pub fn awaiting_late_machine(&self) -> bool {
        self.state.late.pending()
    }

    /// True between a `machine` decision and the end of its greeting, with `detect_message_end`.
    pub fn awaiting_message_end(&self) -> bool {
        self.state.message_end.pending()
    }

    /// The SIT code (IC, VC, RO, RO', NC, NC', IO) of a `sit` decision, when the segment
    /// frequencies and lengths match one.
    pub fn sit_code(&self) -> Option<&'static str> {
        self.state.sit_code
    }

    pub fn params(&self) -> &Params {
        &self.state.params
    }

    /// Records a [`BlockTrace`] for every block from now on (one push per 10 ms block).
    pub fn keep_trace(&mut self) {
        self.state.trace.get_or_insert_with(Vec::new);
    }

    /// For training a model (`amd train`): from now on a point of the timeline is kept every
    /// STEP_MS once the greeting has started, and timing no longer decides (tones,
    /// silent_initial and total_analysis_time still do), so the points run to the end of the call.
    pub fn collect_timeline(&mut self) {
        self.state.collected.get_or_insert_with(Vec::new);
    }

    /// Training only: keeps every tone judged as a possible beep (in the beep band, longer than a
    /// blip), with its features, before and after the decision alike.
    pub fn collect_tone_candidates(&mut self) {
        self.state.tone_candidates.get_or_insert_with(Vec::new);
    }

    /// The tones collected so far (see [`Detector::collect_tone_candidates`]).
    pub fn take_tone_candidates(&mut self) -> Vec<ToneCandidate> {
        self.state.tone_candidates.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Judges beeps with `model` instead of the built-in one.
    pub fn set_beep_model(&mut self, model: Arc<BeepModel>) {
        self.state.beep_model = model;
    }

    /// The points collected so far (see [`Detector::collect_timeline`]).
    pub fn take_timeline(&mut self) -> Vec<TimelinePoint> {
        self.state.collected.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// How sure the detector is of its decision, 0 to 1. A decision on the greeting's timing
    /// carries the model's probability of the status given (`machine` or `person`); a tone is
    /// a signal on the line and carries 1; `unsure` carries 0.
    pub fn confidence(&self) -> Option<f32> {
        let d = self.state.decision?;
        Some(match (d.status, self.state.machine_probability) {
            (_, _) if matches!(d.cause, Cause::Beep | Cause::Fax | Cause::Sit) => 1.0,
            (Status::Unsure, _) => 0.0,
            (Status::Machine, Some(p)) => p,
            (Status::Person, Some(p)) => 1.0 - p,
            // silent-initial: nobody spoke, so there is no greeting to judge.
            (_, None) => 1.0,
        })
    }

    /// The blocks recorded so far (none unless [`Detector::keep_trace`] was called); recording goes on.
    pub fn take_trace(&mut self) -> Vec<BlockTrace> {
        self.state.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

fn check_rate(rate: u32) -> Result<(), UnsupportedRate> {
    if SUPPORTED_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(UnsupportedRate(rate))
    }
}

/// A talk tracker with nothing heard yet, on the timers of `p`.
fn talk_tracker(p: &Params) -> TalkTracker {
    TalkTracker::new(p.noise_min_length, p.noise_inter_silence, p.silent_max_session, p.silent_after_intro)
}

impl State {
    fn on_block(&mut self, front: &FrontEnd, stats: BlockStats, on_event: &mut dyn FnMut(Event)) {
        self.blocks += 1;
        let now = self.blocks * BLOCK_MS;
        let db = level_db(stats.level);
        if self.media_start_ms.is_none() && stats.level >= DIGITAL_SILENCE {
            self.media_start_ms = Some(now - BLOCK_MS);
        }

        // Voicing is worked out while it can still change something: before the decision, and
        // while a machine's greeting is followed to its end (its words in loud noise must not
        // pass for the silence that ends it).
        let periodicity = if self.decision.is_none() || self.message_end.pending() || self.late.pending() {
            let mut block = [0.0f32; BLOCK];
            front.last_block(&mut block);
            self.voicing.update(&block)
        } else {
            0.0
        };
        let voice_in_noise = periodicity >= VOICED && self.background_voicing.is_noise();
        // Tone analysis (the beep tracker's, the ring check's) costs an FFT, so it runs only
        // where a tone could be: an audible block that correlates at lags 1 and 2 as a tone does,
        // well above the background. Until the background has been heard for a moment, any
        // such block may be a tone (a fax or a ring there from the answer).
        let peaky = stats.rho1.abs().max(stats.rho2.abs()) >= 0.4;
        let above_background = db >= self.floor.db() + TONE_GATE_DB || !self.floor.is_settled();
        let audible = stats.level >= MIN_TONE_LEVEL;
        let ringing = self.hears_ringback(front, peaky && audible, above_background);
        let sound = !ringing && self.is_sound(stats.level, db, voice_in_noise);
        self.quiet_blocks = if sound { 0 } else { self.quiet_blocks.saturating_add(1) };
        let background = !sound && stats.level >= self.params.silent_threshold as f32 && db < self.floor.db() + BACKGROUND_BAND_DB;
        // Not inside talk: there the quiet blocks are mostly a voice's weak, voiced tails, and
        // over a greeting in loud noise they would make the noise look like voices.
        if self.decision.is_none() && background && !self.talk.is_talking() {
            self.voicing.note_background();
            self.background_voicing.update(periodicity);
        }
        let foreground = self.is_foreground(stats.level, voice_in_noise, periodicity);
        let over_background = sound;
        let sound = sound && foreground;
        if let Some(trace) = &mut self.trace {
            trace.push(BlockTrace { end_ms: now, level: stats.level, floor_db: self.floor.db(), sound });
        }

        // A new beep is looked for only where the block's level and spectrum barely changed
        // since the last one.
        let steady = (db - self.prev_db).abs() < 3.0
            && (stats.rho1 - self.prev_rho1).abs() < STEADY_RHO_STEP
            && (stats.rho2 - self.prev_rho2).abs() < STEADY_RHO_STEP;
        let worth_a_look = peaky && above_background && audible;
        let may_start_tone = steady && worth_a_look;
        let observation = if (self.tones.active() && audible) || may_start_tone {
            let mut window = [0.0f32; HISTORY];
            front.recent(&mut window);
            tone::observe(&window, self.tones.following())
        } else {
            None
        };
        self.prev_db = db;
        self.prev_rho1 = stats.rho1;
        self.prev_rho2 = stats.rho2;
        let following = self.tones.current_start();
        let tone_update = self.tones.update(now, observation, db, may_start_tone);
        if let Some(ToneUpdate::Ended(run)) = tone_update {
            if run.duration_ms >= MIN_TONE_MS {
                self.tones_heard = self.tones_heard.saturating_add(1);
            }
        }
        // A steady tone is a signal on the line, not its background. A run of a block or two is
        // not one: noise looks tonal for a moment now and then, and where it does so block
        // after block (hum residue, rumble) the floor would otherwise never learn the line.
        let in_tone = self.tones.current_start().is_some_and(|start| now.saturating_sub(start) >= MIN_TONE_MS);
        let media_began_with_background = !in_tone && !ringing && self.floor.update(stats.level);
        // A new run, out of nothing or straight after another tone (hum under a pause, then the beep).
        if self.tones.current_start().is_some_and(|start| following != Some(start)) {
            // The tone became visible some blocks after it began; look at the blocks before that.
            let before = self.sound_history >> (tone::WINDOW_LAG_MS / BLOCK_MS);
            let start = self.tones.current_start().expect("checked above");
            // Not just its words: the end of a greeting that goes on quieter than it began passes
            // for the room, not for talk, yet it is what the beep follows.
            let run_start = RunStart { start_ms: start, sound_before: (before & 0b11111).count_ones(), talk_end_ms: self.last_activity(), earlier_tones: self.tones_heard };
            self.run_starts = [run_start, self.run_starts[0]];
        }
        self.sound_history = (self.sound_history << 1) | u32::from(sound);

        // Asked only until the first word, the one that loose syllables may make.
        let syllables_join = self.talk.first_word_start().is_none() && self.background_voicing.is_steady_noise();
        let edge = self.talk.update(now, sound, syllables_join);
        match edge {
            Some(TalkEdge::Start { at_ms }) => on_event(Event::StartTalking { at_ms }),
            Some(TalkEdge::Stop { at_ms }) => on_event(Event::StopTalking { at_ms }),
            None => {}
        }
        if self.decision.is_none() && self.talk.greeting_start().is_some() {
            let started = matches!(edge, Some(TalkEdge::Start { .. }));
            self.timeline.observe(sound, periodicity >= VOICED, over_background, started);
        }
        if media_began_with_background && self.decision.is_none() {
            self.forget_talk(now, on_event);
        }
        if ringing {
            // Its onset passed for sound until the ring was recognised.
            self.talk.forget_lead();
            self.last_ring_ms = now;
        }

        if let (true, Some(ToneUpdate::Ongoing(run))) = (self.tone_candidates.is_some(), tone_update) {
            if in_beep_band(&run) && run.duration_ms >= MIN_TONE_MS {
                let features = beep_features::features(&run, &self.tone_context(&run, None));
                let candidate = ToneCandidate { at_ms: now, start_ms: run.start_ms, features };
                self.tone_candidates.as_mut().expect("checked above").push(candidate);
            }
        }

        if self.decision.is_some() {
            let view = BlockView {
                now,
                tone: tone_update,
                tone_active: self.tones.active(),
                last_activity_ms: self.talk.last_activity_end(),
            };
            let mut watch = self.message_end;
            let event = watch.on_block(&view, |run| self.is_beep(run, BeepContext::AfterMachine, None));
            self.message_end = watch;
            if let Some(event) = event {
                on_event(event);
            }
            if self.late.pending() {
                // Fax and SIT as before a decision; a beep as at the end of a greeting.
                let v21_heard = self.v21.update(front, &stats);
                let signal = match tone_update.and_then(|u| self.judge_tone(u)) {
                    Some((_, Cause::Fax)) => Some(LateKind::Fax),
                    Some((_, Cause::Sit)) => Some(LateKind::Sit),
                    _ => v21_heard.then_some(LateKind::Fax),
                };
                let mut late = self.late;
                let event = late.on_block(now, tone_update, self.tones.active(), signal, |run| self.is_beep(run, BeepContext::AfterPerson, None));
                self.late = late;
                if let Some(event) = event {
                    on_event(event);
                }
            }
            return;
        }
        let v21_heard = self.v21.update(front, &stats);
        let verdict = tone_update
            .and_then(|u| self.judge_tone(u))
            .or_else(|| v21_heard.then_some((Status::Machine, Cause::Fax)))
            .or_else(|| self.judge_timing(now));
        if let Some((status, cause)) = verdict {
            let decision = Decision { status, cause, at_ms: now };
            self.evidence = self.measure(now);
            self.decision = Some(decision);
            on_event(Event::Decided(decision));
            let beep = if cause == Cause::Beep { self.deciding_beep } else { None };
            let (watch, event) = MessageEndWatch::start(&self.params, &decision, beep);
            self.message_end = watch;
            self.late = LateWatch::start(&self.params, &decision);
            if let Some(event) = event {
                on_event(event);
            }
        }
    }

    /// Whether a ring tone is still coming down the line, asked until the first word: before
    /// anybody answered it is neither talk nor the background (see ringback.rs).
    /// `tone_like` and `above_background` are the block's tone gate (see on_block); once a ring
    /// may be starting it is looked at whatever its level.
    fn hears_ringback(&mut self, front: &FrontEnd, tone_like: bool, above_background: bool) -> bool {
        if self.decision.is_some() || self.talk.first_word_start().is_some() {
            return false;
        }
        let may_ring = tone_like && (above_background || self.ringback.is_following());
        let centre = if may_ring {
            let mut window = [0.0f32; HISTORY];
            front.recent(&mut window);
            ringback::observe(&window)
        } else {
            None
        };
        self.ringback.update(centre)
    }

    /// Once somebody has spoken, sound far quieter than they were is the room behind them
    /// (a TV, other talkers, traffic), not more of their greeting.
    fn is_foreground(&mut self, level: f32, voice_in_noise: bool, periodicity: f32) -> bool {
        self.recent_levels = [self.recent_levels[1], self.recent_levels[2], level];
        let [a, b, c] = self.recent_levels;
        self.envelope_db += (level_db(median_of_three(a, b, c)) - self.envelope_db) * ENVELOPE_SMOOTHING;
        let swing = self.envelope_swing.update(self.envelope_db);
        // In loud line or car noise a voice cannot swing 14 dB (the noise fills its pauses),
        // but there its periodicity alone tells it from the background.
        let modulated = swing >= MIN_MODULATION_DB || voice_in_noise;
        let strongly_modulated = swing >= STRONG_MODULATION_DB;
        let drop = self.params.foreground_drop_db as f32;
        let sound_now = self.quiet_blocks == 0;
        let Some(talker) = self.talker_db else {
            if self.talk.first_word_start().is_some() {
                self.talker_db = Some(self.envelope_db);
            }
            return true;
        };
        // With foreground_drop_db=0 everything heard is the talker's: their level is still
        // learnt, as a beep is judged against it.
        let below = talker - self.envelope_db;
        let talker_voice = periodicity >= TALKER_VOICED && below <= 0.0;
        let foreground = drop == 0.0
            || talker_voice
            || (modulated && (below <= drop || (strongly_modulated && below <= STRONG_MODULATION_REACH * drop)));
        if foreground && sound_now && (self.talker_blocks < TALKER_LEARN_BLOCKS || self.envelope_db > talker) {
            // The talker's typical level while talking, not its loudest syllable. Learnt from the
            // first words only: later on, a background that AGC pumps up would otherwise drag it
            // down to its own level.
            self.talker_db = Some(talker + (self.envelope_db - talker) * TALKER_SMOOTHING);
            self.talker_blocks += 1;
        }
        if foreground {
            self.foreground_hang = FOREGROUND_HANG_BLOCKS;
            true
        } else if self.foreground_hang > 0 {
            // Weak syllables dip under the line for a moment; the room behind stays under it.
            self.foreground_hang -= 1;
            true
        } else {
            false
        }
    }

    fn is_sound(&self, level: f32, db: f32, voice_in_noise: bool) -> bool {
        if level < self.params.silent_threshold as f32 {
            return false;
        }
        let margin = self.params.noise_floor_margin_db as f32;
        if margin == 0.0 {
            return true;
        }
        let in_word = self.quiet_blocks == 0 || (self.background_voicing.is_noise() && self.quiet_blocks < NOISE_WORD_HOLD_BLOCKS);
        let mut needed = if in_word { margin - HYSTERESIS_DB } else { margin };
        if self.talk.first_word_start().is_none() && !(in_word && voice_in_noise) {
            needed += FIRST_WORD_EXTRA_DB;
        }
        if voice_in_noise {
            // A voice's weaker vowels sink into loud noise first; periodic, they are still voice.
            needed -= VOICE_IN_NOISE_RELIEF_DB;
        }
        db >= self.floor.db() + needed
    }

    /// Whether nothing but the tone itself was heard before it: no speech, or only sound that ran
    /// on into the tone as one word (a codec or a comfort-noise gate smearing its onset).
    fn nothing_said_before(&self, run: &ToneRun) -> bool {
        let latest = self.run_starts[0];
        let ran_into_it = latest.start_ms == run.start_ms && latest.talk_end_ms.is_some_and(|end| end >= run.start_ms);
        !self.spoke_before(run.start_ms) || (ran_into_it && self.talk.words() <= 1)
    }

    /// Forgets the talk heard so far: it was the line's background, heard from media that began
    /// after the answer (see noise_floor.rs), and nothing but digital silence came before it. The
    /// call is timed from there on, as a call whose media begins at the answer is: a person's
    /// hello comes as long after the first sound of the line.
    fn forget_talk(&mut self, now: u64, on_event: &mut dyn FnMut(Event)) {
        self.timed_from_ms = self.media_start_ms.unwrap_or(0);
        if self.talk.is_talking() {
            on_event(Event::StopTalking { at_ms: now });
        }
        self.talk = talk_tracker(&self.params);
        self.timeline = Timeline::default();
        self.talker_db = None;
        self.sound_history = 0;
        // Training: the points taken while the background passed for a greeting are no call's.
        if let Some(points) = self.collected.as_mut() {
            points.clear();
        }
    }

    /// Whether speech was heard before `at_ms`.
    fn spoke_before(&self, at_ms: u64) -> bool {
        self.talk.first_word_start().is_some_and(|s| s + MIN_BEEP_MS < at_ms)
    }

    fn judge_tone(&mut self, update: ToneUpdate) -> Option<(Status, Cause)> {
        let machine = |cause| Some((Status::Machine, cause));
        match update {
            ToneUpdate::Ongoing(run) => {
                if tone::is_ced(&run) {
                    return if run.duration_ms >= MIN_CED_MS { machine(Cause::Fax) } else { None };
                }
                if tone::is_cng(&run) && self.nothing_said_before(&run) {
                    return if run.duration_ms >= MIN_CNG_MS { machine(Cause::Fax) } else { None };
                }
                if let (Some(first), Some(second)) = (self.sit.first, self.sit.second) {
                    if run.start_ms <= second.end_ms() + SIT_GAP_MS {
                        // Could be the third segment: not a beep before it is long enough to tell.
                        if run.duration_ms < MIN_BEEP_MS {
                            return None;
                        }
                        if let Some(code) = tone::sit_code(&first, &second, &run) {
                            self.sit_code = Some(code).filter(|c| *c != tone::UNKNOWN_SIT);
                            return machine(Cause::Sit);
                        }
                    }
                }
                if tone::may_start_sit(&run) || (tone::may_continue_sit(&run) && self.sit.first.is_some()) {
                    // Could be part of a SIT: decide when it ends.
                    self.held_tone = Some(run);
                    return None;
                }
                if self.is_beep(&run, BeepContext::BeforeDecision, None) {
                    self.deciding_beep = Some((run, true));
                    return machine(Cause::Beep);
                }
                None
            }
            ToneUpdate::Ended(run) => {
                self.held_tone = None;
                if run.duration_ms < MIN_TONE_MS {
                    // A blip, e.g. the window straddling two SIT segments: it changes nothing.
                    return None;
                }
                if tone::sit_segment_length(&run) {
                    if tone::may_start_sit(&run) {
                        self.sit = SitProgress { first: Some(run), second: None, first_start: self.run_start(run.start_ms) };
                        return None;
                    }
                    if let Some(first) = self.sit.first {
                        if tone::may_continue_sit(&run) && run.start_ms <= first.end_ms() + SIT_GAP_MS {
                            self.sit.second = Some(run);
                            return None;
                        }
                    }
                }
                self.sit = SitProgress::default();
                if self.is_beep(&run, BeepContext::BeforeDecision, None) && !tone::is_ced(&run) && !tone::is_cng(&run) {
                    self.deciding_beep = Some((run, false));
                    return machine(Cause::Beep);
                }
                None
            }
        }
    }

    /// Whether a tone is a greeting's beep, as the beep model judges it in `context`: in the band
    /// beeps are made in, heard for longer than a passing blip, and, before a decision, only
    /// where beeps are asked for and while no decision is taken (the late watch asks judge_tone
    /// for fax and SIT only, and judges beeps itself: the model is not asked twice a block).
    /// `start` is how the tone began, when the latest runs no longer say (a SIT's first segment
    /// judged after the sequence broke off).
    fn is_beep(&self, run: &ToneRun, context: BeepContext, start: Option<RunStart>) -> bool {
        let asked = match context {
            BeepContext::BeforeDecision => self.decision.is_none() && self.params.detect_beep,
            BeepContext::AfterMachine | BeepContext::AfterPerson => true,
        };
        asked
            && in_beep_band(run)
            && run.duration_ms >= MIN_TONE_MS
            && self.beep_model.is_beep(&beep_features::features(run, &self.tone_context(run, start)), context)
    }

    /// How the latest runs began, for the one that started at `start_ms`.
    fn run_start(&self, start_ms: u64) -> Option<RunStart> {
        self.run_starts.iter().copied().find(|r| r.start_ms == start_ms)
    }

    /// What the beep model reads around `run` besides the run itself.
    fn tone_context(&self, run: &ToneRun, start: Option<RunStart>) -> ToneContext {
        let start = start.or_else(|| self.run_start(run.start_ms));
        ToneContext {
            floor_db: self.floor.db(),
            talker_db: self.talker_db,
            // A run whose beginning is no longer known is taken to have come out of talk.
            sound_before: start.map_or(5, |s| s.sound_before),
            bridged: self.tones.was_bridged(run.start_ms),
            background_periodicity: self.background_voicing.periodicity(),
            talk_end_ms: start.and_then(|s| s.talk_end_ms),
            spoke_before: self.spoke_before(run.start_ms),
            words: self.talk.words(),
            earlier_tones: start.map_or(self.tones_heard, |s| s.earlier_tones),
        }
    }

    fn measure(&self, now: u64) -> Evidence {
        let first = self.talk.greeting_start();
        let last_sound = self.greeting_end();
        let last_activity = self.last_activity();
        Evidence {
            words: self.talk.words(),
            greeting_ms: match (first, last_sound) {
                (Some(f), Some(l)) => l.saturating_sub(f),
                _ => 0,
            },
            silence_ms: now.saturating_sub(last_activity.unwrap_or(0)),
            longest_word_ms: self.talk.longest_word_ms(),
        }
    }

    /// End of the greeting so far: its last word.
    fn greeting_end(&self) -> Option<u64> {
        self.talk.last_sound_end()
    }

    /// End of the last sound that keeps the silence after the greeting from beginning.
    fn last_activity(&self) -> Option<u64> {
        self.talk.last_activity_end()
    }

    /// The call's timeline now (see timeline.rs).
    fn timeline_point(&self, now: u64, greeting_start: u64) -> TimelinePoint {
        let evidence = self.measure(now);
        self.timeline.point(&Moment {
            now_ms: now,
            silence_from_ms: self.last_ring_ms.max(self.timed_from_ms),
            greeting_start_ms: greeting_start,
            greeting_ms: evidence.greeting_ms,
            silence_ms: evidence.silence_ms,
            words: evidence.words,
            longest_word_ms: evidence.longest_word_ms,
            talker_db: self.talker_db,
            background_db: self.floor.db(),
            envelope_db: self.envelope_db,
            sound_history: self.sound_history,
        })
    }

    /// The model's probability that the call is a machine, from its timeline now.
    fn judge_by_model(&mut self, now: u64, greeting_start: u64) -> f32 {
        let p = self.model.machine_probability(&self.timeline_point(now, greeting_start).features);
        self.machine_probability = Some(p);
        p
    }

    /// Whether a timer's `machine` verdict stands: always by the rules; with `decision=model`
    /// only once the model agrees. It is asked every STEP_MS while a timer says `machine`:
    /// a person whose greeting ran long, or whose room went on talking after it, then still has
    /// the silence after their greeting to be called a person by.
    fn machine_stands(&mut self, now: u64, greeting_start: u64) -> bool {
        // `decision=model`: a timer's `machine` verdict stands only once the model agrees.
        if self.params.decision != DecisionMode::Model {
            // For the decision's confidence.
            self.judge_by_model(now, greeting_start);
            return true;
        }
        let machine_at = match self.params.machine_confidence {
            0 => self.model.policy.machine_at,
            percent => percent as f32 / 100.0,
        };
        now.is_multiple_of(STEP_MS) && self.judge_by_model(now, greeting_start) >= machine_at
    }

    fn judge_timing(&mut self, now: u64) -> Option<(Status, Cause)> {
        // A SIT sequence in progress whose next segment is overdue may have been a beep after
        // all: its first segment is judged as any other tone, so a tone in the room, or one
        // before anybody spoke, is not taken for a beep here either.
        if let Some(first) = self.sit.first {
            let last = self.sit.second.unwrap_or(first);
            if !self.tones.active() && now > last.end_ms() + SIT_GAP_MS {
                let first_start = self.sit.first_start;
                self.sit = SitProgress::default();
                if self.is_beep(&first, BeepContext::BeforeDecision, first_start) {
                    // One beep in one or two steps: it began with the first and ended with the last.
                    let whole = ToneRun { duration_ms: last.end_ms() - first.start_ms, ..first };
                    self.deciding_beep = Some((whole, false));
                    return Some((Status::Machine, Cause::Beep));
                }
            }
        }
        let p = &self.params;
        let waiting_on_tone = self.held_tone.is_some() || self.sit.first.is_some();
        match self.talk.greeting_start() {
            None => {
                if now - self.last_ring_ms >= u64::from(p.silent_initial) && !waiting_on_tone {
                    let status = if p.silent_initial_machine { Status::Machine } else { Status::Person };
                    return Some((status, Cause::SilentInitial));
                }
            }
            Some(greeting_start) if self.collected.is_some() => {
                if now.is_multiple_of(STEP_MS) {
                    let point = self.timeline_point(now, greeting_start);
                    self.collected.as_mut().expect("checked above").push(point);
                }
            }
            Some(greeting_start) => {
                let last_sound = self.greeting_end().unwrap_or(greeting_start);
                let machine = if self.talk.words() > p.noise_max_count {
                    Some(Cause::MaxCount)
                } else if p.noise_max_word_length > 0 && self.talk.longest_word_ms() >= u64::from(p.noise_max_word_length) {
                    Some(Cause::MaxWordLength)
                } else if last_sound - greeting_start >= u64::from(p.noise_max_intro) {
                    Some(Cause::MaxIntro)
                } else {
                    None
                };
                let last_activity = self.last_activity().unwrap_or(last_sound);
                let person = now - last_activity >= u64::from(p.silent_after_intro) && !waiting_on_tone && !self.tones.active();
                if let Some(cause) = machine {
                    if self.machine_stands(now, greeting_start) {
                        return Some((Status::Machine, cause));
                    }
                }
                if person {
                    // For the decision's confidence.
                    self.judge_by_model(now, greeting_start);
                    return Some((Status::Person, Cause::SilentAfterIntro));
                }
            }
        }
        if now >= u64::from(self.params.total_analysis_time) {
            return Some((Status::Unsure, Cause::TooLong));
        }
        None
    }
}
