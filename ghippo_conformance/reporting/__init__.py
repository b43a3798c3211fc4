"""The conformance report (`json_report`) and its renderings: `markdown`, `html`, `junit` (properties
of pytest's JUnit XML) and `console` (the verdict block), with what the human ones share in `views`;
`reproduce` (the commands that rerun a failure) and `progress` (where a run is, and its pacing)."""
