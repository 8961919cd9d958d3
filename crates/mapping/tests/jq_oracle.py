"""Checks the jq compatibility corpus against real jq.

Every case of fixtures/jq_compat.json holds the value jq 1.7.1 (the PyPI package jq==1.8.0,
which Ocean's jq.py binding bundles) gives for the filter's first output. This script re-runs
each case through jq.py and exits non-zero on any difference, so the table that our Rust test
(it/jq_compat.rs) checks jaq against can never drift from real jq.
"""

import json
import pathlib
import sys

import jq

CORPUS = pathlib.Path(__file__).parent / "fixtures" / "jq_compat.json"


def main() -> int:
    corpus = json.loads(CORPUS.read_text())
    failures = 0
    for case in corpus["cases"]:
        data = corpus["inputs"][case["input"]]
        try:
            got = jq.compile(case["filter"]).input_value(data).first()
        except StopIteration:
            got = None
        if got != case["expected"]:
            failures += 1
            print(f"MISMATCH {case['name']}: jq gives {got!r}, corpus says {case['expected']!r}")
    print(f"jq oracle: {len(corpus['cases']) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
