"""Compile rule conditions, once, into plain Python callables.

The text is parsed by a real (LALR) parser, every name is checked against the
catalogue and every operator against the types of its operands, and the result
is a tree of small closures: nothing is evaluated from a string at decision time
and nothing outside the catalogue can be reached.

Missing values: any name may read as None (a new account has no usual amount).
Arithmetic with None gives None, and so does a comparison or `in`: "unknown".
`and`, `or` and `not` follow three-valued (Kleene) logic: `false and unknown` is
false, `true or unknown` is true, `not unknown` is unknown. Only the condition as a
whole turns unknown into "does not fire", so a rule never fires on something it
could not see, however it is negated.

Every true/false node has two callables: `fn`, three-valued (True, False or None),
and `test`, whose truthiness alone says whether the value is true. `and` and `or`
under no `not` only need the test, which short-circuits as plain Python does, so a
rule without `not` costs what it did before three-valued logic.

Money stays exact: it never meets a float. A number literal next to money becomes a
Decimal from its source text; a literal computed from literals (`-0.5`,
`abs(-0.5)`, `1 - 0.2`) is folded exactly, in Decimal, when the rule is compiled.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from walletguard.kernel.errors import ConfigurationError
from walletguard.rules.types import Catalogue, NameSpec, ValueType

Fn = Callable[[Any], Any]


class RuleError(ConfigurationError):
    """A condition that does not parse or type-check; says where (rule id, line, column)."""

    def __init__(
        self, where: str, message: str, line: int | None = None, column: int | None = None
    ):
        position = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{where}{position}: {message}")
        self.where = where
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Node:
    fn: Fn
    type: ValueType
    literal: str | None = None
    """Exact text of a numeric literal (or of one folded from literals), so it can
    become a Decimal next to money."""
    const: Any = None
    is_const: bool = False
    test: Fn | None = None
    """For true/false nodes: a faster callable with the same truthiness as `fn`
    (None when `fn` itself is the fastest)."""
    strict: bool = False
    """For true/false nodes: `test` (or `fn`) returns a real bool, never None."""

    @property
    def tester(self) -> Fn:
        return self.test if self.test is not None else self.fn


@dataclass(slots=True)
class Compiled:
    """A compiled condition: call `fn(context)` for a bool; `names` are what it reads."""

    fn: Fn
    names: list[NameSpec] = field(default_factory=list)


@cache
def _parser() -> Lark:
    grammar = resources.files("walletguard.rules").joinpath("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def compile_condition(text: str, catalogue: Catalogue, *, where: str) -> Compiled:
    """Parse, check and compile a boolean condition. Raises `RuleError` naming `where`."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RuleError(where, _syntax_message(exc, text), exc.line, exc.column) from None
    compiler = _Compiler(catalogue, where)
    node = compiler.build(tree)
    if node.type is not ValueType.BOOL:
        raise RuleError(where, f"a condition must be true or false, this is a {node.type.value}")
    return Compiled(_fires(node), list(compiler.names.values()))


def _fires(node: Node) -> Fn:
    """The condition as a whole: true fires; false and unknown (None) do not."""
    test = node.tester
    if node.strict:
        return test
    return lambda c: bool(test(c))


def compile_value(text: str, catalogue: Catalogue, *, where: str) -> tuple[Compiled, ValueType]:
    """Parse, check and compile an expression of any type (a model input such as
    `payment_amount_sum_by_account_7d / payment_count_by_account_7d`), with its type.
    Its value may be None (missing), a true/false one too (unknown)."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RuleError(where, _syntax_message(exc, text), exc.line, exc.column) from None
    compiler = _Compiler(catalogue, where)
    node = compiler.build(tree)
    return Compiled(node.fn, list(compiler.names.values())), node.type


def _syntax_message(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedEOF):
        return "the condition ends too early"
    if isinstance(exc, UnexpectedCharacters):
        position: int = exc.pos_in_stream or 0
        return f"unexpected character {text[position]!r}"
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "the condition ends too early"
        return f"unexpected {exc.token!s:.30}"
    return str(exc)


def _pos(tree: Tree[Token] | Token) -> tuple[int | None, int | None]:
    if isinstance(tree, Token):
        return tree.line, tree.column
    meta = tree.meta
    return (meta.line, meta.column) if not meta.empty else (None, None)


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _const(value: Any, kind: ValueType, literal: str | None = None) -> Node:
    return Node(
        lambda c: value,
        kind,
        literal=literal,
        const=value,
        is_const=True,
        strict=kind is ValueType.BOOL,
    )


def _exact(node: Node) -> Decimal | None:
    """The exact value of a numeric literal (or one folded from literals), else None."""
    if not node.is_const or node.literal is None or not node.type.numeric:
        return None
    return Decimal(node.literal)


def _fold(compute: Callable[..., Decimal], kind: ValueType, *args: Node) -> Node | None:
    """A constant computed, exactly, from numeric literals; None if an argument is not
    one or the result is not exact (`1 / 3`) or not defined (`1 / 0`)."""
    values = [_exact(a) for a in args]
    if any(v is None for v in values):
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        try:
            result = compute(*values)
        except (ArithmeticError, InvalidOperation):
            return None
    if kind is ValueType.INT:
        return _const(int(result), kind, str(int(result)))
    return _const(float(result), kind, str(result))


class _Compiler:
    def __init__(self, catalogue: Catalogue, where: str) -> None:
        self.catalogue = catalogue
        self.where = where
        self.names: dict[str, NameSpec] = {}

    def fail(self, at: Tree[Token] | Token, message: str) -> RuleError:
        line, column = _pos(at)
        return RuleError(self.where, message, line, column)

    def build(self, tree: Tree[Token] | Token) -> Node:
        if isinstance(tree, Token):
            raise self.fail(tree, f"unexpected {tree.value!r}")
        handler = getattr(self, "_" + str(tree.data), None)
        if handler is None:
            raise self.fail(tree, f"unsupported construct {tree.data}")
        node: Node = handler(tree)
        return node

    # -- atoms ---------------------------------------------------------------

    def _number(self, tree: Tree[Token]) -> Node:
        text = str(tree.children[0])
        if "." in text:
            return _const(float(text), ValueType.NUMBER, text)
        return _const(int(text), ValueType.INT, text)

    def _neg_number(self, tree: Tree[Token]) -> Node:
        text = "-" + str(tree.children[0])
        if "." in text:
            return _const(float(text), ValueType.NUMBER, text)
        return _const(int(text), ValueType.INT, text)

    def _string(self, tree: Tree[Token]) -> Node:
        return _const(str(tree.children[0])[1:-1], ValueType.STRING)

    def _true(self, tree: Tree[Token]) -> Node:
        return _const(True, ValueType.BOOL)

    def _false(self, tree: Tree[Token]) -> Node:
        return _const(False, ValueType.BOOL)

    def _name(self, tree: Tree[Token]) -> Node:
        token = tree.children[0]
        name = str(token)
        spec = self.catalogue.resolve(name)
        if spec is None:
            raise self.fail(token, self.catalogue.why_unknown(name))
        self.names[name] = spec
        return Node(spec.getter, spec.type)

    # -- arithmetic -----------------------------------------------------------

    def _neg(self, tree: Tree[Token]) -> Node:
        inner = self.build(tree.children[0])
        if not (inner.type.numeric or inner.type is ValueType.MONEY):
            raise self.fail(tree, f"cannot negate a {inner.type.value}")
        folded = _fold(operator.neg, inner.type, inner)
        if folded is not None:
            return folded
        f = inner.fn
        return Node(lambda c: None if (v := f(c)) is None else -v, inner.type)

    def _arith(self, tree: Tree[Token]) -> Node:
        children = tree.children
        left = self.build(children[0])
        for i in range(1, len(children), 2):
            op = str(children[i])
            right = self.build(children[i + 1])
            left = self._combine(tree, op, left, right)
        return left

    def _combine(self, at: Tree[Token], op: str, left: Node, right: Node) -> Node:
        lt, rt = left.type, right.type
        if lt.numeric and rt.numeric:
            kind = ValueType.INT if (lt is rt is ValueType.INT and op != "/") else ValueType.NUMBER
            folded = _fold(_ARITH[op], kind, left, right)
            if folded is not None:
                return folded
            return self._arith_node(op, left, right, kind)
        if ValueType.MONEY in (lt, rt):
            return self._money_arith(at, op, left, right)
        raise self.fail(at, f"cannot use {op} between {lt.value} and {rt.value}")

    def _money_arith(self, at: Tree[Token], op: str, left: Node, right: Node) -> Node:
        lt, rt = left.type, right.type
        if lt is rt is ValueType.MONEY:
            if op in "+-":
                return self._arith_node(op, left, right, ValueType.MONEY)
            if op == "/":
                return self._ratio(left, right)
            raise self.fail(at, "cannot multiply money by money")
        money, other = (left, right) if lt is ValueType.MONEY else (right, left)
        exact = _exact(other)
        if other.type is ValueType.INT or exact is not None:
            if op in "+-":
                raise self.fail(
                    at, f"cannot {'add' if op == '+' else 'subtract'} a plain number and money"
                )
            if op == "/" and money is right:
                raise self.fail(at, "cannot divide a number by money")
            if exact is not None:
                other = _const(exact, ValueType.MONEY)
            if money is left:
                return self._arith_node(op, left, other, ValueType.MONEY)
            return self._arith_node(op, other, right, ValueType.MONEY)
        raise self.fail(
            at,
            f"cannot combine money with a {other.type.value} value (only with whole numbers or "
            "exact literal numbers, so amounts stay exact)",
        )

    @staticmethod
    def _ratio(left: Node, right: Node) -> Node:
        lf, rf = left.fn, right.fn

        def ratio(c: Any) -> float | None:
            a = lf(c)
            b = rf(c)
            if a is None or b is None or not b:
                return None
            return float(a / b)

        return Node(ratio, ValueType.NUMBER)

    @staticmethod
    def _arith_node(op: str, left: Node, right: Node, kind: ValueType) -> Node:
        lf, rf = left.fn, right.fn
        if op == "+":
            return Node(
                lambda c: None if (a := lf(c)) is None or (b := rf(c)) is None else a + b, kind
            )
        if op == "-":
            return Node(
                lambda c: None if (a := lf(c)) is None or (b := rf(c)) is None else a - b, kind
            )
        if op == "*":
            return Node(
                lambda c: None if (a := lf(c)) is None or (b := rf(c)) is None else a * b, kind
            )

        def divide(c: Any) -> Any:
            a = lf(c)
            b = rf(c)
            if a is None or b is None or not b:
                return None
            return a / b

        return Node(divide, kind)

    # -- comparisons and logic -----------------------------------------------

    def _compare(self, tree: Tree[Token]) -> Node:
        left = self.build(tree.children[0])
        op = str(tree.children[1])
        right = self.build(tree.children[2])
        left, right = self._align(tree, op, left, right)
        cmp = _COMPARE[op]
        lf, rf = left.fn, right.fn
        if right.is_const:
            k = right.const
            return Node(
                lambda c: None if (a := lf(c)) is None else cmp(a, k),
                ValueType.BOOL,
                test=lambda c: (a := lf(c)) is not None and cmp(a, k),
                strict=True,
            )
        return Node(
            lambda c: None if (a := lf(c)) is None or (b := rf(c)) is None else cmp(a, b),
            ValueType.BOOL,
            test=lambda c: (a := lf(c)) is not None and (b := rf(c)) is not None and cmp(a, b),
            strict=True,
        )

    def _align(self, at: Tree[Token], op: str, left: Node, right: Node) -> tuple[Node, Node]:
        lt, rt = left.type, right.type
        if lt.numeric and rt.numeric:
            return left, right
        if ValueType.MONEY in (lt, rt):
            if lt is rt:
                return left, right
            money_left = lt is ValueType.MONEY
            other = right if money_left else left
            exact = _exact(other)
            if exact is not None:
                converted = _const(exact, ValueType.MONEY)
                return (left, converted) if money_left else (converted, right)
            if other.type is ValueType.INT:
                return left, right
            raise self.fail(at, f"cannot compare money with a {other.type.value} value")
        if lt is rt and (lt is ValueType.STRING or lt is ValueType.BOOL):
            if op not in ("==", "!="):
                raise self.fail(at, f"{lt.value} values can only be compared with == or !=")
            return left, right
        raise self.fail(at, f"cannot compare {lt.value} with {rt.value}")

    def _in_(self, tree: Tree[Token], negate: bool = False) -> Node:
        left = self.build(tree.children[0])
        listing = tree.children[1]
        assert isinstance(listing, Tree)
        items = [self.build(child) for child in listing.children]
        values = []
        for item in items:
            if left.type is ValueType.MONEY and (exact := _exact(item)) is not None:
                values.append(exact)
            elif item.type is left.type or (item.type.numeric and left.type.numeric):
                values.append(item.const)
            else:
                raise self.fail(
                    tree, f"list item of type {item.type.value} next to a {left.type.value}"
                )
        members = frozenset(values)
        lf = left.fn
        if negate:
            return Node(
                lambda c: None if (a := lf(c)) is None else a not in members,
                ValueType.BOOL,
                test=lambda c: (a := lf(c)) is not None and a not in members,
                strict=True,
            )
        return Node(
            lambda c: None if (a := lf(c)) is None else a in members,
            ValueType.BOOL,
            test=lambda c: (a := lf(c)) is not None and a in members,
            strict=True,
        )

    def _not_in(self, tree: Tree[Token]) -> Node:
        return self._in_(tree, negate=True)

    def _bool_operands(self, tree: Tree[Token]) -> list[Node]:
        nodes = []
        for child in tree.children:
            node = self.build(child)
            if node.type is not ValueType.BOOL:
                raise self.fail(
                    child if isinstance(child, Tree) else tree,
                    f"expected true/false, got a {node.type.value}",
                )
            nodes.append(node)
        return nodes

    def _and_(self, tree: Tree[Token]) -> Node:
        nodes = self._bool_operands(tree)
        strict = all(n.strict for n in nodes)
        if len(nodes) == 2:
            a, b = (n.fn for n in nodes)
            ta, tb = (n.tester for n in nodes)

            def and3(c: Any) -> bool | None:
                x = a(c)
                if x is None:
                    return None if (y := b(c)) is None or y else False
                return b(c) if x else False

            return Node(and3, ValueType.BOOL, test=lambda c: ta(c) and tb(c), strict=strict)
        fns = [n.fn for n in nodes]
        tests = [n.tester for n in nodes]

        def and_n(c: Any) -> bool | None:
            unknown = False
            for f in fns:
                v = f(c)
                if v is None:
                    unknown = True
                elif not v:
                    return False
            return None if unknown else True

        return Node(and_n, ValueType.BOOL, test=lambda c: all(t(c) for t in tests), strict=True)

    def _or_(self, tree: Tree[Token]) -> Node:
        nodes = self._bool_operands(tree)
        strict = all(n.strict for n in nodes)
        if len(nodes) == 2:
            a, b = (n.fn for n in nodes)
            ta, tb = (n.tester for n in nodes)

            def or3(c: Any) -> bool | None:
                x = a(c)
                if x is None:
                    return True if b(c) else None
                return True if x else b(c)

            return Node(or3, ValueType.BOOL, test=lambda c: ta(c) or tb(c), strict=strict)
        fns = [n.fn for n in nodes]
        tests = [n.tester for n in nodes]

        def or_n(c: Any) -> bool | None:
            unknown = False
            for f in fns:
                v = f(c)
                if v is None:
                    unknown = True
                elif v:
                    return True
            return None if unknown else False

        return Node(or_n, ValueType.BOOL, test=lambda c: any(t(c) for t in tests), strict=True)

    def _not_(self, tree: Tree[Token]) -> Node:
        (inner,) = self._bool_operands(tree)
        f = inner.fn
        return Node(
            lambda c: None if (v := f(c)) is None else not v,
            ValueType.BOOL,
            test=lambda c: (v := f(c)) is not None and not v,
            strict=True,
        )

    # -- functions -------------------------------------------------------------

    def _call(self, tree: Tree[Token]) -> Node:
        name = str(tree.children[0])
        args = [self.build(child) for child in tree.children[1:] if child is not None]
        builder = _FUNCTIONS.get(name)
        if builder is None:
            close = difflib.get_close_matches(name, _FUNCTIONS, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.fail(
                tree, f"unknown function {name!r}{hint} (known: {', '.join(sorted(_FUNCTIONS))})"
            )
        try:
            return builder(args)
        except TypeError as exc:
            raise self.fail(tree, f"{name}(): {exc}") from None


def _same_numeric(args: list[Node]) -> ValueType:
    if len(args) < 2:
        raise TypeError("needs at least two arguments")
    kinds = {a.type for a in args}
    if kinds <= {ValueType.INT}:
        return ValueType.INT
    if kinds <= {ValueType.INT, ValueType.NUMBER}:
        return ValueType.NUMBER
    if kinds == {ValueType.MONEY}:
        return ValueType.MONEY
    raise TypeError(
        f"arguments must all be numbers or all be money, got {sorted(k.value for k in kinds)}"
    )


def _extreme(pick: Callable[[list[Any]], Any]) -> Callable[[list[Node]], Node]:
    def build(args: list[Node]) -> Node:
        kind = _same_numeric(args)
        if kind is not ValueType.MONEY:
            folded = _fold(lambda *values: pick(list(values)), kind, *args)
            if folded is not None:
                return folded
        fns = [a.fn for a in args]

        def run(c: Any) -> Any:
            values = [f(c) for f in fns]
            return None if any(v is None for v in values) else pick(values)

        return Node(run, kind)

    return build


def _fn_abs(args: list[Node]) -> Node:
    if len(args) != 1 or not (args[0].type.numeric or args[0].type is ValueType.MONEY):
        raise TypeError("takes one number or amount")
    folded = _fold(abs, args[0].type, args[0])
    if folded is not None:
        return folded
    f = args[0].fn
    return Node(lambda c: None if (v := f(c)) is None else abs(v), args[0].type)


def _fn_coalesce(args: list[Node]) -> Node:
    if len(args) != 2:
        raise TypeError("takes a value and the value to use when it is missing")
    value, default = args
    kind = value.type
    if default.type is not kind:
        if kind is ValueType.MONEY and (exact := _exact(default)) is not None:
            default = _const(exact, ValueType.MONEY)
        elif kind.numeric and default.type.numeric:
            # `coalesce(count, 0.5)` may be 0.5: a number, not a whole one, so money
            # never meets it unless it is exact.
            kind = ValueType.NUMBER
        else:
            raise TypeError(f"default of type {default.type.value} for a {value.type.value}")
    vf, df = value.fn, default.fn
    return Node(
        lambda c: df(c) if (v := vf(c)) is None else v,
        kind,
        strict=kind is ValueType.BOOL and default.is_const,
    )


def _fn_present(args: list[Node]) -> Node:
    if len(args) != 1:
        raise TypeError("takes one value")
    f = args[0].fn
    return Node(lambda c: f(c) is not None, ValueType.BOOL)


def _fn_missing(args: list[Node]) -> Node:
    if len(args) != 1:
        raise TypeError("takes one value")
    f = args[0].fn
    return Node(lambda c: f(c) is None, ValueType.BOOL)


_FUNCTIONS: dict[str, Callable[[list[Node]], Node]] = {
    "min": _extreme(min),
    "max": _extreme(max),
    "abs": _fn_abs,
    "coalesce": _fn_coalesce,
    "present": _fn_present,
    "missing": _fn_missing,
}
