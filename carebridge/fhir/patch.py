"""Applying PATCH bodies to a resource's JSON: JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386).

The result is then treated exactly like a PUT of the whole resource, so both kinds of patch pass through
the same checks (R4B validation, then only the changes the services support).
"""

import copy
import json
from typing import Any

from django.conf import settings

Json = Any

# A patch changes a few elements of one resource; more operations than this is not a patch but a load.
MAX_OPERATIONS = 100


class PatchError(ValueError):
    """The patch cannot be applied; the message says which operation and why."""


class TooManyOperations(PatchError):
    """More than MAX_OPERATIONS operations (422): refused before any is applied."""


class PatchTooLarge(PatchError):
    """The patched resource would be larger than any body a client may send (413): a few `copy`
    operations of an array onto itself double it each time, so it is measured after every operation."""


def _size(value: Json) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _tokens(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise PatchError(f"{pointer!r} is not a JSON Pointer (it must start with /).")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _index(container: list, token: str, *, appending: bool = False) -> int:
    if appending and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"{token!r} is not an array index.")
    index = int(token)
    if index > len(container) or (index == len(container) and not appending):
        raise PatchError(f"Index {index} is past the end of the array.")
    return index


def _parent(document: Json, tokens: list[str]) -> Json:
    node = document
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token)]
        else:
            raise PatchError(f"/{'/'.join(tokens)} does not exist.")
    return node


def _get(document: Json, tokens: list[str]) -> Json:
    if not tokens:
        return document
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    raise PatchError(f"/{'/'.join(tokens)} does not exist.")


def _add(document: Json, tokens: list[str], value: Json) -> Json:
    if not tokens:
        return value
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, appending=True), value)
    else:
        raise PatchError(f"/{'/'.join(tokens)}: cannot add inside a value that is not an object or array.")
    return document


def _remove(document: Json, tokens: list[str]) -> Json:
    if not tokens:
        raise PatchError("The whole resource cannot be removed.")
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last)]
    else:
        raise PatchError(f"/{'/'.join(tokens)} does not exist.")
    return document


def json_patch(document: Json, operations: Json, *, max_size: int | None = None) -> Json:
    """Apply RFC 6902 operations (add, remove, replace, move, copy, test) to a copy of `document`.

    At most MAX_OPERATIONS operations (TooManyOperations), and the result may never grow past
    `max_size` characters of JSON (default DATA_UPLOAD_MAX_MEMORY_SIZE; PatchTooLarge): each value an
    operation adds is measured before it is copied in, so a patch that doubles the document stops at the
    operation that would cross the limit, having built nothing larger."""
    if not isinstance(operations, list):
        raise PatchError("A JSON Patch is an array of operations.")
    if len(operations) > MAX_OPERATIONS:
        raise TooManyOperations(
            f"A patch may have at most {MAX_OPERATIONS} operations; this one has {len(operations)}."
        )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if max_size is None else max_size
    result = copy.deepcopy(document)
    # An upper bound on the result's size: additions counted, removals not (a replace counts its new value).
    size = _size(result)
    for number, operation in enumerate(operations, start=1):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"Operation {number} needs an op and a path.")
        op, path = operation["op"], _tokens(operation["path"])
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"Operation {number} ({op}) needs a value.")
        if op in ("add", "replace", "copy"):
            added = operation["value"] if op != "copy" else _get(result, _tokens(operation.get("from")))
            size += _size(added)
            if size > limit:
                raise PatchTooLarge(
                    f"Operation {number} ({op}) would make the resource larger than {limit:,} characters."
                )
        if op == "add":
            result = _add(result, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            result = _remove(result, path)
        elif op == "replace":
            _get(result, path)  # must exist
            value = copy.deepcopy(operation["value"])
            result = _add(_remove(result, path), path, value) if path else value
        elif op in ("move", "copy"):
            source = _tokens(operation.get("from"))
            value = copy.deepcopy(_get(result, source))
            if op == "move":
                result = _remove(result, source)
            result = _add(result, path, value)
        elif op == "test":
            if _get(result, path) != operation["value"]:
                raise PatchError(f"Operation {number} (test) failed: {operation['path']} has another value.")
        else:
            raise PatchError(f"Operation {number}: {op!r} is not a JSON Patch operation.")
    return result


def merge_patch(target: Json, patch: Json) -> Json:
    """RFC 7386: objects merge member by member, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
