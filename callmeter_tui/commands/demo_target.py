"""``callmeter-tui demo-target``: run one DemoTarget in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from ..domain.audio import usable_reference
from ..probes.demo_target.target import DemoTarget


def _pct(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _code(text: str) -> int:
    value = int(text)
    if not 300 <= value <= 699:
        raise argparse.ArgumentTypeError(f"must be a SIP final error code 300-699, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callmeter-tui demo-target",
        description="A SIP peer with an impaired RTP echo (impairment on the return path only; "
        "RTCP round-trip time ~= --delay).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5070, help="UDP port, 0 for a free one (default 5070)")
    p.add_argument("--loss", type=_pct, default=0.0, metavar="PCT", help="echoed RTP packets dropped, %%")
    p.add_argument("--jitter", type=_non_negative, default=0.0, metavar="MS", help="RFC 3550 jitter added, ms")
    p.add_argument("--delay", type=_non_negative, default=0.0, metavar="MS", help="one-way delay added, ms")
    p.add_argument("--ring", type=int, default=0, metavar="MS", help="ring this long before answering")
    p.add_argument("--reject", type=_code, default=None, metavar="CODE", help="answer INVITE with CODE")
    p.add_argument("--user", default="demo", help="REGISTER user (default demo)")
    p.add_argument("--password", default="demo", help="REGISTER password (default demo)")
    p.add_argument("--seed", type=int, default=1, help="seed of the loss and jitter patterns")
    audio = p.add_mutually_exclusive_group()
    audio.add_argument("--mute", action="store_true", help="answer, but send RTP carrying silence (one-way audio)")
    audio.add_argument("--no-rtp", action="store_true", help="answer, but send no RTP at all")
    audio.add_argument("--prompt", metavar="FILE", help="play this WAV file (once, from answer) instead of echoing")
    return p


async def _run(args: argparse.Namespace) -> int:
    target = DemoTarget(
        args.host,
        args.port,
        loss_pct=args.loss,
        jitter_ms=args.jitter,
        delay_ms=args.delay,
        ring_ms=args.ring,
        reject_code=args.reject,
        user=args.user,
        password=args.password,
        seed=args.seed,
        mute=args.mute,
        no_rtp=args.no_rtp,
        prompt=args.prompt,
    )
    try:
        await target.start()
    except OSError as exc:
        print(f"demo-target: cannot bind udp {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"demo target on sip:{args.user}@{target.host}:{target.port} (udp); Ctrl-C stops", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await target.stop()
    s = target.stats
    print(
        f"calls {s.calls} rejected {s.calls_rejected}; rtp in {s.packets_in} out {s.packets_out} "
        f"dropped {s.packets_dropped}",
        flush=True,
    )
    return 0


def main(argv: list[str]) -> int:
    """Entry point; the main CLI passes the arguments after ``demo-target``."""
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"demo-target: --port must be 0-65535, got {args.port}", file=sys.stderr)
        return 2
    if args.prompt is not None:
        why = usable_reference(args.prompt)
        if why:
            print(f"demo-target: --prompt: {why}: {args.prompt}", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
