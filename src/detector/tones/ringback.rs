//! Ring tone heard after the answer.
//!
//! Some lines answer before anybody picks up (a PBX or a carrier passing the call on, false
//! answer supervision) and go on sending their ring tone in band. Taken for sound, a two-second
//! North American ring makes a greeting on its own, and a person saying "Hello?" after it is
//! called a machine at noise_max_intro; a ring followed by its off period is a short greeting
//! and a silence, so the call is called a person before anybody answered.
//!
//! Ring tones the world over sit between 400 and 480 Hz: one tone (425 Hz in most of Europe,
//! 450 Hz in China), two tones 25 to 50 Hz apart (440 + 480 Hz in North America, 400 + 450 Hz
//! in the UK) or one tone pulsed at 16 to 25 Hz (Japan, Australia). Two tones that close beat
//! against each other, and their peaks merge in a 32 ms window: the beep tracker, which wants a
//! peak that holds its pitch and level from block to block, loses them. What all ring tones
//! share is that nearly all the energy of the band sits in a narrow stretch around 400 to 480
//! Hz whose centre stays put; speech spreads its energy over its harmonics and formants, and
//! moves them.

use crate::detector::frontend::HISTORY;
// The band whose energy a ring must hold is the one the beep tracker searches.
use crate::detector::tones::tone::{argmax, band_spectrum, sum, BAND_HI, BAND_LO, BIN_HZ};

/// Where a ring's centre may lie (Hz): the ring tones above, with room for a codec's shift.
const RING_LO_HZ: f32 = 340.0;
const RING_HI_HZ: f32 = 520.0;
/// Bins either side of the strongest one counted as the ring: two tones 50 Hz apart and the
/// Hann lobes around them (two bins either side of each).
const RING_HALF_WIDTH: usize = 3;
/// Share of the band's energy the ring must hold. Line noise 10 dB under the ring leaves it
/// about 0.9 (the unit tests below); a low vowel of a monotonous synthetic voice reaches 0.8. The
/// kit's draws have no ring after the answer: on 10,224 of their calls a share of 0.8, 0.85 or
/// 0.9 takes a voice for a ring on at most one.
const RING_SHARE: f32 = 0.85;
/// How far the centre may move between blocks (Hz). Two beating tones of equal level keep it
/// still; line noise and codecs (GSM, AMR at 4.75 kbit/s) move it by up to 8 Hz.
const CENTRE_TOLERANCE_HZ: f32 = 10.0;
/// Blocks the ring must be seen in before it is taken for one (a pulsed ring in noise drops out
/// of some blocks between): 80 ms of a steady ring (on 10,224 kit draw calls 60 or 100 ms change
/// two decisions at most), short enough that the ring's onset stays shorter than a word (noise_min_length is
/// 120 ms by default) and starts no greeting.
const ESTABLISH_BLOCKS: u8 = 8;
/// Blocks in a row the ring may go unseen and still be ringing: a ring pulsed at 16 Hz in line
/// noise drops out of three blocks in its troughs.
const MAX_MISSES: u8 = 3;

/// Where the energy of the last HISTORY samples is centred, when nearly all of it sits in a
/// ring tone's narrow stretch.
pub fn observe(samples: &[f32; HISTORY]) -> Option<f32> {
    let (power, total) = band_spectrum(samples)?;
    let peak = BAND_LO + argmax(&power[BAND_LO..=BAND_HI])?;
    let lo = peak.saturating_sub(RING_HALF_WIDTH).max(BAND_LO);
    let hi = (peak + RING_HALF_WIDTH).min(BAND_HI);
    let ring = &power[lo..=hi];
    let energy = sum(ring);
    if energy / total < RING_SHARE {
        return None;
    }
    let moment: f32 = ring.iter().enumerate().map(|(i, p)| (lo + i) as f32 * p).sum();
    let centre = moment / energy * BIN_HZ;
    (RING_LO_HZ..=RING_HI_HZ).contains(&centre).then_some(centre)
}

/// Follows a ring tone from block to block.
#[derive(Debug, Clone, Copy, Default)]
pub struct RingbackTracker {
    centre: f32,
    /// Blocks the centre was seen in, up to ESTABLISH_BLOCKS, with at most MAX_MISSES in a row
    /// missing between them.
    held: u8,
    misses: u8,
}

impl RingbackTracker {
    /// Takes one block's [`observe`] (None where it saw no ring or did not look) and says
    /// whether the line is ringing.
    pub fn update(&mut self, centre: Option<f32>) -> bool {
        match centre {
            Some(c) if self.held > 0 && (c - self.centre).abs() <= CENTRE_TOLERANCE_HZ => {
                self.centre += 0.3 * (c - self.centre);
                self.held = (self.held + 1).min(ESTABLISH_BLOCKS);
                self.misses = 0;
            }
            // Something else where no ring has been taken for one yet: start again from it.
            Some(c) if !self.is_ringing() => *self = RingbackTracker { centre: c, held: 1, misses: 0 },
            _ => {
                self.misses += 1;
                if self.misses > MAX_MISSES {
                    *self = RingbackTracker::default();
                }
            }
        }
        self.is_ringing()
    }

    /// Whether a ring may be starting or going on: the next blocks are worth a look whatever
    /// their level.
    pub fn is_following(&self) -> bool {
        self.held > 0
    }

    pub fn is_ringing(&self) -> bool {
        self.held >= ESTABLISH_BLOCKS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::frontend::INTERNAL_RATE;

    const RATE: f32 = INTERNAL_RATE as f32;

    /// HISTORY samples starting at `start` of a sum of sines (frequency, amplitude), each
    /// optionally pulsed at a rate.
    fn window(start: usize, tones: &[(f32, f32)], pulse_hz: Option<f32>, noise: f32) -> [f32; HISTORY] {
        let mut seed = 12345u32 + start as u32;
        let mut w = [0.0f32; HISTORY];
        for (i, x) in w.iter_mut().enumerate() {
            let t = (start + i) as f32 / RATE;
            let mut v: f32 = tones.iter().map(|&(f, a)| a * (2.0 * std::f32::consts::PI * f * t).sin()).sum();
            if let Some(p) = pulse_hz {
                v *= 0.5 + 0.5 * (2.0 * std::f32::consts::PI * p * t).sin();
            }
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            v += noise * ((seed >> 16) as f32 / 32768.0 - 1.0);
            *x = v;
        }
        w
    }

    /// A name, tones (frequency, amplitude) and the rate they are pulsed at.
    type RingCase = (&'static str, &'static [(f32, f32)], Option<f32>);

    /// Feeds 10 ms blocks for `ms` and returns how many of them were taken for ringing.
    fn ringing_blocks(ms: usize, tones: &[(f32, f32)], pulse_hz: Option<f32>, noise: f32) -> usize {
        let mut tracker = RingbackTracker::default();
        (0..ms / 10).filter(|b| tracker.update(observe(&window(b * 80, tones, pulse_hz, noise)))).count()
    }

    #[test]
    fn the_ring_tones_of_the_world_are_rings_within_80_ms() {
        let cases: [RingCase; 6] = [
            ("north america", &[(440.0, 3000.0), (480.0, 3000.0)], None),
            ("uk", &[(400.0, 3000.0), (450.0, 3000.0)], None),
            ("europe", &[(425.0, 3000.0)], None),
            ("china", &[(450.0, 3000.0)], None),
            ("japan", &[(400.0, 3000.0)], Some(16.0)),
            ("australia", &[(425.0, 3000.0)], Some(25.0)),
        ];
        for (name, tones, pulse) in cases {
            // The first ESTABLISH_BLOCKS - 1 blocks of a second of ring go unclaimed.
            assert_eq!(ringing_blocks(1000, tones, pulse, 0.0), 100 - (usize::from(ESTABLISH_BLOCKS) - 1), "{name}");
            // Line noise 10 dB under the ring (uniform noise of amplitude a has RMS a / sqrt 3):
            // all but the onset and a few troughs of a pulsed ring.
            let clean: Vec<f32> = (0..10).flat_map(|b| window(b * HISTORY, tones, pulse, 0.0)).collect();
            let rms = (clean.iter().map(|x| x * x).sum::<f32>() / clean.len() as f32).sqrt();
            let n = ringing_blocks(1000, tones, pulse, rms / 10f32.sqrt() * 3f32.sqrt());
            assert!(n >= 85, "{name} in noise: {n} blocks of 100 ringing");
        }
    }

    #[test]
    fn beeps_speech_like_harmonics_and_noise_are_not_rings() {
        assert_eq!(ringing_blocks(1000, &[(1000.0, 3000.0)], None, 0.0), 0, "a 1 kHz beep");
        assert_eq!(ringing_blocks(1000, &[(1400.0, 3000.0), (2060.0, 3000.0)], None, 0.0), 0, "a two-tone beep");
        // A vowel at 150 Hz: its harmonics share the band out.
        let vowel: Vec<(f32, f32)> = (2..20).map(|h| (150.0 * h as f32, 3000.0 / h as f32)).collect();
        assert_eq!(ringing_blocks(1000, &vowel, None, 0.0), 0, "a vowel");
        assert_eq!(ringing_blocks(1000, &[], None, 3000.0), 0, "noise");
        // A ring tone buried in noise as loud as itself.
        assert_eq!(ringing_blocks(1000, &[(425.0, 3000.0)], None, 5200.0), 0, "ring in loud noise");
    }

    #[test]
    fn a_centre_that_wanders_is_not_a_ring() {
        // A tone gliding 40 Hz every 10 ms (a voice's harmonic sliding through the ring band).
        let mut tracker = RingbackTracker::default();
        let ringing = (0..20).filter(|&b| {
            let f = 360.0 + 8.0 * b as f32;
            tracker.update(observe(&window(b * 80, &[(f, 3000.0)], None, 0.0)))
        });
        assert_eq!(ringing.count(), 0);
    }

    #[test]
    fn a_ring_goes_on_through_three_missing_blocks_and_stops_after_a_fourth() {
        let mut t = RingbackTracker::default();
        for _ in 0..ESTABLISH_BLOCKS {
            t.update(Some(440.0));
        }
        assert!(t.is_ringing());
        for _ in 0..MAX_MISSES {
            assert!(t.update(None));
        }
        assert!(!t.update(None));
        // Back from the start after that.
        assert!(!t.update(Some(440.0)));
    }
}
