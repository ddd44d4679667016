//! Mains hum taken out of the signal voicing listens to, where the line has it.
//!
//! A 50 or 60 Hz hum under line noise (a bad ground at the far end, an old analogue leg) is
//! periodic: its harmonics above the front end's high-pass make the background look voiced, so
//! the line's noise would be judged a room of voices, and a greeting at 10-13 dB over that noise
//! would lose the periodicity that tells it from the noise (see voicing.rs). A notch comb at the
//! mains period removes the hum and every harmonic of it while leaving speech nearly untouched,
//! but it colours a line that has no hum, so it is used only where it removes a real share of
//! the background's power. Which mains, 50 or 60 Hz, is whichever comb removes more: a call's
//! far end may be on either.
//!
//! Runs on voicing's 2 kHz samples: 50 Hz is 40 samples there. 60 Hz is 33.3, so its comb
//! waits 100 samples, three whole periods: its notches fall every 20 Hz, on every harmonic of
//! 60 Hz, and exactly, where reading between samples would blur the upper harmonics' notches.

/// Delay of each comb in samples at 2 kHz: one period of 50 Hz, three of 60 Hz.
const FIFTY_DELAY: usize = 40;
const SIXTY_DELAY: usize = 100;
/// How long a comb takes to settle (its poles' time constant), in samples at 2 kHz: 200 ms.
/// The poles sit at 1 - delay / SETTLING: 0.9 for 50 Hz, 0.75 for 60 Hz's longer delay, which
/// makes every notch of both combs the same width, under 2 Hz.
const SETTLING: f32 = 400.0;
/// Share of background blocks' power kept from one background block to the next: about half a
/// second of memory.
const KEEP: f32 = 0.98;
/// A comb is used once it takes more than 15% of the background's power away. A line with no
/// hum loses next to nothing: each comb is scaled to pass white noise at its own power.
const HUM_SHARE: f32 = 0.15;

/// y = g (1 - z^-D) / (1 - r z^-D): one delay line of w = x + r w[n - D], and y = g (w - w[n - D]).
/// Its power gain for white noise is g^2 2 / (1 + r), so g = sqrt((1 + r) / 2) passes noise at
/// its own power.
#[derive(Debug, Clone)]
struct NotchComb<const D: usize> {
    w: [f32; D],
    /// Where w[n - D] is, and w[n] goes.
    at: usize,
}

impl<const D: usize> Default for NotchComb<D> {
    fn default() -> Self {
        NotchComb { w: [0.0; D], at: 0 }
    }
}

impl<const D: usize> NotchComb<D> {
    const RADIUS: f32 = 1.0 - D as f32 / SETTLING;

    fn filter(&mut self, x: f32) -> f32 {
        let oldest = self.w[self.at];
        let w = x + Self::RADIUS * oldest;
        self.w[self.at] = w;
        self.at = if self.at + 1 == D { 0 } else { self.at + 1 };
        (w - oldest) * Self::gain()
    }

    fn gain() -> f32 {
        ((1.0 + Self::RADIUS) * 0.5).sqrt()
    }
}

#[derive(Debug, Clone)]
pub struct MainsHum {
    fifty: NotchComb<FIFTY_DELAY>,
    sixty: NotchComb<SIXTY_DELAY>,
    /// Power this block of the signal as it came ([0]) and through each comb ([1], [2]).
    block_power: [f32; 3],
    /// The same over the background blocks, forgetting the older ones.
    background_power: [f32; 3],
    /// The comb in use, if the line has hum: 0 for 50 Hz, 1 for 60 Hz.
    in_use: Option<usize>,
}

impl Default for MainsHum {
    fn default() -> Self {
        MainsHum {
            fifty: NotchComb::default(),
            sixty: NotchComb::default(),
            block_power: [0.0; 3],
            background_power: [0.0; 3],
            in_use: None,
        }
    }
}

impl MainsHum {
    /// Starts a new block: its power is measured afresh.
    pub fn begin_block(&mut self) {
        self.block_power = [0.0; 3];
    }

    /// Takes one sample and returns it with the line's hum taken out, if it has one. Both combs
    /// run all the time, so the one chosen later has settled already.
    pub fn filter(&mut self, x: f32) -> f32 {
        let out = [x, self.fifty.filter(x), self.sixty.filter(x)];
        for (p, o) in self.block_power.iter_mut().zip(out) {
            *p += o * o;
        }
        match self.in_use {
            Some(i) => out[i + 1],
            None => x,
        }
    }

    /// The block just filtered was the line's background (nobody talking): learn from it
    /// whether the line hums, and at which mains frequency.
    pub fn note_background(&mut self) {
        for (b, p) in self.background_power.iter_mut().zip(self.block_power) {
            *b = *b * KEEP + p;
        }
        let [raw, fifty, sixty] = self.background_power;
        if raw <= 0.0 {
            return;
        }
        let (best, kept) = if fifty <= sixty { (0, fifty) } else { (1, sixty) };
        self.in_use = (kept < raw * (1.0 - HUM_SHARE)).then_some(best);
    }

    /// The mains frequency whose hum is being taken out, if any.
    #[cfg(test)]
    fn mains_hz(&self) -> Option<f32> {
        self.in_use.map(|i| [50.0, 60.0][i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next sample of white noise between -1 and 1.
    fn white(seed: &mut u32) -> f32 {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0
    }

    /// Hum at `mains_hz` with harmonics 2 to 12 (what a 200 Hz high-pass leaves of it), plus
    /// white noise of `noise` amplitude, sampled at 2 kHz.
    fn hum_and_noise(mains_hz: f32, noise: f32, n: usize) -> Vec<f32> {
        let mut seed = 7u32;
        (0..n)
            .map(|i| {
                let t = i as f32 / 2000.0;
                let hum: f32 = (2..=12)
                    .map(|k| (300.0 / k as f32) * (2.0 * std::f32::consts::PI * mains_hz * k as f32 * t).sin())
                    .sum();
                hum + noise * white(&mut seed)
            })
            .collect()
    }

    /// Runs `signal` through in blocks of 20 samples (10 ms), each one background; returns the
    /// power that came out over the second half, as a share of what went in.
    fn run_as_background(hum: &mut MainsHum, signal: &[f32]) -> f32 {
        let (mut power_in, mut power_out) = (0.0, 0.0);
        for (b, block) in signal.chunks(20).enumerate() {
            hum.begin_block();
            for &x in block {
                let y = hum.filter(x);
                if b >= signal.len() / 40 {
                    power_in += x * x;
                    power_out += y * y;
                }
            }
            hum.note_background();
        }
        power_out / power_in
    }

    #[test]
    fn finds_the_mains_frequency_of_the_hum_and_takes_it_out() {
        for mains in [50.0, 60.0] {
            let mut hum = MainsHum::default();
            let kept = run_as_background(&mut hum, &hum_and_noise(mains, 50.0, 4000));
            assert_eq!(hum.mains_hz(), Some(mains));
            // The hum carries about 95% of this signal's power.
            assert!(kept < 0.1, "{mains} Hz: {kept} of the power kept");
        }
    }

    #[test]
    fn a_line_without_hum_is_left_as_it_is() {
        let mut hum = MainsHum::default();
        let mut seed = 7u32;
        let signal: Vec<f32> = (0..4000).map(|_| 1000.0 * white(&mut seed)).collect();
        let kept = run_as_background(&mut hum, &signal);
        assert_eq!(hum.mains_hz(), None);
        assert_eq!(kept, 1.0);
    }

    #[test]
    fn each_comb_passes_noise_between_its_notches() {
        let mut seed = 11u32;
        let noise: Vec<f32> = (0..8000).map(|_| 1000.0 * white(&mut seed)).collect();
        let share = |out: Vec<f32>| out[2000..].iter().map(|y| y * y).sum::<f32>() / noise[2000..].iter().map(|x| x * x).sum::<f32>();
        let mut fifty = NotchComb::<FIFTY_DELAY>::default();
        let mut sixty = NotchComb::<SIXTY_DELAY>::default();
        for kept in [share(noise.iter().map(|&x| fifty.filter(x)).collect()), share(noise.iter().map(|&x| sixty.filter(x)).collect())] {
            assert!((0.95..1.05).contains(&kept), "a comb kept {kept} of white noise");
        }
    }
}
