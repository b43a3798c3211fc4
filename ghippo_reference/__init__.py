"""The embedded reference deployment: a faithful Ghippo access-key API on loopback.

`reference.server.start(Behaviour(...))` runs it; every deviation a variant needs is a field
of `reference.behaviour.Behaviour`, whose defaults conform.
"""
