#!/usr/bin/env python3
"""Draws of ../shared/corpus-kit under conditions its default draws barely have, outside the
repository, in the corpus format that `amd eval` reads: labels.csv and WAVs, and for tv, beeps
and tones the kit's segments.jsonl too (codecs, loss and latemedia derive calls from existing
draws and write labels.csv only).

Usage:
  python3 tools/make_kit_variants.py tv     SEED N OUTDIR   [--kit DIR]
  python3 tools/make_kit_variants.py beeps  SEED N OUTDIR   [--kit DIR]
  python3 tools/make_kit_variants.py tones  SEED N OUTDIR   [--kit DIR]
  python3 tools/make_kit_variants.py codecs OUTDIR DRAW...  [--codecs LIST] [--speech] [--kit DIR]
  python3 tools/make_kit_variants.py loss   OUTDIR PERCENT DRAW...  [--kit DIR]
  python3 tools/make_kit_variants.py latemedia OUTDIR MS DRAW...    [--kit DIR]

  tv      N calls of the kit's hard-conditions stage with a TV (music and a talker) behind every
          human and machine (the kit puts one behind a fifth of them, in a fifth of its calls):
          what most false beeps and late machines on people come from.
  beeps   N calls of the kit's base stage whose machines end their greeting with the beep shapes
          the kit can make but its draws do not use: harmonic-rich buzzers (40%), triple short
          beeps (40%) and two-tone beeps (20%).
  tones   N calls of the kit's base stage, half fax and half SIT, the fax calls in equal thirds
          ANSam (2100 Hz with its 15 Hz modulation and phase reversals) then V.21, CED then V.21,
          and CNG (the kit's draws have no ANSam).
  codecs  the 8 kHz fax and SIT calls of each DRAW (folders the kit wrote; with --speech every
          8 kHz call), each round-tripped through every codec of --codecs (default gsm,amrnb):
          gsm (GSM 06.10), amrnb (AMR-NB) and g722 (G.722, through 16 kHz) with the kit's own
          dsp.codec_roundtrip (sox, ffmpeg); opusK (Opus at K kbit/s, e.g. opus12, in its VoIP
          mode, through ffmpeg's libopus), which the kit does not have.
  loss    every call of each DRAW with PERCENT of its 20 ms packets lost, in bursts (a two-state
          model whose lost runs last two packets on average), and concealed as a G.711 decoder
          does (ITU-T G.711 Appendix I in outline): a lost packet repeats the last pitch period
          heard (2.5-15 ms, by autocorrelation), the second in a row at half level, later ones
          are silent. The kit's own drop20ms_zero conditions only zero the packets.
  latemedia every call of each DRAW with MS of digital silence before it, as a phone or gateway
          sends when its media starts after the answer (labels' initial silence and beep times
          moved by MS); the kit's calls all carry audio from the answer.

The kit (default ../shared/corpus-kit beside the repository, or --kit) does the rendering; this
only chooses what it renders. Requirements: those of the kit (its install_deps.sh).
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
from multiprocessing import Pool

import numpy as np


def load_kit(path):
    sys.path.insert(0, os.path.abspath(path))
    import dsp  # noqa: F401  (the kit's modules)
    import extension
    import make_corpus
    return make_corpus, extension, dsp


def tv(mc, extension, seed, n, out):
    cfg = mc.SETS["dev"]
    cfg["out"] = "."
    cfg["byte_budget"] = 1 << 40
    extension.EXT.update(n=n, first=1, byte_budget=1 << 40, bg=[("tv", 1.0)])
    items = extension.plan_ext(seed)
    with Pool() as p:
        tracks = p.map(extension.bank_track, extension.bank_jobs(seed))
    for (sd, fs, _), tr in zip(extension.bank_jobs(seed), tracks):
        extension.talker_bank_append(sd, fs, tr)
    with Pool() as p:
        rendered = p.map(extension.render_ext_item, items, chunksize=1)
    return mc.write_set("dev", extension.finalize(rendered), os.path.abspath(out), seed)


def base_stage(mc, seed, n, out, **settings):
    """N calls of the kit's base stage with its "dev" settings changed as given."""
    cfg = mc.SETS["dev"]
    cfg.update(n=n, out=".", byte_budget=1 << 40, **settings)
    with Pool() as p:
        rendered = p.map(mc.render_item, mc.plan("dev", seed), chunksize=2)
    return mc.write_set("dev", rendered, os.path.abspath(out), seed)


def beeps(mc, seed, n, out):
    return base_stage(mc, seed, n, out, beep_kinds=[("buzzer", 0.4), ("triple", 0.4), ("twotone", 0.2)])


def tones(mc, seed, n, out):
    mc.SHARE.update(human=0.0, machine=0.0, fax=0.5, sit=0.5, silence=0.0)
    return base_stage(mc, seed, n, out, fax_variants=[("ansam_v21", 1.0), ("ced_v21", 1.0), ("cng", 1.0)])


def opus_roundtrip(dsp, x, fs, kbps):
    """Encodes and decodes through libopus (VoIP mode) at kbps, back at fs, the length kept."""
    ffmpeg = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    with tempfile.TemporaryDirectory(prefix="amd_opus_") as td:
        src, mid, dst = (os.path.join(td, n) for n in ("in.wav", "mid.ogg", "out.wav"))
        dsp.write_wav(src, x, fs)
        subprocess.run(ffmpeg + ["-i", src, "-c:a", "libopus", "-b:a", f"{kbps}k", "-application", "voip", mid], check=True)
        subprocess.run(ffmpeg + ["-i", mid, "-ar", str(fs), "-c:a", "pcm_s16le", dst], check=True)
        y, _ = dsp.read_wav(dst)
    return np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[: len(x)]


def roundtrip(dsp, x, fs, codec):
    if codec.startswith("opus"):
        return opus_roundtrip(dsp, x, fs, int(codec[4:]))
    return dsp.codec_roundtrip(x, fs, codec)


def derive(dsp, out, draws, keep, variants, what, relabel=lambda r: r):
    """Writes, for every call of each DRAW that keep(row) admits, one WAV per variant (tag,
    condition, transform(x, fs, name)) named DRAW_TAG_FILE, and their labels.csv (each row as
    relabel(row) gives it)."""
    os.makedirs(out, exist_ok=True)
    rows = []
    for d in draws:
        with open(os.path.join(d, "labels.csv"), newline="") as f:
            for r in csv.DictReader(f):
                if not keep(r):
                    continue
                x, fs = dsp.read_wav(os.path.join(d, r["file"]))
                for tag, condition, transform in variants:
                    name = f"{os.path.basename(os.path.normpath(d))}_{tag}_{r['file']}"
                    dsp.write_wav(os.path.join(out, name), transform(x, fs, name), fs)
                    rows.append(relabel(dict(r, file=name, condition=f"{r['condition']}+{condition}")))
    if not rows:
        sys.exit(f"no {what} in " + ", ".join(draws))
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return f"{len(rows)} calls -> {out}"


def codecs(dsp, out, draws, names, speech):
    def keep(r):
        return (speech or r["truth"] in ("fax", "sit")) and r["sample_rate"] == "8000"
    variants = [(c, c, lambda x, fs, _name, c=c: roundtrip(dsp, x, fs, c)) for c in names]
    return derive(dsp, out, draws, keep, variants, "8 kHz calls to round-trip")


def conceal_losses(x, fs, percent, rng):
    """x with percent of its 20 ms packets lost in bursts and concealed (see the docstring)."""
    n = int(0.02 * fs)
    lo, hi = int(0.0025 * fs), int(0.015 * fs)
    y = x.copy()
    stay = 0.5  # P(lost | last lost): lost runs of 2 packets on average
    start = (percent / 100.0) * (1 - stay) / (1 - percent / 100.0)  # P(lost | last received)
    lost, run = False, 0
    for k in range(0, len(x) - n + 1, n):
        lost = rng.random() < (stay if lost else start)
        if not lost:
            run = 0
            continue
        gain = max(0.0, 1.0 - 0.5 * run)
        run += 1
        seg = y[max(0, k - 2 * n):k]
        if gain == 0.0 or len(seg) <= 2 * hi:
            y[k:k + n] = 0.0
            continue
        corr = [np.dot(seg[p:], seg[:-p]) / (len(seg) - p) for p in range(lo, hi + 1)]
        period = lo + int(np.argmax(corr))
        cycle = seg[-period:]
        y[k:k + n] = gain * np.tile(cycle, n // period + 1)[:n]
    return y


def loss(dsp, out, percent, draws):
    import zlib

    def conceal(x, fs, name):
        return conceal_losses(x, fs, percent, np.random.default_rng(zlib.crc32(name.encode())))
    return derive(dsp, out, draws, lambda _r: True, [(f"loss{percent}", f"plc_loss{percent}", conceal)], "calls")


def late_media(dsp, out, ms, draws):
    def delay(x, fs, _name):
        return np.concatenate([np.zeros(int(round(ms * fs / 1000.0)), dtype=x.dtype), x])

    def shift(r):
        for k in ("initial_silence_ms", "beep_ms"):
            if r.get(k):
                r[k] = str(int(r[k]) + ms)
        return r
    return derive(dsp, out, draws, lambda _r: True, [(f"late{ms}", f"late_media{ms}ms", delay)], "calls", shift)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["tv", "beeps", "tones", "codecs", "loss", "latemedia"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--codecs", default="gsm,amrnb", help="codecs: gsm, amrnb, g722, opusK (K kbit/s)")
    ap.add_argument("--speech", action="store_true", help="codecs: every 8 kHz call, not only fax and SIT")
    ap.add_argument("--kit", default=os.path.join(here, "..", "..", "shared", "corpus-kit"))
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.kit, "make_corpus.py")):
        sys.exit(f"no corpus-kit at {a.kit} (give --kit DIR)")
    mc, extension, dsp = load_kit(a.kit)
    if a.kind == "loss":
        if len(a.args) < 3 or not a.args[1].isdigit() or not 0 < int(a.args[1]) < 50:
            sys.exit("loss OUTDIR PERCENT DRAW...  (PERCENT from 1 to 49)")
        print(loss(dsp, a.args[0], int(a.args[1]), a.args[2:]))
        return
    if a.kind == "latemedia":
        if len(a.args) < 3 or not a.args[1].isdigit() or not 0 < int(a.args[1]) <= 3000:
            sys.exit("latemedia OUTDIR MS DRAW...  (MS from 1 to 3000)")
        print(late_media(dsp, a.args[0], int(a.args[1]), a.args[2:]))
        return
    if a.kind == "codecs":
        if len(a.args) < 2:
            sys.exit("codecs OUTDIR DRAW...")
        names = [c for c in a.codecs.split(",") if c]
        unknown = [c for c in names if c not in ("gsm", "amrnb", "g722") and not (c.startswith("opus") and c[4:].isdigit())]
        if unknown or not names:
            sys.exit(f"unknown codec {', '.join(unknown)}: gsm, amrnb, g722, opusK")
        print(codecs(dsp, a.args[0], a.args[1:], names, a.speech))
        return
    if len(a.args) != 3:
        sys.exit(f"{a.kind} SEED N OUTDIR")
    seed, n, out = int(a.args[0]), int(a.args[1]), a.args[2]
    if a.kind == "tv":
        print(tv(mc, extension, seed, n, out))
    elif a.kind == "tones":
        print(tones(mc, seed, n, out))
    else:
        print(beeps(mc, seed, n, out))


if __name__ == "__main__":
    main()
