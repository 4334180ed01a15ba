"""Regenerate the MQTT contract recording: ``python -m tests.contract.record [KEY ...]``.

Runs the recorder (see :mod:`tests.contract.recorder`) and rewrites
``tests/contract/recording/<variant>/<fixture>.json``; with keys (``default/7.3.517``) only
those files. Regenerating IS a change of the public MQTT contract: commit it on its own or
with the change that causes it, and say in the commit message which topics or keys changed
and why (``git diff --stat tests/contract/recording`` shows which systems are affected).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from tests.contract.recorder import RECORDING_DIR, Recorder, dumps, jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="<variant>/<fixture> to record (default: all)")
    args = parser.parse_args(argv)
    selected = jobs(args.keys or None)
    unknown = set(args.keys) - {j.key for j in selected}
    if unknown:
        parser.error(f"unknown recording key(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="envoy2mqtt-contract-") as work:
        recorder = Recorder(Path(work))
        results = asyncio.run(recorder.run(selected))
    for note in recorder.retried:
        print(f"repeated: {note}")
    if not args.keys:
        # A fixture or variant that is gone leaves no stale file behind.
        for old in RECORDING_DIR.glob("*/*.json"):
            if old.relative_to(RECORDING_DIR).with_suffix("").as_posix() not in results:
                old.unlink()
    changed = 0
    for job in selected:
        text = dumps(results[job.key])
        job.path.parent.mkdir(parents=True, exist_ok=True)
        if not job.path.is_file() or job.path.read_text() != text:
            job.path.write_text(text)
            changed += 1
    topics = sum(len(r) for r in results.values())
    print(
        f"recorded {len(results)} job(s), {topics} retained topics in "
        f"{time.monotonic() - started:.1f} s; {changed} file(s) changed under {RECORDING_DIR}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
