"""From test reports to a verdict: `outcomes` (one per test and per requirement), `failures` (whose
failure it is: the deployment's, or a crash of the suite), `selection` (what the operator's options left
out, and why), `catalogue` (the requirements), `waivers`, `baseline` and `gate` (the release gate)."""
