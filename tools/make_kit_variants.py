#!/usr/bin/env python3
"""Draws of ../shared/corpus-kit under conditions its default draws barely have, outside the
repository, in the corpus format (labels.csv, segments.jsonl, WAVs) that `amd eval` reads.

Usage:
  python3 tools/make_kit_variants.py tv     SEED N OUTDIR   [--kit DIR]
  python3 tools/make_kit_variants.py beeps  SEED N OUTDIR   [--kit DIR]
  python3 tools/make_kit_variants.py codecs OUTDIR DRAW...  [--kit DIR]

  tv      N calls of the kit's hard-conditions stage with a TV (music and a talker) behind every
          human and machine (the kit puts one behind a fifth of them, in a fifth of its calls):
          what most false beeps and late machines on people come from.
  beeps   N calls of the kit's base stage whose machines end their greeting with the beep shapes
          the kit can make but its draws do not use: harmonic-rich buzzers (40%), triple short
          beeps (40%) and two-tone beeps (20%).
  codecs  the 8 kHz fax and SIT calls of each DRAW (folders the kit wrote), each round-tripped
          through GSM 06.10 and through AMR-NB with the kit's own dsp.codec_roundtrip (sox).

The kit (default ../shared/corpus-kit beside the repository, or --kit) does the rendering; this
only chooses what it renders. Requirements: those of the kit (its install_deps.sh).
"""
import argparse
import csv
import os
import sys
from multiprocessing import Pool


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


def beeps(mc, seed, n, out):
    cfg = mc.SETS["dev"]
    cfg.update(n=n, out=".", byte_budget=1 << 40)
    cfg["beep_kinds"] = [("buzzer", 0.4), ("triple", 0.4), ("twotone", 0.2)]
    with Pool() as p:
        rendered = p.map(mc.render_item, mc.plan("dev", seed), chunksize=2)
    return mc.write_set("dev", rendered, os.path.abspath(out), seed)


def codecs(dsp, out, draws):
    os.makedirs(out, exist_ok=True)
    rows = []
    for d in draws:
        with open(os.path.join(d, "labels.csv"), newline="") as f:
            for r in csv.DictReader(f):
                if r["truth"] not in ("fax", "sit") or r["sample_rate"] != "8000":
                    continue
                x, fs = dsp.read_wav(os.path.join(d, r["file"]))
                for codec in ("gsm", "amrnb"):
                    name = f"{os.path.basename(os.path.normpath(d))}_{codec}_{r['file']}"
                    dsp.write_wav(os.path.join(out, name), dsp.codec_roundtrip(x, fs, codec), fs)
                    rows.append(dict(r, file=name, condition=f"{r['condition']}+{codec}"))
    if not rows:
        sys.exit("no 8 kHz fax or SIT calls in " + ", ".join(draws))
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return f"{len(rows)} calls -> {out}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["tv", "beeps", "codecs"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--kit", default=os.path.join(here, "..", "..", "shared", "corpus-kit"))
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.kit, "make_corpus.py")):
        sys.exit(f"no corpus-kit at {a.kit} (give --kit DIR)")
    mc, extension, dsp = load_kit(a.kit)
    if a.kind == "codecs":
        if len(a.args) < 2:
            sys.exit("codecs OUTDIR DRAW...")
        print(codecs(dsp, a.args[0], a.args[1:]))
        return
    if len(a.args) != 3:
        sys.exit(f"{a.kind} SEED N OUTDIR")
    seed, n, out = int(a.args[0]), int(a.args[1]), a.args[2]
    print(tv(mc, extension, seed, n, out) if a.kind == "tv" else beeps(mc, seed, n, out))


if __name__ == "__main__":
    main()
