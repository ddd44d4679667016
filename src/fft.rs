//! A fixed-size radix-2 FFT power spectrum, just enough for tone analysis.
//!
//! Run only on blocks that already look steady, so its cost is paid rarely.

use std::sync::OnceLock;

use crate::frontend::HISTORY;

/// Bins of the one-sided power spectrum (DC to Nyquist).
pub const BINS: usize = HISTORY / 2 + 1;

struct Tables {
    window: [f32; HISTORY],
    cos: [f32; HISTORY / 2],
    sin: [f32; HISTORY / 2],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Tables { window: [0.0; HISTORY], cos: [0.0; HISTORY / 2], sin: [0.0; HISTORY / 2] };
        for (i, w) in t.window.iter_mut().enumerate() {
            // Hann: side lobes low enough that a tone does not spill into far bins.
            *w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / HISTORY as f64).cos() as f32;
        }
        for i in 0..HISTORY / 2 {
            let angle = -2.0 * std::f64::consts::PI * i as f64 / HISTORY as f64;
            t.cos[i] = angle.cos() as f32;
            t.sin[i] = angle.sin() as f32;
        }
        t
    })
}

/// Hann-windowed power spectrum of `input` into `power` (BINS values).
pub fn power_spectrum(input: &[f32; HISTORY], power: &mut [f32; BINS]) {
    let t = tables();
    let mut re = [0.0f32; HISTORY];
    let mut im = [0.0f32; HISTORY];
    let bits = HISTORY.trailing_zeros();
    for (i, &x) in input.iter().enumerate() {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        re[j] = x * t.window[i];
    }
    let mut size = 2;
    while size <= HISTORY {
        let half = size / 2;
        let step = HISTORY / size;
        for start in (0..HISTORY).step_by(size) {
            for k in 0..half {
                let (wr, wi) = (t.cos[k * step], t.sin[k * step]);
                let (a, b) = (start + k, start + k + half);
                let tr = re[b] * wr - im[b] * wi;
                let ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        size *= 2;
    }
    for k in 0..BINS {
        power[k] = re[k] * re[k] + im[k] * im[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_peaks_in_its_bin() {
        let mut x = [0.0f32; HISTORY];
        // Bin 32 of 256 at 8 kHz is 1000 Hz.
        for (i, v) in x.iter_mut().enumerate() {
            *v = (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 8000.0).sin();
        }
        let mut p = [0.0f32; BINS];
        power_spectrum(&x, &mut p);
        let peak = (0..BINS).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(peak, 32);
        let near: f32 = p[30..=34].iter().sum();
        let total: f32 = p.iter().sum();
        assert!(near / total > 0.99);
    }
}
