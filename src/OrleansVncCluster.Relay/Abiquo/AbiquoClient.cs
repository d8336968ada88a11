using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Reads Abiquo's VM inventory the way the legacy cron job did, without its flaws: <c>GET /admin/enterprises?limit=0</c>,
/// then each enterprise's <c>rel=virtualmachines</c> link with <c>?limit=0</c>, following every <c>next</c> link (a server
/// may cap pages whatever the limit) and every href as given (a proxy may name another host). Basic auth on every request,
/// <c>Accept: application/vnd.abiquo.&lt;type&gt;+json[; version=V]</c>. Any failure is an <see cref="AbiquoException"/>
/// that says what happened; the caller keeps what it had.
/// </summary>
public sealed partial class AbiquoClient
{
    /// <summary>Enterprise VM lists fetched at once: a large cloud has hundreds of tenants, the API is not fast.</summary>
    private const int ParallelRequests = 4;

    /// <summary>Threads a walk's parsing and token building may take at once (see <see cref="InventoryWalk"/>).</summary>
    private static readonly int LoadThreads = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>No inventory has this many pages; more means a server whose next links go round in circles.</summary>
    private const int MaxPages = 100_000;

    /// <summary>Pages in a row with nothing new that are tolerated (an empty last page is normal).</summary>
    private const int MaxBarrenPages = 3;

    /// <summary>Most of an error body that is read (for Abiquo's error collection or an HTML title).</summary>
    private const int MaxErrorBody = 64 * 1024;

    private readonly HttpClient _http;
    private readonly AbiquoOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a client. The <paramref name="http"/> client's own timeout is not used; <see cref="AbiquoOptions.Timeout"/> is.</summary>
    public AbiquoClient(HttpClient http, IOptions<AbiquoOptions> options, ILogger<AbiquoClient> logger)
    {
        _http = http;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The API root with a trailing slash, so relative paths resolve under it.</summary>
    private Uri Root => new(_options.ApiUrl!.TrimEnd('/') + "/");

    /// <summary>The server's version string (<c>GET /version</c>, e.g. <c>3.10.1</c>).</summary>
    public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(Root, "version");
        return await SendAsync(uri, "text/plain", async (response, token) => (await response.Content.ReadAsStringAsync(token)).Trim(), new InventoryWalk(), cancellationToken);
    }

    /// <summary>Checks the credentials (<c>GET /login</c>) and returns the account's nick.</summary>
    public async Task<string?> LoginAsync(CancellationToken cancellationToken)
    {
        var user = await GetJsonAsync(new Uri(Root, "login"), "user", AbiquoJsonContext.Default.AbiquoUserDto, new InventoryWalk(), cancellationToken);
        return user.Nick;
    }

    /// <summary>Reads every VM of every enterprise.</summary>
    public async Task<AbiquoInventory> GetVirtualMachinesAsync(CancellationToken cancellationToken)
    {
        var vms = new List<AbiquoVirtualMachine>();
        var read = await ReadVirtualMachinesAsync(vms.AddRange, cancellationToken);
        return new AbiquoInventory(vms, read);
    }

    /// <summary>
    /// Reads every VM of every enterprise and hands each enterprise's VMs to <paramref name="take"/>, one call at a time,
    /// in the order the enterprises are listed, as soon as they and every enterprise before them have arrived. The sync
    /// keeps tokens, not VMs: each enterprise's records can then go at once, where holding 1,000,000 of them until the
    /// last page let the collector promote them all before they became garbage.
    /// </summary>
    public async Task<AbiquoReadSummary> ReadVirtualMachinesAsync(Action<IReadOnlyList<AbiquoVirtualMachine>> take, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var walk = new InventoryWalk();
        var enterprises = await GetAllPagesAsync(new Uri(Root, "admin/enterprises?limit=0"), "enterprises",
            AbiquoJsonContext.Default.AbiquoCollectionDtoAbiquoEnterpriseDto, e => e.Id, walk, cancellationToken);

        // An enterprise that arrives before its turn waits here; with ParallelRequests in flight, only a few ever do.
        var arrived = new IReadOnlyList<AbiquoVirtualMachine>?[enterprises.Count];
        var done = new bool[enterprises.Count];
        var gate = new Lock();
        var (handed, vms, vanished) = (0, 0, 0);
        var options = new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken };
        await Parallel.ForAsync(0, enterprises.Count, options, async (index, token) =>
        {
            var list = await GetEnterpriseVmsAsync(enterprises[index], walk, token);
            await walk.Cpu.WaitAsync(token);
            try
            {
                lock (gate)
                {
                    (arrived[index], done[index]) = (list, true);
                    HandOverReady();
                }
            }
            finally
            {
                walk.Cpu.Release();
            }
        });

        var summary = new AbiquoReadSummary(vms, enterprises.Count, vanished, walk.Requests, Stopwatch.GetElapsedTime(started));
        LogInventory(_logger, summary.VirtualMachines, summary.Enterprises, summary.Requests, summary.Elapsed.TotalMilliseconds);
        return summary;

        // Under the gate: hands over every enterprise that has arrived with all those listed before it.
        void HandOverReady()
        {
            for (; handed < done.Length && done[handed]; handed++)
            {
                if (arrived[handed] is { } ready)
                {
                    take(ready);
                    vms += ready.Count;
                    arrived[handed] = null;
                }
                else
                {
                    vanished++;
                }
            }
        }
    }

    /// <summary>One enterprise's VMs, or null when the enterprise was deleted after it was listed (404 EN-0).</summary>
    private async Task<IReadOnlyList<AbiquoVirtualMachine>?> GetEnterpriseVmsAsync(AbiquoEnterpriseDto enterprise, InventoryWalk walk, CancellationToken cancellationToken)
    {
        var link = enterprise.Links?.FirstOrDefault(l => string.Equals(l.Rel, "virtualmachines", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(l.Href));
        Uri first;
        if (link is not null)
        {
            first = AppendQuery(Follow(Root, link.Href!), "limit=0");
        }
        else if (enterprise.Id is { } id)
        {
            // Without the link the documented path is the only guess left; 2.x-3.x all serve it.
            LogNoVmLink(_logger, id);
            first = new Uri(Root, $"admin/enterprises/{id}/action/virtualmachines?limit=0");
        }
        else
        {
            throw new AbiquoException(AbiquoFailure.InvalidResponse, $"an enterprise named '{enterprise.Name}' has neither an id nor a virtualmachines link", Root);
        }

        try
        {
            // Each page becomes records as it streams in (AbiquoVmPageReader), with no object per VM besides its record.
            var name = enterprise.Name;
            return await GetAllPagesAsync(first, "virtualmachines", (stream, token) => AbiquoVmPageReader.ReadAsync(stream, name, token), vm => vm.Id,
                walk, cancellationToken);
        }
        catch (AbiquoException exception) when (exception.StatusCode == HttpStatusCode.NotFound && exception.ErrorCode == "EN-0")
        {
            // Deleted between the two requests: its VMs are gone with it. Only Abiquo's own EN-0 counts; a bare 404
            // (a proxy, a wrong path) stays an error, or a misrouted API would empty the table.
            LogEnterpriseVanished(_logger, enterprise.Id, enterprise.Name);
            return null;
        }
    }

    /// <summary>
    /// Reads a collection, following <c>next</c> links until there is none; never trusts <c>totalSize</c>. A chain of
    /// pages that brings nothing new (empty, or only ids already read) under ever new URLs (a relative next link such as
    /// "page/" grows the path at each hop) is refused: it would otherwise run to <see cref="MaxPages"/> requests and hold
    /// every repeated page in memory (found by the fuzzing in tests/OrleansVncCluster.Tests/Fuzzing).
    /// </summary>
    private Task<List<T>> GetAllPagesAsync<T>(Uri first, string entity, JsonTypeInfo<AbiquoCollectionDto<T>> typeInfo, Func<T, int?> id,
        InventoryWalk walk, CancellationToken cancellationToken) =>
        GetAllPagesAsync(first, entity, Deserializer(typeInfo), id, walk, cancellationToken);

    /// <summary>As above, each page parsed by <paramref name="parse"/> (null for a JSON null).</summary>
    private async Task<List<T>> GetAllPagesAsync<T>(Uri first, string entity, Func<Stream, CancellationToken, Task<AbiquoCollectionDto<T>?>> parse,
        Func<T, int?> id, InventoryWalk walk, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        var ids = new HashSet<int>();
        var barrenPages = 0;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        Uri? next = first;
        while (next is not null)
        {
            if (!visited.Add(next.AbsoluteUri) || visited.Count > MaxPages)
            {
                throw new AbiquoException(AbiquoFailure.InvalidResponse, $"paging of {first} does not end: the next link {next} was already followed", next);
            }

            var page = await GetJsonAsync(next, entity, parse, walk, cancellationToken);
            var fresh = false;
            foreach (var item in page.Collection ?? [])
            {
                fresh |= id(item) is not { } itemId || ids.Add(itemId);
                items.Add(item);
            }

            barrenPages = fresh ? 0 : barrenPages + 1;
            if (barrenPages > MaxBarrenPages)
            {
                throw new AbiquoException(AbiquoFailure.InvalidResponse,
                    $"paging of {first} does not end: {barrenPages} pages in a row brought no new {entity} (last next link {next})", next);
            }

            var href = page.Links?.FirstOrDefault(l => string.Equals(l.Rel, "next", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(l.Href))?.Href;
            next = href is null ? null : Follow(next, href);
        }

        return items;
    }

    private Task<T> GetJsonAsync<T>(Uri uri, string entity, JsonTypeInfo<T> typeInfo, InventoryWalk walk, CancellationToken cancellationToken) =>
        GetJsonAsync(uri, entity, Deserializer(typeInfo), walk, cancellationToken);

    /// <summary>A page parser that is the serializer, for the documents without a reader of their own.</summary>
    private static Func<Stream, CancellationToken, Task<T?>> Deserializer<T>(JsonTypeInfo<T> typeInfo) =>
        (stream, token) => JsonSerializer.DeserializeAsync(stream, typeInfo, token).AsTask();

    private Task<T> GetJsonAsync<T>(Uri uri, string entity, Func<Stream, CancellationToken, Task<T?>> parse, InventoryWalk walk, CancellationToken cancellationToken) =>
        SendAsync(uri, MediaType(entity), async (response, token) =>
        {
            var contentType = response.Content.Headers.ContentType?.MediaType;
            if (contentType is not null && !IsJson(contentType))
            {
                var body = await ReadBoundedAsync(response, token);
                throw new AbiquoException(AbiquoFailure.InvalidResponse,
                    $"Abiquo answered {uri} with {contentType} instead of JSON{Describe(body)}: is Abiquo:ApiUrl the API root, and is nothing (a login page, maintenance) in front of it?", uri);
            }

            try
            {
                // The body is parsed as it streams in; the stream holds one of the walk's CPU slots only while it is parsed.
                await using var stream = new CpuSlotStream(await response.Content.ReadAsStreamAsync(token), walk.Cpu);
                return await parse(stream, token)
                    ?? throw new AbiquoException(AbiquoFailure.InvalidResponse, $"Abiquo answered {uri} with JSON null", uri);
            }
            catch (JsonException exception)
            {
                throw new AbiquoException(AbiquoFailure.InvalidResponse,
                    $"Abiquo answered {uri} with malformed or truncated JSON ({exception.Message})", uri, innerException: exception);
            }
        }, walk, cancellationToken);

    /// <summary>Sends one authenticated GET and hands a successful response to <paramref name="read"/>, all within the timeout.</summary>
    private async Task<T> SendAsync<T>(Uri uri, string accept, Func<HttpResponseMessage, CancellationToken, Task<T>> read, InventoryWalk walk, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.User}:{ReadPassword(uri)}")));
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        walk.Increment();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw await StatusErrorAsync(uri, accept, response, timeout.Token);
            }

            return await read(response, timeout.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AbiquoException(AbiquoFailure.Timeout,
                $"Abiquo did not answer {uri} completely within {_options.Timeout.TotalSeconds:0.#} s (Abiquo:Timeout)", uri, innerException: exception);
        }
        catch (HttpRequestException exception)
        {
            throw new AbiquoException(AbiquoFailure.Network, $"cannot reach Abiquo at {uri}: {Flatten(exception)}", uri, innerException: exception);
        }
        catch (IOException exception)
        {
            throw new AbiquoException(AbiquoFailure.Network, $"the connection to Abiquo broke while reading {uri}: {exception.Message}", uri, innerException: exception);
        }
    }

    private string ReadPassword(Uri uri)
    {
        try
        {
            return _options.ResolvePassword();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new AbiquoException(AbiquoFailure.Configuration,
                $"cannot read Abiquo:PasswordFile '{_options.PasswordFile}' ({exception.Message}); no request was sent", uri, innerException: exception);
        }
    }

    private async Task<AbiquoException> StatusErrorAsync(Uri uri, string accept, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ReadBoundedAsync(response, cancellationToken);
        var (code, message) = ParseErrors(body);
        var status = (int)response.StatusCode;
        var said = code is null ? Describe(body) : $" ({code}: {message})";
        var text = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized =>
                $"Abiquo refused the credentials of user '{_options.User}' with 401{said}: check Abiquo:User and Abiquo:PasswordFile (or Abiquo:Password)",
            HttpStatusCode.Forbidden =>
                $"Abiquo user '{_options.User}' may not read {uri} (403{said}): the token sync needs a cloud administrator account",
            HttpStatusCode.NotAcceptable =>
                $"Abiquo does not serve '{accept}' at {uri} (406{said}): check Abiquo:ApiVersion, or leave it empty for the server's newest",
            _ => $"Abiquo answered {status} {response.ReasonPhrase} for {uri}{said}",
        };
        return new AbiquoException(AbiquoFailure.HttpStatus, text, uri, response.StatusCode, code, message);
    }

    /// <summary>Abiquo's <c>{"collection": [{"code", "message"}]}</c>, when the body is one; anything else yields nulls.</summary>
    internal static (string? Code, string? Message) ParseErrors(string body)
    {
        if (!body.TrimStart().StartsWith('{'))
        {
            return (null, null);
        }

        try
        {
            var errors = JsonSerializer.Deserialize(body, AbiquoJsonContext.Default.AbiquoCollectionDtoAbiquoErrorDto);
            var first = errors?.Collection?.FirstOrDefault(e => e.Code is not null || e.Message is not null);
            return (first?.Code, first?.Message);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBody];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>A short hint of what a non-JSON body was: the HTML title, or its start.</summary>
    private static string Describe(string body)
    {
        var text = body.Trim();
        if (text.Length == 0)
        {
            return " (empty body)";
        }

        var title = text.IndexOf("<title>", StringComparison.OrdinalIgnoreCase);
        var end = title < 0 ? -1 : text.IndexOf("</title>", title, StringComparison.OrdinalIgnoreCase);
        var snippet = end > title && title >= 0 ? text[(title + 7)..end] : text[..Math.Min(text.Length, 120)];
        return $" (\"{snippet.ReplaceLineEndings(" ")}\")";
    }

    private static string Flatten(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            messages.Add(current.Message);
        }

        return string.Join(": ", messages.Distinct(StringComparer.Ordinal));
    }

    private static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase);

    private string MediaType(string entity) =>
        string.IsNullOrEmpty(_options.ApiVersion)
            ? $"application/vnd.abiquo.{entity}+json"
            : $"application/vnd.abiquo.{entity}+json; version={_options.ApiVersion}";

    /// <summary>Adds a query parameter to an href given by the server, keeping the href otherwise as it is.</summary>
    internal static Uri AppendQuery(Uri uri, string parameter)
    {
        var text = uri.OriginalString;
        var fragment = text.IndexOf('#', StringComparison.Ordinal);
        var (head, tail) = fragment < 0 ? (text, "") : (text[..fragment], text[fragment..]);
        var separator = head.Contains('?', StringComparison.Ordinal) ? (head.EndsWith('?') || head.EndsWith('&') ? "" : "&") : "?";
        return Uri.TryCreate(head + separator + parameter + tail, UriKind.Absolute, out var result)
            ? result
            : throw new AbiquoException(AbiquoFailure.InvalidResponse, $"Abiquo gave a link that does not take a query: '{text}'", uri);
    }

    /// <summary>
    /// An href from a response, resolved against the page it came from. Only http(s): anything else (a malformed href,
    /// file:, ftp:) would otherwise escape as an exception the sync does not expect (found by the fuzzing tests).
    /// </summary>
    internal static Uri Resolve(Uri page, string href) =>
        Uri.TryCreate(page, href, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new AbiquoException(AbiquoFailure.InvalidResponse, $"Abiquo gave a link that is not an http(s) URL: '{href}'", page);

    /// <summary>
    /// A link from a response that the credentials may follow: the same scheme, host and port as Abiquo:ApiUrl, so a
    /// link naming plain http behind a TLS-terminating proxy, or another host, never receives the Basic credentials.
    /// With Abiquo:RewriteLinks such a link is followed on Abiquo:ApiUrl's scheme, host and port instead.
    /// </summary>
    private Uri Follow(Uri page, string href)
    {
        var uri = Resolve(page, href);
        if (SameOrigin(uri, Root))
        {
            return uri;
        }

        if (_options.RewriteLinks)
        {
            return new UriBuilder(uri) { Scheme = Root.Scheme, Host = Root.Host, Port = Root.Port }.Uri;
        }

        throw new AbiquoException(AbiquoFailure.InvalidResponse,
            $"Abiquo gave a link to {uri.GetLeftPart(UriPartial.Authority)}, not to Abiquo:ApiUrl's {Root.GetLeftPart(UriPartial.Authority)}, " +
            "and the credentials go only to Abiquo:ApiUrl: make Abiquo's public API location (abiquo.server.api.location) the address " +
            "the relay uses, or set Abiquo:RewriteLinks=true to follow such links on Abiquo:ApiUrl's scheme, host and port", page);
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    /// <summary>
    /// One walk of the inventory: its requests, counted across parallel enterprise fetches, and the threads its CPU work
    /// may take. Pages are fetched <see cref="ParallelRequests"/> at once, which hides the API's latency, but parsed and
    /// turned into tokens on at most half the cores. Four parsers at once on 2 cores left the node's sessions queued
    /// behind them: set-up p50 of 400-1,400 ms, 10-25 sessions a second, for the whole load phase of a 1,000,000-VM sync.
    /// </summary>
    private sealed class InventoryWalk
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public SemaphoreSlim Cpu { get; } = new(LoadThreads, LoadThreads);

        public void Increment() => Interlocked.Increment(ref _requests);
    }

    [LoggerMessage(EventId = EventIds.AbiquoInventoryLoaded, Level = LogLevel.Debug,
        Message = "Read {Vms} VMs of {Enterprises} enterprises from Abiquo in {Requests} requests, {ElapsedMs:0} ms")]
    private static partial void LogInventory(ILogger logger, int vms, int enterprises, int requests, double elapsedMs);

    [LoggerMessage(EventId = EventIds.AbiquoEnterpriseVanished, Level = LogLevel.Information,
        Message = "Enterprise {EnterpriseId} '{Enterprise}' was deleted while the sync read it (404 EN-0); its VMs count as gone")]
    private static partial void LogEnterpriseVanished(ILogger logger, int? enterpriseId, string? enterprise);

    [LoggerMessage(EventId = EventIds.AbiquoEnterpriseWithoutVmLink, Level = LogLevel.Warning,
        Message = "Enterprise {EnterpriseId} has no virtualmachines link; reading the documented path instead")]
    private static partial void LogNoVmLink(ILogger logger, int enterpriseId);
}
