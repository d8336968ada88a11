using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>The console token must be there, well formed and known (the per-node resolver in front of the token grains).</summary>
public sealed class TokenLookupCheck(TokenResolver tokens) : IAdmissionCheck
{
    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var token = context.Token;
        if (string.IsNullOrEmpty(token))
        {
            return new Refusal(CloseReasons.BadToken, CloseReasons.MissingTokenText, "missing_token");
        }

        if (!TokenText.IsWellFormed(token))
        {
            return new Refusal(CloseReasons.BadToken, CloseReasons.MalformedTokenText, "malformed_token");
        }

        var lookup = await tokens.ResolveAsync(token, cancellationToken);
        context.Entry = lookup.Entry;
        context.TokenGrainUnanswered = lookup.GrainUnanswered;
        context.StoredToken = lookup.Stored;
        return lookup.Status switch
        {
            LookupStatus.Found => null,
            LookupStatus.Unknown => new Refusal(CloseReasons.UnknownToken, CloseReasons.UnknownTokenText, "unknown_token"),
            _ => new Refusal(CloseReasons.TryAgainLater, CloseReasons.TokenStoreUnavailableText, "token_store_unavailable"),
        };
    }
}
