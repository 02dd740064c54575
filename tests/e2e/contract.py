"""The contract run schemathesis makes against a served OpenAPI document.

Every operation of the document gets a few generated requests (derandomized, few
examples: bounded and repeatable on a 2-core CI), each sent once per set of headers; no
answer may be a server error (5xx), every answer's status must be one the document
declares for that operation (each operation declares only its own problem statuses,
``server.openapi``), and its body must match what the document declares for that status
(problem answers included). The operations are driven through
``APIOperation.as_strategy()`` inside one test, not schemathesis' pytest plugin, whose
lazy-fixture loader reads a pytest-internal attribute pytest 9 no longer has; every
failure is collected and reported together.

``tests/e2e/test_schemathesis.py`` runs it against the real service, and against an app
with planted faults to show that the run reports what it is there to catch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

#: generated requests per operation (each sent once per set of headers)
EXAMPLES: Final = 3
BUDGET: Final = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                         database=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
#: what every answer is checked for
CHECKS: Final = (not_a_server_error, status_code_conformance, response_schema_conformance)


class ContractReport(msgspec.Struct, kw_only=True):
    #: "<operation label>: <what schemathesis reported>", one per failing operation
    failures: list[str]
    #: the status of every answer
    statuses: list[int]
    #: operations exercised
    operations: int

    def failing_labels(self) -> set[str]:
        return {f.split(": ", 1)[0] for f in self.failures}


def _exercise(operation: Any, callers: Sequence[Mapping[str, str]],
              statuses: list[int]) -> None:
    @given(case=operation.as_strategy())
    @BUDGET
    def run(case: Any) -> None:
        for headers in callers:
            answer = case.call_and_validate(headers=dict(headers), checks=list(CHECKS))
            statuses.append(answer.status_code)

    run()


def check_contract(schema: OpenApiSchema,
                   callers: Sequence[Mapping[str, str]]) -> ContractReport:
    """Run every operation of ``schema`` under each of ``callers``' headers."""
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # a part of the document schemathesis cannot read
            failures.append(f"unreadable operation: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        try:
            _exercise(operation, callers, statuses)
        except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.label}: {exc}"[:2000])
    return ContractReport(failures=failures, statuses=statuses, operations=operations)
