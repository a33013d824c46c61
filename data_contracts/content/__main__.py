"""``python -m data_contracts.content LANG ... [--packs FOLDER]``: every problem in the named packs, or ``ok``.

Also prints each pack's lexicon precision and recall on its test sentences.
"""

import argparse
import os

from core.errors import LanguagePackError
from data_contracts.content.lexicon_quality import load_lexicon_tests, measure, summary_line
from data_contracts.content.pack_rules import check_languages
from simulation.content import load_language

parser = argparse.ArgumentParser(prog="python -m data_contracts.content")
parser.add_argument("languages", nargs="+")
parser.add_argument("--packs", help="an extra pack folder searched first (prepended to BACKFIRE_PACK_PATH)")
args = parser.parse_args()
if args.packs:
    roots = (args.packs, os.environ.get("BACKFIRE_PACK_PATH"))
    os.environ["BACKFIRE_PACK_PATH"] = os.pathsep.join(p for p in roots if p)
problems = check_languages(args.languages)
for language in args.languages:
    try:
        content = load_language(language)
    except LanguagePackError:
        continue
    cases = load_lexicon_tests(content)
    if cases:
        print(summary_line(language, measure(content, cases)))
print("\n".join(problems) or "ok")
raise SystemExit(1 if problems else 0)
