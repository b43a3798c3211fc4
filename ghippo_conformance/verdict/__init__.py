"""From test reports to a verdict: outcomes, the requirement catalogue, waivers, the baseline and the release gate."""
