"""The embedded reference deployment: a faithful Ghippo access-key API on loopback.

`ghippo_reference.server.start(Behaviour(...))` runs it; every deviation a variant needs is a field
of `ghippo_reference.behaviour.Behaviour`, whose defaults conform. The modules: `behaviour` (every
knob), `app` (the routes and how every body is written), `auth` (the bearer turned into a user),
`leniency` (the knobs that let a request through), `signing` (the RS256 key, issuing and checking
tokens), `published_keys` (the key set certs publishes), `keys` (the user's keys and the AK/SK
exchange), `users` (the seeded users), `errors` (grpc-gateway's error bodies), `state` (what one
running reference holds), `clock_control` (the key that moves its clock for one request), `server`
(uvicorn in a thread) and `__main__` (`python -m ghippo_reference`).
"""
