using System.CommandLine;
using System.Net;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// The commands that talk to a node's admin API (<c>/api</c> on its admin listener) through <see cref="AdminClient"/>.
/// Each says in one line what happened; failures go to stderr with what the node answered.
/// </summary>
internal static class AdminCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>What a command does with a connected client; returns the exit code.</summary>
    public delegate Task<int> AdminWork(AdminClient client, ParseResult parse, CancellationToken cancellationToken);

    /// <summary>
    /// A command that talks to the node: adds <c>--admin</c> and <c>--token-file</c>, finds the listener and token
    /// (exit 2 when it cannot), and turns an unreachable node into exit 1 with its URL.
    /// </summary>
    public static Command Admin(CliEnvironment environment, string name, string description, Action<Command> define, AdminWork work)
    {
        var admin = new Option<string?>("--admin")
        {
            Description = "The node's admin listener (default: Relay__AdminListen, else 127.0.0.1:8082; a wildcard address means this host's loopback).",
            HelpName = "HOST:PORT",
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = "File holding the admin token (default: Admin__TokenFile, else $CREDENTIALS_DIRECTORY/admin-token, else the variable Admin__Token). Never give the token itself on a command line.",
            HelpName = "FILE",
        };
        var command = AdminCommandLine.Sub(name, description);
        define(command);
        command.Options.Add(admin);
        command.Options.Add(tokenFile);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = AdminClient.Create(parse.GetValue(admin), parse.GetValue(tokenFile), environment.Variables, out var problem);
            if (client is null)
            {
                await environment.Error.WriteLineAsync($"vnc-relay {name}: {problem}");
                return AdminCommandLine.Usage;
            }

            try
            {
                return await work(client, parse, cancellationToken);
            }
            catch (AdminUnreachableException exception)
            {
                await environment.Error.WriteLineAsync($"vnc-relay {name}: {exception.Message}");
                return AdminCommandLine.Failed;
            }
        });
        return command;
    }

    /// <summary>Reports a refused request on stderr (401 with the hint that the token is wrong); always <see cref="AdminCommandLine.Failed"/>.</summary>
    public static async Task<int> RefusedAsync(CliEnvironment environment, string name, AdminClient client, string path, AdminAnswer answer)
    {
        var hint = answer.Status == HttpStatusCode.Unauthorized
            ? " (the admin token was refused: check --token-file, Admin__TokenFile or Admin__Token against the node's Admin:TokenFile)"
            : "";
        await environment.Error.WriteLineAsync($"vnc-relay {name}: {new Uri(client.BaseUri, path)} answered {answer.Problem()}{hint}");
        return AdminCommandLine.Failed;
    }

    public static Command Drain(CliEnvironment environment) => Admin(environment, "drain",
        "Stop this node taking sessions (its /readyz turns 503, its HAProxy agent says drain); live sessions go on until they end or the drain budget closes them with 1012. " +
        "For Kubernetes' preStop hook and operators' scripts. Undo with 'vnc-relay undrain'.",
        _ => { },
        async (client, _, cancellationToken) =>
        {
            var answer = await client.SendAsync(HttpMethod.Post, "/api/drain", cancellationToken);
            if (!answer.Succeeded)
            {
                return await RefusedAsync(environment, "drain", client, "/api/drain", answer);
            }

            var live = answer.Json() is { } json ? TextTable.Text(json, "liveSessions") : "?";
            await environment.Out.WriteLineAsync($"drain: {client.BaseUri} is draining; {live} live session(s) may continue for the drain budget");
            return AdminCommandLine.Ok;
        });

    public static Command Undrain(CliEnvironment environment) => Admin(environment, "undrain",
        "Cancel a drain: the node takes sessions again and its live sessions are not closed at the end of the budget. Refused while the node shuts down.",
        _ => { },
        async (client, _, cancellationToken) =>
        {
            var answer = await client.SendAsync(HttpMethod.Delete, "/api/drain", cancellationToken);
            if (!answer.Succeeded)
            {
                return await RefusedAsync(environment, "undrain", client, "/api/drain", answer);
            }

            var was = answer.Json() is { } json && TextTable.Text(json, "wasDraining") == "true";
            await environment.Out.WriteLineAsync(was
                ? $"undrain: {client.BaseUri} takes sessions again"
                : $"undrain: {client.BaseUri} was not draining; nothing changed");
            return AdminCommandLine.Ok;
        });

    public static Command Kill(CliEnvironment environment)
    {
        var id = new Argument<string>("ID") { Description = "The session's id, as 'vnc-relay sessions' lists it." };
        return Admin(environment, "kill", "Close one live session anywhere in the cluster (the browser sees 1008 \"console closed by an administrator\").",
            command => command.Arguments.Add(id),
            async (client, parse, cancellationToken) =>
            {
                var session = parse.GetValue(id)!;
                var path = "/api/sessions/" + Uri.EscapeDataString(session);
                var answer = await client.SendAsync(HttpMethod.Delete, path, cancellationToken);
                if (!answer.Succeeded)
                {
                    return await RefusedAsync(environment, "kill", client, path, answer);
                }

                await environment.Out.WriteLineAsync($"kill: session {session} closed");
                return AdminCommandLine.Ok;
            });
    }

    public static Command Revoke(CliEnvironment environment)
    {
        var token = new Argument<string>("TOKEN")
        {
            Description = "The console token to revoke, or - to read it from standard input (a token on a command line is visible in ps).",
        };
        return Admin(environment, "revoke",
            "Revoke a console token now: its live sessions close cluster-wide with 4410, and it is refused until its source writes it again " +
            "(the token file's next change, or the next Abiquo sync that still lists the VM). To keep a console shut, remove it at its source too.",
            command => command.Arguments.Add(token),
            async (client, parse, cancellationToken) =>
            {
                var value = parse.GetValue(token)!;
                if (value == "-")
                {
                    value = (await environment.In.ReadLineAsync(cancellationToken))?.Trim() ?? "";
                }

                if (value.Length == 0)
                {
                    await environment.Error.WriteLineAsync("vnc-relay revoke: no token given (standard input was empty)");
                    return AdminCommandLine.Usage;
                }

                var path = "/api/tokens/" + Uri.EscapeDataString(value);
                var answer = await client.SendAsync(HttpMethod.Delete, path, cancellationToken);
                if (!answer.Succeeded)
                {
                    // Never echo the whole token: the path in the message would.
                    await environment.Error.WriteLineAsync($"vnc-relay revoke: {client.BaseUri} answered {answer.Problem()}");
                    return AdminCommandLine.Failed;
                }

                var json = answer.Json() ?? default;
                await environment.Out.WriteLineAsync(
                    $"revoke: token {TextTable.Text(json, "revoked")} (source {TextTable.Text(json, "source")}) revoked; its live sessions close with 4410 and it is refused until its source writes it again");
                return AdminCommandLine.Ok;
            });
    }

    public static Command Sessions(CliEnvironment environment)
    {
        var json = new Option<bool>("--json") { Description = "Print the node's answer as JSON instead of a table." };
        return Admin(environment, "sessions", "List the cluster's live sessions (every node is asked).",
            command => command.Options.Add(json),
            async (client, parse, cancellationToken) =>
            {
                var answer = await client.SendAsync(HttpMethod.Get, "/api/sessions", cancellationToken);
                if (!answer.Succeeded || answer.Json() is not { } body)
                {
                    return await RefusedAsync(environment, "sessions", client, "/api/sessions", answer);
                }

                if (parse.GetValue(json))
                {
                    await environment.Out.WriteLineAsync(JsonSerializer.Serialize(body, Indented));
                    return AdminCommandLine.Ok;
                }

                await environment.Out.WriteLineAsync(SessionsTable(body, DateTimeOffset.UtcNow));
                return AdminCommandLine.Ok;
            });
    }

    /// <summary>The sessions of a <c>GET /api/sessions</c> answer as a table, or a line saying there are none.</summary>
    public static string SessionsTable(JsonElement body, DateTimeOffset now)
    {
        var sessions = TextTable.Find(body, "sessions") is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [];
        if (sessions.Count == 0)
        {
            return "no live sessions";
        }

        var rows = sessions.Select(s => (IReadOnlyList<string>)
        [
            TextTable.Text(s, "id"), TextTable.Text(s, "node"), TextTable.Text(s, "vm"), TextTable.Text(s, "tokenPrefix"), TextTable.Text(s, "target"),
            TextTable.Text(s, "client"), TextTable.Text(s, "role"), TextTable.Text(s, "viewers"),
            TextTable.Time(s, "startedAt") is { } started ? TextTable.Duration(now - started) : "-",
            TextTable.Bytes(TextTable.Number(s, "bytesToTarget")), TextTable.Bytes(TextTable.Number(s, "bytesToClient")),
        ]);
        return TextTable.Render(["ID", "NODE", "VM", "TOKEN", "TARGET", "CLIENT", "ROLE", "VIEWERS", "AGE", "TO VM", "TO BROWSER"], rows.ToList())
            + $"\n{sessions.Count} live session(s)";
    }

    public static Command Sync(CliEnvironment environment)
    {
        var now = new Option<bool>("--now") { Description = "Run a sync now and wait for it (up to two minutes), then print its status." };
        var json = new Option<bool>("--json") { Description = "Print the node's answer as JSON." };
        return Admin(environment, "sync", "Show the Abiquo token sync's status (GET /api/sync), or run it now with --now (POST /api/sync).",
            command =>
            {
                command.Options.Add(now);
                command.Options.Add(json);
            },
            async (client, parse, cancellationToken) =>
            {
                var method = parse.GetValue(now) ? HttpMethod.Post : HttpMethod.Get;
                var answer = await client.SendAsync(method, "/api/sync", cancellationToken);
                if (answer.Status == HttpStatusCode.NotFound)
                {
                    await environment.Error.WriteLineAsync($"vnc-relay sync: the Abiquo token sync is off on {client.BaseUri} (Abiquo:ApiUrl is not set)");
                    return AdminCommandLine.Failed;
                }

                if (!answer.Succeeded || answer.Json() is not { } body)
                {
                    return await RefusedAsync(environment, "sync", client, "/api/sync", answer);
                }

                await environment.Out.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(body, Indented) : SyncLines(body));
                return TextTable.Text(body, "lastError") == "-" ? AdminCommandLine.Ok : AdminCommandLine.Failed;
            });
    }

    /// <summary>The status of a <c>/api/sync</c> answer, one fact a line.</summary>
    public static string SyncLines(JsonElement status)
    {
        var lines = new List<string>
        {
            $"sync host        {TextTable.Text(status, "host")}",
            $"last success     {TextTable.Stamp(TextTable.Time(status, "lastSuccessAt"))}",
            $"last run         {TextTable.Stamp(TextTable.Time(status, "lastRunAt"))} ({TextTable.Text(status, "lastDuration")})",
            $"next run         {TextTable.Stamp(TextTable.Time(status, "nextRunAt"))}",
            $"failures in row  {TextTable.Text(status, "consecutiveFailures")}",
            $"tokens           {TextTable.Text(status, "tokens")}",
        };
        if (TextTable.Text(status, "lastError") is not "-" and var error)
        {
            lines.Add($"last error       {error} (at {TextTable.Stamp(TextTable.Time(status, "lastErrorAt"))})");
        }

        if (TextTable.Find(status, "sources") is { ValueKind: JsonValueKind.Array } sources)
        {
            foreach (var source in sources.EnumerateArray())
            {
                var held = TextTable.Number(source, "heldRemovals") is { } removals ? $", HELD: {removals} removals wait (POST /api/sync confirms if the source says the same)" : "";
                lines.Add($"source {TextTable.Text(source, "name")}: {TextTable.Text(source, "tokens")} tokens, last success {TextTable.Stamp(TextTable.Time(source, "lastSuccessAt"))}{held}");
            }
        }

        return string.Join('\n', lines);
    }

    public static Command Status(CliEnvironment environment) => Admin(environment, "status",
        "One screen on the node: health, readiness and drain, the cluster's nodes, live sessions, and the token sync.",
        _ => { },
        async (client, _, cancellationToken) =>
        {
            var health = await client.SendAsync(HttpMethod.Get, "/healthz", cancellationToken);
            var ready = await client.SendAsync(HttpMethod.Get, "/readyz", cancellationToken);
            var sessions = await client.SendAsync(HttpMethod.Get, "/api/sessions", cancellationToken);
            if (sessions.Status == HttpStatusCode.Unauthorized)
            {
                return await RefusedAsync(environment, "status", client, "/api/sessions", sessions);
            }

            var sync = await client.SendAsync(HttpMethod.Get, "/api/sync", cancellationToken);
            await environment.Out.WriteLineAsync(StatusLines(client.BaseUri, health, ready, sessions, sync));
            return health.Succeeded ? AdminCommandLine.Ok : AdminCommandLine.Failed;
        });

    /// <summary>The lines of <c>vnc-relay status</c> from the node's answers.</summary>
    public static string StatusLines(Uri node, AdminAnswer health, AdminAnswer ready, AdminAnswer sessions, AdminAnswer sync)
    {
        var readiness = ready.Body.Trim();
        var lines = new List<string>
        {
            $"node       {node}",
            $"health     {(health.Succeeded ? "ok" : $"FAIL ({health.Problem()})")}",
            $"ready      {(ready.Succeeded ? "yes" : $"no ({readiness})")}",
            $"draining   {(readiness == "draining" ? "yes (undo with 'vnc-relay undrain')" : "no")}",
        };
        if (sessions.Succeeded && sessions.Json() is { } list)
        {
            var nodes = TextTable.Find(list, "nodes") is { ValueKind: JsonValueKind.Array } names ? names.EnumerateArray().Select(n => n.GetString() ?? "?").ToList() : [];
            var all = TextTable.Find(list, "sessions") is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [];
            lines.Add($"cluster    {nodes.Count} node(s): {string.Join(", ", nodes)}");
            var perNode = all.GroupBy(s => TextTable.Text(s, "node")).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
            lines.Add($"sessions   {all.Count}{(all.Count > 0 ? $" ({string.Join(", ", perNode)})" : "")}");
        }
        else
        {
            lines.Add($"cluster    unknown ({sessions.Problem()})");
        }

        if (sync.Status == HttpStatusCode.NotFound)
        {
            lines.Add("token sync off (Abiquo:ApiUrl is not set)");
        }
        else if (sync.Succeeded && sync.Json() is { } status)
        {
            var error = TextTable.Text(status, "lastError");
            var held = TextTable.Find(status, "sources") is { ValueKind: JsonValueKind.Array } sources
                && sources.EnumerateArray().Any(s => TextTable.Number(s, "heldRemovals") is not null);
            lines.Add($"token sync last success {TextTable.Stamp(TextTable.Time(status, "lastSuccessAt"))}, {TextTable.Text(status, "tokens")} tokens, " +
                $"{TextTable.Text(status, "consecutiveFailures")} failure(s) in a row{(held ? ", HELD (see 'vnc-relay sync')" : "")}{(error != "-" ? $", last error: {error}" : "")}");
        }
        else
        {
            lines.Add($"token sync unknown ({sync.Problem()})");
        }

        return string.Join('\n', lines);
    }
}
