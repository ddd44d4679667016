//! Converts a whole recording to another sample rate, for `amd bench` to run every call at
//! 8, 16 and 48 kHz. A windowed-sinc filter rather than the module's streaming linear
//! interpolation: halving a 16 kHz call by interpolation folds its 4-7 kHz speech back into
//! the telephone band, and the bench should hear what a channel at that rate would carry.

use std::f64::consts::PI;

/// Zero crossings of the sinc kept on each side, at the narrower of the two bands.
const ZERO_CROSSINGS: f64 = 8.0;
/// Share of the lower Nyquist frequency let through (the rest is the filter's transition band).
const PASSBAND: f64 = 0.9;

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `samples` at `from` Hz, brought to `to` Hz (both non-zero).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    assert!(from > 0 && to > 0, "sample rates are positive");
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    let g = gcd(from, to);
    let (up, down) = ((to / g) as usize, (from / g) as usize);
    // Cutoff in cycles per input sample.
    let cutoff = PASSBAND * 0.5 * f64::from(from.min(to)) / f64::from(from);
    let half = (ZERO_CROSSINGS * 0.5 / cutoff).ceil() as usize;
    // One set of 2*half weights per output phase (output positions repeat every `up` outputs).
    let taps: Vec<Vec<f64>> = (0..up)
        .map(|phase| {
            let frac = phase as f64 / up as f64;
            let mut w: Vec<f64> = (0..2 * half)
                .map(|j| {
                    // Distance from the output position to input sample (base - half + 1 + j).
                    let d = frac + (half - 1) as f64 - j as f64;
                    let x = 2.0 * cutoff * d;
                    let sinc = if x == 0.0 { 1.0 } else { (PI * x).sin() / (PI * x) };
                    let window = 0.5 * (1.0 + (PI * d / half as f64).cos());
                    if d.abs() < half as f64 {
                        sinc * window
                    } else {
                        0.0
                    }
                })
                .collect();
            let sum: f64 = w.iter().sum();
            w.iter_mut().for_each(|v| *v /= sum);
            w
        })
        .collect();
    let out_len = (samples.len() * up).div_ceil(down);
    let last = samples.len() as isize - 1;
    (0..out_len)
        .map(|n| {
            let pos = n * down;
            let base = (pos / up) as isize;
            let weights = &taps[pos % up];
            let first = base - half as isize + 1;
            let acc: f64 = weights
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    let k = (first + j as isize).clamp(0, last) as usize;
                    w * f64::from(samples[k])
                })
                .sum();
            acc.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f64, amp: f64, ms: u32) -> Vec<i16> {
        let n = (u64::from(rate) * u64::from(ms) / 1000) as usize;
        (0..n).map(|i| (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()).round() as i16).collect()
    }

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Sign changes per second / 2: the frequency of a clean sine.
    fn frequency(x: &[i16], rate: u32) -> f64 {
        let changes = x.windows(2).filter(|w| (w[0] >= 0) != (w[1] >= 0)).count();
        changes as f64 / 2.0 / (x.len() as f64 / f64::from(rate))
    }

    #[test]
    fn a_tone_keeps_its_pitch_and_level_across_rates() {
        for (from, to) in [(8000, 48000), (8000, 16000), (16000, 8000), (16000, 48000), (44100, 8000)] {
            let input = sine(from, 1000.0, 8000.0, 1000);
            let out = resample(&input, from, to);
            assert_eq!(out.len(), to as usize, "{from}->{to}");
            let middle = &out[out.len() / 10..out.len() * 9 / 10];
            assert!((rms(middle) / (8000.0 / 2f64.sqrt()) - 1.0).abs() < 0.02, "{from}->{to}: rms {}", rms(middle));
            assert!((frequency(middle, to) - 1000.0).abs() < 5.0, "{from}->{to}: {} Hz", frequency(middle, to));
        }
    }

    #[test]
    fn going_down_removes_what_the_lower_rate_cannot_carry() {
        let out = resample(&sine(16000, 6000.0, 8000.0, 1000), 16000, 8000);
        assert!(rms(&out[800..7200]) < 80.0, "6 kHz folded into the band: rms {}", rms(&out[800..7200]));
    }
}
