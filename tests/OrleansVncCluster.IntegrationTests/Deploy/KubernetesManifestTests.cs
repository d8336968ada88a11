using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// k8s/ against the Kubernetes API schemas (npm kubernetes-models via tools/k8s-validate), the references between its
/// documents and this project's policy (probes, resources, security contexts, NetworkPolicies), offline: no single-node
/// Kubernetes (k3s, kind, minikube) is packaged for this machine and none can be downloaded, so nothing is applied.
/// </summary>
[Collection(MachineWide.Name)]
public sealed class KubernetesManifestTests : IDisposable
{
    private readonly string _directory = Repo.TempDirectory("k8s");

    [Fact]
    public async Task ShippedManifests_AreValid()
    {
        var result = await DeployCommands.ValidateManifestsAsync();

        Assert.True(result.ExitCode == 0, $"k8s-validate found problems:\n{result.Output}");
        foreach (var kind in new[] { "StatefulSet", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap", "Secret", "NetworkPolicy" })
        {
            Assert.Contains(kind, result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ManifestBreakingTheSchema_IsRejectedNamingTheField()
    {
        var file = Write("broken.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: broken
            spec:
              selector:
                matchLabels: {app: broken}
              template:
                metadata:
                  labels: {app: broken}
                spec:
                  containers:
                    - name: relay
                      image: vnc-relay
                      ports:
                        - containerPort: "six-thousand-eighty"
            """);

        await AssertRejectedAsync(file, "containers.0.ports.0.containerPort must be integer");
    }

    [Fact]
    public async Task ServiceSelectingNoPod_IsRejected()
    {
        var file = Write("orphan.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: orphan
            spec:
              selector: {app: nobody}
              ports: [{port: 80}]
            """);

        await AssertRejectedAsync(file, "Service orphan selects no pod");
    }

    [Fact]
    public async Task SecretTemplateWithARealValue_IsRejected()
    {
        var file = Write("secrets.example.yaml", """
            apiVersion: v1
            kind: Secret
            metadata:
              name: haproxy-stats
            stringData:
              password: xabiquo
            """);

        await AssertRejectedAsync(file, "Secret haproxy-stats key password");
    }

    [Fact]
    public async Task KustomizeOutput_WhatKubectlWouldApply_IsValidWithTheSecretTemplates()
    {
        var rendered = await DeployCommands.RunAsync("kubectl-kustomize", "bash",
            ["-c", "kubectl kustomize --load-restrictor LoadRestrictionsNone \"$0\" > \"$1\"", Path.Combine(Repo.Root, "k8s"), Path.Combine(_directory, "rendered.yaml")]);
        Assert.True(rendered.ExitCode == 0, $"kubectl kustomize failed:\n{rendered.Output}");

        var result = await DeployCommands.ValidateManifestsAsync(Path.Combine(_directory, "rendered.yaml"), Path.Combine(Repo.Root, "k8s", "secrets.example.yaml"));

        Assert.True(result.ExitCode == 0, $"k8s-validate found problems in kubectl kustomize's output:\n{result.Output}");
        Assert.Contains("NetworkPolicy", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("readinessProbe:", "no readinessProbe")]
    [InlineData("livenessProbe:", "no livenessProbe")]
    [InlineData("limits: {memory: 512Mi}", "no resources.limits.memory")]
    [InlineData("requests: {cpu: 100m, memory: 64Mi}", "no resources.requests.cpu")]
    [InlineData("allowPrivilegeEscalation: false", "allowPrivilegeEscalation must be false")]
    [InlineData("readOnlyRootFilesystem: true", "readOnlyRootFilesystem must be true")]
    [InlineData("drop: [ALL]", "capabilities.drop must include ALL")]
    [InlineData("runAsNonRoot: true", "runAsNonRoot is not true")]
    [InlineData("type: RuntimeDefault", "seccompProfile.type must be RuntimeDefault or Localhost")]
    [InlineData("automountServiceAccountToken: false", "automountServiceAccountToken must be false")]
    public async Task WorkloadMissingAPolicyField_IsRejectedNamingIt(string removedLine, string problem)
    {
        var yaml = CompliantWorkload + CoveringPolicy;
        Assert.Contains(removedLine, yaml, StringComparison.Ordinal);
        var file = Write("workload.yaml", RemoveLine(yaml, removedLine));

        await AssertRejectedAsync(file, problem);
    }

    [Fact]
    public async Task CompliantWorkload_WithItsNetworkPolicy_IsAccepted()
    {
        // The cases above differ from this by one line each: it is that line they are rejected for.
        var result = await DeployCommands.ValidateManifestsAsync(Write("workload.yaml", CompliantWorkload + CoveringPolicy));

        Assert.True(result.ExitCode == 0, $"k8s-validate rejected the compliant workload:\n{result.Output}");
    }

    [Fact]
    public async Task PrivilegedContainer_IsRejected()
    {
        var file = Write("workload.yaml", CompliantWorkload.Replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: false\n            privileged: true", StringComparison.Ordinal) + CoveringPolicy);

        await AssertRejectedAsync(file, "securityContext.privileged is true");
    }

    [Fact]
    public async Task WorkloadThatNoNetworkPolicySelects_IsRejected()
    {
        var file = Write("workload.yaml", CompliantWorkload);

        await AssertRejectedAsync(file, "Deployment web: no NetworkPolicy with Ingress selects its pods");
    }

    [Fact]
    public async Task NetworkPolicyForPodsThatDoNotExist_OrAdmittingPodsThatDoNotExist_IsRejected()
    {
        var file = Write("workload.yaml", CompliantWorkload + CoveringPolicy + """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: stale
            spec:
              podSelector:
                matchLabels: {app: renamed}
              ingress:
                - from:
                    - podSelector:
                        matchLabels: {app: also-renamed}
            """);

        await AssertRejectedAsync(file, "NetworkPolicy stale: spec.podSelector selects no pod of any workload here");
        await AssertRejectedAsync(file, "admits pods selected by {\"app\":\"also-renamed\"}, which no workload here has");
    }

    [Fact]
    public async Task NetworkPolicyNamingAPortThePodDoesNotHave_IsRejected()
    {
        var file = Write("workload.yaml", CompliantWorkload + CoveringPolicy.Replace("port: web", "port: websockify", StringComparison.Ordinal));

        await AssertRejectedAsync(file, "port websockify is not a port of Deployment web");
    }

    [Theory]
    [InlineData("podSelector: {}", "", "closed cluster: no default-deny NetworkPolicy")]
    [InlineData("              kubernetes.io/metadata.name: monitoring\n          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: prometheus\n      ports:\n        - port: admin",
        "              {}\n      ports:\n        - port: admin", "StatefulSet relay port admin: NetworkPolicy relay admits every namespace; only monitoring may reach it")]
    [InlineData("        - port: silo", "        - port: silo\n        - port: public", "StatefulSet relay port public: NetworkPolicy relay admits pods:vnc-relay; only pods:haproxy may reach it")]
    [InlineData("        - port: agent", "", "StatefulSet relay port agent: no NetworkPolicy admits it; only pods:haproxy should reach it")]
    public async Task ShippedNetworkPolicies_Changed_AreRejectedForTheClosedCluster(string original, string replacement, string problem)
    {
        var policies = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "k8s", "networkpolicies.yaml"));
        Assert.Contains(original, policies, StringComparison.Ordinal);
        var changed = original == "podSelector: {}"
            ? policies.Replace("  podSelector: {}\n  policyTypes: [\"Ingress\"]\n---", "  podSelector: {}\n  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - podSelector: {}\n---", StringComparison.Ordinal)
            : policies.Replace(original, replacement, StringComparison.Ordinal);
        Assert.NotEqual(policies, changed);

        await AssertRejectedAsync(ShippedWith(changed), problem);
    }

    [Fact]
    public async Task ExtraPolicyOpeningRedisToEveryone_IsRejectedForTheClosedCluster()
    {
        var policies = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "k8s", "networkpolicies.yaml")) + """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: redis-debug
            spec:
              podSelector:
                matchLabels: {app.kubernetes.io/name: redis}
              policyTypes: [Ingress]
              ingress:
                - ports: [{port: redis}]
            """;

        await AssertRejectedAsync(ShippedWith(policies), "StatefulSet redis port redis: NetworkPolicy redis-debug admits anyone (a rule without from); only pods:vnc-relay may reach it");
    }

    [Fact]
    public async Task ShippedRelay_CapsItsSessions_WiresSiloTlsAsOptional_AndTrustsOnlyHaproxyPods()
    {
        var relay = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "k8s", "relay.yaml"));

        Assert.Contains("- name: Relay__MaxSessions\n              value: \"1500\"", relay, StringComparison.Ordinal);
        Assert.Contains("limits:\n              memory: 1Gi", relay, StringComparison.Ordinal);
        Assert.Contains("secretName: relay-silo-tls\n            optional: true", relay, StringComparison.Ordinal);
        Assert.Contains("# - name: Cluster__Tls__CaFile", relay, StringComparison.Ordinal);

        // X-Forwarded-For from the HAProxy pods only, found by the headless Service, not from a whole pod network.
        Assert.Contains("- name: Relay__TrustedProxyHosts__0\n              value: haproxy-pods", relay, StringComparison.Ordinal);
        Assert.DoesNotContain("Relay__TrustedProxies__", relay, StringComparison.Ordinal);
        var haproxy = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "k8s", "haproxy.yaml"));
        Assert.Contains("name: haproxy-pods\n  labels:\n    app.kubernetes.io/name: haproxy\nspec:\n  clusterIP: None", haproxy, StringComparison.Ordinal);
    }

    /// <summary>A directory with the shipped manifests (not the kustomization) and <paramref name="policies"/> as networkpolicies.yaml.</summary>
    private string ShippedWith(string policies)
    {
        var directory = Path.Combine(_directory, "shipped");
        Directory.CreateDirectory(directory);
        foreach (var file in new[] { "relay.yaml", "redis.yaml", "haproxy.yaml", "secrets.example.yaml" })
        {
            File.Copy(Path.Combine(Repo.Root, "k8s", file), Path.Combine(directory, file), overwrite: true);
        }

        File.WriteAllText(Path.Combine(directory, "networkpolicies.yaml"), policies);
        return directory;
    }

    private const string CompliantWorkload = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              automountServiceAccountToken: false
              securityContext:
                runAsNonRoot: true
                seccompProfile:
                  type: RuntimeDefault
              containers:
                - name: web
                  image: web
                  ports:
                    - {name: web, containerPort: 8080}
                  readinessProbe:
                    httpGet: {path: /readyz, port: web}
                  livenessProbe:
                    httpGet: {path: /healthz, port: web}
                  resources:
                    requests: {cpu: 100m, memory: 64Mi}
                    limits: {memory: 512Mi}
                  securityContext:
                    allowPrivilegeEscalation: false
                    readOnlyRootFilesystem: true
                    capabilities:
                      drop: [ALL]

        """;

    private const string CoveringPolicy = """
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: web
        spec:
          podSelector:
            matchLabels: {app: web}
          policyTypes: [Ingress]
          ingress:
            - ports:
                - port: web

        """;

    /// <summary>The YAML without <paramref name="line"/> and, for a key that opens a block, the lines indented under it.</summary>
    private static string RemoveLine(string yaml, string line)
    {
        var lines = yaml.Split('\n').ToList();
        var index = lines.FindIndex(l => l.Trim() == line);
        var indent = lines[index].Length - lines[index].TrimStart().Length;
        var end = index + 1;
        while (end < lines.Count && lines[end].Trim().Length > 0 && lines[end].Length - lines[end].TrimStart().Length > indent)
        {
            end++;
        }

        lines.RemoveRange(index, end - index);
        return string.Join('\n', lines);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task AssertRejectedAsync(string file, string problem)
    {
        var result = await DeployCommands.ValidateManifestsAsync(file);

        Assert.True(result.ExitCode != 0, $"k8s-validate accepted {Path.GetFileName(file)}:\n{result.Output}");
        Assert.Contains(problem, result.Output, StringComparison.Ordinal);
    }

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }
}
