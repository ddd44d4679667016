#!/usr/bin/env python3
"""Generate a labelled robustness set for the AMD, outside the repository.

Usage:  python3 tools/make_robustness_set.py OUTDIR      (e.g. /work/extra_corpus)

Requirements (Debian):  apt-get install -y espeak-ng sox libsox-fmt-all
                        python3 with numpy (pip install numpy)

Writes OUTDIR/rob_0001.wav ... (mono 16-bit PCM WAV, 8 or 16 kHz), and
OUTDIR/labels.csv in the development corpus's format (file, truth,
expected_status, sample_rate, greeting_ms, initial_silence_ms, beep_ms,
source, condition), OUTDIR/segments.jsonl (every phrase and tone, in ms, plus
the channel parameters of each clip) and OUTDIR/README.md (counts).

The set covers channel conditions the development corpus lacks; 60 clips,
30 humans and 30 machines, each with one main condition:

  condition tag            humans  machines  what it is
  gsm                        4       4       GSM 06.10 full-rate encode + decode (sox)
  amr_nb_<rate>k             4       4       AMR-NB encode + decode (sox, modes 4.75..12.2 kbit/s)
  agc                        4       4       strong handset AGC (max gain 12-20 dB, slow
                                             release): the line noise is pumped up in pauses
  cng_gate+cng-50dBFS        4       4       receive-side DTX: outside speech/tones (plus a
                                             80-240 ms hangover) the signal is replaced by
                                             comfort noise at about -50 dBFS, switched on and
                                             off (0.2-1.2 s on, 0.1-0.6 s off)
  tvchords@15dB              4       4       TV/music-like background of sine chords with
                                             harmonics and level changes, SNR 15 dB
  hum50-NNdB+dc+x            4       4       constant 50 Hz hum with harmonics (-32..-25 dBFS)
                                             plus a DC offset (0.015..0.04 of full scale)
  lvl-40dB (quiet)           3       -       a quiet human at -40 dBFS active level
  clip-N.NdB (loud)          3       -       a loud human (-5..-2 dBFS) hard-clipped at -4..-1 dBFS
  beep_quiet_decay           -       3       beep starting at -35 dBFS, decaying 6-20 dB
  beep_twotone               -       3       two-tone beeps, e.g. 700 then 1000 Hz, 200 ms each

Every clip also has white or pink line noise (SNR 25-35 dB, or a low floor),
the 300-3400 Hz band limit (8 kHz) or 50-7000 Hz (16 kHz; about one clip in
four where no narrowband codec is involved).  The chain is: speech + tones ->
background -> AGC -> clipping -> hum/DC -> codec -> comfort-noise gating.

Humans follow the corpus's pattern: 0-1.5 s of silence, a short answer
(0.3-1.8 s; "Hello?", "Yeah?", "Smith residence." ...), 2-3 s of waiting, in
about half the clips a second "Hello?" (then 1.2-1.5 s of tail).  Machines:
personal / carrier / business voicemail or IVR greetings of 3-8 s, phrases
joined by 120-450 ms pauses; 70 % end in a beep 0.15-0.6 s after the last
word, then 2-2.4 s of line noise (no beep: 2-2.4 s after the last word).
Clips are at least 6 s long.  Voices: espeak-ng en-us / en-gb with variants
+m1..+m4, +f1..+f3, 150-190 wpm, pitch 35-70.

Labels come from the construction, with the corpus's rules (see
tools/synthlib.py): speech boundaries are the first/last 10 ms frame within
32 dB of the phrase's peak, regions bridge pauses < 700 ms, greeting_ms is the
first region, beep_ms the start of the first beep.  Codec delays are measured
(cross-correlation) and removed, so the labels hold for the coded clips.
The `lvl` tag is the active speech level as constructed, before AGC/clipping.

Deterministic: seed SEED below, one numpy generator per clip.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthlib import (FRAME_MS, Clip, active_rms_db, band_tag, bandlimit, channel_band, child_rng,  # noqa: E402
                      codec_roundtrip, db_to_amp, espeak_source, line_noise, make_label, ms, phrase,
                      ramp, rms_db, samples, tone, write_labels, write_segments, write_wav_pcm16)

SEED = 20241122

VOICES = [f"{b}+{v}" for b in ("en-us", "en-gb") for v in ("m1", "m2", "m3", "m4", "f1", "f2", "f3")]

HUMAN_ANSWERS = [
    "Hello?", "Yeah?", "Hi.", "Hello, this is Mike.", "Smith residence.", "Yes, hello?",
    "Good afternoon.", "Speaking.", "Hello, who's calling?", "Yeah, hello.", "Hi, this is Karen.",
    "Hello, Dave speaking.", "Hey.", "Yes?", "Hello, Johnson's.", "Hi there.",
]
SECOND_HELLO = ["Hello?", "Hello? Anybody there?", "Hello? Can you hear me?", "Hello, is someone there?"]
NAMES = ["John", "Sarah", "Mike", "Linda", "the Parkers", "Tom and Anna", "Doctor Patel", "Jenny"]
BUSINESSES = ["Acme Plumbing", "Green Valley Dental", "First National Bank", "Metro Cable",
              "Sunrise Insurance", "Oak Street Auto Repair"]

GREETINGS = {
    "personal": [
        "Hi, you've reached {name}.", "I can't come to the phone right now.",
        "Please leave your name and number after the tone.", "I'll call you back as soon as I can.",
        "Thanks for calling.", "Have a great day.",
    ],
    "carrier": [
        "The person you are trying to reach is not available.", "At the tone, please record your message.",
        "When you have finished recording, you may hang up.", "Or press pound for more options.",
    ],
    "business": [
        "Thank you for calling {biz}.", "Our office is currently closed.",
        "Our hours are Monday through Friday, nine to five.",
        "Please leave a message and we will return your call.", "For emergencies, call our main number.",
    ],
    "ivr": [
        "Thank you for calling {biz}.", "Your call is important to us.", "For billing, press one.",
        "For technical support, press two.", "To repeat these options, press star.",
        "Please stay on the line.",
    ],
}

AMR_RATES = ["4.75", "5.15", "5.9", "6.7", "7.4", "7.95", "10.2", "12.2"]


# --------------------------------------------------------------------------
# plan: which clip gets which condition
# --------------------------------------------------------------------------

def make_plan() -> list[dict]:
    shared = ["gsm", "amr", "agc", "cng", "tv", "hum"]
    plan = []
    for c in shared:
        for i in range(4):
            plan.append({"truth": "human", "cond": c, "k": i})
    for c in ("quiet", "loud"):
        for i in range(3):
            plan.append({"truth": "human", "cond": c, "k": i})
    # machines: 15 of the 24 shared-condition clips get a beep (single mostly,
    # a few two-tone / quiet-decaying), plus 6 beep-specific clips -> 21/30 = 70 %
    beep_cycle = ["single", None, "single", "single", "twotone", None, "single", "decay",
                  None, "single", "single", None, "single", "decay", None, "single",
                  None, "twotone", "single", None, "single", None, "single", None]
    j = 0
    for c in shared:
        for i in range(4):
            plan.append({"truth": "machine", "cond": c, "k": i, "beep": beep_cycle[j]})
            j += 1
    for i in range(3):
        plan.append({"truth": "machine", "cond": "decay", "k": i, "beep": "decay"})
    for i in range(3):
        plan.append({"truth": "machine", "cond": "twotone", "k": i, "beep": "twotone"})
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(plan))
    plan = [plan[i] for i in order]
    for n, p in enumerate(plan, 1):
        p["file"] = f"rob_{n:04d}.wav"
        # wideband for one clip in four of the conditions without a narrowband codec
        p["sr"] = 16000 if (p["cond"] not in ("gsm", "amr") and p["k"] == 1) else 8000
    return plan


# --------------------------------------------------------------------------
# speech
# --------------------------------------------------------------------------

def pick_voice(rng):
    return VOICES[rng.integers(len(VOICES))], int(rng.integers(150, 191)), int(rng.integers(35, 71))


def build_human(clip: Clip, rng, voice, rate, pitch, level_db) -> dict:
    sr = clip.sr
    texts = list(rng.permutation(HUMAN_ANSWERS))
    for t in texts:
        p = phrase(t, voice, rate, pitch, sr, rng)
        if 300 <= ms(p.n, sr) <= 1800:
            break
    g = db_to_amp(level_db - active_rms_db(p.x, sr))
    at = max(samples(rng.uniform(0, 1500), sr), p.lead)
    end = clip.add_speech(at, p.scaled(g), str(t), "greeting")
    wait = samples(rng.uniform(2000, 3000), sr)
    if rng.random() < 0.5:
        t2 = SECOND_HELLO[rng.integers(len(SECOND_HELLO))]
        p2 = phrase(t2, voice, rate, pitch, sr, rng)
        g2 = db_to_amp(level_db + rng.uniform(-2, 2) - active_rms_db(p2.x, sr))
        end = clip.add_speech(end + wait, p2.scaled(g2), t2, "second_hello")
        total = ms(end, sr) + int(rng.uniform(1200, 1500))
        variant = "second_hello"
    else:
        total = ms(end + wait, sr)
        variant = "normal"
    return {"total_ms": max(6000, total), "variant": variant}


def build_machine(clip: Clip, rng, voice, rate, pitch, level_db, beep: str | None) -> dict:
    sr = clip.sr
    variant = ["personal", "carrier", "business", "ivr"][rng.integers(4)]
    if beep is None and rng.random() < 0.5:
        variant = "ivr"
    if beep is not None and variant == "ivr":
        variant = "business"
    fill = {"name": NAMES[rng.integers(len(NAMES))], "biz": BUSINESSES[rng.integers(len(BUSINESSES))]}
    lines = [s.format(**fill) for s in GREETINGS[variant]]
    target = rng.uniform(3000, 8000)
    chosen, phrases, total = [], [], 0.0
    gaps = []
    for i, t in enumerate(lines):
        p = phrase(t, voice, rate, pitch, sr, rng)
        gap = rng.uniform(120, 450) if phrases else 0.0
        if phrases and total + gap + ms(p.n, sr) > (target if total >= 3000 else 8000):
            continue
        chosen.append(t)
        phrases.append(p)
        gaps.append(gap)
        total += gap + ms(p.n, sr)
        if total >= target:
            break
    g = db_to_amp(level_db - active_rms_db(np.concatenate([p.x for p in phrases]), sr))
    at = samples(rng.uniform(100, 1000), sr)
    for t, p, gap in zip(chosen, phrases, gaps):
        at += samples(gap, sr)
        at = clip.add_speech(at, p.scaled(g * db_to_amp(rng.uniform(-1.5, 1.5))), t, "greeting")
    end = at
    info = {"variant": variant}
    if beep is not None:
        b_at = end + samples(rng.uniform(150, 600), sr)
        b_end = add_beep(clip, b_at, beep, level_db, rng)
        end = b_end
    total_ms = ms(end, sr) + int(rng.uniform(2000, 2400))
    info["total_ms"] = max(6000, total_ms)
    return info


def add_beep(clip: Clip, at: int, kind: str, level_db: float, rng) -> int:
    sr = clip.sr
    if kind == "single":
        f = float([1000.0, 850.0, 440.0, 1400.0, 950.0][rng.integers(5)])
        d = rng.uniform(200, 1000)
        lv = level_db + rng.uniform(-4, 4)
        return clip.add_tone(at, tone(f, d, sr, lv), {"type": "beep", "kind": "single", "freq_hz": [f],
                                                       "level_dbfs": round(lv, 1)})
    if kind == "twotone":
        f1, f2 = [(700.0, 1000.0), (1000.0, 700.0), (440.0, 620.0), (950.0, 1400.0), (1400.0, 1000.0)][
            rng.integers(5)]
        d = rng.uniform(150, 250) if rng.random() < 0.4 else 200.0
        gap = samples(rng.choice([0.0, 0.0, 20.0, 50.0]), sr)
        lv = level_db + rng.uniform(-4, 3)
        x = np.concatenate([tone(f1, d, sr, lv, ramp_ms=3), np.zeros(gap), tone(f2, d, sr, lv, ramp_ms=3)])
        return clip.add_tone(at, x, {"type": "beep", "kind": "twotone", "freq_hz": [f1, f2],
                                     "tone_ms": round(d), "gap_ms": ms(gap, sr), "level_dbfs": round(lv, 1)})
    if kind == "decay":
        f = float([1000.0, 850.0, 440.0, 1400.0][rng.integers(4)])
        d = rng.uniform(150, 400)
        decay = rng.uniform(6, 20)
        drift = rng.uniform(-0.01, 0.01)
        n = samples(d, sr)
        t = np.arange(n) / sr
        inst_f = f * (1 + drift * t / t[-1])
        env_db = -35.0 - decay * t / t[-1]
        x = np.sqrt(2) * 10 ** (env_db / 20) * np.sin(2 * np.pi * np.cumsum(inst_f) / sr) * ramp(n, sr, 3)
        return clip.add_tone(at, x, {"type": "beep", "kind": "quiet_decay", "freq_hz": [f],
                                     "level_dbfs": -35.0, "decay_db": round(decay, 1),
                                     "drift": round(drift, 4)})
    raise ValueError(kind)


# --------------------------------------------------------------------------
# channel effects
# --------------------------------------------------------------------------

def tv_chords(n: int, sr: int, rng) -> tuple[np.ndarray, dict]:
    """Music-like background: triads / sevenths of harmonic-rich sines, new
    chord every 0.5-2 s, level jumps and slow swells."""
    roots = [0, 5, 7, 9, 2, 4]
    out = np.zeros(n)
    pos, chords = 0, 0
    while pos < n:
        d = samples(rng.uniform(500, 2000), sr)
        root = 57 + roots[rng.integers(len(roots))] - 12 * int(rng.integers(0, 2))  # MIDI around A3
        kind = [[0, 4, 7], [0, 3, 7], [0, 4, 7, 10], [0, 3, 7, 10]][rng.integers(4)]
        notes = [root + k for k in kind] + ([root - 12] if rng.random() < 0.6 else [])
        m = min(d + samples(40, sr), n - pos)
        t = np.arange(m) / sr
        seg = np.zeros(m)
        for note in notes:
            f0 = 440.0 * 2 ** ((note - 69) / 12)
            vib = 1 + 0.003 * np.sin(2 * np.pi * rng.uniform(4, 6) * t)
            for h in range(1, 6):
                if f0 * h < sr / 2 - 200:
                    seg += (1.0 / h ** 1.3) * np.sin(2 * np.pi * f0 * h * np.cumsum(vib) / sr + rng.uniform(0, 6.28))
        # attack / decay-sustain envelope and a level step for this chord
        env = np.minimum(1, t / 0.03) * (0.6 + 0.4 * np.exp(-t / rng.uniform(0.2, 0.8)))
        gain = db_to_amp(rng.uniform(-9, 3))
        seg *= env * gain * ramp(m, sr, 20)
        out[pos:pos + m] += seg
        pos += d
        chords += 1
    # slow swells (volume changes of the TV)
    t = np.arange(n) / sr
    out *= db_to_amp(4 * np.sin(2 * np.pi * t / rng.uniform(2.5, 5) + rng.uniform(0, 6.28)))
    return bandlimit(out, sr, *channel_band(sr)), {"chords": chords}


def agc(x: np.ndarray, sr: int, rng) -> tuple[np.ndarray, dict]:
    """Handset AGC: 10 ms RMS level, fast attack, slow release towards a high
    maximum gain (so pauses pump the noise up), then a soft limiter."""
    target = rng.uniform(-20, -16)
    max_gain = rng.uniform(12, 20)
    attack = rng.uniform(5, 20) / 1000
    release = rng.uniform(0.3, 1.0)
    hop = samples(1, sr)
    win = samples(10, sr)
    p = np.convolve(x * x, np.ones(win) / win, mode="same")
    nb = len(x) // hop + 1
    lvl = 10 * np.log10(np.maximum(p[::hop][:nb], 1e-12))
    g = np.empty(len(lvl))
    cur = max_gain
    a_att = 1 - np.exp(-0.001 / attack)
    a_rel = 1 - np.exp(-0.001 / release)
    for i, L in enumerate(lvl):
        want = min(max(target - L, -12.0), max_gain)
        cur += (want - cur) * (a_att if want < cur else a_rel)
        g[i] = cur
    gs = np.interp(np.arange(len(x)), np.arange(len(g)) * hop, g)
    y = x * db_to_amp(gs)
    thr = 0.7
    a = np.abs(y)
    over = a > thr
    y[over] = np.sign(y[over]) * (thr + (1 - thr) * np.tanh((a[over] - thr) / (1 - thr)))
    return y, {"target_dbfs": round(target, 1), "max_gain_db": round(max_gain, 1),
               "attack_ms": round(attack * 1000, 1), "release_s": round(release, 2)}


def hum_dc(n: int, sr: int, rng) -> tuple[np.ndarray, dict]:
    level = rng.uniform(-32, -25)
    dc = rng.uniform(0.015, 0.04) * (1 if rng.random() < 0.5 else -1)
    t = np.arange(n) / sr
    amps = [1.0, 0.35, 0.6, 0.15, 0.3, 0.08, 0.15, 0.05, 0.08]
    h = sum(a * np.sin(2 * np.pi * 50 * (k + 1) * t + rng.uniform(0, 6.28)) for k, a in enumerate(amps))
    h *= db_to_amp(level - rms_db(h))
    return h + dc, {"hum_hz": 50, "hum_dbfs": round(level, 1), "dc": round(dc, 3)}


def cng_gate(x: np.ndarray, clip: Clip, rng, level_db=-50.0) -> tuple[np.ndarray, dict]:
    """Receive-side DTX with comfort noise switched on and off.  Frames that
    overlap a labelled phrase or tone (plus a 20 ms lead and an 80-240 ms
    hangover) keep the signal; the rest is comfort noise at about -50 dBFS,
    re-levelled every 160 ms, in on periods of 0.2-1.2 s separated by off
    periods of 0.1-0.6 s (digital silence or a -85 dBFS floor)."""
    sr = clip.sr
    fl = samples(FRAME_MS, sr)
    nf = len(x) // fl + 1
    hang = rng.uniform(80, 240)
    active = np.zeros(nf, dtype=bool)
    for e in clip.events:
        a = int((e["start_ms"] - 20) // FRAME_MS)
        b = int((e["end_ms"] + hang) // FRAME_MS) + 1
        active[max(a, 0):min(b, nf)] = True
    kind = "pink" if rng.random() < 0.5 else "white"
    cn = line_noise(kind, len(x), sr, level_db, rng)
    # re-level every 160 ms (+-2 dB)
    blk = samples(160, sr)
    steps = db_to_amp(rng.uniform(-2, 2, size=len(x) // blk + 1))
    cn *= np.repeat(steps, blk)[:len(x)]
    off_floor = rng.random() < 0.5
    floor = line_noise("white", len(x), sr, -85.0, rng) if off_floor else np.zeros(len(x))
    # on/off pattern, over the whole clip (used only in inactive frames)
    onoff = np.zeros(len(x), dtype=bool)
    pos, on, periods = 0, True, 0
    while pos < len(x):
        d = samples(rng.uniform(200, 1200) if on else rng.uniform(100, 600), sr)
        onoff[pos:pos + d] = on
        pos += d
        on = not on
        periods += 1
    act = np.repeat(active, fl)[:len(x)]
    mask = np.where(act, 1.0, 0.0)
    cnm = np.where(~act & onoff, 1.0, 0.0)
    # 2 ms ramps at every switch, as a DTX decoder's frame boundary would give
    k = samples(2, sr)
    ker = np.ones(k) / k
    mask = np.convolve(mask, ker, mode="same")
    cnm = np.convolve(cnm, ker, mode="same")
    y = x * mask + cn * cnm + floor * np.clip(1 - mask - cnm, 0, 1)
    return y, {"cng_dbfs": level_db, "cng_noise": kind, "hangover_ms": round(hang),
               "off": "floor-85dBFS" if off_floor else "digital_silence"}


# --------------------------------------------------------------------------
# one clip
# --------------------------------------------------------------------------

def make_clip(p: dict, out: str) -> tuple[dict, dict]:
    rng = child_rng(SEED, p["file"])
    sr = p["sr"]
    truth, cond = p["truth"], p["cond"]
    voice, rate, pitch = pick_voice(rng)
    if cond == "quiet":
        level = -40.0
    elif cond == "loud":
        level = rng.uniform(-5, -2)
    else:
        level = rng.uniform(-26, -18)
    clip = Clip(sr, 0)
    if truth == "human":
        info = build_human(clip, rng, voice, rate, pitch, level)
    else:
        info = build_machine(clip, rng, voice, rate, pitch, level, p.get("beep"))
    n = samples(info["total_ms"], sr)
    clip.grow(n)
    x = clip.clean()
    tags = [f"lvl{int(round(level))}dB"]
    channel = {}

    # background line noise (and TV)
    kind = "white" if rng.random() < 0.5 else "pink"
    if cond == "quiet":
        nlev = rng.uniform(-70, -65)
    elif cond == "decay":
        nlev = rng.uniform(-66, -60)
    elif cond == "agc":
        nlev = level - rng.choice([30.0, 35.0])
    else:
        nlev = level - rng.choice([25.0, 30.0, 35.0])
    x = x + line_noise(kind, n, sr, nlev, rng)
    tags.append(f"{kind}@{int(round(level - nlev))}dB")
    if cond == "tv":
        bg, info_tv = tv_chords(n, sr, rng)
        bg *= db_to_amp(level - 15.0 - rms_db(bg))
        x = x + bg
        tags.append("tvchords@15dB")
        channel["tv"] = info_tv
    tags.append(band_tag(sr))
    if cond == "agc":
        x, channel["agc"] = agc(x, sr, rng)
        tags.append("agc")
    if cond == "loud":
        c_db = rng.uniform(-4, -1)
        c = db_to_amp(c_db)
        channel["clipped_fraction"] = round(float(np.mean(np.abs(x) >= c)), 4)
        x = np.clip(x, -c, c)
        tags.append(f"clip{c_db:.1f}dB")
    if cond == "hum":
        h, channel["hum"] = hum_dc(n, sr, rng)
        x = x + h
        tags.append(f"hum50{int(round(channel['hum']['hum_dbfs']))}dB")
        tags.append(f"dc{channel['hum']['dc']:+.3f}")
    if cond == "gsm":
        x, lag = codec_roundtrip(x, sr, "gsm")
        channel["codec"] = {"name": "gsm-full-rate", "delay_removed_samples": lag}
        tags.append("gsm")
    elif cond == "amr":
        mode = int(rng.integers(0, 8))
        x, lag = codec_roundtrip(x, sr, "amr-nb", mode)
        channel["codec"] = {"name": "amr-nb", "mode": mode, "kbps": AMR_RATES[mode], "delay_removed_samples": lag}
        tags.append(f"amr_nb_{AMR_RATES[mode]}k")
    else:
        tags.append("pcm")
    if cond == "cng":
        x, channel["cng"] = cng_gate(x, clip, rng)
        tags += ["cng_gate", "cng-50dBFS"]
    if truth == "machine":
        b = p.get("beep")
        tags.append({"single": "beep_single", "twotone": "beep_twotone", "decay": "beep_quiet_decay",
                     None: "nobeep"}[b])
    else:
        tags.append({"quiet": "quiet_human", "loud": "loud_clipped"}.get(cond, "human"))
    if tags[-1] == "human":
        tags.pop()

    write_wav_pcm16(os.path.join(out, p["file"]), x, sr)
    dur = ms(len(x), sr)
    label = make_label(p["file"], truth, clip, dur, espeak_source(voice, rate, pitch), "+".join(tags))
    seg = {"file": p["file"], "truth": truth, "variant": info["variant"], "duration_ms": dur,
           "events": sorted(clip.events, key=lambda e: e["start_ms"]), "speech_regions_ms": clip.regions(),
           "channel": channel, "main_condition": cond}
    return label, seg


def write_readme(out: str, plan, labels):
    by = collections.Counter((p["cond"], p["truth"]) for p in plan)
    conds = ["gsm", "amr", "agc", "cng", "tv", "hum", "quiet", "loud", "decay", "twotone"]
    beeps = collections.Counter(l["condition"].split("+")[-1] for l in labels if l["truth"] == "machine")
    srs = collections.Counter((l["truth"], l["sample_rate"]) for l in labels)
    lines = ["# AMD robustness set", "",
             "Generated by `tools/make_robustness_set.py` of mod_rust_amd (see the top of that script).",
             f"{len(labels)} clips; labels.csv has the development corpus's columns; segments.jsonl",
             "has every phrase and tone and each clip's channel parameters.", "",
             "| main condition | human | machine |", "| --- | --- | --- |"]
    for c in conds:
        lines.append(f"| {c} | {by.get((c, 'human'), 0)} | {by.get((c, 'machine'), 0)} |")
    lines += ["", "Machine endings: " + ", ".join(f"{k} {v}" for k, v in sorted(beeps.items())),
              "Sample rates: " + ", ".join(f"{t} {sr} Hz: {v}" for (t, sr), v in sorted(srs.items())), ""]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("outdir", help="where to write the set (outside the repository)")
    out = parser.parse_args().outdir
    os.makedirs(out, exist_ok=True)
    plan = make_plan()
    labels, segs = [], []
    for p in plan:
        lab, seg = make_clip(p, out)
        labels.append(lab)
        segs.append(seg)
        print(f"{lab['file']} {lab['truth']:7s} {lab['sample_rate']:5d} {seg['duration_ms']:5d}ms "
              f"greet={lab['greeting_ms']:5d} init={lab['initial_silence_ms']:5d} beep={lab['beep_ms']!s:5s} "
              f"{lab['condition']}", flush=True)
    write_labels(os.path.join(out, "labels.csv"), labels)
    write_segments(os.path.join(out, "segments.jsonl"), segs)
    write_readme(out, plan, labels)


if __name__ == "__main__":
    main()
