"""Batch code size (issue 22) of the modules only the batch runs (candidates, rules, scoring and
types are shared with fast-track and the validator): physical lines, docstrings, comments and
blanks included, and code lines alone (neither blank, nor a comment, nor inside a docstring, as
cloc counts them); and every function longer than 60 lines, docstring included.

    .venv/bin/python bench/batch_code_size.py
"""

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = ["solver", "capacity", "relaxation", "hint", "prices", "search", "explain"]


def not_code(text: str) -> set[int]:
    """Line numbers that are blank, comments only, or inside a docstring."""
    lines = {i for i, line in enumerate(text.splitlines(), 1) if not line.strip()}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT and not tok.line[:tok.start[1]].strip():
            lines.add(tok.start[0])
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


total, code, longest = 0, 0, []
for m in BATCH:
    path = ROOT / "matching" / f"{m}.py"
    text = path.read_text()
    n = len(text.splitlines())
    n_code = n - len(not_code(text))
    total, code = total + n, code + n_code
    print(f"matching/{m}.py: {n} lines, {n_code} code lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            longest.append((node.end_lineno - node.lineno + 1, f"matching/{m}.py:{node.lineno} {node.name}"))
longest.sort(reverse=True)
print("total", total, "lines,", code, "code lines")
print("longest functions:", ", ".join(f"{name} {n}" for n, name in longest[:3]))
print("over 60 lines:", [name for n, name in longest if n > 60] or "none")
