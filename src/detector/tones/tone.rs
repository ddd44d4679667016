//! Steady tones: voicemail beeps, fax CED/CNG and special information tones (SIT).
//!
//! A tone is one or two narrow spectral peaks that hold most of the energy and keep their
//! pitch and level from block to block. Speech moves its harmonics within tens of ms, music
//! chords spread their energy over many peaks, and noise has no peak: none of them stays
//! "one or two steady peaks" for 80 ms.

use crate::detector::dsp::fft::{power_spectrum, BINS};
use crate::detector::dsp::median::median_of_three;
use crate::detector::dsp::wide::LANES;
use crate::detector::frontend::{BLOCK_MS, HISTORY, INTERNAL_RATE};

pub const BIN_HZ: f32 = INTERNAL_RATE as f32 / HISTORY as f32;
/// Band searched for tones (Hz).
const BAND_LO_HZ: f32 = 250.0;
const BAND_HI_HZ: f32 = 3600.0;
pub const BAND_LO: usize = (BAND_LO_HZ / BIN_HZ) as usize;
pub const BAND_HI: usize = {
    let hi = (BAND_HI_HZ / BIN_HZ) as usize;
    if hi < BINS - 1 - PEAK_HALF_WIDTH { hi } else { BINS - 1 - PEAK_HALF_WIDTH }
};
/// Share of the band's energy one peak must hold for a single tone.
const SINGLE_SHARE: f32 = 0.72;
/// Share two peaks must hold together for a dual tone, and the weaker peak's least share.
const DUAL_SHARE: f32 = 0.85;
const DUAL_MINOR: f32 = 0.12;
/// Peak width counted as the tone (bins either side; the Hann main lobe is two bins wide).
const PEAK_HALF_WIDTH: usize = 2;
/// How far a tone's pitch may move between blocks, as a fraction of its frequency.
const PITCH_TOLERANCE: f32 = 0.015;
/// Least pitch tolerance in Hz (frequency estimates are good to a few Hz).
const PITCH_TOLERANCE_HZ: f32 = 8.0;
/// Blocks a tone may go unseen, or jump in level, and still go on.
const MAX_MISSES: u8 = 1;
/// A block still at the tone's pitch whose level moved by less than this is the tone wobbling
/// through a codec (GSM moved one steady beep's block level by 4.6 dB for two blocks), not
/// something else starting: it is forgiven for one block more than an odd block is.
const WOBBLE_DB: f32 = 8.0;
const MAX_WOBBLE_MISSES: u8 = MAX_MISSES + 1;
/// A tone at a signalling frequency (CED, CNG, a SIT segment) through a mobile codec in noise
/// goes unseen for up to this many blocks (two or so of the codec's 20 ms frames) and comes back
/// in its band: it is the same tone, which its own rules (a CED's length, a SIT's segments) judge
/// whole. A run carried over more blocks than a wobbling tone is forgiven (MAX_WOBBLE_MISSES) is
/// no beep: notes of music fall in these bands too.
const MAX_SIGNAL_MISSES: u8 = 5;
/// A block this far under the tone is a lost packet (or a splice), not the tone ending...
const DROPOUT_DB: f32 = 20.0;
/// ... for as long as a few lost packets last; after that the tone has stopped.
const MAX_DROPOUT_BLOCKS: u8 = 3;
/// Blocks after a lost packet whose analysis window still holds the gap.
const DROPOUT_GRACE_BLOCKS: u8 = (HISTORY as u64 * 1000 / INTERNAL_RATE as u64 / BLOCK_MS) as u8;
/// Largest level step between blocks (dB); decaying beeps lose about 1 dB a block.
const LEVEL_STEP_DB: f32 = 3.0;
/// Share of the gap to a block's level the run's smoothed level closes (about 30 ms to settle).
const STEADY_LEVEL_SMOOTHING: f32 = 0.3;
/// Share of that gap the run's level trend takes up per block (the pace of a decay is learnt in
/// a few blocks), and the fastest decay followed, dB per block. A tone only falls or holds:
/// one that swells is something else starting.
const TREND_SMOOTHING: f32 = 0.15;
const MAX_DECAY_DB: f32 = 2.5;
/// The analysis window is longer than a block: a tone shows up this late and ends this late.
pub const WINDOW_LAG_MS: u64 = (HISTORY as u64 * 1000 / INTERNAL_RATE as u64) * 3 / 4;

/// One block's view of the spectrum, when it looked like a tone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneObservation {
    pub freq: f32,
    /// The second tone of a dual-tone signal.
    pub freq2: Option<f32>,
    /// Share of the band's energy the tone (both tones) held: a generated tone holds nearly
    /// all of it, a vowel or a note of music spreads some over its harmonics.
    pub share: f32,
}

/// Looks for one or two dominant steady peaks in the last HISTORY samples. While a tone is
/// being followed, it goes on as long as it still holds a good part of the band
/// ([`CONTINUE_SHARE`]) even if it no longer dominates as a new tone must.
pub fn observe(samples: &[f32; HISTORY], following: Option<ToneObservation>) -> Option<ToneObservation> {
    let (power, total) = band_spectrum(samples)?;
    let band = &power[BAND_LO..=BAND_HI];
    if let Some(seen) = following.and_then(|f| still_there(&power, total, f)) {
        return Some(seen);
    }
    let k1 = BAND_LO + argmax(band)?;
    let e1 = peak_energy(&power, k1);
    if e1 / total >= SINGLE_SHARE {
        return Some(ToneObservation { freq: peak_freq(&power, k1), freq2: None, share: e1 / total });
    }
    // The strongest bin clear of the first peak's lobe.
    let clear = 2 * PEAK_HALF_WIDTH;
    let below = argmax(&power[BAND_LO..k1.saturating_sub(clear).max(BAND_LO)]).map(|k| BAND_LO + k);
    let above = argmax(&power[(k1 + clear + 1).min(BAND_HI + 1)..=BAND_HI]).map(|k| k1 + clear + 1 + k);
    let k2 = match (below, above) {
        (Some(a), Some(b)) => if power[b] > power[a] { b } else { a },
        (a, b) => a.or(b)?,
    };
    let e2 = peak_energy(&power, k2);
    if (e1 + e2) / total >= DUAL_SHARE && e2 / total >= DUAL_MINOR {
        let (a, b) = (peak_freq(&power, k1), peak_freq(&power, k2));
        return Some(ToneObservation { freq: a.min(b), freq2: Some(a.max(b)), share: (e1 + e2) / total });
    }
    None
}

/// Share of the band a tone already being followed must keep, alone or with its partner: a
/// beep decaying into noise, or one with a talker or hum under it, is still the same beep.
const CONTINUE_SHARE: f32 = 0.5;
/// How long a tone must have dominated the band before CONTINUE_SHARE applies to it (ms).
const CONTINUE_AFTER_MS: u64 = 50;

/// The followed tone, if its peak (or both peaks) still stand where they were and hold
/// CONTINUE_SHARE of the band.
fn still_there(power: &[f32; BINS], total: f32, following: ToneObservation) -> Option<ToneObservation> {
    let peak_near = |freq: f32| {
        let k = (freq / BIN_HZ).round() as usize;
        let k = (k.max(BAND_LO + 1) - 1..=(k + 1).min(BAND_HI)).max_by(|&a, &b| power[a].total_cmp(&power[b]))?;
        let seen = peak_freq(power, k);
        same_pitch(seen, freq).then_some((seen, peak_energy(power, k)))
    };
    let (f1, e1) = peak_near(following.freq)?;
    match following.freq2 {
        None => (e1 / total >= CONTINUE_SHARE).then_some(ToneObservation { freq: f1, freq2: None, share: e1 / total }),
        Some(freq2) => {
            let (f2, e2) = peak_near(freq2)?;
            let both = (e1 + e2) / total >= CONTINUE_SHARE && e1.min(e2) / total >= DUAL_MINOR / 2.0;
            both.then_some(ToneObservation { freq: f1, freq2: Some(f2), share: (e1 + e2) / total })
        }
    }
}

/// The power spectrum of the last HISTORY samples and the energy of the band tones are looked
/// for in; None when the band is empty (digital silence).
pub fn band_spectrum(samples: &[f32; HISTORY]) -> Option<([f32; BINS], f32)> {
    let mut power = [0.0f32; BINS];
    power_spectrum(samples, &mut power);
    let total = sum(&power[BAND_LO..=BAND_HI]);
    if total <= 0.0 {
        return None;
    }
    Some((power, total))
}

/// The sum, kept in LANES running totals so that the loop runs as vector operations.
pub fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (l, v) in lanes.iter_mut().zip(chunk) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// Index of the largest value (the first of equals), None when empty.
pub fn argmax(values: &[f32]) -> Option<usize> {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder().iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for chunk in chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l = l.max(v);
        }
    }
    let max = lanes.iter().fold(rest, |a, &b| a.max(b));
    values.iter().position(|&v| v == max)
}

fn peak_energy(power: &[f32; BINS], k: usize) -> f32 {
    power[k - PEAK_HALF_WIDTH..=k + PEAK_HALF_WIDTH].iter().sum()
}

/// Interpolated peak frequency (the estimator that is exact for a Hann-windowed sinusoid).
fn peak_freq(power: &[f32; BINS], k: usize) -> f32 {
    let (a, b, c) = (power[k - 1].sqrt(), power[k].sqrt(), power[k + 1].sqrt());
    let denom = a + 2.0 * b + c;
    let delta = if denom > 0.0 { 2.0 * (c - a) / denom } else { 0.0 };
    (k as f32 + delta.clamp(-1.0, 1.0)) * BIN_HZ
}

/// How far a steady tone's pitch may wander over its length: 1.4% of its frequency, at most 8 Hz.
/// Generated tones hold their pitch to a few Hz even through noise and codecs; a vowel held by a
/// voice, even a synthetic one, drifts by 2% and more within 80 ms, and a low one (a nasal, an
/// "oo") by only a few Hz, which the share keeps tight. The beep model measures a tone's pitch
/// spread in this unit, and a beep must keep to it (beep_model.rs).
const STEADY_PITCH_SHARE: f32 = 0.014;
const STEADY_PITCH_MAX_HZ: f32 = 8.0;

pub fn steady_pitch_tolerance(run: &ToneRun) -> f32 {
    (run.freq * STEADY_PITCH_SHARE).min(STEADY_PITCH_MAX_HZ)
}

fn same_pitch(a: f32, b: f32) -> bool {
    (a - b).abs() <= (a * PITCH_TOLERANCE).max(PITCH_TOLERANCE_HZ)
}

/// A run of blocks holding the same tone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneRun {
    /// Estimated start of the tone in ms of audio.
    pub start_ms: u64,
    /// Length so far (or in all, once ended) in ms.
    pub duration_ms: u64,
    pub freq: f32,
    pub freq2: Option<f32>,
    pub level_db: f32,
    /// The loudest block so far: a beep that dies away falls from it.
    pub peak_level_db: f32,
    /// Over the run's blocks: the share of the band the tone held, and how far each block's
    /// level strayed from where the run's level and its trend put it (dB).
    pub share_sum: f32,
    pub wobble_sum: f32,
    /// The pitches seen in the run's blocks: a beep holds its pitch to a few Hz, a sung or
    /// spoken vowel wanders.
    pub pitches: PitchRange,
}

/// How a run's per-block pitches spread: their extremes, the extremes of their running median
/// of three, how often they turn back, and a least-squares line through them (the sums over
/// the pitch less the first one as y; x is the block number, 0, 1, 2 ..., so its own sums
/// follow from the count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchRange {
    low: f32,
    high: f32,
    /// The two pitches before the newest.
    previous: [f32; 2],
    median_low: f32,
    median_high: f32,
    /// Blocks where the pitch turned back (rose after falling or fell after rising).
    turns: u16,
    blocks: u16,
    first: f32,
    sum_y: f32,
    sum_xy: f32,
}

impl PitchRange {
    pub fn new(freq: f32) -> PitchRange {
        PitchRange {
            low: freq,
            high: freq,
            previous: [freq; 2],
            median_low: f32::INFINITY,
            median_high: f32::NEG_INFINITY,
            turns: 0,
            blocks: 1,
            first: freq,
            sum_y: 0.0,
            sum_xy: 0.0,
        }
    }

    pub fn add(&mut self, freq: f32) {
        self.low = self.low.min(freq);
        self.high = self.high.max(freq);
        if self.blocks >= 2 {
            let [a, b] = self.previous;
            if (b - a) * (freq - b) < 0.0 {
                self.turns = self.turns.saturating_add(1);
            }
            let median = median_of_three(a, b, freq);
            self.median_low = self.median_low.min(median);
            self.median_high = self.median_high.max(median);
        }
        self.previous = [self.previous[1], freq];
        let y = freq - self.first;
        self.sum_y += y;
        self.sum_xy += f32::from(self.blocks) * y;
        self.blocks = self.blocks.saturating_add(1);
    }

    /// How far the line through the pitches moves over the run (Hz).
    pub fn drift_hz(&self) -> f32 {
        let n = f32::from(self.blocks);
        let sum_x = n * (n - 1.0) / 2.0;
        let sum_xx = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0;
        let den = n * sum_xx - sum_x * sum_x;
        if den <= 0.0 {
            return 0.0;
        }
        let slope = (n * self.sum_xy - sum_x * self.sum_y) / den;
        (slope * (n - 1.0)).abs()
    }

    /// Highest less lowest pitch (Hz).
    pub fn spread_hz(&self) -> f32 {
        self.high - self.low
    }

    /// Highest less lowest running median of three pitches (Hz; infinite before there are three).
    pub fn median_spread_hz(&self) -> f32 {
        self.median_high - self.median_low
    }

    pub fn blocks(&self) -> u16 {
        self.blocks
    }

    /// Whether the pitch turned back at every other block at least.
    pub fn is_jumpy(&self) -> bool {
        2 * u32::from(self.turns) + 2 >= u32::from(self.blocks)
    }
}

impl ToneRun {
    /// The share of the band the tone held, on average over its blocks.
    pub fn mean_share(&self) -> f32 {
        self.share_sum / f32::from(self.pitches.blocks().max(1))
    }

    /// How far its level strayed from block to block, on average (dB).
    pub fn mean_wobble_db(&self) -> f32 {
        self.wobble_sum / f32::from(self.pitches.blocks().saturating_sub(1).max(1))
    }

    /// Estimated end of the tone (so far) in ms of audio.
    pub fn end_ms(&self) -> u64 {
        self.start_ms + self.duration_ms
    }
}

/// What the tracker saw in one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToneUpdate {
    /// A tone is going on (sent every block while it lasts).
    Ongoing(ToneRun),
    /// The tone that was going on has stopped.
    Ended(ToneRun),
}

/// Follows one tone at a time across blocks.
#[derive(Debug, Default)]
pub struct ToneTracker {
    run: Option<ToneRun>,
    misses: u8,
    /// Start of the latest run carried over a gap only a signalling tone is forgiven.
    bridged: Option<u64>,
    /// Blocks still to forgive after a lost packet.
    grace: u8,
    /// Blocks in a row the level has collapsed.
    dropout: u8,
    /// The run's level, smoothed over a few blocks (dB).
    steady_db: f32,
    /// How the run's level has been moving, dB per block, smoothed: a beep that dies away keeps
    /// falling at its own pace, and is judged against where that pace takes it.
    trend_db: f32,
}

impl ToneTracker {
    pub fn active(&self) -> bool {
        self.run.is_some()
    }

    /// The tone being followed, once it has held long enough to be given the benefit of the
    /// doubt (see [`observe`]): a vowel's strongest harmonic can hold half the band for a moment
    /// too, and must not be carried into a beep's length by it.
    pub fn following(&self) -> Option<ToneObservation> {
        self.run.filter(|r| r.duration_ms >= CONTINUE_AFTER_MS).map(|r| ToneObservation { freq: r.freq, freq2: r.freq2, share: r.mean_share() })
    }

    /// Whether the run that started at `start_ms` was carried over a gap only a signalling tone
    /// is forgiven (see MAX_SIGNAL_MISSES).
    pub fn was_bridged(&self, start_ms: u64) -> bool {
        self.bridged == Some(start_ms)
    }

    /// Where the run being followed started, if one is.
    pub fn current_start(&self) -> Option<u64> {
        self.run.map(|r| r.start_ms)
    }

    /// Feeds one block's observation (None when the block was not analysed or had no tone).
    /// A new run starts only where `may_start` says a tone could begin (standing clear of the
    /// background): a line's own hum left behind when a tone stops is not a new tone.
    pub fn update(&mut self, block_end_ms: u64, obs: Option<ToneObservation>, level_db: f32, may_start: bool) -> Option<ToneUpdate> {
        if let Some(run) = self.run.as_mut() {
            // A single tone seen with a second peak beside it (hum, a voice in the room, the
            // window reaching the next step of a stepped beep) is still that tone.
            let signal = signal_band(run.freq).filter(|_| run.freq2.is_none());
            let same = |f: f32| same_pitch(f, run.freq) || (signal.is_some() && signal_band(f) == signal);
            let obs = obs.map(|o| match (o.freq2, run.freq2) {
                (Some(f2), None) if same(f2) => ToneObservation { freq: f2, freq2: None, share: o.share },
                (Some(_), None) if same(o.freq) => ToneObservation { freq: o.freq, freq2: None, share: o.share },
                _ => o,
            });
            let same_tone = obs.is_some_and(|o| {
                same(o.freq)
                    && match (o.freq2, run.freq2) {
                        (None, None) => true,
                        (Some(a), Some(b)) => same_pitch(a, b),
                        _ => false,
                    }
            });
            // Against the run's smoothed level: a codec that codes a tone frame by frame (GSM's
            // 20 ms frames, in noise) moves its level a few dB either way from frame to frame,
            // around a level that holds.
            // A signalling tone holds its level (through a mobile codec it only wobbles about
            // it): no trend is learnt for it from the wobble.
            let trend = if signal.is_some() { 0.0 } else { self.trend_db };
            let expected = self.steady_db + trend;
            let level_step = (level_db - expected).abs();
            // A signalling tone through a mobile codec keeps its band but not its level.
            let level_tolerance = if signal.is_some() { WOBBLE_DB } else { LEVEL_STEP_DB };
            if same_tone && level_step <= level_tolerance {
                let o = obs.expect("checked above");
                // Follow slow drift, but not a glide: the tolerance is against this running pitch.
                run.freq += 0.3 * (o.freq - run.freq);
                run.pitches.add(o.freq);
                if let (Some(r2), Some(o2)) = (run.freq2.as_mut(), o.freq2) {
                    *r2 += 0.3 * (o2 - *r2);
                }
                run.level_db = level_db;
                run.peak_level_db = run.peak_level_db.max(level_db);
                let surprise = level_db - expected;
                run.share_sum += o.share;
                run.wobble_sum += surprise.abs();
                self.steady_db = expected + STEADY_LEVEL_SMOOTHING * surprise;
                self.trend_db = (trend + TREND_SMOOTHING * surprise).clamp(-MAX_DECAY_DB, 0.0);
                run.duration_ms = block_end_ms.saturating_sub(run.start_ms).saturating_sub(WINDOW_LAG_MS / 2);
                if self.misses > MAX_WOBBLE_MISSES {
                    self.bridged = Some(run.start_ms);
                }
                self.misses = 0;
                self.grace = 0;
                self.dropout = 0;
                return Some(ToneUpdate::Ongoing(*run));
            }
            // Another tone ends this one at once. A lost packet does not end it: the level
            // collapses, and the spectrum is spoilt until the gap has left the window. Nor does
            // one odd block (a codec or gain-control jump, a time-warp splice).
            let other_tone = obs.is_some() && !same_tone;
            if !other_tone {
                if level_db < run.level_db - DROPOUT_DB {
                    self.dropout += 1;
                    if self.dropout <= MAX_DROPOUT_BLOCKS {
                        self.grace = DROPOUT_GRACE_BLOCKS;
                        return None;
                    }
                } else {
                    self.dropout = 0;
                }
                if self.grace > 0 && self.dropout == 0 {
                    self.grace -= 1;
                    return None;
                }
            }
            self.misses += 1;
            let wobbling = same_tone && level_step < WOBBLE_DB;
            let forgiven = if signal.is_some() {
                MAX_SIGNAL_MISSES
            } else if wobbling {
                MAX_WOBBLE_MISSES
            } else {
                MAX_MISSES
            };
            if self.misses <= forgiven && !other_tone {
                return None;
            }
            let ended = *run;
            self.run = None;
            self.misses = 0;
            self.grace = 0;
            self.dropout = 0;
            if let Some(o) = obs.filter(|_| may_start) {
                self.start(block_end_ms, o, level_db);
            }
            return Some(ToneUpdate::Ended(ended));
        }
        if let Some(o) = obs.filter(|_| may_start) {
            self.start(block_end_ms, o, level_db);
        }
        None
    }

    fn start(&mut self, block_end_ms: u64, o: ToneObservation, level_db: f32) {
        self.steady_db = level_db;
        self.trend_db = 0.0;
        self.run = Some(ToneRun {
            start_ms: block_end_ms.saturating_sub(WINDOW_LAG_MS),
            duration_ms: BLOCK_MS,
            freq: o.freq,
            freq2: o.freq2,
            level_db,
            peak_level_db: level_db,
            share_sum: o.share,
            wobble_sum: 0.0,
            pitches: PitchRange::new(o.freq),
        });
    }
}

/// The standard signalling frequencies (fax CED and CNG, the SIT segments), each with the band
/// around it that a codec's coding of it stays in. GSM 06.10 and AMR code a tone in noise frame
/// by frame: its measured pitch jumps by tens of Hz and its level by several dB from block to
/// block, but it stays by its standard frequency, where a voice does not hold for long.
const SIGNALS: [(f32, f32); 7] = [
    (CED_HZ, 60.0),
    (CNG_HZ, 60.0),
    // The SIT pairs lie 60-70 Hz apart: half of that each.
    (913.8, 30.0),
    (985.2, 30.0),
    (1370.6, 28.0),
    (1428.5, 28.0),
    (SIT_THIRD, 60.0),
];

/// Which standard signalling frequency `freq` is at, if any (an index into SIGNALS).
fn signal_band(freq: f32) -> Option<usize> {
    SIGNALS.iter().position(|&(f, band)| (freq - f).abs() <= band)
}

/// Fax and SIT frequencies (Hz).
pub const CED_HZ: f32 = 2100.0;
pub const CNG_HZ: f32 = 1100.0;
const SIT_FIRST: [f32; 2] = [913.8, 985.2];
const SIT_SECOND: [f32; 2] = [1370.6, 1428.5];
const SIT_THIRD: f32 = 1776.7;
/// SIT segments are 274 ms (short) or 380 ms (long); this splits them.
const SIT_SHORT_LONG_SPLIT_MS: u64 = 327;

fn near(f: f32, target: f32, tol_hz: f32) -> bool {
    (f - target).abs() <= tol_hz
}

/// Index of the SIT frequency (0 = low, 1 = high) that `f` is, if any. SIT frequencies are
/// held to a fraction of a percent; 1.2% keeps the common 1000 Hz beep out of 985.2 Hz.
fn sit_pick(f: f32, choices: &[f32; 2]) -> Option<usize> {
    choices.iter().position(|&c| near(f, c, c * 0.012))
}

/// Which class a tone run can still belong to.
pub fn is_ced(run: &ToneRun) -> bool {
    run.freq2.is_none() && near(run.freq, CED_HZ, 35.0)
}

pub fn is_cng(run: &ToneRun) -> bool {
    run.freq2.is_none() && near(run.freq, CNG_HZ, 35.0)
}

/// A tone that could open a SIT: we wait for its end before calling it a beep.
pub fn may_start_sit(run: &ToneRun) -> bool {
    run.freq2.is_none() && sit_pick(run.freq, &SIT_FIRST).is_some()
}

/// A tone that could be a SIT's second segment.
pub fn may_continue_sit(run: &ToneRun) -> bool {
    run.freq2.is_none() && sit_pick(run.freq, &SIT_SECOND).is_some()
}

/// What [`sit_code`] says of a valid SIT whose segment pattern is none of the known codes.
pub const UNKNOWN_SIT: &str = "unknown";

/// The SIT code a full three-segment sequence stands for (Telcordia's encoding: the first two
/// segments are low or high in frequency and short or long in duration).
pub fn sit_code(first: &ToneRun, second: &ToneRun, third: &ToneRun) -> Option<&'static str> {
    if third.freq2.is_some() || !near(third.freq, SIT_THIRD, 25.0) {
        return None;
    }
    let f1 = sit_pick(first.freq, &SIT_FIRST)?;
    let f2 = sit_pick(second.freq, &SIT_SECOND)?;
    let long1 = first.duration_ms >= SIT_SHORT_LONG_SPLIT_MS;
    let long2 = second.duration_ms >= SIT_SHORT_LONG_SPLIT_MS;
    // (first high?, first long?, second high?, second long?)
    Some(match (f1 == 1, long1, f2 == 1, long2) {
        (false, false, false, false) => "IC",
        (true, true, false, false) => "VC",
        (false, false, true, true) => "RO",
        (true, false, false, true) => "RO'",
        (false, true, true, true) => "NC",
        (true, true, true, true) => "NC'",
        (false, true, false, false) => "IO",
        _ => UNKNOWN_SIT,
    })
}

/// Is a segment length plausible for a SIT segment?
pub fn sit_segment_length(run: &ToneRun) -> bool {
    (200..=460).contains(&run.duration_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(f1: f32, f2: Option<f32>, noise: f32, seed: &mut u32) -> [f32; HISTORY] {
        let mut out = [0.0f32; HISTORY];
        for (i, v) in out.iter_mut().enumerate() {
            let t = i as f32 / INTERNAL_RATE as f32;
            *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * noise;
            *v = 1000.0 * (2.0 * std::f32::consts::PI * f1 * t).sin()
                + f2.map_or(0.0, |f| 1000.0 * (2.0 * std::f32::consts::PI * f * t).sin())
                + n;
        }
        out
    }

    #[test]
    fn finds_single_and_dual_tones_and_their_pitch() {
        let mut seed = 1;
        let o = observe(&window(1000.0, None, 100.0, &mut seed), None).expect("tone");
        assert!((o.freq - 1000.0).abs() < 5.0, "{o:?}");
        assert_eq!(o.freq2, None);
        let o = observe(&window(700.0, Some(1000.0), 100.0, &mut seed), None).expect("dual tone");
        assert!((o.freq - 700.0).abs() < 5.0 && (o.freq2.unwrap() - 1000.0).abs() < 5.0, "{o:?}");
    }

    #[test]
    fn noise_is_not_a_tone() {
        let mut seed: u32 = 7;
        let mut x = [0.0f32; HISTORY];
        for v in x.iter_mut() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2000.0;
        }
        assert_eq!(observe(&x, None), None);
    }

    fn steady(tracker: &mut ToneTracker, from: u64, to: u64, freq: f32) -> Option<ToneUpdate> {
        let mut last = None;
        for t in (from..=to).step_by(10) {
            last = tracker.update(t, Some(ToneObservation { freq, freq2: None, share: 0.9 }), -20.0, true);
        }
        last
    }

    // 1200 Hz: no signalling frequency (those are followed through longer gaps, see below).
    #[test]
    fn a_tone_run_starts_continues_and_ends() {
        let mut tracker = ToneTracker::default();
        assert_eq!(steady(&mut tracker, 10, 10, 1200.0), None, "the first block only opens a run");
        let last = steady(&mut tracker, 20, 300, 1200.0);
        assert!(matches!(last, Some(ToneUpdate::Ongoing(r)) if r.duration_ms >= 250));
        assert_eq!(tracker.update(310, None, -21.0, true), None, "one odd block is forgiven");
        assert!(matches!(tracker.update(320, None, -21.0, true), Some(ToneUpdate::Ended(_))), "a second is not");
        assert!(!tracker.active());
    }

    #[test]
    fn a_lost_packet_does_not_split_a_tone_but_silence_ends_it() {
        let mut tracker = ToneTracker::default();
        steady(&mut tracker, 10, 200, 1200.0);
        let start = tracker.current_start();
        // 20 ms of zeros, then three blocks whose window still holds the gap.
        for t in [210, 220] {
            assert_eq!(tracker.update(t, None, -90.0, true), None);
        }
        for t in [230, 240, 250] {
            assert_eq!(tracker.update(t, None, -20.0, true), None);
        }
        assert!(matches!(steady(&mut tracker, 260, 300, 1200.0), Some(ToneUpdate::Ongoing(_))));
        assert_eq!(tracker.current_start(), start, "one run across the gap");

        // The tone stops for good: a few blocks later it has ended.
        let mut ended = None;
        for t in (310..=400).step_by(10) {
            if let Some(ToneUpdate::Ended(run)) = tracker.update(t, None, -90.0, true) {
                ended = Some((t, run));
                break;
            }
        }
        let (at, run) = ended.expect("ended");
        assert!(at <= 310 + 10 * u64::from(MAX_DROPOUT_BLOCKS + MAX_MISSES + 1), "ended at {at}");
        assert_eq!(run.end_ms(), run.start_ms + run.duration_ms);
    }

    #[test]
    fn a_signalling_tone_unseen_for_a_few_blocks_is_one_run_and_marked_so() {
        // A CED through a mobile codec in noise: unseen for five blocks, then back in its band.
        let mut tracker = ToneTracker::default();
        steady(&mut tracker, 10, 200, 2100.0);
        let start = tracker.current_start().expect("a run");
        for t in (210..=250).step_by(10) {
            assert_eq!(tracker.update(t, None, -25.0, true), None, "block {t} forgiven");
        }
        assert!(matches!(steady(&mut tracker, 260, 400, 2103.0), Some(ToneUpdate::Ongoing(r)) if r.start_ms == start && r.duration_ms >= 350));
        assert!(tracker.was_bridged(start), "carried over a gap no beep is forgiven");
        // Any other tone is forgiven two blocks at most.
        let mut tracker = ToneTracker::default();
        steady(&mut tracker, 10, 200, 1200.0);
        let mut ended = false;
        for t in (210..=250).step_by(10) {
            ended |= matches!(tracker.update(t, None, -25.0, true), Some(ToneUpdate::Ended(_)));
        }
        assert!(ended);
    }

    #[test]
    fn a_tone_wobbling_in_level_through_a_codec_is_one_run() {
        // A GSM-coded beep's level dips 4.6 dB for two blocks at the same pitch.
        let mut tracker = ToneTracker::default();
        steady(&mut tracker, 10, 200, 950.0);
        let start = tracker.current_start();
        let same_pitch = Some(ToneObservation { freq: 951.0, freq2: None, share: 0.9 });
        for t in [210, 220] {
            assert_eq!(tracker.update(t, same_pitch, -24.6, true), None);
        }
        assert!(matches!(steady(&mut tracker, 230, 300, 950.0), Some(ToneUpdate::Ongoing(_))));
        assert_eq!(tracker.current_start(), start, "one run through the dip");

        // Two blocks 9 dB down at the same pitch are more than a wobble: the run ends there.
        for t in [310, 320] {
            tracker.update(t, same_pitch, -20.0 - WOBBLE_DB - 1.0, true);
        }
        assert!(!tracker.active() || tracker.current_start() != start, "a drop past the wobble ends the run");
    }

    #[test]
    fn another_tone_ends_a_run_at_once_and_opens_its_own_only_where_allowed() {
        let mut tracker = ToneTracker::default();
        steady(&mut tracker, 10, 200, 1000.0);
        let other = Some(ToneObservation { freq: 440.0, freq2: None, share: 0.9 });
        assert!(matches!(tracker.update(210, other, -20.0, false), Some(ToneUpdate::Ended(_))));
        assert!(!tracker.active(), "a tone that may not start here (under the background) is not followed");
        steady(&mut tracker, 220, 300, 1000.0);
        assert!(matches!(tracker.update(310, other, -20.0, true), Some(ToneUpdate::Ended(_))));
        assert!(tracker.active());
    }

    #[test]
    fn sit_codes_follow_the_segment_pattern() {
        let seg = |freq: f32, duration_ms: u64| ToneRun { start_ms: 0, duration_ms, freq, freq2: None, level_db: -20.0, peak_level_db: -20.0, share_sum: 1.0, wobble_sum: 0.0, pitches: PitchRange::new(freq) };
        assert_eq!(sit_code(&seg(913.8, 274), &seg(1370.6, 274), &seg(1776.7, 380)), Some("IC"));
        assert_eq!(sit_code(&seg(985.2, 380), &seg(1370.6, 274), &seg(1776.7, 380)), Some("VC"));
        assert_eq!(sit_code(&seg(913.8, 274), &seg(1428.5, 380), &seg(1776.7, 380)), Some("RO"));
        assert_eq!(sit_code(&seg(913.8, 380), &seg(1428.5, 380), &seg(1776.7, 380)), Some("NC"));
        assert_eq!(sit_code(&seg(913.8, 380), &seg(1428.5, 380), &seg(1000.0, 380)), None);
    }
}
