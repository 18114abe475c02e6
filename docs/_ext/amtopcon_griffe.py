"""A griffe extension for the API reference (mkdocs.yml loads it; nothing in amtopcon imports it).

It makes the rendered signatures show what a reader needs rather than the source's names:

* a default that names a constant of the package (`timeout=DEFAULT_TIMEOUT`,
  `station=_wire.DEFAULT_STATION`) shows the constant's value (`30.0`, `'OPCON'`);
* an annotation that names a type alias of a private module (`VerifyTypes`, `TaskValues`,
  `OnStatus`) shows what the alias stands for;
* a method made by a wrapper (`add_job = _under_lock(Catalog.add_job, doc)`: an attribute to
  the source reader) is shown as the method it is at run time: the wrapped function's
  parameters, the wrapper's docstring;
* an attrs class (`@attrs.frozen`) gets the `__init__` signature attrs generates, with each
  field's default as a value (`status_text: str | None = None`), and its fields lose the
  `attrs.field(validator=...)` call as their shown value.

The values are read from the imported package, so they follow the code wherever a constant
or an alias moves.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from datetime import datetime
from typing import Any

import attrs
import griffe

PACKAGE = "amtopcon"
_LITERALS = (bool, int, float, str, type(None))
_MISSING = object()


def _runtime(path: str) -> Any:
    """The object at a dotted path (`amtopcon._base.DEFAULT_TIMEOUT`), or `_MISSING`."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _is_private_path(path: str) -> bool:
    return path.startswith(PACKAGE + ".") and any(part.startswith("_") for part in path.split("."))


def _value_text(value: object) -> str | None:
    """How a constant's value is shown, or None when it has no short honest spelling."""
    if isinstance(value, _LITERALS):
        return repr(value)
    if isinstance(value, datetime):
        return f"datetime.fromisoformat({value.isoformat()!r})"
    return None


def _literal_default(default: str | griffe.Expr | None) -> str | griffe.Expr | None:
    """A package constant named in a default (`DEFAULT_TIMEOUT`, `(DEFAULT_USER,)`) becomes its value."""
    if isinstance(default, (griffe.ExprName, griffe.ExprAttribute)):
        path = default.canonical_path
        if path.startswith(PACKAGE + "."):
            value = _runtime(path)
            text = None if value is _MISSING else _value_text(value)
            return default if text is None else text
        return default
    if isinstance(default, griffe.Expr):
        for field in dataclasses.fields(default):
            current = getattr(default, field.name)
            if isinstance(current, griffe.Expr):
                setattr(default, field.name, _literal_default(current))
            elif isinstance(current, list):
                current[:] = [_literal_default(item) if isinstance(item, griffe.Expr) else item for item in current]
    return default


def _alias_value(name: griffe.ExprName, package: griffe.Module) -> str | griffe.Expr | None:
    """The value of a type alias defined in a private module of the package, else None."""
    path = name.canonical_path
    if not _is_private_path(path):
        return None
    try:
        target = package.modules_collection[path]
    except (KeyError, ValueError, AttributeError):
        return None
    if isinstance(target, griffe.Attribute) and isinstance(target.value, griffe.Expr):
        runtime = _runtime(path)
        if runtime is _MISSING or isinstance(runtime, (type, *_LITERALS)):
            return None  # a class or a constant, not an alias
        return target.value
    return None


def _expand(expr: str | griffe.Expr | None, package: griffe.Module, depth: int = 0) -> str | griffe.Expr | None:
    """`expr` with every private type alias replaced by what it stands for."""
    if not isinstance(expr, griffe.Expr) or depth > 5:
        return expr
    if isinstance(expr, griffe.ExprName):
        value = _alias_value(expr, package)
        return expr if value is None else _expand(value, package, depth + 1)
    for field in dataclasses.fields(expr):
        current = getattr(expr, field.name)
        if isinstance(current, griffe.Expr):
            setattr(expr, field.name, _expand(current, package, depth))
        elif isinstance(current, list):
            current[:] = [_expand(item, package, depth) if isinstance(item, griffe.Expr) else item for item in current]
    return expr


def _is_attrs(cls: griffe.Class) -> bool:
    return any(
        isinstance(dec.value, griffe.Expr) and dec.value.canonical_path.split(".")[0] in {"attrs", "attr"}
        for dec in cls.decorators
    )


def _attrs_init(cls: griffe.Class) -> None:
    """Give an attrs class the `__init__` attrs generates, and plain field values."""
    runtime = _runtime(cls.path)
    if runtime is _MISSING or not attrs.has(runtime):
        return
    params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for field in attrs.fields(runtime):
        member = cls.members.get(field.name)
        annotation = member.annotation if isinstance(member, griffe.Attribute) else None
        if field.default is attrs.NOTHING:
            default = None
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            default = repr(field.default.factory())
        else:
            default = repr(field.default)
        if isinstance(member, griffe.Attribute):
            member.value = default
        if not field.init:
            continue
        kind = griffe.ParameterKind.keyword_only if field.kw_only else griffe.ParameterKind.positional_or_keyword
        params.append(griffe.Parameter(field.alias or field.name, annotation=annotation, kind=kind, default=default))
    init = griffe.Function("__init__", lineno=0, endlineno=0, parent=cls, parameters=griffe.Parameters(*params))
    init.returns = "None"
    cls.set_member("__init__", init)


def _wrapped_method(attr: griffe.Attribute, pkg: griffe.Module) -> griffe.Function | None:
    """A class attribute that is a function wrapping one of the package's (`__wrapped__`), as
    a method with the wrapped one's parameters and its own run-time docstring; else None."""
    runtime = _runtime(attr.path)
    wrapped = getattr(runtime, "__wrapped__", None)
    if not inspect.isfunction(runtime) or not inspect.isfunction(wrapped):
        return None
    try:
        source = pkg.modules_collection[f"{wrapped.__module__}.{wrapped.__qualname__}"]
    except (KeyError, ValueError, AttributeError):
        return None
    if not isinstance(source, griffe.Function):
        return None
    params = [
        griffe.Parameter(p.name, annotation=p.annotation, kind=p.kind, default=p.default) for p in source.parameters
    ]
    method = griffe.Function(
        attr.name,
        lineno=attr.lineno,
        endlineno=attr.endlineno,
        parent=attr.parent,
        parameters=griffe.Parameters(*params),
        returns=source.returns,
    )
    if runtime.__doc__:
        method.docstring = griffe.Docstring(inspect.cleandoc(runtime.__doc__), parent=method)
    return method


class AmtopconSignatures(griffe.Extension):
    """Literal defaults, expanded private aliases and attrs `__init__` signatures."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the loaded package (`amtopcon`) once it is fully loaded."""
        if pkg.name != PACKAGE:
            return
        seen: set[str] = set()
        self._walk(pkg, pkg, seen)

    def _walk(self, obj: griffe.Object, pkg: griffe.Module, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if isinstance(obj, griffe.Class) and "__init__" not in obj.members and _is_attrs(obj):
            _attrs_init(obj)
        if isinstance(obj, griffe.Function):
            for param in obj.parameters:
                param.default = _literal_default(param.default)
                param.annotation = _expand(param.annotation, pkg)
            obj.returns = _expand(obj.returns, pkg)
        if isinstance(obj, griffe.Attribute) and isinstance(obj.parent, griffe.Class):
            method = _wrapped_method(obj, pkg)
            if method is not None:
                obj.parent.set_member(obj.name, method)
                seen.discard(method.path)  # the same path as the attribute's
                self._walk(method, pkg, seen)
                return
            obj.annotation = _expand(obj.annotation, pkg)
        for member in list(obj.members.values()):
            if not member.is_alias:
                self._walk(member, pkg, seen)  # type: ignore[arg-type]
