//! Synthetic call audio for tests and benchmarks: silence, noise bursts with a speech-like
//! syllable envelope, and tones, at any rate. Deterministic.
#![allow(dead_code)]

pub struct Synth {
    pub rate: u32,
    pub samples: Vec<i16>,
    seed: u32,
}

impl Synth {
    pub fn new(rate: u32) -> Synth {
        Synth { rate, samples: Vec::new(), seed: 12345 }
    }

    fn n(&self, ms: u32) -> usize {
        (self.rate as u64 * ms as u64 / 1000) as usize
    }

    fn noise(&mut self) -> f32 {
        self.seed = self.seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((self.seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0
    }

    /// Position in ms of the end of what has been written.
    pub fn at_ms(&self) -> u32 {
        (self.samples.len() as u64 * 1000 / self.rate as u64) as u32
    }

    pub fn silence(&mut self, ms: u32) -> &mut Self {
        let n = self.n(ms);
        self.samples.extend(std::iter::repeat_n(0, n));
        self
    }

    /// White noise of peak amplitude `amp`.
    pub fn noise_burst(&mut self, ms: u32, amp: f32) -> &mut Self {
        for _ in 0..self.n(ms) {
            let v = self.noise() * amp;
            self.samples.push(v as i16);
        }
        self
    }

    /// Speech-like talk: `on` ms of loud noise then `off` ms 30 dB down, repeated for `ms`;
    /// every other syllable is 6 dB softer, as stressed and unstressed syllables are.
    pub fn syllables(&mut self, ms: u32, on: u32, off: u32, amp: f32) -> &mut Self {
        let end = self.at_ms() + ms;
        let mut stressed = true;
        while self.at_ms() < end {
            let left = end - self.at_ms();
            self.noise_burst(on.min(left), if stressed { amp } else { amp * 0.5 });
            stressed = !stressed;
            let left = end - self.at_ms();
            self.noise_burst(off.min(left), amp * 0.03);
        }
        self
    }

    /// Voiced talk: vowels (glottal pulses at `pitch_hz` through two formant resonances) of
    /// `on` ms with `off` ms of silence between them, for `ms`; every other vowel is 6 dB softer
    /// and the pitch wanders by a few percent, as in running speech.
    pub fn vowels(&mut self, ms: u32, on: u32, off: u32, amp: f32, pitch_hz: f32) -> &mut Self {
        let end = self.at_ms() + ms;
        let mut stressed = true;
        let mut syllable = 0u32;
        while self.at_ms() < end {
            let left = end - self.at_ms();
            let n = self.n(on.min(left));
            let pitch = pitch_hz * (1.0 + 0.04 * ((syllable % 5) as f32 - 2.0) / 2.0);
            let gain = if stressed { amp } else { amp * 0.5 };
            let period = self.rate as f32 / pitch;
            for i in 0..n {
                let since = (i as f32 % period) / self.rate as f32;
                let decay = (-since * 300.0).exp();
                let two_pi = 2.0 * std::f32::consts::PI;
                let v = decay * ((two_pi * 700.0 * since).sin() + 0.6 * (two_pi * 1200.0 * since).sin());
                // Ramp each vowel in and out over 20 ms, as a voice does.
                let edge = (i.min(n - 1 - i) as f32 / self.n(20) as f32).min(1.0);
                self.samples.push((gain * edge * v) as i16);
            }
            stressed = !stressed;
            syllable += 1;
            let left = end - self.at_ms();
            self.silence(off.min(left));
        }
        self
    }

    /// Adds `other` (another voice, a room, a second tone) onto these samples, from the start and
    /// as far as both go, clipping as a line would.
    pub fn mix(&mut self, other: &Synth) -> &mut Self {
        for (a, b) in self.samples.iter_mut().zip(&other.samples) {
            *a = a.saturating_add(*b);
        }
        self
    }

    /// Adds white noise of peak amplitude `amp` under everything written so far.
    pub fn add_noise(&mut self, amp: f32) -> &mut Self {
        for i in 0..self.samples.len() {
            let v = f32::from(self.samples[i]) + self.noise() * amp;
            self.samples[i] = v.clamp(-32768.0, 32767.0) as i16;
        }
        self
    }

    pub fn tone(&mut self, ms: u32, freq: f32, amp: f32) -> &mut Self {
        let start = self.samples.len();
        for i in 0..self.n(ms) {
            let t = (start + i) as f32 / self.rate as f32;
            self.samples.push((amp * (2.0 * std::f32::consts::PI * freq * t).sin()) as i16);
        }
        self
    }

    /// A tone as a mobile codec (GSM 06.10, AMR) passes it on in noise: in each 20 ms frame its
    /// level is off by up to `level_jitter_db` and its pitch by up to `pitch_jitter_hz`, at
    /// random, its phase running on from frame to frame.
    pub fn coded_tone(&mut self, ms: u32, freq: f32, amp: f32, level_jitter_db: f32, pitch_jitter_hz: f32) -> &mut Self {
        let frame = self.n(20).max(1);
        let mut phase = 0.0f32;
        let (mut gain, mut f) = (1.0f32, freq);
        for i in 0..self.n(ms) {
            if i % frame == 0 {
                gain = 10f32.powf(self.noise() * level_jitter_db / 20.0);
                f = freq + self.noise() * pitch_jitter_hz;
            }
            phase += 2.0 * std::f32::consts::PI * f / self.rate as f32;
            self.samples.push((amp * gain * phase.sin()) as i16);
        }
        self
    }

    /// A tone that holds `amp` for `hold` ms, then fades by `db_per_10ms` for `fade` ms, as
    /// some answering machines' beeps die away.
    pub fn fading_tone(&mut self, hold: u32, fade: u32, freq: f32, amp: f32, db_per_10ms: f32) -> &mut Self {
        let start = self.samples.len();
        let held = self.n(hold);
        for i in 0..held + self.n(fade) {
            let t = (start + i) as f32 / self.rate as f32;
            let faded_ms = i.saturating_sub(held) as f32 * 1000.0 / self.rate as f32;
            let gain = 10f32.powf(-db_per_10ms * faded_ms / 10.0 / 20.0);
            self.samples.push((amp * gain * (2.0 * std::f32::consts::PI * freq * t).sin()) as i16);
        }
        self
    }

    /// Adds a tone onto what is already written, from `from_ms` for `ms` (extends with silence).
    pub fn mix_tone(&mut self, from_ms: u32, ms: u32, freq: f32, amp: f32) -> &mut Self {
        let start = self.n(from_ms);
        let end = start + self.n(ms);
        if self.samples.len() < end {
            self.samples.resize(end, 0);
        }
        for i in start..end {
            let t = i as f32 / self.rate as f32;
            let v = amp * (2.0 * std::f32::consts::PI * freq * t).sin();
            self.samples[i] = (self.samples[i] as f32 + v).clamp(-32768.0, 32767.0) as i16;
        }
        self
    }

    /// A held note whose pitch wavers as a voice's does: `depth` Hz at `rate` Hz around `freq`.
    pub fn vibrato(&mut self, ms: u32, freq: f32, depth: f32, rate: f32, amp: f32) -> &mut Self {
        let mut phase = 0.0f32;
        for i in 0..self.n(ms) {
            let t = i as f32 / self.rate as f32;
            let f = freq + depth * (2.0 * std::f32::consts::PI * rate * t).sin();
            phase += 2.0 * std::f32::consts::PI * f / self.rate as f32;
            self.samples.push((amp * phase.sin()) as i16);
        }
        self
    }

    /// V.21 channel 2 as an answering fax sends it: continuous-phase FSK at 300 baud (mark, 1,
    /// at 1650 Hz; space, 0, at 1850 Hz), HDLC flags (0x7E) for `flags_ms`, then frame bits
    /// (pseudo-random), `ms` in all.
    pub fn v21(&mut self, ms: u32, flags_ms: u32, amp: f32) -> &mut Self {
        let flag_bits = u64::from(flags_ms) * 300 / 1000;
        let mut phase = 0.0f64;
        let mut bit_index = u64::MAX;
        let mut mark = true;
        for i in 0..self.n(ms) {
            let b = i as u64 * 300 / u64::from(self.rate);
            if b != bit_index {
                bit_index = b;
                mark = if b < flag_bits { !b.is_multiple_of(8) && b % 8 != 7 } else { self.noise() >= 0.0 };
            }
            let freq = if mark { 1650.0 } else { 1850.0 };
            phase += std::f64::consts::TAU * freq / f64::from(self.rate);
            self.samples.push((f64::from(amp) * phase.sin()) as i16);
        }
        self
    }

    /// Scales what is written from `from_ms` for `ms` by a gain going from `start_db` to
    /// `end_db` (a level change on the line, or an AGC at work).
    pub fn gain(&mut self, from_ms: u32, ms: u32, start_db: f32, end_db: f32) -> &mut Self {
        let start = self.n(from_ms).min(self.samples.len());
        let end = (start + self.n(ms)).min(self.samples.len());
        let len = (end - start).max(1) as f32;
        for (k, v) in self.samples[start..end].iter_mut().enumerate() {
            let db = start_db + (end_db - start_db) * k as f32 / len;
            *v = (f32::from(*v) * 10f32.powf(db / 20.0)).clamp(-32768.0, 32767.0) as i16;
        }
        self
    }

    /// Passes everything written through G.711 mu-law and back, as a telephone line does.
    pub fn ulaw_round_trip(&mut self) -> &mut Self {
        for v in &mut self.samples {
            *v = ulaw_decode(ulaw_encode(*v));
        }
        self
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

pub fn ulaw_encode(x: i16) -> u8 {
    let sign = if x < 0 { 0x80 } else { 0 };
    let magnitude = i32::from(x).abs().min(ULAW_CLIP) + ULAW_BIAS;
    // The segment is the position of the highest bit above bit 7.
    let exponent = 31 - magnitude.leading_zeros() as i32 - 7;
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

pub fn ulaw_decode(u: u8) -> i16 {
    let u = !u;
    let exponent = i32::from((u >> 4) & 7);
    let magnitude = (((i32::from(u & 0x0F) << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}
