"""The project's DVC remote: point DVC at one, push results to it, pull them back, one line on failure.

    python -m tools.remote use URL [--name team] [--endpoint URL]   (make remote URL=s3://bucket/path)
    python -m tools.remote push [DVC ARGS...]                      (make push ARGS=...)
    python -m tools.remote pull [DVC ARGS...]                      (make pull ARGS=...)
    python -m tools.remote repair [-r REMOTE] [-j N]               (make remote-repair)

`push` runs the real `dvc push` (argument lists, never a shell), then sends the
run records of every stage run in the local cache whose outputs it can send too,
outputs first (tools/remote_store.py): any clone's `dvc repro --pull` then restores a
run made elsewhere (same code, params and data) instead of repeating it. `pull`
first removes the partial files a killed pull leaves in the outputs (DVC's
`.<random>.tmp`, which would stop every later pull), then runs `dvc pull`. Both
pass any DVC option through (`-j 4`, `-r NAME`, targets, `--force`). `repair` reads
back everything the workspace and the run records name and fixes what is damaged
or missing (`dvc status -c` trusts any copy the remote has).

DVC answers a dead server, rejected credentials or a missing bucket with a Python
exception text and a support link, and a damaged copy on the remote with "Is your
cache up to date?"; here each becomes one line saying what is wrong and the
command that fixes it (DVC's full output stays in .dvc/tmp/remote-<action>.log).
`use` also switches on the remote's `verify` option: every pulled file is hashed,
and a corrupted copy on the remote is refused instead of landing in the workspace.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dvc.config import Config

from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.errors import ProjectError
from tools import remote_store

DEFAULT_NAME = "team"
LOCAL_SERVER_REMOTE = "local-s3"  # tools/s3_server.py's remote
LOCAL_SERVER_DIR = Path(".s3-local")
LOG_DIR = Path(".dvc/tmp")
S3_CLIENT_TIMEOUT_S = 2.0

# botocore's "An error occurred (Code) when calling the X operation"
S3_ERROR_CODE = re.compile(r"An error occurred \((\w+)\)")
# A HEAD request's answer has no body, hence no code: botocore says "(403)" then.
CREDENTIAL_CODES = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken",
    "InvalidClientTokenId", "AuthorizationHeaderMalformed", "403",
}
MISSING_BUCKET_CODES = {"NoSuchBucket"}
UNREACHABLE = (
    "Could not connect to the endpoint URL", "Connect timeout on endpoint URL",
    "Read timeout on endpoint URL", "Cannot connect to host",
    "Connection was closed before we received a valid response",
)
NO_CREDENTIALS = ("Unable to locate credentials", "NoCredentialsError")
MISSING_PLUGIN = "requires these missing dependencies"
UNSAVED = "Can't remove the following unsaved files without confirmation"
# A pull that reached the remote but did not restore everything.
INCOMPLETE = ("Checkout failed for following targets", "failed to download")
# dvc --verbose lines: "2026-11-27 21:26:29,693 DEBUG: ..." (the timestamp only in verbose mode)
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<level>[A-Z]+): ")
CORRUPTED = re.compile(r"corrupted cache file '(?P<path>[^']+)'")
NOT_ON_REMOTE = re.compile(r"failed to transfer '([0-9a-f]{32}(?:\.dir)?)'.*(?:NoSuchKey|does not exist)")
# DVC's "Missing cache files:" list: `name: data/raw, md5: <hash>` or `md5: <hash>.dir`
NEVER_PUSHED = re.compile(r"^(?:name: .*, )?md5: ([0-9a-f]{32}(?:\.dir)?)$", re.MULTILINE)
# The temporary name DVC copies a file under before renaming it into place (dvc_objects' tmp_fname).
PARTIAL = re.compile(r"\.[A-Za-z0-9_-]{22}\.tmp$")
ERROR_LINES = 4  # continuation lines of DVC's error kept in the one line (file lists are cut)


class RemoteError(ProjectError):
    """A remote that cannot be configured or used; the message says how to fix it."""


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    endpoint: str | None = None

    @property
    def where(self) -> str:
        """How a message names the remote: `'local-s3' (s3://b/p at http://127.0.0.1:8333)`."""
        at = f" at {self.endpoint}" if self.endpoint else ""
        return f"'{self.name}' ({self.url}{at})"

    @property
    def bucket(self) -> str:
        return self.url.split("://", 1)[-1].split("/", 1)[0]


def _config(root: Path) -> Config:
    dvc_dir = Path(root) / ".dvc"
    if not dvc_dir.is_dir():
        raise RemoteError(f"{Path(root).resolve()} is not a DVC project; run this from the project root")
    return Config(str(dvc_dir))


def configure(
    root: Path, name: str, url: str, *, endpoint: str | None = None,
    access_key: str | None = None, secret_key: str | None = None,
) -> Remote:
    """Make `name` the default remote: URL, endpoint and `verify` in .dvc/config, keys in .dvc/config.local.

    Written through DVC's own config API, so the files are exactly what
    `dvc remote add -d -f` and `dvc remote modify [--local]` would write.
    """
    config = _config(root)
    shared: dict[str, Any] = {"url": url, "verify": True}
    if endpoint:
        shared["endpointurl"] = endpoint
    with config.edit("repo") as conf:
        conf["remote"][name] = shared
        conf["core"]["remote"] = name
    if access_key and secret_key:
        set_keys(root, name, access_key, secret_key)
    return Remote(name, url, endpoint)


def set_keys(root: Path, name: str, access_key: str, secret_key: str) -> None:
    """The remote's keys in the git-ignored .dvc/config.local (`dvc remote modify --local`)."""
    with _config(root).edit("local") as conf:
        conf["remote"].setdefault(name, {}).update(access_key_id=access_key, secret_access_key=secret_key)


def default_remote(root: Path, name: str | None = None) -> Remote:
    """The remote `dvc push` would use (or `name`), or a one-line error saying how to set one up."""
    config = _config(root)
    name = name or config["core"].get("remote")
    if not name or name not in config["remote"]:
        if name:
            raise RemoteError(f"no DVC remote named '{name}'; `dvc remote list` shows them")
        raise RemoteError(
            "no default DVC remote is configured; start a local one with `make s3-local`, or use a "
            "bucket with `make remote URL=s3://BUCKET/PATH`"
        )
    section = config["remote"][name]
    return Remote(name, section["url"], section.get("endpointurl"))


def explain(action: str, output: str, remote: Remote, lost: Sequence[tuple[str, str]] = ()) -> str:
    """One line for a failed push, pull or repair: what went wrong and the command that fixes it.

    `lost`: (path, md5) of the outputs a failed pull did not restore (see `unrestored_outputs`).
    """
    codes = set(S3_ERROR_CODE.findall(output))
    if MISSING_PLUGIN in output:
        return (f"DVC cannot use remote {remote.where} without its plugin; install it with "
                "`.venv/bin/pip install -e '.[s3]'` (dvc-s3)")
    if any(marker in output for marker in UNREACHABLE):
        return unreachable(action, remote)
    if codes & CREDENTIAL_CODES or any(marker in output for marker in NO_CREDENTIALS):
        named = sorted(codes & CREDENTIAL_CODES)
        why = ", ".join("HTTP 403 Forbidden" if code == "403" else code for code in named) or "none found"
        if remote.name == LOCAL_SERVER_REMOTE:
            fix = ("take the keys of the local server with `make s3-local-join` (they are in the "
                   ".s3-local/credentials.json of the clone that started it)")
        else:
            fix = (f"set the right ones with `dvc remote modify --local {remote.name} access_key_id KEY` and "
                   f"`dvc remote modify --local {remote.name} secret_access_key SECRET`")
        return f"remote {remote.where} refused the credentials ({why}); {fix}"
    if codes & MISSING_BUCKET_CODES:
        return (f"bucket '{remote.bucket}' of remote {remote.where} does not exist; create it, or point "
                f"the remote at an existing one with `dvc remote modify {remote.name} url s3://BUCKET/PATH`")
    if UNSAVED in output:
        return (f"dvc {action} stopped: {last_error(output)}; these files are not in DVC's cache: keep "
                f"them elsewhere, or let DVC replace them with `make {action} ARGS=--force`")
    damaged = damaged_files(output)
    if any(damaged.values()):
        return _damaged_message(damaged, lost, remote)
    return f"dvc {action} failed: {last_error(output) or 'see the log'}"


def unreachable(action: str, remote: Remote) -> str:
    if remote.name != LOCAL_SERVER_REMOTE:
        fix = "check the network"
    elif (LOCAL_SERVER_DIR / "credentials.json").is_file():
        fix = "start it with `make s3-local`"
    else:
        fix = ("start it in the clone that holds its data (`make s3-local` there; this clone has none, "
               "so `make s3-local` here refuses to start an empty one)")
    return (f"cannot reach remote {remote.where}: the server is down or unreachable; {fix}, or fix "
            f"the address with `dvc remote modify {remote.name} endpointurl URL`; nothing was "
            f"{'sent' if action == 'push' else 'changed'}, run it again once it answers")


def endpoint_answers(endpoint: str, timeout: float = S3_CLIENT_TIMEOUT_S) -> bool:
    """Whether something accepts TCP connections at the endpoint URL's host and port."""
    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def damaged_files(output: str) -> dict[str, set[str]]:
    """md5s DVC refused ("corrupted": its hash check failed, which needs `verify`; only
    `--verbose` output says so) or could not find on the remote ("missing"), from `dvc pull` output."""
    corrupted = {Path(m["path"]).parent.name + Path(m["path"]).name for m in CORRUPTED.finditer(output)}
    missing = set(NOT_ON_REMOTE.findall(output)) | set(NEVER_PUSHED.findall(output))
    return {"corrupted": corrupted, "missing": missing - corrupted}


def _damaged_message(damaged: dict[str, set[str]], lost: Sequence[tuple[str, str]], remote: Remote) -> str:
    def key(md5: str) -> str:
        return f"{remote.url.rstrip('/')}/files/md5/{md5[:2]}/{md5[2:]}"

    parts = []
    if damaged["corrupted"]:
        parts.append(f"{len(damaged['corrupted'])} file(s) on the remote do not match their hash and were "
                     f"refused ({', '.join(key(h) for h in sorted(damaged['corrupted']))})")
    if damaged["missing"]:
        parts.append(f"{len(damaged['missing'])} file(s) are not on the remote "
                     f"({', '.join(key(h) for h in sorted(damaged['missing']))})")
    where = ", ".join(path for path, _ in lost) or "some outputs"
    return (f"pull from remote {remote.where} incomplete, nothing damaged was written and {where} "
            f"not restored: {'; '.join(parts)}; to repair, run `make remote-repair` in a clone that has "
            "the files (it replaces damaged and missing copies), then pull again")


def last_error(output: str) -> str:
    """DVC's last ERROR message with the lines it continues on (a file list, cut), on one line."""
    lines = visible(output).splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("ERROR: ")]
    if not starts:
        return ""
    message = [lines[starts[-1]].removeprefix("ERROR: ")]
    more = []
    for line in lines[starts[-1] + 1:]:
        if not line.strip() or re.match(r"^(<https?://|Having any troubles|[A-Z]+: )", line):
            break
        more.append(line.strip())
    message += more[:ERROR_LINES]
    if len(more) > ERROR_LINES:
        message.append(f"… ({len(more) - ERROR_LINES} more)")
    return " ".join(" ".join(message).split())


def visible(output: str) -> str:
    """What DVC prints without --verbose: DEBUG/TRACE lines dropped, timestamps taken off."""
    lines = []
    for line in output.splitlines():
        match = LOG_PREFIX.match(line)
        if match is None:
            lines.append(line)
        elif match["level"] not in ("DEBUG", "TRACE"):
            lines.append(f"{match['level']}: {line[match.end():]}")
    return "\n".join(lines)


# --- the commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DvcOptions:
    """What the wrapper itself needs from the DVC options it passes on."""

    remote: str | None = None
    jobs: int | None = None
    run_cache: bool = True

    @classmethod
    def parse(cls, args: list[str]) -> DvcOptions:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("-r", "--remote")
        parser.add_argument("-j", "--jobs", type=int)
        parser.add_argument("--no-run-cache", dest="run_cache", action="store_false")
        known, _ = parser.parse_known_args(args)
        return cls(known.remote, known.jobs, known.run_cache)


def push(root: Path, extra: list[str]) -> int:
    """`dvc push` (plus `extra`), then the run records whose outputs can go too; one `error:` line
    on failure."""
    options = DvcOptions.parse(extra)
    remote = _announce("push", root, options)
    # DVC's own `--run-cache` would upload every record, outputs or not: the records go below instead.
    dvc_args = [arg for arg in extra if arg != "--run-cache"]
    code, output = _dvc([sys.executable, "-m", "dvc", "push", *dvc_args], root)
    if code != 0:
        return _fail("push", root, output, remote)
    _show(output)
    if options.run_cache:
        try:
            outcome = _with_store(root, options, remote_store.push_runs)
        except Exception:
            return _fail("push", root, output + "\n" + traceback.format_exc(), remote)
        print(_runs_line(outcome))
    _keep_log(root, "push", output)
    return 0


def _runs_line(outcome: remote_store.Outcome) -> str:
    line = (f"run records: {outcome.records_pushed} pushed"
            + (f" with {outcome.objects_pushed} more output file(s)" if outcome.objects_pushed else ""))
    if outcome.records_removed:
        line += f", {outcome.records_removed} taken off the remote (their outputs are not there)"
    if outcome.records_kept_back:
        line += (f", {len(outcome.records_kept_back)} kept back (their outputs are no longer in this "
                 "clone's cache)")
    return line


def pull(root: Path, extra: list[str]) -> int:
    """Remove what a killed pull left, then `dvc pull` (plus `extra`); one `error:` line on failure."""
    options = DvcOptions.parse(extra)
    remote = _announce("pull", root, options)
    removed = remove_partial_files(root)
    if removed:
        print(f"removed {len(removed)} partial file(s) an interrupted pull left: "
              f"{', '.join(str(path) for path in removed)}")
    cmd = [sys.executable, "-m", "dvc", "pull", *extra]
    code, output = _dvc(cmd, root)
    if code == 0:
        _show(output)
        _keep_log(root, "pull", output)
        return 0
    lost: list[tuple[str, str]] = []
    if any(marker in output for marker in INCOMPLETE):
        # Only --verbose names the copies DVC refused: pull again (what did arrive is cached) to see.
        output += "\n" + _dvc([*cmd, "--verbose"], root)[1]
        if any(damaged_files(output).values()):
            lost = unrestored_outputs(root)
    return _fail("pull", root, output, remote, lost)


def repair(root: Path, extra: list[str]) -> int:
    """Check every object the workspace and the run records name on the remote; fix what can be fixed."""
    options = DvcOptions.parse(extra)
    remote = _announce("repair", root, options)
    try:
        outcome = _with_store(root, options, remote_store.repair)
    except Exception:
        return _fail("repair", root, traceback.format_exc(), remote)
    line = (f"remote {remote.where}: {outcome.checked} file(s) read back and hashed, "
            f"{len(outcome.damaged)} damaged and deleted, {len(outcome.replaced)} sent again from this "
            f"clone's cache; {_runs_line(outcome)}")
    print(line)
    if not outcome.lost:
        return 0
    names = ", ".join(outcome.lost[:ERROR_LINES]) + (" …" if len(outcome.lost) > ERROR_LINES else "")
    listings = (f"; took off {len(outcome.listings_removed)} folder listing(s) naming them, so a push sends "
                "them again" if outcome.listings_removed else "")
    print(f"error: {len(outcome.lost)} file(s) are missing from remote {remote.where} and from this "
          f"clone's cache ({names}){listings}; run `make push` (or `make remote-repair`) in a clone that has "
          "them, or re-run the stages that make them (`dvc repro`) and push", file=sys.stderr)
    return 2


def _with_store(root: Path, options: DvcOptions,
                work: Callable[[remote_store.Store], remote_store.Outcome]) -> remote_store.Outcome:
    from dvc.repo import Repo

    with remote_store.quiet_dvc(), Repo(str(root)) as repo:
        return work(remote_store.Store(repo, options.remote, options.jobs))


def _announce(action: str, root: Path, options: DvcOptions) -> Remote:
    remote = default_remote(root, options.remote)
    print(f"{action}ing {'to ' if action == 'push' else 'from ' if action == 'pull' else ''}remote "
          f"{remote.where}", flush=True)
    if remote.endpoint and not endpoint_answers(remote.endpoint):
        # DVC would retry for about 15 s before saying the same.
        raise RemoteError(unreachable(action, remote))
    return remote


def _fail(action: str, root: Path, output: str, remote: Remote,
          lost: Sequence[tuple[str, str]] = ()) -> int:
    log = _keep_log(root, action, output)
    print(f"error: {explain(action, output, remote, lost)} (DVC's output: {log})", file=sys.stderr)
    return 2


def _show(output: str) -> None:
    print("\n".join(line for line in output.splitlines() if line.strip()))


def _dvc(cmd: list[str], root: Path) -> tuple[int, str]:
    proc = subprocess.run(cmd, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def _keep_log(root: Path, action: str, output: str) -> Path:
    log = LOG_DIR / f"remote-{action}.log"
    write_text(Path(root) / log, output)
    return log


def remove_partial_files(root: Path) -> list[Path]:
    """Delete the partial copies a killed checkout left in the workspace's outputs; return them.

    DVC copies each file under a temporary name beside it, then renames it. Killed
    between the two, it leaves that file behind, and every later checkout of the output
    stops at it ("Can't remove the following unsaved files"). Only that name pattern,
    only inside outputs DVC tracks: nothing of the user's is touched.
    """
    from dvc.repo import Repo

    removed = []
    with remote_store.quiet_dvc(), Repo(str(root)) as repo:
        places = set()
        for stage in repo.index.stages:
            for out in stage.outs:
                if out.use_cache:
                    path = Path(out.fs_path)
                    places.add((path, True) if path.is_dir() else (path.parent, False))
    for place, deep in sorted(places):
        candidates = place.rglob("*") if deep else place.glob("*")
        for path in sorted(candidates):
            if PARTIAL.search(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path.relative_to(Path(root).resolve()) if path.is_absolute() else path)
    return removed


def unrestored_outputs(root: Path) -> list[tuple[str, str]]:
    """(path, md5) of every output recorded in dvc.lock / .dvc files that the workspace lacks."""
    from dvc.repo import Repo

    lost = []
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            for out in stage.outs:
                if out.use_cache and out.hash_info and out.hash_info.value and out.status():
                    lost.append((str(out), out.hash_info.value))
    return lost


def s3_client(endpoint: str | None, access_key: str, secret_key: str) -> Any:
    """A botocore S3 client that fails fast (short timeouts, no retries), for probes and tests."""
    try:
        import botocore.config
        import botocore.session
    except ImportError:
        raise RemoteError("botocore is missing; install the S3 extra with "
                          "`.venv/bin/pip install -e '.[s3]'`") from None
    config = botocore.config.Config(
        connect_timeout=S3_CLIENT_TIMEOUT_S, read_timeout=S3_CLIENT_TIMEOUT_S, retries={"max_attempts": 1},
    )
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name="us-east-1", config=config,
    )


def bucket_answers(client: Any, bucket: str) -> bool:
    """Whether an authenticated HEAD of `bucket` succeeds (server up, keys accepted, bucket there)."""
    try:
        client.head_bucket(Bucket=bucket)
    except Exception:
        return False
    return True


COMMANDS = {"push": push, "pull": pull, "repair": repair}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.remote", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    use = sub.add_parser("use", help="make URL the default DVC remote (any DVC remote URL)")
    use.add_argument("url", help="s3://my-bucket/mnist-dvc, gs://..., azure://..., ssh://..., /mnt/store")
    use.add_argument("--name", default=DEFAULT_NAME, help=f"remote name (default: {DEFAULT_NAME})")
    use.add_argument("--endpoint", help="S3-compatible endpoint URL (not for AWS S3 itself)")
    sub.add_parser("push", help="dvc push, then the run records whose outputs are on the remote; "
                                "any dvc push option passes through")
    sub.add_parser("pull", help="dvc pull after removing what an interrupted pull left; "
                                "any dvc pull option passes through")
    sub.add_parser("repair", help="read back every file the workspace and the run records name; delete "
                                  "damaged copies, send missing ones (-r REMOTE, -j N)")
    args, extra = parser.parse_known_args(argv)
    if args.action == "use" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    root = Path.cwd()
    try:
        if args.action == "use":
            # A folder is taken relative to where the command runs, not to .dvc/ as DVC's config would.
            url = args.url if urlparse(args.url).scheme else str(Path(args.url).resolve())
            remote = configure(root, args.name, url, endpoint=args.endpoint)
            print(f"DVC remote {remote.where} is now the default, with `verify` on; credentials: "
                  f"`dvc remote modify --local {remote.name} ...` or the provider's usual environment")
            return 0
        return COMMANDS[args.action](root, extra)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
