"""Toy family ``arithmetic``."""

from __future__ import annotations

import ast
import random
import re
from typing import Callable

from ._common import _template, _unique

_ARITH_TEMPLATES: tuple[Callable[[str], tuple[str, str]], ...] = (
    lambda e: (f"Work out the value of {e} step by step.", ""),
    lambda e: ("Evaluate the following arithmetic expression.", e),
    lambda e: (f"What is {e}? Show each step.", ""),
    lambda e: ("Calculate the result of this expression one operation at a time.", e),
    lambda e: (f"Please simplify {e} and give the final number.", ""),
    lambda e: ("Solve the arithmetic problem below.", f"{e} = ?"),
)
_ARITH_LABEL = {"+": "addition", "-": "subtraction", "*": "multiplication"}
# The flipped task (a distractor of the multiple-choice benchmark): every
# "+" read as "-" and every "-" as "+".
_FLIP_OP = {"+": "-", "-": "+", "*": "*"}


def _apply(cur: int, op: str, b: int, commuted: bool) -> int:
    """`cur op b` (or `b op cur` when commuted)."""
    left, right = (b, cur) if commuted else (cur, b)
    return left + right if op == "+" else left - right if op == "-" else left * right


def _gen_arithmetic(rng: random.Random, depth: int, template: int | None = None, flip: bool = False) -> tuple[str, str, list[str], list[str], str]:
    cur = rng.randint(2, 20)
    fcur = cur
    expr = str(cur)
    steps: list[str] = []
    ops: list[str] = []
    skills: list[str] = []
    for _ in range(depth):
        choices = ["+", "-"] + (["*"] if cur <= 40 else [])
        if cur < 2:
            choices.remove("-")
        op = rng.choice(choices)
        inner = f"({expr})" if " " in expr else expr
        if op == "+":
            b = rng.randint(1, 20)
            new = cur + b
        elif op == "-":
            b = rng.randint(1, cur - 1)
            new = cur - b
        else:
            b = rng.randint(2, 9)
            new = cur * b
        commuted = op != "-" and rng.randrange(3) == 0
        expr = f"{b} {op} {inner}" if commuted else f"{inner} {op} {b}"
        if flip:
            fop = _FLIP_OP[op]
            fnew = _apply(fcur, fop, b, commuted)
            steps.append(f"{b} {fop} {fcur} = {fnew}" if commuted else f"{fcur} {fop} {b} = {fnew}")
            fcur = fnew
        else:
            steps.append(f"{b} {op} {cur} = {new}" if commuted else f"{cur} {op} {b} = {new}")
        ops.append(op)
        if (op == "+" and cur % 10 + b % 10 >= 10) or (op == "-" and cur % 10 < b % 10):
            skills.append("carry_or_borrow")
        if op == "*" and cur >= 10:
            skills.append("multi_digit_multiplication")
        cur = new
    instruction, input_ = _template(rng, _ARITH_TEMPLATES, template)(expr)
    labels = _unique([_ARITH_LABEL[o] for o in ops] + skills + (["nested_expression"] if depth > 1 else []))
    return instruction, input_, steps, labels, str(fcur if flip else cur)


_EXPR_RE = re.compile(r"[\d(][\d()+*\- ]*[\d)]")


def _eval_int_expr(node: ast.AST) -> int:
    if isinstance(node, ast.Expression):
        return _eval_int_expr(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _eval_int_expr(node.left), _eval_int_expr(node.right)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
    raise ValueError(f"unsupported arithmetic element: {ast.dump(node)}")


def _solve_arithmetic(text: str) -> str:
    cands = [m.group(0) for m in _EXPR_RE.finditer(text) if re.search(r"[+*\-]", m.group(0))]
    if not cands:
        raise ValueError("arithmetic: no expression found in the problem text")
    expr = max(cands, key=len)
    return str(_eval_int_expr(ast.parse(expr, mode="eval")))


draw = _gen_arithmetic
solve = _solve_arithmetic
