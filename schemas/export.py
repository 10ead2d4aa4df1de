"""Write the published JSON Schema files from the pydantic models (the one source of truth).

    python -m schemas.export          # rewrite schemas/*.v1.json (reports, dead letters, and
                                      # the published documents of schemas/documents.py)
    python -m schemas.export --check  # exit 1 when a file is out of date

The report schema's `category` enum is filled from config/taxonomy.toml, so agencies can
validate their codes locally; change the taxonomy, re-export, and the test will remind you.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from config.policy import load_taxonomy
from schemas.dead_letter import DeadLetter
from schemas.documents import DOCUMENTS, VERSION
from schemas.report import Report

SCHEMAS_DIR = Path(__file__).resolve().parent
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    schema_dialect = DIALECT

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        out = super().generate(schema, mode=mode)
        return {"$schema": DIALECT, **out}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=_Generator, mode="validation")


def report_schema() -> dict[str, Any]:
    schema = _schema(Report)
    schema["properties"]["category"]["enum"] = sorted(load_taxonomy().categories)
    return schema


def dead_letter_schema() -> dict[str, Any]:
    return _schema(DeadLetter)


def document_schema(stem: str) -> dict[str, Any]:
    """The schema of a published document (`schemas.documents.DOCUMENTS`)."""
    return _schema(DOCUMENTS[stem])


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[Path, str]:
    """File path → the exact text it should hold."""
    out = {
        SCHEMAS_DIR / "report.v1.json": _text(report_schema()),
        SCHEMAS_DIR / "dead_letter.v1.json": _text(dead_letter_schema()),
    }
    for stem in DOCUMENTS:
        out[SCHEMAS_DIR / f"{stem}.v{VERSION}.json"] = _text(document_schema(stem))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.export")
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    stale = [
        path for path, text in rendered().items() if not path.exists() or path.read_text("utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"out of date: {path} (run python -m schemas.export)")
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
