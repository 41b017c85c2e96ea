"""Schemathesis hooks for scripts/fuzz-api.sh: how to put the import bodies on the wire.

JSONL goes as text; XLSX as raw bytes (random bytes are a fine test of the XLSX reader: it
must refuse them with a 4xx, never fail).
"""
import schemathesis

schemathesis.serializer.alias(["application/x-ndjson"], "text/plain")
schemathesis.serializer.alias(
    ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
    "application/octet-stream",
)
