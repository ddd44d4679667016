"""Shared building blocks for the synthetic AMD test audio generators.

Used by ``tools/make_fixtures.py`` (the small committed fixtures in
``tests/data/``) and ``tools/make_robustness_set.py`` (a larger robustness set
written outside the repository).  Nothing here downloads anything; it needs

* Debian packages ``espeak-ng`` (speech) and ``sox`` + ``libsox-fmt-all``
  (resampling, GSM / AMR-NB codec round trips), and
* Python 3 with ``numpy``.

Conventions (the same as the development corpus in ``shared/corpus``):

* Signals are float64 numpy arrays in [-1, 1) (full scale = 0 dBFS peak of a
  square wave; a full-scale sine has an RMS of -3 dBFS).
* Levels are RMS levels in dBFS.  The level of speech is its *active* RMS:
  the RMS over the 10 ms frames whose 300-3400 Hz level lies within 32 dB of
  the phrase's loudest frame.
* Speech boundaries: the first / last 10 ms frame of a phrase whose
  300-3400 Hz level lies within 32 dB of the phrase's peak frame.  Every
  phrase is trimmed to exactly those frames before it is placed, so a label
  is just the place where the phrase was put.
* A speech *region* is a run of speech in which every pause is shorter than
  700 ms; ``greeting_ms`` is the length of the first region.

Everything is deterministic for a given seed, numpy, espeak-ng and sox
version (espeak-ng 1.51 and sox 14.4.2 on Debian 12 at the time of writing).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
import wave
import zlib
from dataclasses import dataclass, field

import numpy as np

FRAME_MS = 10
LABEL_BAND = (300.0, 3400.0)
LABEL_RANGE_DB = 32.0
BRIDGE_MS = 700


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def db_to_amp(db: float) -> float:
    return 10.0 ** (db / 20.0)


def rms_db(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return -200.0
    p = float(np.mean(x * x))
    return 10.0 * np.log10(p) if p > 0 else -200.0


def child_rng(seed: int, name: str) -> np.random.Generator:
    """A generator that depends only on the global seed and a clip name, so
    adding or reordering clips leaves the others unchanged."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


def ms(n_samples: int, sr: int) -> int:
    return int(round(n_samples * 1000.0 / sr))


def samples(ms_value: float, sr: int) -> int:
    return int(round(ms_value * sr / 1000.0))


# --------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------

_FIR_CACHE: dict = {}


def bandpass_fir(sr: int, lo: float, hi: float, taps: int | None = None) -> np.ndarray:
    """Linear-phase windowed-sinc band-pass (Kaiser, beta 8)."""
    if taps is None:
        taps = 511 if sr <= 8000 else 1023
    key = (sr, lo, hi, taps)
    if key not in _FIR_CACHE:
        n = np.arange(taps) - (taps - 1) / 2.0

        def lowpass(fc):
            return 2.0 * fc / sr * np.sinc(2.0 * fc / sr * n)

        h = lowpass(hi) - (lowpass(lo) if lo > 0 else 0.0)
        h = h * np.kaiser(taps, 8.0)
        _FIR_CACHE[key] = h
    return _FIR_CACHE[key]


def fftconv_same(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Zero-phase application of an odd-length linear-phase FIR."""
    n = len(x) + len(h) - 1
    nfft = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(h, nfft), nfft)[:n]
    d = (len(h) - 1) // 2
    return y[d:d + len(x)]


def bandlimit(x: np.ndarray, sr: int, lo: float, hi: float) -> np.ndarray:
    return fftconv_same(np.asarray(x, dtype=np.float64), bandpass_fir(sr, lo, hi))


def channel_band(sr: int) -> tuple[float, float]:
    """Telephone band for narrowband, wideband band for 16 kHz."""
    return (300.0, 3400.0) if sr <= 8000 else (50.0, 7000.0)


def band_tag(sr: int) -> str:
    return "tel300-3400" if sr <= 8000 else "wb50-7000"


# --------------------------------------------------------------------------
# frame analysis, labels
# --------------------------------------------------------------------------

def frame_levels_db(x: np.ndarray, sr: int, band: tuple[float, float] = LABEL_BAND) -> np.ndarray:
    """RMS level (dBFS) of each complete 10 ms frame of x filtered to `band`."""
    y = bandlimit(x, sr, *band)
    fl = samples(FRAME_MS, sr)
    nf = len(y) // fl
    fr = y[: nf * fl].reshape(nf, fl)
    p = np.mean(fr * fr, axis=1)
    return 10.0 * np.log10(np.maximum(p, 1e-20))


def active_rms_db(x: np.ndarray, sr: int) -> float:
    """Active speech level: RMS over the frames within 32 dB of the peak frame
    (frames measured in the label band, RMS taken of the signal itself)."""
    lv = frame_levels_db(x, sr)
    fl = samples(FRAME_MS, sr)
    act = lv >= lv.max() - LABEL_RANGE_DB
    fr = np.asarray(x[: len(lv) * fl]).reshape(len(lv), fl)[act]
    return rms_db(fr.ravel())


def set_active_level(x: np.ndarray, sr: int, level_db: float) -> np.ndarray:
    return x * db_to_amp(level_db - active_rms_db(x, sr))


@dataclass
class Phrase:
    """A trimmed phrase.  `x` holds one extra 10 ms frame before the first and
    after the last labelled frame (faded in / out, both below the 32 dB
    threshold) so that placing it does not click; the labelled speech is
    x[lead:len(x) - tail]."""

    x: np.ndarray
    lead: int
    tail: int

    @property
    def n(self) -> int:
        """Labelled length in samples."""
        return len(self.x) - self.lead - self.tail

    def scaled(self, g: float) -> "Phrase":
        return Phrase(self.x * g, self.lead, self.tail)


def _fade(x: np.ndarray, n: int, inward: bool) -> np.ndarray:
    w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    return x * (w if inward else w[::-1])


def trim_phrase(x: np.ndarray, sr: int, rng: np.random.Generator,
                max_pause_ms: float = 400.0, new_pause_ms: tuple[float, float] = (200.0, 400.0)) -> Phrase:
    """Cut a synthesised phrase to its first..last active frame (within 32 dB
    of its peak) and shorten inner pauses longer than `max_pause_ms` to a
    random 200-400 ms, so the phrase bridges into one speech region.  Cuts
    are made inside below-threshold frames with 5 ms fades."""
    fl = samples(FRAME_MS, sr)
    fade = samples(5, sr)
    x = np.concatenate([np.zeros(fl), np.asarray(x, dtype=np.float64), np.zeros(fl)])
    lv = frame_levels_db(x, sr)
    act = lv >= lv.max() - LABEL_RANGE_DB
    idx = np.flatnonzero(act)
    first, last = int(idx[0]), int(idx[-1])
    # pieces (frame ranges) to keep; inner pauses longer than max_pause_ms are cut
    pieces = []
    cur = first
    f = first
    while f <= last:
        if not act[f]:
            g = f
            while not act[g]:
                g += 1
            run = g - f
            if run * FRAME_MS > max_pause_ms:
                keep = int(round(rng.uniform(*new_pause_ms) / FRAME_MS))
                head = keep // 2
                pieces.append((cur, f + head))
                cur = g - (keep - head)
            f = g
        else:
            f += 1
    pieces.append((cur, last + 1))
    segs = [x[a * fl:b * fl].copy() for a, b in pieces]
    for i in range(len(segs)):
        if i > 0:
            segs[i][:fade] = _fade(segs[i][:fade], fade, True)
        if i < len(segs) - 1:
            segs[i][-fade:] = _fade(segs[i][-fade:], fade, False)
    lead_frame = _fade(x[(first - 1) * fl:first * fl], fl, True)
    tail_frame = _fade(x[(last + 1) * fl:(last + 2) * fl], fl, False)
    out = np.concatenate([lead_frame] + segs + [tail_frame])
    return Phrase(out, fl, fl)


def speech_regions(events: list[dict]) -> list[list[int]]:
    """Bridge speech events whose gaps are shorter than 700 ms."""
    sp = sorted((e["start_ms"], e["end_ms"]) for e in events if e["type"] == "speech")
    regions: list[list[int]] = []
    for a, b in sp:
        if regions and a - regions[-1][1] < BRIDGE_MS:
            regions[-1][1] = max(regions[-1][1], b)
        else:
            regions.append([a, b])
    return regions


def measured_regions(clean_speech: np.ndarray, sr: int) -> list[list[int]]:
    """Independent check of the labels on the clean speech track: frames within
    32 dB of the track's loudest frame, bridged over pauses < 700 ms.  (Used
    for sanity checks only; the labels come from construction, with the 32 dB
    taken per phrase.)"""
    lv = frame_levels_db(clean_speech, sr)
    act = np.flatnonzero(lv >= lv.max() - LABEL_RANGE_DB)
    regions: list[list[int]] = []
    for f in act:
        a, b = int(f) * FRAME_MS, (int(f) + 1) * FRAME_MS
        if regions and a - regions[-1][1] < BRIDGE_MS:
            regions[-1][1] = b
        else:
            regions.append([a, b])
    return regions


# --------------------------------------------------------------------------
# sources: speech, tones, noise
# --------------------------------------------------------------------------

def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def sox_read(path: str, sr: int | None = None) -> np.ndarray:
    """Decode any file sox understands to float64 mono (optionally resampled)."""
    cmd = ["sox", "-V1", path, "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-"]
    if sr is not None:
        cmd += ["rate", "-v", str(sr)]
    out = run(cmd).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float64)


def espeak(text: str, voice: str, rate: int, pitch: int, sr: int) -> np.ndarray:
    """Synthesise `text` with espeak-ng and resample to `sr`."""
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "tts.wav")
        run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", p, text])
        x = sox_read(p, sr)
    # espeak-ng may start a phrase at full level on its first sample ("I ...");
    # soften the edges and pad so that nothing clicks
    f = samples(5, sr)
    x[:f] = _fade(x[:f], f, True)
    x[-f:] = _fade(x[-f:], f, False)
    pad = np.zeros(samples(50, sr))
    return np.concatenate([pad, x, pad])


def espeak_source(voice: str, rate: int, pitch: int) -> str:
    return f"espeak-ng:{voice}:s{rate}:p{pitch}"


def phrase(text: str, voice: str, rate: int, pitch: int, sr: int, rng: np.random.Generator) -> Phrase:
    """Speech phrase band-limited to the channel band and trimmed to its labels."""
    x = espeak(text, voice, rate, pitch, sr)
    x = bandlimit(x, sr, *channel_band(sr))
    return trim_phrase(x, sr, rng)


def ramp(n: int, sr: int, ramp_ms: float = 5.0) -> np.ndarray:
    env = np.ones(n)
    r = min(samples(ramp_ms, sr), n // 2)
    if r > 0:
        w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(r) + 0.5) / r)
        env[:r] = w
        env[-r:] = w[::-1]
    return env


def tone(freq_hz: float, dur_ms: float, sr: int, level_db: float, ramp_ms: float = 5.0,
         phase: float = 0.0) -> np.ndarray:
    """Sine burst with raised-cosine ramps; `level_db` is the RMS of the steady part."""
    n = samples(dur_ms, sr)
    t = np.arange(n) / sr
    return np.sqrt(2.0) * db_to_amp(level_db) * np.sin(2 * np.pi * freq_hz * t + phase) * ramp(n, sr, ramp_ms)


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise by spectral shaping of white Gaussian noise."""
    nfft = 1 << max(1, (n - 1).bit_length())
    spec = np.fft.rfft(rng.standard_normal(nfft))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    spec = spec / np.sqrt(f)
    spec[0] = 0.0
    y = np.fft.irfft(spec, nfft)[:n]
    return y / (np.std(y) + 1e-12)


def line_noise(kind: str, n: int, sr: int, level_db: float, rng: np.random.Generator,
               band: tuple[float, float] | None = None) -> np.ndarray:
    """White or pink noise, band-limited to the channel band, at `level_db` RMS."""
    band = band or channel_band(sr)
    x = white(n, rng) if kind == "white" else pink(n, rng)
    x = bandlimit(x, sr, *band)
    return x * db_to_amp(level_db - rms_db(x))


# --------------------------------------------------------------------------
# clip timeline
# --------------------------------------------------------------------------

@dataclass
class Clip:
    """A clip under construction: a clean speech track, a tone track, and the
    events that produce its labels."""

    sr: int
    n: int
    speech: np.ndarray = field(init=False)
    tones: np.ndarray = field(init=False)
    events: list = field(default_factory=list)

    def __post_init__(self):
        self.speech = np.zeros(self.n)
        self.tones = np.zeros(self.n)

    def grow(self, n: int):
        if n > self.n:
            self.speech = np.concatenate([self.speech, np.zeros(n - self.n)])
            self.tones = np.concatenate([self.tones, np.zeros(n - self.n)])
            self.n = n

    def add_speech(self, at: int, p: "Phrase", text: str, role: str) -> int:
        """Place a trimmed phrase so that its labelled start is sample `at`
        (at >= p.lead); returns the sample where its labelled end lies."""
        a = at - p.lead
        assert a >= 0
        self.grow(a + len(p.x))
        self.speech[a:a + len(p.x)] += p.x
        end = at + p.n
        self.events.append({"type": "speech", "role": role, "text": text,
                            "start_ms": ms(at, self.sr), "end_ms": ms(end, self.sr)})
        return end

    def add_tone(self, at: int, x: np.ndarray, event: dict) -> int:
        self.grow(at + len(x))
        self.tones[at:at + len(x)] += x
        ev = dict(event)
        ev["start_ms"] = ms(at, self.sr)
        ev["end_ms"] = ms(at + len(x), self.sr)
        self.events.append(ev)
        return at + len(x)

    def clean(self) -> np.ndarray:
        return self.speech + self.tones

    def regions(self) -> list[list[int]]:
        return speech_regions(self.events)

    def first_speech_ms(self) -> int | None:
        s = [e["start_ms"] for e in self.events if e["type"] == "speech"]
        return min(s) if s else None

    def first_tone_ms(self) -> int | None:
        s = [e["start_ms"] for e in self.events if e["type"] != "speech"]
        return min(s) if s else None

    def first_beep_ms(self) -> int | None:
        s = [e["start_ms"] for e in self.events if e["type"] == "beep"]
        return min(s) if s else None


EXPECTED = {"human": "person", "machine": "machine", "fax": "machine", "sit": "machine", "silence": "person"}
LABEL_COLUMNS = ["file", "truth", "expected_status", "sample_rate", "greeting_ms",
                 "initial_silence_ms", "beep_ms", "source", "condition"]


def make_label(file: str, truth: str, clip: Clip, duration_ms: int, source: str, condition: str) -> dict:
    """Label row from the construction, following the corpus's rules."""
    regions = clip.regions()
    if truth in ("human", "machine"):
        greeting = regions[0][1] - regions[0][0]
        init = clip.first_speech_ms()
    elif truth == "sit":
        greeting = regions[0][1] - regions[0][0] if regions else 0
        init = clip.first_tone_ms()
    elif truth == "fax":
        greeting = 0
        init = clip.first_tone_ms()
    else:  # silence
        greeting = 0
        init = duration_ms
    beep = clip.first_beep_ms() if truth == "machine" else None
    return {"file": file, "truth": truth, "expected_status": EXPECTED[truth], "sample_rate": clip.sr,
            "greeting_ms": greeting, "initial_silence_ms": init,
            "beep_ms": "" if beep is None else beep, "source": source, "condition": condition}


def write_labels(path: str, rows: list[dict]):
    with open(path, "w", newline="\n") as f:
        f.write(",".join(LABEL_COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(str(r[c]) for c in LABEL_COLUMNS) + "\n")


def write_segments(path: str, segs: list[dict]):
    with open(path, "w") as f:
        for s in segs:
            f.write(json.dumps(s, sort_keys=True) + "\n")


# --------------------------------------------------------------------------
# WAV writing and G.711
# --------------------------------------------------------------------------

def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x) * 32768.0), -32768, 32767).astype(np.int16)


def write_wav_pcm16(path: str, x: np.ndarray, sr: int, channels: int = 1):
    """16-bit PCM WAV (format tag 1).  For channels > 1, x is (n, channels)."""
    data = to_int16(x)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(data.astype("<i2").tobytes())


_SEG_UEND = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def linear_to_ulaw(pcm: np.ndarray) -> np.ndarray:
    """ITU-T G.711 mu-law encoder (the classic Sun reference algorithm)."""
    v = pcm.astype(np.int32) >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    v = np.minimum(np.abs(v), 8159) + (0x84 >> 2)
    seg = np.searchsorted(_SEG_UEND, v, side="left")
    u = (seg << 4) | ((v >> (np.minimum(seg, 7) + 1)) & 0xF)
    u = np.where(seg >= 8, 0x7F, u)
    return (u ^ mask).astype(np.uint8)


def linear_to_alaw(pcm: np.ndarray) -> np.ndarray:
    """ITU-T G.711 A-law encoder (the classic Sun reference algorithm)."""
    v = pcm.astype(np.int32) >> 3
    neg = v < 0
    mask = np.where(neg, 0x55, 0xD5)
    v = np.where(neg, -v - 1, v)
    seg = np.searchsorted(_SEG_AEND, v, side="left")
    mant = np.where(seg < 2, (v >> 1) & 0xF, (v >> np.minimum(seg, 7)) & 0xF)
    a = (seg << 4) | mant
    a = np.where(seg >= 8, 0x7F, a)
    return (a ^ mask).astype(np.uint8)


def write_wav_g711(path: str, x: np.ndarray, sr: int, law: str):
    """Mono G.711 WAV: format tag 7 (mu-law) or 6 (A-law), 18-byte fmt chunk
    with cbSize 0 and a fact chunk, as sox and most telephony tools write."""
    pcm = to_int16(x)
    if law == "ulaw":
        tag, data = 7, linear_to_ulaw(pcm).tobytes()
    elif law == "alaw":
        tag, data = 6, linear_to_alaw(pcm).tobytes()
    else:
        raise ValueError(law)
    fmt = struct.pack("<HHIIHHH", tag, 1, sr, sr, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    pad = b"\x00" if len(data) % 2 else b""
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<I", 4) + fact
            + b"data" + struct.pack("<I", len(data)) + data + pad)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


# --------------------------------------------------------------------------
# codecs through sox
# --------------------------------------------------------------------------

def align_to(y: np.ndarray, ref: np.ndarray, max_lag: int = 800) -> tuple[np.ndarray, int]:
    """Remove a codec's delay: shift y so it lines up with ref (lag found by
    cross-correlation over 0..max_lag samples), and cut/pad to len(ref)."""
    n = min(len(ref), len(y)) - max_lag
    best, lag = -np.inf, 0
    r = ref[:n]
    for k in range(max_lag + 1):
        c = float(np.dot(r, y[k:k + n]))
        if c > best:
            best, lag = c, k
    out = y[lag:lag + len(ref)]
    if len(out) < len(ref):
        out = np.concatenate([out, np.zeros(len(ref) - len(out))])
    return out, lag


def codec_roundtrip(x: np.ndarray, sr: int, codec: str, mode: int | None = None) -> tuple[np.ndarray, int]:
    """Encode and decode with sox: 'gsm' (GSM 06.10 full rate) or 'amr-nb'
    (mode 0..7 = 4.75..12.2 kbit/s).  Returns the aligned signal and the lag
    that was removed (in samples)."""
    assert sr == 8000
    with tempfile.TemporaryDirectory() as td:
        src = os.path.join(td, "in.wav")
        write_wav_pcm16(src, x, sr)
        if codec == "gsm":
            enc = os.path.join(td, "enc.gsm")
            run(["sox", "-V1", src, "-t", "gsm", enc])
        elif codec == "amr-nb":
            enc = os.path.join(td, "enc.amr")
            run(["sox", "-V1", src, "-t", "amr-nb", "-C", str(mode if mode is not None else 7), enc])
        else:
            raise ValueError(codec)
        y = sox_read(enc)
    return align_to(y, to_int16(x) / 32768.0)
