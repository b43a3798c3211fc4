"""What a conformance suite may import: assertions with evidence (expect), case tables (cases),
token reading and forging (tokens), the users walk (pages), the run's keys (keys), waiting without
retries (waiting), generated requests (generated), the JSON Schemas (schemas) and where the data
lives (paths). Everything else in the package is the plugin's machinery."""
