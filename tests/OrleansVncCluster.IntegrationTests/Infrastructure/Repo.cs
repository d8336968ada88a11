using System.Net;
using System.Net.Sockets;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>Paths of the checkout under test and scratch space for one test.</summary>
public static class Repo
{
    /// <summary>The folder holding OrleansVncCluster.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The published node (make build).</summary>
    public static string RelayExecutable => Path.Combine(Root, "artifacts", "vnc-relay", "vnc-relay");

    /// <summary>The published simulator (make build).</summary>
    public static string SimulatorExecutable => Path.Combine(Root, "artifacts", "abiquo-simulator", "abiquo-simulator");

    /// <summary>Where tests keep logs and screenshots for people to look at after a run.</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var path = Path.Combine(Root, "artifacts", "test-results", "files");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>A fresh temporary directory.</summary>
    public static string TempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ovc-{prefix}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansVncCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("OrleansVncCluster.sln not found above the test binaries");
    }
}

/// <summary>Waiting on an event with a timeout whose message names what did not happen.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                last = exception;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting until {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    /// <summary>Polls a synchronous condition.</summary>
    public static Task HoldsAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        HoldsAsync(() => Task.FromResult(condition()), timeout, what);
}
