#!/usr/bin/env node
// Validates Kubernetes manifests offline: every document against the API schemas bundled in the npm package
// kubernetes-models (kubectl's own validation needs a cluster), then the references between documents that no
// schema can see (a Service selecting no pod, a missing Secret, a ConfigMap generated under another name).
//
//   node tools/k8s-validate/validate.mjs [DIR_OR_FILE...]     default: the repository's k8s/
//
// Prints one line per problem and exits 1, or prints a summary and exits 0. Limitation: the schemas do not
// reject unknown fields, so a misspelt optional field passes (a misspelt required one does not).
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as yaml from "js-yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const targets = process.argv.length > 2 ? process.argv.slice(2) : [path.resolve(here, "../../k8s")];
const problems = [];
const documents = [];
const kustomizations = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

// A placeholder is what a template must carry instead of a secret.
const isPlaceholder = (value) => typeof value === "string" && value.includes("REPLACE-ME");

function manifestFiles(target) {
  if (!existsSync(target)) {
    problem(target, "does not exist");
    return [];
  }
  if (statSync(target).isFile()) {
    return [target];
  }
  return readdirSync(target)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(target, name));
}

function load(file) {
  let parsed;
  try {
    parsed = yaml.loadAll(readFileSync(file, "utf8"));
  } catch (error) {
    problem(file, `YAML: ${error.message.split("\n")[0]}`);
    return;
  }
  parsed.forEach((doc, index) => {
    if (doc === null || doc === undefined) {
      return;
    }
    const where = `${path.basename(file)}#${index + 1}`;
    if (typeof doc !== "object" || !doc.apiVersion || !doc.kind) {
      problem(where, "not a Kubernetes object (apiVersion and kind are required)");
    } else if (doc.kind === "Kustomization") {
      kustomizations.push({ file, where, doc });
    } else {
      documents.push({ file, where, doc });
    }
  });
}

async function modelFor(apiVersion, kind) {
  // kubernetes-models is laid out by API group and version: "apps/v1" -> kubernetes-models/apps/v1.
  // The Prometheus Operator's custom resources (k8s/monitoring.yaml) come from its own models package.
  const source = apiVersion.startsWith("monitoring.coreos.com/")
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
  try {
    const module = await import(source);
    return module[kind];
  } catch {
    return undefined;
  }
}

async function validateSchema({ where, doc }) {
  const Model = await modelFor(doc.apiVersion, doc.kind);
  if (!Model) {
    problem(where, `unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`);
    return;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    const details = error.errors ?? [{ instancePath: "", message: error.message }];
    for (const detail of details) {
      const field = detail.instancePath ? detail.instancePath.slice(1).replaceAll("/", ".") : "(document)";
      problem(`${where} ${doc.kind}/${doc.metadata?.name ?? "?"}`, `${field} ${detail.message}`);
    }
  }
}

// kustomize's own rules for what this project uses: resources listed and present, generated ConfigMaps
// rendered here (kubectl kustomize may be absent) so they are validated like any other document.
function expandKustomization({ file, where, doc }) {
  const dir = path.dirname(file);
  const known = new Set(["apiVersion", "kind", "resources", "configMapGenerator", "secretGenerator", "images", "labels", "namespace", "commonLabels"]);
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) {
      problem(where, `field '${key}' is not used by this project's kustomization (typo?)`);
    }
  }
  const listed = new Set();
  for (const resource of doc.resources ?? []) {
    const resolved = path.resolve(dir, resource);
    listed.add(resolved);
    if (!existsSync(resolved)) {
      problem(where, `resource ${resource} does not exist`);
    }
  }
  for (const generator of doc.configMapGenerator ?? []) {
    const data = {};
    for (const entry of generator.files ?? []) {
      const [key, source] = entry.includes("=") ? entry.split("=", 2) : [path.basename(entry), entry];
      const resolved = path.resolve(dir, source);
      if (!existsSync(resolved)) {
        problem(where, `configMapGenerator ${generator.name}: file ${source} does not exist`);
        continue;
      }
      data[key] = readFileSync(resolved, "utf8");
    }
    documents.push({ file, where: `${where} configMapGenerator`, doc: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: generator.name }, data } });
  }
  return [...listed];
}

function selects(selector, labels) {
  const wanted = selector?.matchLabels ?? selector ?? {};
  return Object.keys(wanted).length > 0 && Object.entries(wanted).every(([key, value]) => labels?.[key] === value);
}

function checkReferences(secretTemplates) {
  const byKind = (kind) => documents.filter(({ doc }) => doc.kind === kind);
  const workloads = documents.filter(({ doc }) => ["Deployment", "StatefulSet"].includes(doc.kind));
  const named = (kind, name) => byKind(kind).some(({ doc }) => doc.metadata?.name === name);
  const secretNames = new Set([...byKind("Secret"), ...secretTemplates].map(({ doc }) => doc.metadata?.name));

  for (const { where, doc } of byKind("Service")) {
    if (doc.spec?.selector && !workloads.some((w) => selects(doc.spec.selector, w.doc.spec?.template?.metadata?.labels))) {
      problem(where, `Service ${doc.metadata.name} selects no pod of any workload here`);
    }
  }
  for (const { where, doc } of workloads) {
    const spec = doc.spec ?? {};
    const podLabels = spec.template?.metadata?.labels;
    if (!selects(spec.selector, podLabels)) {
      problem(where, `${doc.kind} ${doc.metadata?.name}: spec.selector does not match its own pod labels`);
    }
    if (doc.kind === "StatefulSet") {
      const service = byKind("Service").find(({ doc: s }) => s.metadata?.name === spec.serviceName);
      if (!service) {
        problem(where, `StatefulSet ${doc.metadata?.name}: serviceName ${spec.serviceName} is not a Service here`);
      } else if (service.doc.spec?.clusterIP !== "None") {
        problem(where, `StatefulSet ${doc.metadata?.name}: its Service ${spec.serviceName} must be headless (clusterIP: None)`);
      }
    }
    const podSpec = spec.template?.spec ?? {};
    const containers = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
    const portNames = new Set(containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const volume of podSpec.volumes ?? []) {
      if (volume.secret && !secretNames.has(volume.secret.secretName)) {
        problem(where, `volume ${volume.name}: Secret ${volume.secret.secretName} is neither here nor in a secrets template`);
      }
      if (volume.configMap && !named("ConfigMap", volume.configMap.name)) {
        problem(where, `volume ${volume.name}: ConfigMap ${volume.configMap.name} is neither here nor generated`);
      }
    }
    for (const container of containers) {
      for (const env of container.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (ref && !secretNames.has(ref.name)) {
          problem(where, `container ${container.name} env ${env.name}: Secret ${ref.name} is neither here nor in a secrets template`);
        }
      }
      for (const probeName of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const port = container[probeName]?.httpGet?.port;
        if (typeof port === "string" && !portNames.has(port)) {
          problem(where, `container ${container.name} ${probeName}: no container port named ${port}`);
        }
      }
      const preStopPort = container.lifecycle?.preStop?.httpGet?.port;
      if (typeof preStopPort === "string" && !portNames.has(preStopPort)) {
        problem(where, `container ${container.name} preStop: no container port named ${preStopPort}`);
      }
    }
  }
  for (const { where, doc } of [...byKind("PodDisruptionBudget")]) {
    if (!workloads.some((w) => selects(doc.spec?.selector, w.doc.spec?.template?.metadata?.labels))) {
      problem(where, `PodDisruptionBudget ${doc.metadata?.name} selects no pod of any workload here`);
    }
  }
  for (const { where, doc } of byKind("HorizontalPodAutoscaler")) {
    const target = doc.spec?.scaleTargetRef ?? {};
    if (!named(target.kind, target.name)) {
      problem(where, `HorizontalPodAutoscaler ${doc.metadata?.name}: scaleTargetRef ${target.kind}/${target.name} is not here`);
    }
  }
}

// The policy every workload here keeps (the relay's, HAProxy's and Redis's pods alike): a pod that can be checked,
// scheduled and contained. Each rule names the container and the field to fix.
function checkPolicies() {
  const workloads = documents.filter(({ doc }) => ["Deployment", "StatefulSet", "DaemonSet"].includes(doc.kind));
  const policies = documents.filter(({ doc }) => doc.kind === "NetworkPolicy");
  const podLabelSets = workloads.map((w) => w.doc.spec?.template?.metadata?.labels ?? {});
  // An empty selector in a rule means every pod of the namespace: it always admits someone.
  const selectsAnyPod = (selector) =>
    (Object.keys(selector.matchLabels ?? {}).length === 0 && !selector.matchExpressions) || podLabelSets.some((labels) => selects(selector, labels));

  for (const { where, doc } of workloads) {
    const name = `${doc.kind} ${doc.metadata?.name}`;
    const podSpec = doc.spec?.template?.spec ?? {};
    const pod = podSpec.securityContext ?? {};
    if (podSpec.automountServiceAccountToken !== false) {
      problem(where, `${name}: automountServiceAccountToken must be false (the relay, HAProxy and Redis never call the Kubernetes API)`);
    }
    if (podSpec.hostNetwork || podSpec.hostPID || podSpec.hostIPC) {
      problem(where, `${name}: shares the host's network, PID or IPC namespace`);
    }
    for (const container of podSpec.containers ?? []) {
      const c = `${name} container ${container.name}`;
      for (const probe of ["readinessProbe", "livenessProbe"]) {
        const p = container[probe];
        if (!p || !(p.httpGet || p.tcpSocket || p.exec || p.grpc)) {
          problem(where, `${c}: no ${probe} (httpGet, tcpSocket, exec or grpc)`);
        }
      }
      const resources = container.resources ?? {};
      for (const [kind, key] of [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]) {
        if (resources[kind]?.[key] === undefined) {
          problem(where, `${c}: no resources.${kind}.${key}`);
        }
      }
      const security = container.securityContext ?? {};
      if ((security.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
        problem(where, `${c}: runAsNonRoot is not true (pod or container securityContext)`);
      }
      if ((security.runAsUser ?? pod.runAsUser) === 0) {
        problem(where, `${c}: runs as user 0`);
      }
      if (security.privileged === true) {
        problem(where, `${c}: securityContext.privileged is true`);
      }
      if (security.allowPrivilegeEscalation !== false) {
        problem(where, `${c}: securityContext.allowPrivilegeEscalation must be false`);
      }
      if (security.readOnlyRootFilesystem !== true) {
        problem(where, `${c}: securityContext.readOnlyRootFilesystem must be true`);
      }
      if (!(security.capabilities?.drop ?? []).includes("ALL")) {
        problem(where, `${c}: securityContext.capabilities.drop must include ALL`);
      }
      if ((security.capabilities?.add ?? []).length > 0) {
        problem(where, `${c}: securityContext.capabilities.add ${security.capabilities.add.join(", ")}`);
      }
      const seccomp = (security.seccompProfile ?? pod.seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        problem(where, `${c}: seccompProfile.type must be RuntimeDefault or Localhost (pod or container), not ${seccomp ?? "unset"}`);
      }
    }
    const labels = doc.spec?.template?.metadata?.labels ?? {};
    const covering = policies.filter(({ doc: policy }) =>
      (policy.spec?.policyTypes ?? ["Ingress"]).includes("Ingress") && selects(policy.spec?.podSelector, labels));
    if (covering.length === 0) {
      problem(where, `${name}: no NetworkPolicy with Ingress selects its pods (every pod here takes traffic only as a policy allows)`);
    }
  }

  for (const { where, doc } of policies) {
    const name = `NetworkPolicy ${doc.metadata?.name}`;
    const selector = doc.spec?.podSelector;
    if (isDefaultDeny(doc)) {
      continue;
    }
    if (!selector || Object.keys(selector.matchLabels ?? {}).length === 0) {
      problem(where, `${name}: spec.podSelector must name the pods it is for (an empty selector takes every pod of the namespace; only a default deny without rules may have one)`);
    } else if (!workloads.some((w) => selects(selector, w.doc.spec?.template?.metadata?.labels))) {
      problem(where, `${name}: spec.podSelector selects no pod of any workload here`);
    }
    for (const [index, rule] of (doc.spec?.ingress ?? []).entries()) {
      for (const peer of rule.from ?? []) {
        if (peer.podSelector && !peer.namespaceSelector && !selectsAnyPod(peer.podSelector)) {
          problem(where, `${name}: ingress.${index} admits pods selected by ${JSON.stringify(peer.podSelector.matchLabels ?? {})}, which no workload here has`);
        }
      }
      const target = workloads.find((w) => selects(selector, w.doc.spec?.template?.metadata?.labels));
      const containerPorts = (target?.doc.spec?.template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
      for (const port of rule.ports ?? []) {
        const known = typeof port.port === "string"
          ? containerPorts.some((p) => p.name === port.port)
          : port.port === undefined || containerPorts.some((p) => p.containerPort === port.port);
        if (target && !known) {
          problem(where, `${name}: ingress.${index} port ${port.port} is not a port of ${target.doc.kind} ${target.doc.metadata?.name}`);
        }
      }
    }
  }
}

// A policy for every pod of the namespace that admits nothing: what a pod no other policy names is left with.
function isDefaultDeny(doc) {
  const selector = doc.spec?.podSelector ?? {};
  return Object.keys(selector.matchLabels ?? {}).length === 0 && !selector.matchExpressions
    && (doc.spec?.policyTypes ?? []).includes("Ingress") && (doc.spec?.ingress ?? []).length === 0;
}

// The closed cluster (issue 12): who may reach each port of the relay and Redis pods. Checked when the relay's
// workload is among the documents (the project's own k8s/); each port must be admitted, and only from these peers:
// "pods:X" is a podSelector on app.kubernetes.io/name X in the same namespace, "monitoring" a named namespace (never
// every namespace) with a pod selector. A port of the relay not in this table is a port nobody thought about.
const closedCluster = {
  "vnc-relay": { public: "pods:haproxy", agent: "pods:haproxy", silo: "pods:vnc-relay", admin: "monitoring" },
  redis: { redis: "pods:vnc-relay" },
};

function describePeer(peer) {
  if (peer.ipBlock) {
    return `ipBlock ${peer.ipBlock.cidr}`;
  }
  const namespaces = peer.namespaceSelector;
  const pods = peer.podSelector?.matchLabels ?? {};
  if (namespaces) {
    const named = Object.keys(namespaces.matchLabels ?? {}).length > 0 || namespaces.matchExpressions;
    if (!named) {
      return "every namespace";
    }
    return Object.keys(pods).length > 0 ? "monitoring" : `every pod of namespace ${JSON.stringify(namespaces.matchLabels)}`;
  }
  const app = pods["app.kubernetes.io/name"];
  return app && Object.keys(pods).length === 1 ? `pods:${app}` : `pods ${JSON.stringify(pods)}`;
}

function checkClosedCluster() {
  const workloads = documents.filter(({ doc }) => ["Deployment", "StatefulSet"].includes(doc.kind));
  const appOf = (w) => w.doc.spec?.template?.metadata?.labels?.["app.kubernetes.io/name"];
  if (!workloads.some((w) => appOf(w) === "vnc-relay")) {
    return;
  }
  const policies = documents.filter(({ doc }) => doc.kind === "NetworkPolicy");
  if (!policies.some(({ doc }) => isDefaultDeny(doc))) {
    problem("closed cluster", "no default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress], no ingress rules): a pod no policy names would take traffic from anywhere");
  }
  for (const [app, table] of Object.entries(closedCluster)) {
    const workload = workloads.find((w) => appOf(w) === app);
    if (!workload) {
      continue;
    }
    const labels = workload.doc.spec?.template?.metadata?.labels ?? {};
    const ports = (workload.doc.spec?.template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
    const rules = policies
      .filter(({ doc }) => !isDefaultDeny(doc) && (doc.spec?.policyTypes ?? ["Ingress"]).includes("Ingress") && selects(doc.spec?.podSelector, labels))
      .flatMap(({ doc }) => (doc.spec?.ingress ?? []).map((rule) => ({ policy: doc.metadata?.name, rule })));
    for (const port of ports) {
      const where = `closed cluster: ${workload.doc.kind} ${workload.doc.metadata?.name} port ${port.name ?? port.containerPort}`;
      const wanted = table[port.name];
      const admitting = rules.filter(({ rule }) => !rule.ports || rule.ports.some((p) => p.port === port.name || p.port === port.containerPort));
      if (!wanted) {
        if (admitting.length > 0) {
          problem(where, `is admitted by NetworkPolicy ${admitting[0].policy} but has no entry in the closed-cluster table (tools/k8s-validate/validate.mjs): say who may reach it`);
        }
        continue;
      }
      if (admitting.length === 0) {
        problem(where, `no NetworkPolicy admits it; only ${wanted} should reach it`);
      }
      for (const { policy, rule } of admitting) {
        for (const peer of rule.from ?? [null]) {
          const found = peer === null ? "anyone (a rule without from)" : describePeer(peer);
          if (found !== wanted) {
            problem(where, `NetworkPolicy ${policy} admits ${found}; only ${wanted} may reach it`);
          }
        }
      }
    }
  }
}

function checkSecretTemplates(secretTemplates) {
  for (const { where, doc } of secretTemplates) {
    for (const [key, value] of Object.entries({ ...(doc.stringData ?? {}), ...(doc.data ?? {}) })) {
      if (!isPlaceholder(value)) {
        problem(where, `Secret ${doc.metadata?.name} key ${key}: a template must hold a REPLACE-ME placeholder, not a value`);
      }
    }
  }
}

const files = targets.flatMap(manifestFiles);
files.forEach(load);
const listedByKustomization = new Set(kustomizations.flatMap(expandKustomization));
if (kustomizations.length > 0) {
  for (const file of files) {
    const isTemplate = /\.example\.ya?ml$/.test(file);
    if (!isTemplate && path.basename(file) !== "kustomization.yaml" && !listedByKustomization.has(path.resolve(file))) {
      problem(path.basename(file), "is not listed in kustomization.yaml resources (templates are named *.example.yaml)");
    }
  }
}
// Secret templates are validated like everything else but stay out of the applied set.
const secretTemplates = documents.filter(({ file, doc }) => doc.kind === "Secret" && /\.example\.ya?ml$/.test(file));
for (const entry of documents) {
  await validateSchema(entry);
}
checkReferences(secretTemplates);
checkPolicies();
checkClosedCluster();
checkSecretTemplates(secretTemplates);

if (problems.length > 0) {
  for (const line of problems) {
    console.error(`k8s-validate: ${line}`);
  }
  console.error(`k8s-validate: ${problems.length} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
const kinds = [...new Set(documents.map(({ doc }) => doc.kind))].sort().join(", ");
console.log(`k8s-validate: ${documents.length} documents in ${files.length} file(s) valid (${kinds})`);
