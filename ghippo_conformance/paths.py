"""Where the suite's data lives, in a checkout and in an installed package alike."""

from pathlib import Path

# In a checkout the data folders sit beside the package; an installed wheel maps them into it
# (see pyproject.toml), so look inside the package first.
_PACKAGE = Path(__file__).resolve().parent
ROOT = _PACKAGE if (_PACKAGE / "schemas").is_dir() else _PACKAGE.parent

SCHEMAS = ROOT / "schemas"
FIXTURES = ROOT / "fixtures"
PROFILES = FIXTURES / "profiles"
CASES = FIXTURES / "cases"
DOCUMENTATION = FIXTURES / "documentation"
SUITES = ROOT / "suites"
CATALOGUE = SUITES / "requirements.toml"
