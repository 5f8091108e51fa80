"""Structural invariants of terraform/, checked offline with python-hcl2.

No provider can be downloaded here, so `terraform validate` cannot run; these
tests parse the HCL and check what matters for safety instead:

- the database is private, encrypted and has no password in Terraform;
- no security group opens ingress to 0.0.0.0/0 (or ::/0) unless the resource
  carries a `# public-ingress: <reason>` comment, and allow-list variables that
  feed ingress rules reject 0.0.0.0/0 in their validation;
- no IAM policy allows the action "*" (or a whole service, "svc:*", outside a
  KMS key policy), and every policy is a checkable aws_iam_policy_document;
- the API Lambda runs the Mangum handler api.lambda_handler.handler;
- every variable has a description and a type, and user-facing values are
  validated somewhere on their way into a module;
- no account id, region or ARN is hard-coded, and no secret is in Terraform.

The checker functions are pure (parsed dict in, list of problems out), and the
tests at the bottom feed them deliberately bad snippets to prove they can fail.

Runs in the .venv-hcl virtual environment made by terraform/check.sh; in any
other environment without python-hcl2 >= 7 the module is skipped.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

hcl2 = pytest.importorskip("hcl2", minversion="7")

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
ENVS = ("dev", "prod")
ROOT = TERRAFORM / "envs"  # the one root; ENVS are its <env>.tfvars
DOCKER = REPO / "docker"
HANDLER = "api.lambda_handler.handler"
WORLD = ("0.0.0.0/0", "::/0")

# ---------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------


def parse_text(text: str) -> dict:
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=True)
    return hcl2.loads(text, serialization_options=options)


def parse_file(path: Path) -> dict:
    return _parse_cached(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _parse_cached(path: Path, mtime_ns: int) -> dict:
    # Parsing is the slow part; checkers only read the result.
    return parse_text(path.read_text())


def parse_dir(directory: Path) -> dict[Path, dict]:
    """All *.tf files directly in one directory (one Terraform module)."""
    return {p: parse_file(p) for p in sorted(directory.glob("*.tf"))}


def module_dirs() -> list[Path]:
    dirs = {p.parent for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts}
    return sorted(dirs)


def blocks(doc: dict, kind: str) -> Iterator[tuple[str, str, dict]]:
    """(type, name, body) of every resource or data block of a parsed file."""
    for entry in doc.get(kind, []):
        for rtype, named in entry.items():
            for name, body in named.items():
                yield rtype, name, body


def variables(doc: dict) -> Iterator[tuple[str, dict]]:
    for entry in doc.get("variable", []):
        for name, body in entry.items():
            yield name, body


def module_calls(doc: dict) -> Iterator[tuple[str, dict]]:
    for entry in doc.get("module", []):
        for name, body in entry.items():
            yield name, body


def comments(body: Any) -> list[str]:
    """Every comment anywhere inside a block."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "__comments__":
                found.extend(c.get("value", "") for c in value)
            else:
                found.extend(comments(value))
    elif isinstance(body, list):
        for item in body:
            found.extend(comments(item))
    return found


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def strings(value: Any, skip_keys: frozenset = frozenset()) -> Iterator[tuple[str, str]]:
    """(key, string) for every string value in a nested structure."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in skip_keys or key.startswith("__"):
                continue
            if isinstance(item, str):
                yield key, item
            else:
                yield from strings(item, skip_keys)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield "", item
            else:
                yield from strings(item, skip_keys)


def var_refs(expr: Any) -> set[str]:
    return set(re.findall(r"\bvar\.([A-Za-z0-9_]+)", str(expr)))


def local_refs(expr: Any) -> set[str]:
    return set(re.findall(r"\blocal\.([A-Za-z0-9_]+)", str(expr)))


# ---------------------------------------------------------------------------
# Checkers: parsed module (dict of file -> parsed doc) in, problems out
# ---------------------------------------------------------------------------


def database_problems(module: dict[Path, dict]) -> list[str]:
    problems = []
    for path, doc in module.items():
        for rtype, name, body in blocks(doc, "resource"):
            if rtype not in ("aws_db_instance", "aws_rds_cluster"):
                continue
            where = f"{path.name}: {rtype}.{name}"
            if body.get("publicly_accessible") is not False:
                problems.append(f"{where}: publicly_accessible must be false")
            if body.get("storage_encrypted") is not True:
                problems.append(f"{where}: storage_encrypted must be true")
            if not body.get("kms_key_id"):
                problems.append(f"{where}: kms_key_id must name a customer-managed key")
            if body.get("manage_master_user_password") is not True:
                problems.append(f"{where}: the password must be managed by Secrets Manager")
            for attr in ("password", "master_password"):
                if attr in body:
                    problems.append(f"{where}: {attr} must not be set in Terraform")
            if not body.get("backup_retention_period"):
                problems.append(f"{where}: automated backups must be on")
    return problems


def _ingress_cidr_exprs(rtype: str, body: dict) -> list[Any]:
    """CIDR expressions that open ingress in one resource."""
    exprs: list[Any] = []
    if rtype == "aws_security_group":
        for rule in as_list(body.get("ingress")):
            if isinstance(rule, dict):
                exprs += as_list(rule.get("cidr_blocks")) + as_list(rule.get("ipv6_cidr_blocks"))
    elif rtype == "aws_security_group_rule" and body.get("type") == "ingress":
        exprs += as_list(body.get("cidr_blocks")) + as_list(body.get("ipv6_cidr_blocks"))
    elif rtype == "aws_vpc_security_group_ingress_rule":
        exprs += as_list(body.get("cidr_ipv4")) + as_list(body.get("cidr_ipv6"))
    return exprs


def open_ingress_problems(module: dict[Path, dict]) -> list[str]:
    """Ingress from the whole internet needs a written reason; allow-lists must reject it."""
    var_bodies = {name: body for doc in module.values() for name, body in variables(doc)}
    local_values = {}
    for doc in module.values():
        for entry in doc.get("locals", []):
            local_values.update({k: v for k, v in entry.items() if not k.startswith("__")})

    def opens_world(expr: Any) -> bool:
        text = str(expr)
        if any(w in text for w in WORLD):
            return True
        for ref in local_refs(text):
            if any(w in str(local_values.get(ref, "")) for w in WORLD):
                return True
        return False

    problems = []
    for path, doc in module.items():
        for rtype, name, body in blocks(doc, "resource"):
            exprs = _ingress_cidr_exprs(rtype, body)
            if not exprs:
                continue
            where = f"{path.name}: {rtype}.{name}"
            justified = any(c.strip().lower().startswith("public-ingress:") and len(c.split(":", 1)[1].strip()) > 10 for c in comments(body))
            if any(opens_world(e) for e in exprs) and not justified:
                problems.append(f"{where}: ingress from 0.0.0.0/0 or ::/0 without a '# public-ingress: <reason>' comment")
            # CIDRs taken from variables (directly or through for_each) must come
            # from an allow-list whose validation rejects the whole internet.
            refs = set()
            for e in exprs:
                refs |= var_refs(e)
                if "each." in str(e):
                    refs |= var_refs(body.get("for_each", ""))
            for ref in sorted(refs):
                vbody = var_bodies.get(ref)
                if vbody is None:
                    problems.append(f"{where}: ingress CIDR variable {ref} is not declared in the module")
                    continue
                conditions = " ".join(str(v.get("condition", "")) for v in as_list(vbody.get("validation")))
                if not justified and not all(w in conditions for w in WORLD):
                    problems.append(f"{where}: allow-list variable {ref} must reject 0.0.0.0/0 and ::/0 in a validation block")
    return problems


POLICY_ATTRS = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_secretsmanager_secret_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_iam_role": "assume_role_policy",
}
BROAD_MANAGED = re.compile(r"policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess|\w*FullAccess)$")


def iam_problems(module: dict[Path, dict]) -> list[str]:
    problems = []
    key_policy_docs: set[str] = set()
    for path, doc in module.items():
        for rtype, name, body in blocks(doc, "resource"):
            where = f"{path.name}: {rtype}.{name}"
            attr = POLICY_ATTRS.get(rtype)
            if attr and attr in body:
                expr = str(body[attr])
                docs = re.findall(r"data\.aws_iam_policy_document\.([A-Za-z0-9_]+)", expr)
                if not docs:
                    problems.append(f"{where}: {attr} must come from a data.aws_iam_policy_document (so it can be checked)")
                if rtype == "aws_kms_key":
                    key_policy_docs.update(docs)
            for inline in as_list(body.get("inline_policy")):
                problems.append(f"{where}: inline_policy blocks are not allowed; use aws_iam_role_policy with a policy document")
            if rtype in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_user_policy_attachment"):
                if BROAD_MANAGED.search(str(body.get("policy_arn", ""))):
                    problems.append(f"{where}: attaches a broad managed policy {body.get('policy_arn')}")
    for path, doc in module.items():
        for rtype, name, body in blocks(doc, "data"):
            if rtype != "aws_iam_policy_document":
                continue
            for i, st in enumerate(as_list(body.get("statement"))):
                where = f"{path.name}: data.{rtype}.{name} statement {i}"
                if st.get("effect", "Allow") != "Allow":
                    continue
                if st.get("not_actions"):
                    problems.append(f"{where}: Allow with not_actions grants almost everything")
                for action in as_list(st.get("actions")):
                    if action in ("*", "*:*"):
                        problems.append(f"{where}: grants the action '*'")
                    elif action.endswith(":*") and name not in key_policy_docs:
                        problems.append(f"{where}: grants a whole service ({action})")
    return problems


def lambda_problems(module: dict[Path, dict]) -> list[str]:
    problems = []
    for path, doc in module.items():
        for rtype, name, body in blocks(doc, "resource"):
            if rtype != "aws_lambda_function":
                continue
            where = f"{path.name}: {rtype}.{name}"
            if body.get("package_type") == "Image":
                commands = [as_list(c.get("command")) for c in as_list(body.get("image_config"))]
                if commands != [[HANDLER]]:
                    problems.append(f"{where}: image_config.command must be [\"{HANDLER}\"], got {commands}")
            elif body.get("handler") != HANDLER:
                problems.append(f"{where}: handler must be {HANDLER}, got {body.get('handler')!r}")
    return problems


def variable_problems(module: dict[Path, dict]) -> list[str]:
    problems = []
    for path, doc in module.items():
        for name, body in variables(doc):
            where = f"{path.name}: variable {name}"
            description = body.get("description")
            if not isinstance(description, str) or len(description.strip()) < 10:
                problems.append(f"{where}: needs a description")
            if "type" not in body:
                problems.append(f"{where}: needs a type")
            for v in as_list(body.get("validation")):
                if not v.get("error_message"):
                    problems.append(f"{where}: validation without an error_message")
    return problems


ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
REGION = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]\b")
LITERAL_ARN = re.compile(r"arn:aws[a-z-]*:")
SKIP_KEYS = frozenset({"description", "validation", "error_message", "alarm_description", "comment"})


def hardcoded_problems(module: dict[Path, dict]) -> list[str]:
    """No account id, region or ARN literal in code (validation regexes and descriptions aside)."""
    problems = []
    for path, doc in module.items():
        for section in ("resource", "data", "locals", "module", "provider", "variable", "output"):
            for key, text in strings(doc.get(section, []), SKIP_KEYS):
                where = f"{path.name}: {section} {key}={text[:60]!r}"
                if ACCOUNT_ID.search(text):
                    problems.append(f"{where}: looks like an account id")
                if REGION.search(text):
                    problems.append(f"{where}: hard-coded region")
                if LITERAL_ARN.search(text):
                    problems.append(f"{where}: hard-coded ARN (use data.aws_partition and references)")
    return problems


SECRET_ATTRS = {"password", "master_password", "secret_string", "secret_binary", "token", "access_key", "secret_key"}


def secret_problems(module: dict[Path, dict]) -> list[str]:
    problems = []
    for path, doc in module.items():
        for kind in ("resource", "data", "provider"):
            for rtype, name, body in blocks(doc, kind) if kind != "provider" else []:
                if rtype in ("aws_secretsmanager_secret_version", "aws_ssm_parameter") and kind == "resource":
                    problems.append(f"{path.name}: {rtype}.{name} would put a secret value into Terraform state")
                for attr in SECRET_ATTRS & set(body):
                    problems.append(f"{path.name}: {rtype}.{name} sets {attr}")
    return problems


def tfvars_problems(path: Path, declared: set[str]) -> list[str]:
    problems = []
    values = parse_file(path)
    for key, value in values.items():
        if key.startswith("__"):
            continue
        if key not in declared:
            problems.append(f"{path}: {key} is not a declared variable")
        if re.search(r"(password|secret|token|access_key)", key, re.I) and key not in ("api_tokens_secret_arn",):
            problems.append(f"{path}: {key} looks like a secret")
        for _, text in strings({key: value}):
            if ACCOUNT_ID.search(text) or LITERAL_ARN.search(text):
                problems.append(f"{path}: {key} contains an account id or ARN")
    return problems


def unvalidated_inputs(root: dict[Path, dict], modules: dict[str, dict[Path, dict]]) -> list[str]:
    """Every root variable a user sets must be validated: at the root, or in the module it flows into.

    Module variables without validation must only be fed by other modules' outputs
    (or locals), never straight from a user's variable.
    """

    def validated(body: dict) -> bool:
        return bool(as_list(body.get("validation")))

    def exempt(name: str, body: dict) -> bool:
        vtype = str(body.get("type", ""))
        return "bool" in vtype or (name.endswith("tags") and "map(string)" in vtype)

    root_vars = {n: b for doc in root.values() for n, b in variables(doc)}
    problems = []
    feeds: dict[str, list[tuple[str, str]]] = {}
    for doc in root.values():
        for call, body in module_calls(doc):
            source = str(body.get("source", ""))
            module_name = Path(source).name
            module_vars = {n: b for d in modules.get(module_name, {}).values() for n, b in variables(d)}
            for arg, expr in body.items():
                if arg in ("source", "version", "providers", "depends_on", "count", "for_each") or arg.startswith("__"):
                    continue
                if arg not in module_vars:
                    problems.append(f"module.{call}: argument {arg} is not a variable of {source}")
                    continue
                refs = var_refs(expr)
                for ref in refs:
                    feeds.setdefault(ref, []).append((module_name, arg))
                mbody = module_vars[arg]
                if not validated(mbody) and not exempt(arg, mbody):
                    unvalidated_refs = [r for r in refs if r in root_vars and not validated(root_vars[r])]
                    if unvalidated_refs:
                        problems.append(f"module.{call}.{arg} has no validation and is fed by unvalidated var.{unvalidated_refs[0]}")
    for name, body in root_vars.items():
        if validated(body) or exempt(name, body):
            continue
        targets = feeds.get(name, [])
        ok = targets and all(
            any(validated(b) for d in modules.get(m, {}).values() for n, b in variables(d) if n == arg) for m, arg in targets
        )
        if not ok:
            problems.append(f"root variable {name} is validated neither at the root nor in the module it feeds ({targets})")
    return problems


# ---------------------------------------------------------------------------
# The real code
# ---------------------------------------------------------------------------

ALL_DIRS = module_dirs()
DIR_IDS = [str(d.relative_to(TERRAFORM)) for d in ALL_DIRS]


def all_modules() -> dict[str, dict[Path, dict]]:
    return {d.name: parse_dir(d) for d in sorted((TERRAFORM / "modules").iterdir()) if d.is_dir()}


def test_layout() -> None:
    expected = {"kms", "network", "database", "registry", "api", "frontend", "pipeline", "monitoring"}
    assert expected <= set(all_modules())
    for name in expected:
        for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (TERRAFORM / "modules" / name / f).is_file(), f"modules/{name}/{f} missing"
    for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (ROOT / f).is_file(), f"envs/{f} missing"
    for env in ENVS:
        assert (ROOT / f"{env}.tfvars").is_file(), f"envs/{env}.tfvars missing"
    assert not [p for p in ROOT.iterdir() if p.is_dir()], "one root: per-environment folders are gone"


def test_every_file_parses() -> None:
    for path in list(TERRAFORM.rglob("*.tf")) + list(TERRAFORM.rglob("*.tfvars")):
        assert isinstance(parse_file(path), dict), path


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_database_private_and_encrypted(directory: Path) -> None:
    assert database_problems(parse_dir(directory)) == []


def test_there_is_exactly_one_database() -> None:
    found = [
        (p, n) for p, doc in parse_dir(TERRAFORM / "modules" / "database").items() for t, n, _ in blocks(doc, "resource") if t == "aws_db_instance"
    ]
    assert len(found) == 1


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_no_world_open_ingress(directory: Path) -> None:
    assert open_ingress_problems(parse_dir(directory)) == []


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_no_wildcard_iam(directory: Path) -> None:
    assert iam_problems(parse_dir(directory)) == []


def test_lambda_runs_the_mangum_handler() -> None:
    api = parse_dir(TERRAFORM / "modules" / "api")
    lambdas = [n for doc in api.values() for t, n, _ in blocks(doc, "resource") if t == "aws_lambda_function"]
    assert lambdas, "the api module must define the Lambda"
    assert lambda_problems(api) == []
    for directory in ALL_DIRS:
        assert lambda_problems(parse_dir(directory)) == [], directory


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_variables_have_description_and_type(directory: Path) -> None:
    assert variable_problems(parse_dir(directory)) == []


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_nothing_hard_coded(directory: Path) -> None:
    assert hardcoded_problems(parse_dir(directory)) == []


@pytest.mark.parametrize("directory", ALL_DIRS, ids=DIR_IDS)
def test_no_secrets_in_terraform(directory: Path) -> None:
    assert secret_problems(parse_dir(directory)) == []


def test_user_inputs_are_validated() -> None:
    assert unvalidated_inputs(parse_dir(ROOT), all_modules()) == []


@pytest.mark.parametrize("env", ENVS)
def test_tfvars_declared_and_free_of_secrets(env: str) -> None:
    root = parse_dir(ROOT)
    declared = {n for doc in root.values() for n, _ in variables(doc)}
    assert tfvars_problems(ROOT / f"{env}.tfvars", declared) == []


def test_prod_is_protected() -> None:
    prod = parse_file(ROOT / "prod.tfvars")
    assert prod["environment"] == "prod"
    assert prod["db_deletion_protection"] is True
    assert prod["db_skip_final_snapshot"] is False
    assert prod["db_multi_az"] is True
    assert prod["db_backup_retention_days"] >= 7


def test_logs_have_retention_and_encryption() -> None:
    for directory in ALL_DIRS:
        for path, doc in parse_dir(directory).items():
            for rtype, name, body in blocks(doc, "resource"):
                if rtype == "aws_cloudwatch_log_group":
                    assert body.get("retention_in_days"), f"{path}: {name} keeps logs forever"
                    assert body.get("kms_key_id"), f"{path}: {name} is not encrypted with the environment key"


def test_alarms_on_api_errors_and_pipeline_backlog() -> None:
    mon = parse_dir(TERRAFORM / "modules" / "monitoring")
    alarms = {n: b for doc in mon.values() for t, n, b in blocks(doc, "resource") if t == "aws_cloudwatch_metric_alarm"}
    assert alarms["api_5xx"]["namespace"] == "AWS/ApiGateway"
    assert alarms["api_5xx"]["metric_name"] == "5xx"
    assert alarms["backlog"]["metric_name"] == "pulsar_msg_backlog"
    assert all(b.get("alarm_actions") for b in alarms.values()), "every alarm must notify someone"


def test_frontend_bucket_is_private_behind_oac() -> None:
    fe = parse_dir(TERRAFORM / "modules" / "frontend")
    res = {(t, n): b for doc in fe.values() for t, n, b in blocks(doc, "resource")}
    pab = res[("aws_s3_bucket_public_access_block", "site")]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    oac = res[("aws_cloudfront_origin_access_control", "this")]
    assert oac["origin_access_control_origin_type"] == "s3" and oac["signing_behavior"] == "always"
    dist = res[("aws_cloudfront_distribution", "this")]
    assert "aws_cloudfront_origin_access_control.this.id" in str(dist["origin"])
    assert "website" not in str(res[("aws_s3_bucket", "site")])


def pipeline_locals() -> dict:
    found: dict = {}
    for doc in parse_dir(TERRAFORM / "modules" / "pipeline").values():
        for entry in doc.get("locals", []):
            found.update(entry)
    return found


def test_pipeline_runs_the_streamscope_cli_and_production_airflow() -> None:
    loc = pipeline_locals()
    assert loc["entry_points"]["detector"] == ["streamscope"] and loc["commands"]["detector"] == ["detector"]
    assert loc["commands"]["aggregator"] == ["aggregator"]
    airflow = {k: loc["commands"][k] for k in loc["entry_points"] if loc["entry_points"][k] == ["airflow"]}
    assert {c[0] for c in airflow.values()} == {"scheduler", "dag-processor", "api-server", "triggerer"}
    env = loc["airflow_environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] in ("LocalExecutor", "CeleryExecutor")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert "var.airflow_database_name" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert loc["metrics_ports"] == {"airflow-scheduler": 9101, "detector": 9102, "aggregator": 9103}


def test_airflow_never_runs_standalone() -> None:
    """No environment (there is one root, its tfvars differ only in sizes) runs the development mode."""
    for path in list(TERRAFORM.rglob("*.tf")) + list(TERRAFORM.rglob("*.tfvars")):
        text = path.read_text()
        assert not re.search(r'"airflow"\s*,\s*"standalone"', text), f"{path}: Airflow standalone in a deployment"
    loc = pipeline_locals()
    for service, entry in loc["entry_points"].items():
        if entry == ["airflow"]:
            assert "standalone" not in loc["commands"][service], f"{service} runs airflow standalone"


def test_every_image_of_the_services_is_built_here() -> None:
    """The streamscope services and the Lambda use the registry's images; each repository has a Dockerfile."""
    repos = {}
    for doc in parse_dir(TERRAFORM / "modules" / "registry").values():
        for name, body in variables(doc):
            if name == "repositories":
                repos = set(body["default"])
    dockerfiles = {p.name for p in DOCKER.glob("*.Dockerfile")}
    expected = {"api": {"api-lambda.Dockerfile"}, "pipeline": {"pipeline-cpu.Dockerfile", "pipeline-gpu.Dockerfile"},
                "pulsar": {"pulsar.Dockerfile"}, "cloudwatch-agent": {"cloudwatch-agent.Dockerfile"}}
    assert repos == set(expected)
    for repo in repos:
        assert expected[repo] <= dockerfiles, f"no Dockerfile builds the {repo} image"
    services = (TERRAFORM / "modules" / "pipeline" / "services.tf").read_text()
    assert 'local.gpu ? "${local.image}-gpu" : local.image' in services  # -gpu tag: pipeline-gpu.Dockerfile
    assert 'image      = local.image' not in services.replace('"${local.image}-gpu" : local.image', "")
    loc = pipeline_locals()
    assert loc["image"] == "${var.image_repository_url}:${var.image_tag}"
    root = (ROOT / "main.tf").read_text()
    assert 'module.registry.repository_urls["api"]' in root and 'module.registry.repository_urls["pipeline"]' in root
    pulsar = (TERRAFORM / "modules" / "pipeline" / "pulsar.tf").read_text()
    images = re.findall(r"^\s*image\s*=\s*(.+)$", pulsar + services, re.M)
    assert images and all("mirror_repository_urls" in i or "local.image" in i for i in images), images
    api = (TERRAFORM / "modules" / "api" / "main.tf").read_text()
    assert 'image_uri     = "${var.image_repository_url}:${var.image_tag}"' in api


def test_metrics_ports_open_only_to_the_scrapers() -> None:
    pipeline = parse_dir(TERRAFORM / "modules" / "pipeline")
    rules = [b for doc in pipeline.values() for t, n, b in blocks(doc, "resource")
             if t == "aws_vpc_security_group_ingress_rule"]
    for rule in rules:
        if not str(rule["from_port"]).isdigit():
            continue  # a variable port (the database's), not a metrics one
        low, high = int(rule["from_port"]), int(rule["to_port"])
        if low <= 9103 and high >= 9101:
            assert rule["for_each"] == "${toset(var.metrics_scraper_cidrs)}", rule
            assert rule["cidr_ipv4"] == "${each.value}" and "referenced_security_group_id" not in rule
    (scrapers,) = [b for doc in pipeline.values() for n, b in variables(doc) if n == "metrics_scraper_cidrs"]
    assert "0.0.0.0/0" in str(scrapers["validation"])  # refused by the validation


def test_every_checkov_skip_has_a_reason() -> None:
    for path in TERRAFORM.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                m = re.search(r"checkov:skip=(CKV2?_[A-Z]+_[0-9]+):(.*)$", line)
                assert m and len(m.group(2).strip()) >= 20, f"{path}: skip without a written reason: {line.strip()}"


# ---------------------------------------------------------------------------
# The checkers catch bad code (so the tests above can fail)
# ---------------------------------------------------------------------------


def _module(tmp_path: Path, text: str) -> dict[Path, dict]:
    path = tmp_path / "main.tf"
    path.write_text(text)
    return parse_dir(tmp_path)


def test_flags_public_unencrypted_database(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
resource "aws_db_instance" "db" {
  engine              = "postgres"
  publicly_accessible = true
  password            = "hunter2hunter2"
}
""",
    )
    problems = "\n".join(database_problems(bad))
    assert "publicly_accessible" in problems
    assert "storage_encrypted" in problems
    assert "password must not be set" in problems
    assert "managed by Secrets Manager" in problems


def test_flags_world_open_ingress(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
resource "aws_security_group" "a" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_vpc_security_group_ingress_rule" "b" {
  security_group_id = "x"
  cidr_ipv6         = "::/0"
}
resource "aws_security_group_rule" "c" {
  type        = "ingress"
  cidr_blocks = [local.anywhere]
}
locals {
  anywhere = "0.0.0.0/0"
}
""",
    )
    problems = open_ingress_problems(bad)
    assert len(problems) == 3, problems


def test_accepts_world_ingress_with_written_reason(tmp_path: Path) -> None:
    ok = _module(
        tmp_path,
        """
resource "aws_vpc_security_group_ingress_rule" "https" {
  # public-ingress: public HTTPS load balancer for the web UI
  security_group_id = "x"
  cidr_ipv4         = "0.0.0.0/0"
}
""",
    )
    assert open_ingress_problems(ok) == []


def test_flags_allow_list_without_validation(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
variable "ui_cidrs" {
  description = "Who may open the UI."
  type        = list(string)
}
resource "aws_vpc_security_group_ingress_rule" "ui" {
  for_each          = toset(var.ui_cidrs)
  security_group_id = "x"
  cidr_ipv4         = each.value
}
""",
    )
    assert any("ui_cidrs" in p for p in open_ingress_problems(bad))


def test_flags_wildcard_iam(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["*"]
    resources = ["*"]
  }
  statement {
    actions   = ["s3:*"]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "r" {
  role   = "x"
  policy = jsonencode({ Statement = [{ Action = "*", Effect = "Allow", Resource = "*" }] })
}
resource "aws_iam_role_policy_attachment" "admin" {
  role       = "x"
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"
}
""",
    )
    problems = "\n".join(iam_problems(bad))
    assert "grants the action '*'" in problems
    assert "whole service (s3:*)" in problems
    assert "aws_iam_policy_document" in problems
    assert "AdministratorAccess" in problems


def test_flags_wrong_lambda_handler(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
resource "aws_lambda_function" "img" {
  package_type = "Image"
  image_config {
    command = ["app.main.handler"]
  }
}
resource "aws_lambda_function" "zip" {
  handler = "main.handler"
}
""",
    )
    assert len(lambda_problems(bad)) == 2


def test_flags_undescribed_untyped_variable(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
variable "a" {}
variable "b" {
  description = "Has a description but no type."
}
""",
    )
    problems = variable_problems(bad)
    assert len(problems) == 3, problems


def test_flags_hard_coded_account_region_and_arn(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
provider "aws" {
  region = "eu-west-1"
}
resource "aws_iam_role_policy_attachment" "x" {
  role       = "r"
  policy_arn = "arn:aws:iam::123456789012:policy/thing"
}
""",
    )
    problems = "\n".join(hardcoded_problems(bad))
    assert "hard-coded region" in problems
    assert "account id" in problems
    assert "hard-coded ARN" in problems


def test_flags_secret_values(tmp_path: Path) -> None:
    bad = _module(
        tmp_path,
        """
resource "aws_secretsmanager_secret_version" "v" {
  secret_id     = "x"
  secret_string = "tok1,tok2"
}
""",
    )
    assert len(secret_problems(bad)) == 2


def test_flags_unvalidated_user_input(tmp_path: Path) -> None:
    (tmp_path / "modules" / "thing").mkdir(parents=True)
    (tmp_path / "modules" / "thing" / "variables.tf").write_text(
        """
variable "size" {
  description = "How big."
  type        = number
}
"""
    )
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(
        """
variable "size" {
  description = "How big."
  type        = number
}
module "thing" {
  source = "../modules/thing"
  size   = var.size
}
"""
    )
    problems = unvalidated_inputs(parse_dir(tmp_path / "root"), {"thing": parse_dir(tmp_path / "modules" / "thing")})
    assert len(problems) == 2, problems
