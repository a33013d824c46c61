"""``python -m data_contracts.content LANG ...`` prints every problem in the named packs, or ``ok``."""

import sys

from data_contracts.content.pack_rules import check_languages

problems = check_languages(sys.argv[1:])
print("\n".join(problems) or "ok")
raise SystemExit(1 if problems else 0)
