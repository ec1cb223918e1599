"""Schemathesis hooks for the payments API: what the OpenAPI document states in words but
OpenAPI cannot express, so that schema-valid requests are the ones the API documents as
valid, and the check of the unauthenticated pass."""

import os

import schemathesis

# `starting_after`, `ending_before` and `page` exclude one another (each says so).
CURSORS = ("starting_after", "ending_before", "page")
# A bulk replay needs at least one of its filters (its description says so).
REPLAY_FILTERS = ("status", "type", "account", "created[gte]", "created[lte]")


def documented_as_valid(case):
    """Whether `case` keeps the rules the descriptions state."""
    query = case.query or {}
    if sum(1 for name in CURSORS if name in query) > 1:
        return False
    if case.operation.path == "/webhooks/stripe/replay":
        return any(name in query for name in REPLAY_FILTERS)
    return True


@schemathesis.hook
def filter_case(ctx, case):
    return documented_as_valid(case)


if os.environ.get("EXPECT_UNAUTHORIZED"):

    @schemathesis.check
    def refused_without_the_token(ctx, response, case):
        """The pass without the admin token: every admin route answers 401, whatever else
        the request holds, and names the scheme it wants."""
        if response.status_code != 401:
            raise AssertionError(
                f"{case.method} {case.formatted_path} answered {response.status_code} "
                "without the admin token"
            )
        if not response.headers.get("www-authenticate", [""])[0].startswith("Bearer"):
            raise AssertionError("a 401 without `WWW-Authenticate: Bearer`")
