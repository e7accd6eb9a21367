"""What a DVC remote holds for this project, kept so that any clone can restore from it.

DVC restores a stage from its run-cache by the *newest* run record of the stage's code,
params and inputs, and only that one: if that record's outputs are not on the remote, the
stage runs again. Training writes timings into its logs and a date into each `.keras`
file, so every run of the same params is a new record with new output hashes, and
`dvc push --run-cache` uploads every record of the local cache whether or not the outputs
it names were ever pushed (it pushes only the workspace's). Hence one rule here: a record
goes to the remote only after all of its outputs are there, and a record on the remote
whose outputs are not is taken off (it can only make DVC retrain). A `dvc repro --pull`
fetches every record of the remote before choosing, so the record it picks is newer than
any of the clone's own, and it is restorable.

`push_runs` keeps the rule on every `make push` (existence checks, cheap). `repair`
(`make remote-repair`) also reads back every object the workspace and the records name and
checks its hash, since DVC trusts any object the remote has and a folder whose listing it
has (`dvc status -c` says "in sync" over a damaged copy): damaged copies are deleted and
sent again from this clone's cache; what no copy here can replace is reported, and the
folder listings and records that name it are taken off, so the next push of a clone that
has the files sends them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CHUNK = 1 << 20


@dataclass(frozen=True)
class Record:
    """One run record: `runs/<key[:2]>/<key>/<value>`, the outputs it names as object ids."""

    key: str
    value: str
    outs: tuple[str, ...]  # md5s, folders as `<md5>.dir`

    @property
    def rel(self) -> tuple[str, ...]:
        return ("runs", self.key[:2], self.key, self.value)


def parse_record(key: str, value: str, text: str) -> Record | None:
    """The record, or None for one this tool does not judge (unreadable, or DVC 2's hash)."""
    try:
        data = yaml.safe_load(text)
        outs = tuple(out["md5"] for out in data.get("outs", []))
        if not all(out.get("hash") == "md5" for out in data.get("outs", [])):
            return None
    except (yaml.YAMLError, AttributeError, KeyError, TypeError):
        return None
    return Record(key, value, outs)


@dataclass
class Outcome:
    """What `push_runs` / `repair` did, for the one line they print."""

    records_pushed: int = 0
    records_removed: int = 0
    records_kept_back: list[str] = field(default_factory=list)  # local records whose outputs are gone
    objects_pushed: int = 0
    checked: int = 0
    damaged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # not on the remote, not here
    listings_removed: list[str] = field(default_factory=list)


@contextlib.contextmanager
def quiet_dvc() -> Iterator[None]:
    """DVC's API logs warnings through Python's last-resort handler (stderr) when no CLI set up logging."""
    log = logging.getLogger("dvc")
    handler = logging.NullHandler()
    log.addHandler(handler)
    propagate, log.propagate = log.propagate, False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


class Store:
    """The local cache and one remote of a repository, by DVC's own object databases."""

    def __init__(self, repo: Any, remote_name: str | None, jobs: int | None = None) -> None:
        from dvc_data.hashfile.db import get_index

        remote = repo.cloud.get_remote(remote_name, "push")
        self.repo, self.jobs = repo, jobs
        self.local = repo.cache.local
        self.remote = remote.odb
        self.fs = remote.fs
        self.root = remote.path  # runs/ lies beside files/md5/, as DVC's own run-cache push puts it
        self.index = get_index(remote.odb)
        self.url = remote.fs.unstrip_protocol(remote.odb.path)

    def key(self, oid: str) -> str:
        """How a line names an object: its full remote URL."""
        return f"{self.url.rstrip('/')}/{oid[:2]}/{oid[2:]}"

    # -- records ---------------------------------------------------------------------------------

    def local_records(self) -> list[Record]:
        runs = Path(self.repo.stage_cache.cache_dir)
        found = []
        for path in sorted(runs.glob("??/*/*")):
            if path.is_file() and not path.name.startswith("."):
                record = parse_record(path.parent.name, path.name, path.read_text(errors="replace"))
                if record is not None:
                    found.append(record)
        return found

    def remote_record_paths(self) -> dict[tuple[str, str], str]:
        runs = self.fs.join(self.root, "runs")
        if not self.fs.exists(runs):
            return {}
        paths = {}
        for path in self.fs.find(runs):
            parts = self.fs.parts(path)
            paths[(parts[-2], parts[-1])] = path
        return paths

    def read_remote_record(self, key: str, value: str, path: str) -> Record | None:
        return parse_record(key, value, self.fs.cat_file(path).decode(errors="replace"))

    def upload_record(self, record: Record) -> None:
        local = Path(self.repo.stage_cache.cache_dir).joinpath(*record.rel[1:])
        self.fs.put_file(str(local), self.fs.join(self.root, *record.rel))

    def remove_record(self, path: str) -> None:
        self.fs.rm_file(path)

    # -- objects ---------------------------------------------------------------------------------

    def expand(self, oids: Iterable[str]) -> tuple[set[str], set[str]]:
        """(every object `oids` stand for: folders with their files; folders whose listing is nowhere)."""
        from dvc_data.hashfile.hash_info import HashInfo
        from dvc_data.hashfile.tree import Tree

        every, unlisted = set(), set()
        for oid in oids:
            every.add(oid)
            if not oid.endswith(".dir"):
                continue
            for odb in (self.local, self.remote):
                with contextlib.suppress(Exception):  # absent or unreadable here: try the other
                    tree = Tree.load(odb, HashInfo("md5", oid))
                    every.update(entry.value for _, _, entry in tree if entry and entry.value)
                    break
            else:
                unlisted.add(oid)
        return every, unlisted

    def on_remote(self, oids: Iterable[str]) -> set[str]:
        oids = list(oids)
        return set(self.remote.oids_exist(oids, jobs=self.jobs)) if oids else set()

    def in_cache(self, oids: Iterable[str]) -> set[str]:
        return {oid for oid in oids if self.local.exists(oid)}

    def send(self, oids: set[str]) -> set[str]:
        """Upload `oids` from the local cache (each folder's files before its listing); the failed ones."""
        from dvc_data.hashfile.hash_info import HashInfo
        from dvc_data.hashfile.transfer import transfer

        if not oids:
            return set()
        result = transfer(self.local, self.remote, [HashInfo("md5", oid) for oid in oids], jobs=self.jobs,
                          cache_odb=self.local, shallow=False)
        return {info.value for info in result.failed}

    def remote_md5(self, oid: str) -> str:
        digest = hashlib.md5()
        with self.fs.open(self.remote.oid_to_path(oid), "rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def local_is_sound(self, oid: str) -> bool:
        """Whether the cached copy hashes to its id (DVC removes it from the cache if not)."""
        try:
            self.local.check(oid)
        except Exception:
            return False
        return True

    def delete(self, oid: str) -> None:
        self.fs.rm_file(self.remote.oid_to_path(oid))
        # DVC's local index of the remote's folders would still vouch for their files.
        self.index.clear()


def push_runs(store: Store) -> Outcome:
    """Send every local record whose outputs are (or can be put) on the remote, outputs first,
    and take off the remote every record whose outputs are neither there nor here."""
    outcome = Outcome()
    local = store.local_records()
    remote_paths = store.remote_record_paths()
    foreign = [store.read_remote_record(key, value, path) for (key, value), path in remote_paths.items()
               if not any(r.key == key and r.value == value for r in local)]
    records = local + [record for record in foreign if record is not None]

    needed = {record: store.expand(record.outs) for record in records}
    every = set().union(*(objects for objects, _ in needed.values()))
    there = store.on_remote(every)
    here = store.in_cache(every - there)
    sendable = {record for record, (objects, unlisted) in needed.items()
                if not unlisted and objects - there <= here}
    failed = store.send(set().union(*(needed[r][0] for r in sendable)) - there)
    outcome.objects_pushed = len(set().union(*(needed[r][0] for r in sendable)) - there - failed)
    if failed:
        store.index.clear()

    for record in records:
        complete = record in sendable and not needed[record][0] & failed
        on_remote = (record.key, record.value) in remote_paths
        if complete and not on_remote:
            store.upload_record(record)
            outcome.records_pushed += 1
        elif not complete and on_remote:
            store.remove_record(remote_paths[(record.key, record.value)])
            outcome.records_removed += 1
        elif not complete:
            outcome.records_kept_back.append(record.value)
    return outcome


def repair(store: Store) -> Outcome:
    """Check every object the workspace and the records name by its hash; replace or take off what is bad."""
    local = store.local_records()
    remote_paths = store.remote_record_paths()
    names = workspace_objects(store.repo)
    for record in local:
        names.update(record.outs)
    for (key, value), path in remote_paths.items():
        record = store.read_remote_record(key, value, path)
        if record is not None:
            names.update(record.outs)

    every, _ = store.expand(names)
    there = store.on_remote(every)
    outcome = Outcome(checked=len(there))
    for oid in sorted(there):
        if store.remote_md5(oid) != oid.removesuffix(".dir"):
            outcome.damaged.append(oid)
            store.delete(oid)
    missing = every - (there - set(outcome.damaged))
    sound = {oid for oid in store.in_cache(missing) if store.local_is_sound(oid)}
    failed = store.send(sound)
    outcome.replaced = sorted(sound - failed)
    outcome.lost = sorted(missing - set(outcome.replaced))

    # A listing on the remote makes `dvc push` skip its folder's files: take off those of folders
    # with a file lost, so that a clone that has the files sends them again.
    if outcome.lost:
        from dvc_data.hashfile.hash_info import HashInfo
        from dvc_data.hashfile.tree import Tree

        lost = set(outcome.lost)
        for oid in sorted(store.on_remote(oid for oid in every if oid.endswith(".dir"))):
            with contextlib.suppress(Exception):
                tree = Tree.load(store.remote, HashInfo("md5", oid))
                if any(entry.value in lost for _, _, entry in tree if entry):
                    store.delete(oid)
                    outcome.listings_removed.append(oid)

    runs = push_runs(store)
    outcome.records_pushed, outcome.records_removed = runs.records_pushed, runs.records_removed
    outcome.records_kept_back = runs.records_kept_back
    outcome.objects_pushed = runs.objects_pushed
    return outcome


def workspace_objects(repo: Any) -> set[str]:
    """The object ids of every cached output the checked-out dvc.lock and .dvc files name."""
    return {out.hash_info.value for stage in repo.index.stages for out in stage.outs
            if out.use_cache and out.hash_info and out.hash_info.value}
