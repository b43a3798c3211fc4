"""Conformance suite for the access-key API of DaoCloud Ghippo."""

__version__ = "0.1.0"
