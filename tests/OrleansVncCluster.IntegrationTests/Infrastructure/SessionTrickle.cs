using System.Diagnostics;
using System.Net.WebSockets;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>One new-session attempt of a <see cref="SessionTrickle"/>: when it ran (on the test's clock), what it asked for, what it got.</summary>
public sealed record SessionAttempt(TimeSpan Started, TimeSpan Ended, string Node, string Token, bool Opened, int? CloseCode, string? Reason)
{
    /// <summary>The attempt ran entirely between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public bool Within(TimeSpan from, TimeSpan to) => Started >= from && Ended <= to;

    public override string ToString() =>
        $"{Started.TotalSeconds:F1}-{Ended.TotalSeconds:F1} s {Node} {Token[..Math.Min(6, Token.Length)]}: " + (Opened ? "opened" : $"{CloseCode} {Reason}");
}

/// <summary>
/// The steady trickle of new sessions that real users make while something fails: one attempt at a time, started every
/// <c>interval</c>, each opening a session, checking that bytes echo and closing it, each outcome recorded with its time.
/// </summary>
public sealed class SessionTrickle : IAsyncDisposable
{
    /// <summary>How long an attempt waits for its echo before it counts as hung.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly List<SessionAttempt> _attempts = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private SessionTrickle(Stopwatch clock, TimeSpan interval, Func<int, (Uri Uri, string Node, string Token)> next) =>
        _loop = RunAsync(clock, interval, next);

    /// <summary>Every attempt so far, in order.</summary>
    public IReadOnlyList<SessionAttempt> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>Starts attempts every <paramref name="interval"/>; <paramref name="next"/> gives the n-th attempt's URL, node and token.</summary>
    public static SessionTrickle Start(Stopwatch clock, TimeSpan interval, Func<int, (Uri Uri, string Node, string Token)> next) =>
        new(clock, interval, next);

    /// <summary>Stops after the attempt under way and returns every attempt.</summary>
    public async Task<IReadOnlyList<SessionAttempt>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return Attempts;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    /// <summary>
    /// One attempt: (opened, close code, reason). A refusal is a WebSocket the relay accepts and then closes. A browser
    /// waits for the first bytes longer than a test's usual 5 s: while a token's grain activates against a Redis that
    /// is failing over, the relay answers within its lookup and lease deadlines (2 s each) plus whatever the machine's
    /// load adds, and only an attempt still silent after <see cref="Patience"/> counts as hung.
    /// </summary>
    public static async Task<(bool Opened, int? CloseCode, string? Reason)> AttemptAsync(Uri uri)
    {
        ConsoleClient client;
        try
        {
            client = await ConsoleClient.ConnectAsync(uri);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            return (false, null, $"connect failed: {exception.Message}");
        }

        await using (client)
        {
            try
            {
                var probe = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
                await client.SendAsync(probe);
                var echoed = await client.ReadExactlyAsync(probe.Length, Patience);
                return probe.AsSpan().SequenceEqual(echoed)
                    ? (true, null, null)
                    : (false, null, "the echo came back different");
            }
            catch (Exception exception) when (exception is InvalidOperationException or WebSocketException or OperationCanceledException)
            {
                return (false, (int?)client.Socket.CloseStatus, client.Socket.CloseStatusDescription ?? $"{exception.GetType().Name}: {exception.Message}");
            }
        }
    }

    private async Task RunAsync(Stopwatch clock, TimeSpan interval, Func<int, (Uri Uri, string Node, string Token)> next)
    {
        using var timer = new PeriodicTimer(interval);
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var (uri, node, token) = next(n);
            var started = clock.Elapsed;
            var (opened, code, reason) = await AttemptAsync(uri);
            lock (_attempts)
            {
                _attempts.Add(new SessionAttempt(started, clock.Elapsed, node, token, opened, code, reason));
            }

            try
            {
                await timer.WaitForNextTickAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
