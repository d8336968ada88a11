using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OrleansVncCluster.Relay.Cli;

namespace OrleansVncCluster.Tests.Cli;

/// <summary>
/// The admin command line's arguments, output and errors against a tiny HTTP listener that plays the node's admin API:
/// it records each request and answers what the test set. The commands against a real node are in the integration
/// tests (Cli/AdminCommandLineTests there).
/// </summary>
public sealed class AdminCommandLineTests : IAsyncLifetime
{
    private const string AdminToken = "unit-admin-token-42";

    private readonly ConcurrentQueue<(string Method, string PathAndQuery, string? Authorization)> _requests = new();
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _answers = new();
    private readonly string _tokenFile = Path.Combine(Directory.CreateTempSubdirectory("admin-cli-").FullName, "admin-token");
    private WebApplication _app = null!;
    private int _port;

    public async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(_tokenFile, AdminToken + "\n");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(async context =>
        {
            _requests.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.ToString()));
            var (status, body) = _answers.TryGetValue($"{context.Request.Method} {context.Request.Path}", out var answer) ? answer : (404, "");
            context.Response.StatusCode = status;
            context.Response.ContentType = body.StartsWith('[') || body.StartsWith('{') ? "application/json" : "text/plain";
            await context.Response.WriteAsync(body);
        });
        await _app.StartAsync();
        _port = new Uri(_app.Urls.First()).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_tokenFile)!, recursive: true);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await AdminCommandLine.RunAsync(args, new CliEnvironment(stdout, stderr, Variable), check: null, TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The environment of an operator on the node's host: the admin listener (a wildcard, as in containers) and the token file.</summary>
    private string? Variable(string name) => name switch
    {
        "Relay__AdminListen" => $"0.0.0.0:{_port}",
        "Admin__TokenFile" => _tokenFile,
        _ => null,
    };

    private void Answer(string methodAndPath, int status, string body) => _answers[methodAndPath] = (status, body);

    [Fact]
    public async Task History_SendsEveryFilter_WithTheTokenFromTheFile_AndAgesAsUtcTimes()
    {
        Answer("GET /api/history", 200, "[]");
        var before = DateTimeOffset.UtcNow;

        var (code, stdout, stderr) = await RunAsync("history", "--vm", "vm 7", "--user", "ana", "--client", "10.0.0.9", "--since", "2h", "--until", "2026-05-01T08:00:00+02:00", "--limit", "20");

        Assert.True(code == 0, stderr);
        Assert.Equal("no sessions match", stdout.Trim());
        var request = Assert.Single(_requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal($"Bearer {AdminToken}", request.Authorization);
        var query = System.Web.HttpUtility.ParseQueryString(new Uri("http://x" + request.PathAndQuery).Query);
        Assert.Equal("vm 7", query["vm"]);
        Assert.Equal("ana", query["user"]);
        Assert.Equal("10.0.0.9", query["client"]);
        Assert.Equal("2026-05-01T06:00:00Z", query["until"]);
        Assert.Equal("20", query["limit"]);
        var since = DateTimeOffset.Parse(query["since"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(since, before.AddHours(-2).AddSeconds(-2), DateTimeOffset.UtcNow.AddHours(-2).AddSeconds(1));
    }

    [Fact]
    public async Task History_WithoutFilters_AsksWithoutAQuery()
    {
        Answer("GET /api/history", 200, "[]");

        Assert.Equal(0, (await RunAsync("history")).Code);

        Assert.Equal("/api/history", Assert.Single(_requests).PathAndQuery);
    }

    [Fact]
    public async Task History_Table_ShowsEachRecord_AndADashForEveryMissingField()
    {
        Answer("GET /api/history", 200, """
            [
              {"id":"s2","vm":{"id":"42","name":"web-01","enterprise":"Acme"},"user":"ana","client":"203.0.113.7","node":"relay-a",
               "start":"2026-05-01T10:00:00Z","end":"2026-05-01T10:12:05Z","bytesToVm":2048,"bytesToBrowser":3145728,"role":"control",
               "closeCode":1000,"closeReason":"console target closed the connection","keyEvents":120,"pointerEvents":900,"clipboardBytes":0},
              {"id":"s1","start":"2026-05-01T09:00:00Z","future":"ignored"}
            ]
            """);

        var (code, stdout, stderr) = await RunAsync("history");

        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("START", lines[0], StringComparison.Ordinal);
        foreach (var expected in (string[])["2026-05-01 10:00:00Z", "12m05s", "web-01 (Acme)", "ana", "203.0.113.7", "relay-a", "control", "2 KiB / 3 MiB", "120 / 900 / 0 B", "1000 console target closed"])
        {
            Assert.Contains(expected, lines[1], StringComparison.Ordinal);
        }

        Assert.Contains("2026-05-01 09:00:00Z", lines[2], StringComparison.Ordinal);
        Assert.Contains("open", lines[2], StringComparison.Ordinal);
        Assert.Contains(" - ", lines[2], StringComparison.Ordinal);
        Assert.Equal("2 session(s)", lines[3]);
    }

    [Fact]
    public async Task History_Json_PrintsTheNodesRecords()
    {
        Answer("GET /api/history", 200, """[{"id":"s1","user":"bo"}]""");

        var (code, stdout, _) = await RunAsync("history", "--json");

        Assert.Equal(0, code);
        using var printed = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal("bo", printed.RootElement[0].GetProperty("user").GetString());
    }

    [Fact]
    public async Task History_OnANodeWithoutTheEndpoint_SaysSo()
    {
        var (code, stdout, stderr) = await RunAsync("history");

        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains("has no audit history endpoint", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--limit", "0", "--limit must be a whole number above 0")]
    [InlineData("--limit", "many", "many")]
    [InlineData("--since", "yesterday", "--since 'yesterday' is neither an ISO 8601 time")]
    [InlineData("--until", "3w", "--until '3w'")]
    [InlineData("--colour", "red", "--colour")]
    public async Task History_BadArguments_ExitWith2_NameTheOption_AndAskNothing(string option, string value, string expected)
    {
        var (code, stdout, stderr) = await RunAsync("history", option, value);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Contains("see 'vnc-relay history --help'", stderr, StringComparison.Ordinal);
        Assert.Empty(_requests);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("sessions")]
    [InlineData("kill")]
    [InlineData("revoke")]
    [InlineData("drain")]
    [InlineData("undrain")]
    [InlineData("sync")]
    [InlineData("check")]
    [InlineData("history")]
    [InlineData("abiquo-tokens")]
    public async Task EveryCommand_HasHelp_OnStdout_WithExit0(string command)
    {
        var (code, stdout, stderr) = await RunAsync(command, "--help");

        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Contains($"vnc-relay {command}", stdout, StringComparison.Ordinal);
        Assert.Contains("-h, --help", stdout, StringComparison.Ordinal);
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task AnUnreachableNode_Exits1_WithTheUrl()
    {
        var closed = System.Net.Sockets.TcpListener.Create(0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var (code, _, stderr) = await RunAsync("sessions", "--admin", $"127.0.0.1:{port}");

        Assert.Equal(1, code);
        Assert.Contains($"http://127.0.0.1:{port}/api/sessions", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedToken_Exits1_AndSaysWhereTheTokenComesFrom()
    {
        Answer("GET /api/sessions", 401, "");

        var (code, _, stderr) = await RunAsync("sessions");

        Assert.Equal(1, code);
        Assert.Contains("401", stderr, StringComparison.Ordinal);
        Assert.Contains("Admin__TokenFile", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminToken, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_UnknownToken_Exits1_WithTheNodesMessage_AndNeverPrintsTheWholeToken()
    {
        const string token = "0123456789abcdef0123456789abcdef";
        Answer($"DELETE /api/tokens/{token}", 404, """{"error":"no console token 01234567… is known: nothing to revoke"}""");

        var (code, stdout, stderr) = await RunAsync("revoke", token);

        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains("404: no console token 01234567… is known", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, stderr, StringComparison.Ordinal);
        Assert.Equal(("DELETE", $"/api/tokens/{token}"), (Assert.Single(_requests).Method, _requests.Single().PathAndQuery));
    }

    [Fact]
    public async Task Revoke_Dash_ReadsTheTokenFromStandardInput_SoItIsNotInTheArguments()
    {
        const string token = "from-stdin-token-0123456789";
        Answer($"DELETE /api/tokens/{token}", 200, """{"revoked":"from-std…","source":"file:/etc/tokens.cfg","closeCode":4410}""");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr, Variable) { In = new StringReader(token + "\n") };

        var code = await AdminCommandLine.RunAsync(["revoke", "-"], environment, check: null, TestContext.Current.CancellationToken);

        Assert.True(code == 0, stderr.ToString());
        Assert.Equal($"/api/tokens/{token}", Assert.Single(_requests).PathAndQuery);
        Assert.Contains("token from-std… (source file:/etc/tokens.cfg) revoked", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_Table_ListsEachSession()
    {
        Answer("GET /api/sessions", 200, """
            {"nodes":["a","b"],"sessions":[{"id":"k1","node":"b","tokenPrefix":"ab12…","vm":"web-01","target":"10.0.0.5:5900","client":"192.0.2.1",
             "startedAt":"2026-05-01T10:00:00Z","bytesToTarget":10,"bytesToClient":5000,"role":"view"}]}
            """);

        var (code, stdout, _) = await RunAsync("sessions");

        Assert.Equal(0, code);
        var row = stdout.Split('\n')[1];
        foreach (var expected in (string[])["k1", "b", "ab12…", "web-01", "10.0.0.5:5900", "192.0.2.1", "view", "10 B", "4.9 KiB"])
        {
            Assert.Contains(expected, row, StringComparison.Ordinal);
        }

        Assert.Contains("1 live session(s)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_OnANodeWithoutTheSync_SaysItIsOff()
    {
        var (code, _, stderr) = await RunAsync("sync", "--now");

        Assert.Equal(1, code);
        Assert.Contains("Abiquo token sync is off", stderr, StringComparison.Ordinal);
        Assert.Equal("POST", Assert.Single(_requests).Method);
    }

    [Fact]
    public async Task Version_PrintsTheVersionLine()
    {
        var (code, stdout, _) = await RunAsync("--version");

        Assert.Equal(0, code);
        Assert.Equal(VersionCommand.Line, stdout.Trim());
    }

    [Fact]
    public void Handles_OnlyTheSubCommands_NeverTheNodesCommandLine()
    {
        Assert.True(AdminCommandLine.Handles(["status"]));
        Assert.True(AdminCommandLine.Handles(["-V"]));
        Assert.False(AdminCommandLine.Handles(["6080", "--target-config=/x"]));
        Assert.False(AdminCommandLine.Handles(["--help"]));
        Assert.False(AdminCommandLine.Handles(["-D", "status"]));
    }
}
