//! Audio at a rate the detector does not take (11025, 22050, 24000, 44100 Hz...) is brought to
//! the nearest lower rate it does take by linear interpolation: good enough for level-based
//! detection, and it never happens with the usual telephony codecs.

use crate::detector::SUPPORTED_RATES;

/// Read rates the module takes: no telephony codec is slower than 8 kHz, and nothing sane is
/// faster than 192 kHz. Outside them a resampler would produce thousands of samples per input
/// sample (or loop for ever at 0 Hz).
pub const MIN_READ_RATE: u32 = 8000;
pub const MAX_READ_RATE: u32 = 192_000;

/// The detector rate for audio at `rate`: itself when supported, else the nearest lower one;
/// `None` outside [`MIN_READ_RATE`]..=[`MAX_READ_RATE`].
pub fn target_rate(rate: u32) -> Option<u32> {
    if !(MIN_READ_RATE..=MAX_READ_RATE).contains(&rate) {
        return None;
    }
    SUPPORTED_RATES.iter().copied().filter(|r| *r <= rate).max()
}

pub struct Resampler {
    from: u32,
    to: u32,
    /// Position of the next output sample, in input samples from the start of the next frame.
    pos: f64,
    last: i16,
}

impl Resampler {
    /// Both rates are non-zero (`to` one the detector takes, `from` one [`target_rate`] accepts).
    pub fn new(from: u32, to: u32) -> Resampler {
        assert!(from > 0 && to > 0, "resampling needs non-zero rates ({from} -> {to})");
        Resampler { from, to, pos: 0.0, last: 0 }
    }

    pub fn rates(&self) -> (u32, u32) {
        (self.from, self.to)
    }

    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.clear();
        if input.is_empty() {
            return;
        }
        let step = f64::from(self.from) / f64::from(self.to);
        // Sample -1 is the last one of the previous frame. A position on (or a rounding error
        // past) the frame's last sample has no next one yet: that sample stands for it, its
        // weight being (about) zero.
        let last = input.len() - 1;
        let at = |i: isize| -> f64 { if i < 0 { f64::from(self.last) } else { f64::from(input[(i as usize).min(last)]) } };
        let n = input.len() as f64;
        while self.pos < n - 1.0 + 1e-9 {
            let i = self.pos.floor();
            let frac = self.pos - i;
            let a = at(i as isize);
            let b = at(i as isize + 1);
            out.push((a + (b - a) * frac).round() as i16);
            self.pos += step;
        }
        self.pos -= n;
        self.last = input[last];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(target_rate(8000), Some(8000));
        assert_eq!(target_rate(11025), Some(8000));
        assert_eq!(target_rate(44100), Some(32000));
        assert_eq!(target_rate(192_000), Some(48000));
        // A rate of 0 (a frame without a rate) once sent the resampler into an endless loop.
        for bad in [0, 1, 4000, 7999, 192_001, u32::MAX] {
            assert_eq!(target_rate(bad), None, "{bad}");
        }
    }

    #[test]
    fn keeps_the_rate_ratio() {
        let mut r = Resampler::new(44100, 32000);
        let mut out = Vec::new();
        let mut total = 0;
        for _ in 0..100 {
            r.process(&[1000; 441], &mut out);
            total += out.len();
            assert!(out.iter().all(|s| *s == 1000 || total <= out.len()));
        }
        assert!((total as i64 - 32000).abs() <= 2, "{total}");
    }

    /// Found by the detector fuzz target: an output position landing exactly on a frame's
    /// last sample read one past the end (a panic in the media thread).
    #[test]
    fn a_position_on_the_last_sample_stays_in_the_frame() {
        for from in [11025, 12000, 22050, 24000, 44100, 96000, 192_000] {
            let to = target_rate(from).unwrap();
            for len in 1..=700 {
                let mut r = Resampler::new(from, to);
                let mut out = Vec::new();
                let frame: Vec<i16> = (0..len).map(|i| (i * 37 % 2000) as i16).collect();
                for _ in 0..7 {
                    r.process(&frame, &mut out);
                }
            }
        }
    }
}
