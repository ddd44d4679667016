//! Reads the WAV files the analyzer works on: 16-bit PCM, G.711 μ-law or A-law, mono or one
//! channel of several (a FreeSWITCH recording of both directions is stereo), at any rate.
//!
//! Our own reader rather than a general crate because telephony recordings are G.711 as often
//! as PCM, and because every malformed header must become a clear error, never a panic.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    /// One channel's samples.
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

/// The file's first channel (its only one, for mono).
pub fn read_file(path: &Path) -> Result<Audio, WavError> {
    read_channel(path, 0)
}

/// Channel `channel` (from 0) of the file.
pub fn read_channel(path: &Path, channel: u16) -> Result<Audio, WavError> {
    let bytes = std::fs::read(path).map_err(|e| WavError::Io(e.to_string()))?;
    parse_channel(&bytes, channel)
}

/// A WAV file read a few frames at a time: a two-hour recording costs no more memory than a
/// short one, and the analyzer stops reading once the detector is done with the call.
pub struct WavStream {
    file: BufReader<File>,
    format: Format,
    channel: u16,
    /// Bytes of audio left to read; None: to the end of the file (a streaming recorder's header).
    left: Option<u64>,
    /// The whole data chunk's length, in bytes.
    data_bytes: u64,
    /// Undecoded bytes, reused between reads.
    raw: Vec<u8>,
}

impl WavStream {
    /// Opens `path` to read channel `channel` (from 0), reading only its header: the same checks
    /// and errors as [`parse_channel`].
    pub fn open(path: &Path, channel: u16) -> Result<WavStream, WavError> {
        let io = |e: std::io::Error| WavError::Io(e.to_string());
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let data = find_data(file_len, &mut |pos, buf| {
            file.seek(SeekFrom::Start(pos)).map_err(io)?;
            file.read_exact(buf).map_err(io)
        })?;
        check_format(&data.format, channel)?;
        file.seek(SeekFrom::Start(data.offset)).map_err(io)?;
        let data_bytes = data.len();
        Ok(WavStream { file: BufReader::new(file), format: data.format, channel, left: data.declared, data_bytes, raw: Vec::new() })
    }

    pub fn sample_rate(&self) -> u32 {
        self.format.rate
    }

    /// The recording's length in ms, from its data chunk's size.
    pub fn duration_ms(&self) -> u64 {
        let frame_bytes = u64::from(self.format.channels) * u64::from(self.format.bits / 8).max(1);
        self.data_bytes / frame_bytes.max(1) * 1000 / u64::from(self.format.rate)
    }

    /// Reads up to `frames` sample frames and appends the channel's samples to `out` (cleared
    /// first); returns how many it read, 0 at the end.
    pub fn read(&mut self, frames: usize, out: &mut Vec<i16>) -> Result<usize, WavError> {
        out.clear();
        let frame_bytes = usize::from(self.format.channels) * usize::from(self.format.bits / 8);
        let mut want = frames * frame_bytes;
        if let Some(left) = self.left {
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        self.raw.resize(want, 0);
        let mut got = 0;
        while got < want {
            match self.file.read(&mut self.raw[got..want]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(WavError::Io(e.to_string())),
            }
        }
        let whole = got - got % frame_bytes.max(1);
        if let Some(left) = self.left.as_mut() {
            *left -= got as u64;
        }
        let decoded = decode(&self.format, &self.raw[..whole], self.channel)?;
        out.extend_from_slice(&decoded.samples);
        Ok(whole / frame_bytes.max(1))
    }
}

fn parse_format(body: &[u8], declared: u64) -> Result<Format, WavError> {
    if declared < 16 || body.len() < 16 {
        return Err(WavError::Malformed(format!("fmt chunk of {declared} bytes")));
    }
    let mut tag = u16_at(body, 0);
    if tag == FORMAT_EXTENSIBLE {
        if declared < 40 || body.len() < 40 {
            return Err(WavError::Malformed("extensible fmt chunk too short".into()));
        }
        // The real format code is the first two bytes of the sub-format GUID.
        tag = u16_at(body, 24);
    }
    Ok(Format { tag, channels: u16_at(body, 2), rate: u32_at(body, 4), bits: u16_at(body, 14) })
}

/// The checks `decode` makes on the format, up front.
fn check_format(fmt: &Format, channel: u16) -> Result<(), WavError> {
    decode(fmt, &[], channel).map(|_| ())
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

/// Parses a whole WAV file held in memory: its first channel.
pub fn parse(bytes: &[u8]) -> Result<Audio, WavError> {
    parse_channel(bytes, 0)
}

/// Parses a whole WAV file held in memory: channel `channel` (from 0).
pub fn parse_channel(bytes: &[u8], channel: u16) -> Result<Audio, WavError> {
    // find_data reads only within the length it is given.
    let data = find_data(bytes.len() as u64, &mut |pos, buf| {
        let pos = pos as usize;
        buf.copy_from_slice(&bytes[pos..pos + buf.len()]);
        Ok(())
    })?;
    let start = data.offset as usize;
    decode(&data.format, &bytes[start..start + data.len() as usize], channel)
}

/// Where a WAV file's audio is, as its header says.
struct DataChunk {
    format: Format,
    /// Where the audio starts, in bytes from the start of the file.
    offset: u64,
    /// Its length as the header gives it; None where a recorder that streams wrote 0 or
    /// 0xFFFFFFFF and never patched it: the audio then runs to the end of the file.
    declared: Option<u64>,
    /// What the file holds from `offset` on.
    remaining: u64,
}

impl DataChunk {
    fn len(&self) -> u64 {
        self.declared.unwrap_or(self.remaining)
    }
}

/// Fills a buffer from a file at an offset.
type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), WavError> + 'a;

/// Walks the chunks of a file of `file_len` bytes, read through `read_at(offset, buffer)` (which
/// fills the buffer, always within the file), to the format and the audio: the one header walk
/// behind both [`parse_channel`] and [`WavStream`].
fn find_data(file_len: u64, read_at: &mut ReadAt<'_>) -> Result<DataChunk, WavError> {
    if file_len < 12 {
        return Err(WavError::NotWav("shorter than a RIFF header"));
    }
    let mut head = [0u8; 12];
    read_at(0, &mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(WavError::NotWav("no RIFF/WAVE signature"));
    }
    let mut pos = 12u64;
    let mut format: Option<Format> = None;
    while pos + 8 <= file_len {
        let mut chunk = [0u8; 8];
        read_at(pos, &mut chunk)?;
        let declared = u64::from(u32_at(&chunk, 4));
        let body = pos + 8;
        let remaining = file_len - body;
        if &chunk[0..4] == b"fmt " {
            let mut fmt = vec![0u8; declared.min(40).min(remaining) as usize];
            read_at(body, &mut fmt)?;
            format = Some(parse_format(&fmt, declared)?);
        } else if &chunk[0..4] == b"data" {
            let format = format.ok_or_else(|| WavError::Malformed("data chunk before fmt chunk".into()))?;
            let declared = if declared == 0 || declared == u64::from(u32::MAX) {
                None
            } else if declared > remaining {
                return Err(WavError::Malformed(format!(
                    "truncated: the header announces {declared} bytes of audio, the file holds {remaining}"
                )));
            } else {
                Some(declared)
            };
            return Ok(DataChunk { format, offset: body, declared, remaining });
        }
        pos = body.saturating_add(declared + (declared & 1));
    }
    Err(WavError::Malformed(if format.is_some() { "no data chunk".into() } else { "no fmt chunk".into() }))
}

fn decode(fmt: &Format, data: &[u8], channel: u16) -> Result<Audio, WavError> {
    if fmt.channels == 0 {
        return Err(WavError::Malformed("0 channels".into()));
    }
    if channel >= fmt.channels {
        return Err(WavError::Unsupported(format!("no channel {channel}: the file has {} (channels count from 0)", fmt.channels)));
    }
    if fmt.rate == 0 {
        return Err(WavError::Malformed("sample rate 0".into()));
    }
    let (channels, channel) = (usize::from(fmt.channels), usize::from(channel));
    let (samples, encoding) = match (fmt.tag, fmt.bits) {
        (FORMAT_PCM, 16) => {
            (data.chunks_exact(2 * channels).map(|c| i16::from_le_bytes([c[2 * channel], c[2 * channel + 1]])).collect(), Encoding::Pcm16)
        }
        (FORMAT_MULAW, 8) => (data.chunks_exact(channels).map(|c| mulaw_to_linear(c[channel])).collect(), Encoding::MuLaw),
        (FORMAT_ALAW, 8) => (data.chunks_exact(channels).map(|c| alaw_to_linear(c[channel])).collect(), Encoding::ALaw),
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
    fn takes_one_channel_of_several() {
        // Left 1, 2; right -1, -2.
        let stereo = wav(1, 2, 8000, 16, &[1, 0, 0xff, 0xff, 2, 0, 0xfe, 0xff]);
        assert_eq!(parse(&stereo).unwrap().samples, vec![1, 2]);
        assert_eq!(parse_channel(&stereo, 1).unwrap().samples, vec![-1, -2]);
        assert!(matches!(parse_channel(&stereo, 2), Err(WavError::Unsupported(m)) if m.contains("no channel 2")));
        let ulaw = wav(7, 2, 8000, 8, &[0xFF, 0x80, 0x80, 0xFF]);
        assert_eq!(parse_channel(&ulaw, 1).unwrap().samples, vec![32124, 0]);
    }

    #[test]
    fn refuses_truncated_and_garbage() {
        assert!(matches!(parse(&wav(1, 0, 8000, 16, &[0; 8])), Err(WavError::Malformed(_))));
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
