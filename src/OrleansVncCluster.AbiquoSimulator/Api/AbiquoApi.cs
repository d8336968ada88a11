using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using OrleansVncCluster.AbiquoSimulator.Faults;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.AbiquoSimulator.Api;

/// <summary>What an API endpoint produces and who may call it; read by the request filter.</summary>
/// <param name="Entity">The media type entity (<c>enterprises</c>, <c>virtualmachines</c>, ...); null for text/plain.</param>
/// <param name="AdminOnly">True for <c>/admin</c> resources, which need a cloud administrator.</param>
public sealed record AbiquoResource(string? Entity, bool AdminOnly);

/// <summary>The caller and the negotiated version, as the filter established them for the handler.</summary>
public sealed record AbiquoCall(string User, bool IsAdmin, string Version, string BaseUrl);

/// <summary>
/// The Abiquo API subset the token sync uses, under <c>/api</c>: <c>/login</c>, <c>/version</c>,
/// <c>/admin/enterprises</c> (paged), <c>/admin/enterprises/{id}</c>, <c>/admin/enterprises/{id}/action/virtualmachines</c>
/// and <c>/cloud/virtualmachines</c> (paged). Every request goes through one filter that applies injected faults,
/// Basic authentication (401 with a challenge and HTML without credentials, 401 GEN-5 for wrong ones, 403 GEN-4 for a
/// non-administrator on /admin) and media type negotiation (406), in that order.
/// </summary>
public static class AbiquoApi
{
    /// <summary>Default page size of paged lists, as in Abiquo.</summary>
    public const int DefaultLimit = 25;

    private const string CallKey = "abiquo.call";

    /// <summary>Maps the API under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapAbiquoApi(this IEndpointRouteBuilder endpoints, Simulator simulator)
    {
        var api = endpoints.MapGroup("/api");
        api.AddEndpointFilter((context, next) => FilterAsync(simulator, context, next));

        api.MapGet("/login", (HttpContext http) => Login(Call(http)))
            .WithMetadata(new AbiquoResource("user", AdminOnly: false));
        api.MapGet("/version", () => Results.Text(simulator.Settings.ServerVersion, "text/plain", Encoding.UTF8))
            .WithMetadata(new AbiquoResource(null, AdminOnly: false));
        api.MapGet("/admin/enterprises", (HttpContext http) => Enterprises(simulator, http))
            .WithMetadata(new AbiquoResource("enterprises", AdminOnly: true));
        api.MapGet("/admin/enterprises/{id:int}", (HttpContext http, int id) => Enterprise(simulator, Call(http), id))
            .WithMetadata(new AbiquoResource("enterprise", AdminOnly: true));
        api.MapGet("/admin/enterprises/{id:int}/action/virtualmachines", (HttpContext http, int id) => EnterpriseVms(simulator, http, id))
            .WithMetadata(new AbiquoResource("virtualmachines", AdminOnly: true));
        api.MapGet("/cloud/virtualmachines", (HttpContext http) => CloudVms(simulator, http))
            .WithMetadata(new AbiquoResource("virtualmachines", AdminOnly: false));
        api.MapFallback((HttpContext http) => WireResults.Error(StatusCodes.Status404NotFound, "404-NOT FOUND",
                $"The requested resource {http.Request.Path} does not exist", simulator.Settings.ApiVersion))
            .WithMetadata(new AbiquoResource("errors", AdminOnly: false));
        return api;
    }

    private static async ValueTask<object?> FilterAsync(Simulator simulator, EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var settings = simulator.Settings;
        simulator.CountRequest(http.Connection.LocalPort);

        var (delay, fault) = simulator.Faults.Hit(http.Request.Path + http.Request.QueryString);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, http.RequestAborted);
        }

        var resource = http.GetEndpoint()?.Metadata.GetMetadata<AbiquoResource>() ?? new AbiquoResource(null, false);
        switch (fault?.Kind)
        {
            case FaultKind.Error:
                var status = fault.Status ?? StatusCodes.Status500InternalServerError;
                return fault.Code is { } code ? WireResults.Error(status, code, $"Injected fault {code}", settings.ApiVersion)
                    : status == StatusCodes.Status500InternalServerError ? WireResults.Error(status, "GEN-13", "Unexpected exception", settings.ApiVersion)
                    : WireResults.Html(status, "Service unavailable");
            case FaultKind.Unauthorized:
                return WireResults.Error(StatusCodes.Status401Unauthorized, "GEN-5", "Invalid credentials", settings.ApiVersion);
            case FaultKind.Garbage:
                return Results.Content("<html><body><h1>Scheduled maintenance</h1></body></html>", "text/html; charset=utf-8", Encoding.UTF8);
        }

        var user = Authenticate(http.Request, settings);
        if (user is null)
        {
            return WireResults.Challenge();
        }

        if (user.Length == 0)
        {
            return WireResults.Error(StatusCodes.Status401Unauthorized, "GEN-5", "Invalid credentials", settings.ApiVersion);
        }

        var isAdmin = user == settings.User;
        if (resource.AdminOnly && !isAdmin)
        {
            return WireResults.Error(StatusCodes.Status403Forbidden, "GEN-4", "Not enough permissions to perform this action", settings.ApiVersion);
        }

        var accept = http.Request.Headers.Accept.ToString();
        string version;
        if (resource.Entity is null)
        {
            if (!MediaTypes.AcceptsText(accept))
            {
                return WireResults.Error(StatusCodes.Status406NotAcceptable, "406-NOT ACCEPTABLE", "This resource produces text/plain", settings.ApiVersion);
            }

            version = settings.ApiVersion;
        }
        else
        {
            var negotiation = MediaTypes.Negotiate(accept, resource.Entity, settings.ApiVersion);
            if (!negotiation.Acceptable)
            {
                return WireResults.Error(StatusCodes.Status406NotAcceptable, "406-NOT ACCEPTABLE", negotiation.Problem!, settings.ApiVersion);
            }

            version = negotiation.Version!;
        }

        var baseUrl = (simulator.PublicUrl ?? $"{http.Request.Scheme}://{http.Request.Host}") + "/api";
        http.Items[CallKey] = new AbiquoCall(user, isAdmin, version, baseUrl);

        if (fault?.Kind == FaultKind.Empty && resource.Entity is "enterprises" or "virtualmachines")
        {
            return resource.Entity == "enterprises"
                ? Collection(Array.Empty<EnterpriseJson>(), 0, [], Call(http))
                : Collection(Array.Empty<VirtualMachineJson>(), null, [], Call(http));
        }

        var result = await next(context);
        return fault?.Kind == FaultKind.Truncate && result is IResult inner ? new TruncatedResult(inner) : result;
    }

    /// <summary>The user name for good credentials, "" for bad ones, null when there are none.</summary>
    private static string? Authenticate(HttpRequest request, SimulatorSettings settings)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return "";
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return "";
        }

        var (user, password) = (decoded[..colon], decoded[(colon + 1)..]);
        var known = user == settings.User || user == settings.NonAdminUser;
        return known && FixedTimeEquals(password, settings.Password) ? user : "";
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static AbiquoCall Call(HttpContext http) => (AbiquoCall)http.Items[CallKey]!;

    private static IResult Login(AbiquoCall call) =>
        new WireJsonResult<UserJson>(
            new UserJson(
                [new LinkJson($"{call.BaseUrl}/admin/enterprises/1/users/1", "edit", MediaTypes.Plain("user"))],
                call.IsAdmin ? 1 : 2, call.User, call.IsAdmin ? "Cloud" : "Enterprise", call.IsAdmin ? "Administrator" : "User",
                $"{call.User}@abiquo.example", true, "en_US", "ABIQUO"),
            WireJsonContext.Relaxed.UserJson,
            MediaTypes.For("user", call.Version));

    private static IResult Enterprises(Simulator simulator, HttpContext http)
    {
        var call = Call(http);
        if (!TryReadPaging(http.Request, simulator, call, out var start, out var count, out var error))
        {
            return error;
        }

        var page = simulator.World.Enterprises(start, count);
        var items = page.Items.Select(e => EnterpriseJson(e, call.BaseUrl)).ToArray();
        var links = PagingLinks($"{call.BaseUrl}/admin/enterprises", start, count, page.Total, "enterprises");
        return Collection(items, page.Total, links, call);
    }

    private static IResult Enterprise(Simulator simulator, AbiquoCall call, int id) =>
        simulator.World.Enterprise(id) is { } enterprise
            ? new WireJsonResult<EnterpriseJson>(EnterpriseJson(enterprise, call.BaseUrl), WireJsonContext.Relaxed.EnterpriseJson, MediaTypes.For("enterprise", call.Version))
            : EnterpriseMissing(call);

    private static IResult EnterpriseVms(Simulator simulator, HttpContext http, int id)
    {
        var call = Call(http);
        // Abiquo 2.x/3.10 answer this list whole; with a page cap the simulator pages it like later versions may.
        var paged = simulator.MaxPageSize > 0;
        var start = 0;
        int? count = null;
        if (paged && !TryReadPaging(http.Request, simulator, call, out start, out count, out var error))
        {
            return error;
        }

        // The same list of an unchanged world again (the bench reads the inventory once before it measures a sync):
        // sent as it was written.
        var key = new VmPageCache.Key(id, paged, start, count, call.BaseUrl);
        if (simulator.Pages.Find(key, simulator.World.Mutations) is { } kept)
        {
            return new VmListResult.Kept(kept, call);
        }

        var page = simulator.World.Vms(id, start, count);
        if (page is null)
        {
            return EnterpriseMissing(call);
        }

        var links = paged ? PagingLinks($"{call.BaseUrl}/admin/enterprises/{id}/action/virtualmachines", start, count, page.Total, "virtualmachines") : [];
        return new VmListResult(page, null, links, call, document => simulator.Pages.Keep(key, page.Revision, document));
    }

    private static IResult CloudVms(Simulator simulator, HttpContext http)
    {
        var call = Call(http);
        if (!TryReadPaging(http.Request, simulator, call, out var start, out var count, out var error))
        {
            return error;
        }

        // Which VMs a cloud administrator sees here is not documented; the simulator shows all of them, and a
        // non-administrator only those of the first enterprise.
        var page = simulator.World.Vms(call.IsAdmin ? null : simulator.World.Enterprises(0, 1).Items.FirstOrDefault()?.Id ?? 0, start, count)
            ?? new Page<VmView>(0, []);
        var links = PagingLinks($"{call.BaseUrl}/cloud/virtualmachines", start, count, page.Total, "virtualmachines");
        return new VmListResult(page, page.Total, links, call);
    }

    private static IResult EnterpriseMissing(AbiquoCall call) =>
        WireResults.Error(StatusCodes.Status404NotFound, "EN-0", "The requested enterprise does not exist", call.Version);

    private static IResult Collection(IReadOnlyList<EnterpriseJson> items, int? total, IReadOnlyList<LinkJson> links, AbiquoCall call) =>
        new WireJsonResult<CollectionJson<EnterpriseJson>>(new CollectionJson<EnterpriseJson>(total, links, items),
            WireJsonContext.Relaxed.CollectionJsonEnterpriseJson, MediaTypes.For("enterprises", call.Version));

    private static IResult Collection(IReadOnlyList<VirtualMachineJson> items, int? total, IReadOnlyList<LinkJson> links, AbiquoCall call) =>
        new WireJsonResult<CollectionJson<VirtualMachineJson>>(new CollectionJson<VirtualMachineJson>(total, links, items),
            WireJsonContext.Relaxed.CollectionJsonVirtualMachineJson, MediaTypes.For("virtualmachines", call.Version));

    /// <summary>Reads <c>startwith</c> (default 0) and <c>limit</c> (default 25; 0 = all), applying the page cap.</summary>
    private static bool TryReadPaging(HttpRequest request, Simulator simulator, AbiquoCall call, out int start, out int? count, out IResult error)
    {
        start = 0;
        count = DefaultLimit;
        error = Results.Empty;
        if (!TryReadInt(request, "startwith", ref start) || !TryReadLimit(request, ref count))
        {
            error = WireResults.Error(StatusCodes.Status400BadRequest, "QUERY-0",
                "startwith and limit must be non-negative integers", call.Version);
            return false;
        }

        var cap = simulator.MaxPageSize;
        if (cap > 0)
        {
            count = Math.Min(count ?? cap, cap);
        }

        return true;
    }

    private static bool TryReadInt(HttpRequest request, string name, ref int value)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return true;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryReadLimit(HttpRequest request, ref int? count)
    {
        var limit = count ?? 0;
        if (!TryReadInt(request, "limit", ref limit))
        {
            return false;
        }

        count = limit == 0 ? null : limit;
        return true;
    }

    /// <summary><c>first</c>, <c>previous</c>, <c>next</c> and <c>last</c> with absolute hrefs (Abiquo spells <c>previous</c>, not <c>prev</c>).</summary>
    private static List<LinkJson> PagingLinks(string href, int start, int? count, int total, string entity)
    {
        var type = MediaTypes.Plain(entity);
        if (count is not { } size)
        {
            return [new LinkJson($"{href}?startwith=0&limit=0", "first", type), new LinkJson($"{href}?startwith=0&limit=0", "last", type)];
        }

        var links = new List<LinkJson>(4) { new($"{href}?startwith=0&limit={size}", "first", type) };
        if (start > 0)
        {
            links.Add(new LinkJson($"{href}?startwith={Math.Max(0, start - size)}&limit={size}", "previous", type));
        }

        if (start + size < total)
        {
            links.Add(new LinkJson($"{href}?startwith={start + size}&limit={size}", "next", type));
        }

        links.Add(new LinkJson($"{href}?startwith={Math.Max(0, (total - 1) / size * size)}&limit={size}", "last", type));
        return links;
    }

    private static EnterpriseJson EnterpriseJson(SimEnterprise enterprise, string baseUrl)
    {
        var self = $"{baseUrl}/admin/enterprises/{enterprise.Id}";
        return new EnterpriseJson(
            [
                new LinkJson(self, "edit", MediaTypes.Plain("enterprise"), enterprise.Name),
                new LinkJson($"{self}/limits", "limits", MediaTypes.Plain("limits")),
                new LinkJson($"{self}/users", "users", MediaTypes.Plain("users")),
                new LinkJson($"{self}/action/virtualmachines", "virtualmachines", MediaTypes.Plain("virtualmachines")),
            ],
            enterprise.Id, enterprise.Name, IsReservationRestricted: false, Workflow: false, CpuCountSoftLimit: 0, CpuCountHardLimit: 0);
    }

    /// <summary>Sends the first half of what <paramref name="inner"/> would send, with a clean end of response.</summary>
    private sealed class TruncatedResult(IResult inner) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var original = httpContext.Response.Body;
            using var buffer = new MemoryStream();
            httpContext.Response.Body = buffer;
            try
            {
                await inner.ExecuteAsync(httpContext);
            }
            finally
            {
                httpContext.Response.Body = original;
            }

            var length = (int)buffer.Length / 2;
            httpContext.Response.ContentLength = length;
            await original.WriteAsync(buffer.GetBuffer().AsMemory(0, length), httpContext.RequestAborted);
        }
    }
}
