using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>k8s/ against the Kubernetes API schemas (npm kubernetes-models via tools/k8s-validate), offline.</summary>
public sealed class KubernetesManifestTests : IDisposable
{
    private readonly string _directory = Repo.TempDirectory("k8s");

    [Fact]
    public async Task ShippedManifests_AreValid()
    {
        var result = await DeployCommands.ValidateManifestsAsync();

        Assert.True(result.ExitCode == 0, $"k8s-validate found problems:\n{result.Output}");
        foreach (var kind in new[] { "StatefulSet", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap", "Secret" })
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
