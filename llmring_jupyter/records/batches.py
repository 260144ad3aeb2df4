"""The batches a notebook submitted, kept beside its replay cache so they outlive the kernel.

A ``--batch`` run may take a day: the job belongs to the notebook, not to the kernel that
submitted it. Each job is stored with the exact request key (see :func:`.replay.key_of`) of every
row it holds, so running the cell again — after a restart, in a new session — finds the rows'
jobs instead of submitting them twice, and ``%llm batches`` lists them. Nothing here is secret:
ids, statuses, counts and costs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from ..providers.batch.jobs import BatchJob
from .cache_modes import DEFAULT_PATH
from .replay import database

_SCHEMA = (
    "create table if not exists batch_jobs (id text primary key, created_at real not null, job text not null)",
    "create table if not exists batch_rows (key text not null, job text not null, primary key (key, job))",
)


class Jobs:
    """The notebook's batch jobs and which request keys each holds; opened for each use, as the cache is."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else DEFAULT_PATH

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return database(
            self.path,
            _SCHEMA,
            "Cannot open {path} to keep the batch jobs ({exc}); set %config LLMMagics.cache_path to a writable file.",
        )

    def add(self, job: BatchJob, keys: Iterable[str]) -> None:
        with self._db() as db:
            db.execute("insert or replace into batch_jobs values (?, ?, ?)", (job.id, job.created_at, _dumps(job)))
            db.executemany("insert or ignore into batch_rows values (?, ?)", [(k, job.id) for k in keys])

    def update(self, job: BatchJob) -> None:
        with self._db() as db:
            db.execute("update batch_jobs set job = ? where id = ?", (_dumps(job), job.id))

    def holding(self, keys: Iterable[str]) -> dict[str, BatchJob]:
        """The latest job of each request key that has one."""
        wanted = list(keys)
        out: dict[str, BatchJob] = {}
        with self._db() as db:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                rows = db.execute(
                    "select r.key, j.job from batch_rows r join batch_jobs j on j.id = r.job "
                    f"where r.key in ({','.join('?' * len(part))}) order by j.created_at",
                    part,
                ).fetchall()
                out.update({key: BatchJob.from_dict(json.loads(job)) for key, job in rows})
        return out

    def all(self) -> list[BatchJob]:
        with self._db() as db:
            rows = db.execute("select job from batch_jobs order by created_at").fetchall()
        return [BatchJob.from_dict(json.loads(job)) for (job,) in rows]

    def find(self, job_id: str) -> BatchJob | None:
        return next((j for j in self.all() if j.id == job_id), None)


def _dumps(job: BatchJob) -> str:
    return json.dumps(job.to_dict(), separators=(",", ":"))
