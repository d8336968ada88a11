using System.Net;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>Where the cluster keeps membership, tokens and reminders (configuration sections "Redis" and "Orleans").</summary>
public sealed class ClusterSettings
{
    /// <summary>StackExchange.Redis connection string; empty means embedded single-node clustering in memory.</summary>
    public string? RedisConnectionString { get; init; }

    /// <summary>Orleans cluster id; the same on every node of one cluster.</summary>
    public string ClusterId { get; init; } = "vnc-relay";

    /// <summary>Orleans service id; keys in Redis are prefixed with it.</summary>
    public string ServiceId { get; init; } = "vnc-relay";

    /// <summary>Unique per node.</summary>
    public string SiloName { get; init; } = Environment.MachineName;

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>The address other nodes reach this one at; never a VIP, never loopback across hosts.</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>Redis TLS files (private CA, client certificate).</summary>
    public RedisTransport RedisTransport { get; init; } = new();

    /// <summary>
    /// Orleans' initial liveness-probe timeout (<c>Orleans:Membership:ProbeTimeout</c>). It bounds how long a silent
    /// host (crashed, cut off) keeps its grains, and so its uncached tokens, unreachable: Orleans' 5 s default took
    /// 63 s to declare a cut-off host dead in the separate-hosts test, 2 s took 27 s (one run each) while the timeout
    /// could still grow to its cap (<see cref="MaxProbeTimeout"/>).
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The cap on the probe timeout Orleans adapts from measured probe times (<c>Orleans:Membership:MaxProbeTimeout</c>);
    /// null = <see cref="ProbeTimeout"/>. Orleans' own cap is 4 x ProbeTimeout, and a silent host's missed probes walk
    /// the timeout up to it before the votes: 26.1 s to declare a cut-off host dead with a 2 s probe, against 10.0 and
    /// 10.3 s with the cap at 2 s (separate-hosts test, issue 17's target is 10 s). Orleans still stretches the timeout
    /// while the prober itself is degraded (GC pauses, a starved thread pool), the guard against false deaths.
    /// </summary>
    public TimeSpan? MaxProbeTimeout { get; init; }

    /// <summary>Silo-to-silo mutual TLS (Cluster:Tls:*); null = silo traffic in clear.</summary>
    public SiloTls? Tls { get; init; }

    /// <summary>How long start-up waits for Redis before giving up.</summary>
    public TimeSpan RedisStartupTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>What could not even be read (a value of the wrong kind); the validator reports it with the rest.</summary>
    internal List<string> ReadProblems { get; } = [];

    /// <summary>
    /// Reads the settings (sections "Redis" and "Orleans", with secrets from files when <c>Redis:ConnectionStringFile</c>
    /// is given) and validates them with <see cref="ClusterSettingsValidator"/>. They are needed before the host is
    /// built (they shape the silo and the Redis connection), so they are validated here rather than at start-up;
    /// every problem is reported at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The settings do not validate; the message says what to fix.</exception>
    public static ClusterSettings From(IConfiguration configuration)
    {
        var problems = new List<string>();
        var connection = configuration["Redis:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connection) && configuration["Redis:ConnectionStringFile"] is { Length: > 0 } file)
        {
            if (File.Exists(file))
            {
                connection = File.ReadAllText(file).Trim();
            }
            else
            {
                problems.Add($"Redis:ConnectionStringFile '{file}' does not exist; it holds the connection string, e.g. redis.example:6379,password=...,ssl=true");
            }
        }

        var advertised = configuration["Orleans:Endpoints:AdvertisedIPAddress"];
        IPAddress? address = null;
        if (!string.IsNullOrWhiteSpace(advertised) && !IPAddress.TryParse(advertised, out address))
        {
            problems.Add($"Orleans:Endpoints:AdvertisedIPAddress '{advertised}' is not an IP address; give this host's routable address, e.g. 10.0.0.5");
        }

        var siloPortText = configuration["Orleans:Endpoints:SiloPort"];
        var siloPort = 11111;
        if (!string.IsNullOrWhiteSpace(siloPortText) && !int.TryParse(siloPortText, System.Globalization.CultureInfo.InvariantCulture, out siloPort))
        {
            problems.Add($"Orleans:Endpoints:SiloPort '{siloPortText}' is not a port (1-65535), e.g. 11111");
        }

        var tls = SiloTls.From(configuration, problems);
        var settings = new ClusterSettings
        {
            Tls = tls,
            RedisConnectionString = string.IsNullOrWhiteSpace(connection) ? null : connection,
            ClusterId = configuration["Orleans:ClusterId"] is { Length: > 0 } clusterId ? clusterId : "vnc-relay",
            ServiceId = configuration["Orleans:ServiceId"] is { Length: > 0 } serviceId ? serviceId : "vnc-relay",
            SiloName = configuration["Orleans:SiloName"] is { Length: > 0 } siloName ? siloName : $"{Environment.MachineName}-{siloPort}",
            SiloPort = siloPort,
            AdvertisedAddress = address,
            RedisTransport = RedisTransport.From(configuration),
            RedisStartupTimeout = configuration.GetValue("Redis:StartupTimeout", TimeSpan.FromMinutes(5)),
            ProbeTimeout = configuration.GetValue("Orleans:Membership:ProbeTimeout", TimeSpan.FromSeconds(2)),
            MaxProbeTimeout = configuration.GetValue<TimeSpan?>("Orleans:Membership:MaxProbeTimeout"),
        };
        settings.ReadProblems.AddRange(problems);
        var result = new ClusterSettingsValidator().Validate(null, settings);
        return result.Failed ? throw new InvalidOperationException(string.Join("; ", result.Failures)) : settings;
    }
}

/// <summary>Validation of <see cref="ClusterSettings"/> with messages that say what to fix; secrets are never printed.</summary>
public sealed class ClusterSettingsValidator : IValidateOptions<ClusterSettings>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ClusterSettings options)
    {
        var failures = new List<string>(options.ReadProblems);
        if (options.RedisConnectionString is not null)
        {
            failures.AddRange(options.RedisTransport.Problems());
        }

        if (options.SiloPort is < 1 or > 65535 && !failures.Any(f => f.StartsWith("Orleans:Endpoints:SiloPort", StringComparison.Ordinal)))
        {
            failures.Add($"Orleans:Endpoints:SiloPort '{options.SiloPort}' is not a port (1-65535), e.g. 11111");
        }

        if (options.ProbeTimeout < TimeSpan.FromMilliseconds(500) || options.ProbeTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"Orleans:Membership:ProbeTimeout {options.ProbeTimeout} must be between 00:00:00.5 and 00:01:00, e.g. 00:00:02; "
                + "shorter declares busy nodes dead, longer leaves a silent host's tokens unreachable for minutes");
        }

        if (options.MaxProbeTimeout is { } cap && (cap < options.ProbeTimeout || cap > TimeSpan.FromMinutes(4)))
        {
            failures.Add($"Orleans:Membership:MaxProbeTimeout {cap} must be between Orleans:Membership:ProbeTimeout ({options.ProbeTimeout}) and 00:04:00, "
                + "or unset to cap the probe timeout at ProbeTimeout; a higher cap lets a silent host hold its grains longer");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
