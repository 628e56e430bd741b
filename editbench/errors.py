"""Errors that carry one clear line for the user: what is wrong, where, and the fix."""

from __future__ import annotations


class EditbenchError(Exception):
    """Base class: the message is shown as is, without a traceback."""


class ConfigError(EditbenchError):
    """The run config (or an override) is invalid."""


class SuiteError(EditbenchError):
    """The suite on disk is malformed: a startup error, before any model loads."""


class CaseError(EditbenchError):
    """One case cannot be run (missing or corrupt image...): that case fails, the others go on."""
