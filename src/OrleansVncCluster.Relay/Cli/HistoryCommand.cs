using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// <c>vnc-relay history</c>: past sessions from the node's audit history (<c>GET /api/history</c>), newest first, as a
/// table or as the node's JSON. Records may lack any field (older records, a session still open): a missing value
/// prints as <c>-</c>.
/// </summary>
internal static class HistoryCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Build(CliEnvironment environment)
    {
        var vm = new Option<string?>("--vm") { Description = "Only sessions of this VM (its id or name).", HelpName = "VM" };
        var user = new Option<string?>("--user") { Description = "Only sessions of this user.", HelpName = "USER" };
        var client = new Option<string?>("--client") { Description = "Only sessions from this client address.", HelpName = "ADDRESS" };
        var since = new Option<string?>("--since") { Description = "Only sessions that ended after this time: ISO 8601 (2026-05-01T08:00Z) or an age (30m, 12h, 7d).", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Only sessions that started before this time (same forms as --since).", HelpName = "TIME" };
        var limit = new Option<int?>("--limit") { Description = "At most this many records (the node's default when not given).", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the node's answer as JSON instead of a table." };
        since.Validators.Add(result => ValidateTime(result, "--since"));
        until.Validators.Add(result => ValidateTime(result, "--until"));
        limit.Validators.Add(result =>
        {
            // A value that is not a number already has its parse error; only a number can be out of range here.
            if (result.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && value <= 0)
            {
                result.AddError("--limit must be a whole number above 0");
            }
        });

        return AdminCommands.Admin(environment, "history",
            "Past sessions from the node's audit history, newest first: who opened which VM's console, from where, for how long, and how it ended.",
            command =>
            {
                foreach (var option in (Option[])[vm, user, client, since, until, limit, json])
                {
                    command.Options.Add(option);
                }
            },
            async (admin, parse, cancellationToken) =>
            {
                var now = DateTimeOffset.UtcNow;
                var path = Query(now, parse.GetValue(vm), parse.GetValue(user), parse.GetValue(client), parse.GetValue(since), parse.GetValue(until), parse.GetValue(limit));
                var answer = await admin.SendAsync(HttpMethod.Get, path, cancellationToken);
                if (answer.Status == HttpStatusCode.NotFound && answer.Json() is not { ValueKind: JsonValueKind.Array })
                {
                    await environment.Error.WriteLineAsync($"vnc-relay history: {admin.BaseUri} has no audit history endpoint (GET /api/history answered 404): upgrade the node, or turn its audit history on");
                    return AdminCommandLine.Failed;
                }

                if (!answer.Succeeded || answer.Json() is not { ValueKind: JsonValueKind.Array } records)
                {
                    return answer.Succeeded
                        ? await FailAsync(environment, $"{admin.BaseUri} answered GET /api/history with something other than a JSON array")
                        : await AdminCommands.RefusedAsync(environment, "history", admin, "/api/history", answer);
                }

                await environment.Out.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(records, Indented) : Table(records));
                return AdminCommandLine.Ok;
            });
    }

    private static async Task<int> FailAsync(CliEnvironment environment, string message)
    {
        await environment.Error.WriteLineAsync($"vnc-relay history: {message}");
        return AdminCommandLine.Failed;
    }

    private static void ValidateTime(OptionResult result, string name)
    {
        if (result.GetValueOrDefault<string?>() is { } value && !TryParseTime(value, DateTimeOffset.UtcNow, out _))
        {
            result.AddError($"{name} '{value}' is neither an ISO 8601 time (2026-05-01T08:00:00Z) nor an age such as 30m, 12h or 7d");
        }
    }

    /// <summary>The request path: every given filter, times as UTC ISO 8601, ages resolved against <paramref name="now"/>.</summary>
    public static string Query(DateTimeOffset now, string? vm, string? user, string? client, string? since, string? until, int? limit)
    {
        var query = new StringBuilder("/api/history");
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Append(query.Length == "/api/history".Length ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        Add("vm", vm);
        Add("user", user);
        Add("client", client);
        Add("since", since is not null && TryParseTime(since, now, out var from) ? Iso(from) : null);
        Add("until", until is not null && TryParseTime(until, now, out var to) ? Iso(to) : null);
        Add("limit", limit?.ToString(CultureInfo.InvariantCulture));
        return query.ToString();
    }

    /// <summary>An ISO 8601 time, or an age (<c>90s</c>, <c>30m</c>, <c>12h</c>, <c>7d</c>) before <paramref name="now"/>.</summary>
    public static bool TryParseTime(string value, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        if (value.Length >= 2 && "smhd".Contains(value[^1], StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            var unit = value[^1] switch { 's' => TimeSpan.FromSeconds(1), 'm' => TimeSpan.FromMinutes(1), 'h' => TimeSpan.FromHours(1), _ => TimeSpan.FromDays(1) };
            time = now - (unit * amount);
            return true;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The records as a table, or a line saying there are none.</summary>
    public static string Table(JsonElement records)
    {
        var list = records.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.Object).ToList();
        if (list.Count == 0)
        {
            return "no sessions match";
        }

        var rows = list.Select(r => (IReadOnlyList<string>)
        [
            TextTable.Stamp(TextTable.Time(r, "start")),
            TextTable.Time(r, "start") is { } start && TextTable.Time(r, "end") is { } end ? TextTable.Duration(end - start) : TextTable.Time(r, "end") is null ? "open" : "-",
            Vm(r), TextTable.Text(r, "user"), TextTable.Text(r, "client"), TextTable.Text(r, "node"), TextTable.Text(r, "role"),
            $"{TextTable.Bytes(TextTable.Number(r, "bytesToVm"))} / {TextTable.Bytes(TextTable.Number(r, "bytesToBrowser"))}",
            $"{TextTable.Text(r, "keyEvents")} / {TextTable.Text(r, "pointerEvents")} / {TextTable.Bytes(TextTable.Number(r, "clipboardBytes"))}",
            Close(r),
        ]);
        return TextTable.Render(["START", "LENGTH", "VM", "USER", "CLIENT", "NODE", "ROLE", "TO VM / BROWSER", "KEYS / POINTER / CLIPBOARD", "CLOSE"], rows.ToList())
            + $"\n{list.Count} session(s)";
    }

    private static string Vm(JsonElement record)
    {
        if (TextTable.Find(record, "vm") is { ValueKind: JsonValueKind.String } plain)
        {
            return plain.GetString() ?? "-";
        }

        var name = TextTable.Text(record, "vm", "name");
        var enterprise = TextTable.Text(record, "vm", "enterprise");
        var id = TextTable.Text(record, "vm", "id");
        var label = name != "-" ? name : id;
        return enterprise == "-" ? label : $"{label} ({enterprise})";
    }

    private static string Close(JsonElement record)
    {
        var code = TextTable.Text(record, "closeCode");
        var reason = TextTable.Text(record, "closeReason");
        return reason == "-" ? code : $"{code} {reason}";
    }
}
