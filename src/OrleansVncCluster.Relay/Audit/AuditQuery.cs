using System.Globalization;
using System.Net;
using Microsoft.Extensions.Primitives;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// What <c>GET /api/history</c> asks for: filters on the VM (its id or name), the user, the client address and the start
/// time (<see cref="Since"/> to <see cref="Until"/>, inclusive), newest first, at most <see cref="Limit"/> records.
/// </summary>
public sealed record AuditQuery
{
    /// <summary>Records returned when the query names no limit.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The most records one query returns.</summary>
    public const int MaxLimit = 1000;

    /// <summary>The longest filter value accepted; VM ids, names, users and addresses are far shorter.</summary>
    public const int MaxValueLength = 256;

    private static readonly string[] Parameters = ["vm", "user", "client", "since", "until", "limit"];

    /// <summary>The VM's id or name, exactly.</summary>
    public string? Vm { get; init; }

    /// <summary>The ticket's user, exactly.</summary>
    public string? User { get; init; }

    /// <summary>The client address (compared in its canonical text form).</summary>
    public string? Client { get; init; }

    /// <summary>Sessions that started at or after this.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Sessions that started at or before this.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>At most this many records (1 to <see cref="MaxLimit"/>).</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Whether a session (or its recording) of <paramref name="vm"/>, <paramref name="user"/> and
    /// <paramref name="client"/> that started at <paramref name="start"/> passes the filters (not the limit).</summary>
    public bool Matches(AuditVm vm, string? user, string client, DateTimeOffset start)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return (Vm is null || vm.Id == Vm || vm.Name == Vm)
            && (User is null || user == User)
            && (Client is null || client == Client)
            && (Since is null || start >= Since)
            && (Until is null || start <= Until);
    }

    /// <summary>
    /// Reads a query string. On a bad parameter returns null and <paramref name="error"/> names it and says what is
    /// expected; an unknown parameter is an error too, so a misspelt filter never silently returns everything.
    /// </summary>
    public static AuditQuery? Parse(IEnumerable<KeyValuePair<string, StringValues>> parameters, out string? error)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (!Parameters.Contains(name, StringComparer.Ordinal))
            {
                error = $"unknown parameter '{Truncate(name)}': use vm, user, client, since, until and limit";
                return null;
            }

            if (value.Count != 1)
            {
                error = $"{name} is given {value.Count} times; give it once";
                return null;
            }

            values[name] = value[0] ?? "";
        }

        var query = new AuditQuery();
        foreach (var name in new[] { "vm", "user" })
        {
            if (values.TryGetValue(name, out var text) && (error = TextProblem(name, text)) is not null)
            {
                return null;
            }
        }

        query = query with { Vm = values.GetValueOrDefault("vm"), User = values.GetValueOrDefault("user") };
        if (values.TryGetValue("client", out var client))
        {
            if (!IPAddress.TryParse(client, out var address))
            {
                error = $"client '{Truncate(client)}' is not an IP address, e.g. client=203.0.113.7";
                return null;
            }

            query = query with { Client = address.ToString() };
        }

        if ((error = TimeProblem(values, "since", out var since)) is not null || (error = TimeProblem(values, "until", out var until)) is not null)
        {
            return null;
        }

        if (since > until)
        {
            error = $"since ({since:O}) is after until ({until:O})";
            return null;
        }

        query = query with { Since = since, Until = until };
        if (values.TryGetValue("limit", out var limitText))
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
            {
                error = $"limit '{Truncate(limitText)}' must be a whole number from 1 to {MaxLimit}, e.g. limit={DefaultLimit}";
                return null;
            }

            query = query with { Limit = limit };
        }

        error = null;
        return query;
    }

    private static string? TextProblem(string name, string text) =>
        text.Length == 0 ? $"{name} is empty; give a value or leave the parameter out"
        : text.Length > MaxValueLength ? $"{name} is longer than {MaxValueLength} characters"
        : null;

    private static string? TimeProblem(Dictionary<string, string> values, string name, out DateTimeOffset? time)
    {
        time = null;
        if (!values.TryGetValue(name, out var text))
        {
            return null;
        }

        // ISO 8601 with or without an offset (none means UTC), as the records print their times.
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            || !text.Contains('-', StringComparison.Ordinal))
        {
            return $"{name} '{Truncate(text)}' is not an ISO 8601 time, e.g. {name}=2026-01-31T08:00:00Z";
        }

        time = parsed.ToUniversalTime();
        return null;
    }

    // Echoing a whole hostile value back would make the error as long as the attacker likes.
    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
