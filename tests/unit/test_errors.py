"""Every exception cvid defines derives from cvid.errors.Error, in one of its families."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import cvid
from cvid import errors

FAMILIES = (errors.InputError, errors.VerificationError, errors.StoreError, errors.ConfigError)


def _all_exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(cvid.__path__, "cvid."):
        module = importlib.import_module(info.name)
        found += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseException) and obj.__module__.startswith("cvid")
        ]
    return found


def test_every_exception_derives_from_error() -> None:
    classes = _all_exception_classes()
    assert len(classes) >= 15
    strays = [c.__qualname__ for c in classes if not issubclass(c, errors.Error)]
    assert strays == []


def test_every_concrete_error_is_in_a_family() -> None:
    orphans = [
        c.__qualname__
        for c in _all_exception_classes()
        if c is not errors.Error and c not in FAMILIES and not issubclass(c, FAMILIES)
    ]
    assert orphans == []
