# The conformance suite's plugin: options, target, requirement bookkeeping (ghippo_conformance/plugin.py).
pytest_plugins = ["ghippo_conformance.plugin"]
