#!/usr/bin/env python3
"""How many of a kit draw's machines no detector can call `machine` by what it hears in time.

Usage:
  python3 tools/kit_ceiling.py DRAW... [--within MS]

Reads each DRAW's segments.jsonl (the corpus format ../shared/corpus-kit writes: every call's
speech phrases, beeps and tones with their times) and counts the machines whose call, from the
answer until MS (default 2000) after their first phrase ends, has the shape of a person's: the
first thing heard is one phrase, no longer than the longest greeting of the draw's people, and
then nothing at all (no phrase, beep or tone, or the call ends) for MS. The US Telemarketing Sales
Rule gives a person 2 s from the end of their greeting to be connected, so with the default a
detector has nothing but that one phrase to go by; calling such a machine `machine` means calling
`machine` every person whose greeting lasts as long, and the tool prints how many of the draw's
people that is (their greeting within the shortest and longest of those machines' phrases).

Per draw it prints the machines, those shaped as a person's call (by the kit's variant name), the
people their phrase lengths cover, and the ceiling: the share of machines left that a detector
answering every person within MS could call `machine`.
"""
import argparse
import collections
import json
import os
import sys


def calls(draw):
    with open(os.path.join(draw, "segments.jsonl")) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def greeting_ms(call):
    """A person's greeting: from their first phrase to the end of the last one labelled greeting."""
    speech = [e for e in call["events"] if e["type"] == "speech"]
    greeting = [e["end_ms"] for e in speech if e.get("role", "greeting") == "greeting"]
    if not speech or not greeting:
        return None
    return max(greeting) - min(e["start_ms"] for e in speech)


def first_phrase_alone(call, within_ms):
    """The first phrase's length when the call opens with it and nothing follows for within_ms."""
    events = sorted(call["events"], key=lambda e: e["start_ms"])
    if not events or events[0]["type"] != "speech":
        return None
    first = events[0]
    later = [e["start_ms"] for e in events[1:] if e["start_ms"] >= first["end_ms"]]
    overlapping = [e for e in events[1:] if e["start_ms"] < first["end_ms"]]
    if overlapping:
        return None
    next_ms = min(later) if later else None
    if next_ms is not None and next_ms - first["end_ms"] < within_ms:
        return None
    return first["end_ms"] - first["start_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("draws", nargs="+")
    ap.add_argument("--within", type=int, default=2000, metavar="MS")
    args = ap.parse_args()
    totals = collections.Counter()
    for draw in args.draws:
        people, machines = [], []
        try:
            draw_calls = list(calls(draw))
            for call in draw_calls:
                if not isinstance(call.get("truth"), str) or not isinstance(call.get("events"), list):
                    raise ValueError(f"a line without truth or events: {call.get('file', '?')}")
        except (OSError, ValueError, KeyError) as e:
            print(f"{draw}: cannot read segments.jsonl ({e}); give folders the corpus-kit wrote", file=sys.stderr)
            return 2
        for call in draw_calls:
            if call["truth"] == "human":
                g = greeting_ms(call)
                if g is not None:
                    people.append(g)
            elif call["truth"] == "machine":
                machines.append(call)
        if not people or not machines:
            print(f"{draw}: no people or no machines in segments.jsonl", file=sys.stderr)
            return 2
        longest = max(people)
        shaped = []
        for call in machines:
            phrase = first_phrase_alone(call, args.within)
            if phrase is not None and phrase <= longest:
                shaped.append((phrase, call.get("variant", "?")))
        kinds = collections.Counter(v for _, v in shaped)
        covered, lo, hi = 0, 0, 0
        if shaped:
            lo, hi = min(p for p, _ in shaped), max(p for p, _ in shaped)
            covered = sum(1 for g in people if lo <= g <= hi)
        ceiling = 100.0 * (len(machines) - len(shaped)) / len(machines)
        print(f"{draw}: {len(machines)} machines, {len(shaped)} shaped as a person's call "
              f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}); their phrases last {lo}-{hi} ms, as do "
              f"{covered} of {len(people)} people's greetings; ceiling {ceiling:.1f}%")
        totals.update(machines=len(machines), shaped=len(shaped), people=len(people), covered=covered)
    if len(args.draws) > 1:
        t = totals
        print(f"all: {t['machines']} machines, {t['shaped']} shaped as a person's call; ceiling "
              f"{100.0 * (t['machines'] - t['shaped']) / t['machines']:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
