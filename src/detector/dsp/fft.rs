//! A fixed-size FFT power spectrum, just enough for tone analysis.
//!
//! The input is real, so the HISTORY-point transform is done as a half-size complex one on the
//! even and odd samples side by side, then split into the real signal's spectrum: half the
//! butterflies of a plain complex FFT. Tone analysis runs it on every steady block of speech as
//! well as on tones, so its cost shows in the cost of a whole call.

use std::sync::OnceLock;

use crate::detector::dsp::wide::wide_vectors;
use crate::detector::frontend::HISTORY;

/// Bins of the one-sided power spectrum (DC to Nyquist).
pub const BINS: usize = HISTORY / 2 + 1;
/// Points of the complex transform.
const N: usize = HISTORY / 2;
const N_BITS: u32 = N.trailing_zeros();

struct Tables {
    window: [f32; HISTORY],
    /// Where each complex point goes before the butterflies (bit-reversed index).
    bit_reversed: [usize; N],
    /// Twiddles of the stage whose butterflies span `half` points, at `half + k` (k < half).
    stage_re: [f32; N],
    stage_im: [f32; N],
    /// exp(-2πi k / HISTORY), for splitting the half-size transform.
    split_re: [f32; N],
    split_im: [f32; N],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Tables {
            window: [0.0; HISTORY],
            bit_reversed: [0; N],
            stage_re: [0.0; N],
            stage_im: [0.0; N],
            split_re: [0.0; N],
            split_im: [0.0; N],
        };
        let tau = 2.0 * std::f64::consts::PI;
        for (i, w) in t.window.iter_mut().enumerate() {
            // Hann: side lobes low enough that a tone does not spill into far bins.
            *w = (0.5 - 0.5 * (tau * i as f64 / HISTORY as f64).cos()) as f32;
        }
        for (i, r) in t.bit_reversed.iter_mut().enumerate() {
            *r = i.reverse_bits() >> (usize::BITS - N_BITS);
        }
        let mut half = 1;
        while half < N {
            for k in 0..half {
                let angle = -tau * k as f64 / (2 * half) as f64;
                t.stage_re[half + k] = angle.cos() as f32;
                t.stage_im[half + k] = angle.sin() as f32;
            }
            half *= 2;
        }
        for k in 0..N {
            let angle = -tau * k as f64 / HISTORY as f64;
            t.split_re[k] = angle.cos() as f32;
            t.split_im[k] = angle.sin() as f32;
        }
        t
    })
}

wide_vectors! {
/// Hann-windowed power spectrum of `input` into `power` (BINS values): |X[k]|² of the windowed
/// signal's DFT, k = 0 (DC) to HISTORY / 2 (Nyquist).
pub fn power_spectrum(input: &[f32; HISTORY], power: &mut [f32; BINS]) {
    let t = tables();
    // z[n] = x[2n] + i x[2n+1], windowed, in bit-reversed order.
    let mut re = [0.0f32; N];
    let mut im = [0.0f32; N];
    for n in 0..N {
        let j = t.bit_reversed[n];
        re[j] = input[2 * n] * t.window[2 * n];
        im[j] = input[2 * n + 1] * t.window[2 * n + 1];
    }
    first_two_stages(&mut re, &mut im);
    let mut half = 4;
    while half < N {
        let (wr, wi) = (&t.stage_re[half..2 * half], &t.stage_im[half..2 * half]);
        for (re, im) in re.chunks_exact_mut(2 * half).zip(im.chunks_exact_mut(2 * half)) {
            let (re_a, re_b) = re.split_at_mut(half);
            let (im_a, im_b) = im.split_at_mut(half);
            let points = re_a.iter_mut().zip(im_a.iter_mut()).zip(re_b.iter_mut().zip(im_b.iter_mut()));
            for (((ar, ai), (br, bi)), (&wr, &wi)) in points.zip(wr.iter().zip(wi)) {
                let tr = *br * wr - *bi * wi;
                let ti = *br * wi + *bi * wr;
                *br = *ar - tr;
                *bi = *ai - ti;
                *ar += tr;
                *ai += ti;
            }
        }
        half *= 2;
    }
    // Split into the real signal's spectrum. With E and O the spectra of the even and odd
    // samples, X[k] = E[k] + W^k O[k] and |X[N-k]| = |E[k] - W^k O[k]| (W = exp(-2πi/HISTORY)),
    // where E[k] = (Z[k] + conj Z[N-k]) / 2 and O[k] = (Z[k] - conj Z[N-k]) / 2i.
    power[0] = (re[0] + im[0]) * (re[0] + im[0]);
    power[N] = (re[0] - im[0]) * (re[0] - im[0]);
    // At k = N/2, W^k = -i and the formula reduces to |Z[N/2]|.
    power[N / 2] = re[N / 2] * re[N / 2] + im[N / 2] * im[N / 2];
    let (low, high) = power.split_at_mut(N / 2);
    let mirrored = high[1..N / 2].iter_mut().rev();
    for ((k, lo), hi) in (1..N / 2).zip(low[1..].iter_mut()).zip(mirrored) {
        let (zr, zi) = (re[k], im[k]);
        let (cr, ci) = (re[N - k], -im[N - k]);
        let (er, ei) = (0.5 * (zr + cr), 0.5 * (zi + ci));
        let (or, oi) = (0.5 * (zi - ci), -0.5 * (zr - cr));
        let (wr, wi) = (t.split_re[k], t.split_im[k]);
        let (pr, pi) = (or * wr - oi * wi, or * wi + oi * wr);
        *lo = (er + pr) * (er + pr) + (ei + pi) * (ei + pi);
        *hi = (er - pr) * (er - pr) + (ei - pi) * (ei - pi);
    }
}

}

/// The butterflies spanning one and two points, whose twiddles are 1 and -i: adds only.
#[inline(always)]
fn first_two_stages(re: &mut [f32; N], im: &mut [f32; N]) {
    for q in (0..N).step_by(4) {
        let (s0r, s0i) = (re[q] + re[q + 1], im[q] + im[q + 1]);
        let (d0r, d0i) = (re[q] - re[q + 1], im[q] - im[q + 1]);
        let (s1r, s1i) = (re[q + 2] + re[q + 3], im[q + 2] + im[q + 3]);
        let (d1r, d1i) = (re[q + 2] - re[q + 3], im[q + 2] - im[q + 3]);
        re[q] = s0r + s1r;
        im[q] = s0i + s1i;
        re[q + 2] = s0r - s1r;
        im[q + 2] = s0i - s1i;
        // -i (a + ib) = b - ia
        re[q + 1] = d0r + d1i;
        im[q + 1] = d0i - d1r;
        re[q + 3] = d0r - d1i;
        im[q + 3] = d0i + d1r;
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

    #[test]
    fn matches_the_dft_by_its_definition() {
        let t = tables();
        let mut seed: u32 = 12345;
        let mut x = [0.0f32; HISTORY];
        for v in x.iter_mut() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = (seed >> 8) as f32 / (1u32 << 24) as f32 * 2000.0 - 1000.0;
        }
        let mut fast = [0.0f32; BINS];
        power_spectrum(&x, &mut fast);
        let total: f64 = fast.iter().map(|&p| f64::from(p)).sum();
        for (k, &got) in fast.iter().enumerate() {
            let (mut sr, mut si) = (0.0f64, 0.0f64);
            for (n, &v) in x.iter().enumerate() {
                let angle = -2.0 * std::f64::consts::PI * (k * n) as f64 / HISTORY as f64;
                let w = f64::from(v) * f64::from(t.window[n]);
                sr += w * angle.cos();
                si += w * angle.sin();
            }
            let want = sr * sr + si * si;
            assert!((f64::from(got) - want).abs() <= 1e-5 * total, "bin {k}: {got} vs {want}");
        }
    }
}
