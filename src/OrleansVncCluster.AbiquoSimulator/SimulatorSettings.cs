using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.AbiquoSimulator;

/// <summary>A real VNC server a demo VM's console points at.</summary>
public sealed record VncTarget(string Host, int Port, string? Password);

/// <summary>How the simulator starts.</summary>
public sealed record SimulatorSettings
{
    /// <summary>Where it listens when <c>--urls</c> is not given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8780";

    /// <summary>The generated inventory.</summary>
    public GenerationSettings World { get; init; } = new();

    /// <summary>The cloud administrator account.</summary>
    public string User { get; init; } = "admin";

    /// <summary>The password of both accounts. Comes from a file or the environment, never from the command line.</summary>
    public required string Password { get; init; }

    /// <summary>True when no password was configured and a random one was made (the program writes it to a file).</summary>
    public bool PasswordGenerated { get; init; }

    /// <summary>An account that logs in but is not a cloud administrator (its /admin requests get 403 GEN-4).</summary>
    public string NonAdminUser { get; init; } = "user";

    /// <summary>Newest media type version served (<c>; version=</c> above it gets 406).</summary>
    public string ApiVersion { get; init; } = "3.10";

    /// <summary>What <c>/version</c> answers.</summary>
    public string ServerVersion { get; init; } = "3.10.1";

    /// <summary>Above 0: no page is longer than this, even with <c>limit=0</c>, and per-enterprise VM lists are paged too.</summary>
    public int MaxPageSize { get; init; }

    /// <summary>The base written into hrefs instead of the request's own (as a proxy in front rewrites them).</summary>
    public string? PublicUrl { get; init; }

    /// <summary>Real VNC servers: each gets a deployed, ON VM in the first enterprise.</summary>
    public IReadOnlyList<VncTarget> VncTargets { get; init; } = [];

    /// <summary>Certificate for https:// listen addresses (tests); the command line uses Kestrel's own configuration.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; init; }

    /// <summary>Listen addresses.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];
}

/// <summary>
/// The running simulator's state: the inventory, the faults in force and the paging settings the admin API can change.
/// </summary>
public sealed class Simulator
{
    private int _maxPageSize;
    private string? _publicUrl;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Counter> _requestsByPort = new();
    private long _requests;

    /// <summary>Creates the simulator and generates its world.</summary>
    public Simulator(SimulatorSettings settings)
    {
        Settings = settings;
        World = new SimWorld(WorldGenerator.Generate(settings.World));
        _maxPageSize = settings.MaxPageSize;
        _publicUrl = settings.PublicUrl;
        AddVncTargets();
    }

    public SimulatorSettings Settings { get; }

    public SimWorld World { get; }

    public Faults.FaultInjector Faults { get; } = new();

    /// <summary>Enterprises' VM lists as written, sent again while the world is unchanged.</summary>
    public Api.VmPageCache Pages { get; } = new(Api.VmPageCache.DefaultMaxBytes);

    /// <summary>Above 0: the longest page served.</summary>
    public int MaxPageSize
    {
        get => Volatile.Read(ref _maxPageSize);
        set => Volatile.Write(ref _maxPageSize, Math.Max(0, value));
    }

    /// <summary>Base URL written into hrefs; null: the request's own scheme and host.</summary>
    public string? PublicUrl
    {
        get => Volatile.Read(ref _publicUrl);
        set => Volatile.Write(ref _publicUrl, string.IsNullOrWhiteSpace(value) ? null : value.TrimEnd('/'));
    }

    /// <summary>Abiquo API requests served (including refused ones).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Abiquo API requests per local port, so a test can tell which listener a client followed an href to.</summary>
    public long RequestsOnPort(int port) => _requestsByPort.TryGetValue(port, out var count) ? Interlocked.Read(ref count.Value) : 0;

    internal void CountRequest(int localPort)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _requestsByPort.GetOrAdd(localPort, _ => new Counter()).Value);
    }

    /// <summary>Regenerates the world, keeping the demo VMs that point at real VNC servers.</summary>
    public void Reset(GenerationSettings settings)
    {
        World.Load(WorldGenerator.Generate(settings));
        AddVncTargets();
    }

    private sealed class Counter
    {
        public long Value;
    }

    private void AddVncTargets()
    {
        var number = 0;
        foreach (var target in Settings.VncTargets)
        {
            number++;
            World.AddVm(new NewVm
            {
                Label = $"demo-desktop-{number}",
                State = "ON",
                VdrpIP = target.Host,
                VdrpPort = target.Port,
                Password = target.Password,
                Hypervisor = $"local-vnc-{target.Host}",
            });
        }
    }
}
