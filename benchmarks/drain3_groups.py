"""Run inside the drain3 venv (`benchmarks/drain3_venv.sh`): group a CSV's Content with drain3.

Prints a JSON list of cluster ids, one per line of the file, for `benchmarks/logs.py`.
Uses drain3's defaults (depth 4, similarity 0.4, max children 100), the same settings as
our Drain. With `--masked` it also applies the masks our Drain applies (IPs, hex, UUIDs,
numbers with units), so the comparison is of the algorithms, not of the preprocessing.
"""

import csv
import json
import sys
from pathlib import Path

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

MASKS = (
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b",
    r"\b0x[0-9a-fA-F]+\b",
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    r"(?<![A-Za-z0-9])[-+]?\d+(?:\.\d+)?(?:ms|s|MB|KB|GB|B|%)?(?![A-Za-z0-9])",
)
config = TemplateMinerConfig()
config.profiling_enabled = False
if "--masked" in sys.argv:
    config.masking_instructions = [MaskingInstruction(p, "*") for p in MASKS]
    sys.argv.remove("--masked")
miner = TemplateMiner(config=config)
with Path(sys.argv[1]).open(newline="", encoding="utf-8") as handle:
    column = sys.argv[2] if len(sys.argv) > 2 else "Content"
    ids = [miner.add_log_message(row[column])["cluster_id"] for row in csv.DictReader(handle)]
print(json.dumps(ids))
