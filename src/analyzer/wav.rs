//! Reads the WAV files the analyzer works on: mono 16-bit PCM, G.711 μ-law or A-law.
//!
//! Our own reader rather than a general crate because telephony recordings are G.711 as often
//! as PCM, and because every malformed header must become a clear error, never a panic.

use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
    pub encoding: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Pcm16,
    MuLaw,
    ALaw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WavError {
    Io(String),
    NotWav(&'static str),
    Malformed(String),
    Unsupported(String),
}

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WavError::Io(e) => write!(f, "cannot read: {e}"),
            WavError::NotWav(why) => write!(f, "not a WAV file: {why}"),
            WavError::Malformed(why) => write!(f, "malformed WAV: {why}"),
            WavError::Unsupported(why) => write!(f, "unsupported WAV: {why}"),
        }
    }
}

impl std::error::Error for WavError {}

const FORMAT_PCM: u16 = 1;
const FORMAT_ALAW: u16 = 6;
const FORMAT_MULAW: u16 = 7;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

pub fn read_file(path: &Path) -> Result<Audio, WavError> {
    let bytes = std::fs::read(path).map_err(|e| WavError::Io(e.to_string()))?;
    parse(&bytes)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// Parses a whole WAV file held in memory.
pub fn parse(bytes: &[u8]) -> Result<Audio, WavError> {
    if bytes.len() < 12 {
        return Err(WavError::NotWav("shorter than a RIFF header"));
    }
    if &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav("no RIFF/WAVE signature"));
    }
    let mut pos = 12;
    let mut format: Option<Format> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let declared = u32_at(bytes, pos + 4);
        let body = pos + 8;
        let remaining = bytes.len() - body;
        if id == b"fmt " {
            if (declared as usize) < 16 || remaining < 16 {
                return Err(WavError::Malformed(format!("fmt chunk of {declared} bytes")));
            }
            let mut tag = u16_at(bytes, body);
            if tag == FORMAT_EXTENSIBLE {
                if declared < 40 || remaining < 40 {
                    return Err(WavError::Malformed("extensible fmt chunk too short".into()));
                }
                // The real format code is the first two bytes of the sub-format GUID.
                tag = u16_at(bytes, body + 24);
            }
            format = Some(Format {
                tag,
                channels: u16_at(bytes, body + 2),
                rate: u32_at(bytes, body + 4),
                bits: u16_at(bytes, body + 14),
            });
        } else if id == b"data" {
            let fmt = format.ok_or_else(|| WavError::Malformed("data chunk before fmt chunk".into()))?;
            // Recorders that stream write 0 or 0xFFFFFFFF and never patch the size: read to the end.
            let len = if declared == 0 || declared == u32::MAX {
                remaining
            } else if declared as usize > remaining {
                return Err(WavError::Malformed(format!(
                    "truncated: the header announces {declared} bytes of audio, the file holds {remaining}"
                )));
            } else {
                declared as usize
            };
            return decode(&fmt, &bytes[body..body + len]);
        }
        let skip = (declared as usize).saturating_add(declared as usize & 1);
        pos = body.saturating_add(skip);
    }
    Err(WavError::Malformed(if format.is_some() { "no data chunk".into() } else { "no fmt chunk".into() }))
}

fn decode(fmt: &Format, data: &[u8]) -> Result<Audio, WavError> {
    if fmt.channels != 1 {
        return Err(WavError::Unsupported(format!("{} channels; the analyzer takes mono audio only", fmt.channels)));
    }
    if fmt.rate == 0 {
        return Err(WavError::Malformed("sample rate 0".into()));
    }
    let (samples, encoding) = match (fmt.tag, fmt.bits) {
        (FORMAT_PCM, 16) => (data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect(), Encoding::Pcm16),
        (FORMAT_MULAW, 8) => (data.iter().map(|&b| mulaw_to_linear(b)).collect(), Encoding::MuLaw),
        (FORMAT_ALAW, 8) => (data.iter().map(|&b| alaw_to_linear(b)).collect(), Encoding::ALaw),
        (tag, bits) => {
            return Err(WavError::Unsupported(format!(
                "format {tag} with {bits} bits per sample (need 16-bit PCM, μ-law or A-law)"
            )))
        }
    };
    Ok(Audio { sample_rate: fmt.rate, samples, encoding })
}

/// G.711 μ-law expansion.
pub fn mulaw_to_linear(code: u8) -> i16 {
    let c = !code;
    let exponent = (c >> 4) & 0x07;
    let mantissa = i32::from(c & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if c & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// G.711 A-law expansion.
pub fn alaw_to_linear(code: u8) -> i16 {
    let c = code ^ 0x55;
    let exponent = (c >> 4) & 0x07;
    let mantissa = i32::from(c & 0x0F);
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    (if c & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * u32::from(bits / 8) * u32::from(channels)).to_le_bytes());
        v.extend_from_slice(&(bits / 8 * channels).to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_pcm16() {
        let a = parse(&wav(1, 1, 8000, 16, &[1, 0, 0xff, 0xff])).unwrap();
        assert_eq!(a.samples, vec![1, -1]);
        assert_eq!(a.sample_rate, 8000);
    }

    #[test]
    fn g711_known_codes() {
        assert_eq!(mulaw_to_linear(0xFF), 0);
        assert_eq!(mulaw_to_linear(0x00), -32124);
        assert_eq!(mulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        let a = parse(&wav(7, 1, 8000, 8, &[0xFF, 0x80])).unwrap();
        assert_eq!((a.samples, a.encoding), (vec![0, 32124], Encoding::MuLaw));
    }

    #[test]
    fn refuses_stereo_truncated_and_garbage() {
        assert!(matches!(parse(&wav(1, 2, 8000, 16, &[0; 8])), Err(WavError::Unsupported(_))));
        let mut t = wav(1, 1, 8000, 16, &[0; 100]);
        t.truncate(60);
        assert!(matches!(parse(&t), Err(WavError::Malformed(m)) if m.contains("truncated")));
        assert!(matches!(parse(b"hello"), Err(WavError::NotWav(_))));
        assert!(matches!(parse(&wav(3, 1, 8000, 32, &[0; 8])), Err(WavError::Unsupported(_))));
    }

    #[test]
    fn every_prefix_of_a_file_is_handled_without_panic() {
        let good = wav(1, 1, 8000, 16, &[0; 64]);
        for n in 0..good.len() {
            let _ = parse(&good[..n]);
        }
    }
}
