//! Test audio: WAV fixtures (16-bit PCM) and synthesized signals with speech-like envelopes.

use std::path::Path;

/// Reads a 16-bit PCM WAV file: (samples interleaved, rate, channels).
pub fn read_wav(path: &Path) -> Result<(Vec<i16>, u32, u32), String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err(format!("{}: not a RIFF/WAVE file", path.display()));
    }
    let (mut pos, mut fmt, mut data) = (12, None, None);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = &b[pos + 8..(pos + 8 + len).min(b.len())];
        match id {
            b"fmt " if body.len() >= 16 => {
                let format = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]) as u32;
                let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                let bits = u16::from_le_bytes([body[14], body[15]]);
                fmt = Some((format, channels, rate, bits));
            }
            b"data" => data = Some(body),
            _ => {}
        }
        pos += 8 + len + (len & 1);
    }
    let (format, channels, rate, bits) = fmt.ok_or("no fmt chunk")?;
    let data = data.ok_or("no data chunk")?;
    let samples = match (format, bits) {
        (1 | 0xFFFE, 16) => data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect(),
        (6, 8) => data.iter().map(|b| alaw(*b)).collect(),
        (7, 8) => data.iter().map(|b| ulaw(*b)).collect(),
        _ => return Err(format!("{}: format {format}/{bits} bits not supported", path.display())),
    };
    Ok((samples, rate, channels))
}

/// G.711 mu-law to linear.
fn ulaw(b: u8) -> i16 {
    let u = !b;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// G.711 A-law to linear.
fn alaw(b: u8) -> i16 {
    let a = b ^ 0x55;
    let seg = (a & 0x70) >> 4;
    let mut t = i32::from(a & 0x0F) << 4;
    t = match seg {
        0 => t + 8,
        1 => t + 0x108,
        _ => (t + 0x108) << (seg - 1),
    };
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Deterministic noise.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    }
}

/// Silence then sound segments: `(silence_ms, sound_ms)` pairs, the sound a mix of a voiced
/// harmonic series and noise under a raised-cosine envelope, peak about `level`.
pub fn speech(rate: u32, segments: &[(u32, u32)], tail_ms: u32, level: f64) -> Vec<i16> {
    let mut out = Vec::new();
    let mut rng = Lcg(42);
    let ms = |m: u32| (u64::from(rate) * u64::from(m) / 1000) as usize;
    for (k, &(gap, len)) in segments.iter().enumerate() {
        out.extend(std::iter::repeat_n(0i16, ms(gap)));
        let n = ms(len);
        let f0 = 110.0 + 20.0 * (k % 4) as f64;
        for i in 0..n {
            let t = i as f64 / f64::from(rate);
            let env = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
            let env = env.sqrt();
            let mut v = 0.0;
            for h in 1..=8 {
                let f = f0 * h as f64;
                if f < f64::from(rate) / 2.0 {
                    v += (2.0 * std::f64::consts::PI * f * t).sin() / h as f64;
                }
            }
            v = 0.7 * v / 2.0 + 0.3 * rng.next();
            out.push((v * env * level).clamp(-32767.0, 32767.0) as i16);
        }
    }
    out.extend(std::iter::repeat_n(0i16, ms(tail_ms)));
    out
}

/// A person: "hello?" then waiting in silence.
pub fn person(rate: u32) -> Vec<i16> {
    speech(rate, &[(300, 450)], 6000, 9000.0)
}

/// An answering machine: a long, many-word greeting, then a beep.
pub fn machine(rate: u32) -> Vec<i16> {
    let words: Vec<(u32, u32)> = (0..14).map(|i| (if i == 0 { 250 } else { 90 + (i % 3) * 40 }, 220 + (i % 4) * 60)).collect();
    let mut v = speech(rate, &words, 300, 9000.0);
    let n = rate as usize / 2;
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        v.push(((2.0 * std::f64::consts::PI * 1000.0 * t).sin() * 8000.0) as i16);
    }
    v.extend(std::iter::repeat_n(0i16, rate as usize * 3));
    v
}

/// A machine that passes for a person: "Hello?", a pause long enough for the person decision,
/// then the recorded message and its beep. Returns the audio and where the beep starts and ends
/// (ms).
pub fn hello_then_machine(rate: u32) -> (Vec<i16>, u64, u64) {
    let words: Vec<(u32, u32)> = (0..4).map(|i| (if i == 0 { 1300 } else { 90 }, 260 + (i % 2) * 60)).collect();
    let mut v = speech(rate, &[(300, 450)], 0, 9000.0);
    v.extend(speech(rate, &words, 300, 9000.0));
    let ms = |n: usize| (n as u64) * 1000 / u64::from(rate);
    let beep_start = ms(v.len());
    for i in 0..rate as usize / 2 {
        let t = i as f64 / f64::from(rate);
        v.push(((2.0 * std::f64::consts::PI * 1000.0 * t).sin() * 8000.0) as i16);
    }
    let beep_end = ms(v.len());
    v.extend(std::iter::repeat_n(0i16, rate as usize * 4));
    (v, beep_start, beep_end)
}

/// Nothing at all.
pub fn silence(rate: u32, ms: u32) -> Vec<i16> {
    vec![0; (u64::from(rate) * u64::from(ms) / 1000) as usize]
}

/// Interleaves a mono signal into `channels` identical channels.
pub fn interleave(mono: &[i16], channels: u32) -> Vec<i16> {
    mono.iter().flat_map(|s| std::iter::repeat_n(*s, channels as usize)).collect()
}
