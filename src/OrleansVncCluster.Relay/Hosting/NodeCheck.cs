using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Sources;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// <c>vnc-relay check</c> (the <c>haproxy -c</c> habit): builds the node exactly as <see cref="RelayNodeHosting"/> does
/// (same configuration sources, credentials, secret checks and options validators) without starting Kestrel or the
/// silo, runs every start-up validation at once, then reaches Redis and the Abiquo API when they are configured. One
/// line per check, <c>ok</c> or <c>FAIL</c>; exit code 1 on any failure.
/// </summary>
public static class NodeCheck
{
    /// <summary>Runs the checks for the node <paramref name="request"/> would start; writes a line per check to <paramref name="output"/>.</summary>
    public static async Task<int> RunAsync(CommandLineRequest request, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var failures = 0;
        async Task ReportAsync(bool ok, string name, string detail)
        {
            failures += ok ? 0 : 1;
            await output.WriteLineAsync($"{(ok ? "ok  " : "FAIL")}  {name,-13}  {detail}");
        }

        WebApplicationBuilder? builder = null;
        WebApplication? app = null;
        try
        {
            builder = WebApplication.CreateBuilder(RelayNode.BuilderOptions(request));
            await builder.AddVncRelayNode(request, connectRedis: false);
            app = builder.Build();
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            await ReportAsync(true, "configuration", "every setting and secret validates");
        }
        catch (Exception exception) when (Problems(exception) is { Count: > 0 } problems)
        {
            // Two registrations of one options type report the same failure twice; an operator needs it once. A
            // failure while the node is composed (before its validators run) hides the validators' own findings:
            // the next check after the fix shows them, as the node's next start would.
            foreach (var problem in problems.Distinct(StringComparer.Ordinal))
            {
                await ReportAsync(false, "configuration", problem);
            }
        }

        var configuration = (IConfiguration?)app?.Configuration ?? builder?.Configuration;
        if (configuration is not null)
        {
            await CheckRedisAsync(configuration, timeout, ReportAsync, cancellationToken);
            if (TokenSourcesHosting.AbiquoSyncEnabled(configuration))
            {
                await CheckAbiquoAsync(app, configuration, timeout, ReportAsync, cancellationToken);
            }
            else
            {
                await ReportAsync(true, "abiquo", "not configured (Abiquo:ApiUrl is not set): skipped");
            }
        }

        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await output.WriteLineAsync(failures == 0 ? "check: all checks passed" : $"check: {failures} check(s) FAILED");
        return failures == 0 ? AdminCommandLine.Ok : AdminCommandLine.Failed;
    }

    private static async Task CheckRedisAsync(IConfiguration configuration, TimeSpan timeout, Func<bool, string, string, Task> report, CancellationToken cancellationToken)
    {
        ClusterSettings settings;
        try
        {
            settings = ClusterSettings.From(configuration);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or OptionsValidationException)
        {
            await report(false, "redis", $"the Redis settings cannot be read: {exception.Message}");
            return;
        }

        if (settings.RedisConnectionString is null)
        {
            await report(true, "redis", "not configured (Redis:ConnectionString is not set): the node would run an embedded single-node cluster");
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var redis = await ClusterHosting.ConnectRedisAsync(settings, NullLogger.Instance, cancellationToken, timeout);
            var latency = await redis.GetDatabase().PingAsync();
            await report(true, "redis", string.Create(CultureInfo.InvariantCulture,
                $"{RedisTransport.Describe(settings.RedisTransport.Apply(settings.RedisConnectionString))} answered PING in {latency.TotalMilliseconds:0.0} ms"));
        }
        catch (Exception exception) when (exception is InvalidOperationException or RedisException or ArgumentException)
        {
            // ConnectRedisAsync's messages name the endpoints and what to fix, never the connection string.
            await report(false, "redis", string.Create(CultureInfo.InvariantCulture,
                $"{exception.Message} (after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s)"));
        }
    }

    private static async Task CheckAbiquoAsync(WebApplication? app, IConfiguration configuration, TimeSpan timeout, Func<bool, string, string, Task> report, CancellationToken cancellationToken)
    {
        if (app?.Services.GetService<AbiquoClient>() is not { } client)
        {
            await report(false, "abiquo", "not reached: the Abiquo settings did not validate (see above)");
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var url = configuration["Abiquo:ApiUrl"];
        try
        {
            var version = await client.GetVersionAsync(deadline.Token);
            var nick = await client.LoginAsync(deadline.Token);
            await report(true, "abiquo", $"{url} (Abiquo {version}) accepts the account {nick ?? configuration["Abiquo:User"]}");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await report(false, "abiquo", $"{url} did not answer within {timeout.TotalSeconds:0} s (check Abiquo:ApiUrl and that this host reaches it)");
        }
        catch (Exception exception) when (exception is AbiquoException or HttpRequestException or OptionsValidationException)
        {
            await report(false, "abiquo", $"{url}: {exception.Message}");
        }
    }

    /// <summary>What a start-up failure says to fix, one line a problem; empty for an exception that is not about configuration.</summary>
    private static List<string> Problems(Exception exception) => exception switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        AggregateException aggregate => [.. aggregate.Flatten().InnerExceptions.SelectMany(Problems)],
        InvalidOperationException or FormatException or IOException or UnauthorizedAccessException => [exception.Message],
        _ => [],
    };
}
