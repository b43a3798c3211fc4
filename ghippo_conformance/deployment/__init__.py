"""The deployment under test: `settings` (every option, read once), `profile` (deployment profiles),
`session` and `preflight` (the target and the session-start check), `http` (the one HTTP helper), `clock`
(the deployment's clock, read from its answers), `keys` (the keys the run creates, and their ledger),
`replay` (a request as a curl line a person can paste, secrets as variable references), `deadline`
(one deadline for a whole exchange), `inert` (deployment text made safe to print), `leaks` (every
answer searched for the secrets the run knows), `redact` and `scrub` (secrets kept out of everything
the run writes), `safety` and `cleanup` (leaving the deployment as the run found it)."""
