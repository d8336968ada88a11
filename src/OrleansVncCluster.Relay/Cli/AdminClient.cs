using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// The one HTTP client of the admin commands (<c>drain</c>, <c>status</c>, <c>sessions</c>, <c>kill</c>, <c>revoke</c>,
/// <c>undrain</c>, <c>sync</c>, <c>history</c>): it finds the node's admin listener and its admin token where the node
/// itself finds them, because the token must never sit on a command line (ps shows it to every user):
/// <c>--token-file</c>, else <c>Admin__TokenFile</c>, else systemd's or the Secret's credentials directory
/// (<c>$CREDENTIALS_DIRECTORY/admin-token</c>), else the environment variable <c>Admin__Token</c>.
/// </summary>
public sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;

    private AdminClient(Uri baseUri, string token, TimeSpan timeout)
    {
        BaseUri = baseUri;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The admin listener, e.g. <c>http://127.0.0.1:8082/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>
    /// Finds the admin listener (<paramref name="admin"/>, else <c>Relay__AdminListen</c>, else 127.0.0.1:8082; a
    /// wildcard address means this host's loopback) and the admin token. Null with <paramref name="problem"/> saying
    /// what to fix when either cannot be found.
    /// </summary>
    public static AdminClient? Create(string? admin, string? tokenFile, Func<string, string?> environment, out string problem, TimeSpan? timeout = null)
    {
        if (!TryResolve(admin, tokenFile, environment, out var uri, out var token, out problem))
        {
            return null;
        }

        return new AdminClient(uri, token, timeout ?? DefaultTimeout);
    }

    /// <summary>The admin URL and token the options and environment lead to; false with <paramref name="problem"/> when they lead nowhere.</summary>
    public static bool TryResolve(string? admin, string? tokenFile, Func<string, string?> environment, out Uri adminUri, out string token, out string problem)
    {
        adminUri = null!;
        token = "";
        admin ??= environment("Relay__AdminListen") is { Length: > 0 } configured ? configured : "127.0.0.1:8082";
        if (!ListenAddress.TryParse(admin, out var endpoint, out var error))
        {
            problem = $"--admin '{admin}': {error}";
            return false;
        }

        // The node listens on a wildcard in containers; the command runs in the same network namespace.
        adminUri = new UriBuilder("http", ListenAddress.Dialable(endpoint.Address).ToString(), endpoint.Port).Uri;

        tokenFile ??= environment("Admin__TokenFile");
        if (string.IsNullOrEmpty(tokenFile) && environment("CREDENTIALS_DIRECTORY") is { Length: > 0 } credentials)
        {
            var candidate = Path.Combine(credentials, "admin-token");
            tokenFile = File.Exists(candidate) ? candidate : null;
        }

        if (!string.IsNullOrEmpty(tokenFile))
        {
            if (!File.Exists(tokenFile))
            {
                problem = $"admin token file {tokenFile} does not exist (give --token-file FILE or set Admin__TokenFile)";
                return false;
            }

            try
            {
                token = File.ReadAllText(tokenFile).Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read the admin token file {tokenFile}: {exception.Message} (run as the node's user or with sudo)";
                return false;
            }
        }
        else
        {
            token = environment("Admin__Token")?.Trim() ?? "";
        }

        if (token.Length == 0)
        {
            problem = "no admin token: give --token-file FILE, or set Admin__TokenFile, the admin-token credential or Admin__Token";
            return false;
        }

        problem = "";
        return true;
    }

    /// <summary>Sends one request; <see cref="AdminUnreachableException"/> when the listener does not answer.</summary>
    public async Task<AdminAnswer> SendAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return new AdminAnswer(response.StatusCode, body);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new AdminUnreachableException(
                $"no answer from the node's admin listener at {new Uri(BaseUri, pathAndQuery)}: {exception.Message} (is the node running? give --admin HOST:PORT or set Relay__AdminListen)",
                exception);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}

/// <summary>The node's answer to an admin request.</summary>
public sealed record AdminAnswer(HttpStatusCode Status, string Body)
{
    /// <summary>2xx.</summary>
    public bool Succeeded => (int)Status is >= 200 and < 300;

    /// <summary>The body as JSON, or null when it is not JSON.</summary>
    public JsonElement? Json()
    {
        try
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What the node said went wrong: the "error" or "detail" of its JSON body, else the body itself.</summary>
    public string Problem()
    {
        if (Json() is { ValueKind: JsonValueKind.Object } json)
        {
            foreach (var name in (string[])["error", "detail", "title"])
            {
                if (json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return $"{(int)Status}: {value.GetString()}";
                }
            }
        }

        return Body.Length == 0 ? $"{(int)Status} {Status}" : $"{(int)Status}: {Body.Trim()}";
    }
}

/// <summary>The admin listener did not answer (exit code 1, with the URL in the message).</summary>
public sealed class AdminUnreachableException(string message, Exception inner) : Exception(message, inner);
