"""Checks deploy/helm/ocean-azure-devops with Helm itself, offline.

Helm here is the Helm v4 Go SDK compiled into a C library (PyPI `helm-python-sdk`, installed by
.ci/helm-check): `lint` is `helm lint`, `Chart.render` is `helm template` without a cluster, and
`parse_set_string` is Helm's own `--set` parser. No Kubernetes API server is involved, so objects
are not validated against Kubernetes schemas (only the structural checks below).

Usage: python3 .ci/helm_check.py [CHART_DIR]   (exits 1 on any failed check)
"""

import base64
import json
import re
import sys
from pathlib import Path

import helm_python as helm
import yaml

CHART = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/helm/ocean-azure-devops")
PAT, HOOK_SECRET, CLIENT_SECRET = "pat-value-1", "hook-secret-2", "client-secret-3"

# The `--set` keys of Port's Helm install docs for this integration (ocean-azure-devops.md §2.1).
PORT_DOCS = [
    "port.clientId=client-id-4",
    f"port.clientSecret={CLIENT_SECRET}",
    "port.baseUrl=https://api.us.getport.io",
    "initializePortResources=true",
    "sendRawDataExamples=false",
    "scheduledResyncInterval=120",
    "createPortResourcesOrigin=Port",
    "integration.identifier=my-ado",
    "integration.type=azure-devops",
    "integration.eventListener.type=POLLING",
    f"integration.secrets.personalAccessToken={PAT}",
    f"integration.secrets.webhookSecret={HOOK_SECRET}",
    "integration.config.organizationUrl=https://dev.azure.com/acme",
    "integration.config.appHost=https://ado.example.com",
    "integration.config.isProjectsLimited=false",
]
REQUIRED = ["port.clientId=id", "port.clientSecret=secret", "integration.identifier=my-ado"]

passed, failed = 0, 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}: {detail}")


def merge(dst, src):
    """Helm's strvals.ParseInto onto earlier --set flags: maps merge, list entries by index."""
    if isinstance(dst, dict) and isinstance(src, dict):
        for k, v in src.items():
            dst[k] = merge(dst[k], v) if k in dst else v
        return dst
    if isinstance(dst, list) and isinstance(src, list):
        return [merge(d, s) if s is not None else d for d, s in zip(dst, src)] + (
            dst[len(src):] if len(dst) > len(src) else src[len(dst):])
    return src


def values_of(sets):
    """Each --set parsed by Helm's own strvals parser, merged in order as repeated flags are."""
    out = {}
    for s in sets:
        out = merge(out, helm.parse_set_string(s))
    return out


def render(sets, install=True):
    """helm template: {(kind, name): object}, plus NOTES.txt text."""
    files = helm.Chart.load(CHART).render(
        values_of(sets), name="rel", namespace="ns", is_install=install, is_upgrade=not install
    )
    objs = {}
    for path, text in files.items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objs[(doc["kind"], doc["metadata"]["name"])] = doc
    return objs


def one(objs, kind):
    found = [o for (k, _), o in objs.items() if k == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def pod_of(obj):
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]


def effective_env(objs, container):
    """The container's env as the kubelet builds it: envFrom in order, then env on top.
    Values map to (source kind, value)."""
    env = {}
    for src in container.get("envFrom", []):
        if "configMapRef" in src:
            data = objs[("ConfigMap", src["configMapRef"]["name"])]["data"]
            env.update({k: ("ConfigMap", v) for k, v in data.items()})
        else:
            sec = objs.get(("Secret", src["secretRef"]["name"]))
            for k, v in ((sec or {}).get("data") or {}).items():
                env[k] = ("Secret", base64.b64decode(v).decode())
    for e in container.get("env", []):
        env[e["name"]] = ("env", e.get("value"))
    return env


def static_checks():
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def has(path):
        node = values
        for part in path:
            if isinstance(node, dict) and node == {}:
                return True  # a free-form map (integration.config, podAnnotations, ...)
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    refs = set()
    for tpl in sorted((CHART / "templates").iterdir()):
        for m in re.finditer(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", tpl.read_text()):
            refs.add((tpl.name, m.group(1)[1:]))
    missing = sorted(f"{f}: .Values.{p}" for f, p in refs if not has(p.split(".")))
    check(not missing, f"all {len(refs)} .Values paths in templates exist in values.yaml", missing)
    docs = [s.split("=")[0] for s in PORT_DOCS]
    missing = [k for k in docs if not has(k.split("."))]
    check(not missing, "the Port-docs --set keys exist in values.yaml", missing)


def lint():
    report = helm.lint(CHART, values_of(PORT_DOCS), strict=True)
    bad = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    check(not bad, "helm lint --strict with the Port-docs values", bad)


def port_docs_deployment():
    objs = render(PORT_DOCS)
    dep = one(objs, "Deployment")
    pod = pod_of(dep)
    c = pod["spec"]["containers"][0]
    env = effective_env(objs, c)
    cm = one(objs, "ConfigMap")["data"]

    expected = {
        "OCEAN__PORT__BASE_URL": "https://api.us.getport.io",
        "OCEAN__INITIALIZE_PORT_RESOURCES": "true",
        "OCEAN__SEND_RAW_DATA_EXAMPLES": "false",
        "OCEAN__SCHEDULED_RESYNC_INTERVAL": "120",
        "OCEAN__CREATE_PORT_RESOURCES_ORIGIN": "Port",
        "OCEAN__INTEGRATION__IDENTIFIER": "my-ado",
        "OCEAN__INTEGRATION__TYPE": "azure-devops",
        "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL": "https://dev.azure.com/acme",
        "OCEAN__INTEGRATION__CONFIG__APP_HOST": "https://ado.example.com",
        "OCEAN__INTEGRATION__CONFIG__IS_PROJECTS_LIMITED": "false",
        "APPLICATION__PORT": "8000",
    }
    for k, v in expected.items():
        check(env.get(k) == ("ConfigMap", v), f"{k}={v!r} from the ConfigMap", env.get(k))
    check(all(isinstance(v, str) for v in cm.values()), "every ConfigMap value is a string")
    listener = json.loads(env["OCEAN__EVENT_LISTENER"][1])
    check(listener.get("type") == "POLLING", "OCEAN__EVENT_LISTENER is JSON with type POLLING", listener)
    for k, v in [
        ("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN", PAT),
        ("OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET", HOOK_SECRET),
        ("OCEAN__PORT__CLIENT_SECRET", CLIENT_SECRET),
        ("OCEAN__PORT__CLIENT_ID", "client-id-4"),
    ]:
        check(env.get(k) == ("Secret", v), f"{k} comes from the Secret", env.get(k))
    leaked = [v for v in cm.values() if PAT in v or HOOK_SECRET in v or CLIENT_SECRET in v]
    check(not leaked, "no secret value in the ConfigMap")

    probes = {
        "livenessProbe": ("/health/live", 30, 10, 5, 1, 3),
        "readinessProbe": ("/health/ready", 5, 5, 5, 1, 5),
    }
    for name, (path, delay, period, timeout, success, failure) in probes.items():
        p = c.get(name, {})
        got = (p.get("httpGet", {}).get("path"), p.get("initialDelaySeconds"), p.get("periodSeconds"),
               p.get("timeoutSeconds"), p.get("successThreshold"), p.get("failureThreshold"))
        check(got == (path, delay, period, timeout, success, failure) and p["httpGet"]["port"] == 8000,
              f"{name} GET {path} on 8000 with port-ocean timings", got)
    check(c["ports"][0]["containerPort"] == 8000, "containerPort 8000")
    check(dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"]["type"] == "Recreate",
          "one replica, Recreate")
    check(pod["spec"]["terminationGracePeriodSeconds"] == 30, "terminationGracePeriodSeconds 30")
    check(c["resources"] == {"requests": {"memory": "64Mi", "cpu": "50m"},
                             "limits": {"memory": "256Mi", "cpu": "500m"}}, "resources 64Mi/50m, 256Mi/500m")
    sc, csc = pod["spec"]["securityContext"], c["securityContext"]
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 1001
          and csc.get("readOnlyRootFilesystem") is True, "non-root uid 1001, read-only root filesystem")
    check(c["image"] == "ocean-azure-devops:0.1.0", "image tag defaults to appVersion", c["image"])

    labels = pod["metadata"]["labels"]
    sel = dep["spec"]["selector"]["matchLabels"]
    check(sel.items() <= labels.items(), "Deployment selector matches its pod labels")
    svc = one(objs, "Service")
    check(svc["spec"]["selector"].items() <= labels.items(), "Service selects the Deployment's pods")
    check(svc["spec"]["ports"][0] == {"name": "ocean-port", "protocol": "TCP", "port": 8000, "targetPort": 8000},
          "Service port 8000 named ocean-port")
    names = sorted(n for _, n in objs)
    check(names == sorted(f"ocean-azure-devops-my-ado-{s}" for s in ["config", "secret", "deployment", "service"]),
          "port-ocean's object names", names)
    bad = [n for n in names + list(labels.values()) if len(str(n)) > 63]
    check(not bad, "names and label values fit 63 characters")


def defaults():
    objs = render(REQUIRED)
    cm = one(objs, "ConfigMap")["data"]
    listener = json.loads(cm["OCEAN__EVENT_LISTENER"])
    check(listener.get("type") == "KAFKA" and "kafka.eu-west-1.amazonaws.com:9196" in listener.get("brokers", ""),
          "default listener is port-ocean's KAFKA with Port's brokers")
    check(cm["OCEAN__SEND_RAW_DATA_EXAMPLES"] == "true", "sendRawDataExamples defaults to true")
    check("OCEAN__SCHEDULED_RESYNC_INTERVAL" not in cm, "no scheduled resync by default")
    objs = render(REQUIRED + ["integration.config.excludedTags={a,b}", "integration.config.nested.k=v"])
    cm = one(objs, "ConfigMap")["data"]
    check(json.loads(cm["OCEAN__INTEGRATION__CONFIG__EXCLUDED_TAGS"]) == ["a", "b"]
          and json.loads(cm["OCEAN__INTEGRATION__CONFIG__NESTED"]) == {"k": "v"}, "lists and maps JSON-encoded")
    values = values_of(REQUIRED)
    values.update(helm.parse_set_string_values("sendRawDataExamples=false"))
    files = helm.Chart.load(CHART).render(values, name="rel", namespace="ns")
    check('OCEAN__SEND_RAW_DATA_EXAMPLES: "false"' in "".join(files.values()),
          "--set-string sendRawDataExamples=false renders false too")


def actions_processor():
    cm = one(render(REQUIRED), "ConfigMap")["data"]
    check(cm["OCEAN__ACTIONS_PROCESSOR__ENABLED"] == "false", "the actions processor is off by default")
    cm = one(render(REQUIRED + ["actionsProcessor.enabled=true",
                                "actionsProcessor.extraConfig.workersCount=5"]),
              "ConfigMap")["data"]
    check((cm["OCEAN__ACTIONS_PROCESSOR__ENABLED"], cm.get("OCEAN__ACTIONS_PROCESSOR__WORKERS_COUNT"))
          == ("true", "5"), "actionsProcessor.enabled and extraConfig render as port-ocean's",
          {k: v for k, v in cm.items() if "ACTIONS" in k})


def cronjob():
    objs = render(REQUIRED + ["workload.kind=CronJob", "scheduledResyncInterval=0 */2 * * *"])
    kinds = sorted(k for k, _ in objs)
    check(kinds == ["ConfigMap", "CronJob", "Job", "Secret"], "CronJob mode: CronJob, install Job, no Service", kinds)
    cj = one(objs, "CronJob")
    cm = one(objs, "ConfigMap")["data"]
    check(cj["spec"]["schedule"] == "0 */2 * * *" and cj["spec"]["concurrencyPolicy"] == "Replace",
          "schedule from scheduledResyncInterval, concurrencyPolicy Replace")
    check(json.loads(cm["OCEAN__EVENT_LISTENER"]) == {"type": "ONCE"}, "CronJob forces the ONCE listener")
    check("OCEAN__SCHEDULED_RESYNC_INTERVAL" not in cm, "no in-process timer in CronJob mode")
    pod = pod_of(cj)["spec"]
    check(pod["restartPolicy"] == "Never" and "livenessProbe" not in pod["containers"][0]
          and cj["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0, "Never restart, no probes, backoffLimit 0")
    check(len(cj["metadata"]["name"]) <= 52, "CronJob name fits 52 characters")
    objs = render(REQUIRED + ["workload.kind=CronJob", "scheduledResyncInterval=120"], install=False)
    check(one(objs, "CronJob")["spec"]["schedule"] == "0 */2 * * *", "120 minutes becomes 0 */2 * * *")
    try:
        render(REQUIRED + ["workload.kind=CronJob", "scheduledResyncInterval=90"])
        check(False, "90 minutes (no cron form) is refused")
    except helm.HelmError as e:
        check("no cron form" in str(e), "90 minutes (no cron form) is refused")


def options():
    try:
        render(["integration.identifier=x"])
        check(False, "port.clientId is required")
    except helm.HelmError as e:
        check("port.clientId is required" in str(e), "port.clientId is required")

    objs = render(["integration.identifier=x", "secret.create=false", "secret.name=existing"])
    c = pod_of(one(objs, "Deployment"))["spec"]["containers"][0]
    check("Secret" not in {k for k, _ in objs} and {"secretRef": {"name": "existing"}} in c["envFrom"],
          "secret.create=false uses the named Secret")

    objs = render(REQUIRED + ["selfSignedCertificate.enabled=true", "selfSignedCertificate.certificate=PEM",
                              "extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy:3128",
                              "extraEnv[1].name=NO_PROXY", "extraEnv[1].value=.svc\\,.cluster.local",
                              "podServiceAccount.create=true", "ingress.enabled=true", "ingress.host=ado.example.com"])
    pod = pod_of(one(objs, "Deployment"))["spec"]
    env = effective_env(objs, pod["containers"][0])
    cert = objs.get(("Secret", "ocean-azure-devops-my-ado-cert"), {})
    check(base64.b64decode(cert.get("data", {}).get("crt", "")) == b"PEM"
          and pod["volumes"][0]["secret"]["secretName"] == cert["metadata"]["name"]
          and pod["containers"][0]["volumeMounts"][0]["mountPath"] == "/usr/local/share/ca-certificates/cert.crt"
          and env.get("SSL_CERT_DIR") == ("env", "/usr/local/share/ca-certificates")
          and env.get("REQUESTS_CA_BUNDLE") == ("env", "/usr/local/share/ca-certificates/cert.crt"),
          "selfSignedCertificate: Secret, mount, and REQUESTS_CA_BUNDLE naming the mounted CA")
    check(env.get("HTTPS_PROXY") == ("env", "http://proxy:3128")
          and env.get("NO_PROXY") == ("env", ".svc,.cluster.local"),
          "proxy extraEnv (HTTPS_PROXY, NO_PROXY with a comma) reaches the container")
    sa = one(objs, "ServiceAccount")
    check(pod.get("serviceAccountName") == sa["metadata"]["name"], "podServiceAccount.create: the pod uses it")
    backend = one(objs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    check(backend == {"name": one(objs, "Service")["metadata"]["name"], "port": {"number": 8000}},
          "Ingress routes to the Service on 8000")


def main():
    print(f"helm SDK {helm.helm_sdk_version()} (helm-python-sdk), chart {CHART}")
    for step in (static_checks, lint, port_docs_deployment, defaults, actions_processor, cronjob, options):
        try:
            step()
        except Exception as e:  # a render error or a missing object fails the step, not the run
            check(False, f"{step.__name__}: {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
