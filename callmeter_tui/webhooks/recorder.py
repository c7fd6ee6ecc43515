"""Attempt outcomes recorded in batches: one transaction for all the attempts that finished meanwhile.

Why: one transaction per attempt, each from its own worker thread, made the dispatcher's threads queue on
SQLite's single write lock, whose busy handler sleeps in steps of up to 100 ms; that (not HTTP) capped
deliveries per second. All of a dispatcher's database work now runs on one thread (``run_in_db``), and the
attempts that finish while a batch is being written are written together in the next one (group commit).

Nothing changes in what is recorded: each outcome goes through ``ledger.finish`` exactly as before, in order.
When a batch cannot be written, its outcomes are written one by one, so one bad row never costs the others
their records; an outcome that still cannot be written raises to its attempt (whose lease then expires).

A running dispatcher defers the writing (``deferred``): its loop takes what is waiting (``take``) and writes it
in the same database-thread hop and transaction as its next claim (``write_with`` then ``settle``), so a busy
dispatcher pays one hand-over to the database thread and one commit per cycle instead of two; every hand-over
waits for the scheduler on a loaded machine. ``release`` returns to writing on our own (the dispatcher is
stopping).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ..store.database import in_transaction, transaction
from . import ledger
from .ledger import Claimed, Finished
from .sender import SendResult

log = logging.getLogger("callmeter_tui.webhooks")

T = TypeVar("T")
MAX_BATCH = 200


@dataclass(frozen=True)
class Outcome:
    """One finished attempt, as the dispatcher saw it."""

    claimed: Claimed
    at: float  # when the attempt started (the record's time)
    now: float  # when it ended (retry schedule, auto-disable window)
    result: SendResult
    retry_after_s: float | None


class AttemptRecorder:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        owner: str,
        run_in_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.sessions = sessions
        self.owner = owner
        self.run_in_db = run_in_db
        self.max_batch = max(1, max_batch)
        self._pending: list[tuple[Outcome, asyncio.Future[Finished]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.deferred = False  # True: the owner takes and writes the waiting outcomes (take/write/settle)
        self.batches = 0  # transactions written (for tests and figures)

    async def record(self, outcome: Outcome) -> Finished:
        """Write ``outcome`` (with whatever else is waiting) and return how the delivery moved on."""
        future: asyncio.Future[Finished] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if not self.deferred:
            self._start_writer()
        return await future

    def waiting(self) -> tuple[int, bool]:
        """(outcomes waiting to be written, whether any of them is a failure)."""
        return len(self._pending), any(not o.result.ok for o, _ in self._pending)

    def take(self) -> list[tuple[Outcome, asyncio.Future[Finished]]]:
        """The waiting outcomes (at most one batch), for the owner to ``write`` and ``settle``."""
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        return batch

    def release(self) -> None:
        """Write on our own again, starting with whatever is waiting."""
        self.deferred = False
        if self._pending:
            self._start_writer()

    async def drain(self) -> None:
        """Until everything handed to ``record`` so far is written (or has failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="webhooks-recorder")

    async def _write_all(self) -> None:
        while self._pending:
            batch = self.take()
            outcomes = [o for o, _ in batch]
            try:
                results: list[Finished | Exception] = await self.run_in_db(partial(self.write, outcomes))
            except Exception as exc:  # the database thread itself failed: every attempt of the batch learns it
                results = [exc] * len(batch)
            self.settle(batch, results)

    @staticmethod
    def settle(batch: list[tuple[Outcome, asyncio.Future[Finished]]], results: list[Finished | Exception]) -> None:
        """Hand each attempt of ``batch`` its result (``write``'s, in order)."""
        for (_, future), res in zip(batch, results, strict=True):
            if future.done():  # its attempt was cancelled meanwhile
                continue
            if isinstance(res, Exception):
                future.set_exception(res)
            else:
                future.set_result(res)

    def write(self, outcomes: list[Outcome]) -> list[Finished | Exception]:
        """On the database thread: one transaction for all, else one each. Never raises: failures are results."""
        if not outcomes:
            return []
        self.batches += 1
        try:
            with transaction(self.sessions) as s:
                return self._finish_all(s, outcomes)
        except Exception as exc:
            if len(outcomes) == 1:
                return [exc]
            log.warning("recording %d webhook attempts together failed: recording them one by one", len(outcomes))
        out: list[Finished | Exception] = []
        for o in outcomes:
            try:
                with transaction(self.sessions) as s:
                    out.append(self._finish(s, o))
            except Exception as exc:
                out.append(exc)
        return out

    def write_with(
        self, outcomes: list[Outcome], then: Callable[[Session], T]
    ) -> tuple[list[Finished | Exception], T | Exception]:
        """On the database thread: ``write`` and ``then(session)`` (the loop's claim) in one transaction, one commit
        per loop cycle. When that fails, each on its own as before: a claim that fails never costs the outcomes
        their records, nor they it. Never raises: failures are results."""
        try:
            with transaction(self.sessions) as s:
                written = self._finish_all(s, outcomes)
                result = then(s)
            self.batches += 1 if outcomes else 0
            return written, result
        except Exception:
            log.debug("recording and claiming together failed: one after the other", exc_info=True)
        written = self.write(outcomes)
        try:
            return written, in_transaction(self.sessions, then)
        except Exception as exc:
            return written, exc

    def _finish_all(self, s: Session, outcomes: list[Outcome]) -> list[Finished | Exception]:
        """In order; each run of consecutive successes is recorded together (``ledger.finish_succeeded``)."""
        out: list[Finished | Exception] = []
        run: list[ledger.Success] = []
        for o in outcomes:
            r = o.result
            if r.ok and not r.local and r.status is not None:
                run.append(ledger.Success(o.claimed, o.at, o.now, r.status, r.duration_ms))
                continue
            if run:
                out += ledger.finish_succeeded(s, run, owner=self.owner)
                run = []
            out.append(self._finish(s, o))
        if run:
            out += ledger.finish_succeeded(s, run, owner=self.owner)
        return out

    def _finish(self, s: Session, o: Outcome) -> Finished:
        r = o.result
        return ledger.finish(
            s,
            o.claimed,
            owner=self.owner,
            at=o.at,
            now=o.now,
            http_status=r.status,
            error=r.error,
            duration_ms=r.duration_ms,
            success=r.ok,
            retry_after_s=o.retry_after_s,
            local=r.local,
        )
