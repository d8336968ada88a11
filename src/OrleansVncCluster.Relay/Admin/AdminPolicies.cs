namespace OrleansVncCluster.Relay.Admin;

/// <summary>The admin listener's authorization policies, both met by <see cref="AdminBearerHandler"/>'s credentials.</summary>
public static class AdminPolicies
{
    /// <summary>The authentication scheme: "Authorization: Bearer" with the admin token or the ticket API key.</summary>
    public const string Scheme = "AdminBearer";

    /// <summary>Drain, sessions, sync: the admin token only.</summary>
    public const string Admin = "admin";

    /// <summary>Issuing console tickets: the admin token or the ticket API key (Tickets:ApiKeyFile).</summary>
    public const string TicketIssuer = "ticket-issuer";
}
