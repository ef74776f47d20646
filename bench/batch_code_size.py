"""Batch code size (issue 22): physical lines, docstrings, comments and blanks included, of the
modules only the batch runs (candidates, rules, scoring and types are shared with fast-track and
the validator), and every function longer than 60 lines, docstring included.

    .venv/bin/python bench/batch_code_size.py
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = ["solver", "capacity", "relaxation", "hint", "prices", "search", "explain"]
total, longest = 0, []
for m in BATCH:
    path = ROOT / "matching" / f"{m}.py"
    text = path.read_text()
    n = len(text.splitlines())
    total += n
    print(f"matching/{m}.py: {n}")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            longest.append((node.end_lineno - node.lineno + 1, f"matching/{m}.py:{node.lineno} {node.name}"))
longest.sort(reverse=True)
print("total", total)
print("longest functions:", ", ".join(f"{name} {n}" for n, name in longest[:3]))
print("over 60 lines:", [name for n, name in longest if n > 60] or "none")
