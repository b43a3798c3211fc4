"""Whose failure it is: the deployment's, or a crash of the suite's own code.

A check judges the deployment by raising AssertionError: checks/expect.py raises it with the evidence,
and schemathesis's response checks raise subclasses of it. The one HTTP helper raises httpx.HTTPError
when the deployment did not answer properly (a timeout, a broken connection, a body over the cap or
one that does not decode as it says). Anything else a test or fixture raises (AttributeError, KeyError,
TypeError …) is a crash of the suite: it judged nothing, and is reported as such, never as the
requirement's failure. The suite asserts only through checks/expect.py, never with a bare `assert`.
"""

from __future__ import annotations

import httpx

_JUDGEMENTS = (AssertionError, httpx.HTTPError)


def of_deployment(error: BaseException) -> bool:
    """Whether `error`, raised by a test or fixture, is a verdict on the deployment. An exception
    group (hypothesis reports several distinct failures as one) is when every exception in it is."""
    if isinstance(error, BaseExceptionGroup):
        return all(of_deployment(inner) for inner in error.exceptions)
    return isinstance(error, _JUDGEMENTS)
