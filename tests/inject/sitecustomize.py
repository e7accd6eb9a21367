"""Test-only fault injection: a process started with this folder on PYTHONPATH stops itself
(SIGSTOP) at a chosen point, so that a test can act on it exactly there (kill it, take a
folder away from it) instead of racing a timer.

    MNIST_TEST_STOP="dvc_objects.fs.local:copyfile"       the function (module:attribute.path)
    MNIST_TEST_STOP_WHEN="after"                          "before" (default) or "after" the call,
                                                          or "midway" through a copy (src, dst, ...):
                                                          half of src written to dst, then the stop
    MNIST_TEST_STOP_WHERE="/tmp/x/data"                   only a call whose arguments mention this

Python imports `sitecustomize` at start-up. The module named is patched when it is first
imported (nothing is imported early), and the process stops once, at the first matching
call. tests/helpers.py `stopped_at` starts such a process and waits until it has stopped.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import signal
import sys

SPEC = os.environ.get("MNIST_TEST_STOP", "")


def _stopping(func, when: str, where: str):
    done = []

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        hit = not done and (not where or any(where in str(arg) for arg in (*args, *kwargs.values())))
        if hit and when == "midway":
            done.append(True)
            with open(args[0], "rb") as source, open(args[1], "wb") as target:
                target.write(source.read(max(1, os.path.getsize(args[0]) // 2)))
            os.kill(os.getpid(), signal.SIGSTOP)
        elif hit and when != "after":
            done.append(True)
            os.kill(os.getpid(), signal.SIGSTOP)
        result = func(*args, **kwargs)
        if hit and when == "after":
            done.append(True)
            os.kill(os.getpid(), signal.SIGSTOP)
        return result

    return wrapper


def _patch(module, attribute_path: str) -> None:
    *owners, name = attribute_path.split(".")
    owner = module
    for part in owners:
        owner = getattr(owner, part)
    when = os.environ.get("MNIST_TEST_STOP_WHEN", "before")
    setattr(owner, name, _stopping(getattr(owner, name), when, os.environ.get("MNIST_TEST_STOP_WHERE", "")))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, attribute_path: str) -> None:
        self.module, self.attribute_path = module, attribute_path

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            _patch(module, self.attribute_path)

        spec.loader.exec_module = exec_module
        return spec


if SPEC:
    _module, _, _attribute = SPEC.partition(":")
    sys.meta_path.insert(0, _PatchOnImport(_module, _attribute))
