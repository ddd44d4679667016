//! V.21 channel 2: the answering fax's control channel, heard when a fax answers with no CED
//! tone (or one too short to count) before it.
//!
//! Binary FSK at 300 baud, mark 1650 Hz, space 1850 Hz. It opens with about a second of HDLC
//! flags (two spaces, six marks, again and again) and goes on with frames on the same two
//! frequencies. So a V.21 block holds nearly all its energy at 1650 and 1850 Hz, and within a
//! few hundred ms the signal switches from one to the other again and again: half blocks (5 ms)
//! mostly mark alternate with half blocks mostly space. A beep at either frequency is only ever
//! one of the two; speech and music do not stay in that band, switching that fast, for half a
//! second.
//!
//! Cost: most blocks are turned away by their lag-1/lag-2 autocorrelation, which the front end
//! measures anyway (energy near 1650-1850 Hz has rho1 about 0.1-0.3 and rho2 about -0.9; speech
//! after the high-pass mostly has rho2 above 0): 1.1% of the development corpus's blocks get
//! through. Only those are correlated with the two frequencies: 5 x 80 multiply-adds (four
//! correlations and the energy), worked out side by side. A call with nothing like V.21 in its
//! last 64 blocks costs one more comparison per block.

use std::sync::OnceLock;

use crate::detector::dsp::wide::LANES;
use crate::detector::frontend::{BlockStats, FrontEnd, BLOCK, INTERNAL_RATE};

const MARK_HZ: f32 = 1650.0;
const SPACE_HZ: f32 = 1850.0;
/// The autocorrelation fingerprint a block must have to be looked at. Both frequencies sit
/// inside it with room for noise, which pulls rho1 and rho2 towards its own (0 for white
/// noise); the fax answer tone (2100 Hz, rho1 -0.08) falls outside.
const RHO1_MIN: f32 = 0.0;
const RHO1_MAX: f32 = 0.5;
const RHO2_MAX: f32 = -0.55;
/// Mean |sample| under which a block is too quiet to hold a fax signal (about -66 dBFS).
const MIN_LEVEL: f32 = 16.0;
/// Share of a block's energy the two frequencies must hold together, measured over each half
/// of the block (5 ms, 1.5 bits) and summed. Over a whole block, a mark-space-mark pattern of
/// continuous-phase FSK cancels itself out at both frequencies (a quarter of the blocks of
/// random data keep under 10% there); over its halves V.21 keeps 78% or more (simulated). Noise
/// in the telephone band puts about 13% there, a tone between 1560 and 1940 Hz 45% or more (the
/// runs below tell it from V.21).
const MIN_BAND_SHARE: f32 = 0.5;
/// Half a block (5 ms, 1.5 bits) is mostly mark, or mostly space, when that frequency holds this
/// share of the pair's power there.
const LEADING_SHARE: f32 = 0.65;
/// The stretch judged: 500 ms, half the shortest preamble, so the decision falls inside it.
const WINDOW_BLOCKS: u32 = 50;
/// Blocks of the stretch that must look like V.21 (lost packets and codec glitches miss some).
const MIN_FSK_BLOCKS: u32 = 44;
/// Separate runs of half blocks led by each frequency within the stretch. Every flag (26.7 ms)
/// puts its two spaces in a run of their own between marks: 16 or 17 runs of each in 440 ms,
/// frame bits about as many (V.21 through GSM had 8-12 in some stretches). A beep gives one
/// run of one of them, a beep in two tones one of each; a trill between the two frequencies at
/// 20 notes a second gives five of each, and a sung note sweeping over both with a wide (200 Hz)
/// and fast (9-12 Hz) vibrato eight.
const MIN_RUNS: u32 = 10;
const HALF: usize = BLOCK / 2;

/// Follows V.21 over the last WINDOW_BLOCKS blocks.
#[derive(Debug, Clone, Default)]
pub struct V21Watch {
    /// One bit per recent block, newest lowest: did it look like V.21?
    fsk: u64,
    /// One bit per recent half block, newest lowest: was it mostly mark, or mostly space?
    mark: u128,
    space: u128,
}

/// What one block looked like; its halves, older first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Look {
    fsk: bool,
    mark: [bool; 2],
    space: [bool; 2],
}

impl V21Watch {
    /// Takes the block the front end just completed; true when the last 500 ms were V.21.
    /// Inlined: nearly every block ends at the fingerprint test.
    #[inline]
    pub fn update(&mut self, front: &FrontEnd, stats: &BlockStats) -> bool {
        let may_be = may_be_v21(stats);
        if !may_be && self.fsk == 0 {
            // Nothing like V.21 for 64 blocks: the history (64 blocks, 128 halves) is all
            // clear, and stays so.
            debug_assert!(self.mark == 0 && self.space == 0);
            return false;
        }
        self.hear(front, may_be)
    }

    #[inline(never)]
    fn hear(&mut self, front: &FrontEnd, may_be: bool) -> bool {
        let look = if may_be {
            let mut block = [0.0f32; BLOCK];
            front.last_block(&mut block);
            look_at(&block)
        } else {
            Look::default()
        };
        self.push(look)
    }

    fn push(&mut self, look: Look) -> bool {
        let halves = |[older, newer]: [bool; 2]| u128::from(older) << 1 | u128::from(newer);
        self.fsk = (self.fsk << 1) | u64::from(look.fsk);
        self.mark = (self.mark << 2) | halves(look.mark);
        self.space = (self.space << 2) | halves(look.space);
        if !look.fsk {
            return false;
        }
        let blocks = (1u64 << WINDOW_BLOCKS) - 1;
        let halves = (1u128 << (2 * WINDOW_BLOCKS)) - 1;
        (self.fsk & blocks).count_ones() >= MIN_FSK_BLOCKS
            && runs(self.mark & halves) >= MIN_RUNS
            && runs(self.space & halves) >= MIN_RUNS
    }
}

/// Runs of set bits: those whose older neighbour (the next higher bit) is clear start one.
fn runs(bits: u128) -> u32 {
    (bits & !(bits >> 1)).count_ones()
}

fn may_be_v21(stats: &BlockStats) -> bool {
    stats.level >= MIN_LEVEL && stats.rho2 <= RHO2_MAX && (RHO1_MIN..=RHO1_MAX).contains(&stats.rho1)
}

const _: () = assert!(HALF.is_multiple_of(LANES));

/// cos and sin at the two frequencies over one block.
struct Basis {
    mark_cos: [f32; BLOCK],
    mark_sin: [f32; BLOCK],
    space_cos: [f32; BLOCK],
    space_sin: [f32; BLOCK],
}

fn basis() -> &'static Basis {
    static BASIS: OnceLock<Basis> = OnceLock::new();
    BASIS.get_or_init(|| {
        let wave = |hz: f32, f: fn(f64) -> f64| -> [f32; BLOCK] {
            std::array::from_fn(|n| f(std::f64::consts::TAU * f64::from(hz) * n as f64 / f64::from(INTERNAL_RATE)) as f32)
        };
        Basis {
            mark_cos: wave(MARK_HZ, f64::cos),
            mark_sin: wave(MARK_HZ, f64::sin),
            space_cos: wave(SPACE_HZ, f64::cos),
            space_sin: wave(SPACE_HZ, f64::sin),
        }
    })
}

/// One stretch of samples correlated with both frequencies.
#[derive(Debug, Clone, Copy, Default)]
struct Correlation {
    mark: (f32, f32),
    space: (f32, f32),
    energy: f32,
}

impl Correlation {
    fn of(x: &[f32], at: usize) -> Correlation {
        let b = basis();
        let mut acc = [[0.0f32; LANES]; 5];
        for (i, x) in x.chunks_exact(LANES).enumerate() {
            let n = at + i * LANES;
            for j in 0..LANES {
                let v = x[j];
                acc[0][j] += v * b.mark_cos[n + j];
                acc[1][j] += v * b.mark_sin[n + j];
                acc[2][j] += v * b.space_cos[n + j];
                acc[3][j] += v * b.space_sin[n + j];
                acc[4][j] += v * v;
            }
        }
        let [mc, ms, sc, ss, energy] = acc.map(|lanes| lanes.iter().sum::<f32>());
        Correlation { mark: (mc, ms), space: (sc, ss), energy }
    }

    /// The energy of the tone each frequency finds over HALF samples: a steady sine at that
    /// frequency gives all of the stretch's energy. The two frequencies are one bin apart over
    /// HALF samples, so a sine at one of them gives nothing at the other.
    fn tone_energy(&self) -> (f32, f32) {
        let power = |(c, s): (f32, f32)| (c * c + s * s) * (2.0 / HALF as f32);
        (power(self.mark), power(self.space))
    }
}

fn look_at(block: &[f32; BLOCK]) -> Look {
    let halves = [Correlation::of(&block[..HALF], 0), Correlation::of(&block[HALF..], HALF)];
    let energy = halves[0].energy + halves[1].energy;
    let tones = halves.map(|h| h.tone_energy());
    let band: f32 = tones.iter().map(|(mark, space)| mark + space).sum();
    if !(band >= MIN_BAND_SHARE * energy && energy > 0.0) {
        return Look::default();
    }
    let lead = |(mark, space): (f32, f32), one: f32| one > 0.0 && one >= LEADING_SHARE * (mark + space);
    Look { fsk: true, mark: tones.map(|t| lead(t, t.0)), space: tones.map(|t| lead(t, t.1)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, start: usize) -> [f32; BLOCK] {
        std::array::from_fn(|n| amp * (std::f32::consts::TAU * freq * (start + n) as f32 / INTERNAL_RATE as f32).sin())
    }

    /// Each frequency's share of the energy of one half of the block.
    fn shares(x: &[f32; BLOCK], newer: bool) -> (f32, f32) {
        let at = if newer { HALF } else { 0 };
        let c = Correlation::of(&x[at..at + HALF], at);
        let (mark, space) = c.tone_energy();
        (mark / c.energy, space / c.energy)
    }

    /// Continuous-phase FSK of `bits` at 300 baud, from `offset` samples into the first bit.
    fn fsk(bits: impl Fn(usize) -> bool, offset: usize, blocks: usize) -> Vec<[f32; BLOCK]> {
        let mut phase = 0.0f64;
        let samples: Vec<f32> = (offset..offset + blocks * BLOCK)
            .map(|n| {
                let bit = bits(n * 300 / INTERNAL_RATE as usize);
                phase += std::f64::consts::TAU * if bit { 1650.0 } else { 1850.0 } / f64::from(INTERNAL_RATE);
                (1000.0 * phase.sin()) as f32
            })
            .collect();
        samples.chunks_exact(BLOCK).map(|c| c.try_into().unwrap()).collect()
    }

    #[test]
    fn a_sine_at_either_frequency_holds_all_its_share_and_none_of_the_other() {
        for (start, newer) in [(0, false), (13, true), (47, false), (47, true)] {
            let (m, s) = shares(&sine(MARK_HZ, 1000.0, start), newer);
            assert!((m - 1.0).abs() < 0.05 && s < 0.02, "mark at {start}: {m} {s}");
            let (m, s) = shares(&sine(SPACE_HZ, 1000.0, start), newer);
            assert!((s - 1.0).abs() < 0.05 && m < 0.02, "space at {start}: {m} {s}");
            // Halfway between them, a tone is in both alike and leads neither.
            let x = sine(1750.0, 1000.0, start);
            let (m, s) = shares(&x, newer);
            assert!((m - s).abs() < 0.05 && m + s > 0.5, "1750 Hz at {start}: {m} {s}");
            assert_eq!(look_at(&x), Look { fsk: true, mark: [false; 2], space: [false; 2] });
        }
    }

    #[test]
    fn the_fingerprint_lets_both_frequencies_through_and_not_the_fax_answer_tone() {
        let stats = |freq: f32| {
            let x = sine(freq, 1000.0, 0);
            let energy: f32 = x.iter().map(|v| v * v).sum();
            let lag = |k: usize| x[k..].iter().zip(&x[..BLOCK - k]).map(|(a, b)| a * b).sum::<f32>() / energy;
            BlockStats { level: x.iter().map(|v| v.abs()).sum::<f32>() / BLOCK as f32, rho1: lag(1), rho2: lag(2) }
        };
        assert!(may_be_v21(&stats(MARK_HZ)) && may_be_v21(&stats(SPACE_HZ)));
        assert!(!may_be_v21(&stats(2100.0)) && !may_be_v21(&stats(1100.0)) && !may_be_v21(&stats(500.0)));
    }

    #[test]
    fn every_flag_gives_a_half_block_of_space_whatever_the_bit_timing() {
        // HDLC flags, 0x7E: two spaces, six marks.
        let flag = |bit: usize| !bit.is_multiple_of(8) && bit % 8 != 7;
        for offset in 0..BLOCK {
            let looks: Vec<Look> = fsk(flag, offset, 44).iter().map(look_at).collect();
            assert!(looks.iter().all(|l| l.fsk), "offset {offset}");
            let space = looks.iter().flat_map(|l| l.space).filter(|&s| s).count();
            let mark = looks.iter().flat_map(|l| l.mark).filter(|&m| m).count();
            // 44 blocks hold 16.5 flags.
            assert!(space >= 16 && mark >= 16, "offset {offset}: {space} halves led by space, {mark} by mark");
            let mut w = V21Watch::default();
            let heard: Vec<bool> = looks.iter().map(|&l| w.push(l)).collect();
            assert_eq!(heard.iter().position(|&h| h), Some(MIN_FSK_BLOCKS as usize - 1), "offset {offset}");
        }
    }

    #[test]
    fn frame_bits_are_v21_in_every_block_too() {
        // Pseudo-random bits (the frames after the preamble): mark-space-mark within a block
        // cancels out over the whole block, not over its halves.
        let bit = |n: usize| (n as u32).wrapping_mul(2_654_435_761).rotate_left(13) & 0x100 != 0;
        for offset in [0, 11, 40, 66] {
            let looks: Vec<Look> = fsk(bit, offset, 200).iter().map(look_at).collect();
            assert!(looks.iter().all(|l| l.fsk), "offset {offset}");
            let mut w = V21Watch::default();
            let heard: Vec<bool> = looks.iter().map(|&l| w.push(l)).collect();
            assert_eq!(heard.iter().position(|&h| h), Some(MIN_FSK_BLOCKS as usize - 1), "offset {offset}");
        }
    }

    #[test]
    fn it_takes_both_frequencies_switching_fast_for_most_of_half_a_second() {
        let look = |mark: [bool; 2], space: [bool; 2]| Look { fsk: true, mark, space };
        let (m, s, none) = ([true, true], [false, false], [false, false]);
        let (mark, space, split) = (look(m, s), look(s, m), look([true, false], [false, true]));
        // A steady tone at one of them: never; nor one tone and then the other.
        let mut w = V21Watch::default();
        assert!((0..200).all(|_| !w.push(mark)));
        let mut w = V21Watch::default();
        assert!((0..200).all(|i| !w.push(if i < 25 { mark } else { space })));
        // Switching fast: decided once 44 blocks were heard with ten runs of each...
        let mut w = V21Watch::default();
        let heard: Vec<bool> = (0..60).map(|i| w.push(if i % 4 == 3 && i < 40 { space } else { mark })).collect();
        assert_eq!(heard.iter().position(|&h| h), Some(MIN_FSK_BLOCKS as usize - 1));
        // ... not with nine.
        let mut w = V21Watch::default();
        assert!((0..60).all(|i| !w.push(if i % 4 == 3 && i < 36 { space } else { mark })));
        // A trill of ten notes a second: two or three runs of each, never.
        let mut w = V21Watch::default();
        assert!((0..300).all(|i| !w.push(if (i / 10) % 2 == 0 { mark } else { space })));
        // Both in every block, and none leading: never.
        let mut w = V21Watch::default();
        assert!((0..300).all(|_| !w.push(look(none, none))));
        // Split blocks alone switch every 5 ms.
        let mut w = V21Watch::default();
        assert!((0..60).any(|_| w.push(split)));
        // Too many blocks missing from the stretch: never.
        let mut w = V21Watch::default();
        let gap = look(none, none);
        assert!((0..200).all(|i| !w.push(if i % 6 == 0 { Look::default() } else if i % 2 == 0 { split } else { gap })));
    }
}
