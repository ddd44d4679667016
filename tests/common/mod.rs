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
        self.samples.extend(std::iter::repeat(0).take(n));
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
}
