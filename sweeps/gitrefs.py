"""What git says about a sweep: its baseline commit, the git remote, and the experiments already there.

An experiment DVC keeps is a git ref, `refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`,
and `dvc exp push` sends that ref to the git remote. A point's name is a digest of its
params (sweeps/grid.py), so "this point is already pushed" is one `git ls-remote`.
Every git call is an argument list with a timeout; a remote that does not answer is
one line (RemoteUnreachable).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from mnist_dvc.core.errors import ProjectError

GIT_TIMEOUT_S = 60


class GitError(ProjectError):
    """git refused or failed: one line."""


class RemoteUnreachable(GitError):
    """The git remote does not answer: one line saying which and how to fix it."""


def git(args: list[str], cwd: Path | None = None, timeout: float = GIT_TIMEOUT_S) -> str:
    """`git ARGS` in `cwd`; its stdout, or GitError with git's last line."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # never wait for a password that nobody types
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took over {timeout:g} s") from None
    if proc.returncode != 0:
        said = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        # git's first `fatal:`/`error:` line says what went wrong; the lines after it, what to check
        worst = [line for line in said if line.startswith(("fatal:", "error:"))] or said[-1:]
        raise GitError(f"git {args[0]} failed: {worst[0] if worst else f'exit status {proc.returncode}'}")
    return proc.stdout


def head_commit(root: Path) -> str:
    return git(["rev-parse", "--verify", "HEAD^{commit}"], root).strip()


def remote_url(root: Path, remote: str) -> str:
    """The URL the nodes clone from: a local path made absolute (a node cannot resolve it otherwise)."""
    try:
        url = git(["remote", "get-url", remote], root).strip()
    except GitError:
        raise GitError(f"this repository has no git remote '{remote}'; add the shared one with "
                       f"`git remote add {remote} URL` (every node must be able to clone it)") from None
    if not urlparse(url).scheme and ":" not in url.split("/")[0]:
        url = str((Path(root) / url).resolve())
    return url


def exp_ref_prefix(baseline: str) -> str:
    return f"refs/exps/{baseline[:2]}/{baseline[2:]}/"


def pushed_names(url: str, baseline: str, timeout: float = GIT_TIMEOUT_S) -> set[str]:
    """Names of the experiments of `baseline` that the git remote at `url` holds."""
    prefix = exp_ref_prefix(baseline)
    try:
        out = git(["ls-remote", url, f"{prefix}*"], timeout=timeout)
    except GitError as exc:
        raise RemoteUnreachable(f"cannot reach the git remote {url}: {str(exc).removeprefix('git ')}; "
                                "check the URL and your access to it, then run the sweep again "
                                "(nothing was started)") from None
    return {ref.removeprefix(prefix) for _, _, ref in (line.partition("\t") for line in out.splitlines())
            if ref.startswith(prefix)}


def local_names(root: Path, baseline: str) -> set[str]:
    """Names of the experiments of `baseline` in the repository at `root`."""
    prefix = exp_ref_prefix(baseline)
    out = git(["for-each-ref", "--format=%(refname)", prefix], root)
    return {ref.removeprefix(prefix) for ref in out.split()}


def on_remote(root: Path, remote: str, commit: str) -> bool:
    """Whether a branch or tag of `remote` contains `commit` (fetched first, so it is current)."""
    try:
        git(["fetch", "--quiet", remote], root)
    except GitError as exc:
        raise RemoteUnreachable(f"cannot reach git remote '{remote}': {str(exc).removeprefix('git ')}; "
                                "check its URL (`git remote -v`) and your access, then run the sweep "
                                "again (nothing was started)") from None
    out = git(["for-each-ref", "--contains", commit, "--format=%(refname)", f"refs/remotes/{remote}/"], root)
    return bool(out.strip())


def changed_files(root: Path) -> list[str]:
    """Tracked files that differ from HEAD: what a sweep run from a commit would not see."""
    out = git(["status", "--porcelain", "--untracked-files=no"], root)
    return [line[3:] for line in out.splitlines() if line.strip()]
