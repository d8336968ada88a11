using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// The one authentication of the admin listener: "Authorization: Bearer" compared in constant time with the admin token
/// (role <see cref="AdminPolicies.Admin"/>) or the ticket API key (role <see cref="AdminPolicies.TicketIssuer"/>). Both
/// secrets are read on every request, so a rotated file takes effect at once. Its answers say what to fix: 403 when the
/// endpoint's credential is not configured at all (no default credentials), else 401 with WWW-Authenticate: Bearer;
/// a valid credential of the wrong kind is answered as a wrong one.
/// </summary>
public sealed class AdminBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AdminOptions> admin,
    IOptionsMonitor<TicketOptions> tickets) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var given = header["Bearer ".Length..].Trim();
        var role = Matches(given, admin.CurrentValue.Resolve()) ? AdminPolicies.Admin
            : Matches(given, ApiKey()) ? AdminPolicies.TicketIssuer
            : null;
        if (role is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("wrong bearer credential"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => RefuseAsync();

    /// <inheritdoc/>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => RefuseAsync();

    private Task RefuseAsync()
    {
        var issuing = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(data => data.Policy == AdminPolicies.TicketIssuer) == true;
        var adminToken = admin.CurrentValue.Resolve();
        if (issuing ? adminToken is null && ApiKey() is null : adminToken is null)
        {
            return Results.Problem(issuing
                    ? "Ticket issuing is disabled: set Tickets:ApiKeyFile or Admin:TokenFile."
                    : "The admin API is disabled: set Admin:TokenFile (or the admin-token credential).",
                statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(Context);
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(issuing
                ? "Missing or wrong credential: send Authorization: Bearer with the admin token or the ticket API key."
                : "Missing or wrong admin token (Authorization: Bearer TOKEN).",
            statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
    }

    private string? ApiKey() => tickets.CurrentValue.ApiKeyFile is { Length: > 0 } file && File.Exists(file) ? File.ReadAllText(file).Trim() : null;

    private static bool Matches(string given, string? expected) =>
        !string.IsNullOrEmpty(expected) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}
