"""From test reports to a verdict: `outcomes` (one per test and per requirement), `catalogue` (the
requirements), `waivers`, `baseline` and `gate` (the release gate)."""
