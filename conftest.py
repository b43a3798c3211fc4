# The conformance suite's plugin: target, requirement bookkeeping, verdict (ghippo_conformance/plugin.py); its
# options reach pytest earlier, through an entry point (ghippo_conformance/options.py).
pytest_plugins = ["ghippo_conformance.plugin"]
