"""Customer register files: CSV (UTF-8, with or without BOM) to ``Customer`` records.

The utility's billing system exports its register as CSV; this is the one place that
reads it, for ``waterops customers import FILE`` and ``POST /customers/import`` alike.
A header row names the columns (any order; ``id``, ``account_no`` and ``name`` are
required, the others optional and named like ``Customer``'s fields). ``channels`` lists
notice channels separated by ``|``; booleans are ``1/0``, ``true/false`` or ``yes/no``.
A file with a bad row is refused whole, naming each bad line (up to ``MAX_ERRORS``), so
a half-imported register never reaches the tablets. Linear in the file's size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, Final

import msgspec

from server.customers.model import Customer
from server.errors import BadInputError

REQUIRED: Final = ("id", "account_no", "name")
MAX_ERRORS: Final = 50
_FIELDS: Final = frozenset(Customer.__struct_fields__)
_BOOLS: Final = {"1": True, "true": True, "yes": True, "0": False, "false": False,
                 "no": False, "": False}


class CustomerFileError(BadInputError):
    code = "customer-file-invalid"


def _value(name: str, raw: str) -> Any:
    text = raw.strip()
    if name in ("property_dispute", "court_case"):
        if text.lower() not in _BOOLS:
            raise ValueError(f"{name} must be 1/0, true/false or yes/no")
        return _BOOLS[text.lower()]
    if name == "channels":
        return [c.strip() for c in text.split("|") if c.strip()] or ["wechat", "sms"]
    if text == "":
        return None
    return text


def read_customers_csv(text: str) -> list[Customer]:
    """Every row as a ``Customer``; ``CustomerFileError`` listing the bad lines otherwise."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CustomerFileError(f"the header lacks {', '.join(missing)}", line=1,
                                missing=missing)
    unknown = [h for h in header if h not in _FIELDS]
    if unknown:
        raise CustomerFileError(f"unknown columns: {', '.join(unknown)}", line=1,
                                unknown=unknown)
    out: list[Customer] = []
    errors: list[dict[str, object]] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        try:
            values = {k.strip(): _value(k.strip(), v or "") for k, v in row.items()
                      if k is not None}
            values = {k: v for k, v in values.items() if v is not None}
            customer = msgspec.convert(values, Customer, strict=False)
            if customer.id in seen:
                raise ValueError(f"customer {customer.id} appears twice")
            seen.add(customer.id)
            out.append(customer)
        except (ValueError, msgspec.ValidationError) as exc:
            errors.append({"line": line, "error": str(exc)})
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise CustomerFileError(f"{len(errors)} bad row(s), first on line {errors[0]['line']}",
                                line=errors[0]["line"], errors=errors)
    return out


def write_customers_csv(customers: Iterable[Customer]) -> str:
    """The same format back (an export the import reads unchanged)."""
    buf = io.StringIO()
    names = list(Customer.__struct_fields__)
    w = csv.DictWriter(buf, fieldnames=names)
    w.writeheader()
    for c in customers:
        row = msgspec.to_builtins(c)
        row["channels"] = "|".join(c.channels)
        row["property_dispute"] = int(c.property_dispute)
        row["court_case"] = int(c.court_case)
        w.writerow({k: "" if row.get(k) is None else row[k] for k in names})
    return buf.getvalue()
