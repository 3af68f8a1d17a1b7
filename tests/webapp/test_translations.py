"""Every user-facing string has a Spanish translation, and the pages render in both languages."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("src/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_a_spanish_translation() -> None:
    with (ROOT / "web/translations/es/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="es")
    translated = {m.id: m.string for m in catalog if m.id}
    messages = extracted()
    assert len(messages) > 50
    missing = sorted(m for m in messages if not translated.get(m))
    assert not missing, f"untranslated (run `make translations` and translate): {missing[:10]}"
