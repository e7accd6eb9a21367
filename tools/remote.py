"""The project's DVC remote: point DVC at one, push results to it, pull them back, one line on failure.

    python -m tools.remote use URL [--name team] [--endpoint URL]   (make remote URL=s3://bucket/path)
    python -m tools.remote push [DVC ARGS...]                      (make push: dvc push --run-cache)
    python -m tools.remote pull [DVC ARGS...]                      (make pull: dvc pull)

`push` and `pull` run the real `dvc` (argument lists, never a shell); `push`
adds `--run-cache`, so that any clone's `dvc repro --pull` can restore a run
made elsewhere (same code, params and data) instead of repeating it. Plain
`dvc push` / `dvc pull` work as well; the wrappers add what a failure needs:
DVC answers a dead server, rejected credentials or a missing bucket with a
Python exception text and a support link, and a damaged copy on the remote with
"Is your cache up to date?"; here each becomes one line saying what is wrong and
the command that fixes it (DVC's full output stays in .dvc/tmp/remote-<action>.log).
`use` also switches on the remote's `verify` option: every pulled file is
hashed, and a corrupted copy on the remote is refused instead of landing in the
workspace.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dvc.config import Config

from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.errors import ProjectError

DEFAULT_NAME = "team"
# A pushed run-cache lets any clone's `dvc repro --pull` restore a run instead of repeating it;
# `dvc pull` itself restores what dvc.lock names (`--run-cache` would only add the run records).
ACTIONS = {"push": ["push", "--run-cache"], "pull": ["pull"]}
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
# A pull that reached the remote but did not restore everything.
INCOMPLETE = ("Checkout failed for following targets", "failed to download")
# dvc --verbose lines: "2026-11-27 21:26:29,693 DEBUG: ..." (the timestamp only in verbose mode)
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<level>[A-Z]+): ")
CORRUPTED = re.compile(r"corrupted cache file '(?P<path>[^']+)'")
NOT_ON_REMOTE = re.compile(r"failed to transfer '([0-9a-f]{32})'.*(?:NoSuchKey|does not exist)")
NEVER_PUSHED = re.compile(r"^(?:name: .*, )?md5: ([0-9a-f]{32})$", re.MULTILINE)


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


def configure(
    root: Path, name: str, url: str, *, endpoint: str | None = None,
    access_key: str | None = None, secret_key: str | None = None,
) -> Remote:
    """Make `name` the default remote: URL, endpoint and `verify` in .dvc/config, keys in .dvc/config.local.

    Written through DVC's own config API, so the files are exactly what
    `dvc remote add -d -f` and `dvc remote modify [--local]` would write.
    """
    dvc_dir = Path(root) / ".dvc"
    if not dvc_dir.is_dir():
        raise RemoteError(f"{Path(root).resolve()} is not a DVC project; run this from the project root")
    config = Config(str(dvc_dir))
    shared: dict[str, Any] = {"url": url, "verify": True}
    if endpoint:
        shared["endpointurl"] = endpoint
    with config.edit("repo") as conf:
        conf["remote"][name] = shared
        conf["core"]["remote"] = name
    if access_key and secret_key:
        with config.edit("local") as conf:
            conf["remote"].setdefault(name, {}).update(access_key_id=access_key, secret_access_key=secret_key)
    return Remote(name, url, endpoint)


def default_remote(root: Path) -> Remote:
    """The remote `dvc push` would use, or a one-line error saying how to set one up."""
    dvc_dir = Path(root) / ".dvc"
    if not dvc_dir.is_dir():
        raise RemoteError(f"{Path(root).resolve()} is not a DVC project; run this from the project root")
    config = Config(str(dvc_dir))
    name = config["core"].get("remote")
    if not name or name not in config["remote"]:
        raise RemoteError(
            "no default DVC remote is configured; start a local one with `make s3-local`, or use a "
            "bucket with `make remote URL=s3://BUCKET/PATH`"
        )
    section = config["remote"][name]
    return Remote(name, section["url"], section.get("endpointurl"))


def explain(action: str, output: str, remote: Remote, lost: Sequence[tuple[str, str]] = ()) -> str:
    """One line for a failed `dvc push` / `dvc pull`: what went wrong and the command that fixes it.

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
        return (f"remote {remote.where} refused the credentials ({why}); set the right ones with "
                f"`dvc remote modify --local {remote.name} access_key_id KEY` and "
                f"`dvc remote modify --local {remote.name} secret_access_key SECRET`")
    if codes & MISSING_BUCKET_CODES:
        return (f"bucket '{remote.bucket}' of remote {remote.where} does not exist; create it, or point "
                f"the remote at an existing one with `dvc remote modify {remote.name} url s3://BUCKET/PATH`")
    damaged = damaged_files(output)
    if any(damaged.values()):
        return _damaged_message(damaged, lost, remote)
    return f"dvc {action} failed: {last_error(output) or 'see the log'}"


def unreachable(action: str, remote: Remote) -> str:
    fix = "start it with `make s3-local`" if remote.name == "local-s3" else "check the network"
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
    # A push skips every file of a folder whose listing (.dir) the remote has, and every file the
    # remote has, good or not: the bad copies and the listings of the folders not restored must go.
    stale = [key(h) for h in sorted(damaged["corrupted"])] + [key(h) for _, h in lost if h.endswith(".dir")]
    repair = f"delete {', '.join(stale)} from the remote, then " if stale else ""
    where = ", ".join(path for path, _ in lost) or "some outputs"
    return (f"pull from remote {remote.where} incomplete, nothing damaged was written and {where} "
            f"not restored: {'; '.join(parts)}; to repair, {repair}push from a machine that has the files "
            "(`make push`)")


def last_error(output: str) -> str:
    """DVC's last ERROR message, on one line, without the support link."""
    errors = [line for line in visible(output).splitlines() if line.startswith("ERROR: ")]
    if not errors:
        return ""
    return " ".join(errors[-1].removeprefix("ERROR: ").split())


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


def run(action: str, extra: list[str], root: Path) -> int:
    """`dvc push --run-cache` or `dvc pull` (plus `extra`) in `root`; on failure one `error:` line, exit 2."""
    remote = default_remote(root)
    print(f"{action}ing {'to' if action == 'push' else 'from'} remote {remote.where}", flush=True)
    if remote.endpoint and not endpoint_answers(remote.endpoint):
        # DVC would retry for about 15 s before saying the same.
        print(f"error: {unreachable(action, remote)}", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "dvc", *ACTIONS[action], *extra]
    code, output = _dvc(cmd, root)
    if code == 0:
        print("\n".join(line for line in output.splitlines() if line.strip()))
        _keep_log(root, action, output)
        return 0
    lost: list[tuple[str, str]] = []
    if action == "pull" and any(marker in output for marker in INCOMPLETE):
        # Only --verbose names the copies DVC refused: pull again (what did arrive is cached) to see.
        output += "\n" + _dvc([*cmd, "--verbose"], root)[1]
        if any(damaged_files(output).values()):
            lost = unrestored_outputs(root)
    log = _keep_log(root, action, output)
    print(f"error: {explain(action, output, remote, lost)} (DVC's output: {log})", file=sys.stderr)
    return 2


def _dvc(cmd: list[str], root: Path) -> tuple[int, str]:
    proc = subprocess.run(cmd, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def _keep_log(root: Path, action: str, output: str) -> Path:
    log = LOG_DIR / f"remote-{action}.log"
    write_text(Path(root) / log, output)
    return log


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.remote", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    use = sub.add_parser("use", help="make URL the default DVC remote (any DVC remote URL)")
    use.add_argument("url", help="s3://my-bucket/mnist-dvc, gs://..., azure://..., ssh://..., /mnt/store")
    use.add_argument("--name", default=DEFAULT_NAME, help=f"remote name (default: {DEFAULT_NAME})")
    use.add_argument("--endpoint", help="S3-compatible endpoint URL (not for AWS S3 itself)")
    for action in ACTIONS:
        cmd = sub.add_parser(action, help=f"dvc {' '.join(ACTIONS[action][:2])}, one line on failure")
        cmd.add_argument("dvc_args", nargs=argparse.REMAINDER, help="more arguments for dvc (targets, -j N)")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if args.action == "use":
            # A folder is taken relative to where the command runs, not to .dvc/ as DVC's config would.
            url = args.url if urlparse(args.url).scheme else str(Path(args.url).resolve())
            remote = configure(root, args.name, url, endpoint=args.endpoint)
            print(f"DVC remote {remote.where} is now the default, with `verify` on; credentials: "
                  f"`dvc remote modify --local {remote.name} ...` or the provider's usual environment")
            return 0
        return run(args.action, args.dvc_args, root)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
