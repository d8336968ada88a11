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

        var result = await DeployCommands.ValidateManifestsAsync(file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("containers.0.ports.0.containerPort must be integer", result.Output, StringComparison.Ordinal);
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

        var result = await DeployCommands.ValidateManifestsAsync(file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Service orphan selects no pod", result.Output, StringComparison.Ordinal);
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

        var result = await DeployCommands.ValidateManifestsAsync(file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Secret haproxy-stats key password", result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }
}
