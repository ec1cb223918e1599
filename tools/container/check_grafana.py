"""Grafana's part of the compose stack, checked without Grafana (its image cannot be built on
machines without a registry):

- the provisioning files (data sources, dashboard providers) have the fields Grafana reads,
  with values it accepts;
- they agree with compose.yaml: each is mounted where Grafana reads it, the dashboards
  folder where the provider looks, the data source's URL names the Prometheus service;
- the dashboard's JSON survives a round trip through grafana-foundation-sdk, the models
  Grafana generates from its dashboard schema: a key the schema does not know is lost in
  the round trip and reported (a misspelt field Grafana would silently ignore);
- every panel and variable uses the provisioned data source, directly or through the
  dashboard's `datasource` variable.

What remains unchecked: that Grafana renders each panel (tests/api/dashboard.rs runs every
query against a real Prometheus), and value ranges the generated models do not enforce.

Usage: check_grafana.py REPO_ROOT
"""

import json
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

PROVISIONING = "/etc/grafana/provisioning"
problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def grafana_mounts(root: Path) -> dict[str, Path]:
    """compose.yaml's Grafana volumes: container path -> repository path."""
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    mounts = {}
    for volume in compose["services"]["grafana"]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = root / source
    return mounts, compose["services"]


def check_datasources(path: Path, services: dict) -> set[str]:
    """Returns the provisioned data sources' uids."""
    uids = set()
    for file in sorted(path.glob("*.y*ml")):
        doc = yaml.safe_load(file.read_text())
        if doc.get("apiVersion") != 1:
            problem(str(file), "apiVersion must be 1")
        sources = doc.get("datasources") or []
        if sum(1 for s in sources if s.get("isDefault")) > 1:
            problem(str(file), "more than one default data source")
        for source in sources:
            where = f"{file}: {source.get('name')}"
            for key in ("name", "type", "uid", "url"):
                if not source.get(key):
                    problem(where, f"no {key}")
            if source.get("access", "proxy") not in ("proxy", "direct"):
                problem(where, "access must be proxy or direct")
            url = urlparse(source.get("url", ""))
            if source.get("type") == "prometheus" and url.hostname not in services:
                problem(where, f"{url.hostname} is not a compose service")
            uids.add(source.get("uid"))
    if not uids:
        problem(str(path), "no data source")
    return uids


def check_providers(path: Path, mounts: dict[str, Path]) -> None:
    for file in sorted(path.glob("*.y*ml")):
        doc = yaml.safe_load(file.read_text())
        if doc.get("apiVersion") != 1:
            problem(str(file), "apiVersion must be 1")
        for provider in doc.get("providers") or []:
            where = f"{file}: {provider.get('name')}"
            if provider.get("type", "file") != "file":
                problem(where, "type must be file")
            folder = (provider.get("options") or {}).get("path")
            if folder not in mounts:
                problem(where, f"options.path {folder} is not mounted by compose.yaml")
            elif not list(mounts[folder].glob("*.json")):
                problem(where, f"{mounts[folder]} holds no dashboard")


def lost_keys(before, after, path="") -> list[str]:
    """Keys of `before` that the round trip dropped, as JSON paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        lost = [f"{path}.{key}" for key in before if key not in after]
        for key in before.keys() & after.keys():
            lost += lost_keys(before[key], after[key], f"{path}.{key}")
        return lost
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [k for i, (b, a) in enumerate(zip(before, after)) for k in lost_keys(b, a, f"{path}[{i}]")]
    return []


def datasource_refs(node, path=""):
    if isinstance(node, dict):
        if isinstance(node.get("datasource"), dict):
            yield path, node["datasource"]
        for key, value in node.items():
            yield from datasource_refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from datasource_refs(value, f"{path}[{i}]")


def check_dashboard(file: Path, uids: set[str]) -> None:
    raw = json.loads(file.read_text())
    round_trip = json.loads(json.dumps(Dashboard.from_json(raw), cls=JSONEncoder))
    for key in lost_keys(raw, round_trip):
        problem(str(file), f"{key} is not in Grafana's dashboard schema")
    variables = {v["name"]: v for v in raw.get("templating", {}).get("list", [])}
    for path, ref in datasource_refs(raw):
        uid = ref.get("uid", "")
        if uid.startswith("${"):
            variable = variables.get(uid[2:-1])
            if not variable or variable.get("type") != "datasource" or variable.get("query") != ref.get("type"):
                problem(str(file), f"{path}: {uid} is not a {ref.get('type')} data source variable")
        elif uid not in uids and uid != "-- Grafana --":
            problem(str(file), f"{path}: data source {uid} is not provisioned")
    if not raw.get("uid") or not raw.get("title"):
        problem(str(file), "no uid or title")


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    mounts, services = grafana_mounts(root)
    for needed in ("datasources", "dashboards"):
        if f"{PROVISIONING}/{needed}" not in mounts:
            problem("compose.yaml", f"nothing is mounted at {PROVISIONING}/{needed}")
    uids = check_datasources(mounts.get(f"{PROVISIONING}/datasources", root / "missing"), services)
    check_providers(mounts.get(f"{PROVISIONING}/dashboards", root / "missing"), mounts)
    dashboards = sorted((root / "grafana" / "dashboards").glob("*.json"))
    for file in dashboards:
        check_dashboard(file, uids)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"   {len(dashboards)} dashboard(s), {len(uids)} data source(s): consistent with compose.yaml and Grafana's schema")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
