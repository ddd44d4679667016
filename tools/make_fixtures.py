#!/usr/bin/env python3
"""Generate the small synthetic WAV fixtures in tests/data/ and their labels.

Usage:  python3 tools/make_fixtures.py [OUTDIR]      (default: tests/data)

Requirements (Debian):  apt-get install -y espeak-ng sox libsox-fmt-all
                        python3 with numpy (pip install numpy)

Nothing here is taken from the development corpus: every clip is made from
espeak-ng speech, synthetic tones and synthetic noise.  Every clip starts at
the moment of answer and is mono; 8 kHz 16-bit PCM unless stated.

  file                     truth    what it is
  human_hello.wav          human    0.6 s silence, "Hello?", silence to 5 s
  human_business.wav       human    0.4 s, "Hello, Smith and Sons, Mary speaking.", to 6 s
  machine_beep.wav         machine  0.4 s, ~4 s voicemail greeting, 0.3 s, 1000 Hz beep
                                    400 ms, line noise to the end (7-8 s)
  machine_short_beep.wav   machine  0.5 s, "Leave a message.", 0.3 s, 850 Hz beep 300 ms, to 5 s
  machine_long_nobeep.wav  machine  16 kHz (50-7000 Hz), ~6 s continuous IVR prompt, no beep
  silence.wav              silence  6 s of -60 dBFS pink line noise (expected: person)
  fax_ced.wav              fax      0.3 s, 2100 Hz CED -15 dBFS 3.3 s, 75 ms gap, V.21 ch. 2
                                    HDLC flags (0x7E, 300 baud FSK 1650/1850 Hz) 1.5 s
  sit_ic.wav               sit      SIT "IC" (913.8 Hz 274 ms, 1370.6 Hz 274 ms, 1776.7 Hz
                                    380 ms), 1 s silence, "The number you have dialed is not
                                    in service."
  ulaw_hello.wav           human    human_hello stored as G.711 mu-law WAV (format tag 7)
  alaw_machine.wav         machine  machine_beep stored as G.711 A-law WAV (format tag 6)
  late/hello_pause_beep.wav machine 0.5 s, "Hello?", 1.3 s pause, a ~3 s voicemail greeting,
                                    0.3 s, 1000 Hz beep 400 ms, to 9 s: a `person` at first,
                                    then a late machine (detect_late_machine)
  bad/rate_4khz.wav        -        0.5 s at 4 kHz, below the 8 kHz the analyzer and the
                                    module take (refused)
  bad/truncated.wav        -        human_hello with its data cut short; the header still
                                    claims the full length

The two files in bad/ and the one in late/ are not in labels.csv (late/ is labelled by its
own segments.jsonl: a machine that the first decision cannot tell from a person).

Channel: speech at -21..-24 dBFS active RMS, 300-3400 Hz band limit (16 kHz:
50-7000 Hz), -65 dBFS white line noise (pink for silence.wav).  Labels
(labels.csv, same columns as the corpus: file, truth, expected_status,
sample_rate, greeting_ms, initial_silence_ms, beep_ms, source, condition) come
from the construction: each phrase is trimmed to its first..last 10 ms frame
within 32 dB of its peak (300-3400 Hz) and placed at a known sample, so the
timings are exact to the sample (rounded to ms).  segments.jsonl lists every
phrase and tone.

Deterministic: seed SEED below, one numpy generator per clip; the output is
byte-identical for the same numpy / espeak-ng / sox versions.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthlib import (Clip, active_rms_db, band_tag, child_rng, db_to_amp, espeak_source,  # noqa: E402
                      line_noise, make_label, measured_regions, ms, phrase, ramp, rms_db, samples, tone,
                      write_labels, write_segments, write_wav_g711, write_wav_pcm16)

SEED = 20241121
NOISE_DB = -65.0


def finish(clip: Clip, total_ms: int, rng, noise_kind="white", noise_db=NOISE_DB) -> np.ndarray:
    """Pad to total_ms, add the line noise; returns the final signal."""
    n = samples(total_ms, clip.sr)
    assert clip.n <= n, (clip.n, n)
    clip.grow(n)
    return clip.clean() + line_noise(noise_kind, n, clip.sr, noise_db, rng)


def speech_seq(clip: Clip, start: int, texts, voice, rate, pitch, level_db, rng, role,
               pauses_ms=(120, 450)) -> int:
    """Synthesise phrases, bring them to a common active level, place them one
    after the other with random 120-450 ms pauses; returns the end sample."""
    sr = clip.sr
    ps = [phrase(t, voice, rate, pitch, sr, rng) for t in texts]
    gaps = [samples(rng.uniform(*pauses_ms), sr) for _ in ps[1:]]
    joined = np.concatenate([p.x for p in ps])
    gain = db_to_amp(level_db - active_rms_db(joined, sr))
    at = start
    for i, (t, p) in enumerate(zip(texts, ps)):
        at = clip.add_speech(at, p.scaled(gain), t, role)
        if i < len(gaps):
            at += gaps[i]
    return at


def cond(level_db, sr, *extra, noise="white", snr=None, codec="pcm"):
    parts = [f"lvl{int(round(level_db))}dB"]
    parts.append(f"{noise}@{int(round(snr))}dB" if snr is not None else f"{noise}@{int(NOISE_DB)}dBFS")
    parts.append(band_tag(sr))
    parts.append(codec)
    parts += list(extra)
    return "+".join(parts)


def make_all(out: str):
    os.makedirs(os.path.join(out, "bad"), exist_ok=True)
    labels, segs, signals = [], [], {}

    def emit(name, truth, clip, x, source, condition, variant, write=True):
        dur = ms(len(x), clip.sr)
        lab = make_label(name, truth, clip, dur, source, condition)
        # independent check of the speech labels on the clean speech track
        meas = measured_regions(clip.speech, clip.sr) if np.any(clip.speech) else []
        regions = clip.regions()
        if regions:
            d0 = abs(meas[0][0] - regions[0][0])
            d1 = abs(meas[0][1] - regions[0][1])
            assert d0 <= 30 and d1 <= 30, (name, meas, regions)
        labels.append(lab)
        segs.append({"file": name, "truth": truth, "variant": variant, "duration_ms": dur,
                     "events": sorted(clip.events, key=lambda e: e["start_ms"]),
                     "speech_regions_ms": regions})
        signals[name] = (x, clip.sr)
        if write:
            write_wav_pcm16(os.path.join(out, name), x, clip.sr)
        return lab

    # ---- human_hello ------------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "human_hello")
    voice, rate, pitch, lvl = "en-us+f2", 170, 55, -22.0
    c = Clip(sr, 0)
    speech_seq(c, samples(600, sr), ["Hello?"], voice, rate, pitch, lvl, rng, "greeting")
    x = finish(c, 5000, rng)
    hello = (c, x, espeak_source(voice, rate, pitch))
    emit("human_hello.wav", "human", c, x, hello[2], cond(lvl, sr, snr=lvl - NOISE_DB), "normal")

    # ---- human_business ---------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "human_business")
    voice, rate, pitch, lvl = "en-gb+f3", 175, 50, -24.0
    c = Clip(sr, 0)
    speech_seq(c, samples(400, sr), ["Hello, Smith and Sons, Mary speaking."], voice, rate, pitch, lvl, rng,
               "greeting")
    x = finish(c, 6000, rng)
    emit("human_business.wav", "human", c, x, espeak_source(voice, rate, pitch),
         cond(lvl, sr, "hard_business", snr=lvl - NOISE_DB), "business")

    # ---- machine_beep -----------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "machine_beep")
    voice, rate, pitch, lvl = "en-us+m3", 210, 45, -21.0
    c = Clip(sr, 0)
    end = speech_seq(c, samples(400, sr), ["Hi, you've reached John.", "I can't take your call right now.",
                                            "Please leave your name and number after the tone."],
                     voice, rate, pitch, lvl, rng, "greeting")
    at = end + samples(300, sr)
    end = c.add_tone(at, tone(1000.0, 400, sr, -20.0),
                     {"type": "beep", "kind": "single", "freq_hz": [1000.0], "level_dbfs": -20.0})
    total = int(min(8000, max(7000, round((ms(end, sr) + 2200) / 100) * 100)))
    x = finish(c, total, rng)
    mbeep = (c, x, espeak_source(voice, rate, pitch))
    emit("machine_beep.wav", "machine", c, x, mbeep[2], cond(lvl, sr, "beep_single", snr=lvl - NOISE_DB),
         "personal")

    # ---- machine_short_beep -----------------------------------------------
    sr, rng = 8000, child_rng(SEED, "machine_short_beep")
    voice, rate, pitch, lvl = "en-gb+m1", 165, 50, -23.0
    c = Clip(sr, 0)
    end = speech_seq(c, samples(500, sr), ["Leave a message."], voice, rate, pitch, lvl, rng, "greeting")
    c.add_tone(end + samples(300, sr), tone(850.0, 300, sr, -21.0),
               {"type": "beep", "kind": "single", "freq_hz": [850.0], "level_dbfs": -21.0})
    x = finish(c, 5000, rng)
    emit("machine_short_beep.wav", "machine", c, x, espeak_source(voice, rate, pitch),
         cond(lvl, sr, "beep_single", "hard_short_greeting", snr=lvl - NOISE_DB), "personal")

    # ---- machine_long_nobeep (16 kHz) --------------------------------------
    sr, rng = 16000, child_rng(SEED, "machine_long_nobeep")
    voice, rate, pitch, lvl = "en-us+f1", 170, 55, -22.0
    c = Clip(sr, 0)
    end = speech_seq(c, samples(300, sr),
                     ["Thank you for calling First National Bank.",
                      "For balances, press one.",
                      "For an agent, press zero."],
                     voice, rate, pitch, lvl, rng, "greeting")
    total = int(round((ms(end, sr) + 700) / 100) * 100)
    x = finish(c, total, rng)
    emit("machine_long_nobeep.wav", "machine", c, x, espeak_source(voice, rate, pitch),
         cond(lvl, sr, "nobeep", snr=lvl - NOISE_DB), "ivr")

    # ---- silence ----------------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "silence")
    c = Clip(sr, samples(6000, sr))
    x = finish(c, 6000, rng, noise_kind="pink", noise_db=-60.0)
    emit("silence.wav", "silence", c, x, "synthetic:line-noise",
         "lvl-60dB+pink@-60dBFS+tel300-3400+pcm+dead_line", "dead_line")

    # ---- fax_ced ------------------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "fax_ced")
    c = Clip(sr, 0)
    at = samples(300, sr)
    at = c.add_tone(at, tone(2100.0, 3300, sr, -15.0, ramp_ms=2.0),
                    {"type": "fax_ced", "freq_hz": [2100.0], "level_dbfs": -15.0})
    at += samples(75, sr)
    fsk = v21_flags(1500, sr, -15.0)
    c.add_tone(at, fsk, {"type": "fax_v21", "freq_hz": [1650.0, 1850.0], "baud": 300, "octet": "0x7E",
                         "level_dbfs": -15.0})
    x = finish(c, 6000, rng)
    emit("fax_ced.wav", "fax", c, x, "synthetic:fax-tones",
         f"lvl-15dB+white@{int(-15 - NOISE_DB)}dB+tel300-3400+pcm+fax_ced_v21", "ced_v21")

    # ---- sit_ic -------------------------------------------------------------
    sr, rng = 8000, child_rng(SEED, "sit_ic")
    voice, rate, pitch, lvl = "en-us+f1", 165, 50, -24.0
    c = Clip(sr, 0)
    at = samples(200, sr)
    for f, d in ((913.8, 274), (1370.6, 274), (1776.7, 380)):
        at = c.add_tone(at, tone(f, d, sr, -24.0, ramp_ms=2.0),
                        {"type": "sit", "code": "IC", "freq_hz": [f], "level_dbfs": -24.0})
    at += samples(1000, sr)
    end = speech_seq(c, at, ["The number you have dialed is not in service."], voice, rate, pitch, lvl, rng,
                     "intercept")
    total = int(round((ms(end, sr) + 1000) / 100) * 100)
    x = finish(c, max(total, 5000), rng)
    emit("sit_ic.wav", "sit", c, x, "synthetic:sit-tones+" + espeak_source(voice, rate, pitch),
         cond(lvl, sr, "sit_IC", snr=lvl - NOISE_DB), "sit")

    # ---- G.711 twins --------------------------------------------------------
    c, x, src = hello
    emit("ulaw_hello.wav", "human", c, x, src, cond(-22.0, 8000, snr=-22.0 - NOISE_DB, codec="ulaw"),
         "normal", write=False)
    write_wav_g711(os.path.join(out, "ulaw_hello.wav"), x, 8000, "ulaw")
    c, x, src = mbeep
    emit("alaw_machine.wav", "machine", c, x, src,
         cond(-21.0, 8000, "beep_single", snr=-21.0 - NOISE_DB, codec="alaw"), "personal", write=False)
    write_wav_g711(os.path.join(out, "alaw_machine.wav"), x, 8000, "alaw")

    # ---- late/hello_pause_beep (not in labels.csv) -------------------------
    # A machine that says "Hello?" and pauses before its message: decided `person` when the
    # pause has lasted silent_after_intro, its beep shows it a machine late.
    os.makedirs(os.path.join(out, "late"), exist_ok=True)
    sr, rng = 8000, child_rng(SEED, "late_hello_pause_beep")
    voice, rate, pitch, lvl = "en-us+m3", 190, 45, -21.0
    c = Clip(sr, 0)
    end = speech_seq(c, samples(500, sr), ["Hello?"], voice, rate, pitch, lvl, rng, "greeting")
    end = speech_seq(c, end + samples(1300, sr), ["You have reached Sam.", "Please leave a message."],
                     voice, rate, pitch, lvl, rng, "greeting")
    c.add_tone(end + samples(300, sr), tone(1000.0, 400, sr, -20.0),
               {"type": "beep", "kind": "single", "freq_hz": [1000.0], "level_dbfs": -20.0})
    x = finish(c, 9000, rng)
    write_wav_pcm16(os.path.join(out, "late", "hello_pause_beep.wav"), x, sr)
    write_segments(os.path.join(out, "late", "segments.jsonl"),
                   [{"file": "hello_pause_beep.wav", "truth": "machine", "variant": "hellopause",
                     "duration_ms": ms(len(x), sr), "events": sorted(c.events, key=lambda e: e["start_ms"]),
                     "speech_regions_ms": c.regions()}])

    # ---- bad files (not labelled) ------------------------------------------
    # A rate below any telephony codec's: a sawtooth of 0.5 s at 4 kHz.
    sr = 4000
    saw = ((np.arange(samples(500, sr)) % 40) / 20.0 - 1.0) * (1000.0 / 32768.0)
    write_wav_pcm16(os.path.join(out, "bad", "rate_4khz.wav"), saw, sr)

    with open(os.path.join(out, "human_hello.wav"), "rb") as f:
        full = f.read()
    # keep the 44-byte header (which still claims all 5 s) and 2 s of samples
    with open(os.path.join(out, "bad", "truncated.wav"), "wb") as f:
        f.write(full[:44 + 2 * samples(2000, 8000)])

    write_labels(os.path.join(out, "labels.csv"), labels)
    write_segments(os.path.join(out, "segments.jsonl"), segs)
    return labels, signals


def v21_flags(dur_ms: float, sr: int, level_db: float) -> np.ndarray:
    """V.21 channel 2 (answering side) continuous-phase FSK at 300 baud:
    mark (1) = 1650 Hz, space (0) = 1850 Hz, sending HDLC flags 0x7E
    (LSB first, i.e. 0 1 1 1 1 1 1 0)."""
    n = samples(dur_ms, sr)
    flag_bits = [(0x7E >> i) & 1 for i in range(8)]
    t_bit = np.floor(np.arange(n) * 300.0 / sr).astype(int)
    bits = np.array([flag_bits[k % 8] for k in range(t_bit[-1] + 1)])[t_bit]
    freq = np.where(bits == 1, 1650.0, 1850.0)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.sqrt(2.0) * db_to_amp(level_db) * np.sin(phase) * ramp(n, sr, 2.0)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Regenerate the test fixtures (tests/data): "
                                     "labelled synthetic calls and the bad/ files.")
    parser.add_argument("outdir", nargs="?", default=os.path.join(here, "..", "tests", "data"),
                        help="where to write them (default: the project's tests/data)")
    out = os.path.normpath(parser.parse_args().outdir)
    labels, signals = make_all(out)
    for lab in labels:
        x, sr = signals[lab["file"]]
        print(f"{lab['file']:26s} {lab['truth']:8s} sr={lab['sample_rate']:5d} dur={len(x) / sr:5.2f}s "
              f"greet={lab['greeting_ms']} init={lab['initial_silence_ms']} beep={lab['beep_ms']!s:5s} "
              f"rms={rms_db(x):6.1f}dBFS  {lab['condition']}")
    total = 0
    for root, _, files in os.walk(out):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"total size of {out}: {total} bytes")


if __name__ == "__main__":
    main()
